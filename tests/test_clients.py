"""Pre-registered (confidential) clients: a secret stored as a hash, required at the token endpoint, PKCE always."""

import base64
import json
import urllib.parse

import pytest
import webtest

import indieauth
from conftest import sign_in
from test_protocol import pkce_pair, query_of

REDIRECT = "https://registered.example/cb"


@pytest.fixture
def registered(app):
    client_id = app.url("clients/abc/")
    secret = app.storage.create_client(client_id, "Registered App", [REDIRECT])
    return client_id, secret


@pytest.fixture
def signed_in(web, owner):
    sign_in(web)
    return web


def get_code(web, client_id, challenge=None, status=303):
    return get_code_for(web, client_id, "Registered App", challenge, status)


def get_code_for(web, client_id, name, challenge=None, status=303):
    verifier, made = pkce_pair()
    query = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT, "state": "s",
             "scope": "profile create", "code_challenge": challenge or made, "code_challenge_method": "S256"}
    page = web.get("/auth?" + urllib.parse.urlencode(query), status=status).follow()
    assert name in page.text and "published no information" not in page.text
    location = page.forms["consent"].submit("action", value="approve").headers["Location"]
    return query_of(location)["code"], verifier


def redeem(web, client_id, code, verifier, status=200, headers=None, **extra):
    form = {"grant_type": "authorization_code", "code": code, "client_id": client_id, "redirect_uri": REDIRECT,
            "code_verifier": verifier, **extra}
    return web.post("/token", form, headers=headers or {}, status=status)


def basic(client_id, secret):
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def test_the_secret_is_stored_only_as_a_hash(app, registered):
    client_id, secret = registered
    with app.storage.bound(), app.storage.database.connection_context():
        row = indieauth.Client.get()
    assert row.secret_hash == indieauth.token_hash(secret) and secret not in row.secret_hash


def test_without_its_secret_a_registered_client_gets_invalid_client_401(signed_in, registered):
    client_id, _ = registered
    code, verifier = get_code(signed_in, client_id)
    response = redeem(signed_in, client_id, code, verifier, status=401)
    assert response.json["error"] == "invalid_client" and "WWW-Authenticate" in response.headers


def test_a_wrong_secret_is_refused(signed_in, registered):
    client_id, _ = registered
    code, verifier = get_code(signed_in, client_id)
    redeem(signed_in, client_id, code, verifier, status=401, headers=basic(client_id, "wrong"))


def test_client_secret_basic(signed_in, registered):
    client_id, secret = registered
    code, verifier = get_code(signed_in, client_id)
    assert redeem(signed_in, client_id, code, verifier, headers=basic(client_id, secret)).json["me"]


def test_client_secret_post(signed_in, registered):
    client_id, secret = registered
    code, verifier = get_code(signed_in, client_id)
    assert redeem(signed_in, client_id, code, verifier, client_secret=secret).json["me"]


def test_refresh_needs_the_secret_too(signed_in, registered):
    client_id, secret = registered
    code, verifier = get_code(signed_in, client_id)
    body = redeem(signed_in, client_id, code, verifier, client_secret=secret).json
    signed_in.post("/token", {"grant_type": "refresh_token", "refresh_token": body["refresh_token"],
                              "client_id": client_id}, status=401)
    signed_in.post("/token", {"grant_type": "refresh_token", "refresh_token": body["refresh_token"],
                              "client_id": client_id, "client_secret": secret})


def test_pkce_is_required_even_when_the_server_allows_requests_without(make_app, owner):
    app = make_app({"security": {"require_pkce": False}})
    client_id = app.url("clients/abc/")
    app.storage.create_client(client_id, "Registered App", [REDIRECT])
    web = webtest.TestApp(app)
    sign_in(web)
    query = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT, "state": "s"}
    location = web.get("/auth?" + urllib.parse.urlencode(query), status=302).headers["Location"]
    assert query_of(location)["error"] == "invalid_request"


def test_only_registered_redirect_uris(signed_in, registered):
    client_id, _ = registered
    query = {"response_type": "code", "client_id": client_id, "redirect_uri": "https://registered.example/other",
             "state": "s", "code_challenge": pkce_pair()[1], "code_challenge_method": "S256"}
    signed_in.get("/auth?" + urllib.parse.urlencode(query), status=400)


