"""Attacks on who a client is: case and port variants of a registered client_id (issue 15, finding 1), a
registered app redeeming at POST /auth without its secret (finding 8), and a disabled user's old
credentials coming back when the user is enabled again (finding 10)."""

import base64
import urllib.parse

import pytest
import webtest
from hypothesis import given, settings, strategies as st

import fixed_clients
import indieauth
from conftest import PASSWORD, sign_in
from test_protocol import bearer, pkce_pair, query_of

REDIRECT = "https://registered.example/cb"
CLIENT_ID = "http://localhost/clients/abc/"  # a registered client_id: the test app's base_url is http://localhost/
VARIANTS = ["HTTP://LOCALHOST/clients/abc/", "http://localhost:80/clients/abc/", "Http://LocalHost:80/clients/abc/"]


@pytest.fixture
def app(make_app):
    return make_app({"plugins": {"hosting": {}}})


@pytest.fixture
def registered(app):
    return app.storage.create_client(CLIENT_ID, "Registered App", [REDIRECT])


@pytest.fixture
def signed_in(web, owner, registered):
    sign_in(web)
    return web


@pytest.fixture
def rs_secret(app):
    return app.storage.add_resource_server("micropub")


def basic(client_id, secret):
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def auth_query(client_id, challenge, scope="profile create"):
    return {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT, "state": "s",
            "scope": scope, "code_challenge": challenge, "code_challenge_method": "S256"}


def get_code(web, client_id, scope="profile create", remember=False):
    """Start /auth as `client_id`, approve on the consent page; (code, verifier)."""
    verifier, challenge = pkce_pair()
    page = web.get("/auth?" + urllib.parse.urlencode(auth_query(client_id, challenge, scope)), status=303).follow()
    assert "Registered App" in page.text
    form = page.forms["consent"]
    if remember:
        form["remember"] = "yes"
    return query_of(form.submit("action", value="approve").headers["Location"])["code"], verifier


def redeem(web, client_id, code, verifier, path="/token", status=200, headers=None, **extra):
    form = {"grant_type": "authorization_code", "code": code, "client_id": client_id, "redirect_uri": REDIRECT,
            "code_verifier": verifier, **extra}
    return web.post(path, form, headers=headers or {}, status=status)


def tokens(web, secret):
    code, verifier = get_code(web, CLIENT_ID)
    return redeem(web, CLIENT_ID, code, verifier, headers=basic(CLIENT_ID, secret)).json


def csrf(web):
    return web.get("/tokens").forms[0]["csrf_token"].value


def live(app, raw):
    return app.storage.token_is_live(app.storage.find_token(raw))


# -- finding 1: every endpoint that takes a client_id ---------------------------------------------

@pytest.mark.parametrize("variant", VARIANTS)
def test_a_variant_that_skips_the_secret_at_the_token_endpoint_is_refused(signed_in, registered, variant):
    """Finding 1: /auth with a case or port variant of a registered client_id, then /token with the same
    variant and no secret, gave tokens: the variant is the registered app and must authenticate."""
    code, verifier = get_code(signed_in, variant)
    response = redeem(signed_in, variant, code, verifier, status=401)
    assert response.json["error"] == "invalid_client" and "access_token" not in response.json
    code, verifier = get_code(signed_in, variant)
    body = redeem(signed_in, variant, code, verifier, headers=basic(variant, registered)).json
    assert body["access_token"] and signed_in.get("/token", headers=bearer(body["access_token"])).json[
        "client_id"] == CLIENT_ID


def stored_auth_request(app):
    with app.storage.bound(), app.storage.database.connection_context():
        return indieauth.AuthRequest.select().order_by(indieauth.AuthRequest.id.desc()).get()


def at_auth_get(app, web, secret, variant):
    _, challenge = pkce_pair()
    page = web.get("/auth?" + urllib.parse.urlencode(auth_query(variant, challenge)), status=303).follow()
    assert "Registered App" in page.text
    assert stored_auth_request(app).client_id == CLIENT_ID


