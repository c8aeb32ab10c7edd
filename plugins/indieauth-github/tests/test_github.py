"""The github plugin, tested as a third party would: indieauth.testing, webtest and real local servers.

FAKE GITHUB is one HTTP server on 127.0.0.1 that imitates github.com and its REST API (under /api/v3, as
on GitHub Enterprise Server): the OAuth web flow (/login/oauth/authorize answers at once with a redirect
back, as if the person had approved; a setting makes it deny or sign in as another account),
/login/oauth/access_token, /user, /users/<login> and the profile pages /<login> with rel="me" links.
The user's own site is another local server; `me` is http://alice.test:PORT/, which the test resolver
sends to 127.0.0.1.  The browser is webtest; the hop to GitHub's authorize page is made with requests.
"""

import base64
import hashlib
import json
import secrets
import time
import urllib.parse

import bs4
import pytest
import requests
import webtest

import indieauth
from indieauth import testing
from indieauth_password import set_password

CLIENT_ID = "Iv1.fake-client-id"
CLIENT_SECRET = "fake client secret"
CALLBACK = "http://localhost/login/github/callback"
PASSWORD = "a long enough password"
ADDRESS = "192.0.2.10"
DROP = object()  # a setting left out of [plugins.github]


# -- local servers ----------------------------------------------------------------------------------

def page(status, html, headers=()):
    """An HTML answer for the kit's FakeServer."""
    return status, [("Content-Type", "text/html; charset=utf-8"), *headers], html


def api(status, data):
    """A JSON answer, typed as GitHub types it."""
    return status, {"Content-Type": "application/json; charset=utf-8"}, data


class FakeGitHub:
    """github.com and its API, as far as signing in needs them, answering through the kit's FakeServer;
    `requests` lists (method, path) of every request."""

    def __init__(self):
        self.server = testing.FakeServer().route("/*", self.handle, method="*")
        self.url, self.port, self.stop = self.server.url, self.server.port, self.server.stop
        self.reset()

    def reset(self):
        self.accounts = {}          # login (lowercase) -> {"login", "id", "blog", "page": [rel=me URLs]}
        self.sign_in_as = None      # the login that approves on the authorize page; None: the `login` hint
        self.deny = False           # the person chooses Cancel
        self.rate_limited = False   # /users/<login> (unauthenticated) answers 403 "rate limit exceeded"
        self.hang_up = False        # the token endpoint closes the connection without answering
        self.delay = 0              # seconds every request waits before it is answered (a slow or hanging GitHub)
        self.codes, self.tokens = {}, {}
        self.requests = []

    def add(self, login, account_id, blog="", page=None):
        self.accounts[login.lower()] = {"login": login, "id": account_id, "blog": blog,
                                        "page": [blog] if page is None and blog else list(page or [])}

    def handle(self, request):
        self.requests.append((request.method, request.path))
        if self.delay:
            self.server.hang(self.delay)
        if request.method == "POST" and request.path == "/login/oauth/access_token":
            return self.access_token(request)
        if request.path == "/login/oauth/authorize":
            return self.authorize(request.query)
        if request.path.startswith("/api/v3/"):
            if self.rate_limited and request.path.startswith("/api/v3/users/"):
                return api(403, {"message": "API rate limit exceeded for 127.0.0.1."})
            return self.api(request, request.path[len("/api/v3"):])
        account = self.accounts.get(request.path.strip("/").lower())
        if account is None:
            return page(404, "<h1>Not Found</h1>")
        links = "".join(f'<li><a rel="nofollow me" href="{href}">{href}</a></li>' for href in account["page"])
        return page(200, f"<!doctype html><h1>{account['login']}</h1><ul>{links}</ul>")

    def authorize(self, query):
        if query.get("client_id") != CLIENT_ID:
            return page(404, "<h1>Not Found</h1>")
        back = query.get("redirect_uri", CALLBACK)
        if not back.startswith(CALLBACK):  # GitHub: the registered callback URL or a path below it
            back, params = CALLBACK, {"error": "redirect_uri_mismatch"}
        elif self.deny:
            params = {"error": "access_denied", "error_description": "The user has denied your application access.",
                      "error_uri": "https://docs.github.com/apps/troubleshooting-authorization-request-errors"}
        else:
            code = secrets.token_hex(10)
            self.codes[code] = {"login": self.sign_in_as or query.get("login"), "redirect_uri": back,
                                "challenge": query.get("code_challenge")}
            params = {"code": code}
        params["state"] = query.get("state", "")
        return page(302, "", [("Location", back + "?" + urllib.parse.urlencode(params))])

    def access_token(self, request):
        if self.hang_up:
            return testing.HANG_UP
        form = request.form()
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return api(200, {"error": "incorrect_client_credentials",
                                              "error_description": "The client_id and/or client_secret passed "
                                                                   "are incorrect."})
        grant = self.codes.pop(form.get("code"), None)
        verifier = form.get("code_verifier", "")
        s256 = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if (grant is None or grant["redirect_uri"] != form.get("redirect_uri")
                or (grant["challenge"] and grant["challenge"] != s256)):
            return api(200, {"error": "bad_verification_code",
                                              "error_description": "The code passed is incorrect or expired."})
        token = "gho_" + secrets.token_hex(16)
        self.tokens[token] = grant["login"]
        return api(200, {"access_token": token, "token_type": "bearer", "scope": ""})

    def api(self, request, path):
        if path == "/user":
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            login = self.tokens.get(token) if scheme.lower() in ("bearer", "token") else None
            if login is None:
                return api(401, {"message": "Bad credentials"})
            return api(200, self.public(self.accounts[login.lower()]))
        if path.startswith("/users/"):
            account = self.accounts.get(path[len("/users/"):].lower())
            if account is None:
                return api(404, {"message": "Not Found"})
            return api(200, self.public(account))
        return api(404, {"message": "Not Found"})

    def public(self, account):
        return {"login": account["login"], "id": account["id"], "blog": account["blog"],
                "html_url": f"{self.url}/{account['login']}", "type": "User"}


