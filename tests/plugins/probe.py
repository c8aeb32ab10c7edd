"""Test-only plugin for the tests of serving (tests/test_workers.py): which process answered a request,
and a request that takes its time, so that a stopping server has one in flight."""

import os
import time

import bottle

from indieauth import hookimpl


def pid():
    return str(os.getpid())


def slow():
    """Touches the file named by `mark` (so the test knows the request is in flight), then sleeps."""
    with open(bottle.request.query["mark"], "w"):
        pass
    time.sleep(float(bottle.request.query.get("seconds", "1")))
    return "done"


@hookimpl
def register_routes(app):
    return [("GET", "/plugins/probe/pid", pid), ("GET", "/plugins/probe/slow", slow)]