def test_rotating_the_secret_refuses_the_old_one(signed_in, app, registered):
    client_id, old = registered
    new = app.storage.rotate_client_secret(client_id)
    code, verifier = get_code(signed_in, client_id)
    redeem(signed_in, client_id, code, verifier, status=401, client_secret=old)
    code, verifier = get_code(signed_in, client_id)
    redeem(signed_in, client_id, code, verifier, client_secret=new)


def test_admin_registers_an_app_and_sees_the_secret_once(signed_in, app):
    form = signed_in.get("/admin/clients").forms["new-client"]
    form["name"], form["redirect_uris"] = "Quill", "https://quill.example/cb\nhttps://quill.example/cb2"
    page = form.submit("action", value="create")
    secret = page.html.select_one("textarea").text.strip()
    client = app.storage.list_clients()[0]
    assert client.name == "Quill" and client.client_id.startswith("http://localhost/clients/")
    assert secret not in signed_in.get("/admin/clients").text  # never shown again
    assert indieauth.token_hash(secret) == client.secret_hash


def test_admin_registration_refuses_bad_redirect_uris(signed_in):
    form = signed_in.get("/admin/clients").forms["new-client"]
    form["name"], form["redirect_uris"] = "Bad", "javascript:alert(1)"
    assert form.submit("action", value="create", status=400).html.select_one("[role=alert]")


def test_apps_that_came_on_their_own_are_listed(signed_in):
    verifier, challenge = pkce_pair()
    signed_in.get("/auth?" + urllib.parse.urlencode({
        "response_type": "code", "client_id": "http://127.0.0.1:9/", "redirect_uri": "http://127.0.0.1:9/cb",
        "state": "s", "code_challenge": challenge, "code_challenge_method": "S256"}))
    assert "http://127.0.0.1:9/" in signed_in.get("/admin/clients").text


def test_the_apps_page_refuses_a_non_admin(app, owner):
    from indieauth_password import set_password
    set_password(app, app.storage.create_user("bea", "https://bea.example/"), "bea's long password")
    web = webtest.TestApp(app)
    sign_in(web, "bea", "bea's long password")
    web.get("/admin/clients", status=403)


def test_metadata_lists_the_client_authentication_methods(web):
    methods = web.get("/.well-known/oauth-authorization-server").json["token_endpoint_auth_methods_supported"]
    assert methods == ["none", "client_secret_basic", "client_secret_post"]


def test_a_registered_apps_token_is_revoked_only_by_that_app_authenticated(signed_in, app, registered):
    """RFC 7009 §2.1: the server checks the confidential client's credentials and that the token is its own."""
    client_id, secret = registered
    code, verifier = get_code(signed_in, client_id)
    body = redeem(signed_in, client_id, code, verifier, headers=basic(client_id, secret)).json
    for attempt in ({}, {"client_id": client_id}, {"client_id": client_id, "client_secret": "wrong"},
                    {"client_id": "https://someone-else.example/"}):
        response = signed_in.post("/revoke", {"token": body["access_token"], **attempt}, status=401)
        assert response.json["error"] == "invalid_client"
        response = signed_in.post("/token", {"action": "revoke", "token": body["access_token"], **attempt}, status=401)
    assert app.storage.token_is_live(app.storage.find_token(body["access_token"]))
    signed_in.post("/revoke", {"token": body["refresh_token"]}, headers=basic(client_id, secret), status=200)
    assert not app.storage.token_is_live(app.storage.find_token(body["access_token"]))


# -- the command line: `indieauth client add|list|secret|remove`, the Apps page's functions -------------------

