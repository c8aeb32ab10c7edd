"""The self-test's Authorization check in Chromium: the page's script asks /selftest/echo through the web server
in front, as apps do, on a server with one worker thread (the server never asks itself); without JavaScript the
page shows the same check as a curl command."""

import pytest

from conftest import free_port, serving
from test_flows import sign_in
from test_interop import StripAuthorization, app_with_owner


@pytest.fixture
def site(make_app, request):
    """Base URL of a server with `threads = 1` behind a front that passes, strips or renames the header."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = app_with_owner(make_app, base)
    front = getattr(request, "param", None)
    with serving(app if front is None else StripAuthorization(app, rename=front == "rename"), port, threads=1):
        yield base


@pytest.mark.parametrize("site, verdict", [(None, "Yes."), ("strip", "No."), ("rename", "Yes, renamed.")],
                         indirect=["site"])
def test_the_browser_checks_the_authorization_header(page, site, verdict, screenshot):
    sign_in(page, site)
    page.wait_for_url(site + "/")
    page.goto(site + "/selftest")
    answer = page.locator("#authorization-check [data-answer]:visible")
    answer.wait_for()
    screenshot(f"selftest-{verdict.split('.')[0].replace(' ', '-').replace(',', '').lower()}", page)
    assert answer.inner_text().startswith(verdict)
    assert page.locator("#authorization-check .by-hand:visible").count() == 0
    assert page.locator("text=CGIPassAuth On").is_visible() == (verdict == "No.")


def test_without_javascript_the_page_shows_the_check_by_hand(page_factory, site, screenshot):
    page = page_factory(javascript=False)
    sign_in(page, site)
    page.wait_for_url(site + "/")
    page.goto(site + "/selftest")
    screenshot("selftest-no-javascript", page)
    assert page.locator("#authorization-check [data-answer]:visible").count() == 0
    assert page.locator("#authorization-check pre.by-hand").inner_text().startswith('curl -H "Authorization: Bearer ')
    assert page.locator("text=CGIPassAuth On").is_visible()
