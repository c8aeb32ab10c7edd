"""Attacks on the web layer (issue 15): open redirects after sign-in, world-readable data files,
secrets in the server log, missing or overwritten security headers, unchecked route arguments and an
echoed oversized state.  Every test sends the real request and asserts the refusal."""

import contextlib
import logging
import os
import socket
import stat
import subprocess
import sys
import time
import urllib.parse

import pytest
import requests
import webtest

import indieauth
from indieauth import hookimpl, testing
from conftest import PASSWORD, sign_in


# -- Finding 2: open redirect after sign-in ------------------------------------------------------

OFF_SITE_NEXT = [
    "/https://evil.example/phish",
    "/http://evil.example/phish",
    "/javascript:alert(document.domain)",
    "/javascript://%0aalert(1)",
    "//evil.example/phish",
    "///evil.example/phish",
    "/\\evil.example/phish",
    "/\\/evil.example/phish",
    "/%2F%2Fevil.example/phish",
    "/%2f%5cevil.example",
    "/\t/evil.example/phish",
    "/\n/evil.example/phish",
    "/\r\n/evil.example/phish",
    "/\u2215\u2215evil.example/phish",  # DIVISION SLASH
    "/\uff0f\uff0fevil.example/phish",  # FULLWIDTH SOLIDUS
    "https://evil.example/phish",
    "javascript:alert(1)",
    "/../../evil.example",
    "/%2e%2e/%2e%2e/evil.example",
    " /https://evil.example/",
]


def on_origin(location, base):
    """Whether a Location stays under base_url, however a browser reads it (backslash as slash)."""
    seen = urllib.parse.urlsplit(location.replace("\\", "/"))
    expected = urllib.parse.urlsplit(base)
    return (location.startswith(base) and (seen.scheme, seen.netloc) == (expected.scheme, expected.netloc)
            and not any(c in location for c in "\t\r\n "))


def browser_for(app):
    """webtest on the app's own origin (https included: Secure cookies are sent back)."""
    parts = urllib.parse.urlsplit(app.base_url)
    return webtest.TestApp(app, extra_environ={"REMOTE_ADDR": "192.0.2.10", "wsgi.url_scheme": parts.scheme,
                                               "HTTP_HOST": parts.netloc})


def with_owner(app):
    from indieauth_password import set_password
    set_password(app, app.storage.create_user("owner", "https://owner.example/", role="owner"), PASSWORD)
    return app


@pytest.mark.parametrize("base", ["http://localhost/", "https://auth.example/"], ids=["dev", "production"])
@pytest.mark.parametrize("next_value", OFF_SITE_NEXT)
def test_sign_in_never_redirects_off_site(make_app, base, next_value):
    """Finding 2: open redirect after sign-in (next= on the sign-in page, then the right password)."""
    app = with_owner(make_app({"server": {"base_url": base}}))
    web = browser_for(app)
    response = sign_in(web, next_url=urllib.parse.quote(next_value, safe=""))
    assert on_origin(response.headers["Location"], base), response.headers["Location"]


@pytest.mark.parametrize("next_value", OFF_SITE_NEXT)
def test_a_forged_next_field_never_redirects_off_site(make_app, next_value):
    """Finding 2: open redirect after sign-in (the hidden next field changed before the POST)."""
    app = with_owner(make_app())
    web = browser_for(app)
    form = web.get("/login").forms["password-login"]
    form["username"], form["password"] = "owner", PASSWORD
    form["next"].force_value(next_value)
    response = form.submit(status=303)
    assert on_origin(response.headers["Location"], app.base_url), response.headers["Location"]


def test_a_local_next_is_still_followed(make_app):
    """Finding 2: the fix keeps sending people back where they were going on this server."""
    app = with_owner(make_app({"server": {"base_url": "https://auth.example/"}}))
    response = sign_in(browser_for(app), next_url=urllib.parse.quote("/tokens?x=1", safe=""))
    assert response.headers["Location"] == "https://auth.example/tokens?x=1"


@pytest.mark.parametrize("path", ["https://evil.example/", "//evil.example/", "/\\evil.example", "\r\nSet-Cookie: x=1",
                                  "/https://evil.example/", "javascript:alert(1)"])
def test_redirect_itself_never_leaves_base_url(make_app, path):
    """Finding 2: IndieAuth.redirect builds its URL under base_url whatever path it is given."""
    app = make_app({"server": {"base_url": "https://auth.example/base/"}})
    with pytest.raises(indieauth.bottle.HTTPResponse) as raised:
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "wsgi.url_scheme": "https", "HTTP_HOST": "auth.example"}
        indieauth.bottle.request.bind(environ)
        app.redirect(path)
    location = dict(raised.value.headerlist)["Location"]
    assert on_origin(location, "https://auth.example/base/"), location


