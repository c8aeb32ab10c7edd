"""XSS through every field a client (or a person) supplies: each is shown escaped, never as markup.

A page passes when its HTML holds no script without a src of this server, no on* attribute and no
javascript: link, and the payload's raw text is nowhere in it.
"""

import json
import urllib.parse

import pytest
from bs4 import BeautifulSoup

from .conftest import add_user, auth_query, browser, resolver

PAYLOAD = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


def assert_inert(html):
    assert PAYLOAD not in html and "<script>alert" not in html
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all(True):
        assert not any(name.lower().startswith("on") for name in tag.attrs), tag
        if tag.name == "script":
            assert tag.get("src", "").startswith("/"), tag
        for name in ("href", "src", "action"):
            assert not str(tag.get(name, "")).lower().lstrip().startswith(("javascript:", "data:text")), tag


def shown_text(html):
    return BeautifulSoup(html, "html.parser").get_text()


@pytest.fixture
def app(make_app):
    return make_app({"security": {"fetch_allow": ["127.0.0.1/32"]}}, resolver=resolver)


def consent_page(web, site, **params):
    response = web.get(auth_query(client_id=site.url_for("/", host="app.test"),
                                  redirect_uri=site.url_for("/cb", host="app.test"), **params), status=303)
    return web.get(response.headers["Location"].replace("http://localhost", ""))


H_APP = {
    "name": '<div class="h-app"><a class="u-url p-name" href="{url}">{payload}</a></div>',
    "logo": '<div class="h-app"><img class="u-logo" src="javascript:alert(1)//{payload}">'
            '<a class="u-url p-name" href="{url}">App</a></div>',
    "url": '<div class="h-app"><a class="u-url" href="{url}">x</a><a class="p-name" href="javascript:alert(1)">'
           '{payload}</a></div>',
}


@pytest.mark.parametrize("field", H_APP)
def test_h_app_fields_are_escaped_on_the_consent_page(signed_in, site, field):
    """XSS through the app's h-app (name, logo, url): shown as text on the consent page."""
    import html
    site.page("/", H_APP[field].format(url=site.url_for("/", host="app.test"), payload=html.escape(PAYLOAD)))
    page = consent_page(signed_in, site)
    assert page.status_int == 200 and len(site.hits) >= 1
    assert_inert(page.text)
    if field == "name":
        assert PAYLOAD in shown_text(page.text)  # read, and shown as text


METADATA = {"client_name": PAYLOAD, "logo_uri": "javascript:alert(1)", "client_uri": "javascript:alert(1)//"}


@pytest.mark.parametrize("field", METADATA)
def test_client_metadata_fields_are_escaped_on_the_consent_page(signed_in, site, field):
    """XSS through a client metadata document (client_name, logo_uri, client_uri)."""
    client = site.url_for("/", host="app.test")
    document = {"client_id": client, "redirect_uris": [site.url_for("/cb", host="app.test")], field: METADATA[field]}
    site.page("/", json.dumps(document), content_type="application/json")
    page = consent_page(signed_in, site)
    assert page.status_int == 200
    assert_inert(page.text)
    if field == "client_name":
        assert PAYLOAD in shown_text(page.text)


def test_scope_is_escaped_on_the_consent_page(signed_in, site):
    """XSS through a requested scope name, shown as an unknown permission."""
    site.page("/", "<p>nothing</p>")
    page = consent_page(signed_in, site, scope='profile <script>alert(1)</script><img/src/onerror=alert(2)>')
    assert page.status_int == 200
    assert_inert(page.text)


def test_me_hint_is_escaped_on_the_consent_page(signed_in, site):
    """XSS through the me hint, shown when it differs from the signed-in person."""
    site.page("/", "<p>nothing</p>")
    page = consent_page(signed_in, site, me='https://mallory.example/"><script>alert(1)</script>')
    assert page.status_int == 200
    assert_inert(page.text)


def test_client_id_is_escaped_on_the_error_page(signed_in):
    """XSS through the client_id, shown on the page that refuses an unpublished redirect_uri."""
    page = signed_in.get(auth_query(client_id="http://xss.test/" + urllib.parse.quote(PAYLOAD),
                                    redirect_uri="http://evil.test/cb"), status=400)
    assert_inert(page.text)


def test_redirect_uri_is_escaped_on_the_error_page(signed_in):
    """XSS through the redirect_uri, quoted in the error page's explanation."""
    page = signed_in.get(auth_query(redirect_uri="http://evil.test/" + PAYLOAD), status=400)
    assert_inert(page.text)


