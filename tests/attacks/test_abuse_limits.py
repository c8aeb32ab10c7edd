"""Attacks on the server's resources with requests anyone may send: scopes that cost quadratic time, and
pending authorization requests that fill the database (issue 15, findings 6 and 9)."""

import urllib.parse

import peewee
import pytest

import bloated_client
import fixed_clients
import indieauth
from indieauth import AuthRequest
from test_protocol import auth_params, pkce_pair, query_of

ADDRESS = {"REMOTE_ADDR": "198.51.100.66"}


@pytest.fixture
def app(make_app):
    return make_app(plugins=[fixed_clients, bloated_client])


def many_scopes(count, length=8):
    return " ".join(f"s{n:0{length - 1}d}" for n in range(count))


def stored_requests(app):
    """How many pending requests there are and the characters their text columns hold."""
    text = [f for f in AuthRequest._meta.sorted_fields if isinstance(f, (peewee.CharField, peewee.TextField))]
    with app.storage.bound():
        rows = list(AuthRequest.select(*text).tuples())
    return len(rows), sum(len(value or "") for row in rows for value in row)


def test_twelve_thousand_scopes_at_the_authorization_endpoint_are_refused(web):
    """Finding 6: one GET /auth with 12,000 distinct scopes cost 0.8 s of CPU; now invalid_scope."""
    _, challenge = pkce_pair()
    response = web.get("/auth?" + urllib.parse.urlencode(auth_params(challenge, scope=many_scopes(12_000))),
                       status=302)
    params = query_of(response.headers["Location"])
    assert params["error"] == "invalid_scope" and params["state"] == "st4te"
    assert f"at most {indieauth.MAX_SCOPES} scopes" in params["error_description"]
    assert stored_requests(web.app)[0] == 0


def test_twelve_thousand_scopes_pushed_are_refused(web):
    """Finding 6: the same at the pushed authorization request endpoint (RFC 9126)."""
    _, challenge = pkce_pair()
    scope = many_scopes(12_000, length=5)  # 72 KB: within what a form body may hold (else 413)
    response = web.post("/par", auth_params(challenge, scope=scope), status=400)
    assert response.json["error"] == "invalid_scope"
    assert stored_requests(web.app)[0] == 0


def test_one_overlong_scope_is_refused(web):
    """Finding 6: the length of each scope is capped too, so the whole parameter is."""
    _, challenge = pkce_pair()
    scope = "profile " + "x" * (indieauth.MAX_SCOPE_LENGTH + 1)
    response = web.get("/auth?" + urllib.parse.urlencode(auth_params(challenge, scope=scope)), status=302)
    assert query_of(response.headers["Location"])["error"] == "invalid_scope"


def test_the_most_scopes_allowed_are_accepted():
    """Finding 6: the limits are generous: MAX_SCOPES of MAX_SCOPE_LENGTH characters still parse."""
    scope = many_scopes(indieauth.MAX_SCOPES, indieauth.MAX_SCOPE_LENGTH)
    assert len(indieauth.parse_scope(scope + " " + scope)) == indieauth.MAX_SCOPES
    with pytest.raises(indieauth.InvalidScope, match="at most"):
        indieauth.parse_scope(scope + " one-more")


class CountingStr(str):
    """A scope token that counts how often it is compared for equality (as `x in list` does)."""

    comparisons = 0

    def __eq__(self, other):
        CountingStr.comparisons += 1
        return str.__eq__(self, other)

    __hash__ = str.__hash__


def test_parsing_scopes_is_linear(monkeypatch):
    """Finding 6: duplicates are found by hashing, not by comparing each scope with every one before it:
    parsing N tokens costs O(N) equality comparisons (a quadratic parse needs N²/2)."""
    tokens = [CountingStr(f"scope{n}") for n in range(50)]  # MAX_SCOPES

    class Scope(str):
        def split(self, sep=None):
            return list(tokens)

    CountingStr.comparisons = 0
    assert indieauth.parse_scope(Scope("x")) == tokens
    assert CountingStr.comparisons <= 2 * len(tokens)


def test_pending_requests_stored_by_anyone_are_bounded(web):
    """Finding 9: 40 unauthenticated /auth requests with 61 KB scopes added 2.4 MB; now they store nothing,
    and 40 with the largest values allowed (scopes, state, redirect_uri, me, a bloated client's published
    information) store less than MAX_PENDING_REQUEST characters each."""
    for n in range(40):
        _, challenge = pkce_pair()
        params = auth_params(challenge, scope=many_scopes(61_000 // 8), state=f"{n}")
        response = web.get("/auth?" + urllib.parse.urlencode(params), status=302, extra_environ=ADDRESS)
        assert query_of(response.headers["Location"])["error"] == "invalid_scope"
    assert stored_requests(web.app) == (0, 0)
    largest = many_scopes(indieauth.MAX_SCOPES, indieauth.MAX_SCOPE_LENGTH)
    for n in range(40):
        _, challenge = pkce_pair()
        params = auth_params(challenge, client_id=bloated_client.CLIENT, redirect_uri=bloated_client.REDIRECT,
                             scope=largest, state="s" * 2048, me="https://me.example/" + "m" * 5000)
        web.get("/auth?" + urllib.parse.urlencode(params), status=303, extra_environ=ADDRESS)
    count, size = stored_requests(web.app)
    assert count == 40 and size < 40 * indieauth.MAX_PENDING_REQUEST
    assert indieauth.MAX_PENDING_REQUEST <= 24 * 1024  # 40 of them: under a megabyte


def test_a_bloated_clients_information_is_cut_before_it_is_stored(web):
    """Finding 9: the fetched ClientInfo kept with a request has bounded texts and lists."""
    _, challenge = pkce_pair()
    params = auth_params(challenge, client_id=bloated_client.CLIENT, redirect_uri=bloated_client.REDIRECT)
    page = web.get("/auth?" + urllib.parse.urlencode(params), status=303)
    with web.app.storage.bound():
        data = indieauth.json.loads(AuthRequest.get().client_data)
    assert len(data["name"]) <= indieauth.CLIENT_TEXT_MAX and len(data["error"]) <= indieauth.CLIENT_TEXT_MAX
    assert data["logo"] == "" and data["url"] == ""  # a URL cut short is no URL: left out
    assert len(data["redirect_uris"]) <= indieauth.CLIENT_LIST_MAX and bloated_client.REDIRECT in data["redirect_uris"]
    assert len(data["warnings"]) <= indieauth.CLIENT_LIST_MAX
    assert all(len(w) <= indieauth.CLIENT_TEXT_MAX for w in data["warnings"])
    assert page.status_int == 303