# -- Finding 3: world-readable database -----------------------------------------------------------

@pytest.fixture
def umask_022():
    """The usual umask, under which files are created 0644 unless created 0600 on purpose."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def data_file_modes(database):
    """{path: mode} of the database and its -wal/-shm, those that exist; the database must."""
    assert os.path.exists(database), database
    return {p: oct(mode(p)) for p in (database, database + "-wal", database + "-shm") if os.path.exists(p)}


def write_config(folder, port=9):
    path = os.path.join(folder, "indieauth.toml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(indieauth.CONFIG_TEMPLATE.format(base_url=f'"http://127.0.0.1:{port}/"', port=f"port = {port}\n"))
    indieauth.ensure_secret_files(indieauth.Config.load(path))
    return path


def test_init_creates_the_database_and_its_folder_for_the_owner_only(tmp_path, umask_022, capsys):
    """Finding 3: world-readable database (init: database 0600, the config's new folder 0700)."""
    folder = tmp_path / "new"
    config = folder / "indieauth.toml"
    assert indieauth.main(["--config", str(config), "init", "--me", "https://example.com",
                           "--base-url", "http://127.0.0.1:9/"]) == 0
    assert mode(folder) == 0o700
    modes = data_file_modes(str(folder / "indieauth.db"))
    assert set(modes.values()) == {oct(0o600)}, modes


def test_sqlite_creates_wal_and_shm_with_the_database_mode(tmp_path, umask_022):
    """Finding 3: world-readable database (-wal and -shm, made by SQLite, follow the database's 0600)."""
    database = indieauth.open_database("sqlite:///data.db", str(tmp_path))
    database.connect()
    database.execute_sql("CREATE TABLE t (x INTEGER)")
    database.execute_sql("INSERT INTO t VALUES (1)")
    path = str(tmp_path / "data.db")
    assert os.path.exists(path + "-wal") and os.path.exists(path + "-shm")  # while the connection is open
    modes = data_file_modes(path)
    database.close()
    assert set(modes.values()) == {oct(0o600)}, modes


def test_migrate_creates_the_database_for_the_owner_only(tmp_path, umask_022, capsys):
    """Finding 3: world-readable database (indieauth migrate on a new database)."""
    config = write_config(str(tmp_path))
    assert indieauth.main(["--config", config, "migrate"]) == 0
    modes = data_file_modes(str(tmp_path / "indieauth.db"))
    assert set(modes.values()) == {oct(0o600)}, modes


def test_the_wsgi_entry_creates_the_database_for_the_owner_only(tmp_path, umask_022, monkeypatch):
    """Finding 3: world-readable database (Passenger and CGI: indieauth.application's first request)."""
    monkeypatch.setenv("INDIEAUTH_CONFIG", write_config(str(tmp_path)))
    monkeypatch.setattr(indieauth, "_application", None)
    answered = []
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/login", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "9",
               "wsgi.url_scheme": "http", "wsgi.input": None, "REMOTE_ADDR": "127.0.0.1"}
    b"".join(indieauth.application(environ, lambda status, headers, *_: answered.append(status)))
    assert answered  # whatever it answered (an empty database is a 503), the files are private
    modes = data_file_modes(str(tmp_path / "indieauth.db"))
    assert set(modes.values()) == {oct(0o600)}, modes


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve_process(folder, config, port):
    """A real `indieauth serve` process; yields (stdout path, stderr path) once it answers; stopped after."""
    env = {k: v for k, v in os.environ.items() if k not in ("INDIEAUTH_CONFIG", "GATEWAY_INTERFACE")}
    out, err = os.path.join(folder, "serve.out"), os.path.join(folder, "serve.err")
    with open(out, "w") as stdout, open(err, "w") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "indieauth", "--config", config, "serve", "--port", str(port)],
                                   cwd=folder, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL, env=env)
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, open(err).read()
            try:
                requests.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, open(err).read()
                time.sleep(0.05)
        yield out, err
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def test_serve_warns_once_about_a_database_others_can_read(tmp_path, umask_022):
    """Finding 3: world-readable database (serve warns at start-up about an existing 0644 database)."""
    port = free_port()
    config = write_config(str(tmp_path), port)
    assert indieauth.main(["--config", config, "migrate"]) == 0
    database = str(tmp_path / "indieauth.db")
    os.chmod(database, 0o644)
    with serve_process(str(tmp_path), config, port) as (out, err):
        output = open(out).read() + open(err).read()
    warnings = [line for line in output.splitlines() if "readable by" in line]
    assert len(warnings) == 1, output
    assert database in warnings[0] and "chmod 600" in warnings[0]


