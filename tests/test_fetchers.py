"""No request thread waits on a third party (issue 17): the app's Fetchers, the authorization endpoint's
waiting page, and PAR while a client's details are being fetched.  The client is a real HTTP server on
127.0.0.1 (the kit's FakeServer) that takes its time to answer."""

import threading
import time
import urllib.parse

import pytest
import webtest

import indieauth
from conftest import PASSWORD, sign_in
from test_protocol import auth_params, pkce_pair

WAITING = "Reading the app's details"


# -- the pool itself

def test_no_thread_is_started_before_there_is_a_job():
    fetchers = indieauth.Fetchers()
    assert fetchers.threads == []
    assert fetchers.answer("k", lambda: 42, 2) == 42
    assert len(fetchers.threads) == 1  # one job needed one thread, not FETCHERS


def test_one_job_per_key_shared_by_every_caller():
    fetchers, release, runs = indieauth.Fetchers(size=2), threading.Event(), []

    def job():
        runs.append(1)
        release.wait(5)
        return "done"
    first, second = fetchers.submit("k", job), fetchers.submit("k", job)
    assert first is second
    release.set()
    assert first.result(5) == "done" and runs == [1]


def counted_job():
    """(job, release): job() waits until release is set, then answers how many times it has run."""
    release, runs = threading.Event(), []

    def job():
        runs.append(1)
        release.wait(5)
        return len(runs)
    return job, release


def test_an_answer_not_waited_for_is_kept_for_the_caller_that_comes_back_then_let_go():
    fetchers, (job, release) = indieauth.Fetchers(), counted_job()
    with pytest.raises(indieauth.FetchPending):
        fetchers.answer("k", job, 0.05)
    release.set()
    time.sleep(0.2)
    assert fetchers.answer("k", job, 1) == 1  # the kept answer, not a second fetch
    assert fetchers.answer("k", job, 1) == 2  # taken once: the next caller fetches anew


def test_a_kept_answer_expires_by_the_apps_clock(clock):
    fetchers, (job, release) = indieauth.Fetchers(clock=clock), counted_job()
    with pytest.raises(indieauth.FetchPending):
        fetchers.answer("k", job, 0.05)
    release.set()
    fetchers.submit("k", job).result(5)
    clock.advance(seconds=indieauth.FETCH_ANSWER_KEEP + 1)
    assert fetchers.answer("k", job, 2) == 2


def test_a_job_that_must_wait_its_turn_is_not_waited_for():
    """While the one thread is busy with a slow job, a caller of another is told at once, not after
    `wait`: the request thread is not held behind a slow site."""
    fetchers, release = indieauth.Fetchers(size=1), threading.Event()
    fetchers.submit("slow", lambda: release.wait(5))
    started = time.monotonic()
    with pytest.raises(indieauth.FetchPending):
        fetchers.answer("next", lambda: "done", 2)
    assert time.monotonic() - started < 0.5
    release.set()
    assert fetchers.submit("next", lambda: "again").result(5) == "done"  # the queued job ran, and is kept


def test_a_full_queue_refuses_at_once():
    fetchers, release = indieauth.Fetchers(size=1, queue=1), threading.Event()
    fetchers.submit("running", lambda: release.wait(5))
    time.sleep(0.1)  # taken off the queue by the one thread
    fetchers.submit("queued", lambda: None)
    started = time.monotonic()
    with pytest.raises(indieauth.FetchBusy):
        fetchers.submit("third", lambda: None)
    assert time.monotonic() - started < 0.1
    release.set()


def test_a_failing_job_raises_in_its_caller():
    def job():
        raise ValueError("broken plugin")
    with pytest.raises(ValueError, match="broken plugin"):
        indieauth.Fetchers().answer("k", job, 2)


def test_stopped_fetchers_finish_what_was_queued_then_their_threads_end():
    fetchers, release, done = indieauth.Fetchers(size=1), threading.Event(), []
    fetchers.submit("a", lambda: release.wait(5))
    fetchers.submit("b", lambda: done.append("b"))
    threads = list(fetchers.threads)
    fetchers.stop()
    with pytest.raises(indieauth.FetchBusy):
        fetchers.submit("c", lambda: None)
    release.set()
    for thread in threads:
        thread.join(5)
    assert done == ["b"] and threads and not any(thread.is_alive() for thread in threads)
    assert fetchers.threads == []


def test_a_fetcher_thread_with_nothing_to_do_ends_and_a_new_job_starts_another():
    fetchers = indieauth.Fetchers(idle=0.2)
    assert fetchers.answer("a", lambda: 1, 2) == 1
    first = fetchers.threads[0]
    first.join(2)
    assert not first.is_alive() and fetchers.threads == []
    assert fetchers.answer("b", lambda: 2, 2) == 2
    assert len(fetchers.threads) == 1 and fetchers.threads[0] is not first


def test_a_closed_apps_fetcher_threads_end(make_app):
    app = make_app()
    app.fetchers.answer("k", lambda: 1, 2)
    threads = list(app.fetchers.threads)
    app.close()
    for thread in threads:
        thread.join(5)
    assert threads and not any(thread.is_alive() for thread in threads)


# -- the authorization endpoint and PAR, with a client that takes a second to answer

SLOW = 1.0


@pytest.fixture
def slow_client(fake_http):
    """(client_id, redirect_uri) of an app whose h-app page takes SLOW seconds and publishes a redirect
    URI on another host; `fake_http.hits` counts its fetches."""
    fake_http.hits = 0

    def page(request):
        fake_http.hits += 1
        time.sleep(SLOW)
        return (200, {"Content-Type": "text/html"},
                f'<link rel="redirect_uri" href="http://other.test:{fake_http.port}/cb">'
                f'<div class="h-app"><a class="u-url p-name" href="http://app.test:{fake_http.port}/">Slow App</a></div>')
    fake_http.route("/", page)
    return f"http://app.test:{fake_http.port}/", f"http://other.test:{fake_http.port}/cb"