class Site:
    """The user's own website through the kit's FakeServer: `pages[path] = (status, html, headers)`;
    `requests` lists the path of every request."""

    def __init__(self):
        self.server = testing.FakeServer().route("/*", self.handle, method="*")
        self.port, self.stop = self.server.port, self.server.stop
        self.pages, self.requests = {}, []

    def url(self, path="/", host="alice.test"):
        return self.server.url_for(path, host)

    def handle(self, request):
        self.requests.append(request.target)
        return page(*self.pages.get(request.target, (404, "<h1>Not here</h1>", ())))


@pytest.fixture(scope="module")
def servers():
    github, site = FakeGitHub(), Site()
    yield github, site
    github.stop()
    site.stop()


@pytest.fixture
def github(servers):
    servers[0].reset()
    return servers[0]


@pytest.fixture
def site(servers):
    servers[1].pages, servers[1].requests = {}, []
    return servers[1]


closed_port = testing.free_port  # free a moment ago: nothing listens there


# -- the app and a person ---------------------------------------------------------------------------

Clock = testing.Clock


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def make_app(tmp_path, github, clock):
    """make_app(settings, methods=[...], password=False, fetch_allow=True, config={...}): an app with the
    github plugin pointed at the fake GitHub; every host name resolves to 127.0.0.1.  `config` adds
    tables, such as {"plugins": {"hosting": {}}}."""
    def make(settings=None, methods=None, password=False, fetch_allow=True, config=None):
        table = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "github_url": github.url,
                 "api_url": github.url + "/api/v3"}
        table.update(settings or {})
        table = {key: value for key, value in table.items() if value is not DROP}
        plugins = {"password": {}, "github": table} if password else {"github": table}
        tables = {"plugins": plugins, "security": {"fetch_allow": ["127.0.0.1/32"] if fetch_allow else []}}
        if methods:
            tables["auth"] = {"methods": methods}
        for name, table in (config or {}).items():  # merged, so {"plugins": {"hosting": {}}} keeps github
            tables.setdefault(name, {}).update(table)
        return testing.make_app(tables, folder=str(tmp_path), clock=clock,
                                resolver=lambda host, port: ["127.0.0.1"])
    return make


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def web(app):
    return webtest.TestApp(app, extra_environ={"REMOTE_ADDR": ADDRESS})


