"""Resource indicators (RFC 8707) and audience-bound tokens (RFC 9068 §3), issue 20: a token asked for one of
the person's resource servers (an MCP server, a Micropub endpoint) is for that server only."""

import urllib.parse

import jwt
import pytest
import webtest

import indieauth
from indieauth_testing import CLIENT_ID, REDIRECT_URI, pkce_pair

from conftest import sign_in

NOTES = "https://notes.example.com/mcp"
MICROPUB = "https://owner.example/micropub"


@pytest.fixture
def signed_in(app, owner):
    web = webtest.TestApp(app, extra_environ={"REMOTE_ADDR": "192.0.2.10"})
    sign_in(web)
    return web


def authorize(web, resources=(), scope="create", state="s1", status=303):
    """GET /auth with these resources; (the answer, the PKCE verifier)."""
    verifier, challenge = pkce_pair()
    query = [("response_type", "code"), ("client_id", CLIENT_ID), ("redirect_uri", REDIRECT_URI), ("state", state),
             ("code_challenge", challenge), ("code_challenge_method", "S256"), ("scope", scope)]
    query += [("resource", r) for r in resources]
    return web.get("/auth?" + urllib.parse.urlencode(query), status=status), verifier


def approve(web, answer, remember=False):
    form = web.get(urllib.parse.urlsplit(answer.headers["Location"]).path).forms["consent"]
    if remember:
        form["remember"] = True
    return code_of(form.submit("action", value="approve", status=303))


def code_of(answer):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(answer.headers["Location"]).query))["code"]


def exchange(web, code, verifier, resources=(), status=200):
    form = [("grant_type", "authorization_code"), ("code", code), ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT_URI), ("code_verifier", verifier)] + [("resource", r) for r in resources]
    return web.post("/token", urllib.parse.urlencode(form), status=status,
                    content_type="application/x-www-form-urlencoded").json


def tokens_for(web, resources=(), asked=()):
    answer, verifier = authorize(web, resources)
    return exchange(web, approve(web, answer), verifier, asked)


def aud(token):
    return jwt.decode(token, options={"verify_signature": False})["aud"]


def introspect(web, token, secret):
    return web.post("/introspect", {"token": token}, headers={"Authorization": "Bearer " + secret}).json


# -- the audience -----------------------------------------------------------------------------------

def test_a_token_asked_for_a_resource_is_for_that_resource(app, signed_in):
    body = tokens_for(signed_in, [NOTES])
    assert aud(body["access_token"]) == NOTES and body["me"] == "https://owner.example/"
    secret = app.storage.add_resource_server("notes")
    assert introspect(signed_in, body["access_token"], secret)["aud"] == NOTES
    verified = signed_in.get("/token", headers={"Authorization": "Bearer " + body["access_token"]}).json
    assert verified["aud"] == NOTES and verified["me"] == "https://owner.example/"


def test_without_a_resource_the_audience_stays_me(app, signed_in):
    body = tokens_for(signed_in)
    assert aud(body["access_token"]) == "https://owner.example/"
    assert introspect(signed_in, body["access_token"], app.storage.add_resource_server("any"))["aud"] == \
        "https://owner.example/"


def test_several_resources_give_a_list_and_the_token_request_may_pick_one(signed_in):
    answer, verifier = authorize(signed_in, [NOTES, MICROPUB])
    code = approve(signed_in, answer)
    assert aud(exchange(signed_in, code, verifier, [MICROPUB])["access_token"]) == MICROPUB
    both = tokens_for(signed_in, [NOTES, MICROPUB])
    assert aud(both["access_token"]) == [NOTES, MICROPUB]


def test_a_token_request_for_another_resource_is_invalid_target_and_spends_nothing(signed_in):
    answer, verifier = authorize(signed_in, [NOTES])
    code = approve(signed_in, answer)
    refused = exchange(signed_in, code, verifier, ["https://evil.example/mcp"], status=400)
    assert refused["error"] == "invalid_target"
    assert aud(exchange(signed_in, code, verifier)["access_token"]) == NOTES  # the code still works, once


def test_a_token_request_naming_a_resource_for_a_code_without_one_is_invalid_target(signed_in):
    answer, verifier = authorize(signed_in)
    assert exchange(signed_in, approve(signed_in, answer), verifier, [NOTES], status=400)["error"] == \
        "invalid_target"


@pytest.mark.parametrize("resource", ["https://notes.example.com/mcp#frag", "/relative/path", "notes.example.com",
                                      "https://notes example.com/", "x" * 600])
def test_a_resource_that_is_not_an_absolute_uri_without_fragment_is_redirected_as_invalid_target(signed_in,
                                                                                                 resource):
    answer, _ = authorize(signed_in, [resource], status=302)
    location = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(answer.headers["Location"]).query))
    assert location["error"] == "invalid_target" and location["state"] == "s1"


def test_par_answers_invalid_target_as_json(signed_in):
    verifier, challenge = pkce_pair()
    refused = signed_in.post("/par", urllib.parse.urlencode([
        ("response_type", "code"), ("client_id", CLIENT_ID), ("redirect_uri", REDIRECT_URI), ("state", "s"),
        ("code_challenge", challenge), ("code_challenge_method", "S256"), ("resource", "#nope")]),
        content_type="application/x-www-form-urlencoded", status=400).json
    assert refused["error"] == "invalid_target"


