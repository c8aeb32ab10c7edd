"""The IndieAuth protocol end to end through webtest; each test names the checklist item it covers.

shared/spec-checklist.md numbers the requirements: S = server requirement, SEC = security behaviour,
T = Taproot's server test of the same behaviour.
"""

import base64
import hashlib
import secrets
import string
import urllib.parse

import pytest
import webtest

import fixed_clients
import indieauth
from conftest import sign_in

CLIENT = "https://app.example/"
REDIRECT = "https://app.example/callback"


def pkce_pair(length=64, alphabet=string.ascii_letters + string.digits + "-._~"):
    verifier = "".join(secrets.choice(alphabet) for _ in range(length))
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def query_of(location):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


@pytest.fixture
def app(make_app):
    return make_app(plugins=[fixed_clients])


@pytest.fixture
def signed_in(web, owner):
    sign_in(web)
    return web


def auth_params(challenge, **overrides):
    params = {"response_type": "code", "client_id": CLIENT, "redirect_uri": REDIRECT, "state": "st4te",
              "code_challenge": challenge, "code_challenge_method": "S256", "scope": "profile create"}
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def start(web, status=303, **params):
    """GET /auth with these parameters."""
    return web.get("/auth?" + urllib.parse.urlencode(params), status=status)


def consent_form(web, challenge, **overrides):
    page = start(web, **auth_params(challenge, **overrides)).follow()
    return page, page.forms["consent"]


def get_code(web, scope="profile create", approve=True, **overrides):
    """The whole front channel as a person does it; returns (code, verifier, redirect query)."""
    verifier, challenge = pkce_pair()
    _, form = consent_form(web, challenge, scope=scope, **overrides)
    response = form.submit("action", value="approve" if approve else "deny", status=303)
    params = query_of(response.headers["Location"])
    return params.get("code"), verifier, params


def redeem(web, the_code, verifier, path="/token", status=200, headers=None, **overrides):
    form = {"grant_type": "authorization_code", "code": the_code, "client_id": CLIENT,
            "redirect_uri": REDIRECT, "code_verifier": verifier}
    form.update(overrides)
    return web.post(path, {k: v for k, v in form.items() if v is not None}, status=status, headers=headers or {})


def tokens(web, scope="profile create"):
    code, verifier, _ = get_code(web, scope=scope)
    return redeem(web, code, verifier).json


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def rs_secret(app):
    return app.storage.add_resource_server("micropub")


def introspect(web, secret, token):
    return web.post("/introspect", {"token": token}, headers=bearer(secret)).json


# -- identifiers and URL rules -------------------------------------------------------------------

@pytest.mark.parametrize("url", ["https://example.com/", "https://example.com/username",
                                 "https://example.com/users?id=100", "http://example.com/"])
def test_valid_profile_urls(url):  # S5
    assert indieauth.profile_url_problem(url) is None


@pytest.mark.parametrize("url", ["example.com", "mailto:user@example.com", "https://example.com/foo/../bar",
                                 "https://example.com/./bar", "https://example.com/#me", "https://user:pass@example.com/",
                                 "https://example.com:8443/", "https://172.28.92.51/", "https://[::1]/", "ftp://example.com/"])
def test_invalid_profile_urls(url):  # S5
    assert indieauth.profile_url_problem(url)


def test_dotted_file_names_are_valid_profile_paths():  # S5: never stricter than the spec
    assert indieauth.profile_url_problem("https://example.com/about.html") is None


@pytest.mark.parametrize("url", ["https://app.example/", "https://app.example:8443/", "http://127.0.0.1:3000/",
                                 "http://[::1]/", "http://localhost:8080/app", "https://app.example/?q=1"])
def test_valid_client_ids(url):  # S9
    assert indieauth.client_id_problem(url) is None


@pytest.mark.parametrize("url", ["https://12.56.12.5/", "https://[1::]/", "https://app.example/#x",
                                 "https://app.example/a/../b", "https://u:p@app.example/", "file:///etc/passwd",
                                 "javascript:alert(1)", "app.example", "https://exa mple.com/"])
def test_invalid_client_ids(url):  # S9, SEC13
    assert indieauth.client_id_problem(url)


@pytest.mark.parametrize("raw, canonical", [("https://Example.COM", "https://example.com/"),
                                            ("https://example.com", "https://example.com/"),
                                            ("HTTPS://example.com/Path", "https://example.com/Path")])
def test_canonical_urls(raw, canonical):  # S12, S13
    assert indieauth.canonical_url(raw) == canonical


def test_issuer_must_be_https(make_app):  # S1
    with pytest.raises(indieauth.ConfigError, match="https"):
        make_app({"server": {"base_url": "http://auth.example/"}})


def test_issuer_over_http_only_on_loopback(make_app):  # S1 (development relaxation)
    assert make_app({"server": {"base_url": "http://127.0.0.1:8080/"}}).issuer == "http://127.0.0.1:8080/"


# -- discovery: metadata and profile links -----------------------------------------------------

def test_metadata_document(web):  # S16, S19, S20, S21, S87
    response = web.get("/.well-known/oauth-authorization-server")
    assert response.content_type == "application/json"
    doc = response.json
    assert doc["issuer"] == "http://localhost/"
    assert doc["authorization_endpoint"] == "http://localhost/auth"
    assert doc["token_endpoint"] == "http://localhost/token"
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["authorization_response_iss_parameter_supported"] is True
    assert doc["response_types_supported"] == ["code"]
    assert doc["revocation_endpoint_auth_methods_supported"] == ["none", "client_secret_basic", "client_secret_post"]
    assert set(doc["grant_types_supported"]) == {  # TK12, and test_device's
        "authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code", "ticket"}
    assert doc["ticket_endpoint"] == "http://localhost/ticket"  # TK1
    assert {"profile", "email", "create"} <= set(doc["scopes_supported"])
    for key in ("introspection_endpoint", "revocation_endpoint", "userinfo_endpoint", "service_documentation"):
        assert doc[key].startswith("http")


def test_issuer_is_a_prefix_of_the_metadata_url(web):  # S2
    assert "http://localhost/.well-known/oauth-authorization-server".startswith(
        web.get("/.well-known/oauth-authorization-server").json["issuer"])


def test_metadata_and_token_endpoint_allow_cors(web):  # S22
    assert web.get("/.well-known/oauth-authorization-server").headers["Access-Control-Allow-Origin"] == "*"
    preflight = web.options("/token", headers={"Origin": "https://app.example",
                                               "Access-Control-Request-Method": "POST"}, status=204)
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]


