"""The passkeys plugin, tested as a third party would: indieauth.testing and webtest only.

A small software authenticator (P-256 keys, "none" attestation, made with `cryptography` and `cbor2`,
both dependencies of py_webauthn) answers the server's options exactly as a browser's
navigator.credentials.create()/get() would, so every check of the real verification path runs."""

import argparse
import base64
import hashlib
import json
import os
import re
import subprocess
import sys

import cbor2
import pytest
import webtest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

import indieauth
import indieauth_passkeys as passkeys
from indieauth import testing
from indieauth_password import set_password

PASSWORD = "correct horse battery staple"
ADDRESS = "192.0.2.10"
ORIGIN = "http://localhost"


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SoftAuthenticator:
    """A passkey provider in software: makes discoverable P-256 credentials and signs assertions."""

    def __init__(self, counting=True, verifies_user=True):
        self.keys = {}  # credential id -> [private key, user handle, sign count]
        self.counting, self.verifies_user = counting, verifies_user

    def flags(self, attested=False):
        return 0x01 | (0x04 if self.verifies_user else 0) | (0x40 if attested else 0)

    def create(self, options, origin=ORIGIN, rp_id=None):
        """The JSON a browser sends back from navigator.credentials.create(options)."""
        rp_id = rp_id or options["rp"]["id"]
        credential_id, key = os.urandom(16), ec.generate_private_key(ec.SECP256R1())
        numbers = key.public_key().public_numbers()
        cose = cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})
        auth_data = (hashlib.sha256(rp_id.encode()).digest() + bytes([self.flags(attested=True)]) + bytes(4)
                     + bytes(16) + len(credential_id).to_bytes(2, "big") + credential_id + cose)
        client_data = json.dumps({"type": "webauthn.create", "challenge": options["challenge"], "origin": origin,
                                  "crossOrigin": False}).encode()
        self.keys[credential_id] = [key, unb64(options["user"]["id"]), 0]
        return json.dumps({"id": b64(credential_id), "rawId": b64(credential_id), "type": "public-key",
                           "clientExtensionResults": {}, "response": {
                               "clientDataJSON": b64(client_data), "transports": ["internal", "made-up"],
                               "attestationObject": b64(cbor2.dumps({"fmt": "none", "attStmt": {},
                                                                     "authData": auth_data}))}})

    def get(self, options, origin=ORIGIN, credential_id=None, counter=None, user_handle=True):
        """The JSON a browser sends back from navigator.credentials.get(options)."""
        allowed = [unb64(c["id"]) for c in options.get("allowCredentials", [])]
        credential_id = credential_id or next(c for c in self.keys if not allowed or c in allowed)
        key, handle, count = self.keys[credential_id]
        if counter is None:
            counter = count + 1 if self.counting else 0
        self.keys[credential_id][2] = counter
        auth_data = (hashlib.sha256(options["rpId"].encode()).digest() + bytes([self.flags()])
                     + counter.to_bytes(4, "big"))
        client_data = json.dumps({"type": "webauthn.get", "challenge": options["challenge"], "origin": origin,
                                  "crossOrigin": False}).encode()
        signature = key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return json.dumps({"id": b64(credential_id), "rawId": b64(credential_id), "type": "public-key",
                           "clientExtensionResults": {}, "response": {
                               "clientDataJSON": b64(client_data), "authenticatorData": b64(auth_data),
                               "signature": b64(signature), "userHandle": b64(handle) if user_handle else None}})


Clock = testing.Clock


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def make(tmp_path, clock):
    """make(passkeys={...}, methods=[...], server={...}): the app with the password and passkeys plugins."""
    def build(passkeys=None, methods=None, server=None):
        config = {"plugins": {"password": {}, "passkeys": dict(passkeys or {})}}
        if methods:
            config["auth"] = {"methods": methods}
        if server:
            config["server"] = server
        return testing.make_app(config, folder=str(tmp_path), clock=clock)
    return build


@pytest.fixture
def app(make):
    return make()


def add_user(app, username):
    user = app.storage.create_user(username, f"https://{username}.example/", role="owner")
    set_password(app, user, PASSWORD)
    return user


@pytest.fixture
def ann(app):
    return add_user(app, "ann")


def browser(app):
    return webtest.TestApp(app, extra_environ={"REMOTE_ADDR": ADDRESS})


def sign_in_with_password(web, username="ann", status=303):
    form = web.get("/login").forms["password-login"]
    form["username"], form["password"] = username, PASSWORD
    return form.submit(status=status)


def settings_csrf(web):
    return web.get("/plugins/passkeys/").forms["passkeys-add"]["csrf_token"].value