def at_par(app, web, secret, variant):
    _, challenge = pkce_pair()
    response = web.post("/par", auth_query(variant, challenge), status=401)
    assert response.json["error"] == "invalid_client"
    pushed = web.post("/par", dict(auth_query(variant, challenge), client_secret=secret), status=201).json
    page = web.get("/auth?" + urllib.parse.urlencode({"client_id": variant, "request_uri": pushed["request_uri"]}),
                   status=303).follow()
    assert "Registered App" in page.text and stored_auth_request(app).client_id == CLIENT_ID


def at_token_code_grant(app, web, secret, variant):
    code, verifier = get_code(web, CLIENT_ID)
    assert redeem(web, variant, code, verifier, status=401).json["error"] == "invalid_client"
    code, verifier = get_code(web, CLIENT_ID)
    assert redeem(web, variant, code, verifier, client_secret=secret).json["access_token"]


def at_token_refresh_grant(app, web, secret, variant):
    body = tokens(web, secret)
    form = {"grant_type": "refresh_token", "refresh_token": body["refresh_token"], "client_id": variant}
    assert web.post("/token", form, status=401).json["error"] == "invalid_client"
    assert web.post("/token", form, headers=basic(variant, secret)).json["access_token"]


def at_token_action_revoke(app, web, secret, variant):
    body = tokens(web, secret)
    form = {"action": "revoke", "token": body["access_token"], "client_id": variant}
    assert web.post("/token", form, status=401).json["error"] == "invalid_client"
    assert live(app, body["access_token"])
    web.post("/token", dict(form, client_secret=secret), status=200)
    assert not live(app, body["access_token"])


def at_revoke(app, web, secret, variant):
    body = tokens(web, secret)
    assert web.post("/revoke", {"token": body["access_token"], "client_id": variant},
                    status=401).json["error"] == "invalid_client"
    web.post("/revoke", {"token": body["refresh_token"]}, headers=basic(variant, secret), status=200)
    assert not live(app, body["access_token"]) and not live(app, body["refresh_token"])


def at_auth_post(app, web, secret, variant):
    code, verifier = get_code(web, variant, scope="profile")
    assert redeem(web, variant, code, verifier, path="/auth", status=401).json["error"] == "invalid_client"
    code, verifier = get_code(web, variant, scope="profile")
    assert redeem(web, variant, code, verifier, path="/auth", headers=basic(variant, secret)).json[
        "me"] == "https://owner.example/"


def at_tokens_new(app, web, secret, variant):
    form = web.get("/tokens/new").forms["new-token"]
    form["client_id"], form["extra_scopes"], form["lifetime"] = variant, "create", "1h"
    raw = form.submit(status=200).html.select_one("textarea#token").text.strip()
    assert web.get("/token", headers=bearer(raw)).json["client_id"] == CLIENT_ID


def at_tokens_revoke_client(app, web, secret, variant):
    body = tokens(web, secret)
    web.post("/tokens/revoke", {"csrf_token": csrf(web), "what": "client", "target": variant, "confirm": "yes"},
             status=303)
    assert not live(app, body["access_token"]) and not live(app, body["refresh_token"])


def at_tokens_forget(app, web, secret, variant):
    code, verifier = get_code(web, CLIENT_ID, remember=True)
    owner = app.storage.get_user(username="owner")
    assert app.storage.get_grant(owner, CLIENT_ID) is not None
    web.post("/tokens/forget", {"csrf_token": csrf(web), "client_id": variant}, status=303)
    assert app.storage.get_grant(owner, CLIENT_ID) is None


def cli(app, *argv):
    with open(app.config.path, "w") as f:  # main() looks for the file; the factory hands out `app`
        f.write("")
    return indieauth.main(["--config", app.config.path, *argv], app_factory=lambda config, **kw: app)


def at_cli_token_issue(app, web, secret, variant):
    assert cli(app, "token", "issue", "--client-id", variant, "--scope", "create") == 0
    assert [t.client_id for t in app.storage.live_tokens()] == [CLIENT_ID]