def test_malformed_request_error_is_escaped(signed_in):
    """XSS through a parameter name quoted in the error for a repeated parameter."""
    page = signed_in.get(auth_query() + "&" + urllib.parse.quote(PAYLOAD) + "=1&" + urllib.parse.quote(PAYLOAD) + "=2",
                         status=400)
    assert_inert(page.text)


def test_state_is_never_echoed_into_a_page(signed_in):
    """XSS through state: it only ever goes back in the redirect's query, percent-encoded."""
    response = signed_in.get(auth_query(state=PAYLOAD, response_type="token"), status=302)
    assert "<" not in response.headers["Location"] and "<script" not in response.text


def test_not_found_path_is_escaped(web):
    """XSS through the path of a page that does not exist."""
    assert_inert(web.get("/" + urllib.parse.quote(PAYLOAD), status=404).text)


def test_login_next_is_escaped(web, owner):
    """XSS through ?next= on the sign-in page (kept in a hidden field)."""
    assert_inert(web.get("/login?next=" + urllib.parse.quote("/" + PAYLOAD)).text)


def test_login_username_is_escaped_after_a_failure(web, owner):
    """XSS through the user name shown back after a failed sign-in."""
    form = web.get("/login").forms["password-login"]
    form["username"], form["password"] = PAYLOAD, "wrong"
    assert_inert(form.submit(expect_errors=True).text)


def test_profile_fields_are_escaped_on_the_profile_page(make_app):
    """Stored XSS through one's own profile (name, note, url) shown on the public /u/NAME page."""
    app = make_app({"plugins": {"hosting": {}}})
    user = add_user(app, "bea")
    app.storage.update_user(user, me="http://localhost/u/bea")
    web = browser(app, "bea")
    form = web.get("/u/bea/edit").forms["profile"]
    form["name"], form["note"], form["url"] = PAYLOAD, PAYLOAD, 'https://bea.example/"><script>alert(1)</script>'
    form.submit(status=303)
    assert app.storage.get_user(username="bea").name == PAYLOAD
    assert_inert(browser(app).get("/u/bea").text)
    assert_inert(web.get("/u/bea/edit").text)


@pytest.mark.parametrize("field", ["url", "photo"])
def test_javascript_url_in_a_profile_is_refused(make_app, field):
    """Stored XSS through a javascript: profile link: refused, never stored."""
    app = make_app({"plugins": {"hosting": {}}})
    user = add_user(app, "bea")
    app.storage.update_user(user, me="http://localhost/u/bea")
    web = browser(app, "bea")
    form = web.get("/u/bea/edit").forms["profile"]
    form[field] = "javascript:alert(1)"
    form.submit(status=400)
    assert getattr(app.storage.get_user(username="bea"), field) in ("", None)


def test_invite_form_values_are_escaped(make_app):
    """Reflected XSS through the invite page's username and site query parameters."""
    app = make_app({"plugins": {"hosting": {}}})
    link = "/invite/" + app.storage.create_invite("user", 3600)
    page = browser(app).get(link + "?" + urllib.parse.urlencode({"username": PAYLOAD, "site": PAYLOAD}))
    assert_inert(page.text)


def test_registered_app_name_is_escaped_on_the_admin_page(signed_in):
    """Stored XSS through a registered app's name and description on the Apps page."""
    form = signed_in.get("/admin/clients").forms["new-client"]
    form["name"] = PAYLOAD
    form["redirect_uris"] = "https://app.example/cb"
    if "description" in form.fields:
        form["description"] = PAYLOAD
    assert_inert(form.submit().text)
    assert_inert(signed_in.get("/admin/clients").text)


def test_testing_token_client_id_is_escaped(signed_in):
    """Reflected XSS through the client_id of the new testing token form, shown back with its error."""
    form = signed_in.get("/tokens/new").forms["new-token"]
    form["client_id"] = PAYLOAD
    assert_inert(form.submit(expect_errors=True).text)


def test_client_id_in_the_activity_log_is_escaped(signed_in, site):
    """Stored XSS through a client_id recorded in the audit log and shown on /log."""
    site.page("/", "<p>nothing</p>")
    client = site.url_for("/", host="app.test") + "?" + urllib.parse.quote(PAYLOAD)
    response = signed_in.get(auth_query(client_id=client, redirect_uri=site.url_for("/cb", host="app.test")),
                             expect_errors=True)
    if response.status_int == 303:
        page = signed_in.get(response.headers["Location"].replace("http://localhost", ""))
        page.forms["consent"].submit("action", value="deny")
    assert_inert(signed_in.get("/log").text)
