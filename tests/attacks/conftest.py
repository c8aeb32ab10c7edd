"""The red-team suite (issue 15): every attack that must be refused, on SQLite and on PostgreSQL.

Every test here that builds its app through `make_app` (and so `app`, `web`, `owner`) runs once on
SQLite and once on PostgreSQL, when a postgresql:// URL is listed in INDIEAUTH_TEST_DATABASE_URLS (as for
tests/test_storage.py).  That URL's database is scratch space: every table in it is dropped before a
test builds its first app.  Under CI (env CI set) a missing PostgreSQL URL fails the PostgreSQL variants;
elsewhere they are skipped, saying why.  Tests marked `sqlite_only` (they concern SQLite's files) get
no PostgreSQL variant at all.

Fake third parties are real HTTP servers: `FakeSite` (the kit's FakeServer) on 127.0.0.1 stands for an app's site (or any
public site, reached through a resolver that maps test names to it), and one on 127.0.0.2 stands for a
machine of the private network, which the SSRF guard must never reach.
"""

import os
import socket
import threading
import urllib.parse

import pytest
import webtest

import indieauth
from conftest import PASSWORD

POSTGRES_URL = next((url for url in indieauth.testing.database_urls()  # this xdist worker's own
                     if url.split(":", 1)[0] in ("postgresql", "postgres")), None)
NO_POSTGRES = "no postgresql:// URL in INDIEAUTH_TEST_DATABASE_URLS"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(
    POSTGRES_URL is None and not os.environ.get("CI"), reason=NO_POSTGRES))]


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only: the attack concerns SQLite's own files; no PostgreSQL variant")


def pytest_generate_tests(metafunc):
    """Every test whose app comes from make_app runs on each backend; sqlite_only ones on SQLite alone."""
    if "attack_backend" in metafunc.fixturenames:
        sqlite_only = metafunc.definition.get_closest_marker("sqlite_only") is not None
        metafunc.parametrize("attack_backend", ["sqlite"] if sqlite_only else BACKENDS)


def fresh_database(url):
    """Make the PostgreSQL database at `url` as new: emptied when it holds this code's schema (much faster
    than building it again), else every table of its schema dropped, whatever points where."""
    import psycopg2
    connection = psycopg2.connect(url, connect_timeout=5)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '10s'")  # a connection left in a transaction: an error, not a hang
            cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            tables = [row[0] for row in cursor.fetchall()]
            version = None
            if "schemaversion" in tables:
                cursor.execute("SELECT MAX(version) FROM schemaversion")
                version = cursor.fetchone()[0]
            if version == indieauth.SCHEMA_VERSION:
                cursor.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables if t != "schemaversion")
                               + " RESTART IDENTITY CASCADE")
            elif tables:
                cursor.execute("DROP TABLE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE")
    finally:
        connection.close()


@pytest.fixture
def make_app(tmp_path, clock, attack_backend):
    """tests/conftest.py's make_app on this test's backend, with an optional `resolver` for discovery.
    Apps built in one test share one database (as they share one SQLite file in tmp_path)."""
    apps = []

    def make(overrides=None, plugins=(), password=True, resolver=None):
        overrides = {k: dict(v) for k, v in (overrides or {}).items()}
        if password:
            overrides.setdefault("plugins", {}).setdefault("password", {})
        if attack_backend == "postgresql":
            if POSTGRES_URL is None:  # only under CI: a skip would hide what CI is there to show
                pytest.fail(f"CI must run the attacks on PostgreSQL: {NO_POSTGRES} (.ci/run sets it)")
            overrides.setdefault("server", {}).setdefault("database", POSTGRES_URL)
            if not apps:
                fresh_database(POSTGRES_URL)
        app = indieauth.make_test_app(overrides, plugins=plugins, folder=str(tmp_path), clock=clock,
                                      resolver=resolver)
        apps.append(app)
        return app

    yield make
    for app in apps:  # the pool's connections, so the next test can drop the tables
        app.storage.close()
        close_all = getattr(app.storage.database, "close_all", None)
        if close_all:
            close_all()


# ---------------------------------------------------------------------------------------------
#  Fake sites
# ---------------------------------------------------------------------------------------------

class RawServer:
    """A TCP server on 127.0.0.1 that answers each connection in a thread of its own by `answer(connection,
    request)`, given the request's bytes up to the blank line: for answers no HTTP server library would
    send (a byte at a time, an endless body).  `stopping` is set when the test is over."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stopping = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopping.is_set():
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection):
        with connection:
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = connection.recv(65536)
                if not chunk:
                    return
                request += chunk
            try:
                self.answer(connection, request)
            except OSError:
                return

    def answer(self, connection, request):
        raise NotImplementedError

    def stop(self):
        self.stopping.set()
        self.listener.close()


class FakeSite(indieauth.testing.FakeServer):
    """The kit's FakeServer on `host`, with a page per path: `page(path, body, ...)` answers GET `path`;
    `hits` lists (Host header, path) of every request."""

    def page(self, path, body, content_type="text/html; charset=utf-8", status=200, **headers):
        self.route(path, (status, {"Content-Type": content_type, **headers}, body))

    @property
    def hits(self):
        with self.lock:
            return [(request.host, request.target) for request in self.requests]


@pytest.fixture(scope="module")
def _sites():
    public, private = FakeSite("127.0.0.1"), FakeSite("127.0.0.2")
    yield public, private
    public.stop()
    private.stop()


@pytest.fixture
def site(_sites):
    """The app's own (public) site: one server per module, emptied for each test."""
    _sites[0].reset()
    return _sites[0]


