"""The okta plugin, tested as a third party would: indieauth.testing, webtest, and a fake Okta org
(a real HTTP server on 127.0.0.1 imitating Okta's Users and Factors APIs, see fake_okta.py)."""

import datetime
import json
import logging
import socket
import time
import urllib.parse

import bs4
import pytest
import requests
import webtest

import indieauth
from indieauth import testing
from indieauth_password import set_password

from fake_okta import TOKEN, FakeOkta

PASSWORD = "a long enough password"
ME = "https://ann.example/"


Clock = testing.Clock


@pytest.fixture
def okta():
    fake = FakeOkta()
    yield fake
    fake.stop()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def make_app(tmp_path, okta, clock):
    """make_app(methods=[…], without=[keys], **okta_settings): password and okta enabled, the fake org allowed."""
    def make(methods=("password+okta",), without=(), **settings):
        table = {"org_url": okta.url, "api_token": TOKEN, "login_domain": "example.com", **settings}
        for key in without:
            del table[key]
        return testing.make_app({"plugins": {"password": {}, "okta": table}, "auth": {"methods": list(methods)},
                                 "security": {"fetch_allow": ["127.0.0.1/32"]}},
                                folder=str(tmp_path), clock=clock)
    return make


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def ann(app):
    user = app.storage.create_user("ann", ME)
    set_password(app, user, PASSWORD)
    return user


@pytest.fixture
def web(app):
    return webtest.TestApp(app, extra_environ={"REMOTE_ADDR": "192.0.2.10"})


def password_step(web, next_url=None):
    """Sign in with the password; returns the Location of the Okta step."""
    form = web.get("/login" + (f"?next={next_url}" if next_url else "")).forms["password-login"]
    form["username"], form["password"] = "ann", PASSWORD
    location = form.submit(status=303).headers["Location"]
    assert "/login/okta?" in location
    return location


def send_push(web, path="/login/okta", status=303, username=None):
    """Press 'Send a push to my phone'; returns the response (a redirect to the wait page)."""
    form = web.get(path).forms["okta-login"]
    if username is not None:
        form["username"] = username
    return form.submit(status=status)


def status_url(web, wait_url):
    return web.get(wait_url).html.select_one("#okta-wait")["data-status"]


def until_done(web, wait_url, polls=20):
    """GET the status endpoint (as the page's script does) until the push is answered, then the wait page."""
    url = status_url(web, wait_url)
    for _ in range(polls):
        if web.get(url, headers={"Accept": "application/json"}).json["status"] == "done":
            return web.get(wait_url, status="*")
    raise AssertionError(f"still waiting after {polls} polls")


def alert(response):
    return response.html.select_one("[role=alert]").text.strip()


def signed_in(web):
    return "Signed in as" in web.get("/").text


def app_event(web, kind):
    """The data of the newest audit-log event of this kind."""
    event = next(e for e in web.app.storage.events(20) if e.kind == kind)
    return json.loads(event.data)


# -- the whole sign-in ----------------------------------------------------------------------------

def test_password_then_okta_push_through_an_authorization_request_to_a_code(web, ann, okta):
    okta.add_user("ann@example.com", answer="approve", after=2)
    consent_url, verifier = testing.start_authorization(web)
    login = web.get(consent_url, status=303).headers["Location"]
    step = password_step(web, next_url=login.partition("next=")[2])
    assert "One more step" in web.get(step).text
    wait_url = send_push(web, step).headers["Location"]
    assert "/login/okta/wait/" in wait_url
    assert not signed_in(web)
    done = until_done(web, wait_url)
    assert done.status_int == 303 and done.headers["Location"].endswith(consent_url)
    code = testing.approve(web, consent_url)
    tokens = testing.redeem(web, code, verifier)
    assert tokens["me"] == ME and tokens["access_token"]
    assert app_event(web, "login")["method"] == "password+okta"


def test_without_javascript_the_wait_page_itself_finishes_the_sign_in(web, ann, okta):
    okta.add_user("ann@example.com", answer="approve", after=2)
    password_step(web)
    wait_url = send_push(web).headers["Location"]
    assert web.get(wait_url).status_int == 200  # poll 1: waiting
    assert web.get(wait_url).status_int == 200  # poll 2: waiting (the meta refresh reloads the page)
    assert web.get(wait_url, status=303).headers["Location"] == "http://localhost/"
    assert signed_in(web)