def register(web, authenticator, name="Laptop", origin=ORIGIN):
    """Add a passkey the way the settings page's script does; returns the verify endpoint's JSON."""
    csrf = {"X-CSRF-Token": settings_csrf(web)}  # the script sends the page's token in the header
    options = web.post("/plugins/passkeys/register/options", headers=csrf).json
    return web.post("/plugins/passkeys/register/verify", {
        "name": name, "credential": authenticator.create(options, origin=origin)}, headers=csrf).json


@pytest.fixture
def key(app, ann):
    """A software authenticator holding one registered passkey of ann's."""
    authenticator = SoftAuthenticator()
    web = browser(app)
    sign_in_with_password(web)
    register(web, authenticator)
    return authenticator


def login_options(web, path="/login"):
    """(the login page's passkey form, the options its script gets)."""
    form = web.get(path).forms["passkeys-login"]
    return form, web.post("/login/passkeys/options", headers={"X-CSRF-Token": form["csrf_token"].value}).json


def sign_in_with_passkey(web, authenticator, status=303, path="/login", **answer):
    form, options = login_options(web, path)
    form["credential"] = authenticator.get(options, **answer)
    return form.submit(status=status)


def alert(response):
    return response.html.select_one("[role=alert]:not([hidden])").text.strip()


def signed_in_as(web):
    who = web.get("/").html.select_one(".who strong")
    return who.text if who else None


# -- the whole flow


def test_a_passkey_alone_signs_in_through_an_authorization_request_to_a_code(app, ann, key):
    web = browser(app)
    consent_url, verifier = testing.start_authorization(web)
    to_login = web.get(consent_url, status=303).headers["Location"]
    login_path = to_login[to_login.index("/login"):]
    response = sign_in_with_passkey(web, key, path=login_path)
    assert response.headers["Location"].endswith(consent_url)
    code = testing.approve(web, consent_url)
    assert testing.redeem(web, code, verifier)["me"] == "https://ann.example/"


def test_a_passkey_after_the_password_signs_in_with_both(app, ann, key, make):
    chained = make(methods=["password+passkeys"])  # the same database, with the chain required
    web = browser(chained)
    location = sign_in_with_password(web).headers["Location"]
    step_path = location[location.index("/login"):]
    assert step_path.startswith("/login/passkeys")
    assert signed_in_as(web) is None
    assert "Use a passkey of ann" in web.get(step_path).html.select_one("#passkeys-login").text
    form, options = login_options(web, step_path)
    assert [c["id"] for c in options["allowCredentials"]] == [p["id"] for p in passkeys.passkeys_of(chained, ann)]
    form["credential"] = key.get(options)
    assert form.submit(status=303).headers["Location"] == "http://localhost/"
    assert signed_in_as(web) == "ann"


def test_the_second_factor_refuses_another_users_passkey(app, ann, key, make):
    bob_key = SoftAuthenticator()
    bob = browser(app)
    add_user(app, "bob")
    sign_in_with_password(bob, "bob")
    register(bob, bob_key)
    chained = make(methods=["password+passkeys"])
    web = browser(chained)
    location = sign_in_with_password(web).headers["Location"]
    form, options = login_options(web, location[location.index("/login"):])
    form["credential"] = bob_key.get({**options, "allowCredentials": []})
    response = form.submit(status=400)
    assert alert(response) == "This passkey belongs to another account. Use the passkey of ann."
    assert signed_in_as(web) is None


# -- registration


def test_registration_stores_the_public_key_counter_transports_name_and_dates(app, ann, key, clock):
    [stored] = passkeys.passkeys_of(app, ann)
    assert stored["id"] == b64(next(iter(key.keys)))
    assert stored["public_key"] and stored["sign_count"] == 0
    assert stored["transports"] == ["internal"]  # unknown transports are dropped
    assert stored["name"] == "Laptop"
    assert stored["created"] == clock.now.isoformat() and stored["last_used"] is None


def test_registration_asks_for_a_discoverable_passkey_and_excludes_those_registered(app, ann, key):
    web = browser(app)
    sign_in_with_password(web)
    options = web.post("/plugins/passkeys/register/options", {"csrf_token": settings_csrf(web)}).json
    assert options["rp"] == {"id": "localhost", "name": "IndieAuth"}
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "preferred"
    assert [c["id"] for c in options["excludeCredentials"]] == [b64(c) for c in key.keys]
    assert options["user"]["name"] == "ann"


def test_an_empty_name_becomes_a_numbered_one(app, ann, key):
    web = browser(app)
    sign_in_with_password(web)
    register(web, key, name="   ")
    assert [p["name"] for p in passkeys.passkeys_of(app, ann)] == ["Laptop", "Passkey 2"]


@pytest.mark.parametrize("path", ["/plugins/passkeys/register/options", "/plugins/passkeys/register/verify"])
def test_registration_needs_a_signed_in_user(app, ann, path):
    web = browser(app)
    csrf = web.get("/login").forms["password-login"]["csrf_token"].value
    response = web.post(path, {"csrf_token": csrf}, status=401)
    assert response.json == {"error": "Sign in first, then add a passkey on the passkeys page."}


