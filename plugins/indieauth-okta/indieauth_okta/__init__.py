"""Okta Verify push for indieauth, through the Okta Factors API: mostly a second factor after a
password, also usable alone after asking for the user name.

Built only on indieauth's public hooks and app API, exactly as a third-party plugin would be.  The
pending push is kept server-side (in the user's `okta` credential), reached from the browser that
sent it through a cookie holding a random secret; Okta's poll URL never leaves the server.
"""

import calendar
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import urllib.parse

import bottle

from indieauth import (AuthenticationFailed, Authenticator, ConfigError, FetchBusy, FetchError, ServiceSlots,
                       LoginFailed, Setting, form_value, hookimpl, normalize_username, safe_next)

__version__ = "0.1.0"
NAME = "okta"
HERE = os.path.dirname(__file__)
VIEWS = os.path.join(HERE, "views")
STATIC = os.path.join(HERE, "static")
log = logging.getLogger("indieauth.okta")

SETTINGS = {
    "org_url": Setting("url", None, "Your Okta organisation, e.g. \"https://example.okta.com\" (https; "
                                    "http only on 127.0.0.1 or localhost, for tests). Required."),
    "api_token": Setting("secret", None, "Okta API token, sent as `Authorization: SSWS <token>`: inline, "
                                         "{ env = \"NAME\" } or { file = \"path\" }. Required."),
    "users": Setting("table", {}, "Table of indieauth user name = Okta user id (or Okta login); "
                                  "these users are looked up by that id."),
    "login_domain": Setting("str", "", "Domain appended to the user name (\"ann\" → ann@DOMAIN) to look up "
                                       "users who are not in `users` by their Okta login."),
    "timeout": Setting("duration", 5, "Time allowed for each call to Okta, e.g. \"5s\" (1s to 60s); a status "
                                      "poll gets at most 3s."),
}
# A status poll is one GET that Okta answers at once (it does not hold the request until the push is
# answered), made again at each load of the wait page and each check of its script: it gets at most this.
POLL_TIMEOUT = 3
PUSH_LIFETIME = 600  # seconds a pending push is kept here; Okta's own pushes expire after 5 minutes
MAX_PENDING = 5      # pending pushes kept per user (one per browser that sent one)
COOKIE = "indieauth_okta"
RESULTS = ("WAITING", "SUCCESS", "REJECTED", "TIMEOUT")
USABLE_STATUSES = ("ACTIVE", "PASSWORD_EXPIRED", "RECOVERY", "LOCKED_OUT")  # Okta user statuses

NO_ACCOUNT = "There is no Okta account for this user name."
NO_PUSH = ("No Okta Verify push is set up for your Okta account. Set up Okta Verify in Okta, "
           "or use another way to sign in.")
REJECTED = "You declined the sign-in on your phone."
TIMEOUT = "The push expired before it was answered. Send another."
GONE = "This push is no longer waiting for an answer. Send another."
BUSY = ("Okta could not be reached right now: this server is already waiting on as many services as it allows; "
        "try again in a moment.")
STEP_EXPIRED = "The time allowed for signing in ran out before the push was answered. Start again."


# -- configuration

def load_settings(app):
    """The validated `[plugins.okta]` table with the API token read; ConfigError names the key."""
    values = app.plugin_config(NAME, SETTINGS)
    where = app.config.where(f"plugins.{NAME}")
    if values["org_url"] is None:
        raise ConfigError(f"{where} org_url: required, the address of your Okta organisation, "
                          f"like \"https://example.okta.com\"")
    parts = urllib.parse.urlsplit(values["org_url"])
    if parts.scheme != "https" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise ConfigError(f"{where} org_url: must be https:// (the API token travels with every call), "
                          f"got {values['org_url']!r}")
    if parts.query or parts.fragment:
        raise ConfigError(f"{where} org_url: expected the organisation's address alone, "
                          f"got {values['org_url']!r}")
    values["api_token"] = app.plugin_secret(NAME, "api_token", values["api_token"], needed="an Okta API token")
    values["users"] = users_table(where, values["users"])
    domain = values["login_domain"]
    if domain and not re.fullmatch(r"[A-Za-z0-9.-]+\.[A-Za-z0-9-]+", domain):
        raise ConfigError(f"{where} login_domain: expected a domain like \"example.com\", got {domain!r}")
    if not values["users"] and not domain:
        raise ConfigError(f"{where} users: map at least one user to an Okta user id, or set login_domain")
    if not 1 <= values["timeout"] <= 60:
        raise ConfigError(f"{where} timeout: expected 1s to 60s, got {values['timeout']!r}")
    return values