def test_okta_alone_asks_for_the_user_name(make_app, okta):
    app = make_app(methods=["okta"])
    app.storage.create_user("ann", ME)
    okta.add_user("ann@example.com", after=0)
    web = webtest.TestApp(app)
    assert web.get("/login").html.select_one("#okta-username")["autocomplete"] == "username"
    wait_url = send_push(web, "/login", username="Ann").headers["Location"]
    web.get(wait_url, status=303)
    assert signed_in(web)


def test_okta_alone_for_an_unknown_user_name(make_app, okta):
    web = webtest.TestApp(make_app(methods=["okta"]))
    response = send_push(web, "/login", status=400, username="nobody")
    assert alert(response) == "There is no Okta account for this user name."
    assert okta.calls() == []


def test_okta_alone_for_a_disabled_user(make_app, okta):
    app = make_app(methods=["okta"])
    user = app.storage.create_user("ann", ME)
    app.storage.update_user(user, disabled_at=datetime.datetime(2026, 1, 1))
    okta.add_user("ann@example.com")
    web = webtest.TestApp(app)
    response = send_push(web, "/login", status=400, username="ann")
    assert alert(response) == "There is no Okta account for this user name."
    assert okta.calls() == []


def test_okta_alone_without_a_user_name(make_app, okta):
    web = webtest.TestApp(make_app(methods=["okta"]))
    assert alert(send_push(web, "/login", status=400, username="")) == "Enter your user name."


def test_the_second_step_names_the_user_and_asks_nothing(web, ann, okta):
    page = web.get(password_step(web))
    assert "signing in as ann." in page.html.select_one("#okta-login").text
    assert not page.html.select("#okta-username")


# -- outcomes -------------------------------------------------------------------------------------

def test_a_declined_push_says_so_and_offers_another(web, ann, okta):
    okta.add_user("ann@example.com", answer="reject", after=1)
    password_step(web)
    response = until_done(web, send_push(web).headers["Location"])
    assert response.status_int == 400 and alert(response) == "You declined the sign-in on your phone."
    assert response.html.select_one("#okta-login button").text == "Send another push"
    assert not signed_in(web)
    assert app_event(web, "login_failed")["method"] == "okta"


def test_a_push_that_timed_out_says_so_and_offers_another(web, ann, okta):
    okta.add_user("ann@example.com", answer="timeout", after=1)
    password_step(web)
    response = until_done(web, send_push(web).headers["Location"])
    assert alert(response) == "The push expired before it was answered. Send another."
    assert not signed_in(web)
    another = response.forms["okta-login"].submit(status=303)  # the way to try again works
    assert "/login/okta/wait/" in another.headers["Location"]


def test_no_push_factor_enrolled(web, ann, okta):
    okta.add_user("ann@example.com", push=False)
    password_step(web)
    response = send_push(web, status=400)
    assert alert(response).startswith("No Okta Verify push is set up for your Okta account.")
    assert okta.calls("POST") == []


def test_a_push_factor_not_yet_activated_counts_as_none(web, ann, okta):
    okta.add_user("ann@example.com", push="pending")
    password_step(web)
    assert alert(send_push(web, status=400)).startswith("No Okta Verify push is set up")


def test_a_push_factor_of_another_provider_is_not_okta_verify(web, ann, okta):
    uid = okta.add_user("ann@example.com")
    okta.users[uid]["factors"][-1].update(provider="SYMANTEC", vendorName="SYMANTEC")
    password_step(web)
    assert alert(send_push(web, status=400)).startswith("No Okta Verify push is set up")


def test_no_okta_account_for_the_login(web, ann, okta):
    okta.add_user("someone-else@example.com")
    password_step(web)
    assert alert(send_push(web, status=400)) == "There is no Okta account for this user name."


def test_a_suspended_okta_account(web, ann, okta):
    okta.add_user("ann@example.com", status="SUSPENDED")
    password_step(web)
    assert "suspended or deactivated" in alert(send_push(web, status=403))
    assert okta.calls("POST") == []


def test_the_number_challenge_is_shown(web, ann, okta):
    okta.add_user("ann@example.com", answer="wait", number=42)
    password_step(web)
    page = web.get(send_push(web).headers["Location"])
    assert page.html.select_one("#okta-number").text == "42"


# -- Okta unreachable, refusing or strange ----------------------------------------------------------

