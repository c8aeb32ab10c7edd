"""The totp plugin, tested as a third party would: indieauth.testing and webtest only.

Time comes from the app's clock, and codes are computed with pyotp at that time, as an
authenticator app would compute them."""

import datetime
import re
import sys
import time
import urllib.parse

import pyotp
import pytest
import webtest

import indieauth
import indieauth_totp as totp
from indieauth import testing
from indieauth_password import set_password

PASSWORD = "correct horse battery staple"
ADDRESS = "192.0.2.10"
UTC = datetime.timezone.utc


class Clock:
    """The app's clock, moved by hand: a callable returning a naive UTC datetime."""

    def __init__(self):
        self.now = datetime.datetime(2026, 1, 1, 12, 0, 10)  # 10 seconds into a 30-second step

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += datetime.timedelta(**delta)


def code_at(secret, moment, steps=0, digits=6, period=30):
    """What an authenticator app shows at `moment` (naive UTC), `steps` time steps later or earlier."""
    return pyotp.TOTP(secret, digits=digits, interval=period).at(moment.replace(tzinfo=UTC), counter_offset=steps)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def make(tmp_path, clock):
    """make(totp={...}, methods=[...], security={...}): the app with the password and totp plugins."""
    def build(totp=None, methods=None, security=None):
        config = {"plugins": {"password": {}, "totp": dict(totp or {})}}
        if methods:
            config["auth"] = {"methods": methods}
        if security:
            config["security"] = security
        return testing.make_app(config, folder=str(tmp_path), clock=clock)
    return build


@pytest.fixture
def app(make):
    return make()


@pytest.fixture
def ann(app):
    user = app.storage.create_user("ann", "https://ann.example/", role="owner")
    set_password(app, user, PASSWORD)
    return user


def turn_on(app, user, secret=None):
    """Codes on for `user` (as if confirmed long ago); returns (secret, recovery codes)."""
    secret = secret or pyotp.random_base32()
    return secret, totp.enable(app, user, secret, step=0)


@pytest.fixture
def secret(app, ann):
    return turn_on(app, ann)[0]


def browser(app):
    return webtest.TestApp(app, extra_environ={"REMOTE_ADDR": ADDRESS})


def sign_in_with_password(web, username="ann", password=PASSWORD, status=303):
    form = web.get("/login").forms["password-login"]
    form["username"], form["password"] = username, password
    return form.submit(status=status)


def enter_code(web, code, username=None, status=303, path="/login/totp"):
    """Fill in the code form (with the user name when it is the first factor); returns the response."""
    form = web.get(path).forms["totp-login"]
    if username is not None:
        form["username"] = username
    form["code"] = code
    return form.submit(status=status)


def alert(response):
    return response.html.select_one("[role=alert]").text


def signed_in(web):
    return "Signed in as" in web.get("/").text


# -- enrolment on the web

def signed_in_browser(app):
    web = browser(app)
    sign_in_with_password(web)
    return web


def setup_page(web):
    return web.get("/plugins/totp/")


def shown_uri(page):
    return page.html.select_one("#totp-uri").text


def shown_secret(page):
    return urllib.parse.parse_qs(urllib.parse.urlsplit(shown_uri(page)).query)["secret"][0]


def confirm(web, code, status=200):
    form = setup_page(web).forms["totp-confirm"]
    form["code"] = code
    return form.submit(status=status)


def test_the_setup_page_needs_a_signed_in_user(app, ann):
    response = browser(app).get("/plugins/totp/", status=303)
    assert "/login?next=%2Fplugins%2Ftotp%2F" in response.headers["Location"]


def test_the_setup_page_shows_the_uri_and_its_qr_code_as_svg(app, ann):
    page = setup_page(signed_in_browser(app))
    uri = shown_uri(page)
    assert re.fullmatch(r"otpauth://totp/IndieAuth:ann\?secret=[A-Z2-7]{32}&issuer=IndieAuth", uri)
    assert page.html.select_one(".totp-qr svg[role=img][aria-label]") is not None
    assert totp.qr_svg(uri) in page.text  # the QR code holds exactly this URI
    assert page.html.select_one("#totp-key").text.replace(" ", "") == shown_secret(page)


def test_reloading_the_setup_page_keeps_the_secret(app, ann):
    web = signed_in_browser(app)
    assert shown_secret(setup_page(web)) == shown_secret(setup_page(web))


