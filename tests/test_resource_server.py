"""The resource server's side (issue 20): `indieauth_resource` in front of a tiny WSGI app on a real port,
verifying tokens of a real indieauth server on another port.  Each rule is sent its attack."""

import argparse
import base64
import contextlib
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
import uuid

import pytest
import requests
import webtest

import indieauth
import indieauth_resource
from conftest import PASSWORD, free_port, serving, sign_in
from indieauth_resource import ProtectedResource, ResourceProtector, protected_resource_metadata_url

ME = "https://owner.example/"
CLIENT = "https://app.example/"


@pytest.fixture
def issuer(tmp_path):
    """A real indieauth server on 127.0.0.1, its base_url the address it listens on (real clock)."""
    from indieauth_password import set_password
    port = free_port()
    app = indieauth.make_test_app({"server": {"base_url": f"http://127.0.0.1:{port}/"},
                                   "plugins": {"password": {}}}, folder=str(tmp_path))
    set_password(app, app.storage.create_user("owner", ME, role="owner"), PASSWORD)
    with serving(app, port):
        yield app
    app.close()


def notes(environ, start_response):
    """The protected app: says whose token it was handed."""
    token = environ["indieauth.token"]
    body = json.dumps({"me": token.me, "client_id": token.client_id, "scope": list(token.scope)}).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


@pytest.fixture
def protect():
    """protect(path="/notes", **ResourceProtector kwargs) -> (resource URL, protector): the notes app behind
    ProtectedResource on a real port of its own."""
    with contextlib.ExitStack() as stack:
        def start(issuer, path="/notes", resource=None, port=None, **kwargs):
            port = port or free_port()
            protector = ResourceProtector(issuer, resource or f"http://127.0.0.1:{port}{path}", **kwargs)
            stack.enter_context(serving(ProtectedResource(notes, protector), port))
            return f"http://127.0.0.1:{port}{path}", protector
        yield start


def claims(app, resource, **changes):
    now = int(time.time())
    found = {"iss": app.issuer, "sub": ME, "aud": resource, "client_id": CLIENT, "scope": "read",
             "iat": now, "exp": now + 300, "jti": uuid.uuid4().hex}
    found.update(changes)
    return {k: v for k, v in found.items() if v is not None}


def signed(app, resource, typ="at+jwt", **changes):
    """A token signed with the issuer's own key, as `app.keys.sign` signs, with any claims."""
    import jwt
    kid, key, algorithm = app.keys.current()
    return jwt.encode(claims(app, resource, **changes), key, algorithm=algorithm, headers={"typ": typ, "kid": kid})


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forged(header, body, sign=lambda signing_input: b""):
    """A JWT made by hand: any header, any signature."""
    signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(body).encode())
    return signing_input + "." + b64(sign(signing_input.encode()))


def get(url, token=None):
    return requests.get(url, headers={"Authorization": f"Bearer {token}"} if token else {}, timeout=10)


def refused(response, status=401, error="invalid_token"):
    assert response.status_code == status, response.text
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ") and f'error="{error}"' in challenge
    assert response.json()["error"] == error
    return challenge


# -- the metadata and the challenge

def test_metadata_is_served_at_the_path_inserted_well_known_url(issuer, protect):
    resource, protector = protect(issuer.issuer, required_scopes=["read"])
    url = protected_resource_metadata_url(resource)
    assert url == resource.replace("/notes", "/.well-known/oauth-protected-resource/notes")
    response = get(url)
    assert response.status_code == 200
    assert response.json() == {"resource": resource, "authorization_servers": [issuer.issuer],
                               "scopes_supported": ["read"], "bearer_methods_supported": ["header"]}


def test_a_resource_without_a_path_has_its_metadata_at_the_root_well_known_url():
    assert protected_resource_metadata_url("https://notes.example") == \
        "https://notes.example/.well-known/oauth-protected-resource"
    assert protected_resource_metadata_url("https://notes.example/") == \
        "https://notes.example/.well-known/oauth-protected-resource"
    assert protected_resource_metadata_url("https://notes.example/mcp/") == \
        "https://notes.example/.well-known/oauth-protected-resource/mcp"


