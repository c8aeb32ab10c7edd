"""Attacks on authorization codes, PKCE and refresh tokens: each must be refused, and leave no token."""

import pytest

import indieauth

from .conftest import CLIENT, REDIRECT, auth_query, bearer, code_for, query_of, redeem, tokens_for


def refused_redirect(web, url):
    """The error an authorization request was sent back with; no consent was stored for it."""
    response = web.get(url, status=302)
    assert response.headers["Location"].startswith(REDIRECT)
    return query_of(response.headers["Location"])


def live(web, access_token):
    return web.get("/token", headers=bearer(access_token), expect_errors=True).status_int == 200


# -- PKCE (RFC 7636; SEC4, SEC5, S38)

def test_code_without_verifier_is_refused(signed_in):
    """PKCE: a stolen code redeemed without its code_verifier gives nothing."""
    code, _ = code_for(signed_in)
    answer = redeem(signed_in, code, None, status=400).json
    assert answer["error"] == "invalid_request" and "access_token" not in answer


def test_wrong_verifier_burns_the_code(signed_in):
    """PKCE: one wrong guess at the verifier uses the code up, so guessing cannot go on (SEC4)."""
    code, verifier = code_for(signed_in)
    assert redeem(signed_in, code, "w" * 43, status=400).json["error"] == "invalid_grant"
    answer = redeem(signed_in, code, verifier, status=400).json
    assert answer["error"] == "invalid_grant" and "access_token" not in answer


@pytest.mark.parametrize("verifier", ["short", "v" * 129, "v" * 42 + "!"], ids=["too-short", "too-long", "bad-char"])
def test_malformed_verifier_is_refused(signed_in, verifier):
    """PKCE: a verifier that is not 43-128 unreserved characters never matches."""
    code, _ = code_for(signed_in)
    answer = redeem(signed_in, code, verifier, status=400).json
    assert answer["error"] == "invalid_grant" and "access_token" not in answer


def test_challenge_as_verifier_is_refused(signed_in):
    """PKCE: sending the (public) code_challenge itself as the verifier does not work."""
    consent, verifier = indieauth.testing.start_authorization(signed_in)
    code = indieauth.testing.approve(signed_in, consent)
    answer = redeem(signed_in, code, indieauth.pkce_s256(verifier), status=400).json
    assert answer["error"] == "invalid_grant" and "access_token" not in answer


def test_plain_method_is_refused(web):
    """PKCE downgrade: code_challenge_method=plain offers no protection and is refused (S38)."""
    error = refused_redirect(web, auth_query(code_challenge="p" * 43, code_challenge_method="plain"))
    assert error["error"] == "invalid_request" and "S256" in error["error_description"]


@pytest.mark.parametrize("challenge", ["c" * 42, "c" * 129, "c" * 42 + "=", "c" * 42 + "/"],
                         ids=["42-chars", "129-chars", "padding", "slash"])
def test_challenge_of_bad_shape_is_refused(web, challenge):
    """PKCE: a code_challenge that is not 43-128 unreserved characters is refused at /auth."""
    assert refused_redirect(web, auth_query(code_challenge=challenge))["error"] == "invalid_request"


@pytest.mark.parametrize("drop", ["code_challenge", "code_challenge_method"])
def test_half_a_pkce_pair_is_refused(web, drop):
    """PKCE: a challenge without its method (or the reverse) is refused, not treated as no PKCE."""
    assert refused_redirect(web, auth_query(**{drop: None}))["error"] == "invalid_request"


def test_request_without_pkce_is_refused(web):
    """PKCE is required: an authorization request without a challenge gets no consent page."""
    error = refused_redirect(web, auth_query(code_challenge=None, code_challenge_method=None))
    assert error["error"] == "invalid_request"


def test_verifier_for_a_code_issued_without_challenge_is_refused(make_app, owner):
    """PKCE downgrade (SEC5): a code issued without a challenge cannot be redeemed with a verifier."""
    from .conftest import browser
    app = make_app({"security": {"pkce_exempt_clients": [CLIENT]}})
    web = browser(app, "owner")
    consent = web.get(auth_query(code_challenge=None, code_challenge_method=None), status=303).headers["Location"]
    code = indieauth.testing.approve(web, consent.replace("http://localhost", ""))
    answer = redeem(web, code, "v" * 43, status=400).json
    assert answer["error"] == "invalid_grant" and "access_token" not in answer


