"""Test-only plugin whose track_event raises: the core must log it and carry on."""

from indieauth import hookimpl


@hookimpl
def track_event(app, event):
    raise RuntimeError("webhook receiver is down")
