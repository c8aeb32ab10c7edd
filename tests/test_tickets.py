"""Ticketing for IndieAuth (issue 19; spec checklist §3.1, whose items the tests name), both roles.

Sending: our user gives a subject access to a resource; the subject's server (a FakeServer here, two real
instances at the end) receives the ticket and redeems it at our token endpoint.  Receiving: another server
sends one of our users a ticket; we redeem it at its token endpoint (a FakeServer) off the request and keep
the token, sealed.  Everything fetched goes through the guarded client, so each app allows 127.0.0.1."""

import json
import time
import urllib.parse

import jwt
import peewee
import pytest
import requests
import webtest

import indieauth
from indieauth_testing import FakeServer

from conftest import PASSWORD, serving, sign_in

LOCAL = {"security": {"fetch_allow": ["127.0.0.1/32"]}}


@pytest.fixture
def tapp(make_app):
    return make_app(LOCAL)


@pytest.fixture
def alice(tapp):
    from indieauth_password import set_password
    user = tapp.storage.create_user("owner", "https://alice.example/", role="owner")
    set_password(tapp, user, PASSWORD)
    return user


@pytest.fixture
def tweb(tapp, alice):
    web = webtest.TestApp(tapp, extra_environ={"REMOTE_ADDR": "192.0.2.10"})
    sign_in(web)
    return web


@pytest.fixture
def subject_site():
    """Bob's site on another server: his profile page names his authorization server's metadata, whose
    ticket_endpoint records the tickets it is sent."""
    with FakeServer() as site:
        site.route("/", f'<link rel="indieauth-metadata" href="{site.url_for("/metadata")}">')
        site.route("/metadata", {"issuer": site.url_for("/"), "token_endpoint": site.url_for("/token"),
                                 "ticket_endpoint": site.url_for("/ticket")})
        site.route("/ticket", (202, {}, ""), method="POST")
        yield site


def sent_tickets(site):
    return [r.form() for r in site.requests if r.method == "POST" and r.path == "/ticket"]


def send(tapp, user, site, resource="https://alice.example/private/", scope=""):
    return indieauth.send_ticket(tapp, user, site.url_for("/"), resource, scope)


def redeem(web, ticket, status=200, **extra):
    return web.post("/token", {"grant_type": "ticket", "ticket": ticket, **extra}, status=status)


# -- sending: discovery, the ticket sent, redeeming it at our token endpoint (TK8–TK10, TK12) ----------

def test_a_ticket_is_sent_to_the_subjects_ticket_endpoint_with_our_issuer(tapp, alice, subject_site):  # TK10
    ticket = send(tapp, alice, subject_site)
    (posted,) = sent_tickets(subject_site)
    assert posted["subject"] == subject_site.url_for("/") and posted["iss"] == tapp.issuer
    assert posted["resource"] == "https://alice.example/private/" and len(posted["ticket"]) >= 32
    assert ticket.scope == "read" and ticket.endpoint == subject_site.url_for("/ticket")
    assert tapp.storage.find_ticket(posted["ticket"]).id == ticket.id
    assert tapp.storage.events(user=alice)[0].kind == "ticket_sent"


def test_a_rel_ticket_endpoint_link_is_found_without_metadata(tapp, alice):
    with FakeServer() as site:
        site.route("/", (200, {"Link": f'<{site.url_for("/t")}>; rel="ticket_endpoint"'}, "<p>hi</p>"))
        site.route("/t", (202, {}, ""), method="POST")
        send(tapp, alice, site)
        assert [r.path for r in site.requests if r.method == "POST"] == ["/t"]


def test_a_subject_without_a_ticket_endpoint_is_told_and_nothing_is_stored(tapp, alice):
    with FakeServer() as site:
        site.route("/", "<p>No links here</p>")
        with pytest.raises(indieauth.FetchError, match="publishes no ticket endpoint"):
            send(tapp, alice, site)
    assert tapp.storage.sent_tickets(alice) == []
    assert tapp.storage.events(user=alice)[0].kind == "ticket_not_sent"


def test_a_refused_ticket_is_an_error_and_recorded(tapp, alice, subject_site):
    subject_site.route("/ticket", (400, {}, {"error": "invalid_request"}), method="POST")
    with pytest.raises(indieauth.FetchError, match="refused the ticket"):
        send(tapp, alice, subject_site)
    event = tapp.storage.events(user=alice)[0]
    assert event.kind == "ticket_not_sent" and "HTTP 400" in json.loads(event.data)["reason"]


