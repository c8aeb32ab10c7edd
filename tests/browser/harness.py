"""Browser test harness: headless Chromium (Debian's package, driven by Playwright) against real servers.

Never downloads a browser: Playwright's own browsers are not used, only /usr/bin/chromium."""

import base64
import hashlib
import html
import os
import secrets
import shutil
import urllib.parse

import pytest
import requests

from conftest import PASSWORD, free_port, serving

CHROMIUM = os.environ.get("INDIEAUTH_CHROMIUM", "/usr/bin/chromium")
# INDIEAUTH_SCREENSHOTS=docs/screenshots refreshes the README's pictures; by default they stay out of git.
SCREENSHOTS = os.environ.get("INDIEAUTH_SCREENSHOTS") or os.path.join(os.path.dirname(__file__), "screenshots")

if not shutil.which(CHROMIUM) and os.environ.get("CI"):
    raise RuntimeError(f"CI must provide Chromium at {CHROMIUM}: .ci/run installs Debian's chromium package")
if not shutil.which(CHROMIUM):
    pytest.skip(f"browser tests need Chromium at {CHROMIUM} (Debian package 'chromium'; CI installs it)",
                allow_module_level=True)


@pytest.fixture(scope="module")
def browser():
    """One Chromium per test module: Playwright's sync API allows one running instance at a time, and
    plugins' browser tests start their own."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield chromium
        chromium.close()


@pytest.fixture
def page_factory(browser):
    contexts = []

    def make(javascript=True, width=1000, height=800, scheme="light"):
        context = browser.new_context(java_script_enabled=javascript, viewport={"width": width, "height": height},
                                      color_scheme=scheme)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()
    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(page_factory):
    return page_factory()


def screenshot(page, name):
    """Save a full-page screenshot under tests/browser/screenshots/ (looked at, and kept by CI)."""
    os.makedirs(SCREENSHOTS, exist_ok=True)
    path = os.path.join(SCREENSHOTS, f"{name}.png")
    page.screenshot(path=path, full_page=True)
    return path


@pytest.fixture
def server(make_app):
    """(base URL, app) of the server on its real address, with the owner `owner` / PASSWORD."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = make_app({"server": {"base_url": base + "/"}})
    from indieauth_password import set_password
    set_password(app, app.storage.create_user("owner", "https://owner.example/", role="owner",
                                              name="Olive Owner"), PASSWORD)
    with serving(app, port):
        yield base, app


class ClientApp:
    """A real IndieAuth client on 127.0.0.1: a page with a sign-in link, a callback that checks state
    and iss and redeems the code with PKCE, and a page saying who signed in."""

    def __init__(self, server_base):
        self.server = server_base
        self.pending = {}
        self.result = None

    def __call__(self, environ, start_response):
        path, query = environ["PATH_INFO"], dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", "")))
        base = f"http://{environ['HTTP_HOST']}"
        if path == "/":
            body = '<!doctype html><title>Test client</title><h1>Test client</h1><a id="sign-in" href="/start">Sign in with IndieAuth</a>'
        elif path == "/start":
            state, verifier = secrets.token_urlsafe(16), secrets.token_urlsafe(48)
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            self.pending[state] = verifier
            location = self.server + "/auth?" + urllib.parse.urlencode({
                "response_type": "code", "client_id": base + "/", "redirect_uri": base + "/callback",
                "state": state, "code_challenge": challenge, "code_challenge_method": "S256",
                "scope": "profile create"})
            start_response("302 Found", [("Location", location)])
            return [b""]
        elif path == "/callback":
            verifier = self.pending.pop(query.get("state", ""), None)
            if verifier is None or query.get("iss") != self.server + "/":
                body = "<p id='result'>bad state or iss</p>"
            elif "error" in query:
                body = f"<p id='result'>error: {html.escape(query['error'])}</p>"
            else:
                answer = requests.post(self.server + "/token", timeout=5, data={
                    "grant_type": "authorization_code", "code": query["code"], "client_id": base + "/",
                    "redirect_uri": base + "/callback", "code_verifier": verifier}).json()
                self.result = answer
                body = f"<p id='result'>signed in as {html.escape(answer.get('me', '?'))}</p>"
        else:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [body.encode()]


@pytest.fixture
def client_app(server):
    base, _ = server
    app = ClientApp(base)
    with serving(app) as url:
        app.url = url
        yield app
