"""Reliability (issue #8): races, crashes, database outages, abuse, and two processes on one database.

PostgreSQL tests need a postgresql:// URL in INDIEAUTH_TEST_DATABASE_URLS (space-separated, as for
tests/test_storage.py) and are skipped without one.  They never touch that URL's own database, which
other tests empty at will: each module fixture makes a database of its own on the same server
(indieauth_rel_<random>) and drops it afterwards.  An outage is made by a TCP proxy between the app and
PostgreSQL that the test cuts and restores; the shared PostgreSQL server itself is never stopped.

Races are made deterministic where it matters: a test plugin (DuringIssuance) runs code inside a token
issuance, after the code or refresh token was consumed and before the new tokens are stored, so the
worst interleaving happens every time rather than once in a while.
"""

import contextlib
import hashlib
import os
import select
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse

import jwt
import pytest
import requests
import webtest
from bs4 import BeautifulSoup

import indieauth
from conftest import PASSWORD, sign_in
from indieauth import testing
from indieauth_password import set_password

OWNER_ME = "https://owner.example/"
RACERS = 20          # requests released at one moment in a race
PATIENCE = 1.5       # seconds a held issuance waits for the requests racing it
START_DEADLINE = 20  # seconds a server process gets to answer its first request
QUICKLY = 2.0        # seconds within which an abusive request must have been answered


# ---------------------------------------------------------------------------------------------
#  Databases: SQLite in a temporary folder, or a PostgreSQL database of the test's own
# ---------------------------------------------------------------------------------------------

POSTGRES_URL = next((url for url in indieauth.testing.database_urls()  # this xdist worker's own
                     if url.split(":", 1)[0] in ("postgresql", "postgres")), None)
NO_POSTGRES = "no postgresql:// URL in INDIEAUTH_TEST_DATABASE_URLS"
if POSTGRES_URL is None and os.environ.get("CI"):  # a skip would hide what CI is there to show
    raise RuntimeError(f"CI must test on PostgreSQL: {NO_POSTGRES} (.ci/run sets it)")
needs_postgres = pytest.mark.skipif(POSTGRES_URL is None, reason=NO_POSTGRES)


@contextlib.contextmanager
def own_postgres_database():
    """A new, empty database on POSTGRES_URL's server, dropped afterwards; yields its URL."""
    import psycopg2
    name = "indieauth_rel_" + os.urandom(6).hex()
    admin = psycopg2.connect(POSTGRES_URL)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        yield urllib.parse.urlunsplit(urllib.parse.urlsplit(POSTGRES_URL)._replace(path="/" + name))
    finally:
        with admin.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()


def via(url, port):
    """A database URL pointed at 127.0.0.1:`port` instead of its own host and port."""
    parts = urllib.parse.urlsplit(url)
    userinfo = parts.netloc.rpartition("@")[0]
    return urllib.parse.urlunsplit(parts._replace(netloc=(userinfo + "@" if userinfo else "") + f"127.0.0.1:{port}"))


def prepare_database(app, *others):
    """Migrate, and make the owner (and a user for each name in `others`), all with PASSWORD."""
    with app.storage.database.connection_context():
        app.storage.migrate()
        owner = app.storage.create_user("owner", OWNER_ME, role="owner")
        set_password(app, owner, PASSWORD)
        for name in others:
            set_password(app, app.storage.create_user(name, f"https://{name}.example/"), PASSWORD)


# ---------------------------------------------------------------------------------------------
#  In-process apps
# ---------------------------------------------------------------------------------------------