def test_the_redeemed_token_is_the_subjects_for_the_resource(tapp, alice, subject_site, tweb):  # TK8, TK9, TK11
    send(tapp, alice, subject_site, scope="read follow")
    body = redeem(tweb, sent_tickets(subject_site)[0]["ticket"]).json
    assert body["me"] == subject_site.url_for("/") and body["scope"] == "read follow"
    assert body["token_type"] == "Bearer" and "refresh_token" not in body
    assert body["expires_in"] == tapp.config["tokens"]["ticket_token_lifetime"] == 30 * 86400
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == subject_site.url_for("/") and claims["aud"] == "https://alice.example/private/"
    # verification and introspection say whom it is for and what it gives access to
    verified = tweb.get("/token", headers={"Authorization": "Bearer " + body["access_token"]}).json
    assert verified == {"me": subject_site.url_for("/"), "client_id": subject_site.url_for("/ticket"),
                        "scope": "read follow", "resource": "https://alice.example/private/",
                        "aud": "https://alice.example/private/"}
    secret = tapp.storage.add_resource_server("feed")
    found = tweb.post("/introspect", {"token": body["access_token"]},
                      headers={"Authorization": "Bearer " + secret}).json
    assert found["active"] and found["me"] == subject_site.url_for("/")
    assert found["resource"] == found["aud"] == "https://alice.example/private/"
    # the token page shows it among the owner's tokens, with its resource
    page = tweb.get("/tokens")
    assert "https://alice.example/private/" in page.text and subject_site.url_for("/ticket") in page.text
    assert tapp.storage.events(user=alice)[0].kind == "token_issued"


def test_a_ticket_works_once_and_a_replay_revokes_its_token(tapp, alice, subject_site, tweb):  # TK8, TK9
    send(tapp, alice, subject_site)
    raw = sent_tickets(subject_site)[0]["ticket"]
    token = redeem(tweb, raw).json["access_token"]
    assert redeem(tweb, raw, status=400).json["error"] == "invalid_grant"
    assert tweb.get("/token", headers={"Authorization": "Bearer " + token}, status=401).json["error"] == "invalid_token"


def test_an_expired_ticket_is_refused(make_app, clock, alice, subject_site):
    tapp = make_app(LOCAL)
    user = tapp.storage.get_user(username="owner")
    indieauth.send_ticket(tapp, user, subject_site.url_for("/"), "https://alice.example/private/")
    clock.advance(seconds=indieauth.TICKET_LIFETIME)
    web = webtest.TestApp(tapp)
    body = redeem(web, sent_tickets(subject_site)[0]["ticket"], status=400).json
    assert body == {"error": "invalid_grant", "error_description": "The ticket has expired."}


def test_a_ticket_is_not_a_code_and_a_code_is_not_a_ticket(tapp, alice, subject_site, tweb):
    send(tapp, alice, subject_site)
    raw = sent_tickets(subject_site)[0]["ticket"]
    as_code = tweb.post("/token", {"grant_type": "authorization_code", "code": raw, "client_id": "https://app.example/",
                                   "redirect_uri": "https://app.example/cb"}, status=400).json
    assert as_code["error"] == "invalid_grant"
    code = tapp.storage.create_code(60, user=alice, me=alice.me, client_id="https://app.example/",
                                    redirect_uri="https://app.example/cb", scope="read")
    assert redeem(tweb, code, status=400).json["error"] == "invalid_grant"
    assert redeem(tweb, "", status=400).json["error"] == "invalid_request"
    assert redeem(tweb, raw).json["me"] == subject_site.url_for("/")  # neither attempt spent the ticket


def test_a_disabled_senders_ticket_gives_nothing(tapp, alice, subject_site, tweb):
    send(tapp, alice, subject_site)
    tapp.storage.disable_user(alice)
    assert redeem(webtest.TestApp(tapp), sent_tickets(subject_site)[0]["ticket"], status=400).json["error"] == \
        "invalid_grant"


