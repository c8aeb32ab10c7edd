"""The command line and a real server process, end to end: subprocesses in tmp_path, real HTTP.

Every command runs as a person would run it: `python -m indieauth …` or the installed `indieauth`
script, in a folder of its own.  Servers are `indieauth serve` processes on a free port of
127.0.0.1, polled until they answer and always killed in teardown.
"""

import argparse
import os
import re
import shlex
import shutil
import socket
import sqlite3
import stat
import subprocess
import sys
import time
import types
import urllib.parse

import pytest
import requests
from bs4 import BeautifulSoup

import indieauth

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORE_FILE = os.path.join(ROOT, "indieauth.py")
SAMPLE_CONFIG = os.path.join(ROOT, "plugins.toml")
SCRIPT = shutil.which("indieauth", path=os.path.dirname(sys.executable)) or shutil.which("indieauth")
PASSWORD = "correct horse battery staple"
LINK = re.compile(r"http://127\.0\.0\.1:\d+/login/once/[A-Za-z0-9_-]+")
START_DEADLINE = 20  # seconds a server gets to answer its first request


# ---------------------------------------------------------------------------------------------
#  Helpers
# ---------------------------------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(**extra):
    """This process's environment without anything that would point indieauth elsewhere."""
    env = {k: v for k, v in os.environ.items() if k not in ("INDIEAUTH_CONFIG", "GATEWAY_INTERFACE")}
    env.update(extra)
    return env


def command(*args, script=False):
    return ([SCRIPT] if script else [sys.executable, "-m", "indieauth"]) + [str(a) for a in args]


def run(cwd, *args, stdin="", script=False, timeout=30, env=None):
    """Run `indieauth ARGS` in `cwd` and return the CompletedProcess (text, both streams captured)."""
    return subprocess.run(command(*args, script=script), cwd=cwd, input=stdin, capture_output=True,
                          text=True, env=clean_env(**(env or {})), timeout=timeout)


def assert_usage_error(result, *phrases):
    """Exit code 2, a plain `indieauth: error:` message on stderr naming `phrases`, no traceback."""
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert "indieauth: error:" in result.stderr, result.stderr
    for phrase in phrases:
        assert phrase in result.stderr, (phrase, result.stderr)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def query(database, sql, *params):
    with sqlite3.connect(database) as conn:
        return conn.execute(sql, params).fetchall()


def http():
    """A requests.Session that keeps cookies and never goes through a proxy."""
    session = requests.Session()
    session.trust_env = False
    return session


def form_fields(html, action):
    """The form posting to `action` and its named inputs with their values."""
    form = BeautifulSoup(html, "html.parser").find("form", action=action)
    assert form is not None, f"no form with action={action!r} in:\n{html}"
    return {i["name"]: i.get("value", "") for i in form.find_all("input") if i.get("name")}


def sign_in(session, base, username="owner", password=PASSWORD):
    """Fill in the password form on /login as a person would; returns the response, not followed."""
    fields = form_fields(session.get(base + "login", timeout=10).text, "/login/password")
    fields.update(username=username, password=password)
    return session.post(base + "login/password", data=fields, allow_redirects=False, timeout=10)


def signed_in_as(html):
    """The user name in the page header's "Signed in as NAME", or None when nobody is signed in."""
    who = BeautifulSoup(html, "html.parser").select_one("header .who")
    if who is None:
        return None
    text = " ".join(who.get_text().split())
    assert text.startswith("Signed in as "), text
    return text[len("Signed in as "):]


def hint_command(stdout, prefix):
    """The command line a printed hint ("Set a password with: indieauth … passwd") tells to run."""
    line = next((line for line in stdout.splitlines() if line.startswith(prefix)), None)
    assert line is not None, stdout
    argv = shlex.split(line[len(prefix):])
    if argv[0] == "indieauth":
        argv[0] = SCRIPT
    return argv


def location_path(response):
    return urllib.parse.urlsplit(response.headers["Location"]).path


class Server:
    """An `indieauth serve` process whose output goes to files (a full pipe can never block it)."""

    def __init__(self, cwd, port, args, config=None, script=False):
        self.cwd, self.port = cwd, port
        self.base = f"http://127.0.0.1:{port}/"
        self.out_path, self.err_path = os.path.join(cwd, "serve.out"), os.path.join(cwd, "serve.err")
        with open(self.out_path, "w") as out, open(self.err_path, "w") as err:
            argv = command(*(["--config", config] if config else []), "serve", *args, script=script)
            self.process = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                            env=clean_env())

    def output(self):
        with open(self.out_path) as out, open(self.err_path) as err:
            return out.read(), err.read()

    def wait_until_answering(self):
        """Poll GET / until the server answers; fail with its output if it exits or never answers."""
        deadline = time.monotonic() + START_DEADLINE
        while True:
            if self.process.poll() is not None:
                pytest.fail("indieauth serve exited with %s:\n%s\n%s"
                            % ((self.process.returncode,) + self.output()))
            try:
                http().get(self.base, timeout=1)
                return
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    pytest.fail("indieauth serve did not answer within %ss:\n%s\n%s"
                                % ((START_DEADLINE,) + self.output()))
                time.sleep(0.05)  # between polls only; the loop waits for an answer, not for time

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