def test_a_wrong_api_token_gives_a_clear_message(make_app, okta, caplog):
    app = make_app(api_token="not the right token")
    set_password(app, app.storage.create_user("ann", ME), PASSWORD)
    okta.add_user("ann@example.com")
    web = webtest.TestApp(app)
    password_step(web)
    logger = logging.getLogger("indieauth.okta")  # its own handler: the core may stop propagation
    logger.addHandler(caplog.handler)
    try:
        response = send_push(web, status=502)
    finally:
        logger.removeHandler(caplog.handler)
    assert alert(response) == ("Okta refused this server's API token, so no push can be sent. "
                               "Tell the site's administrator.")
    assert "check [plugins.okta] api_token" in caplog.text and "not the right token" not in caplog.text


def test_the_api_token_is_sent_as_ssws_on_every_call(web, ann, okta):
    okta.add_user("ann@example.com", after=0)
    password_step(web)
    web.get(send_push(web).headers["Location"], status=303)
    assert [(m, auth) for m, _, auth, _ in okta.calls()] == [
        ("GET", f"SSWS {TOKEN}"), ("GET", f"SSWS {TOKEN}"), ("POST", f"SSWS {TOKEN}"), ("GET", f"SSWS {TOKEN}")]


def test_okta_down_when_sending(make_app, okta):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    app = make_app(org_url=closed)
    set_password(app, app.storage.create_user("ann", ME), PASSWORD)
    web = webtest.TestApp(app)
    password_step(web)
    response = send_push(web, status=502)
    assert alert(response).startswith("Okta cannot be reached right now (could not connect to 127.0.0.1).")
    assert not signed_in(web)


def test_okta_down_while_waiting(web, ann, okta):
    okta.add_user("ann@example.com", answer="wait")
    password_step(web)
    wait_url = send_push(web).headers["Location"]
    okta.stop()
    response = web.get(wait_url, status=502)
    assert alert(response).startswith("Okta cannot be reached right now")
    assert response.html.select_one("#okta-login button").text == "Send another push"


def test_an_answer_okta_would_not_give_is_a_clear_message(web, ann, okta):
    okta.add_user("ann@example.com")
    password_step(web)
    okta.broken = (500, "text/html", b"<html>Internal Server Error</html>")
    response = send_push(web, status=502)
    assert alert(response).startswith("Okta gave an answer this server does not understand (HTTP 500).")


def test_okta_rate_limiting_is_a_clear_message(web, ann, okta):
    okta.add_user("ann@example.com")
    password_step(web)
    okta.broken = (429, "application/json", json.dumps({
        "errorCode": "E0000047", "errorSummary": "API call exceeded rate limit due to too many requests.",
        "errorLink": "E0000047", "errorId": "oae1", "errorCauses": []}).encode())
    response = send_push(web, status=502)
    assert alert(response) == "Okta is receiving too many requests right now. Try again in a minute."


def test_a_poll_link_to_another_site_is_refused(web, ann, okta):
    okta.add_user("ann@example.com")
    okta.poll_link_base = "http://127.0.0.2:9"
    password_step(web)
    response = send_push(web, status=502)
    assert alert(response).startswith("Okta gave an answer this server does not understand.")


# -- what the browser sees, and what Okta is sent -----------------------------------------------------

def test_the_wait_page_refreshes_itself_without_javascript(web, ann, okta):
    okta.add_user("ann@example.com", answer="wait")
    password_step(web)
    page = web.get(send_push(web).headers["Location"])
    refresh = page.html.select_one('noscript meta[http-equiv="refresh"]')
    assert refresh is not None and refresh["content"] == "2"
    assert [s.get("src") for s in page.html.select("script")] == ["/login/okta/wait.js"]  # no inline script
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]


def test_the_wait_page_script_polls_the_status_endpoint(web):
    script = web.get("/login/okta/wait.js")
    assert script.content_type == "text/javascript"
    assert "data-status" in script.text and "fetch(" in script.text and "location.reload" in script.text


def test_the_status_endpoint_says_waiting_then_done(web, ann, okta):
    okta.add_user("ann@example.com", answer="approve", after=2)
    password_step(web)
    url = status_url(web, send_push(web).headers["Location"])  # poll 1
    answers = [web.get(url, headers={"Accept": "application/json"}) for _ in range(3)]
    assert [a.json for a in answers] == [{"status": "waiting"}, {"status": "done"}, {"status": "done"}]
    assert answers[0].headers["Cache-Control"] == "no-store"
    assert len(okta.calls("GET")) == 2 + 3  # user, factors; then one poll a request until the answer is known