def test_serve_says_nothing_about_a_private_database(tmp_path, umask_022):
    """Finding 3: world-readable database (no warning when the files are 0600)."""
    port = free_port()
    config = write_config(str(tmp_path), port)
    with serve_process(str(tmp_path), config, port) as (out, err):
        output = open(out).read() + open(err).read()
    assert "readable by" not in output, output
    assert set(data_file_modes(str(tmp_path / "indieauth.db")).values()) == {oct(0o600)}


# -- Finding 5: secrets in the server log ---------------------------------------------------------

@pytest.fixture
def logged():
    """Every message the `indieauth` loggers emit during the test, as one text."""
    lines = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = lambda record: lines.append(record.getMessage())
    logger = logging.getLogger("indieauth")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield lines
    logger.removeHandler(handler)
    logger.setLevel(level)


class SecretRoutes:
    """A plugin whose routes carry a secret in a path segment, one of them failing with a 500."""

    __name__ = "secret_routes"

    @hookimpl
    def register_routes(self, app):
        def broken(token):
            raise RuntimeError("a plugin bug")
        return [("GET", "/login/secret/<token>", lambda token: "ok"),
                ("GET", "/login/secret/<token>/broken", broken)]


@pytest.fixture
def shared(make_app):
    app = make_app({"plugins": {"hosting": {}}}, plugins=[SecretRoutes()])
    owner = app.storage.create_user("owner", "https://owner.example/", role="owner")
    from indieauth_password import set_password
    set_password(app, owner, PASSWORD)
    return app, owner


def assert_not_logged(logged, *secrets):
    assert logged, "nothing was logged"
    text = "\n".join(logged)
    for secret in secrets:
        assert secret not in text, (secret, text)


def test_one_time_sign_in_links_never_reach_the_log(shared, logged):
    """Finding 5: secrets in the server log (GET and POST /login/once/<token>)."""
    app, owner = shared
    web = browser_for(app)
    token = app.storage.create_login_link(owner, 3600)
    page = web.get("/login/once/" + token)
    page.forms[0].submit(status=303)
    web.get("/login/once/" + token, status=400)  # spent: the refusal is logged too
    web.get(f"/login/once/{token}/more", status=404)  # no route: still not logged
    web.put(f"/login/once/{token}", status=405)
    assert_not_logged(logged, token)
    assert any("/login/once/" in line for line in logged)  # the request is logged, without its token


def test_invite_tokens_never_reach_the_log(shared, logged):
    """Finding 5: secrets in the server log (GET and POST /invite/<token>)."""
    app, _ = shared
    web = browser_for(app)
    token = app.storage.create_invite("user", 3600)
    page = web.get("/invite/" + token)
    web.post(f"/invite/{token}", {"csrf_token": page.forms[0]["csrf_token"].value}, expect_errors=True)
    web.get(f"/invite/{token}/", status=404)
    assert_not_logged(logged, token)


def test_pending_request_keys_and_pkce_never_reach_the_log(shared, logged):
    """Finding 5: secrets in the server log (/auth?code_challenge=…, /auth/consent/<key>, /auth/logo/<key>,
    POST /token)."""
    app, _ = shared
    web = browser_for(app)
    sign_in(web)
    consent, verifier = testing.start_authorization(web)
    key = consent.rsplit("/", 1)[1]
    web.get("/auth/logo/" + key, status=404)
    code = testing.approve(web, consent)
    tokens = testing.redeem(web, code, verifier)
    web.get("/userinfo?access_token=" + tokens["access_token"], expect_errors=True)
    challenge = indieauth.pkce_s256(verifier)
    assert_not_logged(logged, key, code, verifier, challenge, tokens["access_token"], tokens["refresh_token"])


def test_a_plugin_route_named_secret_never_reaches_the_log(shared, logged):
    """Finding 5: secrets in the server log (a plugin's <token> wildcard, in the access log and a 500's)."""
    app, _ = shared
    web = browser_for(app)
    web.get("/login/secret/s3cr3tvalue123456789")
    web.get("/login/secret/an0thers3cr3tvalue987/broken", status=500)
    assert_not_logged(logged, "s3cr3tvalue123456789", "an0thers3cr3tvalue987")
    assert any("unhandled error" in line for line in logged)


def test_redacted_log_path_keeps_what_is_not_secret(make_app):
    """Finding 5: the redaction names the route and keeps ordinary paths whole."""
    app = make_app(plugins=[SecretRoutes()])
    cases = {"/login/once/abcDEF123_-abcDEF123_-abcDEF123_-": "/login/once/[redacted]",
             "/u/somebody": "/u/somebody", "/favicon.ico": "/favicon.ico",
             "/nothing/abcDEF123_-abcDEF123_-abcDEF123_-": "/nothing/[redacted]"}
    for path, expected in cases.items():
        environ = webtest.TestRequest.blank(path).environ
        try:
            route, args = app.bottle.router.match(environ)
            environ.update({"bottle.route": route, "route.url_args": args})
        except indieauth.bottle.HTTPError:
            pass
        assert indieauth.loggable_path(environ) == expected


