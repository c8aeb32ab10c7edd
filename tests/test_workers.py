"""`indieauth serve --workers N` (issue 17): worker processes on one port, a worker killed with kill -9
replaced with nothing lost, SIGHUP reloading the configuration and plugins without dropping a request,
SIGTERM letting the requests in flight finish; throttling and one-time codes held across workers on
SQLite and, when INDIEAUTH_TEST_DATABASE_URLS names them, PostgreSQL and MariaDB.

Every server here is a real `indieauth serve` process on 127.0.0.1 with the test plugin
tests/plugins/probe.py (which process answered; a request that takes its time).  Its workers are
found in the process table (Linux /proc), never through a header of the server's own.
"""

import contextlib
import datetime
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.parse

import pytest
import requests

import indieauth
from conftest import PASSWORD
from indieauth import testing
from test_plugins import install_unloadable_plugin
from test_reliability import (NO_POSTGRES, POSTGRES_URL, RACERS, START_DEADLINE, Client, Load, ServerProcess, http,
                              own_postgres_database, race, write_config)

NO_FORK = "needs fork() and /proc to find the workers"
if (not os.path.isdir("/proc") or not hasattr(os, "fork")) and os.environ.get("CI"):
    raise RuntimeError(f"CI runs on Linux: {NO_FORK}")  # a skip would hide what CI is there to show
pytestmark = pytest.mark.skipif(not os.path.isdir("/proc") or not hasattr(os, "fork"), reason=NO_FORK)

MARIADB_URL = next((url for url in testing.database_urls()  # this xdist worker's own
                    if url.startswith("mysql:")), None)
NO_MARIADB = "no mysql:// URL in INDIEAUTH_TEST_DATABASE_URLS"
if MARIADB_URL is None and os.environ.get("CI"):  # a skip would hide what CI is there to show
    raise RuntimeError(f"CI must test on MariaDB: {NO_MARIADB} (.ci/run sets it)")
PLUGINS = os.path.join(os.path.dirname(__file__), "plugins")
# `indieauth serve` with the probe plugin registered besides the configured ones
LAUNCH = (f"import sys; sys.path.insert(0, {PLUGINS!r}); import indieauth, probe; "
          "sys.exit(indieauth.main(app_factory=lambda config, **kw: indieauth.IndieAuth(config, plugins=[probe], **kw)))")


def wait_for(what, check, deadline=START_DEADLINE):
    """check()'s first true value, polled until `deadline` seconds have passed."""
    give_up = time.monotonic() + deadline
    while not (value := check()):
        if time.monotonic() > give_up:
            pytest.fail(f"not within {deadline}s: {what}")
        time.sleep(0.05)
    return value


def fresh_get(url, headers=(), **options):
    """A GET on a connection of its own (never one kept alive by an earlier request)."""
    with http() as session:
        return session.get(url, timeout=30, headers={"Connection": "close", **dict(headers)}, **options)


class Served(ServerProcess):
    """`indieauth serve --workers N` with the probe plugin, as a process of its own."""

    def __init__(self, folder, database, workers, *users):
        port = testing.free_port()
        super().__init__(folder, write_config(str(folder), database, port, *users), port)
        self.workers = workers

    def launch(self):
        env = {k: v for k, v in os.environ.items() if k not in ("INDIEAUTH_CONFIG", "GATEWAY_INTERFACE")}
        with open(self.log_path, "a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-c", LAUNCH, "--config", self.config, "serve", "--port", str(self.port),
                 "--workers", str(self.workers)], cwd=self.folder, stdout=log, stderr=log,
                stdin=subprocess.DEVNULL, env=env)
        return self

    @property
    def log_path(self):
        return os.path.join(self.folder, f"serve-{self.port}.log")

    def log(self):
        with open(self.log_path) as log:
            return log.read()

    def serving_pids(self):
        """The processes that answer: the workers, or the server itself when it has none."""
        if self.workers == 1:
            return {self.process.pid}
        return children_of(self.process.pid)

    def ready(self):
        """Wait until the server answers with all its workers; their pids."""
        self.wait_until_answering()
        return wait_for(f"{self.workers} workers ready", lambda: len(self.serving_pids()) == self.workers and all(
            f"process {pid} ready" in self.log() for pid in self.serving_pids()) and self.serving_pids())

    def signal(self, signum):
        os.kill(self.process.pid, signum)

    def edit_config(self, text):
        with open(self.config, "a", encoding="utf-8") as f:
            f.write(text)