def users_table(where, table):
    """{user name: Okta user id or login} from the `users` table (of strings, the core checked that);
    ConfigError naming the bad entry."""
    users = {}
    for name, okta_id in table.items():
        if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{0,63}", normalize_username(name)):
            raise ConfigError(f"{where} users: {name!r} is not a valid user name")
        if not re.fullmatch(r"[^\s/?#]{1,255}", okta_id):
            raise ConfigError(f"{where} users: {name}: expected an Okta user id like \"00ub0oNGTSWTBKOLGLNR\", "
                              f"got {okta_id!r}")
        if normalize_username(name) in users:
            raise ConfigError(f"{where} users: {name!r} is listed twice (user names ignore case)")
        users[normalize_username(name)] = okta_id
    return users


# -- the Okta API

class OktaProblem(Exception):
    """Okta could not be asked, or refused, or answered something unexpected; `message` is for the person."""

    def __init__(self, message, status=502):
        super().__init__(message)
        self.message, self.status = message, status


class OktaBusy(OktaProblem):
    """Okta was not asked: this server is already waiting on as many other sites as it allows."""

    def __init__(self):
        super().__init__(BUSY, 503)


class Okta:
    """The calls of Okta's Users and Factors APIs that a push needs, each authenticated with the SSWS
    API token, through `http`; status polls through `poll_http` (a shorter deadline).  Every failure is an
    OktaProblem whose message a person can act on, OktaBusy when the call was not even made."""

    def __init__(self, http, org_url, api_token, poll_http=None):
        self.http, self.org_url, self.api_token = http, org_url, api_token
        self.poll_http = poll_http or http

    def call(self, method, url, expect, http=None):
        """The JSON answer of one call when its status is `expect`; None for a 404."""
        headers = {"Authorization": f"SSWS {self.api_token}"}
        body = {}
        if method == "POST":  # nothing of ours goes to Okta: the verify request of a push is empty
            headers["Content-Type"], body = "application/json", {"data": b"{}"}
        try:
            response = (http or self.http).request(method, url, accept="application/json", follow_redirects=False,
                                                   headers=headers, **body)
        except FetchBusy:
            raise OktaBusy() from None
        except FetchError as error:
            log.warning("Okta cannot be reached at %s: %s", self.org_url, error)
            raise OktaProblem(f"Okta cannot be reached right now ({error}). Try again in a moment.") from None
        try:
            answer = json.loads(response.content)
        except ValueError:
            answer = None
        if response.status == expect and answer is not None:
            return answer
        code = answer.get("errorCode", "") if isinstance(answer, dict) else ""
        summary = answer.get("errorSummary", "") if isinstance(answer, dict) else ""
        if response.status == 404 and code:
            return None
        log.warning("Okta answered %s %s with HTTP %s %s %s", method, urllib.parse.urlsplit(url).path,
                    response.status, code, summary)
        if response.status in (401, 403):
            log.error("Okta refused the API token (%s): check [plugins.%s] api_token", summary or code, NAME)
            raise OktaProblem("Okta refused this server's API token, so no push can be sent. "
                              "Tell the site's administrator.")
        if response.status == 429:
            raise OktaProblem("Okta is receiving too many requests right now. Try again in a minute.")
        raise OktaProblem(f"Okta gave an answer this server does not understand (HTTP {response.status}). "
                          f"Try again later, or tell the site's administrator.")

    def api(self, *segments):
        return self.org_url + "api/v1/" + "/".join(urllib.parse.quote(s, safe="@") for s in segments)

    def find_user(self, key):
        """The Okta user id for an id or login; None when Okta has no such user."""
        user = self.call("GET", self.api("users", key), 200)
        if user is None:
            return None
        if not isinstance(user, dict) or not isinstance(user.get("id"), str):
            raise self.unexpected("user")
        if user.get("status") not in USABLE_STATUSES:
            raise OktaProblem("Your Okta account is suspended or deactivated, so no push can be sent.", 403)
        return user["id"]

    def push_factor(self, user_id):
        """The id of the user's active Okta Verify push factor, or None."""
        factors = self.call("GET", self.api("users", user_id, "factors"), 200)
        if not isinstance(factors, list):
            raise self.unexpected("factors")
        for factor in factors:
            if (isinstance(factor, dict) and factor.get("factorType") == "push"
                    and factor.get("provider") == "OKTA" and factor.get("status") == "ACTIVE"
                    and isinstance(factor.get("id"), str)):
                return factor["id"]
        return None

    def send_push(self, user_id, factor_id):
        """Send the push: (factorResult, poll URL, number to tap or None)."""
        url = self.api("users", user_id, "factors", factor_id, "verify")
        return self.transaction(self.call("POST", url, 201))

    def poll(self, href):
        """Ask how the push went: (factorResult, poll URL, number to tap or None)."""
        return self.transaction(self.call("GET", href, 200, http=self.poll_http))

    def transaction(self, answer):
        """(factorResult, poll URL, number) of a verify or poll answer; the poll URL must be one of the org's
        Factors API URLs, so the API token is never sent anywhere else."""
        if not isinstance(answer, dict) or answer.get("factorResult") not in RESULTS:
            raise self.unexpected("push")
        href = dig(answer, "_links", "poll", "href")
        if answer["factorResult"] == "WAITING" and not self.is_poll_link(href):
            raise self.unexpected("push (its poll link is not one of the organisation's)")
        number = dig(answer, "_embedded", "challenge", "correctAnswer")  # Okta Verify's number challenge
        if not isinstance(number, int) or isinstance(number, bool):
            number = None
        return answer["factorResult"], href, number

    def is_poll_link(self, href):
        """True for `{org_url}api/v1/users/{id}/factors/{id}/transactions/{id}` and nothing else."""
        prefix = self.org_url + "api/v1/users/"
        return (isinstance(href, str) and href.startswith(prefix) and ".." not in href
                and re.fullmatch(r"[\w.-]+/factors/[\w.-]+/transactions/[\w.-]+", href[len(prefix):]))

    def unexpected(self, what):
        log.warning("Okta's answer about a %s is not what the Factors API describes", what)
        return OktaProblem("Okta gave an answer this server does not understand. "
                           "Try again later, or tell the site's administrator.")


