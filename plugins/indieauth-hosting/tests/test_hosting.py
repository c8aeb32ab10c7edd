"""The hosting plugin (issue #6, made a plugin by issue 16): hosted profile pages, invites and sign-up,
the Users page; tested as a third party would, with indieauth.make_test_app and webtest."""

import pytest
import webtest

import indieauth
from indieauth import testing
from indieauth_password import set_password

PASSWORD = "correct horse battery staple"


@pytest.fixture
def clock():
    return testing.Clock()


@pytest.fixture
def make_app(tmp_path, clock):
    """make_app(overrides, plugins, hosting=True): the password plugin on, and hosting unless told not."""
    def make(overrides=None, plugins=(), hosting=True):
        overrides = {k: dict(v) for k, v in (overrides or {}).items()}
        overrides.setdefault("plugins", {}).setdefault("password", {})
        if hosting:
            overrides["plugins"].setdefault("hosting", {})
        return indieauth.make_test_app(overrides, plugins=plugins, folder=str(tmp_path), clock=clock)
    return make


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def owner(app):
    """The owner user, with the password PASSWORD."""
    user = app.storage.create_user("owner", "https://owner.example/", role="owner")
    set_password(app, user, PASSWORD)
    return user


def sign_in(web, username="owner", password=PASSWORD, status=303):
    form = web.get("/login").forms["password-login"]
    form["username"], form["password"] = username, password
    return form.submit(status=status)


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def invite_link(app, role="user"):
    return "/invite/" + app.storage.create_invite(role, 3600)


def join(web, link, username="bea", profile="hosted", site="", status=303):
    form = web.get(link).forms["invite"]
    form["username"], form["profile"], form["site"] = username, profile, site
    return form.submit(status=status)


def test_sign_up_through_an_invite_with_a_hosted_profile(app):
    web = webtest.TestApp(app)
    response = join(web, invite_link(app))
    assert response.headers["Location"].endswith("/plugins/password/")  # on to set a first credential
    bea = app.storage.get_user(username="bea")
    assert bea.me == "http://localhost/u/bea" and bea.role == "user"
    page = web.get("/plugins/password/")
    form = page.forms[1]
    form["new_password"] = form["new_password_again"] = "bea's long password"
    form.submit(status=303)
    sign_in(webtest.TestApp(app), "bea", "bea's long password")


def test_an_invite_can_be_used_once(app):
    link = invite_link(app)
    join(webtest.TestApp(app), link)
    response = webtest.TestApp(app).get(link, status=400)
    assert "works once" in response.text
    assert len(app.storage.list_users()) == 1


def test_an_invite_expires(app, clock):
    link = invite_link(app)
    clock.advance(hours=1, seconds=1)
    webtest.TestApp(app).get(link, status=400)


def test_an_invite_gives_its_role(app):
    join(webtest.TestApp(app), invite_link(app, "admin"), username="ada")
    assert app.storage.get_user(username="ada").role == "admin"


def test_sign_up_refuses_a_taken_or_bad_user_name_and_keeps_the_invite(app, owner):
    link = invite_link(app)
    assert "exists already" in join(webtest.TestApp(app), link, username="owner", status=400).text
    assert "user name" in join(webtest.TestApp(app), link, username="-bad", status=400).text
    join(webtest.TestApp(app), link, username="bea")


def test_sign_up_with_an_own_site_that_does_not_name_this_server_is_refused(app):
    link = invite_link(app)
    response = join(webtest.TestApp(app), link, profile="site", site="https://bea.example:8443/", status=400)
    assert "port" in response.text


def test_without_the_plugin_there_is_no_sign_up_profile_or_users_page(make_app, owner):
    app = make_app(hosting=False)
    raw = app.storage.create_invite("user", 3600)
    web = webtest.TestApp(app)
    web.get("/invite/" + raw, status=404)
    sign_in(web)
    assert "/admin/users" not in web.get("/tokens").text
    web.get("/admin/users", status=404)


def test_hosted_profile_page_is_an_h_card_with_discovery_links(app):
    join(webtest.TestApp(app), invite_link(app))
    bea = app.storage.get_user(username="bea")
    app.storage.update_user(bea, name="Bea Example", note="Writes about bees.")
    page = webtest.TestApp(app).get("/u/bea")
    card = page.html.select_one(".h-card")
    assert card.select_one(".p-name").text == "Bea Example" and "bees" in card.select_one(".p-note").text
    assert page.html.select_one('link[rel="indieauth-metadata"]')["href"].startswith("http://localhost/")
    assert '<http://localhost/auth>; rel="authorization_endpoint"' in page.headers.getall("Link")
    webtest.TestApp(app).request("/u/bea", method="HEAD")
    webtest.TestApp(app).get("/u/nobody", status=404)


