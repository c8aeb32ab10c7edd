"""The developer page /docs in headless Chromium: the OAuth tester runs the whole flow with /docs as the
app, refuses forged answers, shows a denial; without JavaScript the page still reads and says why the
tester is missing."""

import indieauth
import json
import os
import re

import requests
from playwright.sync_api import expect

from harness import PASSWORD, server  # noqa: F401 (a fixture)

ME = "https://owner.example/"


def sign_in(page, base):
    page.goto(base + "/login")
    indieauth.testing.fill_in(page, "#username", "owner")
    page.fill("#password", PASSWORD)
    page.click("#password-login button[type=submit]")
    page.wait_for_url(base + "/")


def start_tester(page, base, me=""):
    """Open /docs signed in, start the tester with its default scopes; stops on the consent screen."""
    sign_in(page, base)
    page.goto(base + "/docs")
    page.fill("#tester-me", me)
    page.click("#tester-start")
    page.wait_for_url(re.compile(r".*/auth/consent/.*"))


def token_requests(page):
    """The POSTs this page sends to the token endpoint, recorded as they happen."""
    seen = []
    page.on("request", lambda request: seen.append(request.url) if request.method == "POST" and
            request.url.endswith("/token") else None)
    return seen


def screenshot_of_section(screenshot, page, name, first, last):
    """A screenshot of the page from the top of `first` to the bottom of `last` (saved where the kit's
    `screenshot` saves its own): the README shows the tester, not the whole page above it."""
    os.makedirs(screenshot.folder, exist_ok=True)
    top, bottom, left, width = page.evaluate("""([first, last]) => {
        const main = document.querySelector("main").getBoundingClientRect();
        return [document.querySelector(first).getBoundingClientRect().top + scrollY,
                document.querySelector(last).getBoundingClientRect().bottom + scrollY, main.left, main.width]; }""",
                                             [first, last])
    path = os.path.join(screenshot.folder, f"{name}.png")
    page.screenshot(path=path, full_page=True, clip={"x": left, "y": top - 16, "width": width, "height": bottom - top + 32})
    return path


def test_the_tester_runs_the_whole_flow_and_decodes_the_token(page, server, screenshot):
    base, _ = server
    start_tester(page, base, me=ME)
    assert "OAuth tester" in page.inner_text("h1")
    assert base + "/docs" in page.inner_text("main")
    page.click("button[value=approve]")
    page.wait_for_url(base + "/docs")  # the code has left the address bar
    assert page.evaluate("location.search") == ""
    expect(page.locator("#tester-return")).to_be_visible()
    code = page.inner_text("#tester-code")
    assert len(code) > 20 and "(the one this tab sent)" in page.inner_text("#tester-state")
    assert page.evaluate("sessionStorage.length") == 0  # the verifier is used up with the answer

    page.click("#tester-exchange")
    expect(page.locator("#tester-json")).to_contain_text("access_token")
    answer = json.loads(page.inner_text("#tester-json"))
    assert answer["me"] == ME and set(answer["scope"].split()) == {"profile", "create"} and answer["token_type"] == "Bearer"
    header = json.loads(page.inner_text("#tester-jwt-header"))
    payload = json.loads(page.inner_text("#tester-jwt-payload"))
    assert header["typ"] == "at+jwt"
    assert payload["sub"] == ME and payload["scope"] == answer["scope"] and payload["client_id"] == base + "/docs"
    assert "not verified" in page.inner_text("#tester-jwt-note")
    assert not page.is_visible("#tester-exchange") and "used up" in page.inner_text("#tester-code-note")
    verified = requests.get(base + "/token", headers={"Authorization": "Bearer " + answer["access_token"]}, timeout=5)
    assert verified.json()["client_id"] == base + "/docs"
    assert page.evaluate("document.documentElement.scrollWidth") <= 1000  # long tokens scroll in their box
    screenshot_of_section(screenshot, page, "docs-tester", "#tester", "#tester-response")

    page.click("#tester-refresh")
    expect(page.locator("#tester-response-heading")).to_have_text("Refresh: HTTP 200")
    assert "grant_type=refresh_token" in page.inner_text("#tester-request")
    refreshed = json.loads(page.inner_text("#tester-json"))
    assert refreshed["access_token"] != answer["access_token"] and refreshed["me"] == ME
    assert json.loads(page.inner_text("#tester-jwt-payload"))["jti"] != payload["jti"]


