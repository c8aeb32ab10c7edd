"""The authorization endpoint's waiting page in Chromium (issue 17): an app whose details take longer than
AUTH_CLIENT_WAIT to read gets "Reading the app's details", which reloads itself with a meta refresh (no
script needed) until they are in, and the flow then goes on by itself to sign-in and consent.  The server is
a real waitress server; the app is the kit's FakeServer, answering its h-app page after SLOW seconds."""

import base64
import hashlib
import re
import secrets
import urllib.parse

import pytest
import requests

import indieauth
from conftest import PASSWORD, free_port, serving
from test_accessibility import contrast_problems, focus_problems, unnamed_controls
from test_flows import sign_in

WAITING = "Reading the app's details"
SLOW = 2.2  # two refreshes (1 s each), so the page comes back at least once before the details are in,
           # and within the fetch deadline (3 s)


@pytest.fixture
def slow_app(fake_http):
    """The app on the FakeServer: client_id `http://app.test:PORT/`, whose h-app page ("Slow App") takes SLOW
    seconds and publishes a redirect_uri on another host name, localhost, which the browser reaches too.
    `slow_app.hits` counts the fetches of its page; its redirect_uri shows what it was given."""
    fake_http.hits = 0
    fake_http.client_id = fake_http.url_for("/", host="app.test")
    fake_http.redirect_uri = fake_http.url_for("/cb", host="localhost")

    def page(request):
        fake_http.hits += 1
        fake_http.hang(SLOW)
        return (f'<link rel="redirect_uri" href="{fake_http.redirect_uri}">'
                f'<div class="h-app"><a class="u-url p-name" href="{fake_http.client_id}">Slow App</a></div>')
    fake_http.route("/", page)
    fake_http.route("/cb", '<!doctype html><title>Slow App</title><h1 id="back">Back at Slow App</h1>')
    return fake_http


@pytest.fixture
def server(tmp_path):
    """Base URL of a server that waits for an app's details as `indieauth serve` does (AUTH_CLIENT_WAIT),
    resolving every host name to 127.0.0.1 and allowed to fetch from it; password plugin and an owner."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = indieauth.make_test_app({"server": {"base_url": base + "/"}, "plugins": {"password": {}},
                                   "security": {"fetch_allow": ["127.0.0.1/32"]}},
                                  folder=str(tmp_path), client_wait=indieauth.AUTH_CLIENT_WAIT,
                                  resolver=lambda host, port: ["127.0.0.1"])
    from indieauth_password import set_password
    set_password(app, app.storage.create_user("owner", "https://owner.example/", role="owner"), PASSWORD)
    try:
        with serving(app, port):
            yield base
    finally:
        app.close()


class Request:
    """An authorization request of the slow app, with PKCE and a state of its own."""

    def __init__(self, base, app):
        self.base, self.app = base, app
        self.state, self.verifier = secrets.token_urlsafe(16), secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(self.verifier.encode()).digest()).rstrip(b"=").decode()
        self.url = base + "/auth?" + urllib.parse.urlencode({
            "response_type": "code", "client_id": app.client_id, "redirect_uri": app.redirect_uri,
            "state": self.state, "code_challenge": challenge, "code_challenge_method": "S256", "scope": "profile"})

    def check_returned(self, page):
        """The page has landed on the redirect_uri with this request's state and a code that redeems."""
        page.wait_for_url(re.compile(re.escape(self.app.redirect_uri) + r"\?.*"))
        assert page.inner_text("#back") == "Back at Slow App"
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(page.url).query))
        assert query["state"] == self.state and query["iss"] == self.base + "/"
        answer = requests.post(self.base + "/token", timeout=5, data={
            "grant_type": "authorization_code", "code": query["code"], "client_id": self.app.client_id,
            "redirect_uri": self.app.redirect_uri, "code_verifier": self.verifier})
        assert answer.status_code == 200, answer.text
        assert answer.json()["me"] == "https://owner.example/"


def auth_answers(page):
    """The statuses of the /auth requests the page makes, in order (the waiting page's reloads included)."""
    statuses = []
    page.on("response", lambda response: statuses.append(response.status)
            if urllib.parse.urlsplit(response.url).path == "/auth" else None)
    return statuses