def test_the_poll_url_and_the_token_never_reach_the_browser(web, ann, okta):
    okta.add_user("ann@example.com", answer="approve", after=2)
    password_step(web)
    sent = send_push(web)
    wait_url = sent.headers["Location"]
    seen = [sent, web.get(wait_url), web.get(status_url(web, wait_url), headers={"Accept": "application/json"})]
    seen.append(web.get(wait_url, status=303))
    transaction = next(path for _, path, _, _ in okta.calls("GET") if "/transactions/" in path).rsplit("/", 1)[1]
    for response in seen:
        text = str(response.headers) + response.text
        assert transaction not in text and TOKEN not in text and okta.url not in text


def test_the_verify_request_carries_nothing_of_ours(web, ann, okta):
    okta.add_user("ann@example.com")
    password_step(web)
    send_push(web)
    [(_, path, _, body)] = okta.calls("POST")
    assert path.endswith("/verify") and json.loads(body) == {}


def test_the_wait_page_works_only_in_the_browser_that_sent_the_push(web, app, ann, okta):
    okta.add_user("ann@example.com", after=0)
    password_step(web)
    wait_url = send_push(web).headers["Location"]
    other = webtest.TestApp(app)
    response = other.get(wait_url, status=400)
    assert alert(response) == "This push is no longer waiting for an answer. Send another."
    assert not signed_in(other)
    web.get(wait_url, status=303)
    assert signed_in(web)


def test_the_wait_page_refuses_a_forged_browser_cookie(web, app, ann, okta):
    okta.add_user("ann@example.com", after=0)
    password_step(web)
    wait_url = send_push(web).headers["Location"]
    other = webtest.TestApp(app)
    other.set_cookie("indieauth_okta", f"{ann.id}:forged-secret")
    assert "no longer waiting" in other.get(wait_url, status=400).text
    assert other.get(status_url_of(wait_url), headers={"Accept": "application/json"}).json == {"status": "done"}
    assert len(okta.calls("GET")) == 2  # the forged browser made nobody ask Okta


def status_url_of(wait_url):
    return "/login/okta/status/" + wait_url.split("/wait/")[1].split("?")[0]


@pytest.mark.parametrize("cookie, push_id", [
    ("99999999999999999999999:x", None), ("²:x", None), ("1:", None), ("", None), ("1:x", "not-an-id"),
    ("1:x", "%F0%9F%A6%86" * 8)])
def test_a_damaged_cookie_or_id_is_no_push_and_never_an_error(web, ann, okta, cookie, push_id):
    okta.add_user("ann@example.com", answer="wait")
    password_step(web)
    wait_url = send_push(web).headers["Location"]
    if push_id:
        wait_url = "/login/okta/wait/" + push_id
    web.set_cookie("indieauth_okta", cookie)
    assert "no longer waiting" in web.get(wait_url, status=400).text
    assert web.get(status_url_of(wait_url), headers={"Accept": "application/json"}).json == {"status": "done"}


def test_a_finished_push_cannot_be_used_twice(web, ann, okta):
    okta.add_user("ann@example.com", after=0)
    password_step(web)
    wait_url = send_push(web).headers["Location"]
    cookie = web.cookies["indieauth_okta"]
    web.get(wait_url, status=303)
    assert "indieauth_okta" not in web.cookies
    web.set_cookie("indieauth_okta", cookie)  # even with the cookie played back, it is used up
    assert "no longer waiting" in web.get(wait_url, status=400).text


def test_a_pending_push_is_forgotten_after_ten_minutes(web, ann, okta, clock):
    okta.add_user("ann@example.com", answer="wait")
    password_step(web)
    wait_url = send_push(web).headers["Location"]
    clock.advance(minutes=10, seconds=1)
    assert "no longer waiting" in web.get(wait_url, status=400).text


def test_a_push_approved_after_the_step_expired_starts_again(web, ann, okta, clock):
    okta.add_user("ann@example.com", answer="approve", after=1)
    password_step(web)
    wait_url = send_push(web).headers["Location"]
    clock.advance(seconds=301)  # [auth] step_lifetime, the core's time between factors, has passed
    response = until_done(web, wait_url)
    assert response.status_int == 400 and alert(response) == (
        "The time allowed for signing in ran out before the push was answered. Start again.")
    assert response.html.select_one("a.button")["href"].startswith("/login?next=")
    assert not signed_in(web)