def dig(value, *keys):
    """value[k1][k2]… of nested JSON objects, or None where one is missing or not an object."""
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


# -- pending pushes: server-side, in the user's credential, reached through this browser's cookie

def digest(value):
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


class PendingPushes:
    """The pushes waiting for an answer, in `app.storage`'s `okta` credential of each user: keyed by a
    hash of the id in the wait page's URL, each bound to the browser that sent it by a hash of the
    secret in its cookie.  Kept `PUSH_LIFETIME` seconds by the app's clock."""

    def __init__(self, app):
        self.app = app

    def now(self):
        return calendar.timegm(self.app.now().timetuple())

    def live(self, data):
        """The pushes in a credential's data that have not expired."""
        pushes = (data or {}).get("pushes", {})
        return {key: record for key, record in pushes.items() if record.get("expires", 0) > self.now()}

    def change(self, user, edit):
        """edit(pushes) applied to the user's live pushes by compare-and-set, so that racing requests (two
        browsers, a page and its script) never undo each other's changes; returns what `edit` returns."""
        for _ in range(10):
            stored = self.app.storage.get_credential(user, NAME)
            pushes = self.live(stored)
            outcome = edit(pushes)
            newest = sorted(pushes.items(), key=lambda item: item[1]["expires"])[-MAX_PENDING:]
            if stored is None:
                self.app.storage.set_credential(user, NAME, {"pushes": dict(newest)})
                return outcome
            if self.app.storage.update_credential(user, NAME, stored, {"pushes": dict(newest)}):
                return outcome
        raise RuntimeError("the pending Okta pushes kept changing under this request")

    def add(self, user, result, poll, number):
        """A new pending push; returns the id for its wait page (the browser gets the secret as a cookie)."""
        push_id, secret = secrets.token_urlsafe(24), secrets.token_urlsafe(32)
        record = {"poll": poll, "browser": digest(secret), "result": result, "number": number, "problem": "",
                  "expires": self.now() + PUSH_LIFETIME}
        self.change(user, lambda pushes: pushes.update({digest(push_id): record}))
        self.app.set_cookie(COOKIE, f"{user.id}:{secret}", max_age=PUSH_LIFETIME)
        return push_id

    def find(self, push_id):
        """(user, key, record) of the push with this id, if this browser sent it and it is still kept."""
        user_id, _, secret = (bottle.request.get_cookie(COOKIE) or "").partition(":")
        if not (re.fullmatch(r"[0-9]{1,12}", user_id) and secret and re.fullmatch(r"[\w-]{32}", push_id)):
            return None
        user = self.app.storage.get_user(user_id=int(user_id))
        if user is None:
            return None
        key = digest(push_id)
        record = self.live(self.app.storage.get_credential(user, NAME)).get(key)
        if record is None or not hmac.compare_digest(record["browser"], digest(secret)):
            return None
        return user, key, record

    def save(self, user, key, record):
        """Remember what Okta answered, unless the push has been used meanwhile."""
        self.change(user, lambda pushes: pushes.update({key: record}) if key in pushes else None)

    def use(self, user, key):
        """Take the push out of the pending ones: True for exactly one of several racing requests."""
        bottle.response.delete_cookie(COOKIE, path="/")
        return self.change(user, lambda pushes: pushes.pop(key, None) is not None)


