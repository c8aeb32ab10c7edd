"""Operations (issue 21): failures at start-up and while issuing lose nothing; the WSGI entry answers a
clean 503 while its database or signing key is missing and recovers by itself; backups and upgrades."""

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import urllib.parse

import jwt
import pytest
import webtest

import fixed_clients
import indieauth
from conftest import PASSWORD, free_port, sign_in
from test_protocol import CLIENT, get_code, redeem
from test_storage import DATABASE_URLS, backend_name, drop_all_tables, migrated_database


@pytest.fixture(params=DATABASE_URLS, ids=backend_name)
def app(request, make_app, tmp_path):
    """The app on each database: the rollback is the database's."""
    with migrated_database(request.param, str(tmp_path)):
        yield make_app({"server": {"database": request.param}}, plugins=[fixed_clients])


@pytest.fixture
def key_file(app):
    return app.config.resolve_path(app.config["tokens"]["signing_key"]["file"])


def test_a_code_survives_a_failure_to_sign_its_token_and_works_once_the_key_is_back(web, owner, key_file):
    sign_in(web)
    code, verifier, _ = get_code(web)
    os.rename(key_file, key_file + ".away")  # issuing fails after the code is claimed
    failed = redeem(web, code, verifier, status=503)
    assert failed.json["error"] == "temporarily_unavailable"
    assert failed.headers["Retry-After"] == "60"
    assert "not set up correctly" in failed.json["error_description"]  # not a database outage
    os.rename(key_file + ".away", key_file)
    body = redeem(web, code, verifier).json
    assert body["access_token"] and body["refresh_token"]
    redeem(web, code, verifier, status=400)  # and it is still single use


def test_a_refresh_token_survives_a_failure_to_sign_and_works_once_the_key_is_back(web, owner, key_file):
    sign_in(web)
    code, verifier, _ = get_code(web)
    refresh = redeem(web, code, verifier).json["refresh_token"]
    form = {"grant_type": "refresh_token", "refresh_token": refresh, "client_id": CLIENT}
    os.rename(key_file, key_file + ".away")
    web.post("/token", form, status=503)
    os.rename(key_file + ".away", key_file)
    assert web.post("/token", form).json["access_token"]
    assert web.post("/token", form, status=400).json["error"] == "invalid_grant"  # rotated, once


# ---------------------------------------------------------------------------------------------
#  The WSGI entry (Passenger, CGI) while its database or its signing key is missing
# ---------------------------------------------------------------------------------------------

WSGI_REQUESTS = """
import json, sys, wsgiref.util
import indieauth

def call(path, **extra):
    environ = {}
    wsgiref.util.setup_testing_defaults(environ)
    environ.update(PATH_INFO=path, **extra)
    answer = {}
    def start_response(status, headers, exc_info=None):
        answer.update(status=status, headers=dict(headers))
    body = b"".join(indieauth.application(environ, start_response)).decode()
    return {"status": answer["status"], "type": answer["headers"].get("Content-Type", ""), "body": body,
            "retry_after": answer["headers"].get("Retry-After")}

config, broken, fixed = sys.argv[1:4]
answers = [call("/login"), call("/token", HTTP_AUTHORIZATION="Bearer x"), call("/login")]
text = open(config).read()
open(config, "w").write(text.replace(broken, fixed))  # the database (or key) is back
answers += [call("/login"), call("/token", HTTP_AUTHORIZATION="Bearer x")]
print(json.dumps(answers))
"""


def site_config(folder, database, signing_key="signing-key.pem"):
    config = folder / "plugins.toml"
    config.write_text(f'[server]\nbase_url = "http://localhost/"\nsecret_key = "{"s" * 40}"\n'
                      f'database = "{database}"\n\n[tokens]\nsigning_key = {{ file = "{signing_key}" }}\n\n'
                      '[plugins.password]\n', encoding="utf-8")
    indieauth.ensure_secret_files(indieauth.Config.load(str(config)))
    return config


