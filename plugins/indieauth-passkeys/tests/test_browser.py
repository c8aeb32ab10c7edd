"""Passkeys end to end in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright) with a
CDP virtual authenticator, against the server on a real waitress on 127.0.0.1, opened as
http://localhost:PORT/ (a secure context, and a relying party ID WebAuthn accepts).

Never downloads a browser.  Skipped when Chromium is absent, except under CI, where that fails."""

import base64
import contextlib
import hashlib
import os
import re
import secrets
import shutil
import threading
import urllib.parse

import pytest
import requests

from indieauth import testing
from indieauth_password import set_password

CHROMIUM = os.environ.get("INDIEAUTH_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = os.path.join(os.path.dirname(__file__), "screenshots")
PASSWORD = "correct horse battery staple"
CLIENT_ID, REDIRECT_URI = "http://127.0.0.1:9/", "http://127.0.0.1:9/callback"

if not shutil.which(CHROMIUM) and os.environ.get("CI"):
    raise RuntimeError(f"CI must provide Chromium at {CHROMIUM} (Debian package 'chromium') for the passkey tests")
if not shutil.which(CHROMIUM):
    pytest.skip(f"passkey browser tests need Chromium at {CHROMIUM} (Debian package 'chromium')",
                allow_module_level=True)


free_port = testing.free_port


@contextlib.contextmanager
def serving(app, port):
    """`app` on a real waitress server on 127.0.0.1:`port`, in a thread, for the duration."""
    from waitress.server import create_server
    server = create_server(app, host="127.0.0.1", port=port, threads=4)
    stopping = threading.Event()

    def run():
        try:
            server.run()
        except OSError:  # its sockets closed under select() while stopping
            if not stopping.is_set():
                raise

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stopping.set()
        for channel in list(server._map.values()):
            channel.close()
        thread.join(timeout=5)
        server.task_dispatcher.shutdown()


@pytest.fixture
def start_server(tmp_path):
    """start_server(methods=None) -> base URL: the app on http://localhost:PORT over one database in
    tmp_path (so a second server sees the passkeys registered through the first), with ann / PASSWORD."""
    with contextlib.ExitStack() as stack:
        def start(methods=None):
            port = free_port()
            config = {"plugins": {"password": {}, "passkeys": {}},
                      "server": {"base_url": f"http://localhost:{port}/"}}
            if methods:
                config["auth"] = {"methods": methods}
            app = testing.make_app(config, folder=str(tmp_path))
            if app.storage.get_user(username="ann") is None:
                set_password(app, app.storage.create_user("ann", "https://ann.example/", role="owner"), PASSWORD)
            stack.enter_context(serving(app, port))
            return f"http://localhost:{port}"
        yield start


@pytest.fixture(scope="module")
def browser():
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

    def make(javascript=True):
        context = browser.new_context(java_script_enabled=javascript, viewport={"width": 1000, "height": 800})
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()
    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(page_factory):
    """A page with a virtual platform authenticator (resident keys, user verification) attached."""
    page = page_factory()
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True}})
    return page


def screenshot(page, name):
    os.makedirs(SCREENSHOTS, exist_ok=True)
    page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)


def sign_in_with_password(page, base):
    page.goto(base + "/login")
    page.fill("#username", "ann")
    page.fill("#password", PASSWORD)
    page.click("#password-login button[type=submit]")


def sign_out(page):
    page.click("header button:has-text('Sign out')")
    page.wait_for_url(re.compile(r".*/$"))


def add_passkey(page, base, name="This laptop"):
    page.goto(base + "/plugins/passkeys/")
    page.fill("#passkeys-name", name)
    page.click("#passkeys-add-button")
    page.wait_for_url(base + "/plugins/passkeys/?added=1")


def start_authorization(page, base):
    """Open a real authorization request as a client sends people to it; returns the PKCE verifier."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    page.goto(base + "/auth?" + urllib.parse.urlencode({
        "response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI, "state": "s1",
        "code_challenge": challenge, "code_challenge_method": "S256", "scope": "profile"}))
    return verifier


def test_register_a_passkey_then_sign_in_with_it_alone_to_a_code(page, start_server):
    base = start_server()
    sign_in_with_password(page, base)
    page.wait_for_url(base + "/")
    add_passkey(page, base)
    assert "Your new passkey is saved" in page.inner_text("main")
    assert page.inner_text("#passkeys-list tbody td:first-child") == "This laptop"
    screenshot(page, "settings")
    sign_out(page)

    page.route(re.compile(r"http://127\.0\.0\.1:9/.*"), lambda route: route.fulfill(body="the client"))
    verifier = start_authorization(page, base)
    page.wait_for_url(re.compile(r".*/login\?next=.*"))
    screenshot(page, "login")
    page.click("#passkeys-sign-in")
    page.wait_for_url(re.compile(r".*/auth/consent/.*"))
    with page.expect_request(re.compile(r"http://127\.0\.0\.1:9/callback\?.*")) as callback:
        page.click("button[value=approve]")
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(callback.value.url).query))
    tokens = requests.post(base + "/token", timeout=5, data={
        "grant_type": "authorization_code", "code": query["code"], "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI, "code_verifier": verifier}).json()
    assert tokens["me"] == "https://ann.example/"


def test_password_then_passkey(page, start_server):
    plain = start_server()
    sign_in_with_password(page, plain)
    page.wait_for_url(plain + "/")
    add_passkey(page, plain)
    sign_out(page)  # cookies do not tell ports apart: the session would hold on the second server too
    chained = start_server(methods=["password+passkeys"])  # the same database; the same rp_id "localhost"
    sign_in_with_password(page, chained)
    page.wait_for_url(re.compile(r".*/login/passkeys\?.*"))
    assert "Use a passkey of ann" in page.inner_text("#passkeys-login")
    assert "Signed in as" not in page.inner_text("header")
    page.click("#passkeys-sign-in")
    page.wait_for_url(chained + "/")
    assert "Signed in as ann" in page.inner_text("header")


def test_a_removed_passkey_is_refused(page, start_server):
    base = start_server()
    sign_in_with_password(page, base)
    page.wait_for_url(base + "/")
    add_passkey(page, base)
    page.click("#passkeys-list a:has-text('Remove')")
    page.check("#passkeys-confirm")
    page.click("#passkeys-remove button[type=submit]")
    page.wait_for_url(base + "/plugins/passkeys/?removed=1")
    assert page.locator("#passkeys-none").is_visible()
    sign_out(page)
    page.goto(base + "/login")
    page.click("#passkeys-sign-in")  # the virtual authenticator still holds it; the server does not
    page.wait_for_url(base + "/login/passkeys")
    assert "not registered here" in page.inner_text("#passkeys-error")
    assert "Signed in as" not in page.inner_text("header")


def test_without_javascript_the_login_page_says_to_sign_in_another_way(page_factory, start_server):
    base = start_server()
    page = page_factory(javascript=False)
    page.goto(base + "/login")
    assert "Signing in with a passkey needs JavaScript" in page.inner_text("#passkeys-login")
    assert not page.locator("#passkeys-sign-in").is_visible()
    screenshot(page, "login-no-javascript")