class DuringIssuance:
    """Test plugin: once armed, runs a function inside the next token issuance, after the code or
    refresh token was consumed and before the new tokens are stored (its token_claims hook)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.action = None

    def arm(self, action):
        self.action = action

    @indieauth.hookimpl
    def token_claims(self):
        with self.lock:
            action, self.action = self.action, None
        if action:
            action()


class Stack:
    """An in-process app on one database, its owner signed in (`web`), with DuringIssuance installed."""

    def __init__(self, url, folder, backend):
        self.backend, self.during = backend, DuringIssuance()
        self.app = indieauth.make_test_app({"server": {"database": url},
                                            "plugins": {"password": {}, "hosting": {}}}, plugins=[self.during], folder=folder)
        prepare_database(self.app)
        self.web = signed_in(self.app)

    def activate(self):
        """Ready for the next test: nothing pending from the last one."""
        self.during.action = None
        return self


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=needs_postgres)])
def backend_stack(request, tmp_path_factory):
    folder = str(tmp_path_factory.mktemp(request.param))
    with (own_postgres_database() if request.param == "postgresql"
          else contextlib.nullcontext("sqlite:///reliability.db")) as url:
        stack = Stack(url, folder, request.param)
        yield stack
        stack.app.storage.close()


@pytest.fixture
def stack(backend_stack):
    """A Stack on SQLite, and again on PostgreSQL."""
    return backend_stack.activate()


def browser(app):
    return webtest.TestApp(app, extra_environ={"REMOTE_ADDR": "192.0.2.10"})


def signed_in(app):
    web = browser(app)
    sign_in(web)
    return web


def code_for(web):
    """(code, verifier) of an approved authorization request."""
    consent, verifier = testing.start_authorization(web)
    return testing.approve(web, consent), verifier


def redemption(code, verifier):
    return {"grant_type": "authorization_code", "code": code, "client_id": testing.CLIENT_ID,
            "redirect_uri": testing.REDIRECT_URI, "code_verifier": verifier}


def refresh_form(refresh_token):
    return {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": testing.CLIENT_ID}


def verification_status(app, access_token):
    """The status GET /token answers for a bearer token: 200 while it is live."""
    return browser(app).get("/token", headers={"Authorization": "Bearer " + access_token},
                            expect_errors=True).status_int


def outcome(response):
    return response.status_int, response.json.get("error")


def tokens_where(app, *where):
    with app.storage.bound(), app.storage.database.connection_context():
        return list(indieauth.Token.select().where(*where))


# ---------------------------------------------------------------------------------------------
#  Races: many requests released at one moment
# ---------------------------------------------------------------------------------------------

def race(count, act, prepare=lambda i: None):
    """`act(i, prepare(i))` in `count` threads released together once all are prepared; the results."""
    barrier = threading.Barrier(count)
    results, errors = [None] * count, []

    def run(i):
        try:
            state = prepare(i)
            barrier.wait(timeout=30)
            results[i] = act(i, state)
        except BaseException as exc:  # handed to the test below
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if errors:
        raise next((e for e in errors if not isinstance(e, threading.BrokenBarrierError)), errors[0])
    return results


class Hold:
    """An action for DuringIssuance: the issuance waits until `others` racing requests were answered,
    or PATIENCE seconds when they cannot be (because they wait for it)."""

    def __init__(self, others):
        self.others, self.answered, self.lock, self.done = others, 0, threading.Lock(), threading.Event()

    def __call__(self):
        self.done.wait(PATIENCE)

    def answered_one(self):
        with self.lock:
            self.answered += 1
            if self.answered >= self.others:
                self.done.set()


def held_race(stack, form):
    """RACERS POSTs of `form` to /token, the first issuance held until the others were answered."""
    hold = Hold(others=RACERS - 1)
    stack.during.arm(hold)

    def post(i, web):
        try:
            return web.post("/token", form, expect_errors=True)
        finally:
            hold.answered_one()

    return race(RACERS, post, prepare=lambda i: browser(stack.app))


def test_racing_redemptions_of_one_code_issue_exactly_one_token(stack):
    code, verifier = code_for(stack.web)
    answers = race(RACERS, lambda i, web: web.post("/token", redemption(code, verifier), expect_errors=True),
                   prepare=lambda i: browser(stack.app))
    assert sorted(map(outcome, answers)) == [(200, None)] + [(400, "invalid_grant")] * (RACERS - 1)
    with stack.app.storage.database.connection_context():
        row = stack.app.storage.find_code(code)
    assert sorted(t.kind for t in tokens_where(stack.app, indieauth.Token.code == row)) == ["access", "refresh"]


def test_a_redemption_racing_the_first_revokes_what_the_first_got(stack):
    """SEC1 under a race: the replays arrive while the first redemption is storing its tokens."""
    code, verifier = code_for(stack.web)
    won = [a.json for a in held_race(stack, redemption(code, verifier)) if a.status_int == 200]
    assert len(won) == 1
    assert verification_status(stack.app, won[0]["access_token"]) == 401
    again = browser(stack.app).post("/token", refresh_form(won[0]["refresh_token"]), expect_errors=True)
    assert outcome(again) == (400, "invalid_grant")


def test_racing_refreshes_of_one_refresh_token_rotate_it_once(stack):
    tokens = testing.redeem(stack.web, *code_for(stack.web))
    answers = race(RACERS, lambda i, w: w.post("/token", refresh_form(tokens["refresh_token"]), expect_errors=True),
                   prepare=lambda i: browser(stack.app))
    assert sorted(map(outcome, answers)) == [(200, None)] + [(400, "invalid_grant")] * (RACERS - 1)
    with stack.app.storage.database.connection_context():
        family = stack.app.storage.find_token(tokens["refresh_token"]).family
    assert sorted(t.kind for t in tokens_where(stack.app, indieauth.Token.family == family)) == [
        "access", "access", "refresh", "refresh"]


def test_a_refresh_racing_the_first_revokes_the_whole_family(stack):
    """OAuth BCP §4.14.2 under a race: reuse while the first refresh is storing its new tokens."""
    tokens = testing.redeem(stack.web, *code_for(stack.web))
    won = [a.json for a in held_race(stack, refresh_form(tokens["refresh_token"])) if a.status_int == 200]
    assert len(won) == 1
    assert verification_status(stack.app, won[0]["access_token"]) == 401
    with stack.app.storage.database.connection_context():
        family = stack.app.storage.find_token(tokens["refresh_token"]).family
    assert all(t.revoked_at is not None for t in tokens_where(stack.app, indieauth.Token.family == family))


def invite_race(stack, hold_sign_ups=False):
    """RACERS people send the sign-up form of one new invite at once; (their responses, the invite)."""
    app = stack.app
    with app.storage.database.connection_context():
        raw = app.storage.create_invite("user", 3600)
    if hold_sign_ups:  # every sign-up waits until all have read the invite: the worst interleaving
        barrier, create_user = threading.Barrier(RACERS), app.storage.create_user

        def held_create_user(*args, **kwargs):
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(PATIENCE)
            return create_user(*args, **kwargs)
        app.storage.create_user = held_create_user

    def prepare(i):
        form = browser(app).get("/invite/" + raw).forms["invite"]
        form["username"] = f"racer-{raw[:8].lower()}-{i}"
        return form

    try:
        answers = race(RACERS, lambda i, form: form.submit(expect_errors=True), prepare=prepare)
    finally:
        app.storage.__dict__.pop("create_user", None)
    with app.storage.bound(), app.storage.database.connection_context():
        invite = indieauth.Invite.get(indieauth.Invite.token_hash == indieauth.token_hash(raw))
        racers = [u for u in app.storage.list_users() if u.username.startswith(f"racer-{raw[:8].lower()}-")]
    return answers, invite, racers


def test_racing_sign_ups_with_one_invite_make_exactly_one_user(stack):
    answers, invite, racers = invite_race(stack)
    assert [a.status_int for a in answers].count(303) == 1
    assert len(racers) == 1 and invite.used_by_id == racers[0].id


def test_sign_ups_that_lose_an_invite_race_are_told_the_invite_is_used(stack, request):
    """The losers get the page that says the invite is gone (400), never a 503 'database unavailable'."""
    answers, invite, racers = invite_race(stack, hold_sign_ups=True)
    assert sorted(a.status_int for a in answers) == [303] + [400] * (RACERS - 1)
    assert all("not valid any more" in a.text for a in answers if a.status_int == 400)
    assert len(racers) == 1 and invite.used_by_id == racers[0].id


# ---------------------------------------------------------------------------------------------
#  Real server processes, driven over HTTP
# ---------------------------------------------------------------------------------------------

CONFIG = """\
[server]
base_url = "http://127.0.0.1:{port}/"
database = "{database}"
port = {port}
secret_key = {{ file = "secret.key" }}
threads = 4