def test_authorization_endpoint_has_no_cors(web):  # SEC28
    response = web.get("/auth", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers
    web.options("/auth", status=405)


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_profile_page_links_in_headers(web, method):  # S4, S17, S18
    response = web.request("/", method=method)
    links = response.headers.getall("Link")
    assert '<http://localhost/.well-known/oauth-authorization-server>; rel="indieauth-metadata"' in links
    assert '<http://localhost/auth>; rel="authorization_endpoint"' in links
    assert '<http://localhost/token>; rel="token_endpoint"' in links


def test_profile_page_links_in_html(web):  # S17, S18, S96: absolute URLs, each in its own link
    html = web.get("/").html
    assert html.select_one('link[rel="indieauth-metadata"]')["href"] == \
        "http://localhost/.well-known/oauth-authorization-server"
    assert html.select_one('link[rel="authorization_endpoint"]')["href"] == "http://localhost/auth"
    assert html.select_one('link[rel="token_endpoint"]')["href"] == "http://localhost/token"


def test_hosted_owner_profile_has_an_h_card(make_app):  # S8 (hosted profile)
    app = make_app()
    app.storage.create_user("owner", "http://localhost/", role="owner", name="Ann Owner")
    card = webtest.TestApp(app).get("/").html.select_one(".h-card")
    assert card.select_one(".u-url")["href"] == "http://localhost/" and "Ann Owner" in card.text


# -- the authorization request: errors before verification are pages -----------------------

def test_no_client_id_is_a_page_not_a_redirect(signed_in):  # S10, T1
    _, challenge = pkce_pair()
    response = start(signed_in, status=400, **auth_params(challenge, client_id=None))
    assert "Location" not in response.headers and "client_id" in response.text


@pytest.mark.parametrize("client_id", ["https://12.56.12.5/", "https://app.example/#frag", "https://app.example/../x",
                                       "https://u:p@app.example/", "javascript:alert(1)", "file:///etc/passwd"])
def test_invalid_client_id_is_a_page_not_a_redirect(signed_in, client_id):  # SEC13, T3
    _, challenge = pkce_pair()
    response = start(signed_in, status=400, **auth_params(challenge, client_id=client_id))
    assert "Location" not in response.headers
    assert response.html.select_one("[role=alert]").text.strip()
    assert "For the app's developer" in response.text


def test_missing_redirect_uri_is_a_page(signed_in):  # S36, T1
    _, challenge = pkce_pair()
    start(signed_in, status=400, **auth_params(challenge, redirect_uri=None))


def test_unpublished_cross_origin_redirect_uri_is_a_page(signed_in):  # SEC10, S30, T10
    _, challenge = pkce_pair()
    response = start(signed_in, status=400, **auth_params(challenge, redirect_uri="https://evil.example/cb"))
    assert "Location" not in response.headers
    assert "evil.example" in response.text


def test_published_cross_origin_redirect_uri_is_accepted(signed_in):  # S30, T13
    _, challenge = pkce_pair()
    start(signed_in, **auth_params(challenge, client_id="https://listed.example/",
                                   redirect_uri="https://elsewhere.example/cb"))


@pytest.mark.parametrize("variant", [
    "https://elsewhere.example/cb/", "https://elsewhere.example/c", "https://elsewhere.example/cb/x",
    "https://elsewhere.example/cb?x=1", "https://elsewhere.example/CB", "http://elsewhere.example/cb",
    "https://elsewhere.example:444/cb", "https://elsewhere.example@evil.example/cb",
    "https://elsewhere.example/%63b"])
def test_near_misses_of_a_published_redirect_uri_are_refused(signed_in, variant):  # SEC11
    _, challenge = pkce_pair()
    response = start(signed_in, status=400, **auth_params(challenge, client_id="https://listed.example/",
                                                          redirect_uri=variant))
    assert "Location" not in response.headers


def test_redirect_uri_with_fragment_is_a_page(signed_in):  # SEC12
    _, challenge = pkce_pair()
    start(signed_in, status=400, **auth_params(challenge, redirect_uri="https://app.example/cb#x"))


def test_repeated_parameter_is_a_page(signed_in):  # SEC56, S34
    _, challenge = pkce_pair()
    query = urllib.parse.urlencode(auth_params(challenge)) + "&client_id=https%3A%2F%2Fevil.example%2F"
    response = signed_in.get("/auth?" + query, status=400)
    assert "Location" not in response.headers and "more than once" in response.text


def test_empty_parameter_counts_as_omitted(signed_in):  # S34
    _, challenge = pkce_pair()
    start(signed_in, status=400, **auth_params(challenge, client_id=""))


def test_loopback_redirect_may_use_any_port(signed_in):  # SEC18, S33
    _, challenge = pkce_pair()
    start(signed_in, **auth_params(challenge, client_id="https://listed.example/",
                                   redirect_uri="http://127.0.0.1:61234/cb"))


def test_bare_authorization_endpoint_explains_itself(web):  # T29
    assert "start from the app" in web.get("/auth").text


# -- the authorization request: errors after verification go back to the client -----------

@pytest.mark.parametrize("overrides, error", [
    ({"state": None}, "invalid_request"),                                  # S36, T1
    ({"state": "bad\x19state"}, "invalid_request"),                         # S36, T5
    ({"response_type": "token"}, "unsupported_response_type"),             # S36
    ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),  # SEC7, T2
    ({"code_challenge_method": "plain"}, "invalid_request"),               # SEC8, S38
    ({"code_challenge_method": None}, "invalid_request"),                  # T32
    ({"code_challenge": "short"}, "invalid_request"),                      # T5
    ({"code_challenge": "a" * 42 + "!"}, "invalid_request"),               # T5
    ({"scope": 'profile "create'}, "invalid_scope"),                       # S36, T5
    ({"scope": "profile cre\\ate"}, "invalid_scope"),                      # S36
])
def test_errors_after_verification_redirect_with_state_and_iss(signed_in, overrides, error):  # SEC14, SEC20, S45, S47
    _, challenge = pkce_pair()
    response = start(signed_in, status=302, **auth_params(challenge, **overrides))
    location = response.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    params = query_of(location)
    assert params["error"] == error and params["iss"] == "http://localhost/"
    if overrides.get("state", "st4te") and "\x19" not in overrides.get("state", ""):
        assert params["state"] == "st4te"