def test_a_profile_is_editable_by_its_user_only(app, owner):
    join(webtest.TestApp(app), invite_link(app))
    set_password(app, app.storage.get_user(username="bea"), PASSWORD)
    bea = webtest.TestApp(app)
    sign_in(bea, "bea")
    form = bea.get("/u/bea/edit").forms["profile"]
    form["name"], form["photo"] = "Bea", "javascript:alert(1)"
    assert "full https://" in form.submit(status=400).text
    form = bea.get("/u/bea/edit").forms["profile"]
    form["name"], form["note"] = "Bea", "Hello"
    form.submit(status=303)
    assert app.storage.get_user(username="bea").name == "Bea"
    other = webtest.TestApp(app)
    sign_in(other)
    other.get("/u/bea/edit", status=403)


def test_the_admin_page_refuses_a_non_admin(app, owner):
    join(webtest.TestApp(app), invite_link(app))
    set_password(app, app.storage.get_user(username="bea"), PASSWORD)
    bea = webtest.TestApp(app)
    sign_in(bea, "bea")
    bea.get("/admin/users", status=403)
    csrf = bea.get("/tokens").forms[0]["csrf_token"].value
    bea.post("/admin/users", {"csrf_token": csrf, "action": "delete", "username": "owner"}, status=403)


def admin_action(web, username, action):
    page = web.get("/admin/users")
    form = next(f for f in page.forms.values() if f.get("username", default=None) is not None
                and f["username"].value == username
                and any(button._value == action for button in f.fields.get("action", [])))
    return form.submit("action", value=action)


def test_a_disabled_users_tokens_stop_working_at_once_and_for_good(app, owner):
    join(webtest.TestApp(app), invite_link(app))
    bea = app.storage.get_user(username="bea")
    token, _ = indieauth.issue_testing_token(app, bea, "https://x.example/", ["create"], 3600)
    admin = webtest.TestApp(app)
    sign_in(admin)
    admin.get("/token", headers=bearer(token))
    admin_action(admin, "bea", "disable")
    admin.get("/token", headers=bearer(token), status=401)
    admin_action(admin, "bea", "enable")
    admin.get("/token", headers=bearer(token), status=401)  # enabling is a fresh start (issue 15, finding 10)


def test_deleting_a_user_revokes_their_tokens(app, owner):
    join(webtest.TestApp(app), invite_link(app))
    token, _ = indieauth.issue_testing_token(app, app.storage.get_user(username="bea"), "https://x.example/",
                                             ["create"], 3600)
    admin = webtest.TestApp(app)
    sign_in(admin)
    admin_action(admin, "bea", "delete")
    assert app.storage.get_user(username="bea") is None
    admin.get("/token", headers=bearer(token), status=401)


def test_reset_removes_credentials_and_gives_a_one_time_link(app, owner):
    join(webtest.TestApp(app), invite_link(app))
    bea = app.storage.get_user(username="bea")
    set_password(app, bea, PASSWORD)
    admin = webtest.TestApp(app)
    sign_in(admin)
    page = admin_action(admin, "bea", "reset")
    link = page.html.select_one("textarea").text.strip()
    assert "/login/once/" in link and app.storage.get_credential(bea, "password") is None


def test_admin_makes_an_invite_link(app, owner):
    admin = webtest.TestApp(app)
    sign_in(admin)
    page = admin.get("/admin/users").forms["new-invite"].submit("action", value="invite")
    link = page.html.select_one("textarea").text.strip()
    join(webtest.TestApp(app), link.replace("http://localhost", ""), username="cy")


def test_a_user_cannot_see_or_revoke_another_users_tokens(app, owner):
    join(webtest.TestApp(app), invite_link(app))
    bea = app.storage.get_user(username="bea")
    set_password(app, bea, PASSWORD)
    owner_token, row = indieauth.issue_testing_token(app, owner, "https://secret-app.example/", ["create"], 3600)
    web = webtest.TestApp(app)
    sign_in(web, "bea")
    assert "secret-app.example" not in web.get("/tokens").text
    csrf = web.get("/tokens").forms[0]["csrf_token"].value
    web.post("/tokens/revoke", {"what": "token", "target": row.jti, "confirm": "yes", "csrf_token": csrf}, status=400)
    web.post("/tokens/revoke", {"what": "all", "confirm": "yes", "csrf_token": csrf}, status=303)
    web.get("/token", headers=bearer(owner_token))


