"""The plugin manager: entry points, enabling, check_pending, and one test per hook."""

import ast
import glob
import logging
import os

import pytest
import webtest

import allow_anyone
import configured
import exploding
import indieauth
import misspelled
import recorder
import styled
from conftest import PASSWORD, sign_in


def test_installed_entry_points_include_the_password_plugin():
    assert "password" in indieauth.installed_plugins()


def test_only_enabled_plugins_are_registered(make_app):
    app = make_app(password=False)
    assert app.pm.get_plugin("password") is None
    assert app.authenticators == {}
    app = make_app()
    assert app.pm.get_plugin("password") is not None
    assert list(app.authenticators) == ["password"]


def test_enabled_false_keeps_a_plugin_off(make_app):
    app = make_app({"plugins": {"password": {"enabled": False}}}, password=False)
    assert app.pm.get_plugin("password") is None


def test_an_unknown_plugin_fails_start_up_listing_the_installed_ones(make_app):
    with pytest.raises(indieauth.ConfigError) as info:
        make_app({"plugins": {"pasword": {}}})
    message = str(info.value)
    assert "[plugins.pasword]" in message and "installed:" in message and "password" in message


def install_unloadable_plugin(folder, name="ghost"):
    """A distribution whose `indieauth` entry point names a module that is not there: what a server that
    started before `pip install` sees (an editable install's path is added only at start-up)."""
    info = folder / f"indieauth_{name}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: indieauth-{name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[indieauth]\n{name} = indieauth_{name}_missing\n")
    return folder


def test_a_plugin_whose_code_cannot_be_loaded_is_a_configuration_error_that_says_restart(make_app, tmp_path,
                                                                                       monkeypatch):
    monkeypatch.syspath_prepend(str(install_unloadable_plugin(tmp_path)))
    assert "ghost" in indieauth.installed_plugins()
    with pytest.raises(indieauth.ConfigError) as info:
        make_app({"plugins": {"ghost": {}}})
    message = str(info.value)
    assert "[plugins.ghost]" in message and "No module named 'indieauth_ghost_missing'" in message
    assert "restart" in message


def test_plugins_are_not_loaded_at_import_time():
    # Importing the module builds no plugin manager and loads no entry point.
    assert not hasattr(indieauth, "pm") and indieauth._application is None


def test_check_pending_makes_a_misspelled_hook_a_start_up_error(make_app):
    with pytest.raises(Exception) as info:
        make_app(plugins=[misspelled])
    assert "register_authenticator" in str(info.value)


def test_a_plugin_table_with_keys_the_plugin_never_validates_fails(make_app):
    with pytest.raises(indieauth.ConfigError, match=r"\[plugins.recorder\] unknown key 'colour'"):
        make_app({"plugins": {"recorder": {"colour": "red"}}}, plugins=[recorder])


def test_hook_configure_validates_the_plugin_table(make_app):
    app = make_app({"plugins": {"configured": {"greeting": "hi"}}}, plugins=[configured])
    assert configured.SEEN["settings"] == {"greeting": "hi", "wrap_storage": False}
    with pytest.raises(indieauth.ConfigError, match=r"\[plugins.configured\] greeting: expected a string"):
        make_app({"plugins": {"configured": {"greeting": 5}}}, plugins=[configured])
    with pytest.raises(indieauth.ConfigError, match=r"\[plugins.configured\] unknown key 'greting'"):
        make_app({"plugins": {"configured": {"greting": "x"}}}, plugins=[configured])
    assert app.pm.get_plugin("configured") is configured


def test_hook_configure_fails_start_up_for_the_password_plugin_too(make_app):
    with pytest.raises(indieauth.ConfigError, match=r"\[plugins.password\] min_length"):
        make_app({"plugins": {"password": {"min_length": "ten"}}})


class Keeper:
    """A test plugin that keeps a list under its own name in `app.plugin_state`."""

    def __init__(self, name):
        self.__name__ = name

    @indieauth.hookimpl
    def configure(self, app):
        app.plugin_state[self.__name__] = [self.__name__]


def test_plugin_state_keeps_each_plugins_own_objects_apart(make_app):
    app = make_app(plugins=[Keeper("first"), Keeper("second")])
    assert app.plugin_state["first"] == ["first"] and app.plugin_state["second"] == ["second"]
    assert app.plugin_state["password"]["min_length"] == 10  # the password plugin's settings, untouched
    assert make_app(password=False).plugin_state == {}  # and every app has its own


def test_plugin_state_of_a_plugin_that_stored_none_is_a_key_error_naming_it(make_app):
    app = make_app()
    with pytest.raises(KeyError, match=r"no plugin state for 'totp'.*is \[plugins.totp\] enabled"):
        app.plugin_state["totp"]
    assert app.plugin_state.get("totp") is None


def assignments_to_the_app(path):
    """(line, text) of every `app.NAME = …` (or `self.app.NAME = …`) and `setattr(app, …)` in a module."""
    def is_app(node):
        return (isinstance(node, ast.Name) and node.id == "app"
                or isinstance(node, ast.Attribute) and node.attr == "app")
    found = []
    for node in ast.walk(ast.parse(open(path).read(), path)):
        targets = (node.targets if isinstance(node, ast.Assign) else [node.target]
                   if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else [])
        found += [(node.lineno, ast.unparse(t)) for t in targets if isinstance(t, ast.Attribute) and is_app(t.value)]
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr"
                and node.args and is_app(node.args[0])):
            found.append((node.lineno, ast.unparse(node)))
    return found