def test_pkce_exempt_client_may_skip_pkce(make_app, owner):  # S37, S95, T31
    app = make_app({"security": {"pkce_exempt_clients": [CLIENT]}}, plugins=[fixed_clients])
    web = webtest.TestApp(app)
    from indieauth_password import set_password
    set_password(app, app.storage.create_user("ann", "https://ann.example/"), "a good long password")
    sign_in(web, "ann", "a good long password")
    page = start(web, **auth_params(None, code_challenge_method=None)).follow()
    assert "does not use PKCE" in page.text  # the consent screen warns
    response = page.forms["consent"].submit("action", value="approve", status=303)
    code = query_of(response.headers["Location"])["code"]
    assert redeem(web, code, None).json["me"] == "https://ann.example/"


def test_legacy_response_type_id_is_an_authentication_request(signed_in):  # S93, T35
    _, challenge = pkce_pair()
    page = start(signed_in, **auth_params(challenge, response_type="id", scope="create profile")).follow()
    assert page.html.select("input[name=scope]")[0]["value"] == "profile"
    assert len(page.html.select("input[name=scope]")) == 1


def test_missing_response_type_is_the_legacy_profile_flow(signed_in):  # S93
    _, challenge = pkce_pair()
    page = start(signed_in, **auth_params(challenge, response_type=None, scope="create")).follow()
    assert not page.html.select("input[name=scope]")


def test_long_state_is_echoed_byte_for_byte(signed_in):  # S44 (real clients sign their states)
    state = "".join(chr(c) for c in range(32, 127)) * 6  # 570 characters of every VSCHAR
    code, _, params = get_code(signed_in, state=state)
    assert params["state"] == state and code


@pytest.mark.parametrize("length", [43, 128])
def test_pkce_verifiers_of_every_length_and_character_pass(signed_in, length):  # RFC 7636 §4.1
    verifier, challenge = pkce_pair(length)
    _, form = consent_form(signed_in, challenge)
    code = query_of(form.submit("action", value="approve").headers["Location"])["code"]
    assert redeem(signed_in, code, verifier).json["access_token"]


def test_unauthenticated_request_shows_the_login_page_then_resumes(web, owner):  # T7, S40
    _, challenge = pkce_pair()
    consent_url = start(web, **auth_params(challenge)).headers["Location"]
    login = web.get(consent_url, status=303).follow()
    form = login.forms["password-login"]
    form["username"], form["password"] = "owner", "correct horse battery staple"
    assert form.submit(status=303).headers["Location"] == consent_url


# -- consent --------------------------------------------------------------------------------

def test_consent_page_facts_and_headers(signed_in):  # S41, SEC25, SEC26, SEC27, T12
    _, challenge = pkce_pair()
    page = start(signed_in, **auth_params(challenge)).follow()
    assert "Example App" in page.text and CLIENT in page.text and "app.example" in page.text
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"
    labels = [label.text for label in page.html.select("fieldset label")]
    assert any("name, photo" in text for text in labels) and any("Create new posts" in text for text in labels)


def test_consent_names_unknown_scopes_as_such(signed_in):  # S41
    _, challenge = pkce_pair()
    page = start(signed_in, **auth_params(challenge, scope="profile x-weird")).follow()
    assert "Unknown permission" in page.text and "x-weird" in page.text


def test_consent_shows_the_client_id_beside_a_copied_name(signed_in):  # SEC53
    _, challenge = pkce_pair()
    page = start(signed_in, **auth_params(challenge, client_id="https://spoof.example/",
                                          redirect_uri="https://spoof.example/cb")).follow()
    assert "Google" in page.text and "https://spoof.example/" in page.html.select_one("code.client-id").text


def test_consent_warns_when_client_information_is_missing(signed_in):  # SEC54, T4
    _, challenge = pkce_pair()
    page = start(signed_in, **auth_params(challenge, client_id="https://unknown.example/",
                                          redirect_uri="https://unknown.example/cb")).follow()
    assert "published no information" in page.text


def test_consent_warns_when_sent_to_another_host(signed_in):  # S41, S30
    _, challenge = pkce_pair()
    page = start(signed_in, **auth_params(challenge, client_id="https://listed.example/",
                                          redirect_uri="https://elsewhere.example/cb")).follow()
    assert "not the app's own host" in page.text and "elsewhere.example" in page.text


@pytest.mark.parametrize("client_id, redirect_uri", [
    ("http://127.0.0.1:8100/", "http://127.0.0.1:8200/callback"),
    ("http://127.0.0.1/", "http://127.0.0.1:8200/callback"),
    ("http://[::1]:8100/", "http://[::1]:8200/callback"),
    ("https://app.example/", "https://app.example/callback"),
])
def test_consent_does_not_warn_when_the_redirect_is_the_apps_own(signed_in, client_id, redirect_uri):  # S41, S33
    """A loopback client_id's redirect on another port is the same app (RFC 8252 §7.3), as the redirect
    check itself decides (issue 18)."""
    _, challenge = pkce_pair()
    page = start(signed_in, **auth_params(challenge, client_id=client_id, redirect_uri=redirect_uri)).follow()
    assert "not the app's own host" not in page.text


@pytest.mark.parametrize("client_id, redirect_uri", [
    ("https://listed.example/", "http://127.0.0.1:5000/cb"),
    ("https://listed.example/", "http://127.0.0.1:5001/cb"),
])
def test_consent_warns_when_the_redirect_is_not_the_apps_own(signed_in, client_id, redirect_uri):  # S41, S30
    _, challenge = pkce_pair()
    page = start(signed_in, **auth_params(challenge, client_id=client_id, redirect_uri=redirect_uri)).follow()
    assert "not the app's own host" in page.text


def test_approval_redirects_with_code_state_and_iss_by_303(signed_in):  # S3, S35, S44, S46, SEC17, SEC20, T19
    verifier, challenge = pkce_pair()
    _, form = consent_form(signed_in, challenge)
    response = form.submit("action", value="approve")
    assert response.status_int == 303
    params = query_of(response.headers["Location"])
    assert set(params) == {"code", "state", "iss"}
    assert params["state"] == "st4te" and params["iss"] == signed_in.get(
        "/.well-known/oauth-authorization-server").json["issuer"]


def test_redirect_uri_query_is_kept(signed_in):  # S31, T19
    _, _, params = get_code(signed_in, redirect_uri="https://app.example/callback?from=app&x=1")
    assert params["from"] == "app" and params["x"] == "1" and params["code"]