def test_cli_user_invite(app, capsys):
    with open(app.config.path, "w") as f:
        f.write("[plugins.hosting]\n")
    code = indieauth.main(["--config", app.config.path, "user", "invite", "--role", "admin", "--expires", "1d"],
                          app_factory=lambda config, **kw: app)
    link = capsys.readouterr().out.strip()
    assert code == 0 and link.startswith("http://localhost/invite/")
    assert app.storage.get_invite(link.rsplit("/", 1)[1]).role == "admin"


# -- one's own site at sign-up: it links to this server, or an authenticator proves it (RelMeAuth)

class SiteProver(indieauth.Authenticator):
    """A stand-in for a RelMeAuth authenticator (the GitHub plugin is the real one): it proves the sites
    in PROVABLE by a round trip through its own route, as an OAuth provider's callback would."""

    name, label, proves_sites = "prover", "Test Prover", True
    PROVABLE = set()

    def __init__(self, app):
        self.app = app

    def start(self, request, context):
        return ""

    def finish(self, request):
        raise indieauth.AuthenticationFailed("This test authenticator only proves sites.")

    def prove_site(self, me, next_url):
        if me not in self.PROVABLE:
            raise indieauth.AuthenticationFailed(f"{me} has no rel=me link this prover knows.")
        indieauth.bottle.redirect("/test-prover/callback?" + indieauth.urllib.parse.urlencode(
            {"me": me, "next": next_url}), 303)

    def callback(self):
        query = indieauth.bottle.request.query
        return self.app.site_proven(query.getunicode("me"), self.name, query.getunicode("next"))


class ProverPlugin:
    __name__ = "prover"

    @indieauth.hookimpl
    def register_authenticators(self, app):
        app.site_prover = SiteProver(app)
        return [app.site_prover]

    @indieauth.hookimpl
    def register_routes(self, app):
        return [("GET", "/test-prover/callback", app.site_prover.callback)]


SITE_PAGE = '<!doctype html><a rel="me" href="https://github.com/bea">GitHub</a>'  # names no IndieAuth server


@pytest.fixture
def sites(fake_http):
    """make() -> the URL of a new site on 127.0.0.1 (a path of its own on the kit's fake server)."""
    made = []

    def make():
        made.append(f"{fake_http.url}/site{len(made)}/")
        fake_http.route(f"/site{len(made) - 1}/", SITE_PAGE)
        return made[-1]
    return make


@pytest.fixture
def site(sites):
    return sites()


@pytest.fixture
def prover_app(make_app):
    SiteProver.PROVABLE.clear()
    return make_app({"security": {"fetch_allow": ["127.0.0.1/32"]}},
                    plugins=[ProverPlugin()])


def test_an_own_site_that_names_no_server_is_refused_with_the_lines_to_add_and_ways_to_prove_it(prover_app, site):
    link = invite_link(prover_app)
    response = join(webtest.TestApp(prover_app), link, profile="site", site=site, status=400)
    assert "does not name this server" in response.text
    assert '<link rel="indieauth-metadata" href="http://localhost/.well-known/oauth-authorization-server">' \
        in response.html.find("pre").text
    assert f'action="{link}/prove"' in response.text and "Prove it with Test Prover" in response.text
    assert 'rel="me"' not in response.html.select_one("form[id^=prove-] button").text  # not every proof is rel=me
    assert prover_app.storage.get_user(username="bea") is None


def test_an_own_site_proven_by_relmeauth_signs_up(prover_app, site):
    SiteProver.PROVABLE.add(site)
    link = invite_link(prover_app)
    web = webtest.TestApp(prover_app)
    refused = join(web, link, profile="site", site=site, status=400)
    back = refused.forms[f"prove-{'prover'}"].submit(status=303).follow(status=303)  # to the prover and back
    assert back.headers["Location"].startswith(f"http://localhost{link}?")
    page = back.follow()
    assert "is proven to be yours" in page.text
    form = page.forms["invite"]
    assert form["username"].value == "bea" and form["site"].value == site and form["profile"].value == "site"
    form.submit(status=303)
    bea = prover_app.storage.get_user(username="bea")
    assert bea.me == site
    assert [e.kind for e in prover_app.storage.events()].count("site_proven") == 1


def test_a_proof_is_for_its_own_site_only(prover_app, site, sites):
    other = sites()  # proven, but bea signs up with the site that is not
    SiteProver.PROVABLE.add(other)
    link = invite_link(prover_app)
    web = webtest.TestApp(prover_app)
    page = join(web, link, profile="site", site=other, status=400)
    page.forms["prove-prover"].submit(status=303).follow(status=303)
    assert "does not name this server" in join(web, link, profile="site", site=site, status=400).text
    assert prover_app.storage.get_user(username="bea") is None


