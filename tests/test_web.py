"""Sign-in, sessions, CSRF, throttling, headers and error pages, through webtest and real HTTP."""

import re

import pytest
import requests
import webtest
from bs4 import BeautifulSoup

import indieauth
from conftest import PASSWORD, sign_in

start_authorization = indieauth.testing.start_authorization


# -- signing in and out ------------------------------------------------------------------------

def test_sign_in_with_the_right_password(web, owner):
    response = sign_in(web)
    assert response.headers["Location"] == "http://localhost/"
    assert "Signed in as" in web.get("/").text


def test_sign_in_resumes_where_the_person_was_going(web, owner):
    assert sign_in(web, next_url="/plugins/password/").headers["Location"].endswith("/plugins/password/")


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example",
                                    "javascript:alert(1)", "/%0d%0aSet-Cookie:x=1".replace("%0d%0a", "\r\n")])
def test_sign_in_never_redirects_off_site(web, owner, target):  # SEC16
    page = web.get("/login")
    form = page.forms["password-login"]
    form["username"], form["password"], form["next"] = "owner", PASSWORD, target
    assert form.submit(status=303).headers["Location"] == "http://localhost/"


def test_wrong_password_is_refused_and_says_so(web, owner):
    response = sign_in(web, password="not the password", status=400)
    assert "not right" in response.html.select_one("[role=alert]").text
    assert response.html.select_one("#username")["value"] == "owner"  # nothing typed is lost but the password
    assert "Signed in as" not in web.get("/").text


@pytest.mark.parametrize("users", [1, 2])
def test_unknown_user_gets_the_same_answer_as_a_wrong_password(web, owner, app, users):  # no enumeration
    if users == 2:
        app.storage.create_user("bob", "https://bob.example/")
    unknown = sign_in(web, username="nobody", password="whatever it is", status=400)
    wrong = sign_in(web, password="whatever it is", status=400)
    assert unknown.html.select_one("[role=alert]").text == wrong.html.select_one("[role=alert]").text


def test_empty_fields_are_refused(web, owner):
    response = sign_in(web, username="", password="", status=400)
    assert "Enter your user name" in response.text


def test_login_form_is_accessible(web):
    page = web.get("/login")
    html = page.html
    assert html.html["lang"] == "en"
    assert html.select_one("#username")["autocomplete"] == "username"
    assert html.select_one("#password")["autocomplete"] == "current-password"
    for field in html.select("input:not([type=hidden])"):
        assert html.select_one(f'label[for="{field["id"]}"]'), field


def test_logout_ends_the_session_on_the_server(web, owner, app):
    sign_in(web)
    stolen_cookie = web.cookies[indieauth.SESSION_COOKIE]
    token = web.get("/").html.select_one("header form input[name=csrf_token]")["value"]
    web.post("/logout", {"csrf_token": token}, status=303)
    assert "Signed in as" not in web.get("/").text
    # The old cookie, replayed, no longer works: the session was revoked, not just forgotten.
    other = webtest.TestApp(app)
    other.set_cookie(indieauth.SESSION_COOKIE, stolen_cookie)
    assert "Signed in as" not in other.get("/").text


def test_session_expires(web, owner, clock):
    sign_in(web)
    clock.advance(days=13, hours=23)
    assert "Signed in as" in web.get("/").text
    clock.advance(hours=2)
    assert "Signed in as" not in web.get("/").text


def test_a_forged_session_cookie_is_ignored(web, owner):
    sign_in(web)
    raw, _, signature = web.cookies[indieauth.SESSION_COOKIE].rpartition(".")
    web.set_cookie(indieauth.SESSION_COOKIE, raw + "." + "0" * len(signature))
    assert "Signed in as" not in web.get("/").text


def test_session_is_stored_only_as_a_hash(web, owner, app):
    sign_in(web)
    raw = web.cookies[indieauth.SESSION_COOKIE].rpartition(".")[0]
    with app.storage.bound(), app.storage.database.connection_context():
        hashes = [s.token_hash for s in indieauth.Session.select()]
    assert hashes == [indieauth.token_hash(raw)]