def test_deny_redirects_with_access_denied_state_and_iss(signed_in):  # SEC15
    _, _, params = get_code(signed_in, approve=False)
    assert params == {"error": "access_denied", "error_description": "The user denied the request.",
                      "state": "st4te", "iss": "http://localhost/"}


@pytest.mark.parametrize("tamper", ["no token", "wrong token"])
def test_consent_post_without_valid_csrf_token_issues_no_code(signed_in, app, tamper):  # SEC21, S43
    _, challenge = pkce_pair()
    _, form = consent_form(signed_in, challenge)
    fields = dict(form.submit_fields())
    fields["action"] = "approve"
    if tamper == "no token":
        del fields["csrf_token"]
    else:
        fields["csrf_token"] = "0" * 32
    signed_in.post(form.action, fields, status=403)
    with app.storage.bound(), app.storage.database.connection_context():
        assert indieauth.AuthCode.select().count() == 0


def test_consent_from_another_site_issues_no_code(signed_in, app):  # SEC21: the cookie alone is not enough
    _, challenge = pkce_pair()
    _, form = consent_form(signed_in, challenge)
    signed_in.post(form.action, {"action": "approve", "scope": "create"}, status=403)
    with app.storage.bound(), app.storage.database.connection_context():
        assert indieauth.AuthCode.select().count() == 0


def test_tampered_consent_fields_change_nothing(signed_in):  # SEC22, SEC23
    verifier, challenge = pkce_pair()
    _, form = consent_form(signed_in, challenge, scope="profile")
    fields = list(form.submit_fields()) + [("action", "approve"), ("scope", "delete"),
                                           ("redirect_uri", "https://evil.example/"), ("client_id", "https://evil.example/")]
    response = signed_in.post(form.action, fields, status=303)
    assert response.headers["Location"].startswith(REDIRECT)
    body = redeem(signed_in, query_of(response.headers["Location"])["code"], verifier, path="/auth").json
    assert body["me"] == "https://owner.example/"


def test_unticked_scopes_are_not_granted(signed_in):  # S42, SEC23
    verifier, challenge = pkce_pair()
    _, form = consent_form(signed_in, challenge, scope="profile create delete")
    form.get("scope", index=2).checked = False
    code = query_of(form.submit("action", value="approve").headers["Location"])["code"]
    assert redeem(signed_in, code, verifier).json["scope"] == "profile create"


def test_a_consent_can_be_answered_once(signed_in):  # SEC22
    _, challenge = pkce_pair()
    _, form = consent_form(signed_in, challenge)
    form.submit("action", value="approve", status=303)
    assert "already answered" in form.submit("action", value="approve", status=400).text


def test_me_hint_for_another_person_is_ignored(signed_in):  # SEC52, S39
    verifier, challenge = pkce_pair()
    page, form = consent_form(signed_in, challenge, me="https://victim.example/")
    assert "victim.example" in page.text  # the person is told
    code = query_of(form.submit("action", value="approve").headers["Location"])["code"]
    assert redeem(signed_in, code, verifier).json["me"] == "https://owner.example/"


def test_remembered_consent_skips_the_screen_for_the_same_or_fewer_scopes(signed_in):  # consent memory
    verifier, challenge = pkce_pair()
    _, form = consent_form(signed_in, challenge, scope="profile create")
    form["remember"] = "yes"
    form.submit("action", value="approve", status=303)
    again = signed_in.get(start(signed_in, **auth_params(challenge, scope="create")).headers["Location"], status=303)
    assert again.headers["Location"].startswith(REDIRECT) and "code=" in again.headers["Location"]
    wider = start(signed_in, **auth_params(challenge, scope="profile create delete")).follow()
    assert wider.status_int == 200 and "Allow" in wider.text


def test_consent_is_asked_again_without_remember(signed_in):
    _, challenge = pkce_pair()
    get_code(signed_in)
    assert start(signed_in, **auth_params(challenge)).follow().status_int == 200


# -- redeeming the code ------------------------------------------------------------------------

def test_token_response(signed_in):  # S53, S62, S55, S68, SEC45, T28
    code, verifier, _ = get_code(signed_in, scope="profile create")
    response = redeem(signed_in, code, verifier)
    assert response.status_int == 200
    assert response.content_type == "application/json"
    assert response.headers["Cache-Control"] == "no-store" and response.headers["Pragma"] == "no-cache"
    body = response.json
    assert body["token_type"] == "Bearer" and body["scope"] == "profile create"
    assert body["me"] == "https://owner.example/" and body["expires_in"] == 86400
    assert body["access_token"] and body["refresh_token"]
    assert body["profile"] == {"name": "owner", "url": "https://owner.example/"}


def test_email_is_given_only_with_the_email_scope(signed_in, app, owner):  # S66
    with app.storage.bound(), app.storage.database.connection_context():
        indieauth.User.update(email="owner@owner.example").where(indieauth.User.id == owner.id).execute()
    assert "email" not in tokens(signed_in, "profile create")["profile"]
    assert tokens(signed_in, "profile email")["profile"]["email"] == "owner@owner.example"


def test_no_profile_object_without_the_profile_scope(signed_in):  # S62, S66
    assert "profile" not in tokens(signed_in, "create")


def test_tokens_are_long_random_and_stored_only_as_hashes(signed_in, app):  # SEC47, S51, S63
    body = tokens(signed_in)
    assert len(body["access_token"]) >= 43  # 32 random bytes
    with app.storage.bound(), app.storage.database.connection_context():
        stored = [t.token_hash for t in indieauth.Token.select()]
        codes = [c.code_hash for c in indieauth.AuthCode.select()]
    assert indieauth.token_hash(body["access_token"]) in stored and body["access_token"] not in stored
    assert all(len(h) == 64 for h in stored + codes)


def test_profile_redemption_at_the_authorization_endpoint(signed_in):  # S57, S58, T25
    code, verifier, _ = get_code(signed_in, scope="profile")
    response = redeem(signed_in, code, verifier, path="/auth", headers={"Accept": "*/*"})
    assert response.content_type == "application/json"
    assert response.json == {"me": "https://owner.example/",
                             "profile": {"name": "owner", "url": "https://owner.example/"}}


def test_profile_redemption_without_grant_type(signed_in):  # S60
    code, verifier, _ = get_code(signed_in, scope="")
    assert redeem(signed_in, code, verifier, path="/auth", grant_type=None).json == {"me": "https://owner.example/"}