def at_cli_token_revoke_client(app, web, secret, variant):
    body = tokens(web, secret)
    assert cli(app, "token", "revoke", "--client", variant) == 0
    assert not live(app, body["access_token"]) and not live(app, body["refresh_token"])


def at_cli_user_role(app, web, secret, variant):
    owner = app.storage.get_user(username="owner")
    assert cli(app, "user", "role", "owner", variant, "editor") == 0
    assert app.storage.role_for(owner, CLIENT_ID) == "editor" == app.storage.role_for(owner, variant)


ENDPOINTS = [at_auth_get, at_par, at_token_code_grant, at_token_refresh_grant, at_token_action_revoke, at_revoke,
             at_auth_post, at_tokens_new, at_tokens_revoke_client, at_tokens_forget, at_cli_token_issue,
             at_cli_token_revoke_client, at_cli_user_role]


@pytest.mark.parametrize("variant", VARIANTS[:2])
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda f: f.__name__)
def test_every_endpoint_treats_a_variant_as_the_registered_client(app, signed_in, registered, endpoint, variant,
                                                                  capsys):
    """Finding 1: each endpoint and form that takes a client_id, sent a case or port variant of a registered
    client_id, treats it as that client: its secret is required, the same stored row is affected."""
    endpoint(app, signed_in, registered, variant)


def test_a_registered_client_id_typed_in_capitals_is_stored_canonical(app):
    """Finding 1: a client_id made from a base_url typed in capitals is stored and found in one form."""
    secret = app.storage.create_client("HTTP://LocalHost:80/clients/xyz/", "Capital App", [REDIRECT])
    client = app.storage.get_client("http://localhost/clients/xyz/")
    assert client is not None and client.client_id == "http://localhost/clients/xyz/"
    assert client.secret_hash == indieauth.token_hash(secret)


def test_a_pkce_exemption_names_the_client_in_any_form(make_app, owner):
    """Finding 1: pkce_exempt_clients is compared with the client_id in canonical form."""
    app = make_app({"security": {"pkce_exempt_clients": ["HTTPS://App.Example:443"]}}, plugins=[fixed_clients])
    query = {"response_type": "code", "client_id": "https://app.example/",
             "redirect_uri": "https://app.example/callback", "state": "s", "scope": "profile"}
    location = webtest.TestApp(app).get("/auth?" + urllib.parse.urlencode(query), status=303).headers["Location"]
    assert location.startswith("http://localhost/auth/consent/")


@pytest.mark.parametrize("url, canonical", [
    ("HTTPS://Example.COM", "https://example.com/"),
    ("https://example.com:443/App/", "https://example.com/App/"),
    ("http://example.com:80", "http://example.com/"),
    ("http://example.com:443/", "http://example.com:443/"),
    ("https://example.com:80/", "https://example.com:80/"),
    ("http://127.0.0.1:8080/cb?x=Y", "http://127.0.0.1:8080/cb?x=Y"),
    ("http://[::1]:80/", "http://[::1]/"),
    ("https://example.com/%7Euser/", "https://example.com/%7Euser/"),
    ("not a url", "not a url"),
    ("https://example.com:99999/", "https://example.com:99999/"),
    ("", ""),
])
def test_canonical_client_id(url, canonical):
    """Finding 1: scheme and host lowercased, default port dropped, empty path "/" (S12, S13); idempotent."""
    assert indieauth.canonical_client_id(url) == canonical
    assert indieauth.canonical_client_id(canonical) == canonical


URLISH = st.builds(lambda scheme, host, port, rest: f"{scheme}://{host}{port}{rest}",
                   st.sampled_from(["http", "https", "HTTP", "Https", "ftp"]),
                   st.sampled_from(["example.com", "EXAMPLE.com", "[::1]", "127.0.0.1", "a@B.example", ""]),
                   st.sampled_from(["", ":80", ":443", ":0443", ":8080", ":", ":x", ":99999"]),
                   st.text(max_size=20)) | st.text(max_size=40)


