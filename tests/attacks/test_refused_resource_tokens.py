"""Tokens a resource server must refuse (issue 20), on each backend: `indieauth_resource` introspecting at a
real server (its credential bound to its resource with `resource-server add --resource`), in front of a
WSGI app on another real port.  The JWT rules are attacked in tests/test_resource_server.py."""

import contextlib

import pytest
import requests

import indieauth
from .conftest import bearer, browser, code_for, redeem
from indieauth_resource import ProtectedResource, ResourceProtector

serving, free_port = indieauth.testing.serving, indieauth.testing.free_port


def notes(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [environ["indieauth.token"].me.encode()]


@pytest.fixture
def stack():
    with contextlib.ExitStack() as stack:
        yield stack


@pytest.fixture
def server(make_app, stack):
    """The authorization server on a real port, its base_url that address."""
    port = free_port()
    app = make_app({"server": {"base_url": f"http://127.0.0.1:{port}/"}})
    stack.enter_context(serving(app, port))
    return app


@pytest.fixture
def app(server):
    return server  # so that `owner` is the served app's


def resource_server(app, stack, clock, name):
    """(URL, protector) of a resource server introspecting with a credential bound to its own URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/{name}"
    protector = ResourceProtector(app.issuer, url, required_scopes=["read"],
                                  introspection_credential=app.storage.add_resource_server(name, resources=url),
                                  clock=lambda: indieauth.epoch(clock()))  # the server's test clock
    stack.enter_context(serving(ProtectedResource(notes, protector), port))
    return url, protector


def token_for(app, resource):
    web = browser(app, "owner")
    code, verifier = code_for(web, scope="read", resource=resource)
    return web, redeem(web, code, verifier).json["access_token"]


def test_a_revoked_token_is_refused_at_once_by_an_introspecting_resource_server(server, owner, stack, clock):
    url, protector = resource_server(server, stack, clock, "notes")
    web, token = token_for(server, protector.resource)
    assert requests.get(url, headers=bearer(token), timeout=10).text == owner.me
    web.post("/revoke", {"token": token, "client_id": indieauth.testing.CLIENT_ID})
    refused = requests.get(url, headers=bearer(token), timeout=10)
    assert refused.status_code == 401 and 'error="invalid_token"' in refused.headers["WWW-Authenticate"]


def test_a_token_for_server_a_is_refused_by_server_b(server, owner, stack, clock):
    url_a, protector_a = resource_server(server, stack, clock, "a")
    url_b, _ = resource_server(server, stack, clock, "b")
    _, token = token_for(server, protector_a.resource)
    assert requests.get(url_a, headers=bearer(token), timeout=10).status_code == 200
    assert requests.get(url_b, headers=bearer(token), timeout=10).status_code == 401
    # a token without resource (aud: the person's me) is for neither
    web = browser(server, "owner")
    code, verifier = code_for(web, scope="read")
    plain = redeem(web, code, verifier).json["access_token"]
    assert requests.get(url_a, headers=bearer(plain), timeout=10).status_code == 401


def test_an_expired_token_is_refused(server, owner, stack, clock):
    url, protector = resource_server(server, stack, clock, "notes")
    _, token = token_for(server, protector.resource)
    clock.advance(days=2)  # past the access token's lifetime
    assert requests.get(url, headers=bearer(token), timeout=10).status_code == 401