def cli(app, capsys, *argv):
    """`indieauth ARGV` on `app`: (exit code, stdout, stderr)."""
    with open(app.config.path, "w") as f:  # main() looks for the file; the factory hands out `app`
        f.write("")
    code = indieauth.main(["--config", app.config.path, *argv], app_factory=lambda config, **kw: app)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_client_add_prints_the_client_id_and_a_secret_that_works(signed_in, app, capsys):
    code, out, err = cli(app, capsys, "client", "add", "Quill", "--redirect-uri", REDIRECT, "--json")
    assert code == 0, err
    added = json.loads(out)
    assert added["client_id"].startswith("http://localhost/clients/")
    assert [c.name for c in app.storage.list_clients()] == ["Quill"]
    code, verifier = get_code_for(signed_in, added["client_id"], "Quill")
    redeem(signed_in, added["client_id"], code, verifier, headers=basic(added["client_id"], added["client_secret"]))


def test_cli_client_add_refuses_what_the_apps_page_refuses(app, capsys):
    code, out, err = cli(app, capsys, "client", "add", "Bad", "--redirect-uri", "ftp://bad.example/")
    assert code == 2 and out == "" and "ftp://bad.example/: " in err and "Traceback" not in err
    assert app.storage.list_clients() == []


def test_cli_client_list_shows_the_apps_without_secrets(app, registered, capsys):
    client_id, secret = registered
    code, out, _ = cli(app, capsys, "client", "list")
    assert code == 0 and client_id in out and "Registered App" in out and REDIRECT in out and secret not in out
    code, out, _ = cli(app, capsys, "client", "list", "--json")
    assert json.loads(out) == [{"client_id": client_id, "name": "Registered App", "redirect_uris": [REDIRECT],
                                "created": json.loads(out)[0]["created"]}]
    assert secret not in out


def test_cli_client_secret_prints_a_new_one_and_the_old_stops_working(signed_in, app, registered, capsys):
    client_id, old = registered
    code, out, _ = cli(app, capsys, "client", "secret", client_id)
    new = out.strip()
    assert code == 0 and new and new != old
    code, verifier = get_code(signed_in, client_id)
    redeem(signed_in, client_id, code, verifier, status=401, client_secret=old)
    code, verifier = get_code(signed_in, client_id)
    redeem(signed_in, client_id, code, verifier, client_secret=new)


def live_tokens_of(app, client_id):
    return [t for t in app.storage.live_tokens() if t.client_id == client_id]


def test_cli_client_remove_revokes_its_tokens_and_unregisters_it(app, owner, registered, capsys):
    client_id, _ = registered
    indieauth.issue_testing_token(app, owner, client_id, ["create"], 3600)
    assert len(live_tokens_of(app, client_id)) == 1
    code, out, _ = cli(app, capsys, "client", "remove", client_id, "--json")
    assert code == 0 and json.loads(out) == {"client_id": client_id, "tokens_revoked": 1}
    assert live_tokens_of(app, client_id) == [] and app.storage.get_client(client_id) is None
    assert app.storage.events(1)[0].kind == "client_removed"


@pytest.mark.parametrize("action", ["secret", "remove"])
def test_cli_client_naming_an_app_that_is_not_registered_exits_1(app, capsys, action):
    code, out, err = cli(app, capsys, "client", action, "https://nope.example/")
    assert (code, out) == (1, "") and "no registered app 'https://nope.example/'" in err


def test_the_apps_page_removes_an_app_and_revokes_its_tokens(signed_in, app, owner, registered):
    client_id, _ = registered
    indieauth.issue_testing_token(app, owner, client_id, ["create"], 3600)
    page = signed_in.get(f"/admin/clients/{app.storage.get_client(client_id).id}")
    form = page.forms["remove-client"]
    form.submit("action", value="remove", status=400)  # the box not ticked: nothing removed
    assert app.storage.get_client(client_id) is not None and len(live_tokens_of(app, client_id)) == 1
    form["confirm"] = True
    done = form.submit("action", value="remove")
    assert "Registered App is removed; 1 of its tokens revoked." in done.text
    assert live_tokens_of(app, client_id) == [] and app.storage.get_client(client_id) is None


def test_a_removed_app_cannot_use_its_secret(signed_in, app, owner, registered):
    client_id, secret = registered
    code, verifier = get_code(signed_in, client_id)
    indieauth.remove_client(app, app.storage.get_client(client_id))
    response = redeem(signed_in, client_id, code, verifier, status=400, client_secret=secret)
    assert response.json["error"] in ("invalid_grant", "invalid_client")
