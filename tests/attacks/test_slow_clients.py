"""Finding 4: a slow client can stall the whole server.

A real waitress server (indieauth.testing.serving, 4 threads) and a real TCP server on 127.0.0.1 that
plays the client_id hosts: `slow*` hosts answer one byte a second, `fail*` hosts answer HTTP 500 at
once.  The app resolves every test name to 127.0.0.1 and may fetch from 127.0.0.0/8."""

import collections
import threading
import time
import urllib.parse

import pytest
import requests
import webtest

import indieauth
from conftest import PASSWORD, serving, sign_in
from .conftest import RawServer

ELSEWHERE = "https://elsewhere.example/callback"  # another origin than every client_id: it must be published


class ClientHosts(RawServer):
    """A TCP server on 127.0.0.1: counts connections per Host name and how many are open at once."""

    def __init__(self):
        self.connections, self.open, self.most_open = collections.Counter(), 0, 0
        self.lock = threading.Lock()
        super().__init__()

    def url(self, host, path="/"):
        return f"http://{host}:{self.port}{path}"

    def answer(self, connection, request):
        headers = dict(line.split(": ", 1) for line in request.decode().split("\r\n")[1:] if ": " in line)
        host = headers.get("Host", "").rsplit(":", 1)[0]
        with self.lock:
            self.connections[host] += 1
            self.open += 1
            self.most_open = max(self.most_open, self.open)
        try:
            if host.startswith("app"):  # a client page whose logo is on a slow host
                logo = f"http://slowlogo.example:{self.port}/logo.png"
                page = (f'<div class="h-app"><img class="u-logo" src="{logo}">'
                        f'<a class="u-url p-name" href="http://{headers["Host"]}/">Slow Logo</a></div>').encode()
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n"
                                   b"Content-Length: %d\r\n\r\n%s" % (len(page), page))
                return
            if host.startswith("fail"):
                connection.sendall(b"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            for byte in b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + b"x" * 1000:
                if self.stopping.wait(1):
                    return
                connection.sendall(bytes([byte]))
        finally:
            with self.lock:
                self.open -= 1


@pytest.fixture
def hosts():
    server = ClientHosts()
    yield server
    server.stop()


@pytest.fixture
def server_app(tmp_path, clock):
    """The app with the password plugin and an owner; every host name resolves to 127.0.0.1.  It waits for
    a client's details as long as a server does (AUTH_CLIENT_WAIT), then shows the waiting page."""
    app = indieauth.make_test_app({"plugins": {"password": {}}, "security": {"fetch_allow": ["127.0.0.0/8"]}},
                                  folder=str(tmp_path), clock=clock, resolver=lambda host, port: ["127.0.0.1"],
                                  client_wait=indieauth.AUTH_CLIENT_WAIT)
    from indieauth_password import set_password
    set_password(app, app.storage.create_user("owner", "https://owner.example/", role="owner"), PASSWORD)
    yield app
    app.close()


WAITING = "Reading the app's details"


def answered(get, url, seconds):
    """The first answer to `get(url)` that is not the waiting page, asking again as the page's refresh
    does (every 0.2 s here), for at most `seconds`."""
    end = time.monotonic() + seconds
    while True:
        page = get(url)
        if WAITING not in page.text or time.monotonic() > end:
            return page
        time.sleep(0.2)


def auth_url(base, client_id, redirect_uri=ELSEWHERE):
    verifier, challenge = indieauth.testing.pkce_pair()
    return f"{base}/auth?" + urllib.parse.urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "state": "s",
        "code_challenge": challenge, "code_challenge_method": "S256", "scope": "profile"})


def in_parallel(urls, timeout):
    """Start a GET of each URL on its own thread; returns (threads, answers: url -> response or error)."""
    answers = {}

    def get(url):
        try:
            answers[url] = requests.get(url, timeout=timeout, allow_redirects=False)
        except requests.RequestException as error:
            answers[url] = error

    threads = [threading.Thread(target=get, args=(url,), daemon=True) for url in urls]
    for thread in threads:
        thread.start()
    return threads, answers


def wait_for(condition, seconds=3):
    end = time.monotonic() + seconds
    while not condition() and time.monotonic() < end:
        time.sleep(0.02)


