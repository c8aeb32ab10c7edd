"""JWT access tokens (RFC 9068), the JWKS, key rotation and the token_claims hook."""

import argparse

import jwt
import pytest
import webtest

import fixed_clients
import indieauth
from conftest import PASSWORD, serving, sign_in
from test_protocol import CLIENT, bearer, get_code, redeem
from test_token_management import new_token


@pytest.fixture
def app(make_app):
    return make_app(plugins=[fixed_clients])


@pytest.fixture
def signed_in(web, owner):
    sign_in(web)
    return web


def issue(web, scope="profile create"):
    code, verifier, _ = get_code(web, scope=scope)
    return redeem(web, code, verifier).json


def jwks_of(web):
    return {key["kid"]: key for key in web.get("/.well-known/jwks.json").json["keys"]}


def verify(web, token, now=None):
    """Verify as a resource server would; the test clock stands in for the real one for `exp`."""
    header = jwt.get_unverified_header(token)
    key = jwt.PyJWK(jwks_of(web)[header["kid"]])
    claims = jwt.decode(token, key, algorithms=[header["alg"]], issuer="http://localhost/",
                        audience="https://owner.example/", options={"verify_exp": False, "verify_iat": False})
    if now is not None:
        assert claims["exp"] > indieauth.epoch(now), "expired"
    return claims


def test_access_tokens_are_rfc_9068_jwts(signed_in, clock):
    body = issue(signed_in)
    header = jwt.get_unverified_header(body["access_token"])
    assert header["typ"] == "at+jwt" and header["alg"] == "EdDSA" and header["kid"]
    claims = verify(signed_in, body["access_token"])
    assert claims["iss"] == "http://localhost/" and claims["sub"] == "https://owner.example/"
    assert claims["client_id"] == CLIENT and claims["scope"] == "profile create"
    assert claims["exp"] - claims["iat"] == 86400 and len(claims["jti"]) == 32
    assert claims["auth_time"] <= claims["iat"]


def test_refresh_tokens_stay_opaque(signed_in):
    body = issue(signed_in)
    assert body["refresh_token"].count(".") == 0


def test_metadata_names_the_jwks(web):
    assert web.get("/.well-known/oauth-authorization-server").json["jwks_uri"] == "http://localhost/.well-known/jwks.json"
    assert web.get("/.well-known/jwks.json").headers["Access-Control-Allow-Origin"] == "*"


def test_jwks_has_no_private_parts(signed_in):
    issue(signed_in)
    for key in jwks_of(signed_in).values():
        assert "d" not in key and key["use"] == "sig" and key["kty"] == "OKP"


def test_a_resource_server_knowing_only_the_jwks_url_verifies_tokens(make_app):
    """Done means: PyJWT's PyJWKClient against a real server, and revocation seen at once elsewhere."""
    from conftest import free_port
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = make_app({"server": {"base_url": base + "/"}}, plugins=[fixed_clients])
    from indieauth_password import set_password
    set_password(app, app.storage.create_user("owner", "https://owner.example/", role="owner"), PASSWORD)
    web = webtest.TestApp(app, extra_environ={"HTTP_HOST": f"127.0.0.1:{port}"})
    sign_in(web)
    code, verifier, _ = get_code(web)
    token = redeem(web, code, verifier).json["access_token"]
    secret = app.storage.add_resource_server("rs")
    with serving(app, port):
        client = jwt.PyJWKClient(base + "/.well-known/jwks.json")
        claims = jwt.decode(token, client.get_signing_key_from_jwt(token), algorithms=["EdDSA"],
                            issuer=base + "/", audience="https://owner.example/",
                            options={"verify_exp": False, "verify_iat": False})  # the app's clock is a test clock
        assert claims["client_id"] == CLIENT
        import requests
        assert requests.post(base + "/revoke", data={"token": token}, timeout=5).status_code == 200
        assert requests.post(base + "/introspect", data={"token": token}, headers=bearer(secret),
                             timeout=5).json() == {"active": False}
        assert requests.get(base + "/token", headers=bearer(token), timeout=5).status_code == 401