# -- the authenticator

class OktaPush(Authenticator):
    name = NAME
    label = "Okta Verify"

    def __init__(self, app, settings, okta):
        self.app, self.settings, self.okta = app, settings, okta
        self.pushes = PendingPushes(app)

    def okta_key(self, user):
        """The Okta user id or login of `user`, or None when Okta is not set up for them."""
        if user.username in self.settings["users"]:
            return self.settings["users"][user.username]
        return f"{user.username}@{self.settings['login_domain']}" if self.settings["login_domain"] else None

    def supports(self, user):
        return self.okta_key(user) is not None

    def start(self, request, context):
        return self.app.render("okta_login.tpl", **context)

    def finish(self, request):
        """Send a push and go to its wait page (a redirect: the answer comes later, on the phone)."""
        earlier = self.app.partial_user()
        username = earlier.username if earlier else self.app.posted_username()
        address = self.app.client_address()
        self.app.throttle.check(username, address)
        if not username:
            raise AuthenticationFailed("Enter your user name.")
        user = earlier or self.app.storage.get_user(username=username)
        try:
            known = user is not None and user.disabled_at is None and self.supports(user)
            okta_id = self.okta.find_user(self.okta_key(user)) if known else None
            factor_id = self.okta.push_factor(okta_id) if okta_id else None
            if factor_id is None:
                self.app.throttle.failed(username, address)
                raise AuthenticationFailed(NO_PUSH if okta_id else NO_ACCOUNT, username=username)
            # Each push counts against the throttle until one is approved, so nobody can flood a phone.
            self.app.throttle.failed(username, address)
            result, poll, number = self.okta.send_push(okta_id, factor_id)
        except OktaProblem as problem:
            raise AuthenticationFailed(problem.message, status=problem.status, username=username,
                                       retry_after=1 if isinstance(problem, OktaBusy) else None) from None
        push_id = self.pushes.add(user, result, poll, number)
        next_url = safe_next(form_value("next"))
        self.app.redirect(f"/login/{NAME}/wait/{push_id}?" + urllib.parse.urlencode({"next": next_url}))

    # -- the wait page and its status endpoint
    def outcome(self, user, key, record):
        """WAITING, SUCCESS, REJECTED, TIMEOUT or PROBLEM (its message in record["problem"]).  Okta is
        asked only while the push is waiting; a final answer is remembered.  A poll this server had no
        room to make now is still waiting: the next load of the page asks again."""
        if record["result"] != "WAITING":
            return record["result"]
        try:
            result, poll, number = self.okta.poll(record["poll"])
        except OktaBusy:
            return "WAITING"
        except OktaProblem as problem:
            result, poll, number, record["problem"] = "PROBLEM", None, None, problem.message
        if result != "WAITING" or number != record["number"] or (poll and poll != record["poll"]):
            record.update(result=result, poll=poll or record["poll"], number=number or record["number"])
            self.pushes.save(user, key, record)
        return result

    def wait_page(self, token):
        """GET /login/okta/wait/<id>: 'approve on your phone' while waiting (it refreshes itself), then
        the end of the sign-in, or what went wrong with a way to try again."""
        next_url = safe_next(bottle.request.query.get("next", "/"))
        found = self.pushes.find(token)
        if found is None:
            return self.give_up(GONE, next_url)
        user, key, record = found
        result = self.outcome(user, key, record)
        if result == "WAITING":
            here = f"/login/{NAME}/wait/{token}?" + urllib.parse.urlencode({"next": next_url})
            return self.app.render("okta_wait.tpl", title="Approve on your phone", number=record["number"],
                                   here=here, status_url=f"/login/{NAME}/status/{token}",
                                   start="/login?" + urllib.parse.urlencode({"next": next_url}),
                                   scripts=[f"/login/{NAME}/wait.js"])
        if not self.pushes.use(user, key):  # another request of this browser finished it first
            return self.give_up(GONE, next_url)
        if NAME not in self.app.next_steps()[1]:  # the time allowed between factors ran out meanwhile
            return self.give_up(STEP_EXPIRED, next_url, user.username)
        if result == "SUCCESS":
            self.app.storage.touch_credential(user, NAME)
            try:
                return self.app.authenticated(user, NAME, next_url)
            except AuthenticationFailed as failure:
                return self.app.login_failed(NAME, failure)
        message = {"REJECTED": REJECTED, "TIMEOUT": TIMEOUT}.get(result) or record["problem"]
        return self.give_up(message, next_url, user.username, 400 if result != "PROBLEM" else 502)

    def give_up(self, message, next_url, username="", status=400):
        """The message with a way to try again: the Okta step with its 'Send another push' button when it
        is still this sign-in's next step, otherwise a page that starts the sign-in again."""
        if NAME in self.app.next_steps()[1]:
            return self.app.login_failed(NAME, AuthenticationFailed(message, status, username=username))
        if username:
            address = self.app.client_address()
            self.app.event(LoginFailed(username, NAME, address, message), LoginFailed.name, method=NAME,
                           username=username[:64], address=address)
        bottle.response.status = status
        return self.app.render("okta_ended.tpl", title="Sign in", message=message,
                               start="/login?" + urllib.parse.urlencode({"next": next_url}))

    def status(self, token):
        """GET /login/okta/status/<id>: {"status": "waiting"} or {"status": "done"}, for the page's script."""
        bottle.response.content_type = "application/json"
        found = self.pushes.find(token)
        done = found is None or self.outcome(*found) != "WAITING"
        return json.dumps({"status": "done" if done else "waiting"})


