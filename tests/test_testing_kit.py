"""The test kit (indieauth.testing, a pytest plugin): its fixtures work as documented."""

import os
import smtplib
import urllib.parse
import sys
from email.message import EmailMessage

import pytest
import requests

import indieauth
import indieauth_testing


def test_indieauth_testing_is_the_kit_and_a_server_does_not_import_it():
    assert indieauth.testing is indieauth_testing
    from indieauth import testing
    assert testing.serving is indieauth_testing.serving
    with pytest.raises(AttributeError):
        indieauth.no_such_thing  # noqa: B018


def test_importing_the_core_does_not_import_the_kit():
    import subprocess
    code = "import sys, indieauth; print('indieauth_testing' in sys.modules, 'webtest' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_importing_the_kit_imports_nothing_heavy():
    import subprocess
    code = ("import sys, indieauth_testing; "
            "print([m for m in ('playwright', 'aiosmtpd', 'webtest') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_make_web_builds_an_app_with_overrides_and_plugins(make_web):
    class Extra:
        @indieauth.hookimpl
        def configure(self, app):
            app.configured_by_extra = True

    web = make_web({"server": {"base_url": "https://auth.example/"}}, plugins=[Extra()])
    assert isinstance(web.app, indieauth.IndieAuth) and web.app.configured_by_extra
    metadata = web.get("/.well-known/oauth-authorization-server").json
    assert metadata["issuer"] == "https://auth.example/"
    assert web.get("/").request.environ["REMOTE_ADDR"] == "192.0.2.10"


def test_the_fake_server_serves_its_routes_and_records_the_requests(fake_http):
    fake_http.route("/user", {"login": "ann"})
    fake_http.route("/page", (201, {"X-Test": "yes"}, "<p>hi</p>"), method="POST")
    fake_http.route("/api/*", lambda request: (200, {}, {"asked": request.path, "q": request.query}))
    assert requests.get(fake_http.url + "/user", timeout=5).json() == {"login": "ann"}
    posted = requests.post(fake_http.url + "/page", data={"a": "1"}, timeout=5)
    assert (posted.status_code, posted.headers["X-Test"], posted.text) == (201, "yes", "<p>hi</p>")
    assert posted.headers["Content-Type"] == "text/html; charset=utf-8"
    assert requests.get(fake_http.url + "/api/x/y?z=1", timeout=5).json() == {"asked": "/api/x/y", "q": {"z": "1"}}
    assert requests.get(fake_http.url + "/page", timeout=5).status_code == 404  # routed for POST only
    assert [(r.method, r.target) for r in fake_http.requests] == [
        ("GET", "/user"), ("POST", "/page"), ("GET", "/api/x/y?z=1"), ("GET", "/page")]
    assert fake_http.requests[1].form() == {"a": "1"}


def test_the_fake_server_can_hang_up(fake_http):
    fake_http.route("/", indieauth_testing.HANG_UP)
    with pytest.raises(requests.ConnectionError):
        requests.get(fake_http.url + "/", timeout=5)


def test_the_smtp_fake_receives_a_real_message(smtp_fake):
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@example.com", "b@example.com", "Hello"
    message.set_content("The body.")
    with smtplib.SMTP(smtp_fake.host, smtp_fake.port, timeout=5) as smtp:
        smtp.send_message(message)
    received = smtp_fake.received()[0]
    assert received["rcpt_tos"] == ["b@example.com"] and received["mail_from"] == "a@example.com"
    assert received["message"]["Subject"] == "Hello"
    assert received["message"].get_content().strip() == "The body."
    assert received["tls"] is False


def test_the_smtp_fake_says_when_nothing_came(smtp_fake):
    with pytest.raises(AssertionError, match="expected 1 message"):
        smtp_fake.received(timeout=0.1)


def test_the_page_fixture_loads_a_page_from_a_served_app(page, screenshot, make_web):
    app = make_web({"plugins": {"password": {}}}).app
    with indieauth_testing.serving(app) as url:
        page.goto(url + "/login")
        assert page.locator("form#password-login").count() == 1
        assert page.get_by_role("textbox", name="Password").is_visible()
        path = screenshot("kit-login")
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


SERVER_URLS = os.environ.get("INDIEAUTH_TEST_DATABASE_URLS", "").split()


@pytest.fixture
def fresh_database_urls(monkeypatch):
    """testing.database_urls() asked anew (it remembers its answer per process), as under `worker`."""
    def ask(worker, urls):
        monkeypatch.setenv("INDIEAUTH_TEST_DATABASE_URLS", " ".join(urls))
        if worker:
            monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        else:
            monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
        indieauth_testing.database_urls.cache_clear()
        return indieauth_testing.database_urls()
    yield ask
    indieauth_testing.database_urls.cache_clear()


def test_database_urls_run_serially_are_the_configured_ones(fresh_database_urls):
    urls = ["postgresql://postgres@127.0.0.1:1/test", "mysql://root@127.0.0.1:1/test"]
    assert fresh_database_urls(None, urls) == tuple(urls)  # nothing to make: no connection either


@pytest.mark.skipif(not SERVER_URLS and not os.environ.get("CI"), reason="no INDIEAUTH_TEST_DATABASE_URLS")
def test_database_urls_give_each_xdist_worker_a_database_of_its_own(fresh_database_urls):
    """Two workers get two databases on each server, made on first use: one emptying its tables leaves
    the other's alone."""
    if not SERVER_URLS:  # only under CI: a skip would hide what CI is there to show
        pytest.fail("CI must test on the servers: no INDIEAUTH_TEST_DATABASE_URLS (.ci/run sets it)")
    worker = "kit" + os.urandom(3).hex()
    first = fresh_database_urls(worker + "a", SERVER_URLS)
    second = fresh_database_urls(worker + "b", SERVER_URLS)
    try:
        for configured, mine, theirs in zip(SERVER_URLS, first, second):
            assert mine == f"{configured}_{worker}a"  # .../test becomes .../test_gw0
            assert theirs == f"{configured}_{worker}b"
            for url in (mine, theirs):
                database = indieauth.open_database(url)
                with database.connection_context():
                    database.execute_sql("CREATE TABLE mark (x INTEGER)")
                    assert database.get_tables() == ["mark"]
                getattr(database, "close_all", database.close)()
            assert fresh_database_urls(worker + "a", SERVER_URLS) == first  # made once: asked again, the same
    finally:
        for configured, mine, theirs in zip(SERVER_URLS, first, second):
            drop_database(configured, mine)
            drop_database(configured, theirs)


def drop_database(configured, url):
    """Drop the database of `url`, connected as `configured` says (another database on that server)."""
    name = urllib.parse.urlsplit(url).path.lstrip("/")
    if configured.startswith("mysql:"):
        import pymysql
        parts = urllib.parse.urlsplit(configured)
        admin = pymysql.connect(host=parts.hostname, port=parts.port or 3306, user=parts.username,
                                password=parts.password or "", autocommit=True)
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
    else:
        import psycopg2
        admin = psycopg2.connect(configured)
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def test_make_test_app_copies_one_database_migrated_once_per_process(tmp_path, monkeypatch):
    """Apps start from a copy of a database migrated once (migrating takes most of a test app's start):
    each copy is the schema a migration from nothing makes, owner-only (0600) as open_database makes files."""
    calls = []
    counted = [(version, lambda migrator, run=run, version=version: (calls.append(version), run(migrator)))
               for version, run in indieauth.MIGRATIONS]
    monkeypatch.setattr(indieauth, "MIGRATIONS", counted)
    monkeypatch.setattr(indieauth, "_migrated_sqlite", [], raising=False)
    apps = [indieauth.make_test_app(folder=str(tmp_path / name)) for name in "abc"]
    assert calls == [version for version, _ in counted]  # once, for all three apps
    reference = indieauth.open_database("sqlite:///reference.db", str(tmp_path))
    indieauth.Storage(reference).migrate()

    def schema(database):
        with database.connection_context():
            return {table: [(c.name, c.data_type, c.null) for c in database.get_columns(table)]
                    for table in database.get_tables()}
    for name, app in zip("abc", apps):
        assert schema(app.storage.database) == schema(reference)
        assert os.stat(tmp_path / name / "test.db").st_mode & 0o777 == 0o600
        app.close()
    reference.close_all()