def test_slow_client_ids_leave_every_request_thread_free(server_app, hosts):
    """Finding 4, issue 17: three unauthenticated /auth naming client_id hosts that send a byte a second
    are each answered at once with the waiting page; the fetches run on the app's own FETCHERS threads
    (never more at once), so the metadata, token verification and sign-in pages answer meanwhile, and
    each /auth, asked again, ends with the fetch's failure once its deadline has passed."""
    token, _ = indieauth.issue_testing_token(server_app, server_app.storage.get_user(username="owner"),
                                             "https://app.example/", ["create"], 3600)
    with serving(server_app) as base:
        slow = [auth_url(base, hosts.url(f"slow{n}.example")) for n in range(3)]
        threads, answers = in_parallel(slow, timeout=1.5)
        for thread in threads:
            thread.join()
        wait_for(lambda: hosts.open >= 2)
        metadata = requests.get(base + "/.well-known/oauth-authorization-server", timeout=1)
        verified = requests.get(base + "/token", headers={"Authorization": "Bearer " + token}, timeout=1)
        login = requests.get(base + "/login", timeout=1)
        fetching = hosts.open  # before the first deadline: two fetches hang, the third waits its turn
        ends = [answered(lambda url: requests.get(url, timeout=2), url, 3 * indieauth.FETCH_DEADLINE + 2)
                for url in slow]
    pages = [answers[url] for url in slow]
    assert all(isinstance(page, requests.Response) and page.status_code == 200 for page in pages), pages
    assert all(WAITING in page.text and '<meta http-equiv="refresh" content="1">' in page.text for page in pages)
    assert metadata.status_code == 200 and metadata.json()["issuer"] == server_app.issuer
    assert verified.status_code == 200 and verified.json()["me"] == "https://owner.example/"
    assert login.status_code == 200 and "password" in login.text
    assert fetching == indieauth.FETCHERS and len(server_app.fetchers.threads) == indieauth.FETCHERS
    assert all(end.status_code == 400 and "could not be read" in end.text and "timed out" in end.text
               for end in ends), [end.text for end in ends]
    assert all(hosts.connections[f"slow{n}.example"] == 1 for n in range(3))  # each fetched once


def test_a_full_queue_of_fetches_is_answered_at_once_as_not_read_right_now(server_app, hosts):
    """Issue 17: the fetchers' queue is bounded; a client_id that finds it full is not waited for: the
    request is answered at once as if the app could not be read right now, and that is not remembered
    as the client's failure."""
    server_app.fetchers = indieauth.Fetchers(size=1, queue=1, clock=server_app.now)
    web = webtest.TestApp(server_app)
    first, second = (web.get(auth_url("", hosts.url(f"slow{n}.example"))) for n in range(2))
    assert WAITING in first.text and WAITING in second.text  # one fetching, one queued
    third = web.get(auth_url("", hosts.url("slow2.example")), status=400)
    assert "right now" in third.text and hosts.connections["slow2.example"] == 0
    assert server_app.client_cache.recent_failure(hosts.url("slow2.example")) is None


def test_a_failing_client_id_is_not_refetched_on_every_request(server_app, hosts, clock):
    """Finding 4 and SEC34: spec-checklist SEC34 says errors are not cached; issue 15 decides that a failed
    fetch holds back refetching for FETCH_FAILURE_TTL (60 s), kept apart from metadata (it is never served
    as what the client publishes), so a failing client_id cannot make every request wait on its host."""
    client_id = hosts.url("fail.example")
    with serving(server_app) as base:
        def get(url):
            return answered(lambda url: requests.get(url, timeout=indieauth.FETCH_DEADLINE + 2), url, 5)
        pages = [get(auth_url(base, client_id)) for _ in range(3)]
        assert hosts.connections["fail.example"] == 1
        clock.advance(seconds=indieauth.FETCH_FAILURE_TTL - 1)
        get(auth_url(base, client_id))
        assert hosts.connections["fail.example"] == 1
        clock.advance(seconds=2)
        again = get(auth_url(base, client_id))
    assert hosts.connections["fail.example"] == 2
    assert all(page.status_code == 400 and "could not be read: HTTP 500" in page.text for page in pages + [again])
    assert server_app.client_cache.get(client_id) is None  # never kept as if it were the client's metadata


def test_a_slow_logo_is_cut_off_and_not_refetched_on_every_request(server_app, hosts):
    """Finding 4, issue 17: the logo is fetched beside the client's details, on the fetchers, with the same
    deadline; the logo proxy waits for it at most LOGO_WAIT, and a logo that failed is not fetched again
    on the next request for FETCH_FAILURE_TTL seconds."""
    web = webtest.TestApp(server_app, extra_environ={"REMOTE_ADDR": "192.0.2.10"})
    sign_in(web)
    client_id = hosts.url("app.example")
    consent = answered(web.get, auth_url("", client_id, client_id + "callback"), 5)
    assert consent.status_int == 303
    logo = consent.follow().html.select_one("img.client-logo")["src"]
    started = time.monotonic()
    early = web.get(logo, status=404)
    assert time.monotonic() - started < indieauth.LOGO_WAIT + 0.5 and "still being loaded" in early.text
    time.sleep(indieauth.FETCH_DEADLINE)
    first, second = web.get(logo, status=404), web.get(logo, status=404)
    assert "logo could not be loaded" in first.text and "logo could not be loaded" in second.text
    assert hosts.connections["slowlogo.example"] == 1