@pytest.mark.parametrize("path", ["/plugins/passkeys/register/options", "/plugins/passkeys/register/verify",
                                  "/login/passkeys/options"])
@pytest.mark.parametrize("token,sent_as", [(None, None), ("forged", "field"), ("forged", "header")])
def test_the_json_endpoints_need_the_csrf_token(app, ann, path, token, sent_as):
    web = browser(app)
    sign_in_with_password(web)
    response = web.post(path, {"csrf_token": token} if sent_as == "field" else {},
                        headers={"X-CSRF-Token": token} if sent_as == "header" else {}, status=403)
    assert response.content_type == "application/json"
    assert "security token" in response.json["error"]


def test_registration_without_a_challenge_is_refused(app, ann):
    web = browser(app)
    sign_in_with_password(web)
    csrf = settings_csrf(web)
    options = web.post("/plugins/passkeys/register/options", {"csrf_token": csrf}).json
    web.set_cookie(indieauth.BROWSER_COOKIE, "")  # as a browser that did not ask
    response = web.post("/plugins/passkeys/register/verify", {
        "csrf_token": csrf, "credential": SoftAuthenticator().create(options)}, status=400)
    assert response.json["error"] == passkeys.NO_CHALLENGE
    assert passkeys.passkeys_of(app, ann) == []


def test_a_registration_answer_from_another_origin_is_refused(app, ann):
    web = browser(app)
    sign_in_with_password(web)
    csrf = settings_csrf(web)
    options = web.post("/plugins/passkeys/register/options", {"csrf_token": csrf}).json
    response = web.post("/plugins/passkeys/register/verify", {
        "csrf_token": csrf, "credential": SoftAuthenticator().create(options, origin="http://evil.example")},
        status=400)
    assert response.json["error"] == passkeys.NOT_VERIFIED
    assert passkeys.passkeys_of(app, ann) == []


def test_a_registration_challenge_works_once(app, ann):
    web = browser(app)
    sign_in_with_password(web)
    csrf = settings_csrf(web)
    options = web.post("/plugins/passkeys/register/options", {"csrf_token": csrf}).json
    web.post("/plugins/passkeys/register/verify", {"csrf_token": csrf, "credential": SoftAuthenticator().create(options)})
    response = web.post("/plugins/passkeys/register/verify", {
        "csrf_token": csrf, "credential": SoftAuthenticator().create(options)}, status=400)
    assert response.json["error"] == passkeys.USED
    assert len(passkeys.passkeys_of(app, ann)) == 1


@pytest.mark.parametrize("credential", ["", "not json", "[]", "{}", '{"response": 5}', '{"id": 1}',
                                        '{"id": "x", "rawId": "!!", "type": "public-key", "response": '
                                        '{"clientDataJSON": "%%", "attestationObject": "AA"}}', "x" * 40_000])
def test_bad_registration_input_is_a_400_json_answer(app, ann, credential):
    web = browser(app)
    sign_in_with_password(web)
    csrf = settings_csrf(web)
    web.post("/plugins/passkeys/register/options", {"csrf_token": csrf})
    response = web.post("/plugins/passkeys/register/verify", {"csrf_token": csrf, "credential": credential},
                        status=400)
    assert response.content_type == "application/json" and response.json["error"]
    assert passkeys.passkeys_of(app, ann) == []


# -- signing in: refusals


def test_the_login_options_ask_for_any_discoverable_passkey(app, ann, key):
    _, options = login_options(browser(app))
    assert options["rpId"] == "localhost"
    assert options.get("allowCredentials", []) == []
    assert options["userVerification"] == "preferred"
    assert options["timeout"] == 300_000


def test_a_sign_in_without_a_challenge_is_refused(app, ann, key):
    web = browser(app)
    form, options = login_options(web)
    web.set_cookie(indieauth.BROWSER_COOKIE, "")  # as a browser that did not ask
    form["credential"] = key.get(options)
    assert alert(form.submit(status=400)) == passkeys.NO_CHALLENGE
    assert signed_in_as(web) is None


def test_a_made_up_browser_cookie_does_not_open_a_challenge(app, ann, key):
    # The challenge is kept on the server for the browser that asked; nothing in a cookie names it.
    web = browser(app)
    form, options = login_options(web)
    web.set_cookie(indieauth.BROWSER_COOKIE, "A" * 43)
    form["credential"] = key.get(options)
    assert alert(form.submit(status=400)) == passkeys.NO_CHALLENGE


def test_an_expired_challenge_is_refused(app, ann, key, clock):
    web = browser(app)
    form, options = login_options(web)
    clock.advance(seconds=300)
    form["credential"] = key.get(options)
    assert alert(form.submit(status=400)) == passkeys.EXPIRED
    assert signed_in_as(web) is None


