"""Attacks on the Device Authorization Grant (RFC 8628): each must be refused, and leave no token."""

import hashlib
import re

import webtest

import indieauth
from indieauth import DeviceCode

from .conftest import CLIENT, bearer, browser, code_for, enter, redeem

DEVICE = indieauth.DEVICE_GRANT
OTHER = "http://127.0.0.1:10/"  # another loopback client: never fetched


def device_app(app):
    return webtest.TestApp(app, extra_environ={"REMOTE_ADDR": "198.51.100.7"})


def start(device, client_id=CLIENT, scope="profile create"):
    return device.post("/device_authorization", {"client_id": client_id, "scope": scope}).json


def poll(device, device_code, client_id=CLIENT, status=400):
    return device.post("/token", {"grant_type": DEVICE, "device_code": device_code, "client_id": client_id},
                       status=status).json


def approve(web, user_code, action="approve"):
    form = web.get("/device").forms["device"]
    form["user_code"] = user_code
    return form.submit(status=200).forms["consent"].submit("action", value=action, status=200)


def approved(app, web, clock):
    """(device, its device_code) approved by the signed-in person in `web`, ready to poll."""
    device = device_app(app)
    body = start(device)
    approve(web, body["user_code"])
    clock.advance(seconds=5)
    return device, body["device_code"]


def test_a_device_code_polled_under_another_client_id_gives_nothing(app, signed_in, clock):
    device, code = approved(app, signed_in, clock)
    refused = poll(device, code, client_id=OTHER)
    assert refused["error"] == "invalid_grant" and "access_token" not in refused
    assert "access_token" in poll(device, code, status=200)  # the client it was issued to still gets it


def test_a_replayed_device_code_is_refused_and_revokes_what_it_gave(app, signed_in, clock):
    device, code = approved(app, signed_in, clock)
    tokens = poll(device, code, status=200)
    clock.advance(seconds=5)
    refused = poll(device, code)
    assert refused["error"] == "invalid_grant" and "access_token" not in refused
    device.get("/token", headers=bearer(tokens["access_token"]), status=401)
    assert device.post("/token", {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
                                  "client_id": CLIENT}, status=400).json["error"] == "invalid_grant"


def test_a_device_code_sent_as_an_authorization_code_is_refused(app, signed_in, clock):
    device, code = approved(app, signed_in, clock)
    refused = device.post("/token", {"grant_type": "authorization_code", "code": code, "client_id": CLIENT,
                                     "redirect_uri": CLIENT + "callback", "code_verifier": "v" * 43}, status=400).json
    assert refused["error"] == "invalid_grant"
    assert device.post("/auth", {"code": code, "client_id": CLIENT, "redirect_uri": CLIENT + "callback"},
                       status=400).json["error"] == "invalid_grant"


def test_an_authorization_code_sent_as_a_device_code_is_refused(app, signed_in):
    code, verifier = code_for(signed_in)
    assert poll(signed_in, code)["error"] == "invalid_grant"
    assert "access_token" in redeem(signed_in, code, verifier).json  # and it was not spent by the attempt


def test_a_refresh_token_sent_as_a_device_code_is_refused(app, signed_in, clock):
    device, code = approved(app, signed_in, clock)
    tokens = poll(device, code, status=200)
    assert poll(device, tokens["refresh_token"])["error"] == "invalid_grant"
    assert poll(device, tokens["access_token"])["error"] == "invalid_grant"


def test_guessing_user_codes_is_throttled_per_address(app, signed_in, owner):
    """A signed-in guesser is refused with a page saying when to try again; even the right code then waits at
    that address, and a person at another address is not held up."""
    body = start(device_app(app))
    form = signed_in.get("/device").forms["device"]
    statuses = []
    for letter in indieauth.USER_CODE_LETTERS + "BC":  # 22 guesses; an address may fail 20 times
        form["user_code"] = "BCDF-GHJ" + letter
        statuses.append(form.submit(expect_errors=True))
    assert statuses[0].status_int == 400 and "No device is waiting" in statuses[0].text
    refused = statuses[-1]
    assert refused.status_int == 429 and int(refused.headers["Retry-After"]) > 0
    assert "Too many wrong codes" in refused.text and "try again in" in refused.text
    form["user_code"] = body["user_code"]
    assert form.submit(expect_errors=True).status_int == 429
    elsewhere = enter(webtest.TestApp(app, extra_environ={"REMOTE_ADDR": "203.0.113.20"}), app)
    assert "consent" in approve_page(elsewhere, body["user_code"]).forms