@pytest.fixture
def intranet(_sites):
    """A machine of the private network (127.0.0.2, never in fetch_allow): it must never be reached."""
    _sites[1].reset()
    return _sites[1]


PUBLIC_ADDRESS = "127.0.0.1"  # the addresses of "public" test names: allowed through fetch_allow
PRIVATE_NAMES = {"intranet.test": "127.0.0.2", "private.test": "10.0.0.7", "metadata.test": "169.254.169.254",
                 "mapped.test": "::ffff:127.0.0.2", "zero.test": "0.0.0.0"}


def resolver(host, port):
    """Test names (*.test) to addresses: the private ones above, every other to PUBLIC_ADDRESS."""
    host = host.lower().rstrip(".")
    if host in PRIVATE_NAMES:
        return [PRIVATE_NAMES[host]]
    if host.endswith(".test"):
        return [PUBLIC_ADDRESS]
    return indieauth.system_resolver(host, port)


def query_of(location):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


# ---------------------------------------------------------------------------------------------
#  The flow, as an app and a person go through it
# ---------------------------------------------------------------------------------------------

CLIENT, REDIRECT = indieauth.testing.CLIENT_ID, indieauth.testing.REDIRECT_URI  # loopback: never fetched


_password_hash = []


def give_password(app, user):
    """`user` signs in with PASSWORD; its scrypt hash is computed once for the whole suite."""
    from indieauth_password import hash_password
    if not _password_hash:
        _password_hash.append(hash_password(PASSWORD))
    app.storage.set_credential(user, "password", {"hash": _password_hash[0]})


def add_user(app, username, role="user", me=None):
    """A user with the password PASSWORD."""
    user = app.storage.create_user(username, me or f"https://{username}.example/", role=role)
    give_password(app, user)
    return user


@pytest.fixture
def owner(app):
    """The owner user, with the password PASSWORD (as tests/conftest.py's, without a scrypt per test)."""
    return add_user(app, "owner", role="owner", me="https://owner.example/")


def enter(web, app, username="owner"):
    """Sign `username` in on the browser `web` as the password form would, without the form's scrypt
    (the sign-in itself is not what these tests attack); the browser has its CSRF cookie afterwards."""
    user = app.storage.get_user(username=username)
    raw = app.storage.create_session(user, "password", app.config["server"]["session_lifetime"])
    web.set_cookie(indieauth.SESSION_COOKIE, raw + "." + indieauth.sign(app.secret_key, "session:" + raw))
    web.get("/tokens")
    return web


@pytest.fixture
def signed_in(app, web, owner):
    """`web` with the owner signed in."""
    return enter(web, app)


def browser(app, username=None):
    """A new browser on `app`, signed in as `username` when one is given."""
    web = webtest.TestApp(app, extra_environ={"REMOTE_ADDR": "192.0.2.10"})
    return enter(web, app, username) if username else web


def auth_query(**params):
    """The query of GET /auth for the loopback test client, with PKCE; `params` override (None drops)."""
    query = {"response_type": "code", "client_id": CLIENT, "redirect_uri": REDIRECT, "state": "st4te",
             "code_challenge": indieauth.pkce_s256("v" * 43), "code_challenge_method": "S256",
             "scope": "profile create"}
    query.update(params)
    return "/auth?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})


def code_for(web, scope="profile create", **params):
    """(code, verifier) of an approved request; the person in `web` must be signed in."""
    consent, verifier = indieauth.testing.start_authorization(web, scope=scope, **params)
    return indieauth.testing.approve(web, consent), verifier


def redeem(web, code, verifier, status=200, path="/token", **fields):
    """POST the code to /token (or /auth) as the test client; `fields` override (None drops)."""
    form = {"grant_type": "authorization_code", "code": code, "client_id": CLIENT, "redirect_uri": REDIRECT,
            "code_verifier": verifier}
    form.update(fields)
    return web.post(path, {k: v for k, v in form.items() if v is not None}, status=status)


def tokens_for(web, scope="profile create"):
    """A token response for the signed-in person of `web`."""
    code, verifier = code_for(web, scope)
    return redeem(web, code, verifier).json


def bearer(token):
    return {"Authorization": "Bearer " + token}