def test_signing_in_again_replaces_the_old_session(web, owner, app):
    sign_in(web)
    first = web.cookies[indieauth.SESSION_COOKIE]
    sign_in(web)
    other = webtest.TestApp(app)
    other.set_cookie(indieauth.SESSION_COOKIE, first)
    assert "Signed in as" not in other.get("/").text


def test_disabled_user_cannot_sign_in_and_loses_the_session(web, owner, app, clock):
    sign_in(web)
    with app.storage.bound(), app.storage.database.connection_context():
        indieauth.User.update(disabled_at=clock()).where(indieauth.User.id == owner.id).execute()
    assert "Signed in as" not in web.get("/").text
    assert "disabled" in sign_in(web, status=403).text


@pytest.mark.parametrize("https, secure", [(False, False), (True, True)])
def test_session_cookie_flags(make_app, https, secure):  # SEC24
    app = make_app({"server": {"base_url": "https://auth.example/" if https else "http://localhost/"}})
    from indieauth_password import set_password
    set_password(app, app.storage.create_user("owner", "https://o.example/"), PASSWORD)
    web = webtest.TestApp(app, extra_environ={"wsgi.url_scheme": "https" if https else "http"})
    response = sign_in(web)
    header = [h for h in response.headers.getall("Set-Cookie") if h.startswith(indieauth.SESSION_COOKIE)][0]
    assert "HttpOnly" in header and re.search("SameSite=lax", header, re.I)
    assert ("Secure" in header) is secure


# -- one-time sign-in links --------------------------------------------------------------------

def test_a_one_time_link_signs_in_once(web, app, owner):
    raw = app.storage.create_login_link(owner, 3600)
    form = web.get(f"/login/once/{raw}").forms[0]
    replay = webtest.TestApp(app)
    stale = replay.get(f"/login/once/{raw}").forms[0]  # opened before the link was used
    assert form.submit(status=303).headers["Location"] == "http://localhost/"  # the owner has a password
    assert "Signed in as" in web.get("/").text
    assert "works once" in stale.submit(status=400).text
    assert "works once" in replay.get(f"/login/once/{raw}", status=400).text  # refused when opened
    assert "Signed in as" not in replay.get("/").text


def test_a_one_time_link_for_someone_without_a_credential_goes_on_to_set_one(web, app):
    bea = app.storage.create_user("bea", "https://bea.example/")
    raw = app.storage.create_login_link(bea, 3600)
    response = web.get(f"/login/once/{raw}").forms[0].submit(status=303)
    assert response.headers["Location"] == "http://localhost/plugins/password/"


def test_a_one_time_link_is_not_used_up_by_a_get(web, app, owner):
    raw = app.storage.create_login_link(owner, 3600)
    web.get(f"/login/once/{raw}")  # a link preview bot fetching it
    web.get(f"/login/once/{raw}").forms[0].submit(status=303)


def test_an_expired_one_time_link_is_refused(web, app, owner, clock):
    raw = app.storage.create_login_link(owner, 3600)
    form = web.get(f"/login/once/{raw}").forms[0]
    clock.advance(hours=1, seconds=1)
    form.submit(status=400)
    web.get(f"/login/once/{raw}", status=400)


# -- CSRF -------------------------------------------------------------------------------------

def test_login_post_without_csrf_token_is_refused(web, owner):
    web.get("/login")
    response = web.post("/login/password", {"username": "owner", "password": PASSWORD}, status=403)
    assert "security token" in response.text
    assert "Signed in as" not in web.get("/").text


def test_login_post_without_csrf_cookie_is_refused(web, owner, app):
    token = web.get("/login").forms["password-login"]["csrf_token"].value
    fresh = webtest.TestApp(app)  # another browser: no cookie, only the form field
    fresh.post("/login/password", {"username": "owner", "password": PASSWORD, "csrf_token": token}, status=403)


