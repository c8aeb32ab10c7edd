"""Issue #6, roles: per pre-registered app, the roles it accepts and a default; per user and app an
assignment (admin page, invites, CLI); the role in the token response and the JWT, and only for
pre-registered apps."""

import jwt
import pytest
import webtest

import indieauth
from indieauth import hookimpl, testing
from conftest import sign_in
from test_clients import REDIRECT, basic, get_code, redeem


class RoleClaimingPlugin:
    """A plugin that tries to put a role into every JWT: the core keeps `role` for itself."""

    __name__ = "role_claiming"

    @hookimpl
    def token_claims(self, app, me, client, scopes, extra):
        return {"role": "superuser", "team": "blue"}


@pytest.fixture
def app(make_app):
    return make_app({"plugins": {"hosting": {}}}, plugins=[RoleClaimingPlugin()])


@pytest.fixture
def client(app):
    client_id = app.url("clients/abc/")
    secret = app.storage.create_client(client_id, "Registered App", [REDIRECT])
    row = app.storage.get_client(client_id)
    app.storage.set_client_roles(row, ["editor", "viewer"], "viewer")
    return row, secret


@pytest.fixture
def signed_in(web, owner):
    sign_in(web)
    return web


def tokens_for(web, client, secret):
    code, verifier = get_code(web, client.client_id)
    return redeem(web, client.client_id, code, verifier, headers=basic(client.client_id, secret)).json


def claims_of(app, access_token):
    return jwt.decode(access_token, options={"verify_signature": False})


# -- the rule

def test_the_default_role_applies_without_an_assignment(app, owner, client):
    row, _ = client
    assert app.storage.role_for(owner, row.client_id) == "viewer"


def test_an_assignment_wins_over_the_default(app, owner, client):
    row, _ = client
    app.storage.assign_role(owner, row, "editor")
    assert app.storage.role_for(owner, row.client_id) == "editor"
    app.storage.assign_role(owner, row, "")
    assert app.storage.role_for(owner, row.client_id) == "viewer"


def test_a_role_the_app_does_not_accept_is_refused(app, owner, client):
    row, _ = client
    with pytest.raises(indieauth.UsageError, match="accepts the roles editor, viewer"):
        app.storage.assign_role(owner, row, "admin")
    with pytest.raises(indieauth.UsageError, match="not one of the app's roles"):
        app.storage.set_client_roles(row, ["editor"], "owner")
    with pytest.raises(indieauth.UsageError, match="must be 1 to 64"):
        app.storage.set_client_roles(row, ["has space"])


def test_an_assignment_the_app_stopped_accepting_falls_back_to_the_default(app, owner, client):
    row, _ = client
    app.storage.assign_role(owner, row, "editor")
    app.storage.set_client_roles(row, ["viewer"], "viewer")
    assert app.storage.role_for(owner, row.client_id) == "viewer"


def test_an_app_without_a_list_accepts_any_role_and_may_have_no_default(app, owner):
    client_id = app.url("clients/open/")
    app.storage.create_client(client_id, "Open App", [REDIRECT])
    row = app.storage.get_client(client_id)
    assert app.storage.role_for(owner, client_id) is None
    app.storage.assign_role(owner, row, "anything-goes")
    assert app.storage.role_for(owner, client_id) == "anything-goes"


# -- where the role appears

def test_the_role_is_in_the_token_response_the_jwt_introspection_and_verification(app, signed_in, client):
    row, secret = client
    app.storage.assign_role(app.storage.get_user(username="owner"), row, "editor")
    body = tokens_for(signed_in, row, secret)
    assert body["role"] == "editor"
    claims = claims_of(app, body["access_token"])
    assert claims["role"] == "editor" and claims["team"] == "blue"  # the plugin's other claims stay
    key = app.storage.add_resource_server("blog")
    introspected = signed_in.post("/introspect", {"token": body["access_token"]}, headers=basic("blog", key)).json
    assert introspected["active"] and introspected["role"] == "editor"
    verified = signed_in.get("/token", headers={"Authorization": "Bearer " + body["access_token"]}).json
    assert verified["role"] == "editor"