def rel_me_page(*hrefs, rel="me"):
    return "<!doctype html><title>Alice</title>" + "".join(f'<a rel="{rel}" href="{h}">GitHub</a>' for h in hrefs)


@pytest.fixture
def alice(app, github, site):
    """Alice: http://alice.test:PORT/ links to the fake GitHub's /alice, which links back."""
    me = site.url("/")
    site.pages["/"] = (200, rel_me_page(f"{github.url}/alice"), ())
    github.add("alice", 101, blog=me)
    return app.storage.create_user("alice", me)


def start(web, me, path="/login", status=303):
    """Fill in the GitHub form on the login page; returns the answer (303 to GitHub when all is well)."""
    form = web.get(path).forms["github-login"]
    form["me"] = me
    return form.submit(status=status)


def via_github(response):
    """Follow the 303 to the fake GitHub's authorize page, which answers with a redirect back; returns the
    callback path with its query, as the browser would request it."""
    location = response.headers["Location"]
    assert "/login/oauth/authorize?" in location
    back = requests.get(location, allow_redirects=False, timeout=5)
    assert back.status_code == 302, back.text
    parts = urllib.parse.urlsplit(back.headers["Location"])
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == CALLBACK
    return parts.path + "?" + parts.query


def sign_in(web, me, status=303, path="/login"):
    """The whole GitHub sign-in; returns the callback's answer."""
    return web.get(via_github(start(web, me, path)), status=status)


def error(response):
    return response.html.select_one("#github-error").text


def signed_in(web):
    return "Signed in as" in web.get("/").text


# -- the whole sign-in ------------------------------------------------------------------------------

def test_whole_sign_in_through_a_pending_authorization_request_to_a_code(web, alice):
    consent_url, verifier = testing.start_authorization(web)
    login_url = web.get(consent_url, status=303).headers["Location"]
    callback = via_github(start(web, alice.me, path=login_url))
    assert web.get(callback, status=303).headers["Location"] == "http://localhost" + consent_url
    code = testing.approve(web, consent_url)
    tokens = testing.redeem(web, code, verifier)
    assert tokens["me"] == alice.me and tokens["access_token"]


def test_the_browser_goes_to_github_with_client_id_callback_state_and_no_scope(web, alice, github):
    location = start(web, alice.me).headers["Location"]
    assert location.startswith(github.url + "/login/oauth/authorize?")
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query, keep_blank_values=True))
    assert query["client_id"] == CLIENT_ID and query["redirect_uri"] == CALLBACK
    assert query["scope"] == "" and len(query["state"]) >= 32 and query["login"] == "alice"
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43


def test_a_sign_in_is_recorded_with_the_method_github(web, alice, app):
    sign_in(web, alice.me)
    assert signed_in(web)
    event = app.storage.events(1)[0]
    assert event.kind == "login" and '"method": "github"' in event.data


def test_a_website_typed_without_https_is_found(web, app):
    """`BOB.test` is read as https://bob.test/ (canonical form), as people type it: the user is found
    and their page fetched (nothing listens on port 443 here, which the message shows)."""
    app.storage.create_user("bob", "https://bob.test/")
    assert "Your page https://bob.test/ could not be read" in error(start(web, "BOB.test", status=502))


def test_the_link_back_may_be_a_rel_me_on_the_github_profile_page(web, alice, github):
    github.add("alice", 101, blog="", page=[alice.me])
    sign_in(web, alice.me)
    assert signed_in(web)


def test_when_the_api_is_rate_limited_the_profile_page_is_read_and_the_login_compared_ignoring_case(
        web, alice, github, site):
    site.pages["/"] = (200, rel_me_page(f"{github.url}/ALICE"), ())
    github.rate_limited = True
    sign_in(web, alice.me)
    assert signed_in(web)


def test_a_website_kept_without_a_scheme_on_github_links_back(web, alice, github, site):
    github.add("alice", 101, blog=f"alice.test:{site.port}")
    sign_in(web, alice.me)
    assert signed_in(web)


def test_a_rel_me_in_the_link_header_is_found(web, alice, github, site):
    site.pages["/"] = (200, "<!doctype html><p>No links here.</p>", [("Link", f'<{github.url}/alice>; rel="me"')])
    sign_in(web, alice.me)
    assert signed_in(web)