def test_csrf_token_of_another_browser_is_refused(web, owner, app):
    attacker = webtest.TestApp(app)
    token = attacker.get("/login").forms["password-login"]["csrf_token"].value
    web.get("/login")
    web.post("/login/password", {"username": "owner", "password": PASSWORD, "csrf_token": token}, status=403)


def test_logout_without_csrf_token_is_refused(web, owner):
    sign_in(web)
    web.post("/logout", {}, status=403)
    assert "Signed in as" in web.get("/").text


def test_one_time_link_post_without_csrf_is_refused(web, app, owner):
    raw = app.storage.create_login_link(owner, 3600)
    web.get(f"/login/once/{raw}")
    web.post(f"/login/once/{raw}", {}, status=403)
    web.get(f"/login/once/{raw}").forms[0].submit(status=303)  # the link was not used up


# -- throttling ------------------------------------------------------------------------------

def test_an_account_is_paused_after_too_many_failures_and_says_when(web, owner, clock):
    for _ in range(5):
        sign_in(web, password="wrong password", status=400)
    response = sign_in(web, status=429)  # even the right password waits, at this address
    assert re.search(r"try again in 15 minutes", response.text)
    assert int(response.headers["Retry-After"]) == 15 * 60
    clock.advance(minutes=15)
    sign_in(web)


def test_failures_from_many_addresses_slow_the_account_without_pausing_it(app, owner, clock):
    """An account's failures from everywhere pace attempts at it (ACCOUNT_PACE seconds apart), never
    pause it: whoever knows a user name cannot lock its owner out."""
    for n in range(5):
        sign_in(webtest.TestApp(app, extra_environ={"REMOTE_ADDR": f"198.51.100.{n}"}),
                password="wrong password", status=400)
    paced = sign_in(webtest.TestApp(app, extra_environ={"REMOTE_ADDR": "203.0.113.9"}), status=429)
    assert int(paced.headers["Retry-After"]) <= indieauth.ACCOUNT_PACE
    clock.advance(seconds=indieauth.ACCOUNT_PACE)
    sign_in(webtest.TestApp(app, extra_environ={"REMOTE_ADDR": "203.0.113.9"}))


def test_an_address_is_paused_after_too_many_failures_across_accounts(app, owner):
    attacker = webtest.TestApp(app, extra_environ={"REMOTE_ADDR": "198.51.100.7"})
    for n in range(20):
        sign_in(attacker, username=f"guess{n}", password="wrong password", status=400)
    sign_in(attacker, status=429)
    sign_in(webtest.TestApp(app, extra_environ={"REMOTE_ADDR": "203.0.113.9"}))  # the owner elsewhere is fine


def test_a_success_clears_the_account_failures(web, owner):
    for _ in range(4):
        sign_in(web, password="wrong password", status=400)
    sign_in(web)
    for _ in range(4):
        sign_in(web, password="wrong password", status=400)
    sign_in(web)


def test_throttling_holds_across_processes_sharing_the_database(make_app, owner, app):
    """A second app on the same database (another worker process) sees the same failures."""
    web = webtest.TestApp(app)
    for _ in range(5):
        sign_in(web, password="wrong password", status=400)
    second = make_app()  # same folder, same SQLite file, a new app object
    sign_in(webtest.TestApp(second), status=429)


def test_forwarded_for_is_believed_only_from_trusted_proxies(make_app):  # SEC57
    app = make_app({"server": {"trusted_proxies": ["10.0.0.0/30"]}})
    seen = []
    app.bottle.route("/ip", "GET", lambda: seen.append(app.client_address()) or "")
    webtest.TestApp(app, extra_environ={"REMOTE_ADDR": "10.0.0.1"}).get(
        "/ip", headers={"X-Forwarded-For": "1.1.1.1, 203.0.113.5, 10.0.0.2"})
    webtest.TestApp(app, extra_environ={"REMOTE_ADDR": "198.51.100.1"}).get(
        "/ip", headers={"X-Forwarded-For": "203.0.113.5"})
    assert seen == ["203.0.113.5", "198.51.100.1"]