def test_a_pending_secret_signs_nobody_in(app, ann, clock):
    pending = shown_secret(setup_page(signed_in_browser(app)))
    assert not app.authenticators["totp"].supports(ann)
    response = enter_code(browser(app), code_at(pending, clock.now), username="ann", status=400)
    assert alert(response) == "The user name or the code is not right."


def test_a_pending_secret_is_no_second_factor(make, clock):
    app = make(methods=["password+totp"])
    user = app.storage.create_user("ann", "https://ann.example/", role="owner")
    set_password(app, user, PASSWORD)
    app.storage.set_credential(user, "totp", {"pending": pyotp.random_base32()})
    response = sign_in_with_password(browser(app), status=403)
    assert "none is set up" in alert(response)


def test_a_right_code_turns_codes_on_and_shows_ten_recovery_codes_once(app, ann, clock):
    web = signed_in_browser(app)
    pending = shown_secret(setup_page(web))
    page = confirm(web, code_at(pending, clock.now))
    codes = [li.text for li in page.html.select("#totp-recovery-codes li")]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}", code) for code in codes)
    assert app.authenticators["totp"].supports(ann)
    assert app.storage.get_credential(ann, "totp")["secret"] == pending
    again = setup_page(web)
    assert again.html.select_one("#totp-codes-left").text == "10"
    assert not any(code in again.text for code in codes)


def test_a_wrong_code_does_not_turn_codes_on(app, ann, clock):
    web = signed_in_browser(app)
    pending = shown_secret(setup_page(web))
    response = confirm(web, code_at(pending, clock.now, steps=3), status=400)
    assert "That code is not right" in alert(response)
    assert response.html.select_one("#totp-code")["aria-invalid"] == "true"
    assert not app.authenticators["totp"].supports(ann)


def test_an_empty_code_does_not_turn_codes_on(app, ann):
    response = confirm(signed_in_browser(app), "", status=400)
    assert alert(response) == "Enter the 6-digit code your authenticator app shows."
    assert not app.authenticators["totp"].supports(ann)


def test_confirming_needs_the_csrf_token(app, ann, clock):
    web = signed_in_browser(app)
    pending = shown_secret(setup_page(web))
    web.post("/plugins/totp/confirm", {"code": code_at(pending, clock.now)}, status=403)
    assert not app.authenticators["totp"].supports(ann)


def test_the_confirming_code_cannot_sign_in_again(app, ann, clock):
    web = signed_in_browser(app)
    pending = shown_secret(setup_page(web))
    confirm(web, code_at(pending, clock.now))
    response = enter_code(browser(app), code_at(pending, clock.now), username="ann", status=400)
    assert "used already" in alert(response)


def test_the_start_page_links_to_the_setup_page(app, ann):
    link = signed_in_browser(app).get("/").html.select_one("a[href='/plugins/totp/']")
    assert link.text == "Authenticator app"


# -- enrolment from the command line

def enroll(app, monkeypatch, capsys, *argv, typed=lambda secret, now: code_at(secret, now)):
    """Run `indieauth totp enroll`; a person reads the key off the screen and types what the app shows.
    Returns (exit code, everything printed)."""
    screen = []

    class Keyboard:
        def isatty(self):
            return False

        def readline(self):
            screen.append(capsys.readouterr().out)
            uri = re.search(r"otpauth://\S+", screen[-1]).group()
            key = urllib.parse.parse_qs(urllib.parse.urlsplit(uri).query)["secret"][0]
            return typed(key, app.now()) + "\n"

    monkeypatch.setattr(sys, "stdin", Keyboard())
    args = indieauth.build_parser(app).parse_args(["totp", "enroll", *argv])
    result = args.handler(app, args)
    screen.append(capsys.readouterr().out)
    return result, "".join(screen)


def test_enroll_command_shows_a_text_qr_code_and_turns_codes_on(app, ann, monkeypatch, capsys):
    code, screen = enroll(app, monkeypatch, capsys)
    assert code == 0
    uri = re.search(r"otpauth://\S+", screen).group()
    assert totp.qr_text(uri) in screen and "█" in screen and "\033[" not in screen  # no colour codes in a pipe
    assert app.authenticators["totp"].supports(ann)
    assert app.storage.get_credential(ann, "totp")["secret"] in uri


def test_enroll_command_prints_ten_recovery_codes_that_work(app, ann, monkeypatch, capsys, clock):
    _, screen = enroll(app, monkeypatch, capsys)
    codes = re.findall(r"^  ([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})$", screen, re.M)
    assert len(set(codes)) == 10
    enter_code(browser(app), codes[0], username="ann")


