"""The OAuth 2.0 Device Authorization Grant (RFC 8628) end to end: a device asks for a device_code and a
user_code, a person types the user_code at /device, signs in and answers, and the device polls the token
endpoint until it gets the normal token response.  The attacks on it are in tests/attacks/test_refused_device.py."""

import json
import re
import urllib.parse

import pytest
import requests
import webtest

import fixed_clients
import indieauth
from conftest import PASSWORD, sign_in

CLIENT = "https://app.example/"  # fixed_clients knows it as "Example App"
DEVICE = indieauth.DEVICE_GRANT


@pytest.fixture
def app(make_app):
    return make_app(plugins=[fixed_clients])


@pytest.fixture
def person(web, owner):
    """The owner's browser, signed in."""
    sign_in(web)
    return web


@pytest.fixture
def device(app):
    """The device: another party, from another address, without the person's cookies."""
    return webtest.TestApp(app, extra_environ={"REMOTE_ADDR": "198.51.100.7"})


def authorize(device, client_id=CLIENT, scope="profile create", status=200, **extra):
    """POST /device_authorization as a device would; the JSON answer."""
    return device.post("/device_authorization", dict(client_id=client_id, scope=scope, **extra), status=status).json


def poll(device, device_code, client_id=CLIENT, status=400, **extra):
    return device.post("/token", dict(grant_type=DEVICE, device_code=device_code, client_id=client_id, **extra),
                       status=status).json


def consent_for(person, user_code):
    """The consent screen the person reaches by typing `user_code` at /device."""
    form = person.get("/device").forms["device"]
    form["user_code"] = user_code
    return form.submit(status=200)


def answer(person, user_code, action="approve", untick=()):
    """Type the code, then Allow (unticking `untick`) or Deny; the page shown after."""
    form = consent_for(person, user_code).forms["consent"]
    for field in form.fields.get("scope", []):
        if field._value in untick:
            field.checked = False
    return form.submit("action", value=action, status=200)


def test_metadata_names_the_device_endpoint_and_grant(web):
    metadata = web.get("/.well-known/oauth-authorization-server").json
    assert metadata["device_authorization_endpoint"] == "http://localhost/device_authorization"
    assert "urn:ietf:params:oauth:grant-type:device_code" in metadata["grant_types_supported"]


def test_a_device_authorization_answers_every_field_of_rfc_8628(device, app):
    """RFC 8628 §3.2: device_code, user_code, verification_uri(_complete), expires_in and interval."""
    body = authorize(device)
    assert set(body) == {"device_code", "user_code", "verification_uri", "verification_uri_complete",
                         "expires_in", "interval"}
    assert re.fullmatch(r"[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}", body["user_code"])
    assert len(body["device_code"]) >= 43
    assert body["verification_uri"] == "http://localhost/device"
    assert body["verification_uri_complete"] == "http://localhost/device?user_code=" + body["user_code"]
    assert (body["expires_in"], body["interval"]) == (600, 5)
    assert device.post("/device_authorization", {"client_id": CLIENT, "scope": "create"}).headers[
        "Cache-Control"] == "no-store"


def test_the_lifetime_is_a_setting(make_app, clock):
    app = make_app({"tokens": {"device_code_lifetime": "15m"}}, plugins=[fixed_clients])
    web = webtest.TestApp(app)
    body = authorize(web)
    assert body["expires_in"] == 900
    clock.advance(seconds=899)
    assert poll(web, body["device_code"])["error"] == "authorization_pending"
    clock.advance(seconds=1)
    assert poll(web, body["device_code"])["error"] == "expired_token"


def test_the_whole_flow_gives_the_normal_token_response(person, device, clock, app):
    body = authorize(device, scope="profile create")
    assert poll(device, body["device_code"])["error"] == "authorization_pending"
    done = answer(person, body["user_code"])
    assert "Go back to your device" in done.text and "Example App" in done.text
    clock.advance(seconds=5)
    tokens = poll(device, body["device_code"], status=200)
    assert (tokens["me"], tokens["scope"], tokens["token_type"]) == ("https://owner.example/", "profile create", "Bearer")
    assert tokens["refresh_token"] and tokens["expires_in"] == 86400 and "profile" in tokens
    verified = device.get("/token", headers={"Authorization": "Bearer " + tokens["access_token"]}).json
    assert (verified["me"], verified["client_id"], verified["scope"]) == ("https://owner.example/", CLIENT, "profile create")
    refreshed = device.post("/token", {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
                                       "client_id": CLIENT}).json
    assert refreshed["me"] == "https://owner.example/" and refreshed["scope"] == "profile create"


