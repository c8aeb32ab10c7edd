"""Shared fixtures: an app on a fresh SQLite database, a controllable clock, webtest, a live server."""

import os
import sys

import pytest
import webtest

import indieauth

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "plugins"))

PASSWORD = "correct horse battery staple"


Clock = indieauth.testing.Clock
free_port = indieauth.testing.free_port
serving = indieauth.testing.serving


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def make_app(tmp_path, clock):
    """Build an app: make_app({"security": {...}}, plugins=[...]); password plugin on by default.  The
    apps are closed after the test (their fetcher threads end, their database connections are given back)."""
    made = []

    def make(overrides=None, plugins=(), password=True):
        overrides = {k: dict(v) for k, v in (overrides or {}).items()}
        if password:
            overrides.setdefault("plugins", {}).setdefault("password", {})
        made.append(indieauth.make_test_app(overrides, plugins=plugins, folder=str(tmp_path), clock=clock))
        return made[-1]
    yield make
    for app in made:
        app.close()


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


@pytest.fixture
def live_server(app):
    """The app on a real waitress server on 127.0.0.1; yields its base URL."""
    with serving(app) as url:
        yield url