def test_pushes_are_throttled_per_account(web, ann, okta):
    okta.add_user("ann@example.com", answer="wait")
    password_step(web)
    for _ in range(5):  # [security] account_failures: each push counts until one is approved
        send_push(web)
    response = send_push(web, status=429)
    assert alert(response) == indieauth.too_many_attempts(int(response.headers["Retry-After"]))
    assert len(okta.calls("POST")) == 5


def test_an_approved_push_clears_the_account_count(make_app, okta):
    app = make_app(methods=["okta"])
    app.storage.create_user("ann", ME)
    okta.add_user("ann@example.com", after=0)
    for _ in range(6):  # more than [security] account_failures pushes, each one approved
        web = webtest.TestApp(app)
        web.get(send_push(web, "/login", username="ann").headers["Location"], status=303)


# -- users and configuration -----------------------------------------------------------------------

def test_users_table_maps_a_user_to_an_okta_id(make_app, okta):
    uid = okta.add_user("ann.example@corp.example", after=0)
    app = make_app(users={"Ann": uid}, login_domain="")
    set_password(app, app.storage.create_user("ann", ME), PASSWORD)
    web = webtest.TestApp(app)
    password_step(web)
    web.get(send_push(web).headers["Location"], status=303)
    assert okta.calls("GET")[0][1] == f"/api/v1/users/{uid}"


def test_login_domain_looks_the_user_up_by_login(web, ann, okta):
    okta.add_user("ann@example.com")
    password_step(web)
    send_push(web)
    assert okta.calls("GET")[0][1] == "/api/v1/users/ann@example.com"


def test_a_user_without_okta_is_not_offered_the_okta_step(make_app, okta):
    app = make_app(users={"bob": "00ubob"}, login_domain="")
    set_password(app, app.storage.create_user("ann", ME), PASSWORD)
    web = webtest.TestApp(app)
    form = web.get("/login").forms["password-login"]
    form["username"], form["password"] = "ann", PASSWORD
    assert "none is set up" in form.submit(status=403).text


def test_api_token_from_an_environment_variable(make_app, okta, monkeypatch):
    monkeypatch.setenv("OKTA_TEST_TOKEN", TOKEN)
    assert make_app(api_token={"env": "OKTA_TEST_TOKEN"}).plugin_state["okta"].okta.api_token == TOKEN


def test_api_token_from_a_file(make_app, tmp_path):
    (tmp_path / "okta.token").write_text(TOKEN + "\n")
    assert make_app(api_token={"file": "okta.token"}).plugin_state["okta"].okta.api_token == TOKEN


@pytest.mark.parametrize("settings, message", [
    ({"org_url": None}, r"\[plugins.okta\] org_url: required"),
    ({"api_token": None}, r"\[plugins.okta\] api_token: required"),
    ({"org_url": "https://"}, r"\[plugins.okta\] org_url: expected an http:// or https:// URL"),
    ({"org_url": "http://example.okta.com"}, r"\[plugins.okta\] org_url: must be https://"),
    ({"api_token": {"env": "OKTA_TOKEN_NOT_SET"}}, r"\[plugins.okta\] api_token: environment variable OKTA_TOKEN"),
    ({"api_token": {"file": "missing.token"}}, r"\[plugins.okta\] api_token: cannot read"),
    ({"api_token": " "}, r"\[plugins.okta\] api_token: is empty"),
    ({"users": ["ann"]}, r"\[plugins.okta\] users: expected a table"),
    ({"users": {"ann": 12}}, r"\[plugins.okta\] users: ann: expected a string"),
    ({"users": {"ann": "00u1 x"}}, r"\[plugins.okta\] users: ann: expected an Okta user id"),
    ({"users": {"no one": "00u1"}}, r"\[plugins.okta\] users: 'no one' is not a valid user name"),
    ({"users": {"ann": "00u1", "Ann": "00u2"}}, r"\[plugins.okta\] users: 'Ann' is listed twice"),
    ({"login_domain": "", "users": {}}, r"\[plugins.okta\] users: map at least one user"),
    ({"login_domain": "@example.com"}, r"\[plugins.okta\] login_domain: expected a domain"),
    ({"timeout": "2m"}, r"\[plugins.okta\] timeout: expected 1s to 60s"),
    ({"timeout": "soon"}, r"\[plugins.okta\] timeout: expected a duration"),
    ({"orgurl": "https://example.okta.com"}, r"\[plugins.okta\] unknown key 'orgurl'"),
])
def test_bad_config_is_refused_at_start_up_naming_the_key(make_app, settings, message):
    missing = [key for key, value in settings.items() if value is None]
    given = {key: value for key, value in settings.items() if value is not None}
    with pytest.raises(indieauth.ConfigError, match=message):
        make_app(without=missing, **given)