def test_enroll_command_with_a_wrong_code_changes_nothing(app, ann, monkeypatch, capsys):
    with pytest.raises(indieauth.UsageError, match=r"that code is not right .*; nothing was changed for ann"):
        enroll(app, monkeypatch, capsys, typed=lambda secret, now: code_at(secret, now, steps=-5))
    assert not app.authenticators["totp"].supports(ann)


def test_enroll_command_for_another_user(app, ann, monkeypatch, capsys):
    bob = app.storage.create_user("bob", "https://bob.example/")
    enroll(app, monkeypatch, capsys, "--user", "bob")
    assert app.authenticators["totp"].supports(bob) and not app.authenticators["totp"].supports(ann)


def test_enroll_command_for_an_unknown_user_is_a_usage_error(app, ann, monkeypatch, capsys):
    with pytest.raises(indieauth.UsageError, match="no user named 'nobody'"):
        enroll(app, monkeypatch, capsys, "--user", "nobody")


# -- signing in

def test_password_then_code_through_an_authorization_request_to_a_code(make, clock):
    app = make(methods=["password+totp"])
    user = app.storage.create_user("ann", "https://ann.example/", role="owner")
    set_password(app, user, PASSWORD)
    secret, _ = turn_on(app, user)
    web = browser(app)
    consent_url, verifier = testing.start_authorization(web)
    login = web.get(consent_url, status=303).follow()
    form = login.forms["password-login"]
    form["username"], form["password"] = "ann", PASSWORD
    second = form.submit(status=303)
    assert urllib.parse.urlsplit(second.headers["Location"]).path == "/login/totp"
    assert not signed_in(web)
    form = second.follow().forms["totp-login"]
    form["code"] = code_at(secret, clock.now)
    assert form.submit(status=303).headers["Location"].endswith(consent_url)
    tokens = testing.redeem(web, testing.approve(web, consent_url), verifier)
    assert tokens["me"] == "https://ann.example/" and tokens["access_token"]
    login_event = next(e for e in app.storage.events(10) if e.kind == "login")
    assert '"method": "password+totp"' in login_event.data


def test_as_a_second_factor_only_the_code_is_asked_for(make):
    app = make(methods=["password+totp"])
    user = app.storage.create_user("ann", "https://ann.example/", role="owner")
    set_password(app, user, PASSWORD)
    turn_on(app, user)
    web = browser(app)
    page = sign_in_with_password(web).follow()
    form = page.forms["totp-login"]
    assert "username" not in form.fields and "code" in form.fields
    assert "for ann" in page.html.select_one("#totp-login").text


def test_a_wrong_second_factor_code_is_refused_with_a_message(make, clock):
    app = make(methods=["password+totp"])
    user = app.storage.create_user("ann", "https://ann.example/", role="owner")
    set_password(app, user, PASSWORD)
    secret, _ = turn_on(app, user)
    web = browser(app)
    sign_in_with_password(web)
    response = enter_code(web, code_at(secret, clock.now, steps=5), status=400)
    assert alert(response).startswith("That code is not right.")
    assert not signed_in(web)


def test_a_code_alone_signs_in_with_the_user_name(app, secret, clock):
    web = browser(app)
    enter_code(web, code_at(secret, clock.now), username="ann")
    assert signed_in(web)


def test_a_wrong_code_is_refused_with_a_message(app, secret, clock):
    web = browser(app)
    response = enter_code(web, code_at(secret, clock.now, steps=5), username="ann", status=400)
    assert alert(response) == "The user name or the code is not right."
    assert not signed_in(web)


def test_an_unknown_user_is_refused_with_the_same_message(app, secret, clock):
    response = enter_code(browser(app), code_at(secret, clock.now), username="zoe", status=400)
    assert alert(response) == "The user name or the code is not right."


def test_a_missing_code_is_refused_with_a_message(app, secret):
    response = enter_code(browser(app), "  ", username="ann", status=400)
    assert alert(response) == "Enter your user name and the code from your authenticator app."


def test_a_code_is_accepted_once(app, secret, clock):
    code = code_at(secret, clock.now)
    enter_code(browser(app), code, username="ann")
    web = browser(app)
    response = enter_code(web, code, username="ann", status=400)
    assert alert(response) == "This code has been used already. Wait for your app to show the next one."
    assert not signed_in(web)