def children_of(pid):
    """The pids of `pid`'s living children, from the process table."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rpartition(")")[2].split()
                if fields[0] != "Z" and int(fields[1]) == pid:
                    found.add(int(entry))
    return found


@contextlib.contextmanager
def serving(folder, workers, database="sqlite:///indieauth.db", *users):
    server = Served(folder, database, workers, *users).launch()
    try:
        server.ready()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    with serving(tmp_path_factory.mktemp("two-workers"), 2) as server:
        yield server


@contextlib.contextmanager
def own_mariadb_database():
    """A new, empty database on MARIADB_URL's server, dropped afterwards; yields its URL."""
    import pymysql
    parts = urllib.parse.urlsplit(MARIADB_URL)
    name = "indieauth_workers_" + os.urandom(6).hex()
    admin = pymysql.connect(host=parts.hostname, port=parts.port or 3306, user=parts.username,
                            password=parts.password or "", autocommit=True)
    try:
        with admin.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        yield urllib.parse.urlunsplit(parts._replace(path="/" + name))
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(not POSTGRES_URL, reason=NO_POSTGRES)),
                        pytest.param("mysql", marks=pytest.mark.skipif(not MARIADB_URL, reason=NO_MARIADB))])
def database(request):
    """A database URL of the test's own: SQLite (WAL), PostgreSQL or MariaDB."""
    own = {"sqlite": lambda: contextlib.nullcontext("sqlite:///indieauth.db"),
           "postgresql": own_postgres_database, "mysql": own_mariadb_database}[request.param]
    with own() as url:
        yield url


# ---------------------------------------------------------------------------------------------
#  Worker processes on one port
# ---------------------------------------------------------------------------------------------

def test_each_of_two_workers_answers_on_the_one_port(two_workers):
    """Each worker, the other stopped (SIGSTOP), answers alone: both accept on the socket the master bound."""
    workers = two_workers.serving_pids()
    assert len(workers) == 2 and two_workers.process.pid not in workers
    for worker in workers:
        others = workers - {worker}
        for other in others:
            os.kill(other, signal.SIGSTOP)
        try:
            answers = {int(fresh_get(two_workers.base + "plugins/probe/pid").text) for _ in range(3)}
        finally:
            for other in others:
                os.kill(other, signal.SIGCONT)
        assert answers == {worker}


def test_one_code_raced_at_two_workers_is_redeemed_once(tmp_path, database):
    with serving(tmp_path, 2, database) as server:
        raced_code(server.base)


def raced_code(base):
    client = Client()
    assert client.sign_in(base, base).status_code == 303
    consent, verifier = client.authorize(base)
    code = client.approve(consent, base, base)
    answers = race(RACERS, lambda i, racer: racer.redeem(code, verifier, base), prepare=lambda i: Client())
    assert sorted(answer.status_code for answer in answers) == [200] + [400] * (RACERS - 1)
    assert {answer.json()["error"] for answer in answers if answer.status_code == 400} == {"invalid_grant"}


def test_a_token_revoked_at_one_worker_is_refused_by_every_worker(tmp_path, database):
    with serving(tmp_path, 2, database) as server:
        base = server.base
        client = Client()
        client.sign_in(base, base)
        tokens = client.tokens(base)
        verify = lambda: fresh_get(base + "token", headers={"Authorization": "Bearer " + tokens["access_token"]})
        assert {verify().status_code for _ in range(10)} == {200}  # both workers now keep it verified
        assert client.revoke(tokens["access_token"], base).status_code == 200
        assert {verify().status_code for _ in range(10)} == {401}


def test_racing_failed_sign_ins_at_two_workers_are_held_to_one_limit(tmp_path, database):
    """16 wrong passwords at once at a server with two workers ([security] account_failures = 4): each
    attempt is counted in the database before its password is checked, so no more than 4 are checked;
    and those checked count against the one limit, which the next failures, at either worker, reach
    exactly (the attempts turned away count for nothing)."""
    with serving(tmp_path, 2, database, "racer") as server:
        base = server.base
        statuses = race(16, lambda i, client: client.sign_in(base, base, "racer", "not the password").status_code,
                        prepare=lambda i: Client())
        assert set(statuses) <= {400, 429} and 1 <= statuses.count(400) <= 4, statuses
        checked = statuses.count(400)
        while checked <= 10 and (status := Client().sign_in(base, base, "racer", "not the password").status_code) == 400:
            checked += 1
        assert (status, checked) == (429, 4)
        assert Client().sign_in(base, base, "racer", PASSWORD).status_code == 429