def test_rel_me_authn_links_are_preferred_to_other_rel_me_links(web, alice, github, site):
    github.add("bob", 202, blog=alice.me)
    site.pages["/"] = (200, rel_me_page(f"{github.url}/bob") + rel_me_page(f"{github.url}/alice", rel="me authn"), ())
    assert "login=alice" in start(web, alice.me).headers["Location"]


def test_the_github_account_is_remembered_without_its_token(web, alice, app):
    sign_in(web, alice.me)
    assert app.storage.get_credential(alice, "github") == {"login": "alice", "id": 101}


def test_only_a_registered_users_page_is_fetched(web, alice, site):
    start(web, "http://stranger.test/", status=400)
    assert site.requests == []


# -- as a second factor -----------------------------------------------------------------------------

@pytest.fixture
def two_step(make_app, github, site):
    """Password, then GitHub: [auth] methods = ["password+github"]; Alice has both."""
    app = make_app(methods=["password+github"], password=True)
    me = site.url("/")
    site.pages["/"] = (200, rel_me_page(f"{github.url}/alice"), ())
    github.add("alice", 101, blog=me)
    set_password(app, app.storage.create_user("alice", me), PASSWORD)
    web = webtest.TestApp(app, extra_environ={"REMOTE_ADDR": ADDRESS})
    form = web.get("/login").forms["password-login"]
    form["username"], form["password"] = "alice", PASSWORD
    assert form.submit(status=303).headers["Location"].endswith("/login/github?next=%2F")
    return app, web


def test_github_as_a_second_factor_after_the_password(two_step):
    app, web = two_step
    page = web.get("/login/github")
    assert page.html.select_one("#github-me") is None and "alice.test" in page.html.select_one("#github-help").text
    web.get(via_github(page.forms["github-login"].submit(status=303)), status=303)
    assert signed_in(web)
    assert '"method": "password+github"' in app.storage.events(1)[0].data


def test_a_second_factor_whose_first_step_expired_says_so(two_step):
    app, web = two_step
    callback = via_github(web.get("/login/github").forms["github-login"].submit(status=303))
    web.cookiejar.clear("localhost.local", "/", indieauth.PARTIAL_COOKIE)
    response = web.get(callback, status=400)
    assert "The first step of this sign-in has expired" in error(response)
    assert not signed_in(web)


# -- failures, each with what to fix -----------------------------------------------------------------

def test_no_rel_me_link_to_github_on_the_page(web, alice, site):
    site.pages["/"] = (200, rel_me_page("https://mastodon.example/@alice"), ())
    message = error(start(web, alice.me, status=400))
    assert f'Your page {alice.me} has no rel="me" link to a GitHub profile' in message


def test_a_link_to_github_without_rel_me_is_pointed_out(web, alice, github, site):
    site.pages["/"] = (200, f'<a href="{github.url}/alice">my code</a>', ())
    message = error(start(web, alice.me, status=400))
    assert f'links to {github.url}/alice, but not with rel="me"' in message and 'Add rel="me"' in message


def test_the_github_profile_does_not_link_back(web, alice, github):
    github.add("alice", 101, blog="https://elsewhere.example/")
    message = error(start(web, alice.me, status=400))
    assert f"Your GitHub profile {github.url}/alice does not link back to {alice.me}" in message
    assert "elsewhere.example" in message and f"set Website to exactly {alice.me}" in message


def test_an_https_link_back_to_an_http_profile_url_is_refused_saying_so(web, alice, github):
    github.add("alice", 101, blog=alice.me.replace("http://", "https://"))
    message = error(start(web, alice.me, status=400))
    assert "it starts with https:// where your profile URL starts with http://" in message


@pytest.mark.parametrize("me_path, github_path, says", [
    ("/alice/", "/alice", "it has no slash (/) at the end, but your profile URL ends with one"),
    ("/alice", "/alice/", "it ends with a slash (/) that your profile URL does not have"),
])
def test_a_trailing_slash_mismatch_is_refused_saying_which(make_app, github, site, me_path, github_path, says):
    app = make_app()
    me = site.url(me_path)
    app.storage.create_user("alice", me)
    site.pages[me_path] = (200, rel_me_page(f"{github.url}/alice"), ())
    github.add("alice", 101, blog=site.url(github_path))
    message = error(start(webtest.TestApp(app), me, status=400))
    assert says in message