def test_a_code_with_access_scopes_redeemed_at_the_authorization_endpoint_answers_me_only(signed_in):  # S59, T24
    """Issue 18: clients (the `indieauth` PyPI client) send scope yet redeem at /auth; they get the profile
    response, never an access token, and the code is spent."""
    code, verifier, _ = get_code(signed_in, scope="profile create")
    answer = redeem(signed_in, code, verifier, path="/auth").json
    assert answer == {"me": "https://owner.example/", "profile": {"name": "owner", "url": "https://owner.example/"}}
    assert "access_token" not in answer and "refresh_token" not in answer


def test_a_code_with_access_scopes_but_no_profile_answers_me_alone_at_the_authorization_endpoint(signed_in):  # S59
    code, verifier, _ = get_code(signed_in, scope="create update")
    assert redeem(signed_in, code, verifier, path="/auth").json == {"me": "https://owner.example/"}


def test_a_code_redeemed_at_the_authorization_endpoint_cannot_be_redeemed_again(signed_in):  # S59, SEC1
    code, verifier, _ = get_code(signed_in, scope="create")
    redeem(signed_in, code, verifier, path="/auth")
    assert redeem(signed_in, code, verifier, path="/auth", status=400).json["error"] == "invalid_grant"
    assert redeem(signed_in, code, verifier, status=400).json["error"] == "invalid_grant"


@pytest.mark.parametrize("change", [{"code_verifier": "w" * 43}, {"code_verifier": None},
                                    {"client_id": "https://other.example/"},
                                    {"redirect_uri": "https://app.example/elsewhere"}])
def test_a_code_with_access_scopes_at_the_authorization_endpoint_is_still_checked(signed_in, change):  # S59, S53
    code, verifier, _ = get_code(signed_in, scope="create")
    answer = redeem(signed_in, code, verifier, path="/auth", status=400, **change).json
    assert answer["error"] in ("invalid_grant", "invalid_request") and "me" not in answer


def test_a_code_without_scope_yields_no_access_token(signed_in):  # S61, T27
    code, verifier, _ = get_code(signed_in, scope="")
    assert redeem(signed_in, code, verifier, status=400).json["error"] == "invalid_grant"


def test_code_replay_is_refused_and_revokes_what_was_issued(signed_in, rs_secret):  # SEC1, S50
    code, verifier, _ = get_code(signed_in)
    first = redeem(signed_in, code, verifier).json
    assert redeem(signed_in, code, verifier, status=400).json["error"] == "invalid_grant"
    assert introspect(signed_in, rs_secret, first["access_token"]) == {"active": False}
    signed_in.get("/userinfo", headers=bearer(first["access_token"]), status=401)
    refresh = signed_in.post("/token", {"grant_type": "refresh_token", "refresh_token": first["refresh_token"],
                                        "client_id": CLIENT}, status=400)
    assert refresh.json["error"] == "invalid_grant"


def test_a_code_redeemed_at_the_authorization_endpoint_is_spent(signed_in):  # SEC2, S52
    code, verifier, _ = get_code(signed_in, scope="profile")
    redeem(signed_in, code, verifier, path="/auth")
    assert redeem(signed_in, code, verifier, status=400).json["error"] == "invalid_grant"


def test_an_expired_code_is_refused(signed_in, clock):  # SEC3, S48
    code, verifier, _ = get_code(signed_in)
    clock.advance(minutes=10, seconds=1)
    assert redeem(signed_in, code, verifier, status=400).json["error"] == "invalid_grant"


def test_a_code_works_within_ten_minutes(signed_in, clock):  # S48
    code, verifier, _ = get_code(signed_in)
    clock.advance(minutes=9, seconds=59)
    redeem(signed_in, code, verifier)


def test_a_wrong_code_verifier_is_refused_and_burns_the_code(signed_in):  # SEC4
    code, verifier, _ = get_code(signed_in)
    other, _ = pkce_pair()
    assert redeem(signed_in, code, other, status=400).json["error"] == "invalid_grant"
    assert redeem(signed_in, code, verifier, status=400).json["error"] == "invalid_grant"


def test_pkce_downgrade_is_refused(make_app):  # SEC5, T33
    app = make_app({"security": {"require_pkce": False}}, plugins=[fixed_clients])
    from indieauth_password import set_password
    set_password(app, app.storage.create_user("owner", "https://owner.example/"), "a good long password")
    web = webtest.TestApp(app)
    sign_in(web, password="a good long password")
    page = start(web, **auth_params(None, code_challenge_method=None)).follow()
    code = query_of(page.forms["consent"].submit("action", value="approve").headers["Location"])["code"]
    verifier, _ = pkce_pair()
    assert redeem(web, code, verifier, status=400).json["error"] == "invalid_grant"


def test_a_missing_code_verifier_is_refused(signed_in):  # SEC6, S54, T22
    code, _, _ = get_code(signed_in)
    assert redeem(signed_in, code, None, status=400).json["error"] == "invalid_request"


@pytest.mark.parametrize("field", ["code", "client_id", "redirect_uri"])
@pytest.mark.parametrize("path", ["/token", "/auth"])
def test_missing_redemption_parameters(signed_in, field, path):  # S54, T21, T22
    code, verifier, _ = get_code(signed_in, scope="profile")
    assert redeem(signed_in, code, verifier, path=path, status=400, **{field: None}).json["error"] == "invalid_request"


# "https://app.example" is the same client as "https://app.example/" (S12: one canonical client_id, issue 15)
@pytest.mark.parametrize("field, value", [("client_id", "https://app.example:8443/"),
                                          ("client_id", "https://evil.example/"),
                                          ("redirect_uri", "https://app.example/callback/"),
                                          ("redirect_uri", "https://evil.example/callback"),
                                          ("code", "not-the-code")])
@pytest.mark.parametrize("path", ["/token", "/auth"])
def test_redemption_bound_to_client_id_and_redirect_uri(signed_in, field, value, path):  # S14, S49, SEC40, T23
    code, verifier, _ = get_code(signed_in, scope="profile")
    assert redeem(signed_in, code, verifier, path=path, status=400, **{field: value}).json["error"] == "invalid_grant"


def test_token_endpoint_without_grant_type(web):  # S54, T26
    response = web.post("/token", {}, status=400)
    assert response.json["error"] == "invalid_request"
    assert web.post("/token", {"grant_type": "password"}, status=400).json["error"] == "unsupported_grant_type"


