"""The web UI as people meet it, in headless Chromium: sign-in, the whole flow from a real client
page through login and consent back to the client, deny, error pages, the token page, logout."""

import indieauth
import re

from harness import PASSWORD, client_app, server  # noqa: F401 (fixtures)


def sign_in(page, base, username="owner", password=PASSWORD):
    page.goto(base + "/login")
    indieauth.testing.fill_in(page, "#username", username)
    page.fill("#password", password)
    page.click("#password-login button[type=submit]")


def test_sign_in_and_out(page, server, screenshot):
    base, _ = server
    page.goto(base + "/login")
    screenshot("login", page)
    sign_in(page, base)
    page.wait_for_url(base + "/")
    assert "Signed in as owner" in page.inner_text("header")
    page.click("header button:has-text('Sign out')")
    page.wait_for_url(base + "/")
    assert "Signed in as" not in page.inner_text("header")


def test_wrong_password_is_announced_next_to_the_form(page, server, screenshot):
    base, _ = server
    sign_in(page, base, password="not the password")
    alert = page.locator("#password-login [role=alert]")
    assert "not right" in alert.inner_text()
    assert page.get_attribute("#password", "aria-invalid") == "true"
    assert page.input_value("#username") == "owner"
    screenshot("login-error", page)


def test_whole_flow_from_a_client_page_through_consent_and_back(page, server, client_app, screenshot):
    base, _ = server
    page.goto(client_app.url + "/")
    page.click("#sign-in")
    page.wait_for_url(re.compile(r".*/login\?next=.*"))
    # the sign-in page says which app asks, and a one-user server asks for the password alone
    assert "127.0.0.1" in page.inner_text("#asking") and "before" not in page.inner_text("#asking")
    assert not page.locator("#username").is_visible() and page.get_attribute("#password", "autocomplete") == "current-password"
    screenshot("login-for-app", page)
    page.fill("#password", PASSWORD)
    page.click("#password-login button[type=submit]")
    page.wait_for_url(re.compile(r".*/auth/consent/.*"))
    screenshot("consent", page)
    assert client_app.url + "/" in page.inner_text("main")
    page.click("button[value=approve]")
    page.wait_for_url(re.compile(re.escape(client_app.url) + r"/callback\?.*"))
    assert page.inner_text("#result") == "signed in as https://owner.example/"
    assert client_app.result["scope"] == "profile create" and client_app.result["profile"]["name"] == "Olive Owner"


def test_whole_flow_works_without_javascript(page_factory, server, client_app):
    page = page_factory(javascript=False)
    base, _ = server
    page.goto(client_app.url + "/")
    page.click("#sign-in")
    indieauth.testing.fill_in(page, "#username", "owner")
    page.fill("#password", PASSWORD)
    page.click("#password-login button[type=submit]")
    page.click("button[value=approve]")
    page.wait_for_url(re.compile(re.escape(client_app.url) + r"/callback\?.*"))
    assert page.inner_text("#result") == "signed in as https://owner.example/"


def test_deny_goes_back_to_the_client_with_access_denied(page, server, client_app):
    base, _ = server
    sign_in(page, base)
    page.goto(client_app.url + "/")
    page.click("#sign-in")
    page.click("button[value=deny]")
    page.wait_for_url(re.compile(re.escape(client_app.url) + r"/callback\?.*"))
    assert page.inner_text("#result") == "error: access_denied"


def test_a_bad_client_id_is_an_error_page(page, server, screenshot):
    base, _ = server
    response = page.goto(base + "/auth?client_id=https%3A%2F%2F10.0.0.1%2F&redirect_uri=https%3A%2F%2F10.0.0.1%2Fcb"
                                "&state=x&response_type=code")
    assert response.status == 400
    assert "The app's client_id is not valid" in page.inner_text("h1")
    screenshot("client-error", page)


def test_keyboard_alone_reaches_approve_and_deny(page, server, client_app):
    base, _ = server
    sign_in(page, base)
    page.goto(client_app.url + "/")
    page.click("#sign-in")
    page.wait_for_url(re.compile(r".*/auth/consent/.*"))
    reached = set()
    for _ in range(30):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement && (document.activeElement.value || document.activeElement.id)")
        reached.add(focused)
        if {"approve", "deny"} <= reached:
            break
    assert {"approve", "deny"} <= reached
    page.keyboard.press("Shift+Tab")  # back on Allow, and Enter submits it
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(re.escape(client_app.url) + r"/callback\?.*"))


def test_every_input_has_an_accessible_name(page, server, client_app):
    base, _ = server
    pages = ["/login"]
    sign_in(page, base)
    page.wait_for_url(base + "/")
    pages += ["/tokens/new", "/plugins/password/"]
    for path in pages:
        page.goto(base + path)
        unnamed = page.evaluate("""() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
            .filter(el => !el.hidden && !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
            .map(el => el.name || el.id)""")
        assert unnamed == [], (path, unnamed)
        assert page.get_attribute("html", "lang") == "en"


def test_token_page_issue_copy_revoke(page, server, screenshot):
    base, _ = server
    sign_in(page, base)
    page.goto(base + "/tokens/new")
    page.fill("#client_id", "https://dev.example/")
    page.check("#scope-media")
    page.click("#new-token button[type=submit]")
    token = page.input_value("#token")
    assert token.count(".") == 2  # a JWT
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.click("button[data-copy=token]")
    from playwright.sync_api import expect
    expect(page.locator("button[data-copy=token]")).to_have_text("Copied")  # the copy settles asynchronously
    assert page.evaluate("navigator.clipboard.readText()") == token
    screenshot("token-shown", page)
    page.goto(base + "/tokens")
    screenshot("tokens", page)
    assert "https://dev.example/" in page.inner_text("main")
    page.click("button:has-text('Revoke everything of this app')")
    page.click("main button[type=submit]:has-text('Revoke')")
    page.wait_for_url(re.compile(r".*/tokens\?revoked=1"))
    import requests
    assert requests.get(base + "/token", headers={"Authorization": f"Bearer {token}"}, timeout=5).status_code == 401


def test_phone_width_and_dark_scheme(page_factory, server, screenshot):
    page = page_factory(width=360, height=740, scheme="dark")
    base, _ = server
    page.goto(base + "/login")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot("login-phone-dark", page)


def test_copy_buttons_stay_hidden_without_javascript(page_factory, server):
    page = page_factory(javascript=False)
    base, _ = server
    sign_in(page, base)
    page.goto(base + "/tokens/new")
    page.fill("#client_id", "https://dev.example/")
    page.click("#new-token button[type=submit]")
    assert page.input_value("#token")
    assert not page.is_visible("button[data-copy=token]")


def test_the_start_page_guides_and_draws_activity_without_javascript(page_factory, server, screenshot):
    page = page_factory(javascript=False)
    base, _ = server
    sign_in(page, base)
    page.wait_for_url(base + "/")
    for step in ("#guide-links", "#guide-tester", "#guide-token"):
        assert page.locator(step).is_visible()
    assert page.locator("svg.activity rect.login").count() >= 1
    screenshot("home", page)