def test_a_forged_or_expired_proof_is_not_taken(prover_app, site, clock):
    link = invite_link(prover_app)
    web = webtest.TestApp(prover_app)
    value = indieauth.base64.urlsafe_b64encode(indieauth.json.dumps([site, "prover", 2 ** 40]).encode()).decode()
    web.set_cookie(indieauth.PROOF_COOKIE, value + ".0123456789abcdef0123456789abcdef")
    assert "does not name this server" in join(web, link, profile="site", site=site, status=400).text
    SiteProver.PROVABLE.add(site)
    web = webtest.TestApp(prover_app)
    join(web, link, profile="site", site=site, status=400).forms["prove-prover"].submit(status=303).follow(status=303)
    clock.advance(seconds=indieauth.PROOF_LIFETIME + 1)
    assert "does not name this server" in join(web, link, profile="site", site=site, status=400).text


def test_a_site_the_prover_cannot_prove_says_why(prover_app, site):
    link = invite_link(prover_app)
    web = webtest.TestApp(prover_app)
    page = join(web, link, profile="site", site=site, status=400).forms["prove-prover"].submit(status=400)
    assert "has no rel=me link this prover knows" in page.text


def test_proving_needs_the_csrf_token_and_a_live_invite(prover_app, site):
    SiteProver.PROVABLE.add(site)
    link = invite_link(prover_app)
    web = webtest.TestApp(prover_app)
    web.post(link + "/prove", {"method": "prover", "site": site, "username": "bea"}, status=403)
    web.post("/invite/not-an-invite/prove", {"method": "prover", "site": site}, status=403)
    form = join(web, link, profile="site", site=site, status=400).forms["prove-prover"]
    form["method"].force_value("password")  # not an authenticator that proves sites
    assert "Choose one of the ways" in form.submit(status=400).text


# -- moving from [server] shared_host to [plugins.hosting]

def test_cli_user_invite_without_the_plugin_says_to_enable_it(make_app, capsys):
    app = make_app(hosting=False)
    with open(app.config.path, "w") as f:
        f.write("[plugins.password]\n")
    code = indieauth.main(["--config", app.config.path, "user", "invite", "--role", "admin"],
                          app_factory=lambda config, **kw: app)
    error = capsys.readouterr().err
    assert code == 2 and "hosting plugin, which is not enabled (enable with [plugins.hosting] in" in error
    assert app.storage.list_invites() == []


def test_a_config_with_shared_host_fails_and_says_what_to_write_instead(tmp_path):
    path = tmp_path / "plugins.toml"
    path.write_text('[server]\nbase_url = "http://localhost/"\nshared_host = true\n')
    with pytest.raises(indieauth.ConfigError) as failure:
        indieauth.Config.load(str(path))
    message = str(failure.value)
    assert "shared_host" in message and "[plugins.hosting]" in message and "indieauth-hosting" in message


def test_a_database_made_with_shared_host_keeps_working_once_the_plugin_is_enabled(make_app):
    """The core without the plugin is what a shared_host server's database looks like: the same tables,
    users with hosted profiles and open invites.  Enabling [plugins.hosting] on it serves them again."""
    before = make_app(hosting=False)
    bea = before.storage.create_user("bea", "http://localhost/u/bea", name="Bea Example")
    set_password(before, bea, PASSWORD)
    raw = before.storage.create_invite("user", 3600)
    webtest.TestApp(before).get("/u/bea", status=404)
    after = make_app()  # the same folder, so the same database
    assert after.storage.get_user(username="bea").name == "Bea Example"
    assert "Bea Example" in webtest.TestApp(after).get("/u/bea").text
    join(webtest.TestApp(after), "/invite/" + raw, username="cy")
    assert after.storage.get_user(username="cy").me == "http://localhost/u/cy"
    web = webtest.TestApp(after)
    sign_in(web, "bea")
    web.get("/u/bea/edit", status=200)


def test_the_users_link_is_in_the_menu_of_administrators_only(app, owner):
    join(webtest.TestApp(app), invite_link(app))
    set_password(app, app.storage.get_user(username="bea"), PASSWORD)
    admin, bea = webtest.TestApp(app), webtest.TestApp(app)
    sign_in(admin)
    sign_in(bea, "bea")
    assert admin.get("/tokens").html.select_one('nav.site a[href="/admin/users"]').text == "Users"
    assert bea.get("/tokens").html.select_one('nav.site a[href="/admin/users"]') is None