def test_a_tampered_state_is_refused_without_exchanging_the_code(page, server, screenshot):
    base, _ = server
    start_tester(page, base)
    posts = token_requests(page)
    # the answer that comes back is not for the flow this tab started (as a CSRF'd answer would be)
    page.evaluate("""() => { const flow = JSON.parse(sessionStorage.getItem('indieauth-docs-tester'));
                             flow.state = 'not-the-state-that-comes-back';
                             sessionStorage.setItem('indieauth-docs-tester', JSON.stringify(flow)); }""")
    page.click("button[value=approve]")
    page.wait_for_url(base + "/docs")
    error = page.locator("#tester-error")
    expect(error).to_be_visible()
    assert "state" in error.inner_text() and "not exchanged" in error.inner_text()
    assert not page.is_visible("#tester-return") and not page.is_visible("#tester-exchange")
    screenshot_of_section(screenshot, page, "docs-tester-state-error", "#tester", "#tester-form")
    assert posts == []


def test_an_answer_from_another_issuer_is_refused(page, server):
    base, _ = server
    start_tester(page, base)
    posts = token_requests(page)
    state = page.evaluate("JSON.parse(sessionStorage.getItem('indieauth-docs-tester')).state")
    page.goto(base + f"/docs?code=a-code-from-elsewhere&state={state}&iss=https%3A%2F%2Fattacker.example%2F")
    error = page.locator("#tester-error")
    expect(error).to_be_visible()
    assert "https://attacker.example/" in error.inner_text() and "mix-up" in error.inner_text()
    assert not page.is_visible("#tester-return")
    assert posts == []


def test_an_answer_this_tab_never_asked_for_is_refused(page, server):
    base, _ = server
    page.goto(base + "/docs?code=planted&state=planted&iss=" + base + "/")
    expect(page.locator("#tester-error")).to_contain_text("did not start a tester flow")
    assert not page.is_visible("#tester-return")


def test_a_denial_is_shown_clearly(page, server):
    base, _ = server
    start_tester(page, base)
    page.click("button[value=deny]")
    page.wait_for_url(base + "/docs")
    expect(page.locator("#tester-error")).to_contain_text("You denied the request: access_denied")
    assert not page.is_visible("#tester-return")


def test_without_javascript_the_docs_read_and_say_the_tester_needs_it(page_factory, server, screenshot):
    page = page_factory(javascript=False)
    base, _ = server
    page.goto(base + "/docs")
    assert "needs JavaScript" in page.inner_text("#tester-noscript")
    assert not page.is_visible("#tester-form")
    assert page.is_visible("#endpoint-list") and page.is_visible("#sign-in-snippet") and page.is_visible("#head-links")
    assert base + "/token" in page.inner_text("#endpoint-list")
    assert not page.is_visible("button[data-copy]")
    screenshot("docs-nojs", page)


def test_with_javascript_the_noscript_note_is_not_shown_and_every_input_is_named(page, server):
    base, _ = server
    page.goto(base + "/docs")
    assert page.is_visible("#tester-form") and not page.is_visible("#tester-noscript")
    unnamed = page.evaluate("""() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
        .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
        .map(el => el.name || el.id)""")
    assert unnamed == []


def test_the_snippet_copies_as_html(page, server):
    base, _ = server
    page.goto(base + "/docs")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.click("button[data-copy=sign-in-snippet]")
    expect(page.locator("button[data-copy=sign-in-snippet]")).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith('<form action="/indieauth/start"') and 'autocomplete="url"' in copied


def test_phone_width_and_dark_scheme(page_factory, server, screenshot):
    page = page_factory(width=360, height=740, scheme="dark")
    base, _ = server
    page.goto(base + "/docs")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot("docs-phone-dark", page)