@pytest.mark.parametrize("subject, resource, scope, problem", [
    ("ftp://bob.example/", "https://alice.example/", "", "absolute https URL"),
    ("https://bob.example/", "https://alice.example/#top", "", "fragment"),
    ("https://bob.example/", "alice.example/feed", "", "absolute https URL"),
    ("https://bob.example/", "https://alice.example/", "profile", "not profile or email"),
    ("https://bob.example/", "https://alice.example/", "read email", "not profile or email"),
    ("https://bob.example/?q#x", "https://alice.example/", "", "fragment"),
])
def test_what_the_rules_refuse_is_never_sent(tapp, alice, subject, resource, scope, problem):
    with pytest.raises(indieauth.UsageError, match=problem):
        indieauth.send_ticket(tapp, alice, subject, resource, scope)
    assert tapp.storage.sent_tickets(alice) == []


def test_a_production_server_sends_and_takes_https_urls_only(make_app):
    prod = make_app({"server": {"base_url": "https://auth.example/"}, **LOCAL})
    user = prod.storage.create_user("owner", "https://alice.example/", role="owner")
    with pytest.raises(indieauth.UsageError, match="must be an https URL"):
        indieauth.send_ticket(prod, user, "http://127.0.0.1:9/", "https://alice.example/")
    with pytest.raises(indieauth.UsageError, match="must be an https URL"):
        indieauth.send_ticket(prod, user, "https://bob.example/", "http://alice.example/feed")
    web = webtest.TestApp(prod)
    refused = web.post("/ticket", {"ticket": "x", "subject": "https://alice.example/",
                                   "resource": "http://127.0.0.1:9/feed"}, status=400).json
    assert "must be an https URL" in refused["error_description"]
    refused = web.post("/ticket", {"ticket": "x", "subject": "https://alice.example/", "resource": "https://r.example/",
                                   "iss": "http://127.0.0.1:9/"}, status=400).json
    assert "iss must be an https URL" in refused["error_description"]


# -- receiving: the ticket endpoint and redemption at the sender's token endpoint (TK2–TK7) --------

@pytest.fixture
def sender():
    """Carol's authorization server, which sent a ticket: metadata under its issuer, and a token endpoint
    that gives a token for the ticket "good-ticket" to whatever `me` the test sets."""
    with FakeServer() as server:
        server.me = "https://alice.example/"
        server.route("/.well-known/oauth-authorization-server",
                     lambda request: {"issuer": server.url_for("/"), "token_endpoint": server.url_for("/token")})

        def token(request):
            form = request.form()
            if form.get("grant_type") != "ticket" or form.get("ticket") != "good-ticket":
                return 400, {}, {"error": "invalid_grant"}
            return {"access_token": "carols-token-for-alice", "token_type": "Bearer", "scope": "read",
                    "expires_in": 3600, "me": server.me}
        server.route("/token", token, method="POST")
        yield server