def test_a_worker_killed_with_kill_9_is_replaced_and_nothing_is_lost(tmp_path, database):
    """Under load, one of two workers is killed: the other answers at once, a new worker takes the dead
    one's place, every token a client received still verifies and every revocation answered holds."""
    with serving(tmp_path, 2, database) as server:
        victim, survivor = sorted(server.serving_pids())
        load = Load(server.base)
        try:
            load.wait_for(flows=20)
            os.kill(victim, signal.SIGKILL)
            assert {fresh_get(server.base).status_code for _ in range(10)} == {200}
            replaced = wait_for("a new worker", lambda: len(server.serving_pids() - {victim, survivor}) == 1)
        finally:
            load.halt()  # its clients cut off by the kill stopped with an error: their last request's fate is unknown
        assert replaced and survivor in server.serving_pids()
        assert f"worker {victim} was killed by signal 9" in server.log()
        client = Client()
        assert {client.verify(token, server.base).status_code for token in load.live_access} == {200}
        assert {client.verify(token, server.base).status_code for token in load.revoked_access} == {401}
        assert {client.refresh(token, server.base).status_code for token in load.rotated_refresh} == {400}
        again = Load(server.base)  # whole flows go on, on the new worker as on the old
        try:
            again.wait_for(flows=10)
        finally:
            again.halt()
    assert load.live_access and load.revoked_access


def test_purges_at_once_from_two_workers_and_the_command_keep_everything_live(tmp_path, database):
    """Rows expired two days ago are deleted while two workers serve whole flows (each purges now and
    then as it stores requests and sessions) and three `indieauth purge` run at once: each old row goes,
    no purge fails, and every token the clients hold still verifies, every revocation still holds."""
    with serving(tmp_path, 2, database) as server:
        config = indieauth.Config.load(server.config)
        storage = indieauth.Storage(indieauth.open_database(config["server"]["database"], config.folder),
                                    clock=lambda: indieauth.utcnow() - datetime.timedelta(days=3))
        owner = storage.get_user(username="owner")
        old = [storage.create_code(60, user=owner, me=owner.me, client_id="https://app.example/",
                                   redirect_uri="https://app.example/cb") for _ in range(20)]
        old_tokens = [storage.create_token("access", owner, owner.me, "https://app.example/", "create", 60,
                                           f"old{n}")[0] for n in range(20)]
        storage.close_all()
        load = Load(server.base)
        try:
            load.wait_for(flows=5)
            purges = [subprocess.Popen([sys.executable, "-m", "indieauth", "--config", server.config, "purge"],
                                       cwd=server.folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                      for _ in range(3)]
            outputs = [(purge.wait(60), purge.stdout.read()) for purge in purges]
            load.wait_for(flows=5)
        finally:
            load.halt()
        assert [status for status, _ in outputs] == [0, 0, 0], outputs
        assert all(any(line.split()[0] == "token" for line in text.splitlines()) for _, text in outputs), outputs
        assert all(storage.find_code(code) is None for code in old)
        assert not any(storage.find_token(token) for token in old_tokens)
        storage.close_all()
        client = Client()
        assert {client.verify(token, server.base).status_code for token in load.live_access} == {200}
        assert {client.verify(token, server.base).status_code for token in load.revoked_access} == {401}
    assert load.live_access


def test_a_worker_that_cannot_start_is_tried_again_later_not_at_once(tmp_path):
    """A worker that dies at start (here: a configuration broken after the server started) is replaced
    after a growing delay, so it cannot make the master spin; the other worker serves on."""
    with serving(tmp_path, 2) as server:
        victim = min(server.serving_pids())
        server.edit_config("\nbroken = [\n")
        os.kill(victim, signal.SIGKILL)
        wait_for("two failed starts", lambda: server.log().count("cannot start") >= 2)
        log = server.log()
        assert log.index("another starts in 1s") < log.index("another starts in 2s")
        assert fresh_get(server.base).status_code == 200


# ---------------------------------------------------------------------------------------------
#  SIGHUP: reload;  SIGTERM: finish what is in flight
# ---------------------------------------------------------------------------------------------

class Hammer:
    """Clients sending GET / without a pause, each on a connection it keeps; every answer that is not a
    200 (or a request that failed) is kept."""

    def __init__(self, base, clients=2):
        self.base, self.stop, self.answered, self.wrong = base, threading.Event(), 0, []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(clients)]
        for thread in self.threads:
            thread.start()

    def run(self):
        session = http()
        while not self.stop.is_set():
            try:
                status = session.get(self.base, timeout=30).status_code
            except requests.RequestException as exc:
                status = exc
            with self.lock:
                self.answered += 1
                if status != 200:
                    self.wrong.append(status)

    def halt(self):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)