def test_a_refreshed_token_carries_the_role_as_it_is_now(app, signed_in, client):
    row, secret = client
    body = tokens_for(signed_in, row, secret)
    assert body["role"] == "viewer"
    app.storage.assign_role(app.storage.get_user(username="owner"), row, "editor")
    refreshed = signed_in.post("/token", {"grant_type": "refresh_token", "refresh_token": body["refresh_token"],
                                          "client_id": row.client_id}, headers=basic(row.client_id, secret)).json
    assert refreshed["role"] == "editor" and claims_of(app, refreshed["access_token"])["role"] == "editor"


def test_a_role_never_appears_for_an_auto_registered_client(app, signed_in, client):
    """Even with the user holding a role in a registered app, and a plugin claiming one for every token."""
    row, _ = client
    app.storage.assign_role(app.storage.get_user(username="owner"), row, "editor")
    consent_url, verifier = testing.start_authorization(signed_in)
    page = signed_in.get(consent_url)
    assert "Your role in this app" not in page.text
    code = testing.approve(signed_in, consent_url)
    body = testing.redeem(signed_in, code, verifier)
    assert "role" not in body
    claims = claims_of(app, body["access_token"])
    assert "role" not in claims and claims["team"] == "blue"
    key = app.storage.add_resource_server("blog")
    assert "role" not in signed_in.post("/introspect", {"token": body["access_token"]}, headers=basic("blog", key)).json
    assert "role" not in signed_in.get("/token", headers={"Authorization": "Bearer " + body["access_token"]}).json
    raw, _ = indieauth.issue_testing_token(app, app.storage.get_user(username="owner"), testing.CLIENT_ID,
                                           ["create"], 3600)
    assert "role" not in claims_of(app, raw)


def test_the_consent_screen_says_which_role(app, signed_in, client):
    row, _ = client
    page = signed_in.get("/auth?" + indieauth.urllib.parse.urlencode(
        {"response_type": "code", "client_id": row.client_id, "redirect_uri": REDIRECT, "state": "s",
         "scope": "profile", "code_challenge": testing.pkce_pair()[1], "code_challenge_method": "S256"})).follow()
    assert "Your role in this app" in page.text and "<strong>viewer</strong>" in page.text


def test_a_testing_token_for_a_registered_app_carries_the_role(app, owner, client):
    row, _ = client
    raw, _ = indieauth.issue_testing_token(app, owner, row.client_id, ["create"], 3600)
    assert claims_of(app, raw)["role"] == "viewer"


def test_opaque_tokens_get_the_role_in_the_response_and_introspection(make_app, owner_factory=None):
    app = make_app({"tokens": {"format": "opaque"}})
    owner = app.storage.create_user("owner", "https://owner.example/", role="owner")
    from indieauth_password import set_password
    from conftest import PASSWORD
    set_password(app, owner, PASSWORD)
    client_id = app.url("clients/abc/")
    secret = app.storage.create_client(client_id, "Registered App", [REDIRECT])
    app.storage.set_client_roles(app.storage.get_client(client_id), [], "member")
    web = webtest.TestApp(app)
    sign_in(web)
    body = tokens_for(web, app.storage.get_client(client_id), secret)
    assert body["role"] == "member" and body["access_token"].count(".") != 2
    key = app.storage.add_resource_server("blog")
    assert web.post("/introspect", {"token": body["access_token"]}, headers=basic("blog", key)).json["role"] == "member"


# -- the admin page

def test_the_admin_sets_an_apps_roles_and_gives_a_user_a_role(app, signed_in, client):
    row, _ = client
    app.storage.create_user("bea", "https://bea.example/")
    page = signed_in.get("/admin/clients").click("Registered App")
    form = page.forms["client-roles"]
    assert form["roles"].value == "editor viewer" and form["default_role"].value == "viewer"
    form["roles"], form["default_role"] = "author, reader", "reader"
    page = form.submit("action", value="roles")
    assert "roles are saved" in page.text
    form = page.forms["assign-role"]
    form["username"], form["role"] = "bea", "author"
    page = form.submit("action", value="assign")
    assert "bea now has the role author" in page.text
    assert app.storage.role_for(app.storage.get_user(username="bea"), row.client_id) == "author"
    page.forms["take-away-bea"].submit("action", value="assign")
    assert app.storage.role_for(app.storage.get_user(username="bea"), row.client_id) == "reader"
    assert [e.kind for e in app.storage.events()].count("app_roles_changed") == 3