# -- headers and errors ----------------------------------------------------------------------

HTML_PAGES = ["/", "/login", "/login/password", "/login/once/abc", "/nope", "/plugins/password/"]


@pytest.mark.parametrize("path", HTML_PAGES)
def test_security_headers_on_every_html_page(web, path):
    response = web.get(path, expect_errors=True)
    assert response.content_type == "text/html"
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Request-Id"]


def test_generated_request_ids_are_distinct_and_a_clients_own_is_kept(web):
    ids = [web.get("/.well-known/oauth-authorization-server").headers["X-Request-Id"] for _ in range(50)]
    assert len(set(ids)) == 50 and all(i.isalnum() and len(i) == 12 for i in ids)
    mine = web.get("/.well-known/oauth-authorization-server", headers={"X-Request-Id": "abc123"})
    assert mine.headers["X-Request-Id"] == "abc123"
    unsafe = web.get("/.well-known/oauth-authorization-server", headers={"X-Request-Id": "a b\\c"})
    assert unsafe.headers["X-Request-Id"] != "a b\\c" and unsafe.headers["X-Request-Id"].isalnum()


def test_pages_have_no_inline_script_or_external_resources(web):
    for path in HTML_PAGES:
        soup = web.get(path, expect_errors=True).html
        assert not soup.select("script:not([src])"), path
        for tag in soup.select("[src], link[rel=stylesheet], link[rel=icon]"):
            assert (tag.get("src") or tag.get("href")).startswith("/"), path


def test_pages_are_not_cached_but_the_stylesheet_is(web, owner):
    assert web.get("/login").headers["Cache-Control"] == "no-store"
    sign_in(web)
    assert web.get("/").headers["Cache-Control"] == "no-store"
    assert "max-age" in web.get("/static/style.css").headers["Cache-Control"]


@pytest.mark.parametrize("status, path, method", [(404, "/nope", "GET"), (405, "/logout", "GET"),
                                                  (404, "/login/nosuch", "GET"), (403, "/logout", "POST")])
def test_error_pages_say_what_happened_and_what_to_do(web, status, path, method):
    response = web.request(path, method=method, status=status)
    soup = response.html
    assert soup.h1.text and "Traceback" not in response.text
    assert soup.select_one("a[href='/']")
    assert response.headers["X-Request-Id"] in response.text


def test_api_paths_get_json_errors(web):
    response = web.get("/.well-known/nothing-here", status=404)
    assert response.content_type == "application/json"
    assert response.json["error"] == "not_found" and response.json["error_description"]
    assert response.headers["Cache-Control"] == "no-store"


def test_an_unreachable_database_is_a_503_page_and_json_error(tmp_path):
    config = indieauth.Config(str(tmp_path / "plugins.toml"), {
        "server": {"database": "postgresql://nobody@127.0.0.1:1/none", "secret_key": "s" * 40}})
    app = indieauth.IndieAuth(config, check_schema=False)
    web = webtest.TestApp(app)
    page = web.get("/login", status=503)
    assert "Temporarily unavailable" in page.text and "Traceback" not in page.text
    bearer = {"Authorization": "Bearer abc"}  # looked up; without a token the 401 needs no database
    assert web.get("/token", headers=bearer, status=503).json["error"] == "temporarily_unavailable"


def test_a_crash_is_a_500_page_without_a_traceback(make_app):
    app = make_app()
    app.bottle.route("/boom", "GET", lambda: 1 / 0)
    response = webtest.TestApp(app).get("/boom", status=500, expect_errors=True)
    assert "Something went wrong" in response.text
    assert "ZeroDivisionError" not in response.text and "Traceback" not in response.text


# -- malformed requests: never a 500 ---------------------------------------------------------