def open_waiting_page(page, request, screenshot=None, name=None):
    answer = page.goto(request.url)
    assert answer.status == 200 and page.inner_text("h1") == WAITING
    assert "app.test" in page.inner_text("[role=status]")
    if screenshot:
        screenshot(name, page)


def consent_by_itself(page, request, screenshot=None, name=None):
    """With nothing clicked, the page reaches the consent screen naming the app; approve there."""
    page.wait_for_url(re.compile(r".*/auth/consent/.*"))
    assert page.inner_text("h1") == "Sign in to Slow App?"
    if screenshot:
        screenshot(name, page)
    page.click("button[value=approve]")
    request.check_returned(page)


def test_the_waiting_page_moves_on_to_consent_by_itself(page, server, slow_app, screenshot):
    sign_in(page, server)
    page.wait_for_url(server + "/")
    request, statuses = Request(server, slow_app), auth_answers(page)
    open_waiting_page(page, request, screenshot, "client-wait")
    consent_by_itself(page, request, screenshot, "client-wait-consent")
    assert statuses[:2] == [200, 200] and statuses[-1] == 303  # it came back, still waiting, then went on
    assert slow_app.hits == 1  # however often the page came back, the app was read once


def test_without_javascript_the_refresh_alone_gets_there(page_factory, server, slow_app):
    page = page_factory(javascript=False)
    sign_in(page, server)
    page.wait_for_url(server + "/")
    request = Request(server, slow_app)
    open_waiting_page(page, request)
    consent_by_itself(page, request)


def test_the_waiting_page_has_one_heading_and_announces_its_status(page, server, slow_app):
    page.goto(Request(server, slow_app).url)
    assert page.locator("h1").count() == 1 and page.inner_text("h1") == WAITING
    status = page.locator("[role=status]")
    assert status.count() == 1 and f"reading what app.test:{slow_app.port} publishes" in status.inner_text()
    assert page.get_attribute('meta[http-equiv="refresh"]', "content") == "1"


def test_check_now_before_the_details_are_in_shows_the_waiting_page_again(page, server, slow_app):
    sign_in(page, server)
    page.wait_for_url(server + "/")
    request = Request(server, slow_app)
    open_waiting_page(page, request)
    with page.expect_response(lambda response: urllib.parse.urlsplit(response.url).path == "/auth") as answer:
        page.click("text=Check now")
    assert answer.value.status in (200, 303)  # the waiting page again, or on to consent; never an error
    assert slow_app.hits == 1
    page.wait_for_load_state()
    assert page.inner_text("h1") in (WAITING, "Sign in to Slow App?")
    consent_by_itself(page, request)


@pytest.mark.parametrize("scheme, width", [("light", 1000), ("dark", 360)])
def test_the_waiting_page_is_readable_in_both_schemes(page_factory, server, slow_app, screenshot, scheme, width):
    """Names, contrast, focus and width as test_accessibility checks every page: on the waiting page with
    its refresh taken out, so that it stays put while the checks run."""
    page = page_factory(width=width, scheme=scheme)

    def without_refresh(route):
        answer = route.fetch()
        route.fulfill(response=answer, body=re.sub(r'<meta http-equiv="refresh"[^>]*>', "", answer.text()))
    page.route(re.compile(r".*/auth\?.*"), without_refresh)
    open_waiting_page(page, Request(server, slow_app), screenshot, f"client-wait-{scheme}-{width}")
    assert page.locator('meta[http-equiv="refresh"]').count() == 0
    assert unnamed_controls(page) == [] and contrast_problems(page) == [] and focus_problems(page) == []
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width


def test_signed_out_the_waiting_page_leads_to_sign_in_then_consent(page, server, slow_app, screenshot):
    request = Request(server, slow_app)
    open_waiting_page(page, request)
    page.wait_for_url(re.compile(r".*/login\?next=.*"))
    screenshot("client-wait-login", page)
    indieauth.testing.fill_in(page, "#username", "owner")
    page.fill("#password", PASSWORD)
    page.click("#password-login button[type=submit]")
    consent_by_itself(page, request)