@settings(max_examples=300, deadline=None, database=None)
@given(URLISH)
def test_canonical_client_id_is_idempotent_and_keeps_a_valid_client_id_valid(url):
    """Finding 1: never raises, idempotent, and never turns an invalid client_id into a valid one."""
    canonical = indieauth.canonical_client_id(url)
    assert indieauth.canonical_client_id(canonical) == canonical
    assert (indieauth.client_id_problem(url) is None) == (indieauth.client_id_problem(canonical) is None)


def test_canonical_client_id_never_raises():
    """Finding 1: an unparsable value comes back unchanged for the validators to refuse."""
    for value in (None, 42, "http://[::1", "http://a b/", "https://ex\x00ample.com/"):
        assert indieauth.canonical_client_id(value) == value


# -- finding 8: POST /auth authenticates a registered app ----------------------------------------

def test_a_registered_app_redeems_a_profile_code_at_the_authorization_endpoint_only_with_its_secret(
        signed_in, registered):
    """Finding 8: a profile-only code of a registered client, redeemed at POST /auth with its verifier but no
    secret, gave {"me", "profile"}: registered apps authenticate wherever they redeem anything."""
    code, verifier = get_code(signed_in, CLIENT_ID, scope="profile")
    response = redeem(signed_in, CLIENT_ID, code, verifier, path="/auth", status=401)
    assert response.json["error"] == "invalid_client" and "me" not in response.json
    assert "WWW-Authenticate" in response.headers
    code, verifier = get_code(signed_in, CLIENT_ID, scope="profile")
    wrong = redeem(signed_in, CLIENT_ID, code, verifier, path="/auth", client_secret="wrong", status=401)
    assert wrong.json["error"] == "invalid_client"
    code, verifier = get_code(signed_in, CLIENT_ID, scope="profile")
    body = redeem(signed_in, CLIENT_ID, code, verifier, path="/auth", headers=basic(CLIENT_ID, registered)).json
    assert body["me"] == "https://owner.example/"


# -- finding 10: disabling a user revokes everything, for good -------------------------------------

def admin_action(web, username, action):
    web.post("/admin/users", {"csrf_token": csrf(web), "action": action, "username": username}, status=303)


def test_enabling_a_disabled_user_does_not_bring_back_what_they_held(app, owner, registered, rs_secret):
    """Finding 10: tokens (access and refresh), sessions, one-time sign-in links and remembered consent of a
    disabled user stay revoked when the user is enabled again: a fresh start, nothing more."""
    from indieauth_password import set_password
    bea = app.storage.create_user("bea", "https://bea.example/")
    set_password(app, bea, PASSWORD)
    bea_web = webtest.TestApp(app)
    sign_in(bea_web, "bea")
    code, verifier = get_code(bea_web, CLIENT_ID, remember=True)
    body = redeem(bea_web, CLIENT_ID, code, verifier, headers=basic(CLIENT_ID, registered)).json
    link = app.storage.create_login_link(bea, 3600)
    assert bea_web.get("/token", headers=bearer(body["access_token"])).json["me"] == "https://bea.example/"
    admin = webtest.TestApp(app)
    sign_in(admin)
    admin_action(admin, "bea", "disable")
    admin_action(admin, "bea", "enable")
    bea = app.storage.get_user(username="bea")
    assert bea.disabled_at is None
    assert admin.get("/token", headers=bearer(body["access_token"]), status=401).json["error"] == "invalid_token"
    assert admin.post("/introspect", {"token": body["access_token"]}, headers=bearer(rs_secret)).json == {
        "active": False}
    refresh = {"grant_type": "refresh_token", "refresh_token": body["refresh_token"], "client_id": CLIENT_ID}
    assert admin.post("/token", refresh, headers=basic(CLIENT_ID, registered), status=400).json[
        "error"] == "invalid_grant"
    assert "/login?next=" in bea_web.get("/tokens", status=303).headers["Location"]  # the old session is gone
    assert app.storage.redeem_login_link(link) is None
    assert app.storage.get_grant(bea, CLIENT_ID) is None
    assert app.storage.live_tokens(bea) == []