def test_a_rel_me_to_an_account_github_does_not_have(web, alice, github, site):
    site.pages["/"] = (200, rel_me_page(f"{github.url}/nobody-here"), ())
    message = error(start(web, alice.me, status=400))
    assert f"links to {github.url}/nobody-here, but GitHub has no such account" in message


def test_signed_in_to_github_as_another_account_is_refused(web, alice, github):
    github.add("mallory", 666, blog="https://mallory.example/")
    github.sign_in_as = "mallory"
    message = error(sign_in(web, alice.me, status=403))
    assert f"You are signed in to GitHub as @mallory, but {alice.me} links to the GitHub account @alice" in message
    assert not signed_in(web)


def test_the_account_is_compared_by_its_numeric_id(web, alice, github):
    """Logins can be given up and taken by someone else; the id stays with the account."""
    github.accounts["newcomer"] = {"login": "ALICE", "id": 999, "blog": alice.me, "page": []}
    github.sign_in_as = "newcomer"
    assert "You are signed in to GitHub as @ALICE" in error(sign_in(web, alice.me, status=403))
    assert not signed_in(web)


def test_wrong_accounts_count_as_failed_attempts_and_are_throttled(web, alice, github, app):
    github.add("mallory", 666)
    github.sign_in_as = "mallory"
    for _ in range(app.config["security"]["account_failures"]):
        sign_in(web, alice.me, status=403)
    response = start(web, alice.me, status=429)
    assert int(response.headers["Retry-After"]) > 0
    assert error(response).strip() == indieauth.too_many_attempts(int(response.headers["Retry-After"]))


def test_the_person_cancels_on_github(web, alice, github):
    github.deny = True
    message = error(sign_in(web, alice.me, status=400))
    assert "You cancelled on GitHub (GitHub answered error=access_denied)" in message
    assert not signed_in(web)


def without(callback, name):
    path, _, query = callback.partition("?")
    return path + "?" + urllib.parse.urlencode([(k, v) for k, v in urllib.parse.parse_qsl(query) if k != name])


def test_an_answer_without_state_is_refused(web, alice):
    callback = via_github(start(web, alice.me))
    response = web.get(without(callback, "state"), status=400)
    assert "without its state value" in error(response) and "cross-site request forgery" in error(response)
    assert not signed_in(web)


def test_an_answer_with_another_state_is_refused(web, alice):
    callback = via_github(start(web, alice.me))
    response = web.get(without(callback, "state") + "&state=" + "x" * 43, status=400)
    assert "its state value does not match" in error(response) and "cross-site request forgery" in error(response)
    assert not signed_in(web)


def test_an_answer_in_a_browser_that_did_not_start_the_sign_in_is_refused(web, app, alice):
    callback = via_github(start(web, alice.me))
    victim = webtest.TestApp(app, extra_environ={"REMOTE_ADDR": ADDRESS})
    assert "No sign-in with GitHub was started in this browser" in error(victim.get(callback, status=400))
    assert not signed_in(victim)


def test_an_answer_works_only_once(web, alice, github):
    callback = via_github(start(web, alice.me))
    web.get(callback, status=303)
    exchanges = github.requests.count(("POST", "/login/oauth/access_token"))
    assert "This answer from GitHub was used already" in error(web.get(callback, status=400))
    assert github.requests.count(("POST", "/login/oauth/access_token")) == exchanges


def test_the_pending_sign_in_is_kept_on_the_server_not_in_a_cookie(web, app, alice, github):
    """Nothing the browser holds says whose sign-in it is: a made-up binding cookie, or another browser's
    copy of the callback, is worthless, and the real one still works once."""
    callback = via_github(start(web, alice.me))
    assert not any("github" in name for name in web.cookies)
    forger = webtest.TestApp(app, extra_environ={"REMOTE_ADDR": ADDRESS})
    forger.set_cookie(indieauth.BROWSER_COOKIE, secrets.token_urlsafe(32))
    assert "No sign-in with GitHub was started in this browser" in error(forger.get(callback, status=400))
    assert not signed_in(forger)
    web.get(callback, status=303)
    assert signed_in(web)