def test_me_in_the_token_request_is_ignored(signed_in):  # S65
    code, verifier, _ = get_code(signed_in)
    assert redeem(signed_in, code, verifier, me="https://victim.example/").json["me"] == "https://owner.example/"


def test_client_id_in_basic_auth_not_url_encoded(signed_in):  # real clients send http://host:port/:
    code, verifier, _ = get_code(signed_in)
    basic = base64.b64encode(f"{CLIENT}:".encode()).decode()
    response = redeem(signed_in, code, verifier, client_id=None, headers={"Authorization": f"Basic {basic}"})
    assert response.json["me"] == "https://owner.example/"


def test_client_id_in_basic_auth_url_encoded(signed_in):  # RFC 6749 §2.3.1
    code, verifier, _ = get_code(signed_in)
    basic = base64.b64encode(f"{urllib.parse.quote(CLIENT, safe='')}:".encode()).decode()
    redeem(signed_in, code, verifier, client_id=None, headers={"Authorization": f"Basic {basic}"})


def test_legacy_form_encoded_token_response(signed_in):  # S56
    code, verifier, _ = get_code(signed_in, scope="create")
    response = redeem(signed_in, code, verifier, headers={"Accept": "application/x-www-form-urlencoded"})
    assert response.content_type == "application/x-www-form-urlencoded"
    assert urllib.parse.parse_qs(response.text)["me"] == ["https://owner.example/"]


def test_repeated_token_parameters_are_refused(signed_in):  # S34
    code, verifier, _ = get_code(signed_in)
    body = urllib.parse.urlencode([("grant_type", "authorization_code"), ("code", code), ("code", code),
                                   ("client_id", CLIENT), ("redirect_uri", REDIRECT), ("code_verifier", verifier)])
    response = signed_in.post("/token", body, content_type="application/x-www-form-urlencoded", status=400)
    assert response.json["error"] == "invalid_request"


def test_a_disabled_users_tokens_stop_working(signed_in, app, owner, rs_secret, clock):
    body = tokens(signed_in)
    with app.storage.bound(), app.storage.database.connection_context():
        indieauth.User.update(disabled_at=clock()).where(indieauth.User.id == owner.id).execute()
    assert introspect(signed_in, rs_secret, body["access_token"]) == {"active": False}


# -- refresh tokens -----------------------------------------------------------------------------

def refresh(web, token, status=200, **extra):
    form = {"grant_type": "refresh_token", "refresh_token": token, "client_id": CLIENT}
    form.update(extra)
    return web.post("/token", form, status=status)


def test_refresh_rotates_and_keeps_the_scope(signed_in, rs_secret):  # SEC39, S69, S71, S72
    first = tokens(signed_in, "profile create")
    second = refresh(signed_in, first["refresh_token"]).json
    assert second["refresh_token"] != first["refresh_token"] and second["scope"] == "profile create"
    assert second["me"] == "https://owner.example/" and second["token_type"] == "Bearer"
    assert introspect(signed_in, rs_secret, second["access_token"])["active"] is True


def test_refresh_token_reuse_revokes_the_family(signed_in, rs_secret):  # SEC39, S72
    first = tokens(signed_in)
    second = refresh(signed_in, first["refresh_token"]).json
    assert refresh(signed_in, first["refresh_token"], status=400).json["error"] == "invalid_grant"
    assert refresh(signed_in, second["refresh_token"], status=400).json["error"] == "invalid_grant"
    assert introspect(signed_in, rs_secret, second["access_token"]) == {"active": False}


def test_refresh_for_another_client_is_refused(signed_in):  # SEC40
    first = tokens(signed_in)
    assert refresh(signed_in, first["refresh_token"], status=400,
                   client_id="https://evil.example/").json["error"] == "invalid_grant"


def test_refresh_may_narrow_but_not_widen(signed_in):  # SEC41, S70, S71, S74
    first = tokens(signed_in, "profile create")
    assert refresh(signed_in, first["refresh_token"], status=400, scope="profile create delete").json["error"] == \
        "invalid_scope"
    narrow = refresh(signed_in, first["refresh_token"], scope="create").json
    assert narrow["scope"] == "create" and "profile" not in narrow
    back = refresh(signed_in, narrow["refresh_token"], scope="profile create").json  # S71: RT kept the scope
    assert back["scope"] == "profile create"


def test_refresh_with_the_original_scope_resent(signed_in):  # what real clients do
    first = tokens(signed_in, "profile create")
    assert refresh(signed_in, first["refresh_token"], scope="profile create").json["scope"] == "profile create"


def narrowed_tokens(web, requested="profile create delete", untick=2):
    """Tokens of an authorization for `requested` in which the person unticked one scope at consent."""
    verifier, challenge = pkce_pair()
    _, form = consent_form(web, challenge, scope=requested)
    form.get("scope", index=untick).checked = False
    code = query_of(form.submit("action", value="approve").headers["Location"])["code"]
    return redeem(web, code, verifier).json


def test_a_refresh_resending_the_requested_scope_after_consent_narrowed_it_gets_what_was_granted(signed_in):  # S70, S74
    """Issue 18: Authlib and requests-oauthlib resend the scope they first asked for; the person unticked
    `delete` at consent, so the refresh grants the rest and says so in `scope`."""
    first = narrowed_tokens(signed_in)
    assert first["scope"] == "profile create"
    second = refresh(signed_in, first["refresh_token"], scope="profile create delete").json
    assert second["scope"] == "profile create"
    third = refresh(signed_in, second["refresh_token"], scope="profile create delete").json  # carried on
    assert third["scope"] == "profile create"


def test_a_refreshed_access_token_has_only_the_granted_scopes(signed_in, rs_secret):  # SEC41, S74
    first = narrowed_tokens(signed_in)
    second = refresh(signed_in, first["refresh_token"], scope="delete create").json
    assert second["scope"] == "create"
    assert introspect(signed_in, rs_secret, second["access_token"])["scope"] == "create"


def test_a_refresh_asking_for_a_scope_never_requested_is_refused_after_narrowing(signed_in):  # SEC41, S70
    first = narrowed_tokens(signed_in)
    answer = refresh(signed_in, first["refresh_token"], status=400, scope="profile create delete update").json
    assert answer["error"] == "invalid_scope"


def test_a_refresh_asking_only_for_refused_scopes_is_refused(signed_in):  # SEC41, S70
    first = narrowed_tokens(signed_in)
    assert refresh(signed_in, first["refresh_token"], status=400, scope="delete").json["error"] == "invalid_scope"


