"""The developer page /docs: its endpoint list comes from the metadata, its snippets are text (never live
HTML), and its OAuth tester is a built-in client whose only redirect_uri is /docs itself."""

import base64
import json
import urllib.parse

import bs4
import pytest

import indieauth

from conftest import sign_in
from indieauth import testing

DOCS = "http://localhost/docs"  # make_test_app's base_url is http://localhost/


@pytest.fixture
def page(web):
    return web.get("/docs", status=200)


def metadata_urls(web):
    metadata = web.get("/.well-known/oauth-authorization-server").json
    return {key: value for key, value in metadata.items()
            if isinstance(value, str) and value.startswith(("http://", "https://"))}


def test_every_metadata_url_is_listed_with_its_name_and_a_purpose(web, page):
    urls = metadata_urls(web)
    assert {"authorization_endpoint", "token_endpoint", "jwks_uri", "service_documentation"} <= set(urls)
    rows = {}
    for item in page.html.select("#endpoint-list > div"):
        name, shown_url = (code.get_text() for code in item.select("dt code"))
        rows[name] = (shown_url, item.select_one("dd").get_text(" ", strip=True))
    assert set(rows) == set(urls)
    for key, url in urls.items():
        shown_url, purpose = rows[key]
        assert shown_url == url
        assert purpose and "See the metadata document" not in purpose, f"{key} has no line of its own on /docs"


def test_the_metadata_points_its_documentation_here(web):
    assert metadata_urls(web)["service_documentation"] == DOCS


@pytest.mark.parametrize("href", ["/.well-known/oauth-authorization-server", "/openapi.json",
                                  "/.well-known/jwks.json", "/tokens/new"])
def test_the_page_links_to_the_documents_and_testing_tokens(web, page, href):
    assert page.html.select_one(f'main a[href="{href}"]') is not None
    expected = 303 if href == "/tokens/new" else 200  # testing tokens need a signed-in person
    web.get(href, status=expected)


def test_the_head_lines_are_the_servers_discovery_links(app, page):
    lines = page.html.select_one("textarea#head-links").get_text().splitlines()
    assert lines == [f'<link rel="{rel}" href="{href}">' for rel, href in app.profile_links()]
    assert any('rel="indieauth-metadata"' in line for line in lines)


def test_the_docs_page_itself_is_not_a_profile_page(page):
    """The discovery links are text to copy here; in /docs's own <head> they would make it look like a profile."""
    assert page.html.select("head link[rel=authorization_endpoint], head link[rel=indieauth-metadata]") == []


def test_the_curl_examples_use_this_servers_token_endpoint(page):
    exchange = page.html.select_one("textarea#exchange-curl").get_text()
    assert exchange.startswith("curl http://localhost/token ")
    for field in ("grant_type=authorization_code", "code=", "client_id=", "redirect_uri=", "code_verifier="):
        assert field in exchange
    verify = page.html.select_one("textarea#verify-curl").get_text()
    assert verify == 'curl http://localhost/token -H "Authorization: Bearer THE_ACCESS_TOKEN"'


def test_the_sign_in_snippet_is_escaped_text_of_a_labelled_url_form(page):
    assert "&lt;form action=&quot;/indieauth/start&quot;" in page.text  # escaped in the page source
    assert not page.html.select('form[action="/indieauth/start"], #indieauth-url')  # not a live form here
    snippet = bs4.BeautifulSoup(page.html.select_one("textarea#sign-in-snippet").get_text(), "html.parser")
    field = snippet.select_one("form input[name=me]")
    assert field["type"] == "url" and field["autocomplete"] == "url" and field.has_attr("required")
    assert snippet.select_one(f'label[for="{field["id"]}"]').get_text(strip=True)
    assert snippet.select_one("form button[type=submit]").get_text(strip=True) == "Sign in with your domain"


def test_each_snippet_has_a_copy_button_and_the_page_loads_the_scripts(page):
    for textarea in page.html.select("main textarea"):
        assert page.html.select_one(f'button[data-copy="{textarea["id"]}"][hidden]') is not None, textarea["id"]
    assert [s["src"] for s in page.html.select("script")] == ["/static/copy.js", "/static/docs.js"]


def test_the_page_obeys_the_csp_no_inline_script_style_or_handlers(page):
    assert all(script.get("src") and not script.get_text(strip=True) for script in page.html.select("script"))
    assert page.html.select("[style], style") == []
    assert [el.name for el in page.html.find_all(True) if any(a.startswith("on") for a in el.attrs)] == []