@pytest.fixture
def server(tmp_path, clock):
    """An app that waits for a client's details as a server does, with the password plugin and an owner."""
    app = indieauth.make_test_app({"plugins": {"password": {}}, "security": {"fetch_allow": ["127.0.0.1/32"]}},
                                  folder=str(tmp_path), clock=clock, resolver=lambda host, port: ["127.0.0.1"],
                                  client_wait=indieauth.AUTH_CLIENT_WAIT)
    from indieauth_password import set_password
    set_password(app, app.storage.create_user("owner", "https://owner.example/", role="owner"), PASSWORD)
    yield app
    app.close()


def auth_query(client_id, redirect_uri):
    _, challenge = pkce_pair()
    return urllib.parse.urlencode(auth_params(challenge, client_id=client_id, redirect_uri=redirect_uri))


def test_auth_answers_at_once_with_a_page_that_comes_back_for_the_apps_details(server, slow_client):
    client_id, redirect_uri = slow_client
    web = webtest.TestApp(server)
    sign_in(web)
    query = auth_query(client_id, redirect_uri)
    started = time.monotonic()
    waiting = web.get("/auth?" + query, status=200)
    assert time.monotonic() - started < SLOW
    assert WAITING in waiting.text and "app.test" in waiting.text
    assert waiting.html.select_one('meta[http-equiv="refresh"]')["content"] == "1"  # no script needed
    assert waiting.html.find("a", string="Check now")["href"] == "http://localhost/auth?" + query
    assert waiting.headers["Cache-Control"] == "no-store"
    time.sleep(SLOW + 0.5)
    consent = web.get("/auth?" + query, status=303).follow()
    assert "Slow App" in consent.text and consent.forms["consent"]


def test_the_waiting_pages_link_never_leaves_base_url(server, slow_client):
    """The link is built on base_url, not on the Host header an attacker may send."""
    client_id, redirect_uri = slow_client
    web = webtest.TestApp(server, extra_environ={"HTTP_HOST": "evil.example"})
    waiting = web.get("/auth?" + auth_query(client_id, redirect_uri), status=200)
    assert "evil.example" not in waiting.text
    assert waiting.html.find("a", string="Check now")["href"].startswith("http://localhost/auth?")


def test_the_app_is_fetched_once_however_often_the_page_comes_back(server, slow_client, fake_http):
    client_id, redirect_uri = slow_client
    web = webtest.TestApp(server)
    query = auth_query(client_id, redirect_uri)
    for _ in range(3):
        web.get("/auth?" + query, status=200)
    end = time.monotonic() + SLOW + 3
    while web.get("/auth?" + query).status_int == 200 and time.monotonic() < end:
        time.sleep(0.2)
    assert web.get("/auth?" + query, status=303) and fake_http.hits == 1


def test_an_app_whose_details_fail_goes_on_without_them_after_waiting(server, fake_http):
    """The fallback: the fetch fails (slowly); coming back, the flow goes on as for an app that published
    nothing, and a redirect_uri on the client_id's own host still works."""
    def broken(request):
        time.sleep(SLOW)
        return 500, {}, "oops"
    fake_http.route("/", broken)
    client_id = f"http://app.test:{fake_http.port}/"
    web = webtest.TestApp(server)
    sign_in(web)
    query = auth_query(client_id, client_id + "cb")
    assert WAITING in web.get("/auth?" + query, status=200).text
    time.sleep(SLOW + 0.5)
    consent = web.get("/auth?" + query, status=303).follow()
    assert "published no information" in consent.text and consent.forms["consent"]


def test_a_cross_host_redirect_of_an_app_that_cannot_be_read_is_still_refused_after_waiting(server, fake_http):
    def broken(request):
        time.sleep(SLOW)
        return 500, {}, "oops"
    fake_http.route("/", broken)
    web = webtest.TestApp(server)
    query = auth_query(f"http://app.test:{fake_http.port}/", "https://elsewhere.example/cb")
    web.get("/auth?" + query, status=200)
    time.sleep(SLOW + 0.5)
    refused = web.get("/auth?" + query, status=400)
    assert "Location" not in refused.headers and "could not be read: HTTP 500" in refused.text


def test_par_asks_to_come_back_while_the_app_is_read_then_accepts(server, fake_http):
    """PAR is an API call: it waits PAR_CLIENT_WAIT for the app's details, then answers 503 with
    Retry-After; sent again once they are in, it is accepted."""
    slower = indieauth.PAR_CLIENT_WAIT + 0.7

    def page(request):
        time.sleep(slower)
        return 200, {"Content-Type": "text/html"}, f'<link rel="redirect_uri" href="http://other.test:{fake_http.port}/cb">'
    fake_http.route("/", page)
    web = webtest.TestApp(server)
    _, challenge = pkce_pair()
    form = auth_params(challenge, client_id=f"http://app.test:{fake_http.port}/",
                       redirect_uri=f"http://other.test:{fake_http.port}/cb")
    started = time.monotonic()
    busy = web.post("/par", form, status=503)
    assert time.monotonic() - started < slower
    assert busy.json["error"] == "temporarily_unavailable" and busy.headers["Retry-After"] == "1"
    assert busy.headers["Cache-Control"] == "no-store"
    time.sleep(1)
    pushed = web.post("/par", form, status=201)
    assert pushed.json["request_uri"].startswith("urn:ietf:params:oauth:request_uri:")
