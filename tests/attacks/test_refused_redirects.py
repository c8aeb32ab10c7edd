"""redirect_uri tricks: the server never sends a person (or a code) anywhere the app did not publish.

A refused redirect_uri gets a page, never a redirect (S10, SEC10-SEC14): the tests assert a 400 without
a Location header, so neither the code nor the error reaches the attacker's address.
"""

import urllib.parse

import pytest

import fixed_clients

from .conftest import CLIENT, REDIRECT, auth_query, code_for, query_of, redeem

LISTED = "https://listed.example/"  # publishes https://elsewhere.example/cb and http://127.0.0.1:5000/cb


@pytest.fixture
def app(make_app):
    return make_app(plugins=[fixed_clients])


def refused_page(web, **params):
    response = web.get(auth_query(**params), status=400)
    assert "Location" not in response.headers
    return response


@pytest.mark.parametrize("redirect_uri", [
    "https://evil.example/callback",
    "http://evil.example:9/callback",
    "http://127.0.0.1.evil.example:9/callback",
    "http://localhost:9/callback",
    "https://127.0.0.1:9/callback",
    "http://127.0.0.2:9/callback",
], ids=["other-site", "other-host-same-port", "suffix-host", "localhost-for-127", "https-for-http", "127.0.0.2"])
def test_redirect_to_another_origin_not_published_is_refused(web, redirect_uri):
    """An app may only return people to its own origin unless it publishes the redirect_uri (S29, SEC10)."""
    refused_page(web, redirect_uri=redirect_uri)


@pytest.mark.parametrize("redirect_uri", [
    "http://127.0.0.1:9@evil.example/callback",
    "http://127.0.0.1:9%40evil.example/callback",
    "http://user:pass@127.0.0.1:9/callback",
    "http://127.0.0.1:9\\@evil.example/callback",
], ids=["at-sign", "encoded-at", "user-password", "backslash-at"])
def test_userinfo_trick_is_refused(web, redirect_uri):
    """The '@' trick: "http://app@evil/" goes to evil; a redirect_uri with a user name is refused (SEC11)."""
    refused_page(web, redirect_uri=redirect_uri)


@pytest.mark.parametrize("redirect_uri", [REDIRECT + "#", REDIRECT + "#frag", REDIRECT + "%23x#y"],
                         ids=["empty-fragment", "fragment", "encoded-and-fragment"])
def test_redirect_uri_with_fragment_is_refused(web, redirect_uri):
    """A fragment in the redirect_uri is refused (SEC12): it would be kept across the redirect."""
    refused_page(web, redirect_uri=redirect_uri)


@pytest.mark.parametrize("redirect_uri", [
    "javascript:alert(document.cookie)//http://127.0.0.1:9/callback",
    "JavaScript://127.0.0.1:9/%0aalert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "ftp://127.0.0.1:9/callback",
], ids=["javascript", "javascript-with-host", "data", "vbscript", "file", "ftp"])
def test_non_http_scheme_is_refused(web, redirect_uri):
    """javascript:, data: and other schemes never become a redirect (S31)."""
    refused_page(web, redirect_uri=redirect_uri)


@pytest.mark.parametrize("redirect_uri", ["/callback", "//evil.example/callback", "callback", "http:/evil.example/"],
                         ids=["path-only", "scheme-relative", "relative", "one-slash"])
def test_relative_redirect_uri_is_refused(web, redirect_uri):
    """A redirect_uri that is not absolute is refused, whatever a browser would make of it."""
    refused_page(web, redirect_uri=redirect_uri)


@pytest.mark.parametrize("redirect_uri", [
    "https://elsewhere.example/cb/../evil",
    "https://elsewhere.example/cb/evil",
    "https://elsewhere.example/cb2",
    "https://elsewhere.example/c",
    "https://elsewhere.example/cb?next=https://evil.example/",
    "https://elsewhere.example/cb%2F..%2Fevil",
    "https://elsewhere.example//cb",
    "https://elsewhere.example.evil.example/cb",
    "https://evil.example/https://elsewhere.example/cb",
    "http://elsewhere.example/cb",
], ids=["dot-dot", "sub-path", "longer", "prefix", "extra-query", "encoded-dot-dot", "double-slash",
        "host-suffix", "published-in-path", "http-for-https"])
