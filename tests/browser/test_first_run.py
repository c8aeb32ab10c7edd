"""The first run as the README tells it, in headless Chromium: `indieauth serve` in an empty folder writes
its configuration, keys and database and prints a one-time sign-in link; the owner opens it, confirms,
sets a password through the password plugin, and signs in with it. The link works once only."""

import os
import re
import signal
import subprocess
import sys
import time

import pytest

from harness import PASSWORD
from conftest import free_port

LINK_LINE = re.compile(r"^Sign in once \(within 24 hours\) at: (http://127\.0\.0\.1:\d+/login/once/\S+)$", re.M)


@pytest.fixture
def first_run(tmp_path):
    """(base URL, one-time link, folder): the real command, `indieauth serve --port P`, started in an empty
    folder as a person would; stopped (by its own process id) at the end."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "INDIEAUTH_CONFIG"}
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    folder = tmp_path / "fresh"
    folder.mkdir()
    with open(out, "w") as stdout, open(err, "w") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "indieauth", "serve", "--port", str(port)], cwd=folder,
                                   env=env, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not LINK_LINE.search(out.read_text()):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"no sign-in link printed (exit {process.poll()}):\n{out.read_text()}\n{err.read_text()}")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", LINK_LINE.search(out.read_text()).group(1), folder, out.read_text()
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_the_first_run_writes_its_files_and_prints_a_link_to_this_server(first_run):
    base, link, folder, output = first_run
    assert {"plugins.toml", "secret.key", "signing-key.pem", "indieauth.db"} <= set(os.listdir(folder))
    assert f"First run: the owner's profile URL is {base}/" in output
    assert link.startswith(base + "/login/once/")
    assert oct(os.stat(folder / "secret.key").st_mode & 0o777) == "0o600"


def test_the_owner_signs_in_with_the_link_sets_a_password_and_signs_in_with_it(page, first_run, screenshot):
    base, link, _, _ = first_run
    page.goto(link)
    screenshot("first-run-1-link", page)
    assert "one-time link" in page.inner_text("h1")
    assert "Signed in as" not in page.inner_text("header")  # opening the link alone signs nobody in
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url(base + "/plugins/password/")  # no password yet: straight on to set one
    screenshot("first-run-2-set-password", page)
    assert "Signed in as owner" in page.inner_text("header")
    assert page.inner_text("h1") == "Set a password"  # none yet, so no "current password" is asked for
    assert page.locator("#current_password").count() == 0
    assert "one-time link" in page.inner_text("#first-password")  # says what this page is and what comes next
    page.get_by_label("New password (at least 10 characters)").fill(PASSWORD)
    page.get_by_label("New password again").fill(PASSWORD)
    screenshot("first-run-3-set-password", page)
    page.get_by_role("button", name="Save password").click()
    page.wait_for_url(base + "/plugins/password/?changed=1")
    assert page.get_by_role("status").inner_text() == "Your password has been saved."
    screenshot("first-run-4-password-saved", page)

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(base + "/")
    assert "Signed in as" not in page.inner_text("header")
    page.goto(base + "/login")
    assert page.get_by_role("textbox", name="User name").count() == 0  # the only user: no user name asked
    page.get_by_role("textbox", name="Password", exact=True).fill(PASSWORD)
    page.locator("#password-login").get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + "/")
    assert "Signed in as owner" in page.inner_text("header")
    assert page.locator("#next-steps").is_visible()  # the start page guides on from here
    screenshot("first-run-5-signed-in", page)


def test_the_link_opened_a_second_time_is_refused_with_a_clear_page(page_factory, first_run, screenshot):
    base, link, _, _ = first_run
    first = page_factory()
    first.goto(link)
    first.get_by_role("button", name="Sign in").click()
    first.wait_for_url(base + "/plugins/password/")
    assert "Signed in as owner" in first.inner_text("header")

    again = page_factory()  # another browser, as someone who found the link later would be
    answer = again.goto(link)
    assert answer.status == 400  # refused when opened, before any button
    screenshot("first-run-link-used", again)
    assert "not valid any more" in again.get_by_role("alert").inner_text()
    assert "indieauth user link" in again.inner_text("main")
    assert "Signed in as" not in again.inner_text("header")
    again.goto(base + "/tokens")
    assert "Signed in as" not in again.inner_text("header")