# -- Okta waited on by at most half of the server's threads (issue 17) -------------------------------

def test_a_push_that_finds_no_free_slot_is_a_clear_busy_page_and_okta_is_not_asked(web, app, ann, okta):
    """Calls to Okta take slots of the core's limit on fetches (app.http.slots); with none free, pressing
    the button is answered at once with a page saying so (503, Retry-After), never a 500."""
    okta.add_user("ann@example.com")
    password_step(web)
    with app.http.slots.taken("one.example"), app.http.slots.taken("two.example"):
        response = send_push(web, status=503)
    assert alert(response) == ("Okta could not be reached right now: this server is already waiting on as many "
                               "services as it allows; try again in a moment.")
    assert response.headers["Retry-After"] == "1" and okta.calls() == []


def test_a_poll_that_finds_no_free_slot_is_still_waiting(web, app, ann, okta):
    """A status poll with no slot free is not an error: the wait page and its status endpoint say
    'waiting', Okta is not asked, and the next check asks it."""
    okta.add_user("ann@example.com", answer="approve", after=0)
    password_step(web)
    wait_url = send_push(web).headers["Location"]
    url, sent = status_url_of(wait_url), len(okta.calls())
    with app.http.slots.taken("one.example"), app.http.slots.taken("two.example"):
        assert web.get(wait_url).html.select_one("#okta-wait") is not None
        assert web.get(url).json == {"status": "waiting"}
    assert len(okta.calls()) == sent
    assert web.get(url).json == {"status": "done"}


def test_a_status_poll_is_cut_off_after_three_seconds(web, ann, okta):
    """A poll is one short call per check, whatever `timeout` allows the other calls (5 s by default)."""
    okta.add_user("ann@example.com", answer="wait")
    password_step(web)
    wait_url = send_push(web).headers["Location"]
    okta.delay = 10
    started = time.monotonic()
    response = web.get(wait_url, status=502)
    assert time.monotonic() - started < 4
    assert alert(response).startswith("Okta cannot be reached right now (timed out after 3 s).")


def real_browser(base, username):
    """A browser that opened the real server's login page: (its session, the Okta form's URL, its fields)."""
    session = requests.Session()
    form = bs4.BeautifulSoup(session.get(base + "/login", timeout=5).text, "html.parser").select_one("#okta-login")
    fields = {tag["name"]: tag.get("value", "") for tag in form.select("input[name]")}
    return session, urllib.parse.urljoin(base + "/login", form["action"]), dict(fields, username=username)


def others_answer_meanwhile(app, base, answers, token, seconds=1):
    """Once two of `answers` are in (or after `seconds`, while the others still wait on Okta): the metadata
    and a token verification, each allowed 1 s."""
    end = time.monotonic() + seconds
    while sum(1 for answer in answers if answer) < 2 and time.monotonic() < end:
        time.sleep(0.02)
    metadata = requests.get(base + "/.well-known/oauth-authorization-server", timeout=1)
    verified = requests.get(base + "/token", headers={"Authorization": "Bearer " + token}, timeout=1)
    return metadata.status_code == 200 and verified.status_code == 200 and verified.json()["me"] == ME


NAMES = ("ann", "bob", "cat", "dan")


def here(base, response):
    """Where a redirect of the real server sends the browser (its Location is under base_url, localhost)."""
    parts = urllib.parse.urlsplit(response.headers["Location"])
    return f"{base}{parts.path}?{parts.query}"