def test_a_second_worker_refuses_a_replay_too(make_app, web, app, alice, github):
    """Used states live in the database, not in one process: an app built on the same database (as a
    second `serve --workers` process is) refuses the answer the first one took."""
    callback = via_github(start(web, alice.me))
    web.get(callback, status=303)
    second = webtest.TestApp(make_app(), extra_environ={"REMOTE_ADDR": ADDRESS})
    second.set_cookie(indieauth.BROWSER_COOKIE, web.cookies[indieauth.BROWSER_COOKIE])
    assert "This answer from GitHub was used already" in error(second.get(callback, status=400))


def test_an_answer_after_ten_minutes_is_refused(web, alice, clock):
    callback = via_github(start(web, alice.me))
    clock.advance(minutes=11)
    assert "took longer than 10 minutes" in error(web.get(callback, status=400))
    assert not signed_in(web)


def test_github_unreachable_while_checking_the_profile(make_app, site):
    down = f"http://127.0.0.1:{closed_port()}"
    app = make_app({"github_url": down, "api_url": down})
    site.pages["/"] = (200, rel_me_page(f"{down}/alice"), ())
    me = app.storage.create_user("alice", site.url("/")).me
    response = start(webtest.TestApp(app), me, status=502)
    assert f"GitHub ({down[7:]}) could not be reached: could not connect" in error(response)


def test_github_unreachable_while_finishing_the_sign_in(web, alice, github):
    callback = via_github(start(web, alice.me))
    github.hang_up = True
    message = error(web.get(callback, status=502))
    assert "could not be reached" in message and "try again in a few minutes" in message


def test_a_wrong_client_secret_tells_the_site_owner_what_to_check(make_app, github, site):
    app = make_app({"client_secret": "not the secret"})
    site.pages["/"] = (200, rel_me_page(f"{github.url}/alice"), ())
    me = app.storage.create_user("alice", site.url("/")).me
    github.add("alice", 101, blog=me)
    web = webtest.TestApp(app)
    message = error(sign_in(web, me, status=502))
    assert "did not accept this server's OAuth app credentials" in message and "client_secret" in message


def test_an_unknown_profile_url(web, alice):
    message = error(start(web, "https://nobody.example/", status=400))
    assert "There is no account here with the profile URL https://nobody.example/" in message


def test_an_unknown_profile_url_suggests_the_registered_variant(web, alice):
    typed = alice.me.replace("http://", "https://")
    assert f"Did you mean {alice.me}?" in error(start(web, typed, status=400))


def test_no_profile_url_entered(web, alice):
    assert "Enter your profile URL" in error(start(web, "  ", status=400))


def test_a_page_that_answers_an_error(web, alice, site):
    site.pages["/"] = (404, "gone", ())
    assert f"Your page {alice.me} answered HTTP 404" in error(start(web, alice.me, status=502))


def test_the_users_page_is_fetched_through_the_ssrf_guard(make_app, site, github):
    app = make_app(fetch_allow=False)
    me = app.storage.create_user("alice", site.url("/")).me
    message = error(start(webtest.TestApp(app), me, status=502))
    assert f"Your page {me} could not be read" in message and "loopback address" in message
    assert site.requests == []


# -- the form ---------------------------------------------------------------------------------------

def test_the_form_has_a_labelled_url_field(web):
    html = web.get("/login").html
    field = html.select_one("#github-me")
    assert html.select_one("label[for=github-me]") and field["autocomplete"] == "url" and field["name"] == "me"


def test_the_profile_url_field_is_filled_in_with_the_user_this_sign_in_is_for(web, app, alice):
    assert web.get("/login").html.select_one("#github-me")["value"] == alice.me  # the sole user
    bob = app.storage.create_user("bob", "https://bob.example/")
    assert web.get("/login").html.select_one("#github-me")["value"] == ""
    consent, _ = testing.start_authorization(web, me=bob.me)  # (a profile URL with a port is no hint at all)
    assert web.get(consent).follow().html.select_one("#github-me")["value"] == bob.me  # the app's me