@pytest.fixture
def serve():
    """Start `indieauth [--config C] serve ARGS` in a folder, expected on `port`; all killed afterwards."""
    started = []

    def start(cwd, port, *args, config=None, script=False):
        server = Server(str(cwd), port, args, config=config, script=script)
        started.append(server)
        server.wait_until_answering()
        return server

    yield start
    for server in started:
        server.stop()


class Setup:
    """A folder where `indieauth init` has run: its config, database and the init output."""

    def __init__(self, folder, script=False):
        self.folder = str(folder)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}/"
        self.config = os.path.join(self.folder, "indieauth.toml")
        self.database = os.path.join(self.folder, "indieauth.db")
        self.init = run(self.folder, "--config", self.config, "init", "--me", "https://example.com",
                        "--base-url", self.base, script=script)
        assert self.init.returncode == 0, (self.init.stdout, self.init.stderr)

    def run(self, *args, **kw):
        return run(self.folder, "--config", self.config, *args, **kw)


@pytest.fixture(scope="module")
def init_once(tmp_path_factory):
    """One `init` (through the installed script) shared by the tests that only look at its results."""
    return Setup(tmp_path_factory.mktemp("init"), script=True)


@pytest.fixture
def setup(tmp_path):
    """A fresh `init` in this test's own folder."""
    return Setup(tmp_path)


@pytest.fixture
def running(setup, serve):
    """init → passwd → serve --port P: a server the owner can sign in to with PASSWORD."""
    result = setup.run("passwd", stdin=PASSWORD + "\n")
    assert result.returncode == 0, (result.stdout, result.stderr)
    serve(setup.folder, setup.port, "--port", setup.port, config=setup.config)
    return setup


# ---------------------------------------------------------------------------------------------
#  init
# ---------------------------------------------------------------------------------------------

def test_init_writes_a_config_that_loads(init_once):
    config = indieauth.Config.load(init_once.config)
    assert config["server"]["base_url"] == init_once.base
    assert config.enabled_plugins() == ["password"]


def test_init_creates_secret_key_files_readable_by_owner_only(init_once):
    for name in ("secret.key", "signing-key.pem"):
        path = os.path.join(init_once.folder, name)
        assert os.path.getsize(path) > 0, name
        assert mode(path) == 0o600, (name, oct(mode(path)))


def test_init_creates_migrated_database_with_owner(init_once):
    assert query(init_once.database, "SELECT MAX(version) FROM schemaversion") == [(indieauth.SCHEMA_VERSION,)]
    assert query(init_once.database, "SELECT username, me, role FROM user") == [
        ("owner", "https://example.com/", "owner")]


def test_init_prints_one_time_sign_in_link_on_base_url(init_once):
    links = LINK.findall(init_once.init.stdout)
    assert len(links) == 1, init_once.init.stdout
    assert links[0].startswith(init_once.base + "login/once/")


def test_init_hint_sets_the_password(tmp_path):
    result = run(tmp_path, "--config", "my.toml", "init", "--me", "https://example.com",
                 "--base-url", "http://127.0.0.1:1/")
    assert result.returncode == 0, result.stderr
    hint = hint_command(result.stdout, "Set a password with: ")
    assert "my.toml" in hint
    assert subprocess.run(hint, cwd=tmp_path, input=PASSWORD + "\n", capture_output=True, text=True,
                          env=clean_env(), timeout=30).returncode == 0
    assert query(str(tmp_path / "indieauth.db"), "SELECT method FROM credential") == [("password",)]


def test_init_that_fails_leaves_no_config_behind(tmp_path):
    assert run(tmp_path, "--config", "a.toml", "init", "--me", "https://a.example",
               "--base-url", "http://127.0.0.1:1/").returncode == 0
    result = run(tmp_path, "--config", "b.toml", "init", "--me", "https://b.example",
                 "--base-url", "http://127.0.0.1:1/")
    assert_usage_error(result, "already in use")
    assert not (tmp_path / "b.toml").exists()


