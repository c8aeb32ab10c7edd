"""The webhook plugin, tested as a third party would: indieauth.make_test_app, webtest and a real
receiver (http.server on 127.0.0.1 in a thread) that can succeed, fail with 500, redirect or hang."""

import base64
import datetime
import hashlib
import hmac
import logging
import secrets
import threading
import time
import types
import urllib.parse

import pytest
import webtest

import indieauth
import indieauth_webhook as wh
from indieauth import testing
from indieauth_password import set_password

SECRET = "a webhook secret for tests"
PASSWORD = "a long enough password"
ME = "https://ann.example/"
CLIENT = "https://app.example/"
REDIRECT = "https://app.example/callback"
AT = datetime.datetime(2026, 1, 1, 12, 0, 0)


# -- a real receiver ------------------------------------------------------------------------------

class Receiver(testing.FakeServer):
    """The kit's FakeServer as a webhook receiver: `answers` is a list of what to do next with a POST
    ("ok", "500", "302", "hang"), "ok" once it is empty.  A hang lasts `hang_seconds` or until
    `released` is set (at the latest when the test ends)."""

    def __init__(self):
        super().__init__()
        self.answers, self.hang_seconds, self.released = [], 5, threading.Event()
        self.route("/*", self.answer, method="POST")

    def answer(self, request):
        with self.lock:
            answer = self.answers.pop(0) if self.answers else "ok"
        if answer == "hang":
            self.released.wait(self.hang_seconds)
        status = {"ok": 204, "500": 500, "302": 302, "hang": 200}[answer]
        return status, {"Location": "/elsewhere"} if status == 302 else {}, b""

    def bodies(self):
        with self.lock:
            return [request.json() for request in self.requests]

    def stop(self):
        self.released.set()
        super().stop()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


closed_port = testing.free_port  # free a moment ago: nothing listens there


# -- apps -----------------------------------------------------------------------------------------

class KnownClient:
    """Test-only plugin: client information without fetching it."""

    @indieauth.hookimpl
    def client_metadata(self, app, client_id):
        return indieauth.ClientInfo(client_id, name="Example App", url=CLIENT, fetched=True, source="json")


@pytest.fixture
def make_app(tmp_path, receiver):
    """make_app(**webhook_settings): an app with the password and webhook plugins, backoff 10 ms."""
    apps = []

    def make(**settings):
        table = {"urls": [receiver.url + "/hook"], "secret": SECRET, "timeout": "2s"}
        table.update(settings)
        app = indieauth.make_test_app({"plugins": {"password": {}, "webhook": table}}, plugins=[KnownClient()],
                                      folder=str(tmp_path), clock=lambda: AT)
        app.plugin_state["webhook"].backoff = 0.01
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.plugin_state["webhook"].close()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def warnings():
    """WARNING records of the "indieauth.webhook" logger (a handler of its own: the core's CLI may
    have stopped "indieauth" records from reaching pytest's caplog)."""
    records = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append
    logger = logging.getLogger("indieauth.webhook")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def token_issued(**overrides):
    values = dict(user=None, me=ME, client_id=CLIENT, scope="profile create", grant_type="authorization_code",
                  jti="0123456789abcdef", at=AT)
    values.update(overrides)
    return indieauth.TokenIssued(**values)


def token_revoked():
    return indieauth.TokenRevoked(user=None, me=ME, client_id=CLIENT, scope="create", kind="refresh",
                                  jti="fedcba9876543210", at=AT)


def login_failed():
    return indieauth.LoginFailed(username="ann", method="password", address="192.0.2.10",
                                 reason="The user name or the password is not right.")


def fire(app, event):
    app.event(event, None)
    assert app.plugin_state["webhook"].flush(10)


