"""The password plugin, tested as a third party would: indieauth.make_test_app and webtest only."""

import io
import sys

import pytest
import webtest

import indieauth
import indieauth_password as pw

GOOD = "a long enough password"


@pytest.fixture
def app(tmp_path):
    return indieauth.make_test_app({"plugins": {"password": {}}}, folder=str(tmp_path))


@pytest.fixture
def user(app):
    user = app.storage.create_user("ann", "https://ann.example/", role="owner")
    pw.set_password(app, user, GOOD)
    return user


def login(web, password=GOOD, status=303):
    form = web.get("/login").forms["password-login"]
    form["username"], form["password"] = "ann", password
    return form.submit(status=status)


def test_hash_is_scrypt_with_a_random_salt():
    first, second = pw.hash_password("secret"), pw.hash_password("secret")
    assert first.startswith("scrypt$16384$8$1$") and first != second


def test_check_password_accepts_only_the_right_password():
    stored = pw.hash_password("secret password")
    assert pw.check_password("secret password", stored)
    assert not pw.check_password("secret passwore", stored)
    assert not pw.check_password("", stored)


@pytest.mark.parametrize("stored", ["", "plain", "scrypt$x$8$1$AA==$AA==", "scrypt$16384$8$1$!!$!!", "a$b$c$d$e$f$g"])
def test_a_damaged_hash_never_matches_and_never_raises(stored):
    assert pw.check_password("anything", stored) is False


def test_the_password_is_stored_only_as_a_hash(app, user):
    with app.storage.bound(), app.storage.database.connection_context():
        rows = [c.data for c in indieauth.Credential.select()]
    assert len(rows) == 1 and GOOD not in rows[0] and "scrypt$" in rows[0]


def test_sign_in_and_wrong_password(app, user):
    web = webtest.TestApp(app)
    login(web, "wrong wrong wrong", status=400)
    login(web)
    assert "Signed in as" in web.get("/").text


def test_min_length_is_configurable_and_validated(tmp_path):
    app = indieauth.make_test_app({"plugins": {"password": {"min_length": 16}}}, folder=str(tmp_path))
    assert app.plugin_state["password"]["min_length"] == 16
    with pytest.raises(indieauth.ConfigError, match=r"\[plugins.password\] unknown key 'minlength'"):
        indieauth.make_test_app({"plugins": {"password": {"minlength": 16}}}, folder=str(tmp_path))


def change_form(web):
    return web.get("/plugins/password/").forms[1]  # [0] is the sign-out form in the header


def test_change_password_page_needs_a_signed_in_user(app, user):
    response = webtest.TestApp(app).get("/plugins/password/", status=303)
    assert "/login?next=%2Fplugins%2Fpassword%2F" in response.headers["Location"]


def test_change_password(app, user):
    web = webtest.TestApp(app)
    login(web)
    form = change_form(web)
    form["current_password"], form["new_password"], form["new_password_again"] = GOOD, "another good one", "another good one"
    assert "changed=1" in form.submit(status=303).headers["Location"]
    login(webtest.TestApp(app), "another good one")
    login(webtest.TestApp(app), GOOD, status=400)


@pytest.mark.parametrize("current, new, again, message", [
    ("wrong current pw", "another good one", "another good one", "current password is not right"),
    (GOOD, "short", "short", "at least 10 characters"),
    (GOOD, "another good one", "another good two", "not the same"),
])
def test_change_password_refusals_say_why(app, user, current, new, again, message):
    web = webtest.TestApp(app)
    login(web)
    form = change_form(web)
    form["current_password"], form["new_password"], form["new_password_again"] = current, new, again
    response = form.submit(status=400)
    assert message in response.html.select_one("[role=alert]").text
    login(webtest.TestApp(app))  # the old password still works


def test_change_password_without_csrf_is_refused(app, user):
    web = webtest.TestApp(app)
    login(web)
    web.post("/plugins/password/", {"current_password": GOOD, "new_password": "x" * 20,
                                    "new_password_again": "x" * 20}, status=403)
    login(webtest.TestApp(app))


def run_passwd(app, monkeypatch, capsys, stdin, *argv):
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    parser = indieauth.build_parser(app)
    args = parser.parse_args(["passwd", *argv])
    return args.handler(app, args), capsys.readouterr()


def test_passwd_command_sets_the_owner_password_and_ends_sessions(app, user, monkeypatch, capsys):
    web = webtest.TestApp(app)
    login(web)
    code, out = run_passwd(app, monkeypatch, capsys, "brand new password\n")
    assert code == 0 and "password set for ann" in out.out and "ended 1" in out.out
    assert "Signed in as" not in web.get("/").text
    login(webtest.TestApp(app), "brand new password")


def test_passwd_refuses_a_short_password(app, user, monkeypatch, capsys):
    with pytest.raises(indieauth.UsageError, match="at least 10"):
        run_passwd(app, monkeypatch, capsys, "short\n")
    login(webtest.TestApp(app))


def test_passwd_for_an_unknown_user_is_a_usage_error(app, user, monkeypatch, capsys):
    with pytest.raises(indieauth.UsageError, match="no user named 'bob'"):
        run_passwd(app, monkeypatch, capsys, "brand new password\n", "--user", "bob")


def test_login_form_has_autocomplete_attributes(app):
    html = webtest.TestApp(app).get("/login").html
    assert html.select_one("#username")["autocomplete"] == "username"
    assert html.select_one("#password")["autocomplete"] == "current-password"


def test_the_start_page_links_to_the_change_password_page(app, user):
    web = webtest.TestApp(app)
    assert not web.get("/").html.select("a[href='/plugins/password/']")
    login(web)
    assert web.get("/").html.select_one("a[href='/plugins/password/']").text == "Password"


def test_changing_the_password_on_the_web_ends_other_sign_ins_but_this_one(app, user):
    elsewhere, here = webtest.TestApp(app), webtest.TestApp(app)
    login(elsewhere)
    login(here)
    form = change_form(here)
    form["current_password"], form["new_password"], form["new_password_again"] = GOOD, "another good one", "another good one"
    form.submit(status=303)
    assert "Signed in as" in here.get("/").text
    assert "Signed in as" not in elsewhere.get("/").text


def test_the_first_sign_in_link_lands_on_a_set_password_page_that_says_what_it_is_and_what_comes_next(app):
    user = app.storage.create_user("ann", "https://ann.example/", role="owner")
    web = webtest.TestApp(app)
    link = "/login/once/" + app.storage.create_login_link(user, 600)
    page = web.get(link).forms[0].submit(status=303).follow()
    assert page.html.select_one("h1").text == "Set a password"
    text = page.html.select_one("#first-password").text
    assert "one-time link" in text and "start page" in text
    form = page.forms[len(page.forms) - 1]
    form["new_password"] = form["new_password_again"] = GOOD
    assert "first-password" not in form.submit(status=303).follow().text