def test_init_again_refuses_and_keeps_the_config(setup):
    before = open(setup.config).read()
    result = setup.run("init", "--me", "https://other.example", "--base-url", "http://127.0.0.1:1/")
    assert_usage_error(result, setup.config, "exists already")
    assert open(setup.config).read() == before


# ---------------------------------------------------------------------------------------------
#  passwd
# ---------------------------------------------------------------------------------------------

def test_passwd_refuses_password_shorter_than_ten_characters(setup):
    result = setup.run("passwd", stdin="x" * 9 + "\n")
    assert_usage_error(result, "at least 10 characters")
    assert query(setup.database, "SELECT COUNT(*) FROM credential") == [(0,)]


def test_passwd_accepts_password_of_ten_characters(setup):
    result = setup.run("passwd", stdin="x" * 10 + "\n")
    assert result.returncode == 0, result.stderr
    assert "password set for owner" in result.stdout
    assert query(setup.database, "SELECT method FROM credential") == [("password",)]


@pytest.mark.parametrize("args", [["passwd"], ["totp", "enroll"], ["passkeys", "list"], ["user", "link"],
                                  ["token", "issue", "--client-id", "https://app.example/", "--scope", "profile"],
                                  ["pin", "set"]])
def test_a_command_naming_a_user_who_is_not_there_says_so_and_exits_1(user_commands, args):
    """user_or_owner: the core's, the first-party plugins' and a third party's (tests/plugins/pin.py, as
    README's example) commands say "no user named", never a traceback."""
    result = user_commands(*args, "--user", "nobody", stdin=PASSWORD + "\n")
    assert (result.returncode, result.stdout, result.stderr) == (1, "", "indieauth: error: no user named 'nobody'\n")


@pytest.fixture
def user_commands(setup):
    """`indieauth ARGS` in an init'ed folder with the totp and passkeys plugins enabled, and the test plugin
    pin (tests/plugins/pin.py) given to the app as a third party's would be."""
    text = open(setup.config).read().replace("http://127.0.0.1:", "http://localhost:")  # passkeys need a name
    open(setup.config, "w").write(text + "\n[plugins.totp]\n[plugins.passkeys]\n")
    plugins = os.path.join(ROOT, "tests", "plugins")
    script = ("import sys, indieauth, pin; sys.exit(indieauth.main(sys.argv[1:], app_factory=lambda config, **kw: "
              "indieauth.IndieAuth(config, plugins=[pin], **kw)))")

    def run_with_pin(*args, stdin=""):
        return subprocess.run([sys.executable, "-c", script, "--config", setup.config, *map(str, args)],
                              cwd=setup.folder, input=stdin, capture_output=True, text=True, timeout=30,
                              env=clean_env(PYTHONPATH=plugins))
    return run_with_pin


def test_passwd_with_missing_config_says_the_config_is_missing(tmp_path):
    result = run(tmp_path, "--config", "missing.toml", "passwd", stdin=PASSWORD + "\n")
    assert_usage_error(result, "missing.toml", "not found")


# ---------------------------------------------------------------------------------------------
#  Signing in over HTTP (init → passwd → serve)
# ---------------------------------------------------------------------------------------------

def test_password_sign_in_redirects_home_signed_in(running):
    session = http()
    response = sign_in(session, running.base)
    assert response.status_code == 303, response.text
    assert location_path(response) == "/"
    assert signed_in_as(session.get(running.base, timeout=10).text) == "owner"


def test_wrong_password_gets_400_and_says_so(running):
    session = http()
    response = sign_in(session, running.base, password="not the password")
    assert response.status_code == 400
    error = BeautifulSoup(response.text, "html.parser").select_one("#password-error")
    assert error is not None and "not right" in error.get_text()
    assert signed_in_as(session.get(running.base, timeout=10).text) is None


def test_logout_signs_out(running):
    session = http()
    assert sign_in(session, running.base).status_code == 303
    fields = form_fields(session.get(running.base, timeout=10).text, "/logout")
    response = session.post(running.base + "logout", data={"csrf_token": fields["csrf_token"]},
                            allow_redirects=False, timeout=10)
    assert response.status_code == 303
    assert location_path(response) == "/"
    assert signed_in_as(session.get(running.base, timeout=10).text) is None


def test_logout_ends_the_session_on_the_server(running):
    session = http()
    assert sign_in(session, running.base).status_code == 303
    replay = http()
    replay.cookies.set("indieauth_session", session.cookies.get("indieauth_session"))
    assert signed_in_as(replay.get(running.base, timeout=10).text) == "owner"
    fields = form_fields(session.get(running.base, timeout=10).text, "/logout")
    session.post(running.base + "logout", data=fields, allow_redirects=False, timeout=10)
    assert signed_in_as(replay.get(running.base, timeout=10).text) is None