def test_a_challenge_just_before_it_expires_works(app, ann, key, clock):
    web = browser(app)
    form, options = login_options(web)
    clock.advance(seconds=299)
    form["credential"] = key.get(options)
    form.submit(status=303)
    assert signed_in_as(web) == "ann"


def test_a_used_challenge_is_refused(app, ann):
    constant = SoftAuthenticator(counting=False)  # many passkeys keep their counter at 0
    web = browser(app)
    sign_in_with_password(web)
    register(web, constant)
    thief = browser(app)
    form, options = login_options(thief)
    cookie = thief.cookies[indieauth.BROWSER_COOKIE]
    answer = constant.get(options)
    form["credential"] = answer
    form.submit(status=303)
    again = browser(app)
    again_form = again.get("/login").forms["passkeys-login"]
    again.set_cookie(indieauth.BROWSER_COOKIE, cookie)  # the same browser cookie and answer, replayed
    again_form["credential"] = answer
    assert alert(again_form.submit(status=400)) == passkeys.USED
    assert signed_in_as(again) is None


def test_each_challenge_a_browser_waits_on_works_once(app, ann, key):
    # an open sign-in page keeps a challenge for its autofill while the button, or another tab, asks for more
    web = browser(app)
    form, first = login_options(web)
    _, second = login_options(web)
    form["credential"] = key.get(first)
    form.submit(status=303)
    assert signed_in_as(web) == "ann"
    web.post("/logout", {"csrf_token": settings_csrf(web)})
    form = web.get("/login").forms["passkeys-login"]
    form["credential"] = key.get(second)
    form.submit(status=303)
    assert signed_in_as(web) == "ann"
    web.post("/logout", {"csrf_token": settings_csrf(web)})
    form = web.get("/login").forms["passkeys-login"]
    form["credential"] = key.get(first)
    assert alert(form.submit(status=400)) == passkeys.USED


def test_an_answer_to_another_browsers_challenge_is_refused(app, ann, key):
    _, theirs = login_options(browser(app))
    attacker = browser(app)
    form, _ = login_options(attacker)  # with a challenge of its own in its cookie
    form["credential"] = key.get(theirs)
    assert alert(form.submit(status=400)) == passkeys.NO_CHALLENGE
    assert signed_in_as(attacker) is None


def test_the_oldest_of_many_open_challenges_still_works(app, ann, key):
    # Many open sign-in pages (each asks for an autofill challenge) do not push each other's out.
    web = browser(app)
    asked = [login_options(web) for _ in range(9)]
    form, oldest = asked[0]
    form["credential"] = key.get(oldest)
    form.submit(status=303)
    assert signed_in_as(web) == "ann"


def test_only_a_first_step_offers_passkeys_in_the_user_name_autofill(app, ann, key, make):
    assert browser(app).get("/login").html.select_one("#passkeys-login").has_attr("data-autofill")
    chained = make(methods=["password+passkeys"])
    web = browser(chained)
    location = sign_in_with_password(web).headers["Location"]
    second_step = web.get(location[location.index("/login"):]).html.select_one("#passkeys-login")
    assert second_step is not None and not second_step.has_attr("data-autofill")


def test_an_answer_from_another_origin_is_refused(app, ann, key):
    response = sign_in_with_passkey(browser(app), key, status=400, origin="http://evil.example")
    assert alert(response) == passkeys.NOT_VERIFIED


def test_a_challenge_for_registration_cannot_sign_in(app, ann, key):
    web = browser(app)
    form = web.get("/login").forms["passkeys-login"]
    sign_in_with_password(web)
    options = web.post("/plugins/passkeys/register/options", {"csrf_token": settings_csrf(web)}).json
    web.post("/logout", {"csrf_token": settings_csrf(web)})
    form = web.get("/login").forms["passkeys-login"]
    form["credential"] = key.get({"rpId": "localhost", "challenge": options["challenge"]})
    assert alert(form.submit(status=400)) == passkeys.NO_CHALLENGE


def test_an_unknown_passkey_is_refused(app, ann, key):
    stranger = SoftAuthenticator()
    stranger.create({"rp": {"id": "localhost"}, "challenge": "AA", "user": {"id": b64(os.urandom(32))}})
    response = sign_in_with_passkey(browser(app), stranger, status=400)
    assert alert(response) == passkeys.UNKNOWN


def test_an_unregistered_passkey_with_a_real_user_handle_is_refused(app, ann, key):
    handle = next(iter(key.keys.values()))[1]
    stranger = SoftAuthenticator()
    stranger.create({"rp": {"id": "localhost"}, "challenge": "AA", "user": {"id": b64(handle)}})
    response = sign_in_with_passkey(browser(app), stranger, status=400)
    assert alert(response) == passkeys.UNKNOWN