def test_the_whole_flow_over_real_http(make_app, clock):
    """The device is a real HTTP client of a real server; so is the person's browser (a requests session)."""
    port = indieauth.testing.free_port()
    url = f"http://127.0.0.1:{port}"
    app = make_app({"server": {"base_url": url + "/"}}, plugins=[fixed_clients])
    from indieauth_password import set_password
    set_password(app, app.storage.create_user("owner", "https://owner.example/", role="owner"), PASSWORD)
    with indieauth.testing.serving(app, port):
        body = requests.post(url + "/device_authorization", data={"client_id": CLIENT, "scope": "create"}).json()
        assert body["verification_uri"] == url + "/device"
        token = lambda: requests.post(url + "/token", data={"grant_type": DEVICE, "device_code": body["device_code"],
                                                            "client_id": CLIENT})
        pending = token()
        assert (pending.status_code, pending.json()["error"]) == (400, "authorization_pending")
        browser = requests.Session()
        login = browser.get(body["verification_uri_complete"])
        assert "/login" in login.url  # signed out: the sign-in comes first and leads back here
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)
        next_url = re.search(r'name="next" value="([^"]+)"', login.text).group(1)
        form = browser.post(url + "/login/password", data={"csrf_token": csrf, "username": "owner",
                                                           "password": PASSWORD, "next": next_url})
        assert form.url == body["verification_uri_complete"] and f'value="{body["user_code"]}"' in form.text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
        consent = browser.post(url + "/device", data={"csrf_token": csrf, "user_code": body["user_code"]})
        assert "Connect Example App on your device?" in consent.text
        key = re.search(r'name="key" value="([^"]+)"', consent.text).group(1)
        done = browser.post(url + "/device/consent", data={"csrf_token": csrf, "key": key, "scope": "create",
                                                           "action": "approve"})
        assert done.status_code == 200 and "Go back to your device" in done.text
        clock.advance(seconds=5)
        tokens = token()
        assert tokens.status_code == 200 and tokens.json()["me"] == "https://owner.example/"
        assert token().json()["error"] == "invalid_grant"


def test_signed_out_the_verification_page_signs_in_first_and_comes_back(web, owner):
    response = web.get("/device?user_code=BCDF-GHJK", status=303)
    location = urllib.parse.urlsplit(response.headers["Location"])
    assert location.path == "/login"
    assert urllib.parse.parse_qs(location.query)["next"] == ["/device?user_code=BCDF-GHJK"]
    sign_in(web, next_url=urllib.parse.quote("/device?user_code=BCDF-GHJK"))
    assert web.get("/device?user_code=BCDF-GHJK").forms["device"]["user_code"].value == "BCDF-GHJK"


@pytest.mark.parametrize("typed", ["{}", "{lower}", "{plain}", "  {first} {second}  ", "{first}--{second}"])
def test_the_code_may_be_typed_in_any_case_with_or_without_dashes_and_spaces(person, device, typed):
    code = authorize(device)["user_code"]
    first, second = code.split("-")
    typed = typed.format(code, lower=code.lower(), plain=first + second, first=first, second=second)
    page = consent_for(person, typed)
    assert page.forms["consent"].action == "/device/consent" and code in page.text


def test_the_consent_screen_names_the_app_and_warns_to_compare_the_code(person, device):
    code = authorize(device, scope="profile create")["user_code"]
    page = consent_for(person, code)
    assert "Example App" in page.text and CLIENT in page.text
    warning = page.html.find(id="device-warning").text
    assert code in warning and "your own device" in warning and "Deny" in warning
    assert [f._value for f in page.forms["consent"].fields["scope"]] == ["profile", "create"]
    assert "remember" not in page.forms["consent"].fields  # a device's code is always looked at
    assert page.html.find(id="user-code").text == code


def test_the_person_may_grant_fewer_scopes_than_asked(person, device, clock):
    body = authorize(device, scope="profile create media")
    answer(person, body["user_code"], untick=("media",))
    tokens = poll(device, body["device_code"], status=200)
    assert tokens["scope"] == "profile create"


