"""The test kit for the server and its plugins, `indieauth.testing`: helpers and pytest fixtures.

Installing indieauth registers this module as a pytest plugin (entry point `pytest11`), so any plugin's
tests get its fixtures without a conftest:

- `make_web(config_overrides=None, plugins=(), **make_test_app_kwargs)`: a webtest `TestApp` over
  `indieauth.make_test_app` on a fresh database in `tmp_path`; `web.app` is the IndieAuth app.
- `fake_http`: a `FakeServer`, real HTTP on 127.0.0.1 answering from a route table and recording every
  request: GitHub, Okta, a webhook receiver, an app's or a person's site.
- `smtp_fake`: an `SmtpFake`, a real SMTP server (aiosmtpd) on 127.0.0.1 keeping what it receives.
- `browser`, `page_factory`, `page`, `screenshot`: headless Chromium (Debian's /usr/bin/chromium through
  Playwright; never a downloaded browser), skipped with a reason when it is missing, failed under CI.

The helpers drive a whole sign-in through a real pending authorization request, as an app would::

    consent_url, verifier = start_authorization(web)    # GET /auth; sign in your way, then
    tokens = redeem(web, approve(web, consent_url), verifier)

Importing this module imports nothing heavy: indieauth, webtest, aiosmtpd and Playwright are imported
by the function or fixture that needs them.
"""

import contextlib
import datetime
import email
import email.policy
import functools
import http.server
import json
import os
import secrets
import shutil
import socket
import threading
import time
import urllib.parse

import pytest

CLIENT_ID = "http://127.0.0.1:9/"          # a loopback client: never fetched, so no network
REDIRECT_URI = "http://127.0.0.1:9/callback"
CHROMIUM = os.environ.get("INDIEAUTH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


# ---------------------------------------------------------------------------------------------
#  Apps, clocks and real servers
# ---------------------------------------------------------------------------------------------

def make_app(config_overrides=None, plugins=(), folder=None, clock=None, resolver=None):
    """`indieauth.make_test_app`: an app on a fresh migrated database (clock defaults to the real one)."""
    import indieauth
    return indieauth.make_test_app(config_overrides, plugins=plugins, folder=folder,
                                   clock=clock or indieauth.utcnow, resolver=resolver)


class Clock:
    """A clock a test moves by hand, for make_app(clock=…): `clock.advance(minutes=16)`."""

    def __init__(self, start=datetime.datetime(2026, 1, 1, 12, 0, 0)):
        self.now = start

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += datetime.timedelta(**delta)


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(app, port=None, threads=4):
    """Run a WSGI `app` on a real waitress server on 127.0.0.1 in a thread; yields its base URL.
    `threads=1` is `indieauth serve` with `[server] threads = 1`: a request to itself would wait forever."""
    from waitress.server import create_server
    server = create_server(app, host="127.0.0.1", port=port or free_port(), threads=threads)
    stopping = threading.Event()

    def run():
        try:
            server.run()
        except OSError:  # its sockets closed under select() while stopping: expected then only
            if not stopping.is_set():
                raise

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        stopping.set()
        for channel in list(server._map.values()):  # keep-alive connections keep the loop running
            channel.close()
        thread.join(timeout=5)
        server.task_dispatcher.shutdown()


def at_once(calls):
    """Start each of `calls` on a thread of its own, all at once; returns (threads, answers), where
    answers[n] becomes (what calls[n]() returned or raised, the seconds it took) when it is done."""
    answers = [None] * len(calls)

    def run(n):
        started = time.monotonic()
        try:
            answers[n] = (calls[n](), time.monotonic() - started)
        except Exception as failure:  # a timeout is an answer here too
            answers[n] = (failure, time.monotonic() - started)

    threads = [threading.Thread(target=run, args=(n,), daemon=True) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    return threads, answers


# ---------------------------------------------------------------------------------------------
#  A sign-in, as an app drives it
# ---------------------------------------------------------------------------------------------

def fill_in(page, selector, value):
    """Fill a field of a Playwright page as a person would, if the page shows it: a one-user server's
    login forms have no user name field (only a hidden one for password managers, already filled in)."""
    if page.locator(selector).is_visible():
        page.fill(selector, value)


def pkce_pair():
    """(code_verifier, S256 code_challenge)."""
    import indieauth
    verifier = secrets.token_urlsafe(48)
    return verifier, indieauth.pkce_s256(verifier)


def start_authorization(web, scope="profile create", state="teststate", **params):
    """GET /auth as a client would; returns (the consent page URL it sends people to, verifier)."""
    verifier, challenge = pkce_pair()
    query = {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI,
             "state": state, "code_challenge": challenge, "code_challenge_method": "S256", "scope": scope}
    query.update(params)
    response = web.get("/auth?" + urllib.parse.urlencode(query), status=303)
    return urllib.parse.urlsplit(response.headers["Location"]).path, verifier


def approve(web, consent_url):
    """Approve the consent page (the person must be signed in); returns the code."""
    page = web.get(consent_url, status=200)
    location = page.forms["consent"].submit("action", value="approve", status=303).headers["Location"]
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))["code"]


