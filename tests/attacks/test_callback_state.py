"""Single-use state for sign-ins that leave for another site and come back (issue 16): the core keeps it
on the server, bound to the browser that started, so a plugin's OAuth callback cannot be replayed, run
in another browser (login CSRF), or used after it expired, whichever worker answers.

The plugin here is written as a third party's would be: it saves state when the person leaves and
takes it in its callback route."""

import pytest
import webtest

import indieauth


class RoundTrip:
    """Leaves for a pretend provider with `state`, and takes it back in a callback."""

    @indieauth.hookimpl
    def register_routes(self, app):
        def leave():
            state = app.save_callback_state("roundtrip", {"next": "/after", "n": 7}, 600)
            return {"state": state}

        def callback():
            try:
                return {"data": app.take_callback_state("roundtrip", indieauth.bottle.request.query.get("state"))}
            except indieauth.StateRefused as refused:
                indieauth.bottle.response.status = 400
                return {"refused": refused.reason}

        return [("POST", "/plugins/roundtrip/leave", leave), ("GET", "/plugins/roundtrip/callback", callback)]


@pytest.fixture
def app(make_app):
    return make_app(plugins=[RoundTrip()])


def browser(app, address="192.0.2.10"):
    return webtest.TestApp(app, extra_environ={"REMOTE_ADDR": address})


def leave(web):
    return web.post("/plugins/roundtrip/leave").json["state"]


def test_the_state_comes_back_once_in_the_browser_that_left(app):
    web = browser(app)
    state = leave(web)
    assert web.get("/plugins/roundtrip/callback", {"state": state}).json == {"data": {"next": "/after", "n": 7}}
    replay = web.get("/plugins/roundtrip/callback", {"state": state}, status=400)
    assert replay.json == {"refused": "used"}


def test_the_binding_cookie_is_httponly_and_lax(app):
    web = browser(app)
    response = web.post("/plugins/roundtrip/leave")
    cookie = next(value for name, value in response.headerlist
                  if name == "Set-Cookie" and value.startswith(indieauth.BROWSER_COOKIE + "="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")


def test_a_callback_url_sent_to_another_browser_is_refused_and_stays_usable_by_its_own(app):
    # Login CSRF: the attacker starts a sign-in and makes the victim's browser follow the callback URL.
    attacker, victim = browser(app, "203.0.113.5"), browser(app)
    state = leave(attacker)
    assert victim.get("/plugins/roundtrip/callback", {"state": state}, status=400).json == {"refused": "other_browser"}
    assert attacker.get("/plugins/roundtrip/callback", {"state": state}).json["data"]["n"] == 7


def test_a_copied_binding_cookie_does_not_make_a_used_state_usable(app):
    web = browser(app)
    state = leave(web)
    web.get("/plugins/roundtrip/callback", {"state": state})
    thief = browser(app, "203.0.113.5")
    thief.set_cookie(indieauth.BROWSER_COOKIE, web.cookies[indieauth.BROWSER_COOKIE])
    assert thief.get("/plugins/roundtrip/callback", {"state": state}, status=400).json == {"refused": "used"}


def test_an_expired_state_is_refused(app, clock):
    web = browser(app)
    state = leave(web)
    clock.advance(seconds=601)
    assert web.get("/plugins/roundtrip/callback", {"state": state}, status=400).json == {"refused": "expired"}


@pytest.mark.parametrize("state, reason", [("", "missing"), ("x" * 43, "unknown"), ("é" * 500, "unknown")])
def test_missing_unknown_and_oversized_states_are_refused(app, state, reason):
    web = browser(app)
    leave(web)
    assert web.get("/plugins/roundtrip/callback", {"state": state}, status=400).json == {"refused": reason}


def test_a_state_is_only_good_for_its_own_purpose(app):
    web = browser(app)
    with app.storage.bound():
        raw = app.storage.save_callback_state("other-plugin", "b" * 43, {"x": 1}, 600)
        assert app.storage.take_callback_state("roundtrip", raw, "b" * 43) == (None, "unknown")
        assert app.storage.take_callback_state("other-plugin", raw, "b" * 43) == ({"x": 1}, None)
    assert web  # the app is built and served by the same storage


def test_guessing_states_is_throttled_like_any_random_secret(app):
    web = browser(app, "198.51.100.7")
    leave(web)
    statuses = [web.get("/plugins/roundtrip/callback", {"state": f"guess{n:040d}"}, expect_errors=True).status_int
                for n in range(25)]
    assert statuses[0] == 400 and statuses[-1] == 429  # [security] address_failures is 20 by default