# -- codes: single use, bound, short-lived (S48-S54, SEC1-SEC3)

def test_second_use_of_a_code_is_refused_and_revokes_the_first(signed_in):
    """Code replay: the second redemption is refused and the first one's tokens are revoked (SEC1)."""
    code, verifier = code_for(signed_in)
    first = redeem(signed_in, code, verifier).json
    answer = redeem(signed_in, code, verifier, status=400).json
    assert answer["error"] == "invalid_grant" and "access_token" not in answer
    assert not live(signed_in, first["access_token"])
    refreshed = signed_in.post("/token", {"grant_type": "refresh_token", "refresh_token": first["refresh_token"],
                                          "client_id": CLIENT}, status=400).json
    assert refreshed["error"] == "invalid_grant"


def test_code_redeemed_at_auth_then_token_is_refused(signed_in):
    """Code replay across endpoints: a code used at POST /auth cannot be used again at /token."""
    code, verifier = code_for(signed_in, scope="profile")
    redeem(signed_in, code, verifier, path="/auth")
    answer = redeem(signed_in, code, verifier, status=400).json
    assert answer["error"] == "invalid_grant" and "access_token" not in answer


def test_code_is_bound_to_its_client_id(signed_in):
    """A code stolen from one app is refused when another client_id redeems it (S14)."""
    code, verifier = code_for(signed_in)
    answer = redeem(signed_in, code, verifier, status=400, client_id="http://127.0.0.1:10/").json
    assert answer["error"] == "invalid_grant" and "access_token" not in answer


def test_code_is_bound_to_its_redirect_uri(signed_in):
    """A code redeemed with another redirect_uri than it was issued for is refused (S14)."""
    code, verifier = code_for(signed_in)
    answer = redeem(signed_in, code, verifier, status=400, redirect_uri=REDIRECT + "2").json
    assert answer["error"] == "invalid_grant" and "access_token" not in answer


def test_code_is_bound_to_its_redirect_uri_port(signed_in):
    """Loopback ports may vary at /auth, but the code is redeemed only with the exact redirect_uri used."""
    code, verifier = code_for(signed_in)
    answer = redeem(signed_in, code, verifier, status=400, redirect_uri="http://127.0.0.1:10/callback").json
    assert answer["error"] == "invalid_grant" and "access_token" not in answer


def test_expired_code_is_refused(signed_in, clock):
    """A code older than 10 minutes is refused (S48)."""
    code, verifier = code_for(signed_in)
    clock.advance(minutes=10)
    answer = redeem(signed_in, code, verifier, status=400).json
    assert answer["error"] == "invalid_grant" and "access_token" not in answer


def test_made_up_code_is_refused(signed_in):
    """A guessed authorization code is refused."""
    answer = redeem(signed_in, "A" * 43, "v" * 43, status=400).json
    assert answer["error"] == "invalid_grant" and "access_token" not in answer


def test_access_code_at_the_authorization_endpoint_gives_no_token_and_is_spent(signed_in):
    """A code granting access scopes redeemed at POST /auth answers the profile URL only (S59), never a
    token, and is spent: taking it on to /token afterwards is a replay and is refused."""
    code, verifier = code_for(signed_in, scope="profile create")
    answer = redeem(signed_in, code, verifier, path="/auth").json
    assert answer["me"] == "https://owner.example/" and "access_token" not in answer
    refused = redeem(signed_in, code, verifier, status=400).json
    assert refused["error"] == "invalid_grant" and "access_token" not in refused


def test_profile_only_code_gives_no_access_token(signed_in):
    """A code without scope never yields an access token at /token (S61)."""
    code, verifier = code_for(signed_in, scope="")
    answer = redeem(signed_in, code, verifier, status=400).json
    assert answer["error"] == "invalid_grant" and "access_token" not in answer


def test_consent_form_cannot_add_scopes(app, signed_in):
    """Consent tampering: a scope added to the consent form that the app never asked for is not granted."""
    consent, _ = indieauth.testing.start_authorization(signed_in, scope="profile")
    form = signed_in.get(consent).forms["consent"]
    fields = [(k, v) for k, v in form.submit_fields("action")] + [("action", "approve"), ("scope", "delete")]
    location = signed_in.post(consent, fields, status=303).headers["Location"]
    assert app.storage.find_code(query_of(location)["code"]).scope == "profile"