def test_allowing_nothing_is_refused_with_a_page_saying_so(person, device):
    form = consent_for(person, authorize(device, scope="create")["user_code"]).forms["consent"]
    form.fields["scope"][0].checked = False
    page = form.submit("action", value="approve", status=400)
    assert "Tick at least one permission" in page.text


def test_a_denied_code_answers_access_denied(person, device, clock):
    body = authorize(device)
    page = answer(person, body["user_code"], action="deny")
    assert "Denied" in page.text and "go back to your device" in page.text.lower()
    assert poll(device, body["device_code"])["error"] == "access_denied"


def test_an_answered_code_is_not_offered_again(person, device):
    body = authorize(device)
    answer(person, body["user_code"], action="deny")
    form = person.get("/device").forms["device"]
    form["user_code"] = body["user_code"]
    assert "No device is waiting for that code" in form.submit(status=400).text


def test_pending_until_answered_then_expired(device, clock):
    body = authorize(device)
    for _ in range(3):
        assert poll(device, body["device_code"])["error"] == "authorization_pending"
        clock.advance(seconds=5)
    clock.advance(seconds=600)
    expired = poll(device, body["device_code"])
    assert expired["error"] == "expired_token" and "new device authorization" in expired["error_description"]


def test_an_expired_code_cannot_be_approved(person, device, clock):
    body = authorize(device)
    clock.advance(seconds=600)
    form = person.get("/device").forms["device"]
    form["user_code"] = body["user_code"]
    assert "No device is waiting" in form.submit(status=400).text


def test_a_code_that_expires_on_the_consent_screen_is_refused(person, device, clock):
    body = authorize(device)
    form = consent_for(person, body["user_code"]).forms["consent"]
    clock.advance(seconds=600)
    assert "expired" in form.submit("action", value="approve", status=400).text
    assert poll(device, body["device_code"])["error"] == "expired_token"


def test_polling_faster_than_the_interval_gets_slow_down_and_a_longer_interval(device, clock):
    """RFC 8628 §3.5: slow_down, and the interval grows by 5 seconds for this and every later poll."""
    code = authorize(device)["device_code"]
    assert poll(device, code)["error"] == "authorization_pending"
    clock.advance(seconds=4)
    response = device.post("/token", {"grant_type": DEVICE, "device_code": code, "client_id": CLIENT}, status=400)
    assert response.json["error"] == "slow_down" and response.headers["Retry-After"] == "10"
    clock.advance(seconds=5)  # the old interval is no longer enough
    assert poll(device, code)["error"] == "slow_down"
    clock.advance(seconds=15)
    assert poll(device, code)["error"] == "authorization_pending"
    clock.advance(seconds=15)
    assert poll(device, code)["error"] == "authorization_pending"


def test_the_token_response_waits_for_the_interval_too(person, device, clock):
    body = authorize(device)
    assert poll(device, body["device_code"])["error"] == "authorization_pending"
    answer(person, body["user_code"])
    assert poll(device, body["device_code"])["error"] == "slow_down"
    clock.advance(seconds=10)
    assert "access_token" in poll(device, body["device_code"], status=200)


@pytest.mark.parametrize("fields, error", [
    ({"scope": "create"}, "invalid_request"),                                     # no client_id
    ({"client_id": "not a url", "scope": "create"}, "invalid_request"),
    ({"client_id": "https://app.example/#frag", "scope": "create"}, "invalid_request"),
    ({"client_id": CLIENT}, "invalid_scope"),                                     # the device flow needs a scope
    ({"client_id": CLIENT, "scope": "cré"}, "invalid_scope"),
])
def test_a_device_authorization_request_that_cannot_be_served_is_refused(device, fields, error):
    refused = device.post("/device_authorization", fields, status=400).json
    assert refused["error"] == error and refused["error_description"]


@pytest.mark.parametrize("fields", [{"client_id": CLIENT}, {"device_code": "x" * 43}],
                         ids=["no-device-code", "no-client-id"])
def test_a_poll_without_device_code_or_client_id_is_invalid_request(device, fields):
    assert device.post("/token", dict(fields, grant_type=DEVICE), status=400).json["error"] == "invalid_request"


def test_an_unknown_device_code_is_invalid_grant(device):
    assert poll(device, "x" * 43)["error"] == "invalid_grant"


def test_a_disabled_user_gets_no_token(person, device, app, owner, clock):
    body = authorize(device)
    answer(person, body["user_code"])
    app.storage.disable_user(owner)
    refused = poll(device, body["device_code"])
    assert refused["error"] == "invalid_grant" and "disabled" in refused["error_description"]