# -- Informational: headers ------------------------------------------------------------------------

@pytest.mark.parametrize("path, status", [("/.well-known/oauth-authorization-server", 200), ("/token", 401),
                                          ("/userinfo", 401), ("/login", 200), ("/nope", 404),
                                          ("/static/style.css", 200)])
def test_every_response_has_nosniff_and_https_has_hsts(make_app, path, status):
    """Informational: X-Content-Type-Options on JSON responses, Strict-Transport-Security on https."""
    web = browser_for(make_app({"server": {"base_url": "https://auth.example/"}}))
    response = web.get(path, status=status, headers={"Accept": "application/json"} if status == 401 else {})
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_no_hsts_over_plain_http(make_app):
    """Informational: HSTS only when base_url is https (a development server on http must not pin it)."""
    response = browser_for(make_app()).get("/.well-known/oauth-authorization-server")
    assert "Strict-Transport-Security" not in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_logo_proxy_keeps_its_sandbox_csp(tmp_path, clock, make_app, fake_http):
    """Informational: the logo proxy's own sandbox CSP is not overwritten by the page CSP."""
    png = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
    fake_http.route("/logo.png", (200, {"Content-Type": "image/png"}, png))
    app_page = '<div class="h-app"><img class="u-logo" src="/logo.png"><a class="u-url p-name" href="/">App</a></div>'
    fake_http.route("/*", (200, {"Content-Type": "text/html"}, app_page))
    app = with_owner(indieauth.make_test_app({"plugins": {"password": {}}, "security": {"fetch_allow": ["127.0.0.1/32"]}},
                                             folder=str(tmp_path), clock=clock, resolver=lambda host, port: ["127.0.0.1"]))
    web = browser_for(app)
    sign_in(web)
    client = f"http://app.test:{fake_http.port}/"
    consent, _ = testing.start_authorization(web, client_id=client, redirect_uri=client + "cb")
    src = web.get(consent).html.select_one("img.client-logo")["src"]
    logo = web.get(src)
    assert logo.content_type == "image/png"
    assert logo.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert logo.headers["X-Content-Type-Options"] == "nosniff"


# -- Informational: route arguments ----------------------------------------------------------------

@pytest.mark.parametrize("number", ["99999999999999999999", "2147483648", "0", "-1", "0001"])
def test_a_database_id_out_of_range_is_404(shared, number):
    """Informational: /admin/clients/<huge number> gives a 500 (every route argument is range-checked)."""
    app, _ = shared
    web = browser_for(app)
    sign_in(web)
    page = web.get(f"/admin/clients/{number}", status=404)
    assert "text/html" in page.content_type
    form = web.get("/admin/users").forms[0]
    web.post(f"/admin/clients/{number}", {"csrf_token": form["csrf_token"].value}, status=404)


def test_a_database_id_in_range_still_works(shared):
    """Informational: the id filter lets every id the database can hold through."""
    app, _ = shared
    web = browser_for(app)
    sign_in(web)
    app.storage.create_client(app.url("clients/a/"), "Registered App", ["https://app.example/cb"])
    number = app.storage.get_client(app.url("clients/a/")).id
    assert "Registered App" in web.get(f"/admin/clients/{number}").text
    web.get("/admin/clients/2147483647", status=404)


# -- Informational: the echoed state ----------------------------------------------------------------

@pytest.mark.parametrize("state", ["x" * 100_000, "é" * 3000, "a\x00b", "x" * 2049])
def test_an_invalid_state_is_never_echoed(make_app, state):
    """Informational: a 100 KB invalid state is echoed back in the error redirect (cap what is echoed)."""
    web = browser_for(make_app())
    _, challenge = testing.pkce_pair()
    query = {"response_type": "code", "client_id": testing.CLIENT_ID, "redirect_uri": testing.REDIRECT_URI,
             "state": state, "code_challenge": challenge, "code_challenge_method": "S256", "scope": "profile"}
    response = web.get("/auth?" + urllib.parse.urlencode(query), status=302)
    location = response.headers["Location"]
    assert location.startswith(testing.REDIRECT_URI) and len(location) < 1000, len(location)
    params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
    assert params["error"] == "invalid_request" and "state" not in params


def test_a_valid_state_is_still_echoed_with_an_error(make_app):
    """Informational: a valid state (2048 visible ASCII characters) still comes back with an error."""
    web = browser_for(make_app())
    state = "~" * 2048
    query = {"response_type": "token", "client_id": testing.CLIENT_ID, "redirect_uri": testing.REDIRECT_URI,
             "state": state}
    location = web.get("/auth?" + urllib.parse.urlencode(query), status=302).headers["Location"]
    assert dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))["state"] == state