MALFORMED = [
    ("GET", "?next=%ff%fe&x=" + "a" * 5000, None, None),
    ("POST", "", b"username=%ff%fe&password=%c3%28&csrf_token=%ff&next=%00", "application/x-www-form-urlencoded"),
    ("POST", "", b"\xff\xfe\x00garbage", "application/x-www-form-urlencoded"),
    ("POST", "", b'{"username": ["x"]}', "application/json"),
    ("POST", "", b"--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\xff\r\n", "multipart/form-data; boundary=x"),
    ("POST", "", b"username=a&username=b&password=c&password=d", "application/x-www-form-urlencoded"),
    ("PUT", "", b"x", "text/plain"),
    ("DELETE", "", None, None),
]


def all_route_paths(app):
    paths = set()
    for route in app.bottle.routes:
        paths.add(re.sub(r"<[^>]+>", "x%C3%A9%25ffy", route.rule))
    return sorted(paths)


@pytest.mark.parametrize("method, suffix, body, content_type", MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_requests_on_every_route_never_give_a_500(app, owner, method, suffix, body, content_type):
    for signed_in in (False, True):
        web = webtest.TestApp(app)
        if signed_in:
            sign_in(web)
        web.set_cookie(indieauth.CSRF_COOKIE, "\u00ff" * 43)
        for path in all_route_paths(app):
            headers = {"Content-Type": content_type} if content_type else {}
            response = web.request(path + suffix, method=method, body=body, headers=headers,
                                   expect_errors=True)
            assert response.status_int < 500, (method, path, response.status, response.body[:300])
            assert b"Traceback" not in response.body  # bytes: /favicon.ico is not text


def test_a_garbage_session_cookie_is_not_an_error(web):
    web.set_cookie(indieauth.SESSION_COOKIE, "...\u00e9garbage")
    assert web.get("/").status_int == 200


# -- a real server ---------------------------------------------------------------------------

def raw_http(base, request_bytes):
    """Send bytes as they are (webtest and requests refuse invalid URLs); returns the status line."""
    import socket
    host, port = base.rsplit("/", 1)[-1].split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(request_bytes)
        data = b""
        while b"\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    return data.split(b"\r\n", 1)[0].decode("latin-1")


def test_invalid_utf8_in_the_path_of_every_route_is_not_a_500(live_server, app):
    for path in all_route_paths(app):
        target = re.sub(rb"x%C3%A9%25ffy", b"x\xff\xfey", path.encode()).replace(b"/", b"/", 1)
        for request in (b"GET " + target + b"?a=%ff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                        b"POST " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 4\r\n\r\n%ff=",
                        b"GET /%ff%fe" + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"):
            status = raw_http(live_server, request)
            assert status.startswith("HTTP/1.1 ") and not status.startswith("HTTP/1.1 5"), (request, status)


def test_sign_in_over_real_http(live_server, owner):
    browser = requests.Session()
    page = browser.get(live_server + "/login", timeout=5)
    soup = BeautifulSoup(page.text, "html.parser")
    fields = {i["name"]: i.get("value", "") for i in soup.select("form input[name]")}
    fields.update(username="owner", password=PASSWORD)
    response = browser.post(live_server + "/login/password", data=fields, allow_redirects=False, timeout=5)
    assert response.status_code == 303
    home = browser.get(live_server + "/", timeout=5)
    assert "Signed in as" in home.text
    assert home.headers["X-Frame-Options"] == "DENY"


def test_real_http_csrf_refusal_and_error_page(live_server, owner):
    response = requests.post(live_server + "/login/password", data={"username": "owner", "password": PASSWORD},
                             allow_redirects=False, timeout=5)
    assert response.status_code == 403 and "security token" in response.text
    assert requests.get(live_server + "/missing", timeout=5).status_code == 404


def test_seal_and_unseal_sign_for_a_purpose_and_expire(app, clock):
    sealed = app.seal("github-state", {"state": "abc"}, 60)
    assert app.unseal("github-state", sealed) == {"state": "abc"}
    assert app.unseal("partial", sealed) is None  # a value signed for one purpose serves no other
    value, _, signature = sealed.rpartition(".")
    assert app.unseal("github-state", value[:-2] + "xx." + signature) is None
    assert app.unseal("github-state", "") is None and app.unseal("github-state", None) is None
    clock.advance(seconds=61)
    assert app.unseal("github-state", sealed) is None


def test_favicon_is_served_small_cached_and_typed(web):
    """Browsers ask every page's /favicon.ico: an icon, not a 404 in every log."""
    icon = web.get("/favicon.ico")
    assert icon.content_type == "image/x-icon"
    assert icon.body[:4] == b"\x00\x00\x01\x00"  # the ICO header: reserved 0, type 1 (icon)
    assert len(icon.body) < 2048
    assert "max-age=" in icon.headers["Cache-Control"]


def test_on_a_one_user_server_the_login_form_asks_for_no_user_name(web, owner):
    form = web.get("/login").forms["password-login"]
    field = web.get("/login").html.select_one("#username")
    assert field.has_attr("hidden") and field["autocomplete"] == "username" and field["value"] == "owner"
    assert not web.get("/login").html.select("label[for=username]")
    form["password"] = PASSWORD
    form.submit(status=303)
    assert "Hello" in web.get("/").text


def test_a_sign_in_that_sends_no_user_name_on_a_one_user_server_is_the_sole_users(web, owner):
    page = web.get("/login")
    web.post("/login/password", {"csrf_token": page.forms["password-login"]["csrf_token"].value,
                                  "password": PASSWORD, "next": "/"}, status=303)
    assert "Hello" in web.get("/").text


def test_with_several_users_the_user_name_field_is_shown_empty(web, owner, app):
    app.storage.create_user("bob", "https://bob.example/")
    field = web.get("/login").html.select_one("#username")
    assert not field.has_attr("hidden") and field["value"] == "" and field["autocomplete"] == "username"


def test_the_profile_url_an_app_sends_fills_in_its_users_name(web, owner, app):
    app.storage.create_user("bob", "https://bob.example/")
    consent, _ = start_authorization(web, me="https://bob.example/")
    login = web.get(consent).follow()
    assert login.html.select_one("#username")["value"] == "bob"


def test_a_profile_url_of_nobody_here_fills_in_nothing(web, owner, app):
    app.storage.create_user("bob", "https://bob.example/")
    consent, _ = start_authorization(web, me="https://nobody.example/")
    login = web.get(consent).follow()
    assert login.html.select_one("#username")["value"] == ""


def test_the_sign_in_page_names_the_app_that_asks(web, owner):
    consent, _ = start_authorization(web, client_id="https://app.example/", redirect_uri="https://app.example/cb")
    login = web.get(consent).follow()
    assert "app.example" in login.html.select_one("#asking").text
    assert "published no information" in login.html.select_one("#client-unread").text
    assert not web.get("/login").html.select("#asking")


def test_the_start_page_guides_a_signed_in_person(web, owner):
    sign_in(web)
    page = web.get("/").html
    assert page.select_one("#guide-links pre.snippet") and page.select_one("#guide-links form button")
    assert page.select_one("#guide-tester a")["href"] == "/docs#tester"
    assert page.select_one("#guide-token a")["href"] == "/tokens/new"


def test_the_start_page_draws_30_days_of_sign_ins_and_tokens_without_script(web, owner, app, clock):
    app.storage.log_event("login", user=owner)  # 2026-01-01, 31 days before: not drawn
    clock.advance(days=31)
    sign_in(web)
    indieauth.issue_testing_token(app, owner, "https://app.example/", ["create"], 3600)
    page = web.get("/")
    svg = page.html.select_one("svg.activity")
    bars = {rect["class"][0]: rect.select_one("title").text for rect in svg.select("rect")}
    assert bars == {"login": "2026-02-01: 1 sign-in", "token_issued": "2026-02-01: 1 token issued to apps"}
    assert "1 sign-in," in page.html.select_one("#activity-summary").text
    assert "<script" not in page.text


def test_on_a_one_user_server_a_wrong_password_is_called_that(web, owner):
    assert sign_in(web, password="not it", status=400).html.select_one("[role=alert]").text == "The password is not right."