@pytest.mark.parametrize("workers", [1, 2])
def test_sighup_enables_a_new_plugin_without_dropping_a_request(tmp_path, workers):
    with serving(tmp_path, workers) as server:
        assert fresh_get(server.base + "admin/users", allow_redirects=False).status_code == 404
        hammer = Hammer(server.base)
        try:
            wait_for("requests answered", lambda: hammer.answered >= 20)
            server.edit_config("\n[plugins.hosting]\n")
            server.signal(signal.SIGHUP)
            wait_for("every worker reloaded", lambda: server.log().count("reloaded the configuration") == workers)
            answered = hammer.answered
            wait_for("requests answered after the reload", lambda: hammer.answered >= answered + 20)
        finally:
            hammer.halt()
        assert hammer.wrong == []
        # the hosting plugin's Users page (sign-in first) now answers, whichever worker is asked
        assert {fresh_get(server.base + "admin/users", allow_redirects=False).status_code for _ in range(10)} == {303}


@pytest.mark.parametrize("workers", [1, 2])
def test_sighup_with_a_broken_configuration_keeps_the_old_one_serving(tmp_path, workers):
    with serving(tmp_path, workers) as server:
        before = server.serving_pids()
        server.edit_config("\n[plugins.hosting]\nbroken = [\n")
        server.signal(signal.SIGHUP)
        wait_for("the error logged by every worker", lambda: server.log().count("reload failed") == workers)
        assert "not valid TOML" in server.log()
        assert {fresh_get(server.base).status_code for _ in range(10)} == {200}
        assert fresh_get(server.base + "admin/users", allow_redirects=False).status_code == 404
        assert server.serving_pids() == before


def test_sighup_after_a_plugin_install_logs_one_line_that_says_restart(tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.setenv("PYTHONPATH", str(site))  # on the server's path from its start, empty until the "install"
    with serving(tmp_path, 1) as server:
        install_unloadable_plugin(site)
        server.edit_config("\n[plugins.ghost]\n")
        server.signal(signal.SIGHUP)
        wait_for("the reload's error logged", lambda: "reload failed" in server.log())
        [line] = [line for line in server.log().splitlines() if "reload failed" in line]
        assert "No module named 'indieauth_ghost_missing'" in line and "restart" in line
        assert "Traceback" not in server.log()
        assert {fresh_get(server.base).status_code for _ in range(5)} == {200}


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_lets_a_request_in_flight_finish(tmp_path, workers):
    with serving(tmp_path, workers) as server:
        mark, answers = tmp_path / "in-flight", []
        slow = threading.Thread(target=lambda: answers.append(fresh_get(
            server.base + "plugins/probe/slow", params={"seconds": "2", "mark": str(mark)})))
        slow.start()
        wait_for("the slow request in flight", mark.exists)
        server.signal(signal.SIGTERM)
        slow.join(timeout=30)
        assert [(answer.status_code, answer.text) for answer in answers] == [(200, "done")]
        assert server.process.wait(timeout=indieauth.DRAIN_GRACE + 10) == 0
        assert "finishing the requests in flight" in server.log()


def test_more_than_one_worker_is_refused_where_processes_cannot_fork(tmp_path, monkeypatch, capsys):
    config = write_config(str(tmp_path), "sqlite:///indieauth.db", testing.free_port())
    monkeypatch.delattr(os, "fork")  # Windows
    assert indieauth.main(["--config", config, "serve", "--workers", "2"]) == 2
    assert "cannot fork worker processes" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5"])
def test_workers_option_takes_a_whole_number_from_1_or_auto(tmp_path, capsys, value):
    assert indieauth.main(["--config", str(tmp_path / "none.toml"), "serve", "--workers", value]) == 2
    assert 'expected a whole number from 1, or "auto"' in capsys.readouterr().err


def test_workers_auto_is_one_per_core():
    assert indieauth.worker_count("auto") == len(os.sched_getaffinity(0))
    assert indieauth.worker_count(3) == 3