def test_a_passkey_that_does_not_name_its_user_is_refused_as_first_factor(app, ann, key):
    response = sign_in_with_passkey(browser(app), key, status=400, user_handle=False)
    assert alert(response) == passkeys.UNKNOWN


def test_a_signature_counter_going_backwards_is_refused(app, ann, key):
    sign_in_with_passkey(browser(app), key, counter=7)
    response = sign_in_with_passkey(browser(app), key, status=400, counter=3)
    assert "signature counter went backwards" in alert(response)
    assert passkeys.passkeys_of(app, ann)[0]["sign_count"] == 7


def test_signing_in_records_the_counter_and_when_it_was_used(app, ann, key, clock):
    clock.advance(hours=1)
    sign_in_with_passkey(browser(app), key, counter=5)
    [stored] = passkeys.passkeys_of(app, ann)
    assert stored["sign_count"] == 5 and stored["last_used"] == clock.now.isoformat()


def test_user_verification_required_refuses_a_passkey_that_did_not_verify(make):
    app = make(passkeys={"user_verification": "required"})
    add_user(app, "ann")
    key = SoftAuthenticator()
    web = browser(app)
    sign_in_with_password(web)
    register(web, key)
    key.verifies_user = False  # the same passkey, now answering without a PIN or fingerprint
    assert alert(sign_in_with_passkey(browser(app), key, status=400)) == passkeys.NOT_VERIFIED


@pytest.mark.parametrize("credential", ["not json", "[]", '{"id": "x"}', "x" * 40_000,
                                        '{"id": "x", "rawId": "AA", "type": "public-key", "response": '
                                        '{"clientDataJSON": "AA", "authenticatorData": "AA", "signature": "AA"}}'])
def test_bad_sign_in_input_is_refused_with_a_message(app, ann, key, credential):
    web = browser(app)
    form, _ = login_options(web)
    form["credential"] = credential
    assert alert(form.submit(status=400)) == passkeys.UNREADABLE


def test_without_javascript_the_form_says_so(app, ann, key):
    form = browser(app).get("/login").forms["passkeys-login"]
    assert alert(form.submit(status=400)).startswith("Signing in with a passkey needs JavaScript")


def test_failed_passkey_attempts_are_throttled(make):
    app = make()
    web = browser(app)
    for _ in range(20):
        form, _ = login_options(web)
        form["credential"] = "not json"
        form.submit(status=400)
    form, _ = login_options(web)
    form["credential"] = "not json"
    response = form.submit(status=429)
    assert alert(response) == indieauth.too_many_attempts(int(response.headers["Retry-After"]))


# -- the settings page and removing


def test_the_settings_page_needs_a_signed_in_user(app, ann):
    response = browser(app).get("/plugins/passkeys/", status=303)
    assert "/login?next=%2Fplugins%2Fpasskeys%2F" in response.headers["Location"]


def test_the_settings_page_lists_name_added_and_last_used(app, ann, key, clock):
    clock.advance(minutes=5)
    sign_in_with_passkey(browser(app), key)
    web = browser(app)
    sign_in_with_password(web)
    rows = [[" ".join(td.text.split()) for td in tr.select("td")] for tr in
            web.get("/plugins/passkeys/").html.select("#passkeys-list tbody tr")]
    assert rows == [["Laptop", "2026-01-01 12:00 UTC", "2026-01-01 12:05 UTC", "Rename Laptop Remove Laptop"]]


def test_the_pages_say_passkeys_need_javascript(app, ann):
    web = browser(app)
    assert "needs JavaScript" in web.get("/login").html.select_one("#passkeys-login noscript").text
    sign_in_with_password(web)
    page = web.get("/plugins/passkeys/")
    assert "needs JavaScript" in page.html.select_one("#passkeys-add noscript").text
    assert page.html.select_one("label[for=passkeys-name]") is not None


def test_the_script_is_a_static_file_of_the_plugin(app):
    response = browser(app).get("/plugins/passkeys/passkeys.js")
    assert response.content_type == "text/javascript"
    assert "navigator.credentials.get" in response.text


@pytest.mark.parametrize("path", ["/login", "/login/passkeys"])
def test_the_login_page_loads_the_script_once_in_its_head(app, ann, key, path):
    page = browser(app).get(path)
    assert [s["src"] for s in page.html.select("script")] == ["/plugins/passkeys/passkeys.js"]
    assert page.html.head.select_one("script[defer]")["src"] == "/plugins/passkeys/passkeys.js"


def test_the_passkey_is_offered_on_the_start_page(app, ann):
    web = browser(app)
    sign_in_with_password(web)
    assert web.get("/").html.select_one('a[href="/plugins/passkeys/"]') is not None


