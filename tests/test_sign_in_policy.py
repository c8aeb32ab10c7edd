"""[auth] methods: any one authenticator, or factors one after the other (password then a PIN)."""

import pytest

import allow_anyone
import indieauth
import pin
from conftest import sign_in


@pytest.fixture
def app(make_app, tmp_path):
    return make_app({"auth": {"methods": ["password+pin", "allow_anyone"]}}, plugins=[pin, allow_anyone])


@pytest.fixture
def with_pin(app, owner):
    app.storage.set_credential(owner, "pin", {"pin": "4242"})
    return owner


def enter_pin(web, value, status=303, path="/login/pin"):
    form = web.get(path).forms["pin"]
    form["pin"] = value
    return form.submit(status=status)


def test_login_page_shows_only_first_steps(web):
    headings = [h.text for h in web.get("/login").html.select("section.method h2")]
    assert headings == ["Password", "Anyone (tests only)"]


def test_password_then_pin(web, with_pin):
    response = sign_in(web, next_url="/tokens")
    assert "/login/pin?next=%2Ftokens" in response.headers["Location"]
    assert "Signed in as" not in web.get("/").text  # not yet
    page = web.get("/login/pin")
    assert "PIN for owner" in page.text and "One more step" in page.text
    assert enter_pin(web, "4242", path=response.headers["Location"]).headers["Location"].endswith("/tokens")
    assert "Signed in as" in web.get("/").text


def test_the_session_records_both_factors(web, with_pin, app):
    sign_in(web)
    enter_pin(web, "4242")
    assert app.storage.events(1)[0].kind == "login" and '"method": "password+pin"' in app.storage.events(1)[0].data


def test_a_wrong_second_factor_is_refused_and_logged(web, with_pin, app):
    sign_in(web)
    response = enter_pin(web, "0000", status=400)
    assert "Wrong PIN." in response.text
    assert "Signed in as" not in web.get("/").text
    assert app.storage.events(1)[0].kind == "login_failed"


def test_the_second_step_cannot_be_reached_first(web, with_pin):
    web.get("/login/pin", status=400)
    csrf = web.get("/login").forms["password-login"]["csrf_token"].value
    web.post("/login/pin", {"pin": "4242", "csrf_token": csrf}, status=404)
    assert "Signed in as" not in web.get("/").text


def test_the_step_expires(web, with_pin, clock):
    sign_in(web)
    clock.advance(seconds=299)
    web.get("/login/pin")
    clock.advance(seconds=2)
    web.get("/login/pin", status=400)


def test_second_factor_failures_are_not_forgotten_by_a_first_factor_success(web, with_pin):
    """Knowing the password must not give unlimited PIN guesses: only a whole sign-in clears failures."""
    for _ in range(5):
        sign_in(web)
        enter_pin(web, "0000", status=400)
    assert "Too many" in sign_in(web, status=429).text  # the password is right, but the account is paused


def test_login_page_starts_a_half_done_sign_in_over(web, with_pin):
    sign_in(web)
    assert "Start signing in again" in web.get("/login/pin").text
    page = web.get("/login")
    assert page.forms["password-login"]  # the first factor again
    web.get("/login/pin", status=400)  # and the half-done sign-in is gone


def test_a_forged_partial_cookie_is_ignored(web, with_pin):
    import base64
    import json
    value = base64.urlsafe_b64encode(json.dumps([1, ["password"], 9e12]).encode()).decode()
    web.set_cookie(indieauth.PARTIAL_COOKIE, value + "." + "0" * 32)
    web.get("/login/pin", status=400)


def test_no_second_factor_set_up_is_refused_with_a_message(web, owner):
    response = sign_in(web, status=403)
    assert "none is set up" in response.text
    assert "Signed in as" not in web.get("/").text


def test_any_one_method_alone(web, owner):
    form = web.get("/login").forms[1]
    form["who"] = "owner"
    form.submit(status=303)
    assert "Signed in as" in web.get("/").text


def test_unknown_method_in_auth_methods_fails_start_up(make_app):
    with pytest.raises(indieauth.ConfigError, match=r"\[auth\] methods: 'password\+totp' names 'totp'"):
        make_app({"auth": {"methods": ["password+totp"]}})


def test_a_repeated_method_in_a_chain_fails_start_up(make_app):
    with pytest.raises(indieauth.ConfigError, match="repeats"):
        make_app({"auth": {"methods": ["password+password"]}})


def test_the_default_is_each_authenticator_alone(make_app):
    assert make_app(plugins=[allow_anyone]).chains == [("password",), ("allow_anyone",)]
