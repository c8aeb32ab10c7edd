"""IDOR: a signed-in user reaching for another user's tokens, grants, profile or the admin pages.

Mallory is an ordinary user of a shared host; the owner has a live token and a remembered grant.
Each attack is refused, and what it aimed at is still there afterwards.
"""

import pytest

import indieauth

from .conftest import CLIENT, add_user, bearer, browser, enter, tokens_for


@pytest.fixture
def app(make_app):
    return make_app({"plugins": {"hosting": {}}})


@pytest.fixture
def victim(app, owner, web):
    """The owner's live tokens (signed in through `web`), and a remembered grant for CLIENT."""
    enter(web, app)
    tokens = tokens_for(web)
    app.storage.save_grant(owner, CLIENT, "profile create")
    return tokens


@pytest.fixture
def mallory(app):
    add_user(app, "mallory")
    return browser(app, "mallory")


def csrf(web, path="/tokens"):
    return web.get(path).html.find("input", {"name": "csrf_token"})["value"]


def still_live(web, token):
    return web.get("/token", headers=bearer(token), expect_errors=True).status_int == 200


@pytest.mark.parametrize("kind", ["access", "refresh"])
def test_revoking_another_users_token_by_id_is_refused(app, owner, victim, mallory, web, kind):
    """IDOR: /tokens/revoke with the id of another user's token revokes nothing."""
    token = next(t for t in app.storage.live_tokens(owner) if t.kind == kind)
    mallory.post("/tokens/revoke", {"csrf_token": csrf(mallory), "what": "token", "target": str(token.id),
                                    "confirm": "yes"}, status=400)
    assert still_live(web, victim["access_token"])


def test_revoking_another_users_tokens_by_client_is_refused(app, owner, victim, mallory, web):
    """IDOR: /tokens/revoke what=client revokes only the signed-in user's own tokens of that client."""
    mallory.post("/tokens/revoke", {"csrf_token": csrf(mallory), "what": "client", "target": CLIENT,
                                    "confirm": "yes"}, status=303)
    assert still_live(web, victim["access_token"])


def test_revoking_all_revokes_only_ones_own(app, owner, victim, mallory, web):
    """IDOR: /tokens/revoke what=all is the signed-in user's all, not everyone's."""
    mallory.post("/tokens/revoke", {"csrf_token": csrf(mallory), "what": "all", "confirm": "yes"}, status=303)
    assert still_live(web, victim["access_token"])


def test_forgetting_another_users_grant_is_refused(app, owner, victim, mallory):
    """IDOR: /tokens/forget forgets only the signed-in user's own remembered approval."""
    mallory.post("/tokens/forget", {"csrf_token": csrf(mallory), "client_id": CLIENT}, status=303)
    assert app.storage.get_grant(owner, CLIENT) is not None


def test_another_users_tokens_are_not_listed(app, owner, victim, mallory):
    """IDOR: the tokens page shows no one else's tokens or approvals."""
    page = mallory.get("/tokens")
    assert all(indieauth.fingerprint(t) not in page.text for t in app.storage.live_tokens(owner))
    assert CLIENT not in page.text


def test_another_users_activity_is_not_shown(app, owner, victim, mallory):
    """IDOR: an ordinary user's /log shows only their own events."""
    assert "owner" not in mallory.get("/log").html.find("main").get_text()


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_editing_another_users_profile_is_refused(app, owner, mallory, method):
    """IDOR: /u/owner/edit is the owner's alone (403), and nothing of theirs changes."""
    if method == "GET":
        mallory.get("/u/owner/edit", status=403)
    else:
        mallory.post("/u/owner/edit", {"csrf_token": csrf(mallory), "name": "Pwned", "url": "https://evil.example/"},
                     status=403)
    assert app.storage.get_user(username="owner").name != "Pwned"


def test_editing_a_profile_by_case_variant_is_refused(app, owner, mallory):
    """IDOR: /u/OWNER/edit (another spelling of the user name) is refused too."""
    mallory.post("/u/OWNER/edit", {"csrf_token": csrf(mallory), "name": "Pwned"}, status=403)
    assert app.storage.get_user(username="owner").name != "Pwned"


ADMIN_PAGES = [("GET", "/admin/users", {}), ("GET", "/admin/clients", {}), ("GET", "/admin/clients/{client}", {}),
               ("POST", "/admin/users", {"action": "disable", "username": "owner"}),
               ("POST", "/admin/users", {"action": "invite", "role": "admin"}),
               ("POST", "/admin/users", {"action": "reset", "username": "owner"}),
               ("POST", "/admin/clients", {"name": "Evil", "redirect_uris": "https://evil.example/cb"}),
               ("POST", "/admin/clients", {"action": "rotate", "client_id": "http://localhost/clients/c/"}),
               ("POST", "/admin/clients/{client}", {"action": "assign", "username": "mallory", "role": "admin"})]


@pytest.mark.parametrize("method, path, fields", ADMIN_PAGES,
                         ids=[f"{m} {p} {f.get('action', '')}".strip() for m, p, f in ADMIN_PAGES])
def test_non_admin_on_admin_pages_is_refused(app, owner, mallory, method, path, fields):
    """IDOR: an ordinary user gets 403 on every /admin page and action; nothing changes."""
    app.storage.create_client("http://localhost/clients/c/", "C", ["http://localhost/cb"])
    client = app.storage.get_client("http://localhost/clients/c/")
    url = path.format(client=client.id)
    if method == "GET":
        mallory.get(url, status=403)
    else:
        mallory.post(url, {"csrf_token": csrf(mallory), **fields}, status=403)
    assert app.storage.get_user(username="owner").disabled_at is None
    assert [c.client_id for c in app.storage.list_clients()] == ["http://localhost/clients/c/"]
    assert app.storage.get_client(number=client.id).secret_hash == client.secret_hash
    assert app.storage.role_assignments(client) == [] or all(
        getattr(a, "role", "") != "admin" for a in app.storage.role_assignments(client))


@pytest.mark.parametrize("action", ["disable", "delete", "reset"])
def test_admin_cannot_act_on_the_owner(app, owner, action):
    """Privilege escalation: an administrator cannot disable, delete or reset the owner."""
    add_user(app, "ada", role="admin")
    ada = browser(app, "ada")
    ada.post("/admin/users", {"csrf_token": csrf(ada), "action": action, "username": "owner"}, status=403)
    user = app.storage.get_user(username="owner")
    assert user is not None and user.disabled_at is None


def test_token_of_a_registered_app_is_revoked_only_by_that_app(app, owner, web):
    """IDOR at /revoke: another client cannot revoke a registered (confidential) app's token."""
    enter(web, app)
    secret = app.storage.create_client("http://localhost/clients/r/", "R", ["http://localhost/cb"])
    raw, _ = app.storage.create_token("access", owner, owner.me, "http://localhost/clients/r/", "profile", 3600, "f")
    answer = web.post("/revoke", {"token": raw, "client_id": CLIENT}, status=401).json
    assert answer["error"] == "invalid_client" and secret
    assert still_live(web, raw)


@pytest.mark.parametrize("credential", ["none", "access-token", "made-up"])
def test_introspection_needs_a_resource_server_credential(app, victim, web, credential):
    """IDOR at /introspect: without a resource-server credential no token's details are told."""
    headers = {"none": {}, "access-token": bearer(victim["access_token"]), "made-up": bearer("x" * 43)}[credential]
    answer = web.post("/introspect", {"token": victim["access_token"]}, headers=headers, status=401).json
    assert answer["error"] == "invalid_client" and "me" not in answer