FIRST_PARTY_MODULES = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "..", "plugins", "*",
                                                    "indieauth_*", "*.py")))


@pytest.mark.parametrize("path", FIRST_PARTY_MODULES, ids=lambda path: path.split(os.sep)[-3])
def test_no_first_party_plugin_sets_an_attribute_on_the_app(path):
    assert assignments_to_the_app(path) == []  # keep it in app.plugin_state[NAME]


def test_the_scan_for_attributes_set_on_the_app_finds_them(tmp_path):
    module = tmp_path / "sample.py"
    module.write_text("app.a = 1\nself.app.b += 1\nsetattr(app, 'c', 1)\napp.plugin_state['d'] = 1\n")
    assert [line for line, _ in assignments_to_the_app(module)] == [1, 2, 3]
    assert len(FIRST_PARTY_MODULES) >= 7


def test_hook_register_routes(make_app):
    web = webtest.TestApp(make_app({"plugins": {"configured": {"greeting": "bonjour"}}}, plugins=[configured]))
    assert web.get("/plugins/configured/").text == "bonjour"
    # Plugin routes get the same security headers and error pages as the core's.
    assert web.get("/plugins/configured/me").headers["X-Frame-Options"] == "DENY"


def test_hook_register_commands(make_app, capsys, tmp_path):
    app = make_app({"plugins": {"configured": {"greeting": "hey"}}}, plugins=[configured])
    parser = indieauth.build_parser(app)
    args = parser.parse_args(["greet"])
    assert args.handler(app, args) == 0
    assert capsys.readouterr().out.strip() == "hey"


def test_hook_storage_backend_replaces_the_core_storage(make_app):
    app = make_app({"plugins": {"configured": {"wrap_storage": True}}}, plugins=[configured])
    assert isinstance(app.storage, configured.CountingStorage)
    webtest.TestApp(app).get("/login")
    assert app.storage.connects == 1


def test_hook_storage_backend_default_is_the_core_storage(app):
    assert type(app.storage) is indieauth.Storage


def test_hook_register_authenticators_are_listed_on_the_login_page(make_app):
    app = make_app(plugins=[allow_anyone])
    page = webtest.TestApp(app).get("/login")
    headings = [h.text for h in page.html.select("section.method h2")]
    assert headings == ["Password", "Anyone (tests only)"]


def head_assets(page):
    """(stylesheets, scripts) the page's <head> loads, in order."""
    head = page.html.head
    return ([link["href"] for link in head.select('link[rel="stylesheet"]')],
            [(script["src"], script.has_attr("defer")) for script in head.select("script")])


def test_hook_register_authenticators_stylesheets_and_scripts_load_in_the_head_once_each(make_app):
    app = make_app(plugins=[styled])
    web = webtest.TestApp(app)
    assert head_assets(web.get("/login")) == (
        ["/static/style.css", "/plugins/styled/styled.css"],
        [("/plugins/styled/shared.js", True), ("/plugins/styled/styled.js", True)])
    assert head_assets(web.get("/login/styled_too")) == (["/static/style.css"], [("/plugins/styled/shared.js", True)])
    assert head_assets(web.get("/login/password")) == (["/static/style.css"], [])
    assert not web.get("/login").html.body.select("script")


def test_hook_register_authenticators_finish_signs_in(make_app):
    app = make_app(plugins=[allow_anyone])
    app.storage.create_user("ann", "https://ann.example/")
    web = webtest.TestApp(app)
    form = web.get("/login/allow_anyone").forms[0]
    form["who"] = "ann"
    assert form.submit(status=303).headers["Location"].endswith("/")
    assert "Signed in as" in web.get("/").text


def test_hook_track_event_receives_login_events(make_app, owner):
    recorder.EVENTS.clear()
    app = make_app(plugins=[recorder])
    from indieauth_password import set_password
    user = app.storage.create_user("owner2", "https://owner2.example/", role="owner")
    set_password(app, user, PASSWORD)
    web = webtest.TestApp(app)
    sign_in(web, "owner2", "wrong password!", status=400)
    sign_in(web, "owner2")
    kinds = [type(e).__name__ for e in recorder.EVENTS]
    assert kinds == ["LoginFailed", "LoginSucceeded"]
    assert recorder.EVENTS[1].user.username == "owner2" and recorder.EVENTS[1].method == "password"


def test_hook_track_event_exceptions_are_logged_not_raised(make_app, caplog):
    app = make_app(plugins=[exploding, allow_anyone])
    app.storage.create_user("ann", "https://ann.example/")
    indieauth.log.propagate = True
    web = webtest.TestApp(app)
    form = web.get("/login/allow_anyone").forms[0]
    form["who"] = "ann"
    with caplog.at_level(logging.ERROR, logger="indieauth"):
        form.submit(status=303)
    assert "exploding failed in track_event" in caplog.text


def test_testing_helpers_run_a_whole_sign_in_to_a_code(make_app, owner):
    from indieauth import testing
    app = make_app(plugins=[allow_anyone])
    web = webtest.TestApp(app)
    consent_url, verifier = testing.start_authorization(web)
    login = web.get(consent_url, status=303).follow()
    form = login.forms[1]  # allow_anyone's form ([0] is the password plugin's)
    form["who"] = "owner"
    form.submit(status=303)
    code = testing.approve(web, consent_url)
    assert testing.redeem(web, code, verifier)["me"] == "https://owner.example/"