def test_a_code_older_than_the_last_one_used_is_refused(app, secret, clock):
    enter_code(browser(app), code_at(secret, clock.now, steps=1), username="ann")
    response = enter_code(browser(app), code_at(secret, clock.now), username="ann", status=400)
    assert "used already" in alert(response)


@pytest.mark.parametrize("steps", [-1, 0, 1])
def test_a_code_one_step_either_side_of_now_is_accepted(app, secret, clock, steps):
    enter_code(browser(app), code_at(secret, clock.now, steps=steps), username="ann")


@pytest.mark.parametrize("steps", [-2, 2])
def test_a_code_outside_the_window_is_refused(app, secret, clock, steps):
    response = enter_code(browser(app), code_at(secret, clock.now, steps=steps), username="ann", status=400)
    assert alert(response) == "The user name or the code is not right."


def test_window_zero_accepts_only_the_current_step(make, clock):
    app = make(totp={"window": 0})
    user = app.storage.create_user("ann", "https://ann.example/", role="owner")
    secret, _ = turn_on(app, user)
    enter_code(browser(app), code_at(secret, clock.now, steps=-1), username="ann", status=400)
    enter_code(browser(app), code_at(secret, clock.now), username="ann")


def test_a_code_typed_with_a_space_is_accepted(app, secret, clock):
    code = code_at(secret, clock.now)
    enter_code(browser(app), f" {code[:3]} {code[3:]} ", username="ann")


def test_the_clock_is_read_as_utc_whatever_the_local_time_zone(app, secret, clock, monkeypatch):
    monkeypatch.setenv("TZ", "XXX-14")  # 14 hours ahead of UTC
    time.tzset()
    try:
        enter_code(browser(app), code_at(secret, clock.now), username="ann")
    finally:
        monkeypatch.undo()
        time.tzset()


# -- recovery codes

def test_a_recovery_code_signs_in_once(app, ann, clock):
    _, codes = turn_on(app, ann)
    web = browser(app)
    enter_code(web, codes[3].upper(), username="ann")
    assert signed_in(web)
    response = enter_code(browser(app), codes[3], username="ann", status=400)
    assert alert(response) == "The user name or the code is not right."
    assert setup_page(web).html.select_one("#totp-codes-left").text == "9"


def test_a_recovery_code_works_as_a_second_factor(make):
    app = make(methods=["password+totp"])
    user = app.storage.create_user("ann", "https://ann.example/", role="owner")
    set_password(app, user, PASSWORD)
    _, codes = turn_on(app, user)
    web = browser(app)
    sign_in_with_password(web)
    enter_code(web, codes[0])
    assert signed_in(web)


def test_recovery_codes_are_stored_only_as_hashes(app, ann):
    secret, codes = turn_on(app, ann)
    stored = str(app.storage.get_credential(ann, "totp"))
    assert not any(code in stored or code.replace("-", "") in stored for code in codes)
    assert totp.recovery_hash(codes[0]) in stored


def test_new_recovery_codes_replace_the_old_ones(app, ann):
    _, old = turn_on(app, ann)
    web = signed_in_browser(app)
    page = setup_page(web).forms["totp-recovery"].submit(status=200)
    new = [li.text for li in page.html.select("#totp-recovery-codes li")]
    assert len(new) == 10 and not set(new) & set(old)
    enter_code(browser(app), old[0], username="ann", status=400)
    enter_code(browser(app), new[0], username="ann")


def test_new_recovery_codes_need_the_csrf_token(app, ann):
    _, old = turn_on(app, ann)
    signed_in_browser(app).post("/plugins/totp/recovery", {}, status=403)
    enter_code(browser(app), old[0], username="ann")


# -- throttling (shared with the password plugin)

def test_repeated_wrong_codes_are_throttled_with_retry_after(app, secret, clock):
    for _ in range(5):
        enter_code(browser(app), code_at(secret, clock.now, steps=9), username="ann", status=400)
    response = enter_code(browser(app), code_at(secret, clock.now), username="ann", status=429)
    assert response.headers["Retry-After"] == "900"
    assert alert(response).startswith("Too many failed attempts. You can try again in 15 minutes.")
    assert "indieauth user link" in alert(response)
    clock.advance(minutes=15)
    enter_code(browser(app), code_at(secret, clock.now), username="ann")


def test_wrong_passwords_count_towards_the_same_throttle(app, secret, clock):
    for _ in range(5):
        sign_in_with_password(browser(app), password="not the password", status=400)
    enter_code(browser(app), code_at(secret, clock.now), username="ann", status=429)