@pytest.fixture
def served(make_app, okta, clock):
    """An Okta-alone app with four users on a real server with 4 threads: (app, base URL, an access token)."""
    clock.now = indieauth.utcnow()  # real cookies, kept by a real cookie jar
    app = make_app(methods=["okta"], timeout="3s")
    for name in NAMES:
        user = app.storage.create_user(name, ME if name == "ann" else f"https://{name}.example/")
        okta.add_user(f"{name}@example.com", answer="wait")
    token, _ = indieauth.issue_testing_token(app, app.storage.get_user(username="ann"), "https://app.example/",
                                             ["profile"], 3600)
    with testing.serving(app, threads=4) as base:
        yield app, base, token


def test_pushes_against_a_hanging_okta_hold_at_most_half_the_threads(served, okta):
    """Four people press 'Send a push' at once, Okta not answering: two wait on it (half of the 4 threads),
    the two others are told at once that the server is busy, and the server answers meanwhile."""
    app, base, token = served
    browsers = [real_browser(base, name) for name in NAMES]
    okta.delay = 30
    threads, answers = testing.at_once([lambda b=b: b[0].post(b[1], b[2], allow_redirects=False, timeout=5)
                                for b in browsers])
    assert others_answer_meanwhile(app, base, answers, token)
    asked = len(okta.calls())
    for thread in threads:
        thread.join()
    assert asked == 2
    statuses = sorted(getattr(page, "status_code", page) for page, _ in answers)
    assert statuses == [502, 502, 503, 503], answers
    for page, took in answers:
        message = bs4.BeautifulSoup(page.text, "html.parser").select_one("[role=alert]").text
        if page.status_code == 503:
            assert took < 1 and message == BUSY_MESSAGE
        else:
            assert message.startswith("Okta cannot be reached right now (timed out after 3 s)")


BUSY_MESSAGE = ("Okta could not be reached right now: this server is already waiting on as many services as "
                "it allows; try again in a moment.")


def test_wait_pages_against_a_hanging_okta_hold_at_most_half_the_threads(served, okta):
    """Four people wait for their pushes when Okta stops answering: two checks wait on it, the two others
    find no slot and are simply still waiting, at once; the server answers meanwhile."""
    app, base, token = served
    browsers = [real_browser(base, name) for name in NAMES]
    waits = [here(base, b[0].post(b[1], b[2], allow_redirects=False, timeout=5)) for b in browsers]
    okta.delay = 30
    threads, answers = testing.at_once([lambda b=b, url=url: b[0].get(url, allow_redirects=False, timeout=5)
                                for b, url in zip(browsers, waits)])
    assert others_answer_meanwhile(app, base, answers, token)
    for thread in threads:
        thread.join()
    waiting = [(page, took) for page, took in answers if getattr(page, "status_code", None) == 200]
    failed = [page for page, _ in answers if getattr(page, "status_code", None) == 502]
    assert len(waiting) == 2 and len(failed) == 2, answers
    assert all(took < 1 and "Approve the sign-in on your phone" in page.text for page, took in waiting)
    assert all("timed out after 3 s" in page.text for page in failed)


def test_two_people_at_once_both_sign_in_through_a_slow_okta(served, okta):
    """The core's limit allows one fetch per host, which would let one person at a time talk to Okta: the
    plugin's calls are not held to it, so two people sending pushes at once, Okta taking 0.3 s for each
    answer, both get their push and both sign in."""
    app, base, token = served
    for name in NAMES[:2]:
        okta.users[next(uid for uid, u in okta.users.items() if u["login"] == f"{name}@example.com")].update(
            answer="approve", after=1)
    browsers = [real_browser(base, name) for name in NAMES[:2]]
    okta.delay = 0.3
    threads, sent = testing.at_once([lambda b=b: b[0].post(b[1], b[2], allow_redirects=False, timeout=5) for b in browsers])
    for thread in threads:
        thread.join()
    assert [getattr(page, "status_code", page) for page, _ in sent] == [303, 303], sent
    waits = [here(base, page) for page, _ in sent]
    for _ in range(4):  # each check of the two wait pages at once: waiting, then done
        threads, checked = testing.at_once([lambda b=b, url=url: b[0].get(url, allow_redirects=False, timeout=5)
                                    for b, url in zip(browsers, waits)])
        for thread in threads:
            thread.join()
        if all(getattr(page, "status_code", None) == 303 for page, _ in checked):
            break
        assert all(getattr(page, "status_code", None) in (200, 303) for page, _ in checked), checked
    assert all("Signed in as" in b[0].get(base + "/", timeout=5).text for b in browsers)