def test_consent_answered_twice_is_refused(signed_in):
    """Consent replay: a pending request answered once cannot be answered again for a second code."""
    consent, _ = indieauth.testing.start_authorization(signed_in)
    page = signed_in.get(consent)
    page.forms["consent"].submit("action", value="approve", status=303)
    page.forms["consent"].submit("action", value="approve", status=400)


# -- refresh tokens (S69-S74, SEC39-SEC42)

def refresh(web, token, status=200, **fields):
    form = {"grant_type": "refresh_token", "refresh_token": token, "client_id": CLIENT, **fields}
    return web.post("/token", form, status=status)


def test_refresh_token_replay_revokes_the_family(signed_in):
    """Refresh replay: reusing a rotated refresh token is refused and revokes every token of its family."""
    first = tokens_for(signed_in)
    second = refresh(signed_in, first["refresh_token"]).json
    assert refresh(signed_in, first["refresh_token"], status=400).json["error"] == "invalid_grant"
    assert not live(signed_in, second["access_token"])
    assert refresh(signed_in, second["refresh_token"], status=400).json["error"] == "invalid_grant"


def test_refresh_token_of_another_client_is_refused(signed_in):
    """A refresh token stolen from one app is refused when another client_id uses it."""
    first = tokens_for(signed_in)
    answer = refresh(signed_in, first["refresh_token"], status=400, client_id="http://127.0.0.1:10/").json
    assert answer["error"] == "invalid_grant" and "access_token" not in answer


def test_refresh_cannot_widen_the_scope(signed_in):
    """A refresh asking for more than was granted is refused (S70, SEC41)."""
    first = tokens_for(signed_in, scope="profile")
    answer = refresh(signed_in, first["refresh_token"], status=400, scope="profile create delete").json
    assert answer["error"] == "invalid_scope" and "access_token" not in answer


def test_access_token_is_no_refresh_token(signed_in):
    """Token confusion: an access token sent as a refresh token is refused."""
    first = tokens_for(signed_in)
    answer = refresh(signed_in, first["access_token"], status=400).json
    assert answer["error"] == "invalid_grant" and "access_token" not in answer


def test_refresh_token_is_no_access_token(signed_in):
    """Token confusion: a refresh token sent as a bearer token is refused."""
    first = tokens_for(signed_in)
    assert not live(signed_in, first["refresh_token"])


def test_expired_refresh_token_is_refused(signed_in, clock):
    """A refresh token past its lifetime (30 days unused) is refused."""
    first = tokens_for(signed_in)
    clock.advance(days=31)
    answer = refresh(signed_in, first["refresh_token"], status=400).json
    assert answer["error"] == "invalid_grant" and "access_token" not in answer


def test_revoked_refresh_token_is_refused(signed_in):
    """A refresh token revoked through /revoke cannot be used again."""
    first = tokens_for(signed_in)
    signed_in.post("/revoke", {"token": first["refresh_token"], "client_id": CLIENT})
    answer = refresh(signed_in, first["refresh_token"], status=400).json
    assert answer["error"] == "invalid_grant" and "access_token" not in answer


@pytest.mark.parametrize("grant_type", ["password", "client_credentials", "implicit",
                                        "urn:ietf:params:oauth:grant-type:token-exchange",
                                        "urn:ietf:params:oauth:grant-type:jwt-bearer"])
def test_other_grant_types_are_refused(signed_in, grant_type):
    """Only the authorization_code, refresh_token, device_code and ticket grants exist; a password grant gives
    nothing."""
    answer = signed_in.post("/token", {"grant_type": grant_type, "client_id": CLIENT, "username": "owner",
                                       "password": "correct horse battery staple"}, status=400).json
    assert answer["error"] == "unsupported_grant_type" and "access_token" not in answer


def test_implicit_response_type_is_refused(web):
    """response_type=token (the implicit flow, tokens in the URL) is refused."""
    assert refused_redirect(web, auth_query(response_type="token"))["error"] == "unsupported_response_type"