def test_prefix_and_path_tricks_against_a_published_uri_are_refused(web, redirect_uri):
    """Published redirect URIs match by exact string comparison, never by prefix (S30, SEC11)."""
    refused_page(web, client_id=LISTED, redirect_uri=redirect_uri)


def test_same_origin_is_refused_once_the_app_publishes(web):
    """Once an app publishes its redirect URIs, even its own origin's other paths are refused (S32)."""
    refused_page(web, client_id=LISTED, redirect_uri=LISTED + "callback")


@pytest.mark.parametrize("redirect_uri", [
    "http://localhost:5000/cb",
    "http://[::1]:5000/cb",
    "http://127.0.0.1:5000/cb/evil",
    "http://127.0.0.1/cb?x=1",
    "https://127.0.0.1:5000/cb",
], ids=["localhost-for-ip", "ipv6-for-ipv4", "other-path-any-port", "extra-query", "https-for-http"])
def test_loopback_port_rule_changes_nothing_but_the_port(web, redirect_uri):
    """Any port is allowed for a published loopback IP redirect URI (S33), and nothing else changes."""
    refused_page(web, client_id=LISTED, redirect_uri=redirect_uri)


def test_error_for_an_unverified_redirect_uri_is_a_page(web):
    """An invalid request with an unpublished redirect_uri shows a page: no error is sent to the attacker."""
    refused_page(web, redirect_uri="https://evil.example/cb", response_type="token", state=None)


def test_error_for_an_invalid_client_id_is_a_page(web):
    """With an invalid client_id nothing can be verified: an error page, never the redirect."""
    response = web.get(auth_query(client_id="https://evil.example/#x", redirect_uri="https://evil.example/cb"),
                       status=400)
    assert "Location" not in response.headers


def test_overlong_redirect_uri_is_refused(web):
    """A redirect_uri beyond 2048 characters is refused before anything is stored."""
    refused_page(web, redirect_uri=REDIRECT + "?" + "a" * 2100)


def test_redirect_uri_mismatch_at_the_token_endpoint_is_refused(signed_in):
    """A code sent with a redirect_uri the attacker controls is refused at /token (S14)."""
    code, verifier = code_for(signed_in)
    answer = redeem(signed_in, code, verifier, status=400, redirect_uri="https://evil.example/callback").json
    assert answer["error"] == "invalid_grant" and "access_token" not in answer


def test_redirect_uri_omitted_at_the_token_endpoint_is_refused(signed_in):
    """The redirect_uri is required at /token: leaving it out does not skip the check."""
    code, verifier = code_for(signed_in)
    answer = redeem(signed_in, code, verifier, status=400, redirect_uri=None).json
    assert answer["error"] == "invalid_request" and "access_token" not in answer


def test_pushed_request_with_an_unpublished_redirect_uri_is_refused(web):
    """PAR validates like /auth: a foreign redirect_uri gets an error, not a request_uri (RFC 9126)."""
    params = query_of(auth_query(redirect_uri="https://evil.example/cb"))
    answer = web.post("/par", params, status=400).json
    assert answer["error"] == "invalid_request" and "request_uri" not in answer


def test_request_uri_of_another_client_is_refused(web):
    """A request_uri is bound to the client that pushed it: another client_id cannot use it."""
    request_uri = web.post("/par", query_of(auth_query()), status=201).json["request_uri"]
    response = web.get("/auth?" + urllib.parse.urlencode({"client_id": "http://127.0.0.1:10/",
                                                         "request_uri": request_uri}), status=400)
    assert "Location" not in response.headers


def test_request_uri_replay_is_refused(web):
    """A request_uri works once (RFC 9126 §4)."""
    request_uri = web.post("/par", query_of(auth_query()), status=201).json["request_uri"]
    url = "/auth?" + urllib.parse.urlencode({"client_id": CLIENT, "request_uri": request_uri})
    web.get(url, status=303)
    assert "Location" not in web.get(url, status=400).headers


def test_redirect_uri_beside_a_request_uri_is_ignored(app, web):
    """Parameters sent beside a request_uri are ignored: a redirect_uri added there is not used."""
    request_uri = web.post("/par", query_of(auth_query()), status=201).json["request_uri"]
    url = "/auth?" + urllib.parse.urlencode({"client_id": CLIENT, "request_uri": request_uri,
                                             "redirect_uri": "https://evil.example/cb"})
    key = web.get(url, status=303).headers["Location"].rsplit("/", 1)[1]
    assert app.storage.get_auth_request(key).redirect_uri == REDIRECT