def test_the_audit_log_records_the_consent_and_the_token(person, device, app):
    body = authorize(device, scope="create")
    answer(person, body["user_code"])
    poll(device, body["device_code"], status=200)
    events = [(e.kind, json.loads(e.data)) for e in app.storage.events(limit=5)]
    assert events[0][0] == "token_issued" and events[0][1]["grant_type"] == DEVICE
    assert events[1][0] == "consent_granted" and events[1][1]["grant_type"] == DEVICE
    assert events[1][1]["scope"] == "create" and events[1][1]["client_id"] == CLIENT


def test_a_denial_is_in_the_audit_log(person, device, app):
    answer(person, authorize(device)["user_code"], action="deny")
    kind, data = app.storage.events(limit=1)[0].kind, json.loads(app.storage.events(limit=1)[0].data)
    assert (kind, data["client_id"], data["grant_type"]) == ("consent_denied", CLIENT, DEVICE)


def test_a_registered_client_authenticates_at_both_endpoints(app, person, device, clock):
    secret = app.storage.create_client("https://registered.example/", "Registered", ["https://registered.example/cb"])
    refused = device.post("/device_authorization", {"client_id": "https://registered.example/", "scope": "create"},
                          status=401)
    assert refused.json["error"] == "invalid_client"
    device.set_authorization(("Basic", ("https://registered.example/", secret)))
    body = authorize(device, client_id="https://registered.example/", scope="create")
    assert "Registered" in consent_for(person, body["user_code"]).text
    answer(person, body["user_code"])
    device.authorization = None
    assert poll(device, body["device_code"], client_id="https://registered.example/", status=401)["error"] == \
        "invalid_client"
    tokens = poll(device, body["device_code"], client_id="https://registered.example/", status=200,
                  client_secret=secret)
    assert tokens["me"] == "https://owner.example/"


def test_an_app_unregistered_after_the_approval_gets_no_token(app, person, device):
    secret = app.storage.create_client("https://registered.example/", "Registered", ["https://registered.example/cb"])
    body = authorize(device, client_id="https://registered.example/", scope="create", client_secret=secret)
    answer(person, body["user_code"])
    app.storage.remove_client("https://registered.example/")
    refused = poll(device, body["device_code"], client_id="https://registered.example/")
    assert refused["error"] == "invalid_grant" and "no longer registered" in refused["error_description"]


def test_an_address_may_start_only_so_many_device_authorizations(device, clock):
    for _ in range(indieauth.DEVICE_REQUESTS):
        authorize(device, scope="create")
    refused = device.post("/device_authorization", {"client_id": CLIENT, "scope": "create"}, status=429)
    assert refused.json["error"] == "slow_down" and int(refused.headers["Retry-After"]) > 0
    clock.advance(minutes=16)  # past the failure window
    authorize(device, scope="create")


def test_the_verification_page_works_without_javascript_and_fills_the_code_in(person):
    page = person.get("/device?user_code=bcdf-ghjk")
    field = page.html.find(id="user_code")
    assert field["autocomplete"] == "one-time-code" and field["value"] == "bcdf-ghjk"
    assert page.html.find("label", attrs={"for": "user_code"}) is not None
    assert "<script" not in page.text.split("<main", 1)[-1]


def test_the_whole_flow_runs_on_a_storage_backend_from_a_plugin(make_app, clock):
    """The in-memory backend of tests/plugins/memory_storage.py serves the device flow through the real app."""
    import allow_anyone
    import memory_storage
    app = make_app(plugins=[memory_storage, allow_anyone, fixed_clients], password=False)
    app.storage.create_user("ann", "https://ann.example/", role="owner")
    person, device = webtest.TestApp(app, extra_environ={"REMOTE_ADDR": "192.0.2.10"}), \
        webtest.TestApp(app, extra_environ={"REMOTE_ADDR": "198.51.100.7"})
    form = next(form for form in person.get("/login").forms.values() if "who" in form.fields)
    form["who"] = "ann"
    form.submit(status=303)
    body = authorize(device, scope="create")
    assert poll(device, body["device_code"])["error"] == "authorization_pending"
    answer(person, body["user_code"])
    clock.advance(seconds=5)
    assert poll(device, body["device_code"], status=200)["me"] == "https://ann.example/"
    clock.advance(seconds=5)
    assert poll(device, body["device_code"])["error"] == "invalid_grant"