def wsgi_requests(config, broken, fixed, **env):
    """Five requests to a fresh interpreter's indieauth.application: three while `broken` is in the
    configuration, two after it is replaced by `fixed`; (answers, stderr)."""
    environ = {k: v for k, v in os.environ.items() if k != "GATEWAY_INTERFACE"}
    environ.update(INDIEAUTH_CONFIG=str(config), **env)
    result = subprocess.run([sys.executable, "-c", WSGI_REQUESTS, str(config), broken, fixed], env=environ,
                            cwd=str(config.parent), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout), result.stderr


def assert_unavailable_then_recovered(answers, stderr, reason):
    page, api, again, recovered, api_after = answers
    assert page["status"].startswith("503") and page["type"].startswith("text/html")
    assert "Temporarily unavailable" in page["body"] and reason not in page["body"]
    assert api["status"].startswith("503") and api["type"] == "application/json"
    assert page["retry_after"] == api["retry_after"] == "60"
    assert json.loads(api["body"])["error"] == "temporarily_unavailable"
    assert again["status"].startswith("503")
    assert recovered["status"] == "200 OK" and 'autocomplete="current-password"' in recovered["body"]
    assert api_after["status"].startswith("401")  # the app itself answers now
    assert "Traceback" not in stderr
    reasons = [line for line in stderr.splitlines() if "cannot start" in line]
    assert len(reasons) == 3 and all(reason in line for line in reasons), stderr


@pytest.mark.parametrize("gateway", [None, "CGI/1.1"], ids=["passenger", "cgi"])
def test_the_wsgi_entry_answers_503_while_a_sqlite_folder_is_missing_and_recovers(tmp_path, gateway):
    config = site_config(tmp_path, "sqlite:///missing/indieauth.db")
    indieauth.Storage(indieauth.open_database("sqlite:///indieauth.db", str(tmp_path))).migrate()
    answers, stderr = wsgi_requests(config, "missing/indieauth.db", "indieauth.db",
                                    **({"GATEWAY_INTERFACE": gateway} if gateway else {}))
    assert_unavailable_then_recovered(answers, stderr, "the database cannot be used")


@pytest.mark.parametrize("url", [u for u in DATABASE_URLS if not u.startswith("sqlite")], ids=backend_name)
def test_the_wsgi_entry_answers_503_while_the_database_server_is_down_and_recovers(tmp_path, url):
    down = url.replace(urllib.parse.urlsplit(url).netloc.rpartition("@")[2], f"127.0.0.1:{closed_port()}")
    config = site_config(tmp_path, down)
    with migrated_database(url, str(tmp_path)):
        answers, stderr = wsgi_requests(config, down, url)
    assert_unavailable_then_recovered(answers, stderr, "the database cannot be used")


@pytest.mark.parametrize("gateway", [None, "CGI/1.1"], ids=["passenger", "cgi"])
def test_the_wsgi_entry_answers_503_while_the_signing_key_is_missing_and_recovers(tmp_path, gateway):
    config = site_config(tmp_path, "sqlite:///indieauth.db", signing_key="keys/signing-key.pem")
    indieauth.Storage(indieauth.open_database("sqlite:///indieauth.db", str(tmp_path))).migrate()
    os.rename(tmp_path / "keys", tmp_path / "keys-away")
    answers, stderr = wsgi_requests(config, "keys/", "keys-away/",
                                    **({"GATEWAY_INTERFACE": gateway} if gateway else {}))
    assert_unavailable_then_recovered(answers, stderr, "signing_key")


def test_under_cgi_a_file_that_is_no_key_is_a_503_at_start_up_too(tmp_path):
    """CGI reads the key's text only (loading it at every request's process start would cost each request)."""
    config = site_config(tmp_path, "sqlite:///indieauth.db", signing_key="keys/signing-key.pem")
    indieauth.Storage(indieauth.open_database("sqlite:///indieauth.db", str(tmp_path))).migrate()
    os.rename(tmp_path / "keys", tmp_path / "keys-good")
    os.mkdir(tmp_path / "keys")
    (tmp_path / "keys" / "signing-key.pem").write_text("this is not a key\n")
    answers, stderr = wsgi_requests(config, "keys/", "keys-good/", GATEWAY_INTERFACE="CGI/1.1")
    assert_unavailable_then_recovered(answers, stderr, "not a PEM private key")