[tokens]
signing_key = {{ file = "signing-key.pem" }}

[security]
account_failures = 4
address_failures = 100

[plugins.password]
"""


def write_config(folder, database, port, *users):
    """A config in `folder`, its secret files, and its database migrated with the owner (and `users`)."""
    path = os.path.join(folder, "indieauth.toml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(CONFIG.format(port=port, database=database))
    config = indieauth.Config.load(path)
    indieauth.ensure_secret_files(config)
    app = indieauth.IndieAuth(config, check_schema=False)
    prepare_database(app, *users)
    app.storage.close()
    return path


class ServerProcess:
    """`indieauth --config C serve --port P` as a process of its own, its output in files."""

    def __init__(self, folder, config, port):
        self.folder, self.config, self.port = str(folder), config, port
        self.base = f"http://127.0.0.1:{port}/"
        self.process = None

    def launch(self):
        env = {k: v for k, v in os.environ.items() if k not in ("INDIEAUTH_CONFIG", "GATEWAY_INTERFACE")}
        with open(os.path.join(self.folder, f"serve-{self.port}.log"), "a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "indieauth", "--config", self.config, "serve", "--port", str(self.port)],
                cwd=self.folder, stdout=log, stderr=log, stdin=subprocess.DEVNULL, env=env)
        return self

    def wait_until_answering(self):
        deadline = time.monotonic() + START_DEADLINE
        while True:
            if self.process.poll() is not None:
                pytest.fail(f"indieauth serve exited with {self.process.returncode}:\n{self.output()}")
            try:
                http().get(self.base, timeout=1)
                return self
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    pytest.fail(f"indieauth serve did not answer within {START_DEADLINE}s:\n{self.output()}")
                time.sleep(0.05)

    def output(self):
        with open(os.path.join(self.folder, f"serve-{self.port}.log")) as log:
            return log.read()[-5000:]

    def kill(self):
        """kill -9: no cleanup and no flushing, whatever it was doing."""
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def http():
    session = requests.Session()
    session.trust_env = False
    return session


def form_of(html, form_id):
    """(action, [(name, value)…]) of a form as a browser would send it (checked boxes only)."""
    form = BeautifulSoup(html, "html.parser").find("form", id=form_id)
    assert form is not None, f"no form #{form_id} in:\n{html[:2000]}"
    fields = [(i["name"], i.get("value", "")) for i in form.find_all("input")
              if i.get("name") and (i.get("type") not in ("checkbox", "radio") or i.has_attr("checked"))]
    return form["action"], fields


class Client:
    """A person's browser and an app, over real HTTP.  Each call names the server it goes to, so one
    flow can hop between processes as behind a load balancer without sticky sessions."""

    def __init__(self):
        self.http = http()

    def sign_in(self, page_at, post_at, username="owner", password=PASSWORD):
        action, fields = form_of(self.http.get(page_at + "login", timeout=10).text, "password-login")
        fields = [(k, v) for k, v in fields if k not in ("username", "password")]
        return self.http.post(post_at + action.lstrip("/"), timeout=10, allow_redirects=False,
                              data=fields + [("username", username), ("password", password)])

    def authorize(self, at):
        """GET /auth as an app sends people there; (consent page path, verifier)."""
        verifier, challenge = testing.pkce_pair()
        answer = self.http.get(at + "auth", allow_redirects=False, timeout=10, params={
            "response_type": "code", "client_id": testing.CLIENT_ID, "redirect_uri": testing.REDIRECT_URI,
            "state": "s", "code_challenge": challenge, "code_challenge_method": "S256", "scope": "profile create"})
        assert answer.status_code == 303, answer.text[:500]
        return urllib.parse.urlsplit(answer.headers["Location"]).path, verifier

    def approve(self, consent_path, page_at, post_at):
        action, fields = form_of(self.http.get(page_at + consent_path.lstrip("/"), timeout=10).text, "consent")
        answer = self.http.post(post_at + action.lstrip("/"), data=fields + [("action", "approve")],
                                allow_redirects=False, timeout=10)
        assert answer.status_code == 303, answer.text[:500]
        return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(answer.headers["Location"]).query))["code"]

    def redeem(self, code, verifier, at):
        return self.http.post(at + "token", data=redemption(code, verifier), timeout=10)

    def refresh(self, refresh_token, at):
        return self.http.post(at + "token", data=refresh_form(refresh_token), timeout=10)

    def revoke(self, token, at):
        return self.http.post(at + "revoke", data={"token": token}, timeout=10)

    def verify(self, access_token, at):
        return self.http.get(at + "token", headers={"Authorization": "Bearer " + access_token}, timeout=10)

    def tokens(self, at):
        """A whole flow at one server: the token response."""
        consent, verifier = self.authorize(at)
        answer = self.redeem(self.approve(consent, at, at), verifier, at)
        assert answer.status_code == 200, answer.text
        return answer.json()


# ---------------------------------------------------------------------------------------------
#  Crash safety: kill -9 under load, then a restart
# ---------------------------------------------------------------------------------------------

class Load:
    """Clients running whole flows against one server until stopped, keeping what each was told.  A
    request cut off by the crash leaves its token out of every check: its fate is unknown."""

    def __init__(self, base, clients=3):
        self.base, self.stop, self.lock, self.errors, self.flows = base, threading.Event(), threading.Lock(), [], 0
        self.live_access, self.live_refresh, self.revoked_access, self.rotated_refresh = set(), set(), set(), set()
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(clients)]
        for thread in self.threads:
            thread.start()

    def keep(self, which, token):
        with self.lock:
            which.add(token)

    def take(self, which, token):
        with self.lock:
            which.discard(token)

    def run(self):
        client, n = Client(), 0
        try:
            assert client.sign_in(self.base, self.base).status_code == 303
            while not self.stop.is_set():
                tokens = client.tokens(self.base)
                self.keep(self.live_access, tokens["access_token"])
                self.keep(self.live_refresh, tokens["refresh_token"])
                with self.lock:
                    self.flows += 1
                n += 1
                if n % 3 == 0:  # revoke the access token; its refresh token goes on living
                    self.take(self.live_access, tokens["access_token"])
                    if client.revoke(tokens["access_token"], self.base).status_code == 200:
                        self.keep(self.revoked_access, tokens["access_token"])
                elif n % 3 == 1:  # rotate the refresh token
                    self.take(self.live_refresh, tokens["refresh_token"])
                    answer = client.refresh(tokens["refresh_token"], self.base)
                    if answer.status_code == 200:
                        self.keep(self.rotated_refresh, tokens["refresh_token"])
                        self.keep(self.live_access, answer.json()["access_token"])
                        self.keep(self.live_refresh, answer.json()["refresh_token"])
        except (requests.RequestException, AssertionError, ValueError) as exc:
            if not self.stop.is_set():
                self.errors.append(exc)

    def wait_for(self, flows, timeout=30):
        deadline = time.monotonic() + timeout
        while self.flows < flows and time.monotonic() < deadline and not self.errors:
            time.sleep(0.02)
        assert not self.errors, self.errors
        assert self.flows >= flows

    def halt(self):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=10)


def stored_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def test_kill_9_under_load_loses_no_token_a_client_received(tmp_path):
    """Every token a client received verifies after a restart, every revocation that was answered holds,
    and the SQLite file passes its integrity and foreign-key checks."""
    port = testing.free_port()
    server = ServerProcess(tmp_path, write_config(str(tmp_path), "sqlite:///indieauth.db", port), port)
    server.launch().wait_until_answering()
    load = Load(server.base)
    try:
        load.wait_for(flows=30)
        server.kill()  # mid-load: the clients are in the middle of requests
        load.halt()
        server.launch().wait_until_answering()
        client = Client()
        assert {client.verify(t, server.base).status_code for t in load.live_access} == {200}
        assert {client.verify(t, server.base).status_code for t in load.revoked_access} == {401}
    finally:
        load.halt()
        server.stop()
    assert load.revoked_access and load.rotated_refresh
    with contextlib.closing(sqlite3.connect(os.path.join(str(tmp_path), "indieauth.db"))) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        revoked_at = dict(conn.execute("SELECT token_hash, revoked_at FROM token").fetchall())
    assert {revoked_at[stored_hash(t)] for t in load.live_refresh} == {None}
    assert None not in {revoked_at[stored_hash(t)] for t in load.rotated_refresh}


# ---------------------------------------------------------------------------------------------
#  Scale-out: two server processes on one PostgreSQL database, no sticky sessions
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """(A, B): base URLs of two `indieauth serve` processes sharing a database, secret key and
    signing key (one config, two ports); the users owner, victim and racer, all with PASSWORD."""
    if POSTGRES_URL is None:
        pytest.skip(NO_POSTGRES)
    folder = str(tmp_path_factory.mktemp("pair"))
    with own_postgres_database() as url:
        ports = (testing.free_port(), testing.free_port())
        config = write_config(folder, url, ports[0], "victim", "racer")
        servers = [ServerProcess(folder, config, port).launch() for port in ports]
        try:
            yield tuple(server.wait_until_answering().base for server in servers)
        finally:
            for server in servers:
                server.stop()


def test_a_code_issued_by_one_process_is_redeemed_at_the_other(pair):
    a, b = pair
    client = Client()
    assert client.sign_in(page_at=b, post_at=a).status_code == 303  # B's CSRF token, checked by A
    consent, verifier = client.authorize(at=b)
    code = client.approve(consent, page_at=a, post_at=b)
    answer = client.redeem(code, verifier, at=a)
    assert answer.status_code == 200
    assert client.verify(answer.json()["access_token"], at=b).json()["me"] == OWNER_ME
    replay = client.redeem(code, verifier, at=b)  # SEC1 holds across processes
    assert (replay.status_code, replay.json()["error"]) == (400, "invalid_grant")
    assert client.verify(answer.json()["access_token"], at=a).status_code == 401


def test_a_token_revoked_at_one_process_is_refused_by_the_other_at_once(pair):
    a, b = pair
    client = Client()
    client.sign_in(a, a)
    tokens = client.tokens(a)
    assert client.verify(tokens["access_token"], at=b).status_code == 200
    assert client.revoke(tokens["access_token"], at=a).status_code == 200
    assert client.verify(tokens["access_token"], at=b).status_code == 401
    assert client.revoke(tokens["refresh_token"], at=b).status_code == 200
    assert client.refresh(tokens["refresh_token"], at=a).json()["error"] == "invalid_grant"


def test_a_refresh_token_rotated_at_one_process_is_refused_at_the_other(pair):
    a, b = pair
    client = Client()
    client.sign_in(b, b)
    tokens = client.tokens(b)
    rotated = client.refresh(tokens["refresh_token"], at=a)
    assert rotated.status_code == 200
    reuse = client.refresh(tokens["refresh_token"], at=b)
    assert (reuse.status_code, reuse.json()["error"]) == (400, "invalid_grant")
    assert client.verify(rotated.json()["access_token"], at=a).status_code == 401  # the family is revoked


def test_access_tokens_of_one_process_verify_with_the_others_published_keys(pair):
    a, b = pair
    client = Client()
    client.sign_in(a, a)
    access = client.tokens(a)["access_token"]
    keys = jwt.PyJWKSet.from_dict(http().get(b + ".well-known/jwks.json", timeout=10).json())
    header = jwt.get_unverified_header(access)
    key = next(k for k in keys.keys if k.key_id == header["kid"])
    claims = jwt.decode(access, key.key, algorithms=[header["alg"]], audience=OWNER_ME)
    assert claims["sub"] == OWNER_ME and claims["iss"] == a


def test_failed_sign_ins_at_two_processes_count_against_one_limit(pair):
    """[security] account_failures = 4: two failures at each process pause the account at both."""
    a, b = pair
    for at in (a, b, a, b):
        assert Client().sign_in(at, at, "victim", "not the password").status_code == 400
    for at in (a, b):
        assert Client().sign_in(at, at, "victim", PASSWORD).status_code == 429


def test_racing_failed_sign_ins_at_two_processes_are_held_to_one_limit(pair):
    """16 wrong passwords at once, half at each process.  Each attempt is counted before its password is
    checked (a provisional failure the others see), so no more than account_failures (4) are checked
    before the rest are turned away, however they interleave.  Under load the race may end with fewer
    checked (attempts turned away count for nothing): the failures that follow, at either process, reach
    the one limit exactly."""
    a, b = pair
    statuses = race(16, lambda i, client: client.sign_in(*[a if i % 2 else b] * 2, "racer", "not the password")
                    .status_code, prepare=lambda i: Client())
    assert set(statuses) <= {400, 429}
    assert 1 <= statuses.count(400) <= 4, statuses
    checked = statuses.count(400)
    while checked <= 10:
        at = (a, b)[checked % 2]
        status = Client().sign_in(at, at, "racer", "not the password").status_code
        if status != 400:
            break
        checked += 1
    assert (status, checked) == (429, 4)
    for at in (a, b):
        assert Client().sign_in(at, at, "racer", PASSWORD).status_code == 429


# ---------------------------------------------------------------------------------------------
#  The database goes away: a TCP proxy in front of PostgreSQL, cut and restored
# ---------------------------------------------------------------------------------------------

class Proxy:
    """Forwards 127.0.0.1:`port` to `upstream`.  cut() closes the listening socket and every connection
    (an outage); restore() listens on the same port again; hang() accepts connections and never answers
    (a database host gone silent)."""

    def __init__(self, upstream):
        self.upstream, self.port, self.lock = upstream, None, threading.Lock()
        self.listener, self.sockets, self.silent = None, set(), False
        self.restore()

    def restore(self, silent=False):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port or 0))
        listener.listen(64)
        self.port, self.listener, self.silent = listener.getsockname()[1], listener, silent
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def hang(self):
        self.cut()
        self.restore(silent=True)

    def cut(self):
        with self.lock:
            listener, self.listener = self.listener, None
            doomed, self.sockets = self.sockets, set()
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() blocked on it
            listener.close()
        for sock in doomed:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            with self.lock:
                if listener is not self.listener:
                    client.close()
                    return
                self.sockets.add(client)
                if self.silent:
                    continue
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets.add(upstream)
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, a, b):
        other = {a: b, b: a}
        try:
            while True:
                for sock in select.select([a, b], [], [], 0.2)[0]:
                    data = sock.recv(65536)
                    if not data:
                        return
                    other[sock].sendall(data)
                with self.lock:
                    if a not in self.sockets:
                        return
        except (OSError, ValueError):  # closed by cut()
            return
        finally:
            for sock in (a, b):
                with self.lock:
                    self.sockets.discard(sock)
                sock.close()


@pytest.fixture(scope="module")
def outage_stack(tmp_path_factory):
    """A Stack whose PostgreSQL connections all go through a Proxy (`stack.proxy`)."""
    if POSTGRES_URL is None:
        pytest.skip(NO_POSTGRES)
    parts = urllib.parse.urlsplit(POSTGRES_URL)
    with own_postgres_database() as url:
        proxy = Proxy((parts.hostname, parts.port or 5432))
        try:
            stack = Stack(via(url, proxy.port), str(tmp_path_factory.mktemp("outage")), "postgresql")
            stack.proxy = proxy
            yield stack
            stack.app.storage.close()
        finally:
            proxy.cut()


@pytest.fixture(params=[False, True], ids=["connection-per-request", "connection-kept"])
def outage(outage_stack, request):
    """The outage stack, its app giving its connection back after each request, or keeping it from one
    request to the next as under `indieauth serve` (CONNECTION_RECHECK)."""
    outage_stack.app.keep_connections = request.param
    yield outage_stack.activate()
    outage_stack.proxy.cut()  # whatever the test did, the next one starts with the database back
    outage_stack.proxy.restore()
    outage_stack.app.keep_connections = False
    outage_stack.app.storage.close()


def assert_unavailable_json(response):
    assert response.status_int == 503
    assert response.content_type == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json["error"] == "temporarily_unavailable"
    assert "database" in response.json["error_description"]
    assert "Traceback" not in response.text and "psycopg2" not in response.text


def assert_unavailable_page(page):
    assert page.status_int == 503
    assert page.content_type == "text/html"
    assert "cannot reach its database" in page.text
    assert "Traceback" not in page.text and "psycopg2" not in page.text


def test_database_outage_is_a_json_temporarily_unavailable_and_heals_without_restart(outage):
    tokens = testing.redeem(outage.web, *code_for(outage.web))
    code, verifier = code_for(outage.web)
    api = browser(outage.app)
    outage.proxy.cut()
    assert_unavailable_json(api.post("/token", redemption(code, verifier), expect_errors=True))
    assert_unavailable_json(api.get("/token", headers={"Authorization": "Bearer " + tokens["access_token"]},
                                    expect_errors=True))
    assert_unavailable_json(api.post("/revoke", {"token": tokens["refresh_token"]}, expect_errors=True))
    outage.proxy.restore()
    assert verification_status(outage.app, tokens["access_token"]) == 200
    assert api.post("/token", redemption(code, verifier)).json["me"] == OWNER_ME


def test_database_outage_is_an_html_503_that_says_so_and_heals_without_restart(outage):
    outage.proxy.cut()
    assert_unavailable_page(outage.web.get("/", expect_errors=True))
    assert_unavailable_page(outage.web.get("/auth/consent/abc", expect_errors=True))
    assert_unavailable_page(browser(outage.app).get("/login", expect_errors=True))
    outage.proxy.restore()
    assert "Signed in as" in outage.web.get("/").text


def test_during_an_outage_what_needs_no_database_still_answers(outage):
    """The metadata document takes no connection, so discovery goes on; lookups are a 503."""
    outage.proxy.cut()
    api = browser(outage.app)
    assert api.get("/.well-known/oauth-authorization-server").json["issuer"] == outage.app.issuer
    assert_unavailable_json(api.get("/token", headers={"Authorization": "Bearer x"}, expect_errors=True))


@pytest.mark.parametrize("path", ["/tokens", "/tokens/new"])
def test_database_outage_on_the_token_pages_is_an_html_503(outage, path):
    outage.proxy.cut()
    assert_unavailable_page(outage.web.get(path, expect_errors=True))


def test_the_outage_page_is_the_site_page_with_its_request_id(outage):
    outage.proxy.cut()
    page = outage.web.get("/", headers={"X-Request-Id": "outage42"}, expect_errors=True)
    assert page.status_int == 503
    assert '<link rel="stylesheet" href="/static/style.css">' in page.text
    assert "outage42" in page.text


def test_a_connection_lost_in_the_middle_of_a_request_is_a_503_and_not_reused(outage):
    code, verifier = code_for(outage.web)
    outage.during.arm(outage.proxy.cut)  # the database goes between consuming the code and storing tokens
    assert_unavailable_json(outage.web.post("/token", redemption(code, verifier), expect_errors=True))
    outage.proxy.restore()
    tokens = testing.redeem(outage.web, *code_for(outage.web))  # this thread again, on a new connection
    assert verification_status(outage.app, tokens["access_token"]) == 200


def test_a_kept_connection_that_died_while_idle_is_replaced_before_the_next_request(outage):
    """Under `indieauth serve` a thread keeps its connection, but one idle for CONNECTION_RECHECK goes
    back to the pool, which checks it: a database restarted during a quiet spell costs no request."""
    tokens = testing.redeem(outage.web, *code_for(outage.web))
    outage.proxy.cut()  # every open connection dies, without a request noticing
    outage.proxy.restore()
    time.sleep(indieauth.CONNECTION_RECHECK + 0.2)
    assert verification_status(outage.app, tokens["access_token"]) == 200


def test_a_redemption_cut_off_by_an_outage_can_be_tried_again(outage):
    """The code is consumed only together with the tokens it buys, so a 503 leaves it usable."""
    code, verifier = code_for(outage.web)
    outage.during.arm(outage.proxy.cut)
    assert outage.web.post("/token", redemption(code, verifier), expect_errors=True).status_int == 503
    outage.proxy.restore()
    assert outage.web.post("/token", redemption(code, verifier), expect_errors=True).status_int == 200


def test_a_database_that_stops_answering_is_a_503_within_seconds(outage):
    """A silent database host (nothing refused, nothing answered) must not hang every request forever."""
    outage.proxy.hang()
    answers = []
    bearer = {"Authorization": "Bearer some-token"}  # to be looked up: without one, a 401 needs no database
    thread = threading.Thread(target=lambda: answers.append(browser(outage.app).get("/token", headers=bearer,
                                                                                    expect_errors=True)),
                              daemon=True)
    started = time.monotonic()
    thread.start()
    thread.join(timeout=8)
    took = time.monotonic() - started
    outage.proxy.cut()  # lets a hung request go, whatever happened
    thread.join(timeout=10)
    assert took < 8 and answers and answers[0].status_int == 503


# ---------------------------------------------------------------------------------------------
#  Abuse: huge, many, deeply nested and undecodable input is refused quickly, never a 500
# ---------------------------------------------------------------------------------------------

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture(scope="module")
def abuse_server(tmp_path_factory):
    """(app, base URL, a resource-server secret): an app on SQLite behind a real waitress server."""
    app = indieauth.make_test_app({"plugins": {"password": {}}}, folder=str(tmp_path_factory.mktemp("abuse")))
    prepare_database(app)
    with app.storage.database.connection_context():
        secret = app.storage.add_resource_server("rs")
    with testing.serving(app) as url:
        yield app, url, secret


@pytest.fixture
def served(abuse_server):
    app, url, secret = abuse_server
    return url, secret


def timed(send):
    started = time.monotonic()
    response = send()
    return response, time.monotonic() - started


def refused_quickly(response, took):
    """A client error (400; 413 or 431 where HTTP has a more exact one), answered within QUICKLY."""
    assert 400 <= response.status_code < 500 and response.status_code not in (401, 404), response.text[:300]
    assert took < QUICKLY
    assert "Traceback" not in response.text


HUGE = {
    "token-endpoint body of 2 MB": ("POST", "/token", {"data": {"grant_type": "authorization_code",
                                                                "code": "a" * 2_000_000}}),
    "raw body of 5 MB": ("POST", "/token", {"data": b"code=" + b"a" * 5_000_000, "headers": FORM}),
    "multipart file of 3 MB": ("POST", "/token", {"files": {"code": ("code.txt", b"a" * 3_000_000)}}),
    "client_id of 100 kB": ("GET", "/auth?client_id=" + "a" * 100_000, {}),
    "query of 300 kB": ("GET", "/auth?client_id=" + "a" * 300_000, {}),
    "bearer header of 300 kB": ("GET", "/userinfo", {"headers": {"Authorization": "Bearer " + "a" * 300_000}}),
    "pushed request of 90 kB": ("POST", "/par", {"data": {"client_id": "https://app.example/" + "a" * 90_000,
                                                          "redirect_uri": "https://app.example/", "state": "s"}}),
    "user name of 1 MB": ("POST", "/login/password", {"data": {"username": "a" * 1_000_000, "password": "x"}}),
}
MANY = {
    "10,000 form fields": ("POST", "/token", {"data": "&".join(f"f{i}=1" for i in range(10_000)), "headers": FORM}),
    "10,000 query parameters": ("GET", "/auth?" + "&".join(f"p{i}=1" for i in range(10_000)), {}),
    "client_id 5,000 times": ("GET", "/auth?" + "&".join(["client_id=https://app.example/"] * 5_000), {}),
    "code 5,000 times": ("POST", "/token", {"data": "&".join(["grant_type=authorization_code"] + ["code=x"] * 5_000),
                                            "headers": FORM}),
    "3,000 multipart parts": ("POST", "/token", {"files": {f"p{i}": ("", b"1") for i in range(3_000)}}),
}
DEEP = {
    "JSON nested 90,000 deep": ("POST", "/token", {"data": "[" * 90_000,
                                                   "headers": {"Content-Type": "application/json"}}),
    "JSON object nested 20,000 deep": ("POST", "/par", {"data": '{"a":' * 20_000 + "1" + "}" * 20_000,
                                                        "headers": {"Content-Type": "application/json"}}),
    "bracketed field name 20,000 deep": ("POST", "/token", {"data": "a" + "[b]" * 20_000 + "=1", "headers": FORM}),
    "bracketed parameter 20,000 deep": ("GET", "/auth?client_id" + "[x]" * 20_000 + "=1", {}),
}


@pytest.mark.parametrize("method, path, options", list(HUGE.values()), ids=list(HUGE))
def test_huge_parameters_are_refused_quickly(served, method, path, options):
    url, _ = served
    refused_quickly(*timed(lambda: http().request(method, url + path, timeout=10, **options)))


@pytest.mark.parametrize("method, path, options", list(MANY.values()), ids=list(MANY))
def test_many_parameters_are_refused_quickly(served, method, path, options):
    url, _ = served
    refused_quickly(*timed(lambda: http().request(method, url + path, timeout=10, **options)))


@pytest.mark.parametrize("method, path, options", list(DEEP.values()), ids=list(DEEP))
def test_deeply_nested_input_is_refused_quickly(served, method, path, options):
    url, _ = served
    refused_quickly(*timed(lambda: http().request(method, url + path, timeout=10, **options)))


def raw_request(url, head, body=b""):
    """Send bytes exactly as given (a browser library would fix them); (status, body text)."""
    parts = urllib.parse.urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(head + b"\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: "
                     + str(len(body)).encode() + b"\r\n\r\n" + body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, text = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), text.decode("utf-8", "replace")


UTF8 = {
    "authorization request, %-encoded": (b"GET /auth?client_id=%FF%FE&redirect_uri=%C3 HTTP/1.1", b""),
    "authorization request, raw bytes": (b"GET /auth?client_id=https://app.example/\xff HTTP/1.1", b""),
    "token request, %-encoded": (b"POST /token HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded",
                                 b"grant_type=authorization_code&code=%FF%FE"),
    "token request, raw bytes": (b"POST /token HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded",
                                 b"grant_type=authorization_code&code=\xff\xfe"),
    "field name": (b"POST /token HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded",
                   b"grant_type=authorization_code&%FF=1"),
    "profile redemption": (b"POST /auth HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded",
                           b"code=%C3%28&client_id=x&redirect_uri=y"),
    "pushed request": (b"POST /par HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded",
                       b"client_id=%ED%A0%80&redirect_uri=https://app.example/&state=s"),
    "revocation": (b"POST /revoke HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded", b"token=%F8%88%80"),
    "introspection": (b"POST /introspect HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                      b"Authorization: Bearer {secret}", b"token=%FF"),
    "Basic credentials": (b"POST /token HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                          b"Authorization: Basic /w==", b"grant_type=refresh_token"),
    "userinfo form": (b"POST /userinfo HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded",
                      b"access_token=%FF"),
}


@pytest.mark.parametrize("head, body", list(UTF8.values()), ids=list(UTF8))
def test_invalid_utf8_is_a_400(served, head, body):
    url, secret = served
    started = time.monotonic()
    status, text = raw_request(url, head.replace(b"{secret}", secret.encode()), body)
    assert status == 400, text[:300]
    assert time.monotonic() - started < QUICKLY
    assert "Traceback" not in text


def test_racing_failed_sign_ins_on_one_sqlite_server_are_held_to_the_limit(make_app):
    """The same race against one in-process waitress server on SQLite (8 threads): with the attempt
    counted before the password is checked, at most account_failures wrong passwords are checked."""
    app = make_app({"security": {"account_failures": 3, "address_failures": 100}})
    set_password(app, app.storage.create_user("racer", "https://racer.example/"), PASSWORD)
    with testing.serving(app) as base:
        base += "/"
        statuses = race(12, lambda i, client: client.sign_in(base, base, "racer", "not the password").status_code,
                        prepare=lambda i: Client())
        assert set(statuses) <= {400, 429} and statuses.count(400) <= 3, statuses
        assert Client().sign_in(base, base, "racer", PASSWORD).status_code == 429
    with app.storage.bound():
        assert indieauth.Failure.select().where(indieauth.Failure.key == "account:racer").count() == statuses.count(400)