@pytest.mark.parametrize("algorithm, kty", [("RS256", "RSA"), ("ES256", "EC")])
def test_rs256_and_es256_by_config(make_app, owner, algorithm, kty, tmp_path):
    app = make_app({"tokens": {"algorithm": algorithm, "signing_key": {"file": f"{algorithm}.pem"}}},
                   plugins=[fixed_clients])
    from indieauth_password import set_password
    set_password(app, app.storage.create_user("ann", "https://ann.example/"), PASSWORD)
    web = webtest.TestApp(app)
    sign_in(web, "ann")
    token = issue(web)["access_token"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == algorithm and jwks_of(web)[header["kid"]]["kty"] == kty
    jwt.decode(token, jwt.PyJWK(jwks_of(web)[header["kid"]]), algorithms=[algorithm], audience="https://ann.example/",
               options={"verify_exp": False})


def test_opaque_tokens_by_config(make_app, owner):
    app = make_app({"tokens": {"format": "opaque"}}, plugins=[fixed_clients])
    web = webtest.TestApp(app)
    sign_in(web)
    token = issue(web)["access_token"]
    assert token.count(".") == 0
    assert web.get("/token", headers=bearer(token)).json["client_id"] == CLIENT


def test_a_forged_jwt_is_not_accepted(signed_in):
    token = issue(signed_in)["access_token"]
    head, payload, signature = token.split(".")
    forged = f"{head}.{payload}.{signature[:-4]}AAAA"
    signed_in.get("/token", headers=bearer(forged), status=401)


def rotate(app):
    return indieauth.cmd_keys_rotate(app, argparse.Namespace())


def test_key_rotation_keeps_old_tokens_verifiable_until_they_expire(signed_in, app, clock):
    old_token = issue(signed_in)["access_token"]
    old_kid = jwt.get_unverified_header(old_token)["kid"]
    assert rotate(app) == 0
    new_token = issue(signed_in)["access_token"]
    new_kid = jwt.get_unverified_header(new_token)["kid"]
    assert new_kid != old_kid  # new tokens use the new key
    keys = jwks_of(signed_in)
    assert set(keys) == {old_kid, new_kid}
    verify(signed_in, old_token, clock())  # still verifies with the published old key
    verify(signed_in, new_token, clock())
    clock.advance(days=1, seconds=1)  # the old key's last token has expired
    assert set(jwks_of(signed_in)) == {new_kid}


def test_a_retired_key_that_still_signs_stays_published(signed_in, app, clock):
    """A process not yet reloaded may sign with the old key: it stays published for those tokens."""
    old_kid = jwt.get_unverified_header(issue(signed_in)["access_token"])["kid"]
    app.storage.retire_key(old_kid, clock() + indieauth.datetime.timedelta(hours=1))
    clock.advance(minutes=30)
    token = issue(signed_in)["access_token"]  # this process still has the old key (file unchanged)
    clock.advance(hours=12)
    assert old_kid in jwks_of(signed_in)
    verify(signed_in, token, clock())


def test_a_30_day_testing_token_verifies_through_the_jwks_until_it_expires_across_a_rotation(signed_in, app, clock):
    """Issue 21: the README's promise, the key stays published until its last token expires."""
    token = new_token(signed_in, lifetime="30d").html.select_one("textarea#token").text.strip()
    assert rotate(app) == 0
    clock.advance(days=29)
    signed_in.get("/token", headers=bearer(token), status=200)
    verify(signed_in, token, clock())  # the JWKS still has its key
    clock.advance(days=1, seconds=1)
    assert jwt.get_unverified_header(token)["kid"] not in jwks_of(signed_in)


def test_keys_list(app, capsys, signed_in):
    issue(signed_in)
    rotate(app)
    capsys.readouterr()
    indieauth.cmd_keys_list(app, argparse.Namespace())
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and "retired, published until" in lines[0] and lines[1].endswith("signing")


class ExtraClaims:
    @indieauth.hookimpl
    def token_claims(self, app, me, client, scopes, extra):
        return {"team": "editors", "role": "editor", "iss": "https://evil.example/", "scope": "everything"}


def test_hook_token_claims_adds_claims_under_the_cores(make_app, owner):
    app = make_app(plugins=[fixed_clients, ExtraClaims()])
    web = webtest.TestApp(app)
    sign_in(web)
    claims = verify(web, issue(web)["access_token"])
    assert claims["team"] == "editors"
    assert "role" not in claims  # the core's alone, and only for registered apps (test_roles.py)
    assert claims["iss"] == "http://localhost/" and claims["scope"] == "profile create"


def test_a_bad_signing_key_is_a_clear_error(make_app, tmp_path):
    (tmp_path / "bad.pem").write_text("not a key")
    app = make_app({"tokens": {"signing_key": {"file": "bad.pem"}}})
    with pytest.raises(indieauth.ConfigError, match=r"\[tokens\] signing_key"):
        app.keys.current()
