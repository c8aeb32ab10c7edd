"""Pushed Authorization Requests (RFC 9126)."""

import urllib.parse

import pytest
import webtest

import fixed_clients
from conftest import sign_in
from test_protocol import CLIENT, REDIRECT, auth_params, pkce_pair, query_of, redeem


@pytest.fixture
def app(make_app):
    return make_app(plugins=[fixed_clients])


@pytest.fixture
def signed_in(web, owner):
    sign_in(web)
    return web


def push(web, status=201, **overrides):
    verifier, challenge = pkce_pair()
    params = auth_params(challenge, **overrides)
    return web.post("/par", params, status=status), verifier


def test_metadata_names_the_par_endpoint(web):
    doc = web.get("/.well-known/oauth-authorization-server").json
    assert doc["pushed_authorization_request_endpoint"] == "http://localhost/par"
    assert doc["require_pushed_authorization_requests"] is False


def test_push_answers_201_with_a_request_uri(web):
    response, _ = push(web)
    body = response.json
    assert response.status_int == 201 and response.headers["Cache-Control"] == "no-store"
    assert body["request_uri"].startswith("urn:ietf:params:oauth:request_uri:")
    assert 60 <= body["expires_in"] <= 600


def start_with(web, request_uri, client_id=CLIENT, status=303, **extra):
    return web.get("/auth?" + urllib.parse.urlencode({"client_id": client_id, "request_uri": request_uri, **extra}),
                   status=status)


def test_the_whole_flow_with_a_pushed_request(signed_in):
    response, verifier = push(signed_in, scope="profile create")
    page = start_with(signed_in, response.json["request_uri"]).follow()
    assert "Example App" in page.text
    location = page.forms["consent"].submit("action", value="approve", status=303).headers["Location"]
    params = query_of(location)
    assert params["state"] == "st4te" and params["iss"] == "http://localhost/"
    assert redeem(signed_in, params["code"], verifier).json["scope"] == "profile create"


def test_parameters_outside_the_pushed_request_are_ignored(signed_in):  # RFC 9126 §4
    response, _ = push(signed_in, scope="profile")
    page = start_with(signed_in, response.json["request_uri"], scope="delete",
                      redirect_uri="https://evil.example/").follow()
    assert [box["value"] for box in page.html.select("input[name=scope]")] == ["profile"]
    location = page.forms["consent"].submit("action", value="approve").headers["Location"]
    assert location.startswith(REDIRECT)


def test_a_request_uri_is_single_use(signed_in):
    response, _ = push(signed_in)
    start_with(signed_in, response.json["request_uri"])
    page = start_with(signed_in, response.json["request_uri"], status=400)
    assert "Location" not in page.headers


def test_a_request_uri_is_bound_to_its_client(signed_in):
    response, _ = push(signed_in)
    start_with(signed_in, response.json["request_uri"], client_id="https://spoof.example/", status=400)
    start_with(signed_in, response.json["request_uri"])  # not used up by the refused attempt


def test_a_request_uri_expires(signed_in, clock):
    response, _ = push(signed_in)
    clock.advance(seconds=response.json["expires_in"] + 1)
    start_with(signed_in, response.json["request_uri"], status=400)


@pytest.mark.parametrize("request_uri", ["urn:ietf:params:oauth:request_uri:nope", "https://evil.example/req",
                                         "urn:ietf:params:oauth:request_uri:"])
def test_unknown_request_uris_are_a_page_not_a_redirect(signed_in, request_uri):
    assert "Location" not in start_with(signed_in, request_uri, status=400).headers


@pytest.mark.parametrize("overrides, error", [
    ({"client_id": None}, "invalid_request"),
    ({"redirect_uri": "https://evil.example/cb"}, "invalid_request"),
    ({"code_challenge_method": "plain"}, "invalid_request"),
    ({"state": None}, "invalid_request"),
    ({"scope": 'a"b'}, "invalid_scope"),
    ({"response_type": "token"}, "unsupported_response_type"),
    ({"request_uri": "urn:ietf:params:oauth:request_uri:x"}, "invalid_request"),
])
def test_pushed_requests_are_validated_like_the_authorization_endpoint(web, overrides, error):
    response, _ = push(web, status=400, **overrides)
    assert response.json["error"] == error and response.json["error_description"]
    assert response.content_type == "application/json"


def test_require_par_refuses_requests_in_the_url(make_app, owner):
    app = make_app({"security": {"require_par": True}}, plugins=[fixed_clients])
    web = webtest.TestApp(app)
    sign_in(web)
    assert web.get("/.well-known/oauth-authorization-server").json["require_pushed_authorization_requests"] is True
    _, challenge = pkce_pair()
    location = web.get("/auth?" + urllib.parse.urlencode(auth_params(challenge)), status=302).headers["Location"]
    assert query_of(location)["error"] == "invalid_request" and location.startswith(REDIRECT)
    response, _ = push(web)
    start_with(web, response.json["request_uri"]).follow()


def test_par_without_signing_in_first(web, owner):
    """The person signs in after the app pushed the request; the stored request survives that."""
    response, _ = push(web)
    consent_url = start_with(web, response.json["request_uri"]).headers["Location"]
    login = web.get(consent_url, status=303).follow()
    form = login.forms["password-login"]
    form["username"], form["password"] = "owner", "correct horse battery staple"
    assert form.submit(status=303).headers["Location"] == consent_url
    assert web.get(consent_url).forms["consent"]