def remove(web, passkey_id, confirm=True, status=303):
    form = web.get("/plugins/passkeys/remove?id=" + passkey_id).forms["passkeys-remove"]
    if confirm:
        form["confirm"] = True
    return form.submit(status=status)


def test_a_removed_passkey_no_longer_signs_in(app, ann, key):
    web = browser(app)
    sign_in_with_password(web)
    [stored] = passkeys.passkeys_of(app, ann)
    assert remove(web, stored["id"]).headers["Location"].endswith("/plugins/passkeys/?removed=1")
    assert passkeys.passkeys_of(app, ann) == []
    assert "no longer signs you in" in web.get("/plugins/passkeys/?removed=1").text
    assert alert(sign_in_with_passkey(browser(app), key, status=400)) == passkeys.UNKNOWN


def test_removing_needs_the_confirmation(app, ann, key):
    web = browser(app)
    sign_in_with_password(web)
    [stored] = passkeys.passkeys_of(app, ann)
    response = remove(web, stored["id"], confirm=False, status=400)
    assert "Tick the box" in alert(response)
    assert len(passkeys.passkeys_of(app, ann)) == 1


def test_removing_needs_the_csrf_token(app, ann, key):
    web = browser(app)
    sign_in_with_password(web)
    [stored] = passkeys.passkeys_of(app, ann)
    web.post("/plugins/passkeys/remove", {"id": stored["id"], "confirm": "yes"}, status=403)
    assert len(passkeys.passkeys_of(app, ann)) == 1


def test_nobody_removes_another_users_passkey(app, ann, key):
    web = browser(app)
    add_user(app, "bob")
    sign_in_with_password(web, "bob")
    [stored] = passkeys.passkeys_of(app, ann)
    web.get("/plugins/passkeys/remove?id=" + stored["id"], status=303)
    csrf = web.get("/plugins/passkeys/").forms["passkeys-add"]["csrf_token"].value
    web.post("/plugins/passkeys/remove", {"id": stored["id"], "confirm": "yes", "csrf_token": csrf}, status=303)
    assert len(passkeys.passkeys_of(app, ann)) == 1


# -- renaming


@pytest.fixture
def ann_web(app, ann, key):
    """ann's browser, signed in with her password; she has one passkey, "Laptop"."""
    web = browser(app)
    sign_in_with_password(web)
    return web


def rename_form(web, passkey_id):
    return web.get("/plugins/passkeys/rename?id=" + passkey_id).forms["passkeys-rename"]


def names(app, user):
    return [p["name"] for p in passkeys.passkeys_of(app, user)]


def test_a_passkey_is_renamed_from_its_row(app, ann, ann_web):
    [stored] = passkeys.passkeys_of(app, ann)
    link = ann_web.get("/plugins/passkeys/").html.select_one("#passkeys-list a[href^='/plugins/passkeys/rename']")
    assert link["href"] == "/plugins/passkeys/rename?id=" + stored["id"]
    page = ann_web.get(link["href"])
    assert page.html.select_one("label[for=passkeys-new-name]") is not None
    form = page.forms["passkeys-rename"]
    assert form["name"].value == "Laptop"
    form["name"] = "  Work \t laptop "
    response = form.submit(status=303)
    assert response.headers["Location"].endswith("/plugins/passkeys/?renamed=1")
    assert names(app, ann) == ["Work laptop"]
    status = ann_web.get("/plugins/passkeys/?renamed=1").html.select_one("[role=status]")
    assert status.text == "The passkey was renamed."
    event = app.storage.events(1)[0]
    assert (event.kind, json.loads(event.data)) == ("passkey_renamed", {"old": "Laptop", "name": "Work laptop"})


@pytest.mark.parametrize("typed, kept", [("x" * 64, "x" * 64), ("é" * 64, "é" * 64), ("a", "a"),
                                         ("Phone\x00\x1b[31m", "Phone[31m"), (" Yubi\nKey ", "Yubi Key")])
def test_a_name_of_up_to_64_characters_is_kept(app, ann, ann_web, typed, kept):
    [stored] = passkeys.passkeys_of(app, ann)
    form = rename_form(ann_web, stored["id"])
    form["name"] = typed
    form.submit(status=303)
    assert names(app, ann) == [kept]


@pytest.mark.parametrize("typed, message", [
    ("", "Give the passkey a name, for example “Laptop” or “Phone”."),
    (" \t ", "Give the passkey a name, for example “Laptop” or “Phone”."),
    ("\x00", "Give the passkey a name, for example “Laptop” or “Phone”."),
    ("x" * 65, "A passkey's name can be at most 64 characters; this one has 65."),
])
def test_an_empty_or_too_long_name_is_refused_next_to_the_field(app, ann, ann_web, typed, message):
    [stored] = passkeys.passkeys_of(app, ann)
    form = rename_form(ann_web, stored["id"])
    form["name"] = typed
    response = form.submit(status=400)
    assert alert(response) == message
    field = response.html.select_one("#passkeys-new-name")
    assert field["aria-describedby"] == "rename-error" and field["aria-invalid"] == "true"
    assert field.find_previous_sibling("p")["id"] == "rename-error"
    assert names(app, ann) == ["Laptop"]


