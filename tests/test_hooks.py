"""Every hook spec has a test named after it (test_hook_<name>), and the hooks no other file tests here.

The tests use small plugin objects written the way a third party would write them: `from indieauth
import hookimpl`, passed to the app factory as `plugins=[…]`."""

import glob
import os
import re

import webtest

import indieauth
from conftest import sign_in

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
testing = indieauth.testing


def hook_names():
    return sorted(name for name in vars(indieauth.HookSpecs) if not name.startswith("_"))


def test_every_hook_spec_has_a_test_named_after_it():
    sources = glob.glob(os.path.join(ROOT, "tests", "**", "test_*.py"), recursive=True)
    sources += glob.glob(os.path.join(ROOT, "plugins", "*", "tests", "**", "test_*.py"), recursive=True)
    names = set()
    for path in sources:
        with open(path, encoding="utf-8") as file:
            names.update(re.findall(r"^def (test_hook_\w+)\(", file.read(), re.MULTILINE))
    untested = [hook for hook in hook_names()
                if not any(name == f"test_hook_{hook}" or name.startswith(f"test_hook_{hook}_") for name in names)]
    assert hook_names() and not untested, f"hooks without a test_hook_<name> test: {untested}"


class NotesScopes:
    """A plugin that adds a scope and rewords one of the core's."""

    @indieauth.hookimpl
    def register_scopes(self, app):
        return [indieauth.Scope("notes", "Read and write your private notes"),
                indieauth.Scope("profile", "See your name and photo (worded by a plugin)")]


def test_hook_register_scopes_adds_and_rewords_scopes(make_app, owner):
    app = make_app(plugins=[NotesScopes()])
    web = webtest.TestApp(app)
    supported = web.get("/.well-known/oauth-authorization-server").json["scopes_supported"]
    assert "notes" in supported and "profile" in supported and supported.count("profile") == 1
    sign_in(web)
    consent_url, _ = testing.start_authorization(web, scope="profile notes")
    page = web.get(consent_url)
    assert "Read and write your private notes" in page.text
    assert "See your name and photo (worded by a plugin)" in page.text


HOOKED_CLIENT = "https://hooked-app.invalid/"  # .invalid never resolves: only the hook can describe it


class KnownApps:
    """A plugin that knows one app's details without fetching anything, and records what it was asked."""

    def __init__(self):
        self.asked = []

    @indieauth.hookimpl
    def client_metadata(self, app, client_id):
        self.asked.append(client_id)
        if client_id == HOOKED_CLIENT:
            return indieauth.ClientInfo(client_id, name="Hooked Notes", url=HOOKED_CLIENT, fetched=True, source="json",
                                        redirect_uris=("https://elsewhere.example/back",))
        return None


def test_hook_client_metadata_first_result_replaces_discovery(make_app, owner):
    plugin = KnownApps()
    app = make_app(plugins=[plugin])
    web = webtest.TestApp(app)
    sign_in(web)
    # A redirect_uri on another host is allowed only because the plugin's answer lists it.
    consent_url, _ = testing.start_authorization(web, client_id=HOOKED_CLIENT,
                                                 redirect_uri="https://elsewhere.example/back")
    page = web.get(consent_url)
    assert "Hooked Notes" in page.text and "published no information" not in page.text
    assert HOOKED_CLIENT in plugin.asked
    # The core's default still answers for apps the plugin does not know: the .invalid host cannot be
    # fetched, so the unlisted redirect_uri on another host is refused with a page, not redirected.
    response = web.get("/auth", {"response_type": "code", "client_id": "https://other-app.invalid/",
                                 "redirect_uri": "https://elsewhere.example/back", "state": "s",
                                 "code_challenge": testing.pkce_pair()[1], "code_challenge_method": "S256"},
                       status=400)
    assert "elsewhere.example" in response.text


class DirectoryProfiles:
    """A plugin that answers profiles from a directory instead of the user's record."""

    @indieauth.hookimpl
    def user_profile(self, app, me, scopes):
        return {"name": "Owner From The Directory", "url": me, "photo": "https://photos.example/owner.jpg",
                "email": "owner@directory.example"}


def test_hook_user_profile_first_result_is_the_profile_and_email_needs_its_scope(make_app, owner):
    app = make_app(plugins=[DirectoryProfiles()])
    web = webtest.TestApp(app)
    sign_in(web)
    consent_url, verifier = testing.start_authorization(web, scope="profile")
    tokens = testing.redeem(web, testing.approve(web, consent_url), verifier)
    assert tokens["profile"]["name"] == "Owner From The Directory"
    assert tokens["profile"]["photo"] == "https://photos.example/owner.jpg"
    assert "email" not in tokens["profile"]  # the core drops it without the email scope
    consent_url, verifier = testing.start_authorization(web, scope="profile email")
    tokens = testing.redeem(web, testing.approve(web, consent_url), verifier)
    assert tokens["profile"]["email"] == "owner@directory.example"


def test_hook_menu_links_adds_links_to_the_navigation_of_signed_in_users(make_app, owner):
    import menu
    app = make_app({"plugins": {"menu": {}}}, plugins=[menu])
    web = webtest.TestApp(app)
    assert web.get("/login").html.select_one("nav.site") is None  # nobody signed in: no navigation
    sign_in(web)
    links = [(a.text, a["href"]) for a in web.get("/tokens").html.select("nav.site a")]
    assert links == [("Tokens", "/tokens"), ("Tickets", "/tickets"), ("Activity", "/log"), ("Developers", "/docs"),
                     ("Account", "/account"), ("Notes", "/plugins/menu/notes"), ("Billing", "/plugins/menu/billing"), ("Apps", "/admin/clients")]
    bea = app.storage.create_user("bea", "https://bea.example/")
    from indieauth_password import set_password
    set_password(app, bea, "bea's long password")
    other = webtest.TestApp(app)
    sign_in(other, "bea", "bea's long password")
    assert [a.text for a in other.get("/tokens").html.select("nav.site a")] == ["Tokens", "Tickets", "Activity",
                                                                                "Developers", "Account", "Notes"]


def test_hook_register_commands_adds_a_subcommand_to_a_core_group(make_app, capsys):
    import menu
    app = make_app({"plugins": {"menu": {}}}, plugins=[menu])
    args = indieauth.build_parser(app).parse_args(["user", "greet", "bea"])
    assert args.handler(app, args) == 0 and capsys.readouterr().out.strip() == "hello bea"