def test_log_shows_login_event_after_sign_in(running):
    assert sign_in(http(), running.base).status_code == 303
    result = running.run("log")
    assert result.returncode == 0, result.stderr
    rows = [line.split()[2:4] for line in result.stdout.splitlines()]
    assert ["login", "owner"] in rows, result.stdout


# ---------------------------------------------------------------------------------------------
#  First run: `indieauth serve` in a folder that has only a config, or nothing at all
# ---------------------------------------------------------------------------------------------

@pytest.fixture
def first_run(tmp_path, serve):
    """The repository's sample plugins.toml, moved to a free port, served with the bare `indieauth serve`."""
    port = free_port()
    text = open(SAMPLE_CONFIG).read()
    text, ports = re.subn(r"(?m)^port = 8080$", f"port = {port}", text)
    text, urls = re.subn(r"127\.0\.0\.1:8080/", f"127.0.0.1:{port}/", text)
    assert ports == 1 and urls == 1, "the sample config changed: update this fixture"
    (tmp_path / "plugins.toml").write_text(text)
    return serve(tmp_path, port, script=True)


def first_run_link(server):
    out, err = server.output()
    assert "Sign in once" in out, (out, err)
    links = LINK.findall(out)
    assert len(links) == 1, out
    return links[0]


def test_first_run_creates_secret_files_and_database(first_run):
    for name in ("secret.key", "signing-key.pem"):
        assert mode(os.path.join(first_run.cwd, name)) == 0o600, name
    database = os.path.join(first_run.cwd, "indieauth.db")
    assert query(database, "SELECT MAX(version) FROM schemaversion") == [(indieauth.SCHEMA_VERSION,)]
    assert query(database, "SELECT username, me, role FROM user") == [("owner", first_run.base, "owner")]


def test_first_run_link_shows_a_form_and_signs_the_owner_in(first_run):
    link = first_run_link(first_run)
    assert link.startswith(first_run.base + "login/once/")
    session = http()
    page = session.get(link, timeout=10)
    assert page.status_code == 200
    fields = form_fields(page.text, urllib.parse.urlsplit(link).path)
    response = session.post(link, data=fields, allow_redirects=False, timeout=10)
    assert response.status_code == 303, response.text
    assert signed_in_as(session.get(first_run.base, timeout=10).text) == "owner"


def test_first_run_link_works_only_once(first_run):
    link = first_run_link(first_run)
    session = http()
    fields = form_fields(session.get(link, timeout=10).text, urllib.parse.urlsplit(link).path)
    assert session.post(link, data=fields, allow_redirects=False, timeout=10).status_code == 303
    again = session.post(link, data=fields, allow_redirects=False, timeout=10)
    assert again.status_code == 400
    assert "not valid any more" in again.text


def test_first_run_hint_sets_a_password_that_signs_in(first_run):
    hint = hint_command(first_run.output()[0], "then set a password with: ")
    result = subprocess.run(hint, cwd=first_run.cwd, input=PASSWORD + "\n", capture_output=True,
                            text=True, env=clean_env(), timeout=30)
    assert result.returncode == 0, result.stderr
    assert sign_in(http(), first_run.base).status_code == 303


def test_serve_without_config_writes_one_for_its_port(tmp_path, serve):
    port = free_port()
    server = serve(tmp_path, port, "--port", port)
    out, err = server.output()
    assert "No configuration found: wrote plugins.toml" in out, (out, err)
    config = indieauth.Config.load(str(tmp_path / "plugins.toml"))
    assert config["server"]["base_url"] == server.base
    assert LINK.findall(out) and LINK.findall(out)[0].startswith(server.base)


def test_serve_without_config_writes_the_port_it_serves_on(tmp_path, serve):
    port = free_port()
    serve(tmp_path, port, "--port", port)
    assert indieauth.Config.load(str(tmp_path / "plugins.toml"))["server"]["port"] == port


# ---------------------------------------------------------------------------------------------
#  Misuse: exit code 2 and a message, never a traceback
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, phrases", [
    (["frobnicate"], ["invalid choice", "frobnicate"]),
    (["init", "--me", "https://example.com"], ["required", "--base-url"]),
    (["init", "--me", "mailto:me@example.com", "--base-url", "http://127.0.0.1:1/"], ["--me", "http"]),
    (["--config", "missing.toml", "user", "list"], ["missing.toml", "not found", "indieauth init"]),
    (["--config", "missing.toml", "serve", "--port", "abc"], ["--port", "abc"]),
], ids=["unknown-command", "missing-required-option", "bad-me", "missing-config", "bad-port"])
def test_misuse_exits_2_with_a_message(tmp_path, args, phrases):
    assert_usage_error(run(tmp_path, *args), *phrases)


