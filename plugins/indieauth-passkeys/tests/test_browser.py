"""Passkeys end to end in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright) with a
CDP virtual authenticator, against the server on a real waitress on 127.0.0.1, opened as
http://localhost:PORT/ (a secure context, and a relying party ID WebAuthn accepts).

Never downloads a browser.  Skipped when Chromium is absent, except under CI, where that fails."""

import base64
import contextlib
import hashlib
import re
import secrets
import time
import urllib.parse

import pytest
import requests

from indieauth import testing
from indieauth_password import set_password

PASSWORD = "correct horse battery staple"
CLIENT_ID, REDIRECT_URI = "http://127.0.0.1:9/", "http://127.0.0.1:9/callback"

free_port = testing.free_port


@pytest.fixture
def start_server(tmp_path):
    """start_server(methods=None) -> base URL: the app on http://localhost:PORT over one database in
    tmp_path (so a second server sees the passkeys registered through the first), with ann / PASSWORD and bob."""
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
                # a second user: a one-user server's forms have no user name field for autofill to offer passkeys in
                app.storage.create_user("bob", "https://bob.example/")
            stack.enter_context(testing.serving(app, port))
            return f"http://localhost:{port}"
        yield start


class VirtualAuthenticator:
    """A CDP virtual platform authenticator (resident keys, user verification) attached to `page`.

    With automatic presence on, Chromium answers a conditional (autofill) request at once with the first
    passkey for the site, as if the person had picked it in the user name field's autofill; with it off, a
    conditional request waits, like a person who has not picked anything (it keeps waiting when presence is
    turned on again, while a new request, the button's, is answered at once)."""

    def __init__(self, page):
        self.page = page
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("WebAuthn.enable")
        self.id = self.cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
            "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
            "isUserVerified": True, "automaticPresenceSimulation": True}})["authenticatorId"]

    def presence(self, on):
        self.cdp.send("WebAuthn.setAutomaticPresenceSimulation", {"authenticatorId": self.id, "enabled": on})

    def credentials(self):
        return self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.id})["credentials"]

    def clear(self):
        self.cdp.send("WebAuthn.clearCredentials", {"authenticatorId": self.id})

    def add(self, credential):
        self.cdp.send("WebAuthn.addCredential", {"authenticatorId": self.id, "credential": credential})


# Test instrumentation, injected before the page's own scripts (an init script is outside the page's CSP):
# every navigator.credentials.get() call, how it ended, and every challenge the server's options carried.
RECORDER = """(() => {
  const b64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
  const get = navigator.credentials.get.bind(navigator.credentials);
  navigator.credentials.get = (options) => {
    const id = location.pathname + ":" + Math.random();
    window.recordWebAuthn({id, mediation: options.mediation || "optional", challenge: b64(options.publicKey.challenge),
                           allow: (options.publicKey.allowCredentials || []).length});
    return get(options).then(
      (credential) => { window.recordWebAuthn({id, outcome: "resolved"}); return credential; },
      (error) => { window.recordWebAuthn({id, outcome: error.name}); throw error; });
  };
  const fetched = window.fetch.bind(window);
  window.fetch = (url, init) => fetched(url, init).then((response) => {
    if (String(url).endsWith("/login/passkeys/options")) {
      response.clone().json().then((body) => window.recordWebAuthn({options: body}));
    }
    return response;
  });
})();"""


class Recorder:
    """What the page asks of WebAuthn from now on, kept in Python across navigations (see RECORDER)."""

    def __init__(self, page):
        self.page, self.calls, self.options = page, {}, []
        page.expose_function("recordWebAuthn", self.record)
        page.add_init_script(RECORDER)

    def record(self, event):
        if "options" in event:
            self.options.append(event["options"])
        else:
            self.calls.setdefault(event["id"], {}).update(event)

    def list(self, mediation=None):
        return [c for c in self.calls.values() if mediation is None or c["mediation"] == mediation]

    def wait(self, predicate, what, timeout=10):
        deadline = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < deadline, f"timed out waiting for {what}: {self.list()}"
            self.page.wait_for_timeout(50)  # Playwright delivers the page's records meanwhile
        return predicate()