def redeem(web, code, verifier):
    """POST /token with the code; returns the JSON token response."""
    return web.post("/token", {"grant_type": "authorization_code", "code": code, "client_id": CLIENT_ID,
                               "redirect_uri": REDIRECT_URI, "code_verifier": verifier}).json


@pytest.fixture
def make_web(tmp_path):
    """make_web(config_overrides=None, plugins=(), remote_addr="192.0.2.10", **make_app_kwargs) -> a
    webtest TestApp over a fresh app in tmp_path (`.app` is the IndieAuth app); apps of one test share
    the database, as servers on one folder do."""
    import webtest

    def make(config_overrides=None, plugins=(), remote_addr="192.0.2.10", **kwargs):
        kwargs.setdefault("folder", str(tmp_path))
        return webtest.TestApp(make_app(config_overrides, plugins, **kwargs),
                               extra_environ={"REMOTE_ADDR": remote_addr})
    return make


# ---------------------------------------------------------------------------------------------
#  A fake HTTP server
# ---------------------------------------------------------------------------------------------

HANG_UP = object()  # a route's answer that closes the connection without a response


class FakeRequest:
    """One request a FakeServer received: method, path (no query), target (as sent), query (a dict),
    headers (case-insensitive `.get`), body (bytes) and `at` (time.monotonic() on arrival)."""

    def __init__(self, method, target, headers, body):
        self.method, self.target, self.headers, self.body = method, target, headers, body
        url = urllib.parse.urlsplit(target)
        self.path, self.query = url.path, dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        self.host, self.at = headers.get("Host", ""), time.monotonic()

    def json(self):
        return json.loads(self.body)

    def form(self):
        return dict(urllib.parse.parse_qsl(self.body.decode(), keep_blank_values=True))

    def __repr__(self):
        return f"<FakeRequest {self.method} {self.target}>"