def test_an_error_is_an_alert_next_to_the_field_which_keeps_what_was_typed(web, alice):
    html = start(web, "https://nobody.example/", status=400).html
    assert html.select_one("#github-error")["role"] == "alert"
    field = html.select_one("#github-me")
    assert "github-error" in field["aria-describedby"] and field["value"] == "https://nobody.example/"


def test_a_callback_without_a_sign_in_is_a_page_not_a_500(web):
    assert "No sign-in with GitHub" in error(web.get("/login/github/callback?code=x&state=y", status=400))


# -- configuration ----------------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["client_id", "client_secret"])
def test_a_missing_required_key_is_refused_at_start_up_naming_it(make_app, key):
    with pytest.raises(indieauth.ConfigError, match=rf"\[plugins.github\] {key}: required"):
        make_app({key: DROP})


def test_an_empty_client_id_is_refused_at_start_up(make_app):
    with pytest.raises(indieauth.ConfigError, match=r"\[plugins.github\] client_id: required"):
        make_app({"client_id": "  "})


def test_the_client_secret_may_come_from_the_environment(make_app, monkeypatch):
    monkeypatch.setenv("GITHUB_SECRET_FOR_TEST", "from the environment")
    app = make_app({"client_secret": {"env": "GITHUB_SECRET_FOR_TEST"}})
    assert app.plugin_state["github"].github.client_secret == "from the environment"


def test_an_unset_environment_variable_is_refused_naming_it(make_app, monkeypatch):
    monkeypatch.delenv("GITHUB_SECRET_FOR_TEST", raising=False)
    with pytest.raises(indieauth.ConfigError,
                       match=r"client_secret: environment variable GITHUB_SECRET_FOR_TEST is not set"):
        make_app({"client_secret": {"env": "GITHUB_SECRET_FOR_TEST"}})


def test_the_client_secret_may_come_from_a_file_next_to_the_config(make_app, tmp_path):
    (tmp_path / "github-secret").write_text("from a file\n")
    app = make_app({"client_secret": {"file": "github-secret"}})
    assert app.plugin_state["github"].github.client_secret == "from a file"


def test_a_missing_secret_file_is_refused_naming_the_key(make_app):
    with pytest.raises(indieauth.ConfigError, match=r"\[plugins.github\] client_secret: cannot read .*nowhere"):
        make_app({"client_secret": {"file": "nowhere"}})


def test_a_github_url_that_is_not_http_is_refused(make_app):
    with pytest.raises(indieauth.ConfigError, match=r"\[plugins.github\] github_url: expected an http"):
        make_app({"github_url": "ftp://github.example/"})


def test_an_unknown_key_is_refused(make_app):
    with pytest.raises(indieauth.ConfigError, match=r"\[plugins.github\] unknown key 'clientid'"):
        make_app({"clientid": "x"})


def test_the_defaults_are_github_com(tmp_path):
    app = testing.make_app({"plugins": {"github": {"client_id": "x", "client_secret": "y"}}}, folder=str(tmp_path))
    service = app.plugin_state["github"].github
    assert (service.github_url, service.api_url) == ("https://github.com", "https://api.github.com")


# -- a GitHub that hangs holds at most half of the server's threads (issue 17) -----------------------

def test_a_sign_in_that_finds_no_free_slot_is_a_clear_busy_page(web, app, alice, site):
    """The user's page is read within the core's limit on fetches; with no slot free, the person is told at
    once that the server is busy (503, Retry-After), not that their page is offline."""
    with app.http.slots.taken("one.example"), app.http.slots.taken("two.example"):
        response = start(web, alice.me, status=503)
    assert error(response) == (f"Your page {alice.me} could not be read right now: this server is already "
                               f"waiting on as many sites as it allows; try again in a moment.")
    assert response.headers["Retry-After"] == "1" and site.requests == []


def test_coming_back_from_github_with_no_free_slot_is_a_clear_busy_page(web, app, alice, github):
    """The code exchange takes a slot of the core's limit too: with none free, GitHub is not asked and the
    person is told so, never a 500."""
    callback = via_github(start(web, alice.me))
    asked = len(github.requests)
    with app.http.slots.taken("one.example"), app.http.slots.taken("two.example"):
        response = web.get(callback, status=503)
    assert error(response) == (f"GitHub (127.0.0.1:{github.port}) could not be reached right now: this server is "
                               f"already waiting on as many services as it allows; try again in a moment.")
    assert len(github.requests) == asked and not signed_in(web)