def test_an_idle_refresh_token_expires(signed_in, clock):  # SEC42, S73
    first = tokens(signed_in)
    clock.advance(days=30, seconds=1)
    assert refresh(signed_in, first["refresh_token"], status=400).json["error"] == "invalid_grant"


def test_an_access_token_is_not_a_refresh_token(signed_in):  # S70
    first = tokens(signed_in)
    refresh(signed_in, first["access_token"], status=400)


# -- verification, revocation, introspection, userinfo -----------------------------------------

def test_legacy_token_verification(signed_in):  # S91, S94, SEC51
    body = tokens(signed_in)
    answer = signed_in.get("/token", headers=bearer(body["access_token"])).json
    assert answer == {"me": "https://owner.example/", "client_id": CLIENT, "scope": "profile create",
                      "aud": "https://owner.example/"}  # issue 20: no resource asked for, so it is for me


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nonsense"}])
def test_legacy_token_verification_refuses_with_a_challenge(web, headers):  # S91
    response = web.get("/token", headers=headers, status=401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_revocation_of_unknown_tokens_is_200(web):  # SEC50, S83, S84: no client authentication
    assert web.post("/revoke", {"token": "garbage"}).status_int == 200


def test_revoking_an_access_token(signed_in, rs_secret):  # SEC50, S86
    body = tokens(signed_in)
    signed_in.post("/revoke", {"token": body["access_token"], "token_type_hint": "access_token"})
    assert introspect(signed_in, rs_secret, body["access_token"]) == {"active": False}
    signed_in.get("/userinfo", headers=bearer(body["access_token"]), status=401)


def test_revoking_a_refresh_token_revokes_its_access_tokens(signed_in, rs_secret):  # S85, S86
    body = tokens(signed_in)
    signed_in.post("/revoke", {"token": body["refresh_token"], "token_type_hint": "access_token"})  # S82: wrong hint
    assert introspect(signed_in, rs_secret, body["access_token"]) == {"active": False}
    assert refresh(signed_in, body["refresh_token"], status=400).json["error"] == "invalid_grant"


def test_legacy_revocation_at_the_token_endpoint(signed_in, rs_secret):  # S92, SEC51
    body = tokens(signed_in)
    assert signed_in.post("/token", {"action": "revoke", "token": body["access_token"]}).status_int == 200
    assert introspect(signed_in, rs_secret, body["access_token"]) == {"active": False}
    assert signed_in.post("/token", {"action": "revoke", "token": "garbage"}).status_int == 200


def test_revocation_without_a_token_is_invalid_request(web):  # RFC 7009 §2.1
    assert web.post("/revoke", {}, status=400).json["error"] == "invalid_request"


def test_introspection_needs_authorization(signed_in):  # SEC46, S76
    body = tokens(signed_in)
    response = signed_in.post("/introspect", {"token": body["access_token"]}, status=401)
    assert "WWW-Authenticate" in response.headers
    signed_in.post("/introspect", {"token": body["access_token"]}, headers=bearer(body["access_token"]), status=401)


def test_introspection_of_an_active_token(signed_in, rs_secret):  # SEC46, S75, S77, S79
    body = tokens(signed_in)
    answer = introspect(signed_in, rs_secret, body["access_token"])
    assert answer["active"] is True and answer["me"] == "https://owner.example/"
    assert answer["client_id"] == CLIENT and answer["scope"] == "profile create"
    assert isinstance(answer["exp"], int) and isinstance(answer["iat"], int) and answer["exp"] - answer["iat"] == 86400


def test_introspection_of_a_random_token_says_only_inactive(signed_in, rs_secret):  # SEC46, S78
    assert introspect(signed_in, rs_secret, "random") == {"active": False}


def test_introspection_with_basic_credentials(signed_in, rs_secret):  # S76
    body = tokens(signed_in)
    basic = base64.b64encode(f"micropub:{rs_secret}".encode()).decode()
    answer = signed_in.post("/introspect", {"token": body["access_token"]},
                            headers={"Authorization": f"Basic {basic}"}).json
    assert answer["active"] is True


def introspection_credential(method, name, secret):
    """The Authorization header of each method the metadata may list for introspection."""
    return {"Bearer": {"Authorization": f"Bearer {secret}"},
            "client_secret_basic": {"Authorization": "Basic " + base64.b64encode(f"{name}:{secret}".encode()).decode()},
            }[method]


def test_metadata_lists_every_introspection_credential_that_works(web):  # S76
    """Issue 18: Bearer works as well as Basic, so both are listed."""
    methods = web.get("/.well-known/oauth-authorization-server").json["introspection_endpoint_auth_methods_supported"]
    assert sorted(methods) == ["Bearer", "client_secret_basic"]


def test_each_listed_introspection_method_works_and_refuses_a_wrong_secret(signed_in, rs_secret):  # S76
    body = tokens(signed_in)
    methods = signed_in.get("/.well-known/oauth-authorization-server").json[
        "introspection_endpoint_auth_methods_supported"]
    for method in methods:
        answer = signed_in.post("/introspect", {"token": body["access_token"]},
                                headers=introspection_credential(method, "micropub", rs_secret)).json
        assert answer["active"] is True, method
        refused = signed_in.post("/introspect", {"token": body["access_token"]}, status=401,
                                 headers=introspection_credential(method, "micropub", "wrong" + rs_secret))
        assert refused.json["error"] == "invalid_client" and "active" not in refused.json, method


def test_introspection_of_an_expired_token(signed_in, rs_secret, clock):  # S78
    body = tokens(signed_in)
    clock.advance(days=1, seconds=1)
    assert introspect(signed_in, rs_secret, body["access_token"]) == {"active": False}


def test_a_revoked_resource_server_cannot_introspect(signed_in, app, rs_secret):  # S76
    app.storage.revoke_resource_server("micropub")
    signed_in.post("/introspect", {"token": "x"}, headers=bearer(rs_secret), status=401)


def test_userinfo(signed_in):  # S88
    body = tokens(signed_in, "profile")
    assert signed_in.get("/userinfo", headers=bearer(body["access_token"])).json == \
        {"name": "owner", "url": "https://owner.example/"}


def test_userinfo_without_credentials_has_no_error_code(web):  # SEC49, S89
    response = web.get("/userinfo", status=401)
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="indieauth"'
    assert "error" not in response.json


def test_userinfo_with_a_dead_token(web):  # SEC49, S89
    response = web.get("/userinfo", headers=bearer("dead"), status=401)
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert response.json["error"] == "invalid_token"


def test_userinfo_without_profile_scope(signed_in):  # SEC49, S89
    body = tokens(signed_in, "create")
    assert signed_in.get("/userinfo", headers=bearer(body["access_token"]), status=403).json["error"] == \
        "insufficient_scope"


def test_userinfo_email_only_with_email_scope(signed_in, app, owner):  # S88
    with app.storage.bound(), app.storage.database.connection_context():
        indieauth.User.update(email="owner@owner.example").where(indieauth.User.id == owner.id).execute()
    assert "email" not in signed_in.get("/userinfo", headers=bearer(tokens(signed_in, "profile")["access_token"])).json
    assert signed_in.get("/userinfo", headers=bearer(tokens(signed_in, "profile email")["access_token"])).json[
        "email"] == "owner@owner.example"


def test_token_in_the_query_string_is_refused(signed_in):  # SEC48
    body = tokens(signed_in, "profile")
    assert signed_in.get("/userinfo?access_token=" + body["access_token"], status=400).json["error"] == \
        "invalid_request"


def test_authorization_header_stripped_by_the_host_is_found_again(signed_in):  # cheap hosts (Apache/FastCGI)
    body = tokens(signed_in, "profile")
    response = signed_in.get("/userinfo", extra_environ={"REDIRECT_HTTP_AUTHORIZATION": f"Bearer {body['access_token']}"})
    assert response.json["url"] == "https://owner.example/"


def test_access_token_form_parameter(signed_in):  # RFC 6750 §2.2
    body = tokens(signed_in, "profile")
    assert signed_in.post("/userinfo", {"access_token": body["access_token"]}).json["name"] == "owner"


def test_api_endpoints_never_answer_500_for_malformed_bodies(signed_in, rs_secret):
    for path in ("/token", "/auth", "/revoke", "/introspect", "/userinfo"):
        for body, content_type in ((b"code=%ff%fe", "application/x-www-form-urlencoded"),
                                   (b"\xff\xfe", "application/x-www-form-urlencoded"),
                                   (b"{}", "application/json")):
            response = signed_in.post(path, body, content_type=content_type, headers=bearer(rs_secret),
                                      expect_errors=True)
            assert response.status_int < 500, (path, body, response.text)
    bad_basic = signed_in.post("/token", {"grant_type": "authorization_code"},
                               headers={"Authorization": "Basic %%%"}, status=400)
    assert bad_basic.json["error"] == "invalid_request"


def test_a_profile_only_code_yields_an_access_token_for_userinfo(signed_in):  # S64
    code, verifier, _ = get_code(signed_in, scope="profile")
    body = redeem(signed_in, code, verifier).json
    assert signed_in.get("/userinfo", headers=bearer(body["access_token"])).json["url"] == "https://owner.example/"


def test_profile_url_may_differ_from_me(signed_in, app, owner):  # S67
    with app.storage.bound(), app.storage.database.connection_context():
        indieauth.User.update(url="https://blog.elsewhere.example/").where(indieauth.User.id == owner.id).execute()
    body = tokens(signed_in, "profile")
    assert body["me"] == "https://owner.example/" and body["profile"]["url"] == "https://blog.elsewhere.example/"


def test_a_bare_domain_me_hint_is_read_as_http(signed_in):  # S15, S39
    _, challenge = pkce_pair()
    page = start(signed_in, **auth_params(challenge, me="Victim.example")).follow()
    assert "http://victim.example/" in page.text


def test_http_client_ids_are_accepted_as_indieauth_allows(signed_in):  # S11 (policy: IA allows http)
    _, challenge = pkce_pair()
    start(signed_in, **auth_params(challenge, client_id="http://plain.example/", redirect_uri="http://plain.example/cb"))


def test_same_origin_http_redirect_uri_is_allowed_as_indieauth_allows(signed_in):  # SEC19 (policy)
    _, challenge = pkce_pair()
    page = start(signed_in, **auth_params(challenge, client_id="http://plain.example/",
                                          redirect_uri="http://plain.example/cb")).follow()
    assert page.forms["consent"]


def test_loopback_profiles_only_in_development(make_app):  # S6: the relaxation is explicit, never silent
    assert indieauth.profile_url_problem("http://127.0.0.1:8080/")
    assert indieauth.profile_url_problem("http://127.0.0.1:8080/", allow_loopback=True) is None
    assert make_app().dev_profiles is True  # base_url http://localhost/
    assert make_app({"server": {"base_url": "https://auth.example/"}}).dev_profiles is False


def test_codes_and_tokens_never_reach_the_log(signed_in, caplog):  # SEC58
    import logging
    indieauth.log.propagate = True
    with caplog.at_level(logging.DEBUG, logger="indieauth"):
        code, verifier, _ = get_code(signed_in)
        body = redeem(signed_in, code, verifier).json
        signed_in.get("/userinfo?access_token=" + body["access_token"], status=400)
        signed_in.get("/token", headers=bearer(body["access_token"]))
    assert caplog.records  # requests were logged…
    for secret in (code, verifier, body["access_token"], body["refresh_token"]):
        assert secret not in caplog.text  # …without their secrets


@pytest.mark.parametrize("approve", [True, False], ids=["code", "denied"])
def test_a_redirect_uri_beyond_ascii_is_percent_encoded_in_location(signed_in, approve):
    """A Location header carries ASCII only; the client's redirect_uri is the same resource, encoded."""
    verifier, challenge = pkce_pair()
    _, form = consent_form(signed_in, challenge, redirect_uri="https://app.example/café?q=ü")
    location = form.submit("action", value="approve" if approve else "deny", status=303).headers["Location"]
    assert location.isascii()
    assert location.startswith("https://app.example/caf%C3%A9?q=%C3%BC&")
    assert ("code" if approve else "error") in query_of(location)


def test_consent_for_a_local_app_says_it_was_not_fetched_and_why(signed_in):  # S24
    _, challenge = pkce_pair()
    page = start(signed_in, **auth_params(challenge, client_id="http://127.0.0.1:8123/",
                                          redirect_uri="http://127.0.0.1:8123/cb")).follow()
    note = page.html.select_one("#client-unread").text
    assert "published no information" not in page.text
    assert "runs on your own computer" in note and "not fetched" in note