class FakeServer:
    """A real HTTP server on `host` (127.0.0.1) in a thread, standing in for a third party.

    `routes[(METHOD, path)]` is what to answer; METHOD "*" is any method and a path ending in "*" any
    path under it (the longest wins). An answer is `(status, headers, body)`, a dict or list (JSON,
    200), a str (HTML, 200), HANG_UP, or a function of the FakeRequest returning one of those; a body
    that is a dict or list is sent as JSON. Unrouted paths are 404. `requests` lists what came in."""

    def __init__(self, host="127.0.0.1"):
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def handle_one_request(self):
                self.raw_requestline = self.rfile.readline(65537)
                if not self.raw_requestline or not self.parse_request():
                    self.close_connection = True
                    return
                fake._answer(self)
                self.wfile.flush()

            def log_message(self, *args):
                pass

        self.routes, self.requests, self.lock = {}, [], threading.Lock()
        self.stopping = threading.Event()
        self.server = http.server.ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.host, self.port = host, self.server.server_address[1]
        self.url = f"http://{host}:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def url_for(self, path="/", host=None, scheme="http"):
        """The URL of `path` here, under another host name (one a test resolver sends here) if given."""
        return f"{scheme}://{host or self.host}:{self.port}{path}"

    def route(self, path, answer, method="GET"):
        """Answer `method` requests for `path` with `answer`; returns the server, for chaining."""
        self.routes[(method.upper(), path)] = answer
        return self

    def hang(self, seconds=5):
        """Wait `seconds`, or until the server stops: a route function's way of not answering in time."""
        self.stopping.wait(seconds)

    def reset(self):
        """Forget the routes and the requests (a server shared by a module's tests, between tests)."""
        with self.lock:
            self.routes.clear()
            self.requests.clear()

    def stop(self):
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def _find(self, method, path):
        for key in ((method, path), ("*", path)):
            if key in self.routes:
                return self.routes[key]
        prefixes = [(len(p), answer) for (m, p), answer in self.routes.items()
                    if m in (method, "*") and p.endswith("*") and path.startswith(p[:-1])]
        return max(prefixes, key=lambda pair: pair[0])[1] if prefixes else (404, {}, "not found")

    def _answer(self, handler):
        length = int(handler.headers.get("Content-Length") or 0)
        request = FakeRequest(handler.command, handler.path, handler.headers,
                              handler.rfile.read(length) if length else b"")
        with self.lock:
            self.requests.append(request)
            answer = self._find(request.method, request.path)
        if callable(answer):
            answer = answer(request)
        if answer is HANG_UP:
            handler.close_connection = True
            return
        if isinstance(answer, (str, dict, list)):
            answer = (200, {}, answer)
        status, headers, body = answer
        headers = list(headers.items() if isinstance(headers, dict) else headers)
        names = {name.lower() for name, _ in headers}
        if isinstance(body, (dict, list)):
            body, default_type = json.dumps(body), "application/json"
        else:
            default_type = "text/html; charset=utf-8"
        body = body.encode() if isinstance(body, str) else body
        handler.send_response(status)
        if "content-type" not in names:
            handler.send_header("Content-Type", default_type)
        for name, value in headers:
            handler.send_header(name, value)
        if "content-length" not in names:
            handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(body)


@pytest.fixture
def fake_http():
    """A FakeServer on 127.0.0.1 for this test; `fake_http.url` is its base URL."""
    with FakeServer() as server:
        yield server


# ---------------------------------------------------------------------------------------------
#  A fake SMTP server
# ---------------------------------------------------------------------------------------------

class SmtpFake:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that accepts every message; `messages` holds dicts of
    "message" (an email.message.EmailMessage), "mail_from", "rcpt_tos", "tls" and "authenticated".
    Keyword arguments go to aiosmtpd's Controller (tls_context, require_starttls, auth_required, ...)."""

    def __init__(self, **controller_kwargs):
        from aiosmtpd.controller import Controller
        self.messages, self.lock, self.host = [], threading.Lock(), "127.0.0.1"
        controller_kwargs.setdefault("server_hostname", "mail.test")
        self.controller = Controller(self, hostname=self.host, port=free_port(), **controller_kwargs)
        self.controller.start()
        self.port = self.controller.port

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append({"message": message, "mail_from": envelope.mail_from,
                                  "rcpt_tos": envelope.rcpt_tos, "tls": session.ssl is not None,
                                  "authenticated": session.authenticated})
        return "250 Message accepted for delivery"

    def received(self, count=1, timeout=5):
        """The messages once there are `count`, polling with a deadline; an AssertionError after it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.01)
        raise AssertionError(f"expected {count} message(s), got {len(self.messages)}")

    def stop(self):
        self.controller.stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


@pytest.fixture
def smtp_fake():
    """An SmtpFake for this test: point the app at smtp_fake.host / smtp_fake.port."""
    with SmtpFake() as server:
        yield server



# ---------------------------------------------------------------------------------------------
#  Server databases
# ---------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def database_urls():
    """The PostgreSQL/MariaDB databases this test process may use as scratch space: one per URL of
    $INDIEAUTH_TEST_DATABASE_URLS (space-separated).  Under pytest-xdist each worker gets a database of its
    own on that server (`test` becomes `test_gw0`, ...), created the first time it is asked for, so that
    workers never empty each other's tables; run serially it is the URL's own database."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    urls = os.environ.get("INDIEAUTH_TEST_DATABASE_URLS", "").split()
    return tuple(_worker_database(url, worker) if worker else url for url in urls)