def test_serve_on_a_busy_port_exits_2_with_a_message(setup):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = setup.run("serve", "--port", port, timeout=20)
    assert_usage_error(result, str(port))


def test_user_add_without_me_exits_2(setup):
    assert_usage_error(setup.run("user", "add", "bob"), "required", "--me")


CONFIG_MISTAKES = {
    "unknown-key": ("[server]\nprot = 1\n", ["bad.toml", "[server]", "prot"]),
    "wrong-type": ('[server]\nport = "x"\n', ["bad.toml", "[server]", "port", "whole number"]),
    "unknown-table": ("[nosuch]\nx = 1\n", ["bad.toml", "[nosuch]", "unknown table"]),
    "unknown-plugin": (f'[server]\nsecret_key = "{"k" * 40}"\n[plugins.nosuch]\n',
                       ["bad.toml", "[plugins.nosuch]", "installed", "password"]),
    "invalid-toml": ("[server\nport = 1\n", ["bad.toml", "not valid TOML"]),
}


@pytest.mark.parametrize("mistake", CONFIG_MISTAKES)
@pytest.mark.parametrize("cmd", ["user list", "serve"])
def test_config_mistake_exits_2_naming_file_table_and_key(tmp_path, cmd, mistake):
    text, phrases = CONFIG_MISTAKES[mistake]
    (tmp_path / "bad.toml").write_text(text)
    args = cmd.split() + (["--port", free_port()] if cmd == "serve" else [])
    assert_usage_error(run(tmp_path, "--config", "bad.toml", *args, timeout=20), *phrases)


# ---------------------------------------------------------------------------------------------
#  plugins
# ---------------------------------------------------------------------------------------------

def plugin_row(stdout, name):
    rows = [line.split(None, 3) for line in stdout.splitlines()]
    return next((row for row in rows if row and row[0] == name), None)


def test_plugins_lists_password_enabled_with_version_and_hooks(init_once):
    result = init_once.run("plugins")
    assert result.returncode == 0, result.stderr
    row = plugin_row(result.stdout, "password")
    assert row is not None, result.stdout
    assert row[1] == indieauth.installed_plugins()["password"].dist.version
    assert row[2] == "enabled"
    assert {"configure", "register_authenticators", "register_routes", "register_commands"} <= {
        hook.strip() for hook in row[3].split(",")}


def test_plugins_says_disabled_when_enabled_is_false(tmp_path):
    (tmp_path / "plugins.toml").write_text("[plugins.password]\nenabled = false\n")
    result = run(tmp_path, "plugins")
    assert result.returncode == 0, result.stderr
    assert plugin_row(result.stdout, "password")[2] == "disabled"


# ---------------------------------------------------------------------------------------------
#  Schema versions and migrate
# ---------------------------------------------------------------------------------------------

@pytest.fixture
def behind(setup):
    """An init'ed folder whose database claims schema version 0 (as if made by an older release)."""
    with sqlite3.connect(setup.database) as conn:
        conn.execute("DELETE FROM schemaversion")
    return setup


def test_serve_refuses_database_behind_schema(behind):
    result = behind.run("serve", "--port", free_port(), timeout=20)
    assert_usage_error(result, "schema version 0", "indieauth migrate")


def test_user_add_refuses_database_behind_schema(behind):
    result = behind.run("user", "add", "bob", "--me", "https://bob.example")
    assert_usage_error(result, "indieauth migrate")
    assert query(behind.database, "SELECT username FROM user") == [("owner",)]


def test_migrate_brings_database_up_to_date(behind):
    result = behind.run("migrate")
    assert result.returncode == 0, result.stderr
    every = ", ".join(str(v) for v, _ in indieauth.MIGRATIONS)
    assert f"applied migrations {every}" in result.stdout
    assert query(behind.database, "SELECT MAX(version) FROM schemaversion") == [(indieauth.SCHEMA_VERSION,)]
    assert behind.run("user", "add", "bob", "--me", "https://bob.example").returncode == 0


def test_migrate_upgrades_a_schema_6_database_to_requested_scope(setup):
    """A database of the release before issue 18 (schema 6) gains authcode and token requested_scope."""
    with sqlite3.connect(setup.database) as conn:
        for table in ("authcode", "token"):
            conn.execute(f"ALTER TABLE {table} DROP COLUMN requested_scope")
        conn.execute("DELETE FROM schemaversion WHERE version >= 7")
    assert "schema version 6" in setup.run("user", "list").stderr
    result = setup.run("migrate")
    assert result.returncode == 0, result.stderr
    assert "applied migrations 7" in result.stdout
    for table in ("authcode", "token"):
        assert ("requested_scope",) in query(setup.database, f"SELECT name FROM pragma_table_info('{table}')")