def test_a_request_without_a_token_is_401_naming_the_metadata(issuer, protect):  # S89, S90
    resource, _ = protect(issuer.issuer)
    for headers in ({}, {"Authorization": "Basic b3duZXI6cGFzc3dvcmQ="}, {"Authorization": "Bearer "}):
        response = requests.get(resource, headers=headers, timeout=10)
        assert response.status_code == 401
        # RFC 6750 §3.1: no error code when the request had no token; RFC 9728 §5.1: where the metadata is
        assert response.headers["WWW-Authenticate"] == \
            f'Bearer resource_metadata="{protected_resource_metadata_url(resource)}"'


def test_a_token_for_this_resource_reaches_the_app(issuer, protect):
    resource, _ = protect(issuer.issuer, required_scopes=["read"])
    response = get(resource, signed(issuer, resource, scope="read create"))
    assert response.status_code == 200
    assert response.json() == {"me": ME, "client_id": CLIENT, "scope": ["read", "create"]}


def test_an_audience_list_containing_this_resource_is_accepted(issuer, protect):
    resource, _ = protect(issuer.issuer)
    assert get(resource, signed(issuer, resource, aud=["https://other.example/", resource])).status_code == 200


# -- the attacks, each refused

def test_a_token_of_another_issuer_is_refused(issuer, protect):
    resource, _ = protect(issuer.issuer)
    # the issuer is compared exactly: without its trailing slash it is another identifier (RFC 9068 §4)
    for other in (issuer.issuer.rstrip("/"), "https://evil.example/", None):
        challenge = refused(get(resource, signed(issuer, resource, iss=other)))
        assert f'resource_metadata="{protected_resource_metadata_url(resource)}"' in challenge


def test_a_protector_configured_without_the_trailing_slash_refuses_every_token(issuer, protect):
    resource, _ = protect(issuer.issuer.rstrip("/"), jwks_uri=issuer.url(".well-known/jwks.json"))
    refused(get(resource, signed(issuer, resource)))


def test_metadata_naming_another_issuer_is_not_trusted_for_the_keys(issuer, protect):
    # RFC 8414 §3.3: the metadata's issuer must be the one configured; without the slash it is not, and
    # no key set is read from it, so nothing passes
    resource, _ = protect(issuer.issuer.rstrip("/"))
    response = get(resource, signed(issuer, resource, iss=issuer.issuer.rstrip("/")))
    assert response.status_code == 503 and response.json()["error"] == "temporarily_unavailable"


def test_a_token_for_resource_a_is_refused_by_resource_b(issuer, protect):
    resource_a, _ = protect(issuer.issuer, path="/a")
    resource_b, _ = protect(issuer.issuer, path="/b")
    token = signed(issuer, resource_a)
    assert get(resource_a, token).status_code == 200
    refused(get(resource_b, token))
    # nor is a token without the resource: aud the person's me, as for an IndieAuth client (or none at all)
    refused(get(resource_b, signed(issuer, resource_b, aud=ME)))
    refused(get(resource_b, signed(issuer, resource_b, aud=None)))
    # a resource's URL is compared exactly: a prefix is not the same resource
    refused(get(resource_b, signed(issuer, resource_b, aud=resource_b + "x")))


def test_an_expired_token_is_refused_after_the_leeway(issuer, protect):  # S90, J4
    resource, _ = protect(issuer.issuer, leeway=30)
    now = int(time.time())
    assert get(resource, signed(issuer, resource, exp=now - 10)).status_code == 200  # within the leeway
    refused(get(resource, signed(issuer, resource, exp=now - 60)))
    refused(get(resource, signed(issuer, resource, exp=None)))  # a token that never expires is refused


def test_a_token_not_valid_yet_is_refused(issuer, protect):
    resource, _ = protect(issuer.issuer, leeway=30)
    refused(get(resource, signed(issuer, resource, nbf=int(time.time()) + 120)))


def test_an_unsigned_token_alg_none_is_refused(issuer, protect):
    resource, _ = protect(issuer.issuer)
    kid = issuer.keys.current()[0]
    for alg in ("none", "None", "NONE"):
        refused(get(resource, forged({"alg": alg, "typ": "at+jwt", "kid": kid}, claims(issuer, resource))))


@pytest.mark.parametrize("secret", ["pem", "jwk"])
def test_a_token_signed_hs256_with_the_public_key_is_refused(issuer, protect, secret):
    # the key confusion attack: the public key, which anyone can read, used as an HMAC secret
    from cryptography.hazmat.primitives import serialization
    resource, _ = protect(issuer.issuer)
    kid, private_key, _ = issuer.keys.current()
    public = private_key.public_key()
    key = (public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
           if secret == "pem" else json.dumps(issuer.keys.jwks()["keys"][0]).encode())
    token = forged({"alg": "HS256", "typ": "at+jwt", "kid": kid}, claims(issuer, resource),
                   lambda signing_input: hmac.new(key, signing_input, hashlib.sha256).digest())
    refused(get(resource, token))