def verify(secret, body, header):
    """What a receiver does (the README's snippet)."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header)


# -- the protocol, as a person and an app do it ----------------------------------------------------

def pkce_pair():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorization_code(app):
    """Sign in with a password, approve the consent form; returns (web, code, verifier)."""
    set_password(app, app.storage.create_user("ann", ME, role="owner"), PASSWORD)
    web = webtest.TestApp(app, extra_environ={"REMOTE_ADDR": "192.0.2.10"})
    form = web.get("/login").forms["password-login"]
    form["username"], form["password"] = "ann", PASSWORD
    form.submit(status=303)
    verifier, challenge = pkce_pair()
    params = {"response_type": "code", "client_id": CLIENT, "redirect_uri": REDIRECT, "state": "st4te",
              "code_challenge": challenge, "code_challenge_method": "S256", "scope": "profile create"}
    consent = web.get("/auth?" + urllib.parse.urlencode(params), status=303).follow().forms["consent"]
    location = consent.submit("action", value="approve", status=303).headers["Location"]
    code = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))["code"]
    return web, code, verifier


def redeem(web, code, verifier):
    return web.post("/token", {"grant_type": "authorization_code", "code": code, "client_id": CLIENT,
                               "redirect_uri": REDIRECT, "code_verifier": verifier})


# -- what is sent ---------------------------------------------------------------------------------

def test_token_issued_payload_and_message(app, receiver):
    fire(app, token_issued())
    assert receiver.bodies() == [{
        "event": "token_issued", "message": "https://ann.example/ has issued an access token to https://app.example/",
        "me": ME, "client_id": CLIENT, "scope": "profile create", "grant_type": "authorization_code",
        "jti": "0123456789abcdef", "time": "2026-01-01T12:00:00Z"}]


def test_token_revoked_payload_and_message(make_app, receiver):
    fire(make_app(events=["token_revoked"]), token_revoked())
    assert receiver.bodies() == [{
        "event": "token_revoked", "message": "https://ann.example/ has revoked a token of https://app.example/",
        "me": ME, "client_id": CLIENT, "scope": "create", "kind": "refresh", "jti": "fedcba9876543210",
        "time": "2026-01-01T12:00:00Z"}]


def test_ticket_received_payload_names_the_resource_and_never_the_token(make_app, receiver):
    ann = types.SimpleNamespace(me=ME, username="ann")
    fire(make_app(events=["ticket_received"]), indieauth.TicketReceived(
        user=ann, resource="https://carol.example/feed", issuer="https://carol.example/", scope="read", at=AT))
    assert receiver.bodies() == [{
        "event": "ticket_received",
        "message": "https://ann.example/ has received a token for https://carol.example/feed from https://carol.example/",
        "me": ME, "resource": "https://carol.example/feed", "issuer": "https://carol.example/", "scope": "read",
        "time": "2026-01-01T12:00:00Z"}]


def test_login_failed_payload_is_stamped_with_the_app_clock(make_app, receiver):
    fire(make_app(events=["login_failed"]), login_failed())
    body, = receiver.bodies()
    assert body == {"event": "login_failed", "message": body["message"], "username": "ann", "method": "password",
                    "address": "192.0.2.10", "reason": "The user name or the password is not right.",
                    "time": "2026-01-01T12:00:00Z"}
    assert body["message"].startswith("Sign-in as ann with password failed from 192.0.2.10")


def test_headers_name_the_plugin_and_the_content_type(app, receiver):
    fire(app, token_issued())
    headers = receiver.requests[0].headers
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == f"indieauth-webhook/{wh.__version__} (+http://localhost/)"
    assert receiver.requests[0].target == "/hook"


def test_signature_verifies_with_the_secret_and_not_with_another(app, receiver):
    fire(app, token_issued())
    request = receiver.requests[0]
    header = request.headers["X-IndieAuth-Signature"]
    assert header.startswith("sha256=") and len(header) == len("sha256=") + 64
    assert verify(SECRET, request.body, header)
    assert not verify("another secret", request.body, header)
    assert not verify(SECRET, request.body.replace(b"create", b"delete"), header)


def test_every_url_receives_every_event(make_app, receiver):
    fire(make_app(urls=[receiver.url + "/one", receiver.url + "/two"]), token_issued())
    assert sorted(r.target for r in receiver.requests) == ["/one", "/two"]


@pytest.mark.parametrize("event", [token_revoked(), login_failed()], ids=["token_revoked", "login_failed"])
def test_events_not_selected_are_not_sent(app, receiver, event):
    fire(app, event)
    assert receiver.requests == []
    fire(app, token_issued())  # the receiver is reachable: only the selection kept the first one back
    assert [b["event"] for b in receiver.bodies()] == ["token_issued"]


def test_selected_events_are_all_sent(make_app, receiver):
    app = make_app(events=["token_issued", "token_revoked", "login_failed"])
    for event in (token_issued(), token_revoked(), login_failed()):
        fire(app, event)
    assert [b["event"] for b in receiver.bodies()] == ["token_issued", "token_revoked", "login_failed"]


# -- delivery -------------------------------------------------------------------------------------

def test_retries_after_500s_then_succeeds(app, receiver, warnings):
    receiver.answers = ["500", "500"]
    fire(app, token_issued())
    assert len(receiver.requests) == 3
    assert len({r.body for r in receiver.requests}) == 1  # the same message each time
    assert warnings == []


def test_gives_up_after_retries_and_logs_it(make_app, receiver, warnings):
    receiver.answers = ["500"] * 10
    fire(make_app(retries=2), token_issued())
    assert len(receiver.requests) == 3
    message, = [r.getMessage() for r in warnings]
    assert "gave up delivering token_issued to " + receiver.url + "/hook after 3 attempts: HTTP 500" in message


def test_retries_back_off_exponentially(app, receiver):
    app.plugin_state["webhook"].backoff = 0.05
    receiver.answers = ["500"] * 3
    fire(app, token_issued())
    times = [r.at for r in receiver.requests]
    gaps = [later - earlier for earlier, later in zip(times, times[1:])]
    assert len(gaps) == 3 and gaps[0] >= 0.05 and gaps[1] >= 0.1 and gaps[2] >= 0.2


def test_a_connection_error_is_retried_then_given_up(make_app, warnings):
    url = f"http://127.0.0.1:{closed_port()}/hook"
    fire(make_app(urls=[url], retries=1), token_issued())
    message, = [r.getMessage() for r in warnings]
    assert f"gave up delivering token_issued to {url} after 2 attempts: could not connect" in message


def test_a_redirect_is_a_failure_and_is_not_followed(make_app, receiver, warnings):
    receiver.answers = ["302"]
    fire(make_app(retries=0), token_issued())
    assert [r.target for r in receiver.requests] == ["/hook"]
    assert "HTTP 302" in warnings[0].getMessage()


def test_a_hanging_receiver_times_out_and_is_given_up(make_app, receiver, warnings):
    receiver.answers = ["hang"]
    app = make_app(timeout="1s", retries=0)
    started = time.monotonic()
    app.event(token_issued(), None)
    assert time.monotonic() - started < 0.5  # track_event only queues
    assert app.plugin_state["webhook"].flush(0.2) is False  # still waiting for the receiver
    assert app.plugin_state["webhook"].flush(10)
    assert "timed out after 1 s" in warnings[0].getMessage()


def test_a_full_queue_drops_and_logs_but_never_blocks(receiver, warnings):
    receiver.answers = ["hang"]
    sender = wh.Sender([receiver.url + "/hook"], SECRET, timeout=1, retries=0, queue_size=1)
    try:
        started = time.monotonic()
        queued = [sender.send({"event": "token_issued", "n": n}) for n in range(3)]
        assert time.monotonic() - started < 0.5
        assert queued[0] == 1 and sum(queued) <= 2  # one being sent (or waiting), one waiting, the rest dropped
        assert any("queue full" in r.getMessage() for r in warnings)
    finally:
        receiver.released.set()
        assert sender.flush(10)
        sender.close()


# -- end to end: a real token through the protocol ------------------------------------------------

def test_issuing_a_token_sends_its_details(app, receiver):
    web, code, verifier = authorization_code(app)
    token = redeem(web, code, verifier).json
    assert app.plugin_state["webhook"].flush(10)
    body, = receiver.bodies()
    assert body["event"] == "token_issued" and body["me"] == ME == token["me"]
    assert body["client_id"] == CLIENT and body["scope"] == token["scope"] == "profile create"
    assert body["grant_type"] == "authorization_code" and body["jti"]
    assert body["message"] == f"{ME} has issued an access token to {CLIENT}"
    assert verify(SECRET, receiver.requests[0].body, receiver.requests[0].headers["X-IndieAuth-Signature"])


def test_a_hanging_receiver_does_not_delay_issuance(make_app, receiver, warnings):
    receiver.answers, receiver.hang_seconds = ["hang"], 5
    app = make_app(timeout="2s", retries=0)
    web, code, verifier = authorization_code(app)
    started = time.monotonic()
    response = redeem(web, code, verifier)
    elapsed = time.monotonic() - started
    assert elapsed < 1, f"POST /token took {elapsed:.2f}s while the receiver hangs for 5s"
    assert response.status_code == 200 and response.json["access_token"]
    assert app.plugin_state["webhook"].flush(10)
    assert len(receiver.requests) == 1 and "timed out after 2 s" in warnings[0].getMessage()


def test_a_failing_receiver_does_not_undo_issuance(make_app, receiver, warnings):
    receiver.answers = ["500"] * 10
    app = make_app(retries=1)
    web, code, verifier = authorization_code(app)
    token = redeem(web, code, verifier).json
    assert app.plugin_state["webhook"].flush(10) and "HTTP 500" in warnings[0].getMessage()
    active = web.post("/introspect", {"token": token["access_token"]},
                      headers={"Authorization": "Bearer " + app.storage.add_resource_server("rs")}).json
    assert active["active"] is True


def test_a_failed_password_sign_in_is_sent_when_selected(make_app, receiver):
    app = make_app(events=["login_failed"])
    set_password(app, app.storage.create_user("ann", ME, role="owner"), PASSWORD)
    web = webtest.TestApp(app, extra_environ={"REMOTE_ADDR": "192.0.2.10"})
    form = web.get("/login").forms["password-login"]
    form["username"], form["password"] = "ann", "not the password"
    form.submit(status=400)
    assert app.plugin_state["webhook"].flush(10)
    body, = receiver.bodies()
    assert (body["event"], body["username"], body["method"], body["address"]) == \
        ("login_failed", "ann", "password", "192.0.2.10")


# -- configuration --------------------------------------------------------------------------------

def test_defaults(app):
    assert app.plugin_state["webhook"].events == {"token_issued"}
    assert app.plugin_state["webhook"].retries == 3 and app.plugin_state["webhook"].secret == SECRET
    table = {"urls": ["https://hooks.example/"], "secret": SECRET}
    other = indieauth.make_test_app({"plugins": {"webhook": table}})
    try:
        assert other.plugin_state["webhook"].timeout == 5 and other.plugin_state["webhook"].retries == 3
    finally:
        other.plugin_state["webhook"].close()


def test_secret_from_an_environment_variable(make_app, monkeypatch):
    monkeypatch.setenv("WEBHOOK_SECRET_FOR_TESTS", "from the environment")
    assert make_app(secret={"env": "WEBHOOK_SECRET_FOR_TESTS"}).plugin_state["webhook"].secret == "from the environment"


def test_secret_from_a_file_next_to_the_config(make_app, tmp_path):
    (tmp_path / "webhook.key").write_text("from a file\n")
    assert make_app(secret={"file": "webhook.key"}).plugin_state["webhook"].secret == "from a file"


@pytest.mark.parametrize("settings, key, problem", [
    ({"urls": []}, "urls", "at least one"),
    ({"urls": None}, "urls", "at least one"),
    ({"urls": ["ftp://hooks.example/"]}, "urls", "http:// or https://"),
    ({"urls": "https://hooks.example/"}, "urls", "list of strings"),
    ({"secret": None}, "secret", "required"),
    ({"secret": ""}, "secret", "empty"),
    ({"secret": {"env": "NO_SUCH_WEBHOOK_VARIABLE"}}, "secret", "NO_SUCH_WEBHOOK_VARIABLE is not set"),
    ({"secret": {"file": "missing.key"}}, "secret", "cannot read"),
    ({"secret": {"url": "x"}}, "secret", "env"),
    ({"events": ["token_exchanged"]}, "events", "unknown event 'token_exchanged'"),
    ({"events": []}, "events", "at least one"),
    ({"timeout": "soon"}, "timeout", "duration"),
    ({"timeout": 0}, "timeout", "at least 1s"),
    ({"retries": -1}, "retries", "0 to 10"),
    ({"retries": "three"}, "retries", "whole number"),
    ({"url": "https://hooks.example/"}, "unknown key 'url'", "known keys"),
])
def test_config_mistakes_name_the_table_and_the_key(tmp_path, settings, key, problem):
    table = {"urls": ["https://hooks.example/"], "secret": SECRET}
    table.update(settings)
    table = {k: v for k, v in table.items() if v is not None}
    with pytest.raises(indieauth.ConfigError) as error:
        indieauth.make_test_app({"plugins": {"webhook": table}}, folder=str(tmp_path))
    assert f"[plugins.webhook] {key}" in str(error.value) and problem in str(error.value)