def test_a_code_issued_before_disabling_is_not_redeemed_after_enabling(app, owner, registered):
    """Finding 10: an unredeemed authorization code does not outlive the disabling either."""
    from indieauth_password import set_password
    bea = app.storage.create_user("bea", "https://bea.example/")
    set_password(app, bea, PASSWORD)
    bea_web = webtest.TestApp(app)
    sign_in(bea_web, "bea")
    code, verifier = get_code(bea_web, CLIENT_ID)
    admin = webtest.TestApp(app)
    sign_in(admin)
    admin_action(admin, "bea", "disable")
    admin_action(admin, "bea", "enable")
    response = redeem(admin, CLIENT_ID, code, verifier, headers=basic(CLIENT_ID, registered), status=400)
    assert response.json["error"] == "invalid_grant"


# -- the storage contract, on SQLite and on each server of INDIEAUTH_TEST_DATABASE_URLS -----------------

from test_storage import database, empty_storage, make_user, storage  # noqa: E402,F401  (fixtures)


def test_storage_keeps_and_finds_client_ids_in_one_canonical_form(storage):
    """Finding 1: registrations, roles, remembered consent and revocation by client take any form of a
    client_id and keep the canonical one."""
    alice = make_user(storage, "alice")
    storage.create_client("HTTPS://Auth.Example:443/clients/1/", "App", [REDIRECT])
    client = storage.get_client("https://auth.example/clients/1/")
    assert client.client_id == "https://auth.example/clients/1/"
    assert storage.get_client("https://AUTH.example:443/clients/1/").id == client.id
    storage.assign_role(alice, client, "editor")
    assert storage.role_for(alice, "HTTPS://AUTH.EXAMPLE/clients/1/") == "editor"
    storage.save_grant(alice, "https://Auth.Example:443/clients/1/", "profile")
    assert storage.get_grant(alice, client.client_id).scope == "profile"
    raw, _ = storage.create_token("access", alice, alice.me, client.client_id, "create", 3600, "f1")
    assert storage.revoke_tokens(alice, client_id="HTTPS://auth.example/clients/1/") == 1
    assert not storage.token_is_live(storage.find_token(raw))
    assert storage.forget_grant(alice, "https://AUTH.EXAMPLE/clients/1/") == 1


def test_storage_disable_user_ends_everything_they_hold_and_nothing_of_others(storage):
    """Finding 10: disable_user revokes tokens, sessions, codes, sign-in links and remembered consent of that
    user only; enabling brings none of it back."""
    alice, bob = make_user(storage, "alice"), make_user(storage, "bob")
    held = {}
    for user in (alice, bob):
        held[user.username] = dict(
            token=storage.create_token("refresh", user, user.me, "https://app.example/", "create", 3600, "f")[0],
            session=storage.create_session(user, "password", 3600),
            link=storage.create_login_link(user, 3600),
            code=storage.create_code(600, user=user, me=user.me, client_id="https://app.example/",
                                     redirect_uri=REDIRECT, code_challenge="", code_challenge_method="",
                                     scope="profile"))
        storage.save_grant(user, "https://app.example/", "profile")
    storage.disable_user(alice)
    alice = storage.update_user(alice, disabled_at=None)
    assert not storage.token_is_live(storage.find_token(held["alice"]["token"]))
    assert storage.get_session(held["alice"]["session"]) is None
    assert not storage.login_link_usable(held["alice"]["link"])
    assert storage.find_code(held["alice"]["code"]).expires_at <= storage.now()
    assert storage.get_grant(alice, "https://app.example/") is None
    assert storage.token_is_live(storage.find_token(held["bob"]["token"]))
    assert storage.get_session(held["bob"]["session"]) is not None
    assert storage.login_link_usable(held["bob"]["link"])
    assert storage.find_code(held["bob"]["code"]).expires_at > storage.now()
    assert storage.get_grant(bob, "https://app.example/") is not None