def test_a_token_signed_by_another_key_under_the_issuers_kid_is_refused(issuer, protect):
    import jwt
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    resource, _ = protect(issuer.issuer)
    kid = issuer.keys.current()[0]
    token = jwt.encode(claims(issuer, resource), Ed25519PrivateKey.generate(), algorithm="EdDSA",
                       headers={"typ": "at+jwt", "kid": kid})
    refused(get(resource, token))


def test_a_jwt_that_is_not_an_access_token_is_refused(issuer, protect):
    resource, _ = protect(issuer.issuer)
    # RFC 9068 §4: an ID token or any other JWT of the issuer must not pass for an access token
    refused(get(resource, signed(issuer, resource, typ="JWT")))
    refused(get(resource, "not.a.jwt"))
    refused(get(resource, "opaque-token-xyz"))


@pytest.mark.parametrize("header, changes", [
    ({"kid": ["a list"]}, {}), ({"kid": {"a": 1}}, {}), ({"kid": None}, {}), ({"typ": ["at+jwt"]}, {}),
    ({}, {"aud": 5}), ({}, {"aud": {"resource": 1}}), ({}, {"aud": [5, None]}), ({}, {"exp": "tomorrow"}),
    ({}, {"iss": ["http://a/"]}), ({}, {"nbf": "now"}), ({}, {})])
def test_a_malformed_token_is_refused_never_a_server_error(issuer, protect, header, changes):
    from jwt.algorithms import get_default_algorithms
    resource, _ = protect(issuer.issuer)
    kid, key, algorithm = issuer.keys.current()
    sign = get_default_algorithms()[algorithm].sign  # the real key's signature over whatever was written
    token = forged({"alg": algorithm, "typ": "at+jwt", "kid": kid, **header}, claims(issuer, resource, **changes),
                   lambda signing_input: sign(signing_input, key))
    if header or changes:
        refused(get(resource, token))
    else:  # the control: made the same way but well formed, the token is accepted
        assert get(resource, token).status_code == 200


def test_an_unknown_kid_refetches_the_key_set_once_a_minute_at_most(issuer, protect):
    import jwt
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    now = [time.time()]
    fetched = []
    session = requests.Session()
    session.hooks["response"].append(lambda response, **_: fetched.append(response.url))
    resource, protector = protect(issuer.issuer, session=session, clock=lambda: now[0])
    assert get(resource, signed(issuer, resource)).status_code == 200
    jwks = [url for url in fetched if url.endswith("jwks.json")]
    assert len(jwks) == 1
    stranger = jwt.encode(claims(issuer, resource), Ed25519PrivateKey.generate(), algorithm="EdDSA",
                          headers={"typ": "at+jwt", "kid": "unknown"})
    for _ in range(5):
        refused(get(resource, stranger))
    assert len([url for url in fetched if url.endswith("jwks.json")]) == 1  # within the minute: not again
    now[0] += 61
    refused(get(resource, stranger))
    assert len([url for url in fetched if url.endswith("jwks.json")]) == 2


def test_a_new_signing_key_is_found_by_refetching(issuer, protect):
    now = [time.time()]
    resource, _ = protect(issuer.issuer, clock=lambda: now[0])
    old = signed(issuer, resource)
    assert get(resource, old).status_code == 200  # the key set is now kept
    indieauth.cmd_keys_rotate(issuer, argparse.Namespace())  # `indieauth keys rotate`
    new = issuer.keys.sign(claims(issuer, resource))  # the running app signs with the new key
    now[0] += 61  # a minute after the key set was read, an unknown kid reads it again
    assert get(resource, new).status_code == 200
    assert get(resource, old).status_code == 200  # the retired key stays published for its tokens


def test_a_token_without_the_required_scope_is_403(issuer, protect):  # S90
    resource, _ = protect(issuer.issuer, required_scopes=["read", "notes"])
    challenge = refused(get(resource, signed(issuer, resource, scope="read")), 403, "insufficient_scope")
    assert 'scope="read notes"' in challenge
    refused(get(resource, signed(issuer, resource, scope=None)), 403, "insufficient_scope")