def script():
    """GET /login/okta/wait.js: the wait page's script (a file: the CSP allows no inline script)."""
    response = bottle.static_file("okta-wait.js", root=STATIC, mimetype="text/javascript")
    response.set_header("Cache-Control", "public, max-age=3600")
    return response


# -- hooks

@hookimpl
def configure(app):
    app.add_template_path(VIEWS)
    settings = load_settings(app)
    timeout, slots = settings["timeout"], ServiceSlots(app.http.slots, NAME)
    # The core's guarded client, trusting the configured org_url, with this plugin's timeout for each call
    # (POLL_TIMEOUT at most for a status poll), each holding one of the `slots` while it runs.
    http = app.http.trusting(settings["org_url"], timeout=(min(3.05, timeout), timeout), deadline=timeout,
                             max_bytes=256 * 1024, max_redirects=0, slots=slots,
                             user_agent=f"indieauth-okta/{__version__} (+{app.base_url})")
    poll = min(timeout, POLL_TIMEOUT)
    poll_http = http.trusting(timeout=(min(3.05, poll), poll), deadline=poll, slots=slots)
    okta = Okta(http, settings["org_url"], settings["api_token"], poll_http=poll_http)
    app.plugin_state[NAME] = OktaPush(app, settings, okta)


@hookimpl
def register_authenticators(app):
    return [app.plugin_state[NAME]]


@hookimpl
def register_routes(app):
    return [("GET", f"/login/{NAME}/wait/<token>", app.plugin_state[NAME].wait_page),
            ("GET", f"/login/{NAME}/status/<token>", app.plugin_state[NAME].status),
            ("GET", f"/login/{NAME}/wait.js", script)]