def received(tapp, user, count=1, timeout=5):
    """The user's received tokens once there are `count` (redemption runs off the request)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = tapp.storage.received_tokens(user)
        if len(found) >= count:
            return found
        time.sleep(0.02)
    return tapp.storage.received_tokens(user)


def logged(tapp, kind, timeout=5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [e for e in tapp.storage.events(limit=200) if e.kind == kind]
        if found:
            return [json.loads(e.data) for e in found]
        time.sleep(0.02)
    return []


def post_ticket(web, sender, ticket="good-ticket", status=202, **fields):
    values = {"ticket": ticket, "resource": sender.url_for("/feed"), "subject": "https://alice.example/",
              "iss": sender.url_for("/"), **fields}
    return web.post("/ticket", {k: v for k, v in values.items() if v is not None}, status=status)


class Heard:
    def __init__(self):
        self.events = []

    @indieauth.hookimpl
    def track_event(self, app, event):
        self.events.append(event)


def test_a_ticket_for_our_user_is_accepted_redeemed_and_kept_sealed(make_app, sender):  # TK2, TK4, TK5, TK6, TK7
    heard = Heard()
    tapp = make_app(LOCAL, plugins=[heard])
    alice = tapp.storage.create_user("owner", "https://alice.example/", role="owner")
    assert post_ticket(webtest.TestApp(tapp), sender).status_int == 202
    (token,) = received(tapp, alice)
    assert (token.resource, token.issuer, token.token_endpoint, token.scope) == (
        sender.url_for("/feed"), sender.url_for("/"), sender.url_for("/token"), "read")
    assert token.expires_at is not None
    assert "carols-token-for-alice" not in token.sealed  # encrypted at rest with the server's secret
    assert indieauth.open_received_token(tapp, token)["access_token"] == "carols-token-for-alice"
    with tapp.storage.bound():
        stored = indieauth.ReceivedToken.select().get()
    assert "carols-token" not in stored.sealed
    (redeemed,) = [r.form() for r in sender.requests if r.method == "POST"]
    assert redeemed == {"grant_type": "ticket", "ticket": "good-ticket"}
    deadline = time.monotonic() + 5  # delivered just after the token is stored, on the redeeming thread
    while not any(e.name == "ticket_received" for e in heard.events) and time.monotonic() < deadline:
        time.sleep(0.02)
    event = next(e for e in heard.events if e.name == "ticket_received")
    assert event.user.username == "owner" and event.resource == sender.url_for("/feed")


def test_another_secret_key_cannot_open_a_received_token(make_app, tmp_path, sender):
    tapp = make_app(LOCAL)
    alice = tapp.storage.create_user("owner", "https://alice.example/", role="owner")
    post_ticket(webtest.TestApp(tapp), sender)
    (token,) = received(tapp, alice)
    tapp.secret_key = "another secret key of forty characters!!"
    assert indieauth.open_received_token(tapp, token) is None


def test_without_iss_the_token_endpoint_is_discovered_from_the_resource(make_app, sender):  # TK5
    tapp = make_app(LOCAL)
    alice = tapp.storage.create_user("owner", "https://alice.example/", role="owner")
    sender.route("/feed", (200, {"Link": f'<{sender.url_for("/.well-known/oauth-authorization-server")}>; '
                                         f'rel="indieauth-metadata"'}, "<h1>Private</h1>"))
    post_ticket(webtest.TestApp(tapp), sender, iss=None)
    (token,) = received(tapp, alice)
    assert token.token_endpoint == sender.url_for("/token") and token.issuer == sender.url_for("/")


def test_an_unknown_subject_gets_400_and_is_recorded(tapp, alice, sender):  # TK3
    body = post_ticket(webtest.TestApp(tapp), sender, subject="https://nobody.example/", status=400).json
    assert body["error"] == "invalid_request" and "not a user of this server" in body["error_description"]
    assert logged(tapp, "ticket_refused")[0]["subject"] == "https://nobody.example/"
    assert not any(r.method == "POST" for r in sender.requests)


def test_guessing_subjects_is_throttled(tapp, alice, sender):
    web = webtest.TestApp(tapp, extra_environ={"REMOTE_ADDR": "198.51.100.7"})
    answers = [post_ticket(web, sender, subject=f"https://n{i}.example/", status="*").status_int for i in range(30)]
    assert answers[0] == 400 and answers[-1] == 429
    assert post_ticket(web, sender, status="*").status_int == 429  # even a real subject, from that address


@pytest.mark.parametrize("missing", ["ticket", "resource", "subject"])
def test_a_missing_parameter_is_400(tapp, alice, sender, missing):  # TK2
    body = post_ticket(webtest.TestApp(tapp), sender, status=400, **{missing: None}).json
    assert body == {"error": "invalid_request", "error_description": f"The {missing} parameter is missing."}


def test_a_bad_ticket_is_recorded_and_nothing_is_kept(tapp, alice, sender):
    assert post_ticket(webtest.TestApp(tapp), sender, ticket="forged").status_int == 202
    (failure,) = logged(tapp, "ticket_failed")
    assert "refused the ticket" in failure["reason"] and "invalid_grant" in failure["reason"]
    assert tapp.storage.received_tokens(alice) == []


def test_a_token_for_someone_else_is_not_kept(tapp, alice, sender):  # TK7
    sender.me = "https://mallory.example/"
    post_ticket(webtest.TestApp(tapp), sender)
    assert "not for https://alice.example/" in logged(tapp, "ticket_failed")[0]["reason"]
    assert tapp.storage.received_tokens(alice) == []


def test_an_unreachable_issuer_is_recorded(tapp, alice, sender):
    post_ticket(webtest.TestApp(tapp), sender, iss="http://127.0.0.1:9/")
    assert "cannot be read" in logged(tapp, "ticket_failed")[0]["reason"]
    assert tapp.storage.received_tokens(alice) == []


def test_metadata_naming_another_issuer_is_refused(tapp, alice, sender):
    sender.route("/.well-known/oauth-authorization-server",
                 {"issuer": "https://evil.example/", "token_endpoint": sender.url_for("/token")})
    post_ticket(webtest.TestApp(tapp), sender)
    assert "names another issuer" in logged(tapp, "ticket_failed")[0]["reason"]
    assert not any(r.method == "POST" for r in sender.requests)


def test_a_private_address_is_not_fetched_without_fetch_allow(make_app, sender):
    tapp = make_app()
    alice = tapp.storage.create_user("owner", "https://alice.example/", role="owner")
    post_ticket(webtest.TestApp(tapp), sender)
    assert "loopback" in logged(tapp, "ticket_failed")[0]["reason"]
    assert sender.requests == [] and tapp.storage.received_tokens(alice) == []


def test_one_address_may_send_only_so_many_tickets_for_real_users(make_app, sender):
    tapp = make_app(LOCAL)
    alice = tapp.storage.create_user("owner", "https://alice.example/", role="owner")
    web = webtest.TestApp(tapp, extra_environ={"REMOTE_ADDR": "198.51.100.9"})
    for i in range(indieauth.TICKET_REQUESTS):
        post_ticket(web, sender, ticket=f"t{i}")
    refused = post_ticket(web, sender, ticket="one-more", status=429)
    assert refused.json["error"] == "slow_down" and "Too many tickets" in refused.json["error_description"]
    other = webtest.TestApp(tapp, extra_environ={"REMOTE_ADDR": "198.51.100.10"})
    assert post_ticket(other, sender).status_int == 202  # another sender is not held up
    received(tapp, alice)


def test_a_flood_of_tickets_fills_a_queue_of_its_own_then_is_refused(tapp, alice, sender):
    sender.route("/.well-known/oauth-authorization-server", lambda request: sender.hang(10) or (503, {}, ""))
    queued = indieauth.TICKET_REDEEMERS + indieauth.TICKET_QUEUE
    answers = [post_ticket(webtest.TestApp(tapp, extra_environ={"REMOTE_ADDR": f"198.51.100.{i}"}), sender,
                           ticket=f"t{i}", status="*") for i in range(queued + 3)]  # from many addresses
    assert [a.status_int for a in answers[:indieauth.TICKET_REDEEMERS]] == [202] * indieauth.TICKET_REDEEMERS
    assert answers[-1].status_int == 503 and answers[-1].json["error"] == "temporarily_unavailable"
    assert not tapp.fetchers.running  # the sign-in flow's pool has nothing of it


def test_under_cgi_the_ticket_is_redeemed_before_the_answer(tapp, alice, sender, monkeypatch):  # TK4
    monkeypatch.setenv("GATEWAY_INTERFACE", "CGI/1.1")  # the process ends with the answer: no thread may be left
    post_ticket(webtest.TestApp(tapp), sender)
    assert len(tapp.storage.received_tokens(alice)) == 1


# -- two real instances: A's owner sends, B's user receives and redeems, then verifies at A ----------

def test_between_two_real_servers(tmp_path):
    folders = [tmp_path / "a", tmp_path / "b"]
    for folder in folders:
        folder.mkdir()
    with FakeServer() as bobs_site:
        apps = []
        for folder in folders:
            port = indieauth.testing.free_port()
            apps.append((port, indieauth.make_test_app(
                {"server": {"base_url": f"http://127.0.0.1:{port}/"}, **LOCAL}, folder=str(folder))))
        (port_a, a), (port_b, b) = apps
        # Bob's site names B as his authorization server
        bobs_site.route("/", f'<link rel="indieauth-metadata" href="http://127.0.0.1:{port_b}/.well-known/'
                             f'oauth-authorization-server">')
        bob_me = bobs_site.url_for("/")
        alice = a.storage.create_user("alice", f"http://127.0.0.1:{port_a}/", role="owner")
        bob = b.storage.create_user("bob", bob_me, role="owner")
        with serving(a, port=port_a), serving(b, port=port_b):
            indieauth.send_ticket(a, alice, bob_me, f"http://127.0.0.1:{port_a}/private/feed", "read")
            (token,) = received(b, bob)
            assert token.issuer == a.issuer and token.resource == f"http://127.0.0.1:{port_a}/private/feed"
            raw = indieauth.open_received_token(b, token)["access_token"]
            verified = requests.get(f"http://127.0.0.1:{port_a}/token", headers={"Authorization": f"Bearer {raw}"},
                                    timeout=5).json()
            assert verified["me"] == bob_me and verified["scope"] == "read"
            assert verified["resource"] == f"http://127.0.0.1:{port_a}/private/feed"
        for app in (a, b):
            app.close()


# -- the command line: `indieauth ticket send` and `ticket list` ---------------------------------------

def cli(folder, *args):
    import os
    import subprocess
    import sys
    env = {k: v for k, v in os.environ.items() if k not in ("INDIEAUTH_CONFIG", "GATEWAY_INTERFACE")}
    return subprocess.run([sys.executable, "-m", "indieauth", "--config", str(folder / "indieauth.toml"), *args],
                          cwd=folder, capture_output=True, text=True, env=env, timeout=60)


def test_the_command_line_sends_a_ticket_and_lists_it(tmp_path, subject_site):
    assert cli(tmp_path, "init", "--me", "https://alice.example/", "--base-url", "http://127.0.0.1:8080/").returncode == 0
    config = tmp_path / "indieauth.toml"
    config.write_text(config.read_text().replace("[tokens]", '[security]\nfetch_allow = ["127.0.0.1/32"]\n\n[tokens]'))
    sent = cli(tmp_path, "ticket", "send", "--subject", subject_site.url_for("/"), "--resource",
               "https://alice.example/private/", "--scope", "read follow")
    assert sent.returncode == 0, sent.stderr
    assert f"sent a ticket to {subject_site.url_for('/')}" in sent.stdout
    (posted,) = sent_tickets(subject_site)
    assert posted["iss"] == "http://127.0.0.1:8080/" and posted["resource"] == "https://alice.example/private/"
    listed = json.loads(cli(tmp_path, "ticket", "list", "--json").stdout)
    assert [(t["subject"], t["scope"], t["redeemed"]) for t in listed["sent"]] == [
        (subject_site.url_for("/"), "read follow", None)]
    assert listed["received"] == []
    assert posted["ticket"] not in cli(tmp_path, "ticket", "list").stdout  # never the ticket itself


def test_the_command_line_says_why_a_ticket_was_not_sent(tmp_path):
    assert cli(tmp_path, "init", "--me", "https://alice.example/", "--base-url", "http://127.0.0.1:8080/").returncode == 0
    refused = cli(tmp_path, "ticket", "send", "--subject", "http://127.0.0.1:9/", "--resource", "https://a.example/")
    assert refused.returncode == 1 and "the ticket was not sent" in refused.stderr and "Traceback" not in refused.stderr
    bad = cli(tmp_path, "ticket", "send", "--subject", "https://bob.example/", "--resource", "https://a.example/#x")
    assert bad.returncode == 2 and "fragment" in bad.stderr


# -- the Tickets page ----------------------------------------------------------------------------------

def test_the_page_sends_a_ticket_and_shows_it_sent(tapp, tweb, subject_site):
    page = tweb.get("/tickets")
    assert page.html.find("a", href="/tickets") is not None  # in the navigation
    form = page.forms["send-ticket"]
    assert form["scope"].value == "read"
    form["subject"], form["resource"] = subject_site.url_for("/"), "https://alice.example/private/"
    done = form.submit(status=303).follow()
    assert "The ticket is sent" in done.text and "waiting to be redeemed" in done.text
    redeem(tweb, sent_tickets(subject_site)[0]["ticket"])
    assert "token in use until" in tweb.get("/tickets").text


def test_a_ticket_that_cannot_be_sent_is_explained_and_the_form_kept(tweb):
    form = tweb.get("/tickets").forms["send-ticket"]
    form["subject"], form["resource"] = "https://bob.example/", "https://alice.example/#private"
    page = form.submit(status=400)
    assert "must not contain a fragment" in page.html.find(id="ticket-error").text
    assert page.forms["send-ticket"]["resource"].value == "https://alice.example/#private"


def test_revoking_a_sent_ticket_ends_its_token_and_the_ticket(tapp, alice, tweb, subject_site):
    send(tapp, alice, subject_site)
    send(tapp, alice, subject_site, resource="https://alice.example/other/")
    first, second = (t["ticket"] for t in sent_tickets(subject_site))
    token = redeem(tweb, first).json["access_token"]
    page = tweb.get("/tickets")
    forms = [f for f in page.forms.values() if f.action == "/tickets/revoke"]
    assert len(forms) == 2
    for form in forms:
        form.submit(status=303)
    tweb.get("/token", headers={"Authorization": "Bearer " + token}, status=401)
    assert redeem(tweb, second, status=400).json["error"] == "invalid_grant"  # revoked before it was redeemed
    assert tapp.storage.events(user=alice)[0].kind == "token_revoked" or any(
        e.kind == "token_revoked" for e in tapp.storage.events(user=alice))


def keep_received(tapp, user, resource="https://carol.example/feed", token="carols-token"):
    sealed = indieauth.received_token_cipher(tapp).encrypt(json.dumps({"access_token": token}).encode()).decode()
    return tapp.storage.keep_received_token(user, resource, "https://carol.example/", "https://carol.example/token",
                                            "read", sealed)


def test_a_received_token_is_shown_when_asked_and_deleted(tapp, alice, tweb):
    keep_received(tapp, alice)
    page = tweb.get("/tickets")
    assert "https://carol.example/feed" in page.text and "carols-token" not in page.text
    form = next(f for f in page.forms.values() if f.action == "/tickets/received")
    shown = form.submit("action", value="show")
    assert shown.html.find("textarea", id="token").text == "carols-token"
    assert shown.headers["Cache-Control"] == "no-store"
    form.submit("action", value="delete", status=303)
    assert tapp.storage.received_tokens(alice) == []


def test_a_received_token_sealed_under_another_secret_says_so(tapp, alice, tweb):
    from cryptography.fernet import Fernet
    row = tapp.storage.keep_received_token(alice, "https://carol.example/feed", "https://carol.example/",
                                           "https://carol.example/token", "read",
                                           Fernet(Fernet.generate_key()).encrypt(b'{"access_token": "x"}').decode())
    form = next(f for f in tweb.get("/tickets").forms.values() if f.action == "/tickets/received")
    page = form.submit("action", value="show", status=400)
    assert "secret key changed" in page.text
    assert tapp.storage.received_tokens(alice)[0].id == row.id  # nothing lost: it can still be deleted


def test_another_users_tickets_and_tokens_are_out_of_reach(tapp, alice, tweb, subject_site):
    bob = tapp.storage.create_user("bob", "https://bob.example/")
    row = keep_received(tapp, bob)
    ticket = indieauth.send_ticket(tapp, bob, subject_site.url_for("/"), "https://bob.example/private/")
    csrf = tweb.get("/tickets").forms["send-ticket"]["csrf_token"].value
    tweb.post("/tickets/received", {"csrf_token": csrf, "id": row.id, "action": "show"}, status=400)
    tweb.post("/tickets/received", {"csrf_token": csrf, "id": row.id, "action": "delete"}, status=400)
    tweb.post("/tickets/revoke", {"csrf_token": csrf, "id": ticket.id}, status=400)
    assert len(tapp.storage.received_tokens(bob)) == 1 and tapp.storage.find_ticket(
        sent_tickets(subject_site)[0]["ticket"]).used_at is None


@pytest.mark.parametrize("path", ["/tickets/send", "/tickets/received", "/tickets/revoke"])
def test_the_forms_refuse_a_post_without_the_csrf_token(tapp, alice, tweb, path):
    row = keep_received(tapp, alice)
    tweb.post(path, {"id": row.id, "action": "delete", "subject": "https://bob.example/",
                     "resource": "https://alice.example/"}, status=403)
    assert len(tapp.storage.received_tokens(alice)) == 1


def test_the_page_needs_a_signed_in_person(tapp):
    assert webtest.TestApp(tapp).get("/tickets", status=303).location.startswith("http://localhost/login")


def test_discovery_answers_only_the_rels_asked_for_whatever_else_the_page_links(tapp):
    with FakeServer() as site:
        site.route("/", (200, {"Link": f'<{site.url_for("/t")}>; rel="ticket_endpoint"'},
                         f'<a rel="me" href="https://github.com/alice">me</a>'
                         f'<link rel="indieauth-metadata" href="{site.url_for("/m")}">'
                         f'<link rel="token_endpoint" href="{site.url_for("/token")}">'))
        assert indieauth.profile_discovery(tapp.http, site.url_for("/")) == {
            "indieauth-metadata": site.url_for("/m"), "token_endpoint": site.url_for("/token")}
        assert indieauth.profile_discovery(tapp.http, site.url_for("/"), ("ticket_endpoint", "me")) == {
            "ticket_endpoint": site.url_for("/t"), "me": "https://github.com/alice"}