def _worker_database(url, worker):
    """`url` with its database name suffixed by `_worker`, that database made on the server if missing."""
    parts = urllib.parse.urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'test'}_{worker}"
    scheme = parts.scheme.split("+", 1)[0]
    if scheme in ("postgresql", "postgres"):
        import psycopg2
        admin = psycopg2.connect(url, connect_timeout=10)
        admin.autocommit = True
        try:
            with admin.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
                if not cursor.fetchone():
                    try:
                        cursor.execute(f'CREATE DATABASE "{name}"')
                    except psycopg2.errors.DuplicateDatabase:  # another run made it a moment ago
                        pass
        finally:
            admin.close()
    elif scheme == "mysql":
        import pymysql
        admin = pymysql.connect(host=parts.hostname, port=parts.port or 3306, user=urllib.parse.unquote(parts.username or ""),
                                password=urllib.parse.unquote(parts.password or ""), autocommit=True,
                                connect_timeout=10)
        try:
            with admin.cursor() as cursor:
                cursor.execute(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4")
        finally:
            admin.close()
    else:
        raise ValueError(f"INDIEAUTH_TEST_DATABASE_URLS: no per-worker database for {parts.scheme}:// URLs")
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


# ---------------------------------------------------------------------------------------------
#  Headless Chromium
# ---------------------------------------------------------------------------------------------

def _missing(reason):
    """Skip with `reason`; under CI (env CI set) fail instead, since a skip there would hide a break."""
    if os.environ.get("CI"):
        pytest.fail(f"CI must provide it: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium ($INDIEAUTH_CHROMIUM, /usr/bin/chromium) through Playwright, one per test
    module: Playwright's sync API allows one running instance at a time."""
    if not shutil.which(CHROMIUM):
        _missing(f"browser tests need Chromium at {CHROMIUM} (Debian package 'chromium')")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("browser tests need Playwright (pip install playwright; no browser download needed)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page_factory(browser):
    """page_factory(javascript=True, width=1000, height=800, scheme="light") -> a new page in a browser
    context of its own (cookies included); every context is closed after the test."""
    contexts = []

    def make(javascript=True, width=1000, height=800, scheme="light"):
        context = browser.new_context(java_script_enabled=javascript, viewport={"width": width, "height": height},
                                      color_scheme=scheme)
        context.set_default_timeout(10_000)
        contexts.append(context)
        _made.append(context.new_page())
        return _made[-1]
    yield make
    _made.clear()
    for context in contexts:
        context.close()


_made = []  # the pages page_factory made for the running test: screenshot's default target


@pytest.fixture
def page(page_factory):
    """A Chromium page with JavaScript, 1000×800, light colour scheme."""
    return page_factory()


@pytest.fixture(scope="module")
def screenshot(request):
    """screenshot(name, target=None) -> path: a PNG of the page `target` (all of it) or of a locator; by
    default the page page_factory (or `page`) made last in this test. Written to $INDIEAUTH_SCREENSHOTS when set,
    else to screenshots/ next to the test file; `name` may hold a / (a subfolder)."""
    folder = os.environ.get("INDIEAUTH_SCREENSHOTS") or os.path.join(os.path.dirname(str(request.path)),
                                                                     "screenshots")

    def shoot(name, target=None):
        if target is None:
            assert _made, "screenshot(name) shoots the page page_factory made last: there is none"
            target = _made[-1]
        path = os.path.join(folder, f"{name}.png")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if hasattr(target, "goto"):  # a page: all of it, not only the viewport
            target.screenshot(path=path, full_page=True)
        else:
            target.screenshot(path=path)
        return path
    shoot.folder = folder
    return shoot