def indieauth_command(config, *args, timeout=30):
    """`indieauth --config CONFIG ARGS…` in a fresh interpreter; the CompletedProcess (text)."""
    environ = {k: v for k, v in os.environ.items() if k not in ("GATEWAY_INTERFACE", "INDIEAUTH_CONFIG")}
    return subprocess.run([sys.executable, "-c", "import sys, indieauth; sys.exit(indieauth.main())",
                           "--config", str(config), *args], env=environ, cwd=str(config.parent.parent),
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("damage, reason", [
    (os.remove, "[tokens] signing_key: cannot read"),
    (lambda path: open(path, "w").write("not a key"), "[tokens] signing_key: not a PEM private key"),
], ids=["missing", "not-a-key"])
def test_serve_refuses_to_start_without_its_signing_key(tmp_path, damage, reason):
    config = site_config(tmp_path, "sqlite:///indieauth.db")
    indieauth.Storage(indieauth.open_database("sqlite:///indieauth.db", str(tmp_path))).migrate()
    damage(str(tmp_path / "signing-key.pem"))
    result = indieauth_command(config, "serve", "--port", str(free_port()))
    assert result.returncode == 2
    assert reason in result.stderr


def closed_port():
    """A port on 127.0.0.1 that nothing listens on: a database server that is down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------------------------------------
#  The account page: where the owner of a single-owner server sets name, photo, email and website
# ---------------------------------------------------------------------------------------------

@pytest.fixture
def single(make_app):
    return make_app()


@pytest.fixture
def single_web(single):
    from indieauth_password import set_password
    set_password(single, single.storage.create_user("owner", "http://localhost/", role="owner"), PASSWORD)
    web = webtest.TestApp(single, extra_environ={"REMOTE_ADDR": "192.0.2.10"})
    sign_in(web)
    return web


def test_the_start_page_and_the_navigation_link_to_the_account_page(single_web):
    home = single_web.get("/")
    assert home.html.select_one("main a[href='/account']") is not None
    assert home.html.select_one("nav.site a[href='/account']") is not None


def test_the_owner_sets_name_photo_email_and_website_on_the_account_page(single, single_web):
    page = single_web.get("/account")
    form = page.forms["profile"]
    assert form.fields["email"][0].attrs["autocomplete"] == "email"
    form["name"], form["photo"] = "Ann Owner", "https://ann.example/me.jpg"
    form["email"], form["url"] = "ann@example.com", "https://ann.example/"
    saved = form.submit(status=303).follow()
    assert saved.html.select_one("[role=status]") is not None
    owner = single.storage.get_user(username="owner")
    assert (owner.name, owner.photo, owner.email, owner.url) == (
        "Ann Owner", "https://ann.example/me.jpg", "ann@example.com", "https://ann.example/")


@pytest.mark.parametrize("field, value, message", [
    ("email", "not an address", "email address"),
    ("email", "ann@localhost", "email address"),
    ("url", "ann.example", "full https:// address"),
    ("photo", "javascript:alert(1)", "full https:// address"),
])
def test_the_account_page_refuses_a_malformed_email_or_url_and_keeps_the_input(single, single_web, field, value,
                                                                                message):
    form = single_web.get("/account").forms["profile"]
    form["name"], form[field] = "Kept", value
    page = form.submit(status=400)
    assert message in page.html.select_one("[role=alert]").text
    assert page.forms["profile"]["name"].value == "Kept" and page.forms["profile"][field].value == value
    assert single.storage.get_user(username="owner").name == ""


def test_the_account_page_refuses_a_post_without_the_csrf_token(single, single_web):
    single_web.post("/account", {"name": "Mallory", "email": "m@evil.example"}, status=403)
    assert single.storage.get_user(username="owner").email == ""


def test_the_account_page_needs_a_signed_in_person(single):
    response = webtest.TestApp(single).get("/account", status=303)
    assert "/login" in response.headers["Location"]


# ---------------------------------------------------------------------------------------------
#  indieauth backup DEST and indieauth restore SRC
# ---------------------------------------------------------------------------------------------

def issued_site(folder, url):
    """A configured site on `url` with its owner and a 30-day testing token: (config, token, app.close)."""
    folder.mkdir()
    config = site_config(folder, url)
    indieauth.Storage(indieauth.open_database(url, str(folder))).migrate()
    app = indieauth.IndieAuth(indieauth.Config.load(str(config)))
    owner = app.storage.create_user("owner", "https://owner.example/", role="owner")
    raw, _ = indieauth.issue_testing_token(app, owner, "https://app.example/", ["create"], 30 * 86400)
    app.close()
    return config, raw


def assert_verifies(config, raw):
    """The token verifies at GET /token and, as a resource server checks it, against the JWKS."""
    app = indieauth.IndieAuth(indieauth.Config.load(str(config)))
    try:
        web = webtest.TestApp(app)
        assert web.get("/token", headers={"Authorization": f"Bearer {raw}"}).json["me"] == "https://owner.example/"
        keys = {key["kid"]: key for key in web.get("/.well-known/jwks.json").json["keys"]}
        header = jwt.get_unverified_header(raw)
        jwt.decode(raw, jwt.PyJWK(keys[header["kid"]]), algorithms=[header["alg"]], audience="https://owner.example/")
    finally:
        app.close()


@pytest.mark.parametrize("url", DATABASE_URLS, ids=backend_name)
def test_a_backup_restored_into_an_empty_folder_verifies_the_tokens_issued_before_it(tmp_path, url):
    with migrated_database(url, str(tmp_path / "site")) if not url.startswith("sqlite") else contextlib.nullcontext():
        config, raw = issued_site(tmp_path / "site", url)
        result = indieauth_command(config, "backup", str(tmp_path / "backup"))
        assert result.returncode == 0, result.stderr
        files = [os.path.join(top, name) for top, _, names in os.walk(tmp_path / "backup") for name in names]
        assert {os.path.basename(f) for f in files} >= {"plugins.toml", "signing-key.pem", "manifest.json"}
        assert all(os.stat(f).st_mode & 0o777 == 0o600 for f in files)
        assert os.stat(tmp_path / "backup").st_mode & 0o777 == 0o700
        shutil.rmtree(tmp_path / "site")  # everything lost but the backup
        if not url.startswith("sqlite"):
            drop_all_tables(indieauth.open_database(url))
        restored = tmp_path / "restored" / "plugins.toml"
        result = indieauth_command(restored, "restore", str(tmp_path / "backup"))
        assert result.returncode == 0, result.stderr
        assert_verifies(restored, raw)


def test_restore_refuses_a_folder_that_is_not_empty_and_changes_nothing(tmp_path):
    config, _ = issued_site(tmp_path / "site", "sqlite:///indieauth.db")
    assert indieauth_command(config, "backup", str(tmp_path / "backup")).returncode == 0
    result = indieauth_command(config, "restore", str(tmp_path / "backup"))
    assert result.returncode == 2 and "not empty" in result.stderr
    assert indieauth_command(config, "backup", str(tmp_path / "backup")).returncode == 2  # never overwritten


@pytest.mark.parametrize("url, tool", [(u, "pg_dump" if u.startswith("postgres") else "mariadb-dump")
                                       for u in DATABASE_URLS if not u.startswith("sqlite")], ids=backend_name)
def test_backup_without_the_dump_tool_says_how_to_get_it(tmp_path, url, tool):
    config = site_config(tmp_path, url)
    environ = {k: v for k, v in os.environ.items() if k not in ("GATEWAY_INTERFACE", "INDIEAUTH_CONFIG")}
    environ["PATH"] = str(tmp_path)  # no client programs
    result = subprocess.run([sys.executable, "-c", "import sys, indieauth; sys.exit(indieauth.main())",
                             "--config", str(config), "backup", str(tmp_path / "backup")], env=environ,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and tool in result.stderr and "install" in result.stderr
    assert not os.path.exists(tmp_path / "backup")


# ---------------------------------------------------------------------------------------------
#  Upgrading: migrate --check, and a database newer than the code
# ---------------------------------------------------------------------------------------------

def database_at(folder, version):
    """A site whose SQLite database is at schema `version` (migrated that far; a newer one is faked by a row)."""
    config = site_config(folder, "sqlite:///indieauth.db")
    storage = indieauth.Storage(indieauth.open_database("sqlite:///indieauth.db", str(folder)))
    with storage.database.connection_context(), storage.bound():
        storage.database.create_tables([indieauth.SchemaVersion])
        indieauth.SchemaVersion.insert_many([(v,) for v in range(1, version + 1)],
                                            fields=[indieauth.SchemaVersion.version]).execute()
    if version <= indieauth.SCHEMA_VERSION:
        indieauth.Storage(indieauth.open_database("sqlite:///indieauth.db", str(folder))).migrate()
    return config


def test_migrate_check_says_up_to_date_with_exit_code_0(tmp_path):
    config = database_at(tmp_path, indieauth.SCHEMA_VERSION)
    result = indieauth_command(config, "migrate", "--check")
    assert result.returncode == 0 and "up to date" in result.stdout


def test_migrate_check_says_which_migrations_are_needed_with_exit_code_3_and_changes_nothing(tmp_path):
    config = site_config(tmp_path, "sqlite:///indieauth.db")
    storage = indieauth.Storage(indieauth.open_database("sqlite:///indieauth.db", str(tmp_path)))
    with storage.database.connection_context(), storage.bound():  # a database left at version 7
        from playhouse.migrate import SchemaMigrator
        storage.database.create_tables([indieauth.SchemaVersion])
        migrator = SchemaMigrator.from_database(storage.database)
        for version, migration in indieauth.MIGRATIONS[:7]:
            migration(migrator)
            indieauth.SchemaVersion.create(version=version)
    result = indieauth_command(config, "migrate", "--check")
    assert result.returncode == 3, result.stderr
    assert f"schema version 7" in result.stdout and "indieauth migrate" in result.stdout
    assert indieauth.Storage(indieauth.open_database("sqlite:///indieauth.db", str(tmp_path))).schema_version() == 7


@pytest.mark.parametrize("command", [("migrate", "--check"), ("migrate",), ("serve", "--port", "0")])
def test_a_database_newer_than_the_code_is_refused_with_a_clear_message(tmp_path, command):
    config = database_at(tmp_path, indieauth.SCHEMA_VERSION + 1)
    result = indieauth_command(config, *command)
    assert result.returncode == 2, result.stdout
    assert f"schema version {indieauth.SCHEMA_VERSION + 1}, newer than this server" in result.stderr
    assert "upgrade indieauth" in result.stderr


def test_a_sqlite_backup_taken_while_the_server_writes_has_what_was_committed(tmp_path):
    """The online backup API copies what is committed, the WAL included, while the server holds its connection."""
    config, _ = issued_site(tmp_path / "site", "sqlite:///indieauth.db")
    app = indieauth.IndieAuth(indieauth.Config.load(str(config)))
    app.keep_connections = True
    try:
        owner = app.storage.get_user(username="owner")
        raw, _ = indieauth.issue_testing_token(app, owner, "https://app.example/", ["create"], 86400)
        assert os.path.getsize(str(tmp_path / "site" / "indieauth.db-wal")) > 0  # not checkpointed yet
        assert indieauth_command(config, "backup", str(tmp_path / "backup")).returncode == 0
    finally:
        app.close()
    restored = tmp_path / "restored" / "plugins.toml"
    assert indieauth_command(restored, "restore", str(tmp_path / "backup")).returncode == 0
    assert_verifies(restored, raw)