@pytest.mark.parametrize("token", [None, "forged"])
def test_renaming_needs_the_csrf_token(app, ann, ann_web, token):
    [stored] = passkeys.passkeys_of(app, ann)
    fields = {"id": stored["id"], "name": "Renamed by a forged form"}
    ann_web.post("/plugins/passkeys/rename", {**fields, "csrf_token": token} if token else fields, status=403)
    assert names(app, ann) == ["Laptop"]


def test_renaming_needs_a_signed_in_user(app, ann, key):
    [stored] = passkeys.passkeys_of(app, ann)
    web = browser(app)
    assert "/login?next=" in web.get("/plugins/passkeys/rename?id=" + stored["id"], status=303).headers["Location"]
    csrf = web.get("/login").forms["password-login"]["csrf_token"].value
    web.post("/plugins/passkeys/rename", {"id": stored["id"], "name": "Anonymous", "csrf_token": csrf}, status=303)
    assert names(app, ann) == ["Laptop"]


def test_nobody_renames_another_users_passkey(app, ann, key):
    bob = browser(app)
    add_user(app, "bob")
    sign_in_with_password(bob, "bob")
    [stored] = passkeys.passkeys_of(app, ann)
    assert passkeys.NOT_YOURS in bob.get("/plugins/passkeys/rename?id=" + stored["id"], status=404).text
    bob.post("/plugins/passkeys/rename", {"id": stored["id"], "name": "Bob's now", "csrf_token": settings_csrf(bob)},
             status=404)
    assert names(app, ann) == ["Laptop"]


# -- the command line, run as a command on the test app's database


