"""Shared fixtures: an app on a fresh SQLite database, a controllable clock, webtest, a live server."""

import contextlib
import datetime
import os
import socket
import sys
import threading

import pytest
import webtest

import indieauth

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "plugins"))

PASSWORD = "correct horse battery staple"


class Clock:
    """A clock tests move by hand: `clock.advance(minutes=16)`."""

    def __init__(self):
        self.now = datetime.datetime(2026, 1, 1, 12, 0, 0)

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += datetime.timedelta(**delta)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def make_app(tmp_path, clock):
    """Build an app: make_app({"security": {...}}, plugins=[...]); password plugin on by default."""
    def make(overrides=None, plugins=(), password=True):
        overrides = {k: dict(v) for k, v in (overrides or {}).items()}
        if password:
            overrides.setdefault("plugins", {}).setdefault("password", {})
        return indieauth.make_test_app(overrides, plugins=plugins, folder=str(tmp_path), clock=clock)
    return make


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def owner(app):
    """The owner user, with the password PASSWORD."""
    from indieauth_password import set_password
    user = app.storage.create_user("owner", "https://owner.example/", role="owner")
    set_password(app, user, PASSWORD)
    return user


@pytest.fixture
def web(app):
    return webtest.TestApp(app, extra_environ={"REMOTE_ADDR": "192.0.2.10"})


def sign_in(web, username="owner", password=PASSWORD, next_url=None, status=303):
    """Fill in the password form as a person would; returns the response."""
    page = web.get("/login" + (f"?next={next_url}" if next_url else ""))
    form = page.forms["password-login"]
    form["username"] = username
    form["password"] = password
    return form.submit(status=status)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(app, port=None):
    """Run `app` on a real waitress server on 127.0.0.1 in a thread; yields its base URL."""
    from waitress.server import create_server
    server = create_server(app, host="127.0.0.1", port=port or free_port(), threads=4)
    stopping = threading.Event()

    def run():
        try:
            server.run()
        except OSError:  # its sockets closed under select() while stopping: expected then only
            if not stopping.is_set():
                raise

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        stopping.set()
        for channel in list(server._map.values()):  # keep-alive connections keep the loop running
            channel.close()
        thread.join(timeout=5)
        server.task_dispatcher.shutdown()


@pytest.fixture
def live_server(app):
    """The app on a real waitress server on 127.0.0.1; yields its base URL."""
    with serving(app) as url:
        yield url