def test_wrong_codes_from_one_address_are_throttled_for_every_account(make, clock):
    app = make(security={"address_failures": 3})
    user = app.storage.create_user("ann", "https://ann.example/", role="owner")
    secret, _ = turn_on(app, user)
    for name in ("bob", "cat", "dan"):
        enter_code(browser(app), "123456", username=name, status=400)
    enter_code(browser(app), code_at(secret, clock.now), username="ann", status=429)


def test_a_right_password_does_not_reset_the_count_of_wrong_codes(make, clock):
    app = make(methods=["password+totp"])
    user = app.storage.create_user("ann", "https://ann.example/", role="owner")
    set_password(app, user, PASSWORD)
    secret, _ = turn_on(app, user)
    wrong = code_at(secret, clock.now, steps=9)
    web = browser(app)
    sign_in_with_password(web)
    for _ in range(4):
        enter_code(web, wrong, status=400)
    web = browser(app)
    sign_in_with_password(web)  # a right password alone clears no count
    enter_code(web, wrong, status=400)
    enter_code(web, code_at(secret, clock.now), status=429)


# -- turning off

def test_turning_off_needs_the_confirmation_box(app, secret):
    web = signed_in_browser(app)
    response = setup_page(web).forms["totp-disable"].submit(status=400)
    assert alert(response).startswith("Tick the box to confirm")
    assert app.authenticators["totp"].supports(app.storage.get_user(username="ann"))


def test_turning_off_stops_codes_signing_in(app, ann, secret, clock):
    web = signed_in_browser(app)
    form = setup_page(web).forms["totp-disable"]
    form["confirm"] = True
    page = form.submit(status=303).follow()
    assert "turned off" in page.html.select_one("[role=status]").text
    assert not app.authenticators["totp"].supports(ann)
    enter_code(browser(app), code_at(secret, clock.now), username="ann", status=400)


def test_turning_off_needs_the_csrf_token(app, ann, secret):
    signed_in_browser(app).post("/plugins/totp/disable", {"confirm": "yes"}, status=403)
    assert app.authenticators["totp"].supports(ann)


# -- configuration

@pytest.mark.parametrize("key, value", [
    ("digits", 7), ("digits", "six"), ("period", 0), ("period", 301), ("period", "soon"),
    ("window", -1), ("window", 6), ("issuer", ""), ("issuer", "My: server"), ("issuer", 5),
])
def test_a_bad_setting_is_refused_at_start_up_naming_the_key(make, key, value):
    with pytest.raises(indieauth.ConfigError, match=re.escape(f"[plugins.totp] {key}: expected")):
        make(totp={key: value})


def test_an_unknown_setting_is_refused_at_start_up(make):
    with pytest.raises(indieauth.ConfigError, match=r"\[plugins.totp\] unknown key 'digit'"):
        make(totp={"digit": 8})


def test_issuer_digits_and_period_reach_the_app_and_the_codes(make, clock):
    app = make(totp={"issuer": "Ann's server", "digits": 8, "period": "60s"})
    user = app.storage.create_user("ann", "https://ann.example/", role="owner")
    set_password(app, user, PASSWORD)
    web = signed_in_browser(app)
    page = setup_page(web)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(shown_uri(page)).query)
    assert (query["issuer"], query["digits"], query["period"]) == (["Ann's server"], ["8"], ["60"])
    pending = query["secret"][0]
    confirm(web, code_at(pending, clock.now, digits=8, period=60))
    clock.advance(seconds=60)
    enter_code(browser(app), code_at(pending, clock.now, digits=8, period=60), username="ann")


# -- the form

def test_the_sign_in_form_has_labels_and_autocomplete(app, secret):
    app.storage.create_user("bob", "https://bob.example/")  # with one user there is no user name field
    html = browser(app).get("/login/totp").html
    for field, autocomplete in (("#totp-username", "username"), ("#totp-code", "one-time-code")):
        assert html.select_one(field)["autocomplete"] == autocomplete
        assert html.select_one(f"label[for={field[1:]}]") is not None


def test_on_a_one_user_server_the_code_is_all_it_asks_for(app, secret):
    html = browser(app).get("/login/totp").html
    field = html.select_one("#totp-username")
    assert field.has_attr("hidden") and field["autocomplete"] == "username" and field["value"]
    assert not html.select("label[for=totp-username]")