def browser_at_login(base):
    """A browser that opened the real server's login page: (its session, the GitHub form's URL, its fields)."""
    session = requests.Session()
    form = bs4.BeautifulSoup(session.get(base + "/login", timeout=5).text, "html.parser").select_one("#github-login")
    fields = {tag["name"]: tag.get("value", "") for tag in form.select("input[name]")}
    return session, urllib.parse.urljoin(base + "/login", form["action"]), fields


def wait_until(condition, seconds):
    end = time.monotonic() + seconds
    while not condition() and time.monotonic() < end:
        time.sleep(0.02)


def test_sign_ins_against_a_hanging_github_hold_at_most_half_the_threads(make_app, alice, github, clock):
    """Four sign-ins at once on a real server with 4 threads, GitHub not answering: two wait on it (the
    core's limit, half of [server] threads), the two others are told at once that the server is busy, and
    the metadata and token verification answer meanwhile.  Before, all four threads waited on GitHub."""
    clock.now = indieauth.utcnow()  # real cookies, kept by a real cookie jar
    app = make_app({"timeout": "3s"})
    token, _ = indieauth.issue_testing_token(app, alice, "https://app.example/", ["profile"], 3600)
    github.delay = 30
    with testing.serving(app, threads=4) as base:
        browsers = [browser_at_login(base) for _ in range(4)]
        threads, answers = testing.at_once([lambda b=b: b[0].post(b[1], dict(b[2], me=alice.me), allow_redirects=False,
                                                          timeout=10) for b in browsers])  # the API, then the page
        wait_until(lambda: sum(1 for a in answers if a) >= 2, 1)  # GitHub is still not answering
        metadata = requests.get(base + "/.well-known/oauth-authorization-server", timeout=1)
        verified = requests.get(base + "/token", headers={"Authorization": "Bearer " + token}, timeout=1)
        asked = len(github.requests)
        for thread in threads:
            thread.join()
    assert metadata.status_code == 200 and verified.status_code == 200 and verified.json()["me"] == alice.me
    assert asked == 2  # two sign-ins wait on GitHub, no more
    busy = [(page, took) for page, took in answers if getattr(page, "status_code", None) == 503]
    waited = [(page, took) for page, took in answers if getattr(page, "status_code", None) == 502]
    assert len(busy) == 2 and len(waited) == 2, answers
    for page, took in busy:
        assert took < 1 and page.headers["Retry-After"] == "1"
        message = bs4.BeautifulSoup(page.text, "html.parser").select_one("#github-error").text
        assert "could not be" in message and "right now: this server is already waiting on as many" in message
        assert message.endswith("try again in a moment.")
    assert all("could not be reached: timed out after 3 s" in page.text for page, _ in waited)


def test_two_people_signing_in_at_once_both_get_through_a_slow_github(make_app, alice, github, clock):
    """The core's limit allows one fetch per host, which would let one person at a time talk to GitHub:
    the plugin's calls are not held to it, so two sign-ins at once both complete while GitHub takes
    0.3 s for each answer."""
    clock.now = indieauth.utcnow()
    app = make_app()
    github.delay = 0.3
    with testing.serving(app, threads=4) as base:
        browsers = [browser_at_login(base) for _ in range(2)]
        threads, left = testing.at_once([lambda b=b: b[0].post(b[1], dict(b[2], me=alice.me), allow_redirects=False,
                                                       timeout=5) for b in browsers])
        for thread in threads:
            thread.join()
        assert [getattr(page, "status_code", page) for page, _ in left] == [303, 303], left
        callbacks = [base + via_github(page) for page, _ in left]
        threads, back = testing.at_once([lambda b=b, url=url: b[0].get(url, allow_redirects=False, timeout=5)
                                 for b, url in zip(browsers, callbacks)])
        for thread in threads:
            thread.join()
        assert [getattr(page, "status_code", page) for page, _ in back] == [303, 303], back
        assert all("Signed in as" in b[0].get(base + "/", timeout=5).text for b in browsers)
