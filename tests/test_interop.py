"""Real third-party OAuth clients (Authlib's OAuth2Session; requests-oauthlib's) against a real waitress server."""

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.common.security import generate_token
from bs4 import BeautifulSoup

from conftest import PASSWORD, free_port, serving


def app_with_owner(make_app, base):
    """An app whose base_url is `base`, with the owner `owner` / PASSWORD."""
    app = make_app({"server": {"base_url": base + "/"}})
    from indieauth_password import set_password
    set_password(app, app.storage.create_user("owner", "https://owner.example/", role="owner"), PASSWORD)
    return app


@pytest.fixture
def server(make_app):
    """(base URL, app) of a server whose base_url is the address it really listens on."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = app_with_owner(make_app, base)
    with serving(app, port):
        yield base, app


def form_fields(html, form_id):
    """(action, [(name, value)…]) of a form as a browser would submit it (ticked boxes only)."""
    form = BeautifulSoup(html, "html.parser").find("form", id=form_id)
    return form["action"], [(i["name"], i.get("value", "")) for i in form.select("input[name]")
                            if i.get("type") != "checkbox" or i.has_attr("checked")]


def browser_signed_in(base):
    browser = requests.Session()
    browser.trust_env = False
    action, fields = form_fields(browser.get(base + "/login", timeout=5).text, "password-login")
    fields = [f for f in fields if f[0] not in ("username", "password")]
    fields += [("username", "owner"), ("password", PASSWORD)]
    assert browser.post(base + action, data=fields, allow_redirects=False, timeout=5).status_code == 303
    return browser


def test_authlib_completes_code_flow_with_pkce_refresh_and_revoke(server):
    base, app = server
    browser = browser_signed_in(base)
    client = OAuth2Session(client_id=f"{base}/client/", redirect_uri=f"{base}/client/callback",
                           scope="profile create", code_challenge_method="S256")
    client.trust_env = False
    verifier = generate_token(64)
    url, state = client.create_authorization_url(f"{base}/auth", code_verifier=verifier)

    consent = browser.get(url, allow_redirects=True, timeout=5)  # validated, stored, consent page
    assert consent.status_code == 200 and "Allow" in consent.text
    action, fields = form_fields(consent.text, "consent")
    fields.append(("action", "approve"))
    answer = browser.post(base + action, data=fields, allow_redirects=False, timeout=5)
    assert answer.status_code == 303
    callback = answer.headers["Location"]
    assert callback.startswith(f"{base}/client/callback?") and f"iss={requests.utils.quote(base + '/', safe='')}" in callback

    token = client.fetch_token(f"{base}/token", authorization_response=callback, code_verifier=verifier)
    assert token["me"] == "https://owner.example/" and token["scope"] == "profile create"
    assert token["token_type"] == "Bearer" and token["profile"]["url"] == "https://owner.example/"

    me = client.get(f"{base}/userinfo", timeout=5)
    assert me.status_code == 200 and me.json()["url"] == "https://owner.example/"

    refreshed = client.refresh_token(f"{base}/token", refresh_token=token["refresh_token"])
    assert refreshed["access_token"] != token["access_token"] and refreshed["scope"] == "profile create"

    assert client.revoke_token(f"{base}/revoke", token=refreshed["access_token"]).status_code == 200
    check = requests.get(f"{base}/token", headers={"Authorization": f"Bearer {refreshed['access_token']}"}, timeout=5)
    assert check.status_code == 401


def test_authlib_refresh_resending_its_scope_after_the_person_unticked_one(server):  # S70, S74
    """Issue 18: Authlib's refresh_token sends the session's scope, all it first asked for; the person
    unticked `create` at consent, so the refresh gets what was granted and says so."""
    base, _ = server
    browser = browser_signed_in(base)
    client = OAuth2Session(client_id=f"{base}/client/", redirect_uri=f"{base}/client/callback",
                           scope="profile create", code_challenge_method="S256")
    client.trust_env = False
    verifier = generate_token(64)
    url, _ = client.create_authorization_url(f"{base}/auth", code_verifier=verifier)
    action, fields = form_fields(browser.get(url, timeout=5).text, "consent")
    fields = [f for f in fields if f != ("scope", "create")] + [("action", "approve")]
    callback = browser.post(base + action, data=fields, allow_redirects=False, timeout=5).headers["Location"]
    token = client.fetch_token(f"{base}/token", authorization_response=callback, code_verifier=verifier)
    assert token["scope"] == "profile"

    refreshed = client.refresh_token(f"{base}/token", refresh_token=token["refresh_token"])
    assert refreshed["scope"] == "profile" and refreshed["access_token"] != token["access_token"]
    assert client.get(f"{base}/userinfo", timeout=5).status_code == 200
    again = client.refresh_token(f"{base}/token", refresh_token=refreshed["refresh_token"])
    assert again["scope"] == "profile"


def test_requests_oauthlib_refresh_resending_its_scope_after_the_person_unticked_one(server, monkeypatch):  # S70
    """The same with requests-oauthlib, whose refresh_token also sends the session's scope.  oauthlib
    refuses an answer whose scope differs from what it asked for unless OAUTHLIB_RELAX_TOKEN_SCOPE is
    set, which an app that lets people untick scopes sets anyway (docs/troubleshooting.md)."""
    from requests_oauthlib import OAuth2Session as RequestsSession
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # http on 127.0.0.1 in the test
    monkeypatch.setenv("OAUTHLIB_RELAX_TOKEN_SCOPE", "1")
    base, _ = server
    browser = browser_signed_in(base)
    client = RequestsSession(client_id=f"{base}/client/", redirect_uri=f"{base}/client/callback",
                             scope=["profile", "create"], pkce="S256")
    client.trust_env = False
    url, _ = client.authorization_url(f"{base}/auth")
    action, fields = form_fields(browser.get(url, timeout=5).text, "consent")
    fields = [f for f in fields if f != ("scope", "create")] + [("action", "approve")]
    callback = browser.post(base + action, data=fields, allow_redirects=False, timeout=5).headers["Location"]
    token = client.fetch_token(f"{base}/token", authorization_response=callback, include_client_id=True)
    assert token["scope"] == ["profile"]

    refreshed = client.refresh_token(f"{base}/token", refresh_token=token["refresh_token"],
                                     client_id=f"{base}/client/")
    assert refreshed["scope"] == ["profile"] and refreshed["access_token"] != token["access_token"]


def test_authlib_parses_our_callback_and_checks_its_state(server):
    base, _ = server
    browser = browser_signed_in(base)
    client = OAuth2Session(client_id=f"{base}/client/", redirect_uri=f"{base}/client/callback",
                           scope="profile", code_challenge_method="S256")
    url, state = client.create_authorization_url(f"{base}/auth", code_verifier=generate_token(64))
    action, fields = form_fields(browser.get(url, timeout=5).text, "consent")
    fields.append(("action", "approve"))
    callback = browser.post(base + action, data=fields, allow_redirects=False, timeout=5).headers["Location"]
    from authlib.oauth2.rfc6749.errors import MismatchingStateException
    from authlib.oauth2.rfc6749.parameters import parse_authorization_code_response
    assert parse_authorization_code_response(callback, state=state)["code"]
    with pytest.raises(MismatchingStateException):
        parse_authorization_code_response(callback, state="another")


class StripAuthorization:
    """A web server in front that drops the Authorization header, as some shared hosts do."""

    def __init__(self, app, rename=False):
        self.app, self.rename = app, rename

    def __call__(self, environ, start_response):
        header = environ.pop("HTTP_AUTHORIZATION", None)
        if self.rename and header:
            environ["REDIRECT_HTTP_AUTHORIZATION"] = header
        return self.app(environ, start_response)


@pytest.mark.parametrize("front, answer", [(None, "passed"), ("strip", "missing"), ("rename", "renamed")])
def test_self_test_tells_whether_the_authorization_header_arrives(make_app, front, answer):
    """The check the page shows (the browser's, or the curl command without JavaScript) through a web server
    in front that passes the header on, strips it, or renames it; the fix is on the page. Chromium runs the
    page's own script in tests/browser/test_selftest.py."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = app_with_owner(make_app, base)
    wsgi = app if front is None else StripAuthorization(app, rename=front == "rename")
    with serving(wsgi, port):
        page = browser_signed_in(base).get(base + "/selftest", timeout=10)
        check = BeautifulSoup(page.text, "html.parser").select_one("#authorization-check")
        echo = requests.get(check["data-echo"], headers={"Authorization": check["data-authorization"]}, timeout=5)
    assert echo.json() == {"authorization": answer}
    assert f'curl -H "Authorization: {check["data-authorization"]}" "{check["data-echo"]}"' in check.text
    assert "CGIPassAuth On" in page.text


def test_self_test_needs_a_signed_in_user(server):
    base, _ = server
    response = requests.get(base + "/selftest", allow_redirects=False, timeout=5)
    assert response.status_code == 303 and "/login?next=%2Fselftest" in response.headers["Location"]


def test_self_test_gives_no_false_verdict_on_a_server_with_one_thread(make_app):
    """With `[server] threads = 1` the only worker serves /selftest: the page must not ask its own server
    (that waited for itself, then said it could not reach itself); the check it shows still works."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = app_with_owner(make_app, base)
    with serving(app, port, threads=1):
        browser = browser_signed_in(base)
        page = BeautifulSoup(browser.get(base + "/selftest", timeout=30).text, "html.parser")
        assert "could not reach itself" not in page.text
        check = page.select_one("#authorization-check")
        answer = browser.get(check["data-echo"], headers={"Authorization": check["data-authorization"]}, timeout=5)
    assert answer.json() == {"authorization": "passed"}