def test_a_pushed_request_carries_its_resources_to_the_token(signed_in):
    verifier, challenge = pkce_pair()
    pushed = signed_in.post("/par", urllib.parse.urlencode([
        ("response_type", "code"), ("client_id", CLIENT_ID), ("redirect_uri", REDIRECT_URI), ("state", "s"),
        ("code_challenge", challenge), ("code_challenge_method", "S256"), ("scope", "create"),
        ("resource", NOTES)]), content_type="application/x-www-form-urlencoded", status=201).json
    answer = signed_in.get("/auth?" + urllib.parse.urlencode({"client_id": CLIENT_ID,
                                                               "request_uri": pushed["request_uri"]}), status=303)
    assert aud(exchange(signed_in, approve(signed_in, answer), verifier)["access_token"]) == NOTES


# -- refresh --------------------------------------------------------------------------------------------

def refresh(web, token, resources=(), status=200):
    form = [("grant_type", "refresh_token"), ("refresh_token", token), ("client_id", CLIENT_ID)]
    return web.post("/token", urllib.parse.urlencode(form + [("resource", r) for r in resources]), status=status,
                    content_type="application/x-www-form-urlencoded").json


def test_refresh_keeps_the_audience_and_may_narrow_it_to_a_granted_resource(signed_in):
    first = tokens_for(signed_in, [NOTES, MICROPUB])
    again = refresh(signed_in, first["refresh_token"])
    assert aud(again["access_token"]) == [NOTES, MICROPUB]
    narrowed = refresh(signed_in, again["refresh_token"], [NOTES])
    assert aud(narrowed["access_token"]) == NOTES
    wider = refresh(signed_in, narrowed["refresh_token"])  # the grant is kept whole by the refresh token
    assert aud(wider["access_token"]) == [NOTES, MICROPUB]
    assert refresh(signed_in, wider["refresh_token"], ["https://evil.example/"], status=400)["error"] == \
        "invalid_target"


def test_refresh_of_a_token_for_me_stays_for_me_and_cannot_gain_a_resource(signed_in):
    first = tokens_for(signed_in)
    assert aud(refresh(signed_in, first["refresh_token"])["access_token"]) == "https://owner.example/"
    assert refresh(signed_in, first["refresh_token"], [NOTES], status=400)["error"] in ("invalid_target",
                                                                                       "invalid_grant")


# -- a resource server's credential bound to its resources ---------------------------------------------

def test_a_token_for_server_a_introspects_as_inactive_for_server_b(app, signed_in):
    notes = app.storage.add_resource_server("notes", NOTES)
    micropub = app.storage.add_resource_server("micropub", MICROPUB)
    anyone = app.storage.add_resource_server("old-style")
    for_notes = tokens_for(signed_in, [NOTES])["access_token"]
    for_me = tokens_for(signed_in)["access_token"]
    assert introspect(signed_in, for_notes, notes)["active"] is True
    assert introspect(signed_in, for_notes, micropub) == {"active": False}
    assert introspect(signed_in, for_me, notes) == {"active": False}  # a token for no resource is not notes'
    assert introspect(signed_in, for_notes, anyone)["active"] is True  # an unbound credential sees every token


def test_the_command_line_binds_a_credential_to_resources(tmp_path):
    import os
    import subprocess
    import sys
    env = {k: v for k, v in os.environ.items() if k not in ("INDIEAUTH_CONFIG", "GATEWAY_INTERFACE")}

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "indieauth", "--config", str(tmp_path / "indieauth.toml"), *args],
                              cwd=tmp_path, capture_output=True, text=True, env=env, timeout=60)
    assert cli("init", "--me", "https://owner.example/", "--base-url", "http://127.0.0.1:8080/").returncode == 0
    added = cli("resource-server", "add", "notes", "--resource", NOTES, "--resource", MICROPUB)
    assert added.returncode == 0 and len(added.stdout.strip()) >= 32
    assert f"{NOTES} {MICROPUB}" in cli("resource-server", "list").stdout
    refused = cli("resource-server", "add", "bad", "--resource", "https://x.example/#frag")
    assert refused.returncode == 2 and "not an absolute URI without a fragment" in refused.stderr


# -- consent and remembered approvals ----------------------------------------------------------------

def test_consent_names_the_resource(signed_in):
    answer, _ = authorize(signed_in, [NOTES])
    page = signed_in.get(urllib.parse.urlsplit(answer.headers["Location"]).path)
    assert page.html.find(id="resources").find("code").text == "notes.example.com/mcp"


def test_a_remembered_approval_for_one_server_never_covers_another(signed_in):
    answer, verifier = authorize(signed_in, [NOTES])
    approve(signed_in, answer, remember=True)
    again, _ = authorize(signed_in, [NOTES])
    assert "code=" in again.follow(status=303).headers["Location"]  # remembered: straight back with a code
    other, _ = authorize(signed_in, [MICROPUB])
    assert other.follow(status=200).forms["consent"]  # another server: asked again
    for_me, _ = authorize(signed_in)
    assert for_me.follow(status=200).forms["consent"]  # and a token for no resource too


# -- metadata -----------------------------------------------------------------------------------------

def test_metadata_says_client_id_metadata_documents_are_supported(signed_in):
    assert signed_in.get("/.well-known/oauth-authorization-server").json["client_id_metadata_document_supported"] \
        is True


def test_the_metadata_is_also_at_the_rfc_8414_location_for_an_issuer_with_a_path(make_app):
    web = webtest.TestApp(make_app({"server": {"base_url": "http://localhost/indieauth/"}}))
    at_path = web.get("/.well-known/oauth-authorization-server/indieauth/").json
    assert at_path["issuer"] == "http://localhost/indieauth/"
    assert web.get("/.well-known/oauth-authorization-server/indieauth").json == at_path
    web.get("/.well-known/oauth-authorization-server/other", status=404)
    root = webtest.TestApp(make_app())
    root.get("/.well-known/oauth-authorization-server/anything", status=404)