def test_purge_deletes_expired_rows_and_prints_the_counts(setup):
    """`indieauth purge`: a used one-time link (init's own, once redeemed) goes; the counts are printed."""
    query(setup.database, "UPDATE loginlink SET used_at = created_at")
    result = setup.run("purge")
    assert result.returncode == 0, result.stderr
    counts = dict(line.split() for line in result.stdout.splitlines())
    assert counts["loginlink"] == "1" and counts["authrequest"] == "0" and "event" in counts
    assert query(setup.database, "SELECT COUNT(*) FROM loginlink") == [(0,)]


def test_migrate_on_current_database_changes_nothing(setup):
    result = setup.run("migrate")
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout


# ---------------------------------------------------------------------------------------------
#  --version, however indieauth is started
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("start", [
    [sys.executable, CORE_FILE],
    [sys.executable, "-m", "indieauth"],
    [SCRIPT],
], ids=["python-indieauth.py", "python-m-indieauth", "script"])
def test_version_works_however_started(tmp_path, start):
    result = subprocess.run(start + ["--version"], cwd=tmp_path, capture_output=True, text=True,
                            env=clean_env(), timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"indieauth {indieauth.__version__}"


# ---------------------------------------------------------------------------------------------
#  CGI: python indieauth.py under a web server's CGI
# ---------------------------------------------------------------------------------------------

def cgi_process(setup, path, method="GET"):
    """Run indieauth.py as a CGI script for one request; the CompletedProcess (bytes)."""
    env = clean_env(GATEWAY_INTERFACE="CGI/1.1", REQUEST_METHOD=method, PATH_INFO=path, QUERY_STRING="",
                    SERVER_NAME="127.0.0.1", SERVER_PORT=str(setup.port), SERVER_PROTOCOL="HTTP/1.1",
                    REMOTE_ADDR="127.0.0.1", SCRIPT_NAME="", INDIEAUTH_CONFIG=setup.config)
    result = subprocess.run([sys.executable, CORE_FILE], cwd=setup.folder, input=b"", capture_output=True,
                            env=env, timeout=30)
    assert result.returncode == 0, result.stderr.decode()
    return result


def cgi(setup, path, method="GET"):
    """Run indieauth.py as a CGI script for one request; returns (headers, body) as text."""
    head, _, body = cgi_process(setup, path, method).stdout.decode("utf-8").partition("\r\n\r\n")
    return head, body


def test_cgi_login_page_is_200_with_the_password_form(init_once):
    head, body = cgi(init_once, "/login")
    assert head.startswith("Status: 200"), head
    assert "Content-Type: text/html" in head
    fields = form_fields(body, "/login/password")
    assert {"csrf_token", "next", "username", "password"} <= set(fields)


def test_cgi_with_broken_config_is_503_without_details(tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text("[server]\nprot = 1\n")
    head, body = cgi(types.SimpleNamespace(folder=str(tmp_path), config=str(broken), port=80), "/login")
    assert head.startswith("Status: 503"), head
    assert "prot" not in body and "broken.toml" not in body


@pytest.mark.parametrize("path", ["/login", "/.well-known/oauth-authorization-server"])
def test_cgi_request_that_goes_well_writes_nothing_to_the_error_log(init_once, path):
    """Under CGI stderr is the web server's error log: no access line, no development-mode warning (init_once
    serves on 127.0.0.1, which is development mode)."""
    result = cgi_process(init_once, path)
    assert result.stdout.startswith(b"Status: 200"), result.stdout[:200]
    assert result.stderr == b""


def test_cgi_with_log_level_debug_still_writes_the_access_line(tmp_path):
    setup = Setup(tmp_path)
    text = open(setup.config).read()
    assert text.count("[server]\n") == 1, text
    open(setup.config, "w").write(text.replace("[server]\n", '[server]\nlog_level = "debug"\n'))
    assert b"GET /login 200" in cgi_process(setup, "/login").stderr


def test_cgi_unknown_path_is_404_error_page(init_once):
    head, body = cgi(init_once, "/nope")
    assert head.startswith("Status: 404"), head
    assert "Content-Type: text/html" in head
    assert BeautifulSoup(body, "html.parser").h1.get_text() == "Not found"


# ---------------------------------------------------------------------------------------------
#  user add / list
# ---------------------------------------------------------------------------------------------

def test_user_add_prints_one_time_link(setup):
    result = setup.run("user", "add", "bob", "--me", "https://bob.example")
    assert result.returncode == 0, result.stderr
    links = LINK.findall(result.stdout)
    assert len(links) == 1 and links[0].startswith(setup.base + "login/once/"), result.stdout


def test_user_add_refuses_a_taken_username(setup):
    result = setup.run("user", "add", "owner", "--me", "https://someone.example")
    assert_usage_error(result, "owner", "exists already")


def test_user_list_shows_every_user(setup):
    assert setup.run("user", "add", "bob", "--me", "https://bob.example").returncode == 0
    result = setup.run("user", "list", script=True)
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()]
    assert rows == [["owner", "owner", "active", "https://example.com/"],
                    ["bob", "user", "active", "https://bob.example/"]]


@pytest.mark.parametrize("me, words", [("https://example.com:8443/", ["port"]), ("https://172.28.92.51/", ["domain name"]),
                                       ("https://example.com/a/../b", ["'..'"])])
def test_init_refuses_a_profile_url_the_spec_forbids(tmp_path, me, words):  # S5
    result = run(tmp_path, "--config", "x.toml", "init", "--me", me, "--base-url", "https://auth.example/")
    assert_usage_error(result, "--me", *words)
    assert not (tmp_path / "x.toml").exists()


def test_init_accepts_a_loopback_profile_only_for_a_loopback_server(tmp_path):  # S6
    ok = run(tmp_path, "--config", "a.toml", "init", "--me", "http://127.0.0.1:8080/", "--base-url", "http://127.0.0.1:8080/")
    assert ok.returncode == 0, ok.stderr
    (tmp_path / "b").mkdir()
    refused = run(tmp_path / "b", "--config", "b.toml", "init", "--me", "http://127.0.0.1:8080/",
                  "--base-url", "https://auth.example/")
    assert_usage_error(refused, "--me")


# ---------------------------------------------------------------------------------------------
#  The development-mode warning: once, when serve starts
# ---------------------------------------------------------------------------------------------

DEVELOPMENT_MODE = "development mode"


def test_commands_other_than_serve_do_not_warn_of_development_mode(setup):
    for args in (["user", "list"], ["token", "list"], ["plugins"]):
        result = setup.run(*args)
        assert result.returncode == 0, result.stderr
        assert DEVELOPMENT_MODE not in result.stderr, (args, result.stderr)


def test_serve_warns_of_development_mode_once_when_it_starts(setup, serve):
    server = serve(setup.folder, setup.port, "--port", setup.port, config=setup.config)
    for _ in range(3):
        assert http().get(server.base + "login", timeout=10).status_code == 200
    out, err = server.output()
    assert (out + err).count(DEVELOPMENT_MODE) == 1, (out, err)


# ---------------------------------------------------------------------------------------------
#  Help: every command, the plugins' too, and every option explained
# ---------------------------------------------------------------------------------------------

# The first-party plugins that add commands, with settings enough to enable them.
COMMAND_PLUGINS = {"password": {}, "totp": {}, "passkeys": {}, "hosting": {}}


def subcommands(parser, path=()):
    """(path, parser) for every command, nested ones included (`user add`)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield path + (name,), sub
                yield from subcommands(sub, path + (name,))


def test_every_option_of_every_command_has_help(tmp_path):
    app = indieauth.make_test_app({"plugins": COMMAND_PLUGINS}, folder=str(tmp_path))
    parser = indieauth.build_parser(app)
    missing = [" ".join(path) + " " + (action.option_strings or [action.dest])[0]
               for path, sub in [((), parser), *subcommands(parser)] for action in sub._actions
               if not isinstance(action, argparse._SubParsersAction) and not action.help]
    assert missing == []


def test_every_installed_plugin_that_adds_commands_is_walked_for_help():
    declared = {plugin for plugin, _ in indieauth.declared_commands().values()}
    assert declared == set(COMMAND_PLUGINS)


@pytest.mark.parametrize("plugin", sorted(COMMAND_PLUGINS))
def test_a_plugin_declares_exactly_the_commands_it_adds(tmp_path, plugin):
    """COMMANDS, which `--help` reads without enabling the plugin, says what register_commands adds."""
    core = {path for path, _ in subcommands(indieauth.build_parser(disabled=False))}
    app = indieauth.make_test_app({"plugins": {plugin: {}}}, folder=str(tmp_path))
    added = {" ".join(path) for path, _ in subcommands(indieauth.build_parser(app, disabled=False))
             if path not in core and path[:-1] in core | {()}}
    declared = {" ".join(filter(None, path)) for path, (owner, _) in indieauth.declared_commands().items()
                if owner == plugin}
    assert added == declared


def words(text):
    """`text` with every run of white space made one space: help output as argparse wraps it."""
    return " ".join(text.split())


WIDE = {"COLUMNS": "1000"}  # argparse wraps help at the terminal's width, and long paths at their hyphens


def test_help_lists_the_commands_of_plugins_that_are_not_enabled_and_their_table(setup):
    result = setup.run("--help", env=WIDE)
    assert result.returncode == 0, result.stderr
    help_text = words(result.stdout)
    assert f"totp codes from an authenticator app (TOTP) (enable with [plugins.totp] in {setup.config})" in help_text
    assert f"passkeys a user's passkeys: list, rename, remove (enable with [plugins.passkeys] in {setup.config})" \
        in help_text
    assert "passwd set a user's password (read from stdin) init" not in help_text  # listed where it belongs:
    assert re.search(r"passwd set a user's password \(read from stdin\) (?!\(enable)", help_text), help_text


def test_help_of_a_group_lists_a_plugin_command_that_is_not_enabled(setup):
    result = setup.run("user", "--help", env=WIDE)
    assert result.returncode == 0, result.stderr
    assert f"invite print a single-use sign-up link (enable with [plugins.hosting] in {setup.config})" \
        in words(result.stdout)


@pytest.mark.parametrize("args, plugin", [(["totp", "enroll", "--user", "owner"], "totp"),
                                          (["passkeys", "list"], "passkeys"),
                                          (["user", "invite", "--role", "admin"], "hosting")])
def test_a_command_of_a_plugin_that_is_not_enabled_says_which_table_enables_it(setup, args, plugin):
    result = setup.run(*args)
    assert_usage_error(result, f"comes with the {plugin} plugin, which is not enabled",
                       f"(enable with [plugins.{plugin}] in {setup.config})")
    assert "invalid choice" not in result.stderr


def test_a_plugin_turned_off_with_enabled_false_is_listed_as_not_enabled(tmp_path):
    setup = Setup(tmp_path)
    with open(setup.config, "a") as f:
        f.write("\n[plugins.totp]\nenabled = false\n")
    assert_usage_error(setup.run("totp", "enroll"), "which is not enabled", "[plugins.totp]")
    assert "(enable with [plugins.totp]" in words(setup.run("--help", env=WIDE).stdout)


def test_an_unknown_command_is_still_an_invalid_choice(setup):
    assert_usage_error(setup.run("frobnicate"), "invalid choice", "frobnicate")


def test_user_invite_without_the_hosting_plugin_installed_says_how_to_install_it(monkeypatch):
    """`user invite` was the core's: where its plugin is not even installed, it still says where it went."""
    installed = indieauth.installed_plugins()
    monkeypatch.setattr(indieauth, "installed_plugins", lambda: {k: v for k, v in installed.items() if k != "hosting"})
    args = indieauth.build_parser(config="my.toml").parse_args(["user", "invite", "--role", "admin"])
    with pytest.raises(indieauth.UsageError) as refused:
        args.handler(None, args)
    assert str(refused.value).endswith("hosting plugin, which is not installed (pip install indieauth-hosting (or "
                                       "plugins/indieauth-hosting from the source), then enable with "
                                       "[plugins.hosting] in my.toml)")


# ---------------------------------------------------------------------------------------------
#  client add | list | secret | remove, as a script would run them
# ---------------------------------------------------------------------------------------------

def test_a_script_registers_lists_rotates_and_removes_an_app(setup):
    import json
    added = setup.run("client", "add", "Quill", "--redirect-uri", "https://quill.example/cb", "--json")
    assert added.returncode == 0, added.stderr
    app = json.loads(added.stdout)
    assert app["client_id"].startswith(setup.base + "clients/") and len(app["client_secret"]) >= 40
    listed = setup.run("client", "list", "--json")
    assert [c["client_id"] for c in json.loads(listed.stdout)] == [app["client_id"]]
    assert app["client_secret"] not in listed.stdout
    rotated = setup.run("client", "secret", app["client_id"])
    assert rotated.returncode == 0 and rotated.stdout.strip() not in ("", app["client_secret"])
    assert query(setup.database, "SELECT secret_hash FROM client") == [(indieauth.token_hash(rotated.stdout.strip()),)]
    removed = setup.run("client", "remove", app["client_id"])
    assert removed.returncode == 0 and removed.stdout.startswith("removed Quill")
    assert query(setup.database, "SELECT COUNT(*) FROM client") == [(0,)]
    assert setup.run("client", "remove", app["client_id"]).returncode == 1