@pytest.fixture
def cli(app, tmp_path):
    """cli(*args) -> the finished `indieauth --config FILE ARGS` process, on the database `app` uses."""
    config = tmp_path / "plugins.toml"
    config.write_text('[server]\nbase_url = "http://localhost/"\ndatabase = "sqlite:///test.db"\n'
                      f'secret_key = "{"t" * 40}"\n[plugins.password]\n[plugins.passkeys]\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "INDIEAUTH_CONFIG"}

    def run(*args):
        return subprocess.run([sys.executable, "-m", "indieauth", "--config", str(config), *args], cwd=tmp_path,
                              capture_output=True, text=True, env=env, timeout=60)
    return run


def test_passkeys_list_shows_id_dates_and_name_of_the_owners_passkeys(app, ann, key, cli, clock):
    web = browser(app)
    sign_in_with_password(web)
    register(web, SoftAuthenticator(), name="Phone")
    clock.advance(minutes=5)
    sign_in_with_passkey(browser(app), key)
    result = cli("passkeys", "list")
    assert result.returncode == 0, result.stderr
    laptop, phone = passkeys.passkeys_of(app, ann)
    assert result.stdout.splitlines() == [
        "ID            ADDED (UTC)       LAST USED (UTC)   NAME",
        f"{passkeys.cli_id(laptop)[:12]}  2026-01-01 12:00  2026-01-01 12:05  Laptop",
        f"{passkeys.cli_id(phone)[:12]}  2026-01-01 12:00  never             Phone"]


def test_passkeys_list_of_a_user_without_passkeys_says_so(app, ann, key, cli):
    add_user(app, "bob")
    result = cli("passkeys", "list", "--user", "bob")
    assert (result.returncode, result.stdout) == (0, "bob has no passkeys\n")


def test_passkeys_rename_by_the_start_of_the_id(app, ann, key, cli):
    [stored] = passkeys.passkeys_of(app, ann)
    result = cli("passkeys", "rename", passkeys.cli_id(stored)[:8], "Work  laptop")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "renamed the passkey 'Laptop' of ann to 'Work laptop'\n"
    assert names(app, ann) == ["Work laptop"]


def test_passkeys_remove_stops_the_passkey_signing_in(app, ann, key, cli):
    [stored] = passkeys.passkeys_of(app, ann)
    result = cli("passkeys", "remove", passkeys.cli_id(stored), "--user", "ann")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "removed the passkey 'Laptop' of ann: it no longer signs in\n"
    assert passkeys.passkeys_of(app, ann) == []
    assert app.storage.events(1)[0].kind == "passkey_removed"
    assert alert(sign_in_with_passkey(browser(app), key, status=400)) == passkeys.UNKNOWN


@pytest.mark.parametrize("args, message", [
    (["rename", "{id}", "x", "--user", "nobody"], "no user named 'nobody'"),
    (["remove", "{id}", "--user", "bob"], "bob has no passkey with an ID starting with '{id}'"),  # ann's passkey
    (["remove", "zzzzzzzz"], "ann has no passkey with an ID starting with 'zzzzzzzz' (see `indieauth passkeys list"),
    (["rename", "{id:3}", "x"], "give at least 6 characters of the passkey's ID, not '{id:3}'"),
    (["rename", "{id}", " "], "Give the passkey a name"),
    (["rename", "{id}", "x" * 65], "A passkey's name can be at most 64 characters; this one has 65."),
], ids=["unknown user", "another user's passkey", "unknown id", "short id", "empty name", "long name"])
def test_passkeys_commands_refuse_unknown_users_ids_and_bad_names(app, ann, key, cli, args, message):
    add_user(app, "bob")
    [stored] = passkeys.passkeys_of(app, ann)

    def fill(text):
        return text.replace("{id}", passkeys.cli_id(stored)).replace("{id:3}", passkeys.cli_id(stored)[:3])
    result = cli("passkeys", *map(fill, args))
    assert result.returncode == (1 if "no user named" in message else 2), result.stdout  # NotFound: exit code 1
    assert "Traceback" not in result.stderr
    assert f"indieauth: error: {fill(message)}" in result.stderr
    assert names(app, ann) == ["Laptop"]


def test_the_readme_documents_every_command_and_option(app):
    readme = open(os.path.join(os.path.dirname(__file__), "..", "README.md"), encoding="utf-8").read()
    [group] = [a for a in indieauth.build_parser(app)._actions if isinstance(a, argparse._SubParsersAction)]
    [actions] = [a for a in group.choices["passkeys"]._actions if isinstance(a, argparse._SubParsersAction)]
    assert sorted(actions.choices) == ["list", "remove", "rename"]
    for name, parser in actions.choices.items():
        line = re.search(rf"^indieauth passkeys {name}\b.*$", readme, flags=re.M)
        assert line, name
        for action in parser._actions[1:]:  # after -h
            assert (action.option_strings[0] if action.option_strings else action.metavar) in line.group(0), action


# -- configuration


@pytest.mark.parametrize("table, key, message", [
    ({"rp_name": "  "}, "rp_name", "expected the name of this server"),
    ({"challenge_lifetime": 5}, "challenge_lifetime", "expected 30 seconds to 10 minutes"),
    ({"challenge_lifetime": "1h"}, "challenge_lifetime", "expected 30 seconds to 10 minutes"),
    ({"user_verification": "always"}, "user_verification", ""),
    ({"rp_nmae": "x"}, "unknown key 'rp_nmae'", "known keys"),
])
def test_bad_config_is_refused_naming_the_key(tmp_path, table, key, message):
    with pytest.raises(indieauth.ConfigError) as refused:
        testing.make_app({"plugins": {"passkeys": table}}, folder=str(tmp_path))
    assert f"[plugins.passkeys] {key}" in str(refused.value) and message in str(refused.value)


def test_an_ip_address_base_url_is_refused(tmp_path):
    with pytest.raises(indieauth.ConfigError) as refused:
        testing.make_app({"plugins": {"passkeys": {}}, "server": {"base_url": "http://127.0.0.1:8080/"}},
                         folder=str(tmp_path))
    assert "[plugins.passkeys]" in str(refused.value) and "[server] base_url" in str(refused.value)


def test_the_relying_party_comes_from_base_url_and_rp_name(make):
    app = make(passkeys={"rp_name": "Ann's server"}, server={"base_url": "http://localhost:8123/"})
    settings = app.plugin_state["passkeys"]
    assert (settings["rp_id"], settings["origin"], settings["rp_name"]) == (
        "localhost", "http://localhost:8123", "Ann's server")


def test_a_passkey_whose_credential_id_starts_with_a_dash_is_removed_by_the_id_the_list_shows(app, ann, cli):
    """base64url IDs start with "-" one time in 64, which argparse read as an option (seen in CI)."""
    web = browser(app)
    sign_in_with_password(web)
    dashed = SoftAuthenticator()
    for _ in range(2000):  # a key whose credential ID's base64url form starts with "-"
        register(web, dashed, name="Dashed")
        entry = [p for p in passkeys.passkeys_of(app, ann) if p["name"] == "Dashed"][-1]
        if entry["id"].startswith("-"):
            break
        passkeys.remove(app, ann, entry["id"])
        dashed = SoftAuthenticator()
    listed = cli("passkeys", "list", "--user", "ann").stdout
    shown = next(line.split()[0] for line in listed.splitlines() if line.endswith("Dashed"))
    assert not shown.startswith("-")
    result = cli("passkeys", "remove", shown, "--user", "ann")
    assert result.returncode == 0, result.stderr
    assert "Dashed" not in [p["name"] for p in passkeys.passkeys_of(app, ann)]
