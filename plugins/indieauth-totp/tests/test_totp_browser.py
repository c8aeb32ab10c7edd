"""Setting up an authenticator app in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright)
against the server on a real waitress on 127.0.0.1, the way a phone would: the QR code is read from a
screenshot of the page (zxing-cpp), the code is computed from what it holds, and then signing in asks
for the password and a code.

Named test_totp_browser.py, not test_browser.py: the passkeys plugin has a tests/test_browser.py, and two
test modules of one name in folders without __init__.py cannot be collected in one pytest run.
Never downloads a browser.  Skipped when Chromium is absent, except under CI, where that fails."""

import indieauth
import contextlib
import datetime
import re
import urllib.parse

import pyotp
import pytest

from indieauth import testing
from indieauth_password import set_password

PASSWORD = "correct horse battery staple"
UTC = datetime.timezone.utc

@pytest.fixture
def clock():
    """The servers' clock: now, moved by hand so a second sign-in can use the next code without waiting."""
    return testing.Clock(datetime.datetime.now(UTC).replace(tzinfo=None))


@pytest.fixture
def start_server(tmp_path, clock):
    """start_server(methods=None) -> base URL: the app with the password and totp plugins over one
    database in tmp_path (a second server sees what was set up through the first), with ann / PASSWORD."""
    with contextlib.ExitStack() as stack:
        def start(methods=None):
            port = testing.free_port()
            config = {"plugins": {"password": {}, "totp": {}}, "server": {"base_url": f"http://127.0.0.1:{port}/"}}
            if methods:
                config["auth"] = {"methods": methods}
            app = testing.make_app(config, folder=str(tmp_path), clock=clock)
            if app.storage.get_user(username="ann") is None:
                set_password(app, app.storage.create_user("ann", "https://ann.example/", role="owner"), PASSWORD)
            return stack.enter_context(testing.serving(app, port))
        yield start


def read_qr_code(path):
    """The text of the one QR code in a PNG file, read as a phone's camera app would (zxing-cpp)."""
    import zxingcpp
    from PIL import Image
    found = zxingcpp.read_barcodes(Image.open(path))
    assert [b.format for b in found] == [zxingcpp.BarcodeFormat.QRCode], found
    return found[0].text


def code_at(secret, moment):
    """What an authenticator app holding `secret` shows at `moment` (naive UTC)."""
    return pyotp.TOTP(secret).at(moment.replace(tzinfo=UTC))


def sign_in_with_password(page, base):
    page.goto(base + "/login")
    indieauth.testing.fill_in(page, "#username", "ann")
    page.fill("#password", PASSWORD)
    page.click("#password-login button[type=submit]")


def scan_setup_page(screenshot, page, base, name):
    """Open the set-up page, screenshot and decode its QR code; returns (decoded URI, secret in it)."""
    page.goto(base + "/plugins/totp/")
    screenshot(name, page)
    qr = page.get_by_role("img", name="QR code to scan with your authenticator app")
    uri = read_qr_code(screenshot(name + "-qr", qr))
    parts = urllib.parse.urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp"), uri
    assert urllib.parse.unquote(parts.path) == "/IndieAuth:ann"
    query = dict(urllib.parse.parse_qsl(parts.query))
    assert query["issuer"] == "IndieAuth"
    return uri, query["secret"]


def test_scan_the_qr_code_enter_its_code_then_sign_in_with_password_and_code(page, start_server, clock, screenshot):
    plain = start_server()
    sign_in_with_password(page, plain)
    page.wait_for_url(plain + "/")
    uri, secret = scan_setup_page(screenshot, page, plain, "setup")
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    assert page.inner_text("#totp-key").replace(" ", "") == secret  # the key to type by hand is the same
    assert page.get_attribute("a[href^='otpauth:']", "href") == uri

    page.get_by_label("6-digit code").fill(code_at(secret, clock.now))
    page.get_by_role("button", name="Turn on").click()
    assert page.inner_text("h1") == "Your authenticator app is set up"
    assert page.get_by_role("status").inner_text() == "Signing in can now ask for a code from your authenticator app."
    assert page.locator("#totp-recovery-codes li").count() == 10
    screenshot("recovery-codes", page)
    page.click("a:has-text('I have saved them')")
    assert page.inner_text("h1") == "Authenticator app"  # the management page: codes are on

    page.click("header button:has-text('Sign out')")  # cookies do not tell ports apart
    page.wait_for_url(plain + "/")
    clock.advance(seconds=30)  # the next code: the one used to turn codes on cannot sign in again
    chained = start_server(methods=["password+totp"])  # the same database
    sign_in_with_password(page, chained)
    page.wait_for_url(re.compile(re.escape(chained) + r"/login/totp\?.*"))
    assert "Signed in as" not in page.inner_text("header")  # the password alone is not enough
    assert "for ann" in page.inner_text("#totp-login")
    screenshot("second-factor", page)
    page.get_by_label("6-digit code").fill(code_at(secret, clock.now))
    page.locator("#totp-login").get_by_role("button", name="Sign in").click()
    page.wait_for_url(chained + "/")
    assert "Signed in as ann" in page.inner_text("header")


def test_a_code_from_another_secret_does_not_turn_codes_on(page, start_server, clock, screenshot):
    base = start_server()
    sign_in_with_password(page, base)
    page.wait_for_url(base + "/")
    _, secret = scan_setup_page(screenshot, page, base, "setup-wrong-code")
    page.get_by_label("6-digit code").fill(code_at(pyotp.random_base32(), clock.now))
    page.get_by_role("button", name="Turn on").click()
    assert "That code is not right" in page.get_by_role("alert").inner_text()
    assert page.get_attribute("#totp-code", "aria-invalid") == "true"
    assert scan_setup_page(screenshot, page, base, "setup-wrong-code")[1] == secret  # the same secret to try again with


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_qr_code_reads_in_both_colour_schemes_and_on_a_phone(page_factory, start_server, scheme, screenshot):
    page = page_factory(scheme=scheme, width=360)
    base = start_server()
    sign_in_with_password(page, base)
    page.wait_for_url(base + "/")
    _, secret = scan_setup_page(screenshot, page, base, f"setup-phone-{scheme}")
    assert page.inner_text("#totp-key").replace(" ", "") == secret
    assert page.evaluate("document.scrollingElement.scrollWidth <= innerWidth")
