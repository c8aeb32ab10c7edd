"""CSRF on every form: each POST route of the core and the first-party plugins, sent by a signed-in
person's browser without the form's csrf_token (or with another browser's), is refused with 403.

The routes come from the Bottle route table of an app with every first-party plugin enabled, so a new
form is covered as soon as it exists; only the OAuth endpoints, which never act on a session cookie,
are exempt, and the exemption list is checked too.
"""

import re
import tempfile

import pytest

import indieauth

from .conftest import CLIENT, REDIRECT, auth_query, browser

ALL_PLUGINS = {
    "plugins": {"password": {}, "hosting": {}, "totp": {}, "passkeys": {},
                "email": {"host": "127.0.0.1", "port": 9, "from_address": "Sign-in <auth@localhost>"},
                "github": {"client_id": "x", "client_secret": "y"},
                "okta": {"org_url": "https://example.okta.com", "api_token": "t", "login_domain": "example.com"},
                "webhook": {"urls": ["http://127.0.0.1:9/"], "secret": "s"}},
}
# The OAuth endpoints: called by apps, authenticated by codes, tokens and client secrets, never by cookies.
EXEMPT = {"/auth", *indieauth.API_PATHS}


def post_routes():
    """(rule, authenticator names) of every POST route of an app with every first-party plugin."""
    with tempfile.TemporaryDirectory() as folder:
        app = indieauth.make_test_app(ALL_PLUGINS, folder=folder)
        try:
            return [route.rule for route in app.bottle.routes if route.method == "POST"], list(app.authenticators)
        finally:
            app.storage.close()


RULES, AUTHENTICATORS = post_routes()
FORMS = [rule.replace("<name>", name) for rule in RULES if rule not in EXEMPT
         for name in (AUTHENTICATORS if "<name>" in rule else ["<name>"])]


def test_exempt_routes_are_the_oauth_endpoints_only():
    """The exemption list names only POST routes that exist and are OAuth endpoints."""
    assert EXEMPT <= set(RULES) and len(FORMS) >= 25


def concrete(app, owner, rule):
    """`rule` with real values for its wildcards: a live sign-in link, invite, pending request, app."""
    values = {
        "token": app.storage.create_invite("user", 3600) if rule.startswith("/invite/")
        else app.storage.create_login_link(owner, 3600),
        "username": "owner",
        "number": str(app.storage.create_client("http://localhost/clients/c/", "C", [REDIRECT]) and
                      app.storage.get_client("http://localhost/clients/c/").id),
    }
    if "<key>" in rule:
        web = browser(app)
        values["key"] = web.get(auth_query(), status=303).headers["Location"].rsplit("/", 1)[1]
    return re.sub(r"<(\w+)(?::\w+)?>", lambda m: values[m.group(1)], rule)


@pytest.mark.parametrize("how", ["missing", "other-browser"])
@pytest.mark.parametrize("rule", FORMS)
def test_form_without_its_csrf_token_is_refused(make_app, rule, how):
    """CSRF: a cross-site POST to a form, riding on the person's cookies, is refused with 403."""
    app = make_app(ALL_PLUGINS)
    from .conftest import add_user
    owner = add_user(app, "owner", role="owner")
    web = browser(app, "owner")
    fields = {"action": "approve", "username": "owner", "password": "x", "client_id": CLIENT, "what": "all",
              "confirm": "yes", "name": "Evil", "redirect_uris": REDIRECT, "scope": "profile"}
    if how == "other-browser":  # the attacker's own, valid token, for the attacker's own cookie
        fields["csrf_token"] = browser(app).get("/login").forms["password-login"]["csrf_token"].value
    response = web.post(concrete(app, owner, rule), fields, expect_errors=True)
    assert response.status_int == 403 and "security token" in response.text, (response.status, response.text[:300])


def page_token(web):
    """The csrf_token of the sign-out form on the signed-in person's start page."""
    return next(form["csrf_token"].value for form in web.get("/").forms.values() if form.action == "/logout")


@pytest.mark.parametrize("how", ["missing", "forged", "other-browser"])
def test_script_post_without_its_x_csrf_token_header_is_refused(make_app, how):
    """CSRF: a script's POST (a plugin's JSON route, fetch()) is checked through X-CSRF-Token, as a form is."""
    app = make_app(ALL_PLUGINS)
    from .conftest import add_user
    add_user(app, "owner", role="owner")
    web = browser(app, "owner")
    token = {"missing": None, "forged": "forged", "other-browser": page_token(browser(app, "owner"))}[how]
    headers = {"X-CSRF-Token": token} if token else {}
    response = web.post("/logout", headers=headers, expect_errors=True)
    assert response.status_int == 403 and "security token" in response.text, (response.status, response.text[:300])
    assert web.get("/tokens").status_int == 200  # still signed in


def test_script_post_with_the_pages_token_in_x_csrf_token_passes(make_app):
    """CSRF: the page's own token in the X-CSRF-Token header is accepted without a form field."""
    app = make_app(ALL_PLUGINS)
    from .conftest import add_user
    add_user(app, "owner", role="owner")
    web = browser(app, "owner")
    response = web.post("/logout", headers={"X-CSRF-Token": page_token(web)})
    assert response.status_int == 303
    assert web.get("/tokens").status_int == 303  # signed out: the page sends to /login