def test_the_admin_page_refuses_a_role_the_app_does_not_accept(app, signed_in, client):
    row, _ = client
    page = signed_in.get(f"/admin/clients/{row.id}")
    response = signed_in.post(f"/admin/clients/{row.id}", {"csrf_token": page.forms["assign-role"]["csrf_token"].value,
                                                           "action": "assign", "username": "owner", "role": "root"},
                              status=400)
    assert "accepts the roles editor, viewer" in response.text
    assert app.storage.role_for(app.storage.get_user(username="owner"), row.client_id) == "viewer"


def test_the_app_roles_page_refuses_a_non_admin_and_a_missing_csrf_token(app, owner, client):
    row, _ = client
    from indieauth_password import set_password
    set_password(app, app.storage.create_user("bea", "https://bea.example/"), "bea's long password")
    web = webtest.TestApp(app)
    sign_in(web, "bea", "bea's long password")
    web.get(f"/admin/clients/{row.id}", status=403)
    web.post(f"/admin/clients/{row.id}", {"action": "roles", "roles": "x"}, status=403)
    admin = webtest.TestApp(app)
    sign_in(admin)
    admin.post(f"/admin/clients/{row.id}", {"action": "roles", "roles": "x"}, status=403)  # no CSRF token
    assert app.storage.client_roles(app.storage.get_client(row.client_id)) == ["editor", "viewer"]
    admin.get("/admin/clients/999", status=404)


# -- invites

def test_an_invite_hands_out_an_app_role(app, signed_in, client):
    row, _ = client
    page = signed_in.get("/admin/users")
    form = page.forms["new-invite"]
    form[f"app_role.{row.id}"] = "editor"
    link = form.submit("action", value="invite").html.find("textarea").text.strip()
    web = webtest.TestApp(app)
    form = web.get(link).forms["invite"]
    form["username"] = "cy"
    form.submit(status=303)
    assert app.storage.role_for(app.storage.get_user(username="cy"), row.client_id) == "editor"


def test_an_invite_with_a_role_the_app_does_not_accept_is_not_made(app, signed_in, client):
    row, _ = client
    page = signed_in.get("/admin/users")
    form = page.forms["new-invite"]
    form[f"app_role.{row.id}"].force_value("root")
    response = form.submit("action", value="invite", status=400)
    assert "accepts the roles editor, viewer" in response.text and "<textarea" not in response.text


def test_an_invite_whose_role_the_app_dropped_still_signs_up_with_the_default(app, client):
    row, _ = client
    raw = app.storage.create_invite("user", 3600, app_roles={row.client_id: "editor"})
    app.storage.set_client_roles(row, ["viewer"], "viewer")
    user = app.storage.redeem_invite(raw, "dee", "https://dee.example/")
    assert user is not None and app.storage.role_for(user, row.client_id) == "viewer"


def test_cli_invite_with_an_app_role_and_cli_user_role(app, owner, client, capsys):
    row, _ = client
    with open(app.config.path, "w") as f:
        f.write("[plugins.hosting]\n")

    def cli(*args):
        return indieauth.main(["--config", app.config.path, *args], app_factory=lambda config, **kw: app)
    assert cli("user", "invite", "--app-role", f"{row.client_id}=editor") == 0
    link = capsys.readouterr().out.strip()
    user = app.storage.redeem_invite(link.rsplit("/", 1)[1], "eve", "https://eve.example/")
    assert app.storage.role_for(user, row.client_id) == "editor"
    assert cli("user", "role", "eve", row.client_id) == 0
    assert capsys.readouterr().out.strip() == "eve in Registered App: editor"
    assert cli("user", "role", "eve", row.client_id, "viewer") == 0
    assert app.storage.role_for(user, row.client_id) == "viewer"
    capsys.readouterr()
    assert cli("user", "role", "eve", testing.CLIENT_ID, "viewer") == 2
    assert "not a pre-registered app" in capsys.readouterr().err
    assert cli("user", "invite", "--app-role", f"{row.client_id}=root") == 2
    assert "accepts the roles" in capsys.readouterr().err


def test_deleting_a_user_deletes_their_roles(app, client):
    row, _ = client
    bea = app.storage.create_user("bea", "https://bea.example/")
    app.storage.assign_role(bea, row, "editor")
    app.storage.delete_user(bea)
    assert app.storage.role_assignments(row) == []