def test_an_issuer_that_cannot_be_reached_is_503_not_a_pass(protect):
    resource, _ = protect(f"http://127.0.0.1:{free_port()}/", timeout=1)
    response = get(resource, "a.b.c")
    assert response.status_code in (401, 503)  # a token that is not a JWT is refused before any fetch
    token = forged({"alg": "EdDSA", "typ": "at+jwt", "kid": "k"}, {"iss": "x"})
    response = get(resource, token)
    assert response.status_code == 503 and response.json()["error"] == "temporarily_unavailable"


def test_the_module_does_not_import_the_server():
    code = "import sys, indieauth_resource; sys.exit('indieauth' in sys.modules or 'bottle' in sys.modules)"
    folder = os.path.dirname(indieauth_resource.__file__)
    assert subprocess.run([sys.executable, "-c", code], cwd=folder).returncode == 0


# -- tokens from the real flow, and the introspection path

def person(app):
    """A browser signed in to `app` as its owner (webtest, in the same process as the served app)."""
    web = webtest.TestApp(app, extra_environ={"REMOTE_ADDR": "192.0.2.10"})
    sign_in(web)
    return web


def flow_token(web, scope="read", **params):
    """The token response of a whole authorization (`params` such as resource= go to /auth)."""
    kit = indieauth.testing
    consent_url, verifier = kit.start_authorization(web, scope=scope, **params)
    return kit.redeem(web, kit.approve(web, consent_url), verifier)


def test_a_token_from_a_flow_without_resource_is_for_the_persons_me(issuer, protect):
    # an IndieAuth client sends no resource: aud is me, which a Micropub endpoint of that site accepts
    token = flow_token(person(issuer))["access_token"]
    micropub, _ = protect(issuer.issuer, path="/micropub", resource=ME, required_scopes=["read"])
    response = get(micropub, token)
    assert response.status_code == 200 and response.json()["me"] == ME
    notes_url, _ = protect(issuer.issuer)
    refused(get(notes_url, token))  # and no other resource does


def test_a_token_from_a_flow_with_resource_is_for_that_resource_alone(issuer, protect):
    resource_a, protector_a = protect(issuer.issuer, path="/a")
    resource_b, _ = protect(issuer.issuer, path="/b")
    token = flow_token(person(issuer), resource=protector_a.resource)["access_token"]
    assert get(resource_a, token).json()["me"] == ME
    refused(get(resource_b, token))


def bound_credential(app, name, port, path):
    """`indieauth resource-server add NAME --resource URL` for the resource that will listen on `port`."""
    return app.storage.add_resource_server(name, resources=f"http://127.0.0.1:{port}{path}")


def test_introspection_accepts_a_live_token_and_refuses_it_once_revoked(issuer, protect):
    web = person(issuer)
    port = free_port()
    resource, protector = protect(issuer.issuer, port=port,
                                  introspection_credential=bound_credential(issuer, "notes", port, "/notes"))
    token = flow_token(web, resource=protector.resource)["access_token"]
    assert get(resource, token).json()["me"] == ME
    web.post("/revoke", {"token": token, "client_id": indieauth.testing.CLIENT_ID})
    refused(get(resource, token))
    refused(get(resource, "an-unknown-token"))


def test_introspection_refuses_a_token_for_another_resource(issuer, protect):
    web = person(issuer)
    port_a, port_b = free_port(), free_port()
    resource_a, protector_a = protect(issuer.issuer, path="/a", port=port_a,
                                      introspection_credential=bound_credential(issuer, "a", port_a, "/a"))
    # B's own credential is bound to B: the server answers {"active": false} for A's token
    resource_b, _ = protect(issuer.issuer, path="/b", port=port_b,
                            introspection_credential=bound_credential(issuer, "b", port_b, "/b"))
    token = flow_token(web, resource=protector_a.resource)["access_token"]
    assert get(resource_a, token).status_code == 200
    refused(get(resource_b, token))


def test_a_wrong_introspection_credential_lets_nothing_through(issuer, protect):
    web = person(issuer)
    resource, protector = protect(issuer.issuer, introspection_credential="not-a-credential")
    token = flow_token(web, resource=protector.resource)["access_token"]
    response = get(resource, token)
    assert response.status_code == 503 and response.json()["error"] == "temporarily_unavailable"