def approve_page(web, user_code):
    form = web.get("/device").forms["device"]
    form["user_code"] = user_code
    return form.submit(status=200)


def test_the_approve_form_without_its_csrf_token_is_refused(app, signed_in):
    body = start(device_app(app))
    form = approve_page(signed_in, body["user_code"]).forms["consent"]
    form["csrf_token"] = "forged"
    form.submit("action", value="approve", status=403)
    signed_in.post("/device", {"user_code": body["user_code"]}, status=403)
    assert poll(device_app(app), body["device_code"])["error"] == "authorization_pending"


def test_a_forged_or_another_persons_handle_answers_nothing(app, signed_in, owner):
    """The consent form names its code only sealed for the person it was shown to: it cannot guess codes
    or answer a code shown to someone else."""
    body = start(device_app(app))
    key = approve_page(signed_in, body["user_code"]).forms["consent"]["key"].value
    app.storage.create_user("mallory", "https://mallory.example/")
    mallory = browser(app, "mallory")
    token = mallory.get("/device").forms["device"]["csrf_token"].value
    for handle in (key, key[:-2] + "00", body["user_code"]):
        page = mallory.post("/device/consent", {"csrf_token": token, "key": handle, "action": "approve",
                                                "scope": "create"}, status=400)
        assert "expired" in page.text
    assert poll(device_app(app), body["device_code"])["error"] == "authorization_pending"


def test_a_scope_the_device_did_not_ask_for_is_never_granted(app, signed_in, clock):
    device = device_app(app)
    body = start(device, scope="create")
    form = approve_page(signed_in, body["user_code"]).forms["consent"]
    token, key = form["csrf_token"].value, form["key"].value
    signed_in.post("/device/consent", [("csrf_token", token), ("key", key), ("action", "approve"),
                                       ("scope", "create"), ("scope", "delete"), ("scope", "email")], status=200)
    clock.advance(seconds=5)
    assert poll(device, body["device_code"], status=200)["scope"] == "create"


def test_a_code_is_answered_once(app, signed_in):
    body = start(device_app(app))
    form = approve_page(signed_in, body["user_code"]).forms["consent"]
    form.submit("action", value="deny", status=200)
    assert "answered already" in form.submit("action", value="approve", status=400).text
    assert poll(device_app(app), body["device_code"])["error"] == "access_denied"


def test_device_codes_and_user_codes_are_stored_only_as_hashes(app):
    body = start(device_app(app))
    sha = lambda text: hashlib.sha256(text.encode()).hexdigest()
    with app.storage.bound():
        row = DeviceCode.get()
        values = [str(v) for v in row.__data__.values()]
    assert (row.device_hash, row.user_code_hash) == (sha(body["device_code"]), sha(body["user_code"]))
    assert not any(body["device_code"] in v or body["user_code"] in v for v in values)


def test_an_unauthenticated_caller_cannot_store_device_authorizations_without_bound(app):
    device = device_app(app)
    answers = [device.post("/device_authorization", {"client_id": CLIENT, "scope": "create"}, expect_errors=True)
               for _ in range(indieauth.DEVICE_REQUESTS + 5)]
    assert [a.status_int for a in answers].count(200) == indieauth.DEVICE_REQUESTS
    assert answers[-1].status_int == 429 and answers[-1].json["error"] == "slow_down"
    long_scope = " ".join(f"s{n}" for n in range(indieauth.MAX_SCOPES + 1))
    assert device_app(app).post("/device_authorization", {"client_id": CLIENT, "scope": long_scope},
                                status=400).json["error"] == "invalid_scope"


def test_the_verification_page_is_not_an_open_redirect(app, web, owner):
    """Signed out, /device sends the person to sign in with `next` a path on this server, whatever is appended."""
    response = web.get("/device?user_code=//evil.example/", status=303)
    assert re.match(r"^http://localhost/login\?next=%2Fdevice", response.headers["Location"])


def test_the_logo_proxy_answers_only_a_sealed_handle(app, signed_in):
    """/device/logo/<key> fetches nothing for a key this server did not seal (SEC26: never an open proxy)."""
    start(device_app(app))
    for key in ("forged", "e30.abc", "WDJB-MJHT"):
        signed_in.get(f"/device/logo/{key}", status=404)
