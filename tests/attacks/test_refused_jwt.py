"""Forged JWT access tokens: none of them verifies at GET /token, /userinfo or /introspect.

Each forgery starts from a real token of the owner (EdDSA, RFC 9068) and changes what an attacker
can change: the algorithm, the key, the claims, or the clock.
"""

import base64
import hashlib
import hmac
import json

import pytest

from .conftest import bearer, tokens_for


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def parts(token):
    header, payload, signature = token.split(".")
    return json.loads(unb64(header)), json.loads(unb64(payload)), signature


def encode(header, payload, sign):
    """header.payload.signature, signed by `sign(signing input bytes)` (bytes)."""
    head = b64(json.dumps(header).encode()) + "." + b64(json.dumps(payload).encode())
    return head + "." + b64(sign(head.encode()))


def alg_none(web, token):
    header, payload, _ = parts(token)
    return encode({**header, "alg": "none"}, payload, lambda data: b"")


def alg_none_capitalised(web, token):
    header, payload, _ = parts(token)
    return encode({**header, "alg": "None"}, payload, lambda data: b"")


def hs256_with_public_key(web, token):
    """The HS256/RS256 confusion: an HMAC keyed with the published public key (its JWK, and its x)."""
    header, payload, _ = parts(token)
    jwk = next(k for k in web.get("/.well-known/jwks.json").json["keys"] if k["kid"] == header["kid"])
    key = json.dumps(jwk).encode()
    return encode({**header, "alg": "HS256"}, {**payload, "scope": "profile create delete"},
                  lambda data: hmac.new(key, data, hashlib.sha256).digest())


def hs256_with_raw_public_key(web, token):
    header, payload, _ = parts(token)
    jwk = next(k for k in web.get("/.well-known/jwks.json").json["keys"] if k["kid"] == header["kid"])
    key = unb64(jwk["x"])
    return encode({**header, "alg": "HS256"}, payload, lambda data: hmac.new(key, data, hashlib.sha256).digest())


def other_key(web, token):
    """A token signed by the attacker's own Ed25519 key, under the server's kid."""
    from cryptography.hazmat.primitives.asymmetric import ed25519
    header, payload, _ = parts(token)
    return encode(header, {**payload, "sub": "https://mallory.example/"}, ed25519.Ed25519PrivateKey.generate().sign)


def tampered_payload(web, token):
    """The real signature over a payload with a wider scope."""
    header, payload, signature = parts(token)
    forged = b64(json.dumps(header).encode()) + "." + b64(json.dumps({**payload, "scope": "profile create delete"}).encode())
    return forged + "." + signature


def tampered_subject(web, token):
    header, payload, signature = parts(token)
    forged = b64(json.dumps(header).encode()) + "." + b64(json.dumps({**payload, "me": "x", "sub": "https://mallory.example/"}).encode())
    return forged + "." + signature


def signature_stripped(web, token):
    return token.rsplit(".", 1)[0] + "."


def jku_to_attacker(web, token):
    """A header pointing at the attacker's key set (jku) with a key of theirs."""
    from cryptography.hazmat.primitives.asymmetric import ed25519
    header, payload, _ = parts(token)
    return encode({**header, "jku": "https://evil.example/jwks.json", "kid": "evil"}, payload,
                  ed25519.Ed25519PrivateKey.generate().sign)


FORGERIES = [alg_none, alg_none_capitalised, hs256_with_public_key, hs256_with_raw_public_key, other_key,
             tampered_payload, tampered_subject, signature_stripped, jku_to_attacker]


def verify_at(web, endpoint, token, rs_secret):
    """(refused?, body) of presenting `token` at `endpoint`."""
    if endpoint == "introspect":
        body = web.post("/introspect", {"token": token}, headers=bearer(rs_secret)).json
        return body == {"active": False}, body
    response = web.get("/" + endpoint, headers=bearer(token), expect_errors=True)
    return response.status_int == 401 and response.json["error"] == "invalid_token", response.json


@pytest.fixture
def rs_secret(app):
    return app.storage.add_resource_server("rs")


@pytest.mark.parametrize("endpoint", ["token", "userinfo", "introspect"])
@pytest.mark.parametrize("forge", FORGERIES, ids=lambda f: f.__name__.replace("_", "-"))
def test_forged_token_does_not_verify(signed_in, rs_secret, forge, endpoint):
    """JWT forgery (alg=none, HS256 with the public key, another key, tampered claims) is refused."""
    real = tokens_for(signed_in)["access_token"]
    refused, body = verify_at(signed_in, endpoint, forge(signed_in, real), rs_secret)
    assert refused, body


@pytest.mark.parametrize("endpoint", ["token", "userinfo", "introspect"])
def test_expired_token_does_not_verify(signed_in, rs_secret, clock, endpoint):
    """An access token past its exp (1 day) is refused everywhere."""
    real = tokens_for(signed_in)["access_token"]
    clock.advance(days=1, seconds=1)
    refused, body = verify_at(signed_in, endpoint, real, rs_secret)
    assert refused, body


@pytest.mark.parametrize("endpoint", ["token", "userinfo", "introspect"])
def test_revoked_token_does_not_verify(signed_in, rs_secret, endpoint):
    """A revoked JWT stops working at once, though its signature and exp are still good."""
    real = tokens_for(signed_in)["access_token"]
    signed_in.post("/revoke", {"token": real})
    refused, body = verify_at(signed_in, endpoint, real, rs_secret)
    assert refused, body