def test_the_tester_is_configured_by_data_attributes_with_docs_as_its_client(web, page):
    tester = page.html.select_one("#tester-app")
    metadata = web.get("/.well-known/oauth-authorization-server").json
    assert tester["data-client-id"] == DOCS
    assert tester["data-issuer"] == metadata["issuer"]
    assert tester["data-authorization-endpoint"] == metadata["authorization_endpoint"]
    assert tester["data-token-endpoint"] == metadata["token_endpoint"]
    assert tester.has_attr("hidden")  # shown by docs.js: without JavaScript it could not work


def test_the_tester_offers_every_scope_and_says_it_needs_javascript(app, page):
    boxes = page.html.select("#tester-form input[name=scope]")
    assert [box["value"] for box in boxes] == sorted(app.scopes)
    assert "needs JavaScript" in page.html.select_one("noscript").get_text()


def test_every_input_on_the_page_has_a_label(page):
    for field in page.html.select("main input:not([type=hidden]), main textarea"):
        assert page.html.select_one(f'label[for="{field["id"]}"]') is not None, field.get("id")
    assert page.html.select_one("#tester-me")["autocomplete"] == "url"


def test_the_tester_knows_its_client_without_fetching_anything(app):
    client = indieauth.client_info(app, DOCS)
    assert client.redirect_uris == (DOCS,) and client.source == "builtin"


def authorize_tester(web, state="s1", **overrides):
    verifier, challenge = testing.pkce_pair()
    query = {"response_type": "code", "client_id": DOCS, "redirect_uri": DOCS, "state": state,
             "code_challenge": challenge, "code_challenge_method": "S256", "scope": "profile create"}
    query.update(overrides)
    return web.get("/auth?" + urllib.parse.urlencode(query), expect_errors=True), verifier


def jwt_payload(token):
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_a_flow_with_the_tester_as_client_works_from_authorization_to_tokens(web, owner):
    sign_in(web)
    response, verifier = authorize_tester(web, state="tester-state")
    assert response.status_int == 303
    consent = response.follow()
    assert "OAuth tester" in consent.html.select_one("h1").get_text()
    back = consent.forms["consent"].submit("action", value="approve", status=303)
    location = urllib.parse.urlsplit(back.headers["Location"])
    assert location._replace(query="").geturl() == DOCS
    params = dict(urllib.parse.parse_qsl(location.query))
    assert params["state"] == "tester-state" and params["iss"] == "http://localhost/"
    assert web.get(back.headers["Location"], status=200).html.select_one("#tester-app")  # the page it lands on
    tokens = web.post("/token", {"grant_type": "authorization_code", "code": params["code"], "client_id": DOCS,
                                 "redirect_uri": DOCS, "code_verifier": verifier}).json
    assert tokens["me"] == "https://owner.example/" and tokens["scope"] == "profile create"
    claims = jwt_payload(tokens["access_token"])
    assert claims["client_id"] == DOCS and claims["sub"] == "https://owner.example/"
    refreshed = web.post("/token", {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
                                    "client_id": DOCS}).json
    assert refreshed["access_token"] != tokens["access_token"]


def test_a_profile_only_tester_code_is_redeemed_at_the_authorization_endpoint(web, owner):
    sign_in(web)
    response, verifier = authorize_tester(web, scope="")
    back = response.follow().forms["consent"].submit("action", value="approve", status=303)
    code = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(back.headers["Location"]).query))["code"]
    fields = {"grant_type": "authorization_code", "code": code, "client_id": DOCS, "redirect_uri": DOCS,
              "code_verifier": verifier}
    assert web.post("/token", fields, status=400).json["error"] == "invalid_grant"  # no scope, no token
    assert web.post("/auth", fields).json == {"me": "https://owner.example/"}


@pytest.mark.parametrize("redirect_uri", [
    "https://attacker.example/docs",            # another host entirely
    "http://localhost/docs/steal",              # a path below /docs
    "http://localhost/tokens",                  # another page of this server
    "http://localhost/docs?next=https://attacker.example/",
    "http://localhost:8080/docs",               # another port
    "https://localhost/docs",                   # another scheme
])
def test_the_tester_client_id_cannot_return_anywhere_but_docs(web, owner, redirect_uri):
    """An attacker using /docs's trusted name to collect codes at their own redirect_uri gets an error page."""
    sign_in(web)
    response, _ = authorize_tester(web, redirect_uri=redirect_uri)
    assert response.status_int == 400
    assert "Location" not in response.headers
    assert "has not published" in response.html.select_one("h1").get_text()


def test_the_pgp_key_link_is_explained_only_where_pgp_sign_in_is_on(make_app):
    import webtest
    with_pgp = webtest.TestApp(make_app({"plugins": {"pgp": {}}})).get("/docs").text
    without = webtest.TestApp(make_app()).get("/docs").text
    assert 'rel="pgpkey"' in with_pgp and "gpg --clearsign" in with_pgp
    assert "pgpkey" not in without