@pytest.fixture
def authenticator(page_factory):
    return VirtualAuthenticator(page_factory())


@pytest.fixture
def page(authenticator):
    """A page with a virtual platform authenticator attached (see VirtualAuthenticator)."""
    return authenticator.page


def open_with_autofill_waiting(page, authenticator, webauthn, url):
    """Open `url` (a sign-in page) and return once its autofill request is waiting for a passkey to be
    picked; automatic presence is back on for what comes next (the button)."""
    waiting = len(webauthn.list("conditional"))
    authenticator.presence(False)
    page.goto(url)
    webauthn.wait(lambda: len(webauthn.list("conditional")) > waiting, "the autofill request")
    authenticator.presence(True)
    return webauthn.list("conditional")[-1]


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


def register_then_sign_out(page, base):
    sign_in_with_password(page, base)
    page.wait_for_url(base + "/")
    add_passkey(page, base)
    sign_out(page)


def test_register_a_passkey_then_pick_it_in_autofill_to_a_code(page, start_server, screenshot):
    base = start_server()
    sign_in_with_password(page, base)
    page.wait_for_url(base + "/")
    add_passkey(page, base)
    assert "Your new passkey is saved" in page.inner_text("main")
    assert page.inner_text("#passkeys-list tbody td:first-child") == "This laptop"
    screenshot("settings", page)
    sign_out(page)

    webauthn = Recorder(page)
    page.route(re.compile(r"http://127\.0\.0\.1:9/.*"), lambda route: route.fulfill(body="the client"))
    verifier = start_authorization(page, base)  # to the sign-in page, where the passkey is picked in autofill
    page.wait_for_url(re.compile(r".*/auth/consent/.*"))
    [picked] = webauthn.list()
    assert (picked["mediation"], picked["outcome"], picked["allow"]) == ("conditional", "resolved", 0)
    with page.expect_request(re.compile(r"http://127\.0\.0\.1:9/callback\?.*")) as callback:
        page.click("button[value=approve]")
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(callback.value.url).query))
    tokens = requests.post(base + "/token", timeout=5, data={
        "grant_type": "authorization_code", "code": query["code"], "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI, "code_verifier": verifier}).json()
    assert tokens["me"] == "https://ann.example/"


def test_the_user_name_field_offers_passkeys_with_a_challenge_from_the_server(page, authenticator,
                                                                            start_server, screenshot):
    base = start_server()
    register_then_sign_out(page, base)
    webauthn = Recorder(page)
    waiting = open_with_autofill_waiting(page, authenticator, webauthn, base + "/login")
    assert page.get_attribute("#username", "autocomplete") == "username webauthn"
    assert webauthn.options and waiting["challenge"] == webauthn.options[-1]["challenge"]
    assert waiting["allow"] == 0 and "outcome" not in waiting
    assert webauthn.options[-1]["rpId"] == "localhost"
    assert not page.locator("#passkeys-error").is_visible()
    screenshot("login", page)


def test_the_button_signs_in_while_the_autofill_request_waits(page, authenticator, start_server):
    base = start_server()
    register_then_sign_out(page, base)
    webauthn = Recorder(page)
    waiting = open_with_autofill_waiting(page, authenticator, webauthn, base + "/login")
    page.click("#passkeys-sign-in")
    page.wait_for_url(base + "/")
    assert "Signed in as ann" in page.inner_text("header")
    [autofill, button] = webauthn.list()
    assert autofill is waiting and autofill["outcome"] == "AbortError"
    assert (button["mediation"], button["outcome"]) == ("optional", "resolved")
    assert button["challenge"] == webauthn.options[-1]["challenge"] != autofill["challenge"]


def test_a_failed_autofill_request_leaves_the_button_working(page, authenticator, start_server):
    base = start_server()
    register_then_sign_out(page, base)
    webauthn = Recorder(page)
    [saved] = authenticator.credentials()
    authenticator.clear()  # nothing to offer: Chromium refuses the autofill request at once
    page.goto(base + "/login")
    webauthn.wait(lambda: [c.get("outcome") for c in webauthn.list("conditional")] == ["NotAllowedError"],
                  "the refused autofill request")
    assert not page.locator("#passkeys-error").is_visible()
    authenticator.add(saved)
    page.click("#passkeys-sign-in")
    page.wait_for_url(base + "/")
    assert "Signed in as ann" in page.inner_text("header")


def test_after_a_failed_button_attempt_autofill_is_offered_again(page, authenticator, start_server):
    base = start_server()
    register_then_sign_out(page, base)
    webauthn = Recorder(page)
    open_with_autofill_waiting(page, authenticator, webauthn, base + "/login")
    authenticator.clear()  # the button's request then finds no passkey, as if the person cancelled
    page.click("#passkeys-sign-in")
    webauthn.wait(lambda: len(webauthn.list("conditional")) == 2, "autofill offered again")
    assert "No passkey was used" in page.inner_text("#passkeys-error")
    first, button, again = webauthn.list()
    assert (first["outcome"], button["mediation"], button["outcome"]) == ("AbortError", "optional", "NotAllowedError")
    assert again["mediation"] == "conditional" and again["challenge"] == webauthn.options[-1]["challenge"]
    assert page.is_enabled("#passkeys-sign-in")


def test_autofill_asks_for_a_new_challenge_before_its_challenge_expires(page, authenticator,
                                                                      start_server):
    base = start_server()
    register_then_sign_out(page, base)
    webauthn = Recorder(page)
    page.clock.install()
    first = open_with_autofill_waiting(page, authenticator, webauthn, base + "/login")
    assert webauthn.options[-1]["timeout"] == 300_000
    page.clock.fast_forward("03:50")
    page.wait_for_timeout(200)
    assert "outcome" not in first and len(webauthn.options) == 1
    page.clock.fast_forward("00:11")  # 80% of the 5 minutes: a new challenge, offered (and picked) at once
    page.wait_for_url(base + "/")
    [old, new] = webauthn.list()
    assert old is first and old["outcome"] == "AbortError"
    assert (new["mediation"], new["outcome"]) == ("conditional", "resolved")
    assert new["challenge"] == webauthn.options[-1]["challenge"] != old["challenge"]


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


def test_rename_then_remove_a_passkey_which_is_then_refused(page, authenticator, start_server, screenshot):
    base = start_server()
    sign_in_with_password(page, base)
    page.wait_for_url(base + "/")
    add_passkey(page, base)
    page.click("#passkeys-list a:has-text('Rename')")
    page.fill("#passkeys-new-name", "   ")
    page.click("#passkeys-rename button[type=submit]")
    assert "Give the passkey a name" in page.inner_text("#rename-error")
    screenshot("rename-error", page)
    page.fill("#passkeys-new-name", "Work laptop")
    page.click("#passkeys-rename button[type=submit]")
    page.wait_for_url(base + "/plugins/passkeys/?renamed=1")
    assert page.inner_text("#passkeys-list tbody td:first-child") == "Work laptop"
    page.click("#passkeys-list a:has-text('Remove')")
    page.check("#passkeys-confirm")
    page.click("#passkeys-remove button[type=submit]")
    page.wait_for_url(base + "/plugins/passkeys/?removed=1")
    assert page.locator("#passkeys-none").is_visible()
    sign_out(page)
    open_with_autofill_waiting(page, authenticator, Recorder(page), base + "/login")
    page.click("#passkeys-sign-in")  # the virtual authenticator still holds it; the server does not
    page.wait_for_url(base + "/login/passkeys")
    assert "not registered here" in page.inner_text("#passkeys-error")
    assert "Signed in as" not in page.inner_text("header")


def test_without_javascript_the_login_page_says_to_sign_in_another_way(page_factory, start_server, screenshot):
    base = start_server()
    page = page_factory(javascript=False)
    page.goto(base + "/login")
    assert "Signing in with a passkey needs JavaScript" in page.inner_text("#passkeys-login")
    assert not page.locator("#passkeys-sign-in").is_visible()
    screenshot("login-no-javascript", page)
