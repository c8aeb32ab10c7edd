"""Sign in with GitHub for indieauth, the RelMeAuth way.

Your site links to your GitHub profile with rel="me", the profile links back to your site, and you
prove that you hold that GitHub account with GitHub's OAuth web flow.  Built only on indieauth's
public hooks and app API, exactly as a third-party plugin would be.
"""

import base64
import hashlib
import json
import os
import re
import secrets
import urllib.parse

import bottle
import bs4

from indieauth import (AuthenticationFailed, Authenticator, ConfigError, FetchBusy, FetchError, ServiceSlots,
                       Setting, StateRefused, canonical_url, describe_wait, form_value, hookimpl, safe_next, split_url)

__version__ = "0.1.0"
NAME = "github"
VIEWS = os.path.join(os.path.dirname(__file__), "views")
SETTINGS = {
    "client_id": Setting("str", "", "Client ID of your GitHub OAuth app. Required."),
    "client_secret": Setting("secret", None, "Client secret of your GitHub OAuth app: inline, "
                                             "{ env = \"NAME\" } or { file = \"path\" }. Required."),
    "github_url": Setting("url", "https://github.com", "GitHub's web address: profiles and the OAuth pages "
                                                        "(change it for GitHub Enterprise Server)."),
    "api_url": Setting("url", "https://api.github.com", "GitHub's REST API (https://HOST/api/v3 on GitHub "
                                                         "Enterprise Server)."),
    "timeout": Setting("duration", 5, "Time allowed for each request to GitHub, answer included, e.g. "
                                      "\"5s\" (1s to 60s)."),
}
CALLBACK = "/login/github/callback"
STATE_LIFETIME = 600  # seconds between leaving for GitHub and coming back (app.save_callback_state)
MAX_PAGE_BYTES = 1024 * 1024
# A GitHub login: letters, digits and single hyphens inside, at most 39 characters.
LOGIN_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}")
TYPED_ME = "indieauth_github.me"  # request environ: the profile URL to show again in the form


# -- configuration

def load_settings(app):
    """The validated `[plugins.github]` table with its secret read; ConfigError names the key."""
    values = app.plugin_config(NAME, SETTINGS)
    where = app.config.where(f"plugins.{NAME}")
    if not values["client_id"].strip():
        raise ConfigError(f"{where} client_id: required: the Client ID of your GitHub OAuth app "
                          f"(GitHub → Settings → Developer settings → OAuth Apps)")
    if not 1 <= values["timeout"] <= 60:
        raise ConfigError(f"{where} timeout: expected 1s to 60s, got {values['timeout']!r}")
    values["client_secret"] = app.plugin_secret(NAME, "client_secret", values["client_secret"],
                                                 needed="the client secret of your GitHub OAuth app")
    return values


# -- RelMeAuth: what the user's page and the GitHub profile say about each other

def page_links(response):
    """(absolute URL, lowercased rel tokens) of every link of a fetched page: its Link header, then
    the HTML's <a>, <link> and <area>, resolved against the page (and its <base href>)."""
    links = list(response.links)
    kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if kind in ("text/html", "application/xhtml+xml", ""):
        soup = bs4.BeautifulSoup(response.content, "html.parser")
        base = response.url
        tag = soup.find("base", href=True)
        if tag:
            base = urllib.parse.urljoin(base, tag["href"].strip())
        for tag in soup.find_all(["a", "link", "area"], href=True):
            rels = tag.get("rel") or ()
            rels = rels.split() if isinstance(rels, str) else rels
            links.append((urllib.parse.urljoin(base, tag["href"].strip()), tuple(r.lower() for r in rels)))
    return links


def rel_me(links):
    """The URLs of the rel="me" links; when some of them are also rel="authn", only those (RelMeAuth)."""
    me = [(url, rels) for url, rels in links if "me" in rels]
    authn = [url for url, rels in me if "authn" in rels]
    return authn or [url for url, _ in me]


def github_login(url, github_url):
    """The login in a GitHub profile URL such as https://github.com/alice (http or https, www. or not,
    trailing slash or not) under `github_url`; None for any other URL."""
    parts, base = split_url(url), split_url(github_url)
    if not parts or parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    if parts.hostname not in (base.hostname, "www." + base.hostname) or parts.port != base.port:
        return None
    prefix = base.path.rstrip("/") + "/"
    if not parts.path.startswith(prefix):
        return None
    login = parts.path[len(prefix):]
    login = login[:-1] if login.endswith("/") else login
    return login if LOGIN_RE.fullmatch(login) else None


def url_differences(listed, me):
    """How a URL GitHub lists differs from `me`: an empty set when it is the same URL, {"scheme"},
    {"slash"} or both when only those differ, {"other"} otherwise.  A website kept without a scheme
    ("example.com", as GitHub allows) is read with the scheme of `me`."""
    listed = listed.strip()
    if "://" not in listed:
        listed = me.split("://", 1)[0] + "://" + listed.lstrip("/")
    a, b = split_url(canonical_url(listed)), split_url(canonical_url(me))
    if not a or not b or (a.netloc, a.query, a.fragment) != (b.netloc, b.query, b.fragment):
        return {"other"}
    found = set()
    if a.scheme != b.scheme:
        found.add("scheme")
    if a.path != b.path:
        if a.path.rstrip("/") != b.path.rstrip("/"):
            return {"other"}
        found.add("slash")
    return found


def link_back_problem(me, profile, listed):
    """None when one of the URLs the GitHub profile lists is `me`; otherwise what to fix, saying
    whether only http/https or a trailing slash is in the way."""
    if any(not url_differences(url, me) for url in listed):
        return None
    fix = f"They must be the same: on GitHub, open Settings → Public profile and set Website to exactly {me}."
    for url in listed:
        differences = url_differences(url, me)
        if "other" in differences:
            continue
        what = []
        if "scheme" in differences:
            theirs = url.split("://", 1)[0].lower() if "://" in url else "?"
            what.append(f"it starts with {theirs}:// where your profile URL starts with {me.split('://', 1)[0]}://")
        if "slash" in differences:
            if url.rstrip().endswith("/"):
                what.append("it ends with a slash (/) that your profile URL does not have")
            else:
                what.append("it has no slash (/) at the end, but your profile URL ends with one")
        return f"Your GitHub profile {profile} links to {url}, but {' and '.join(what)}. {fix}"
    lists = f" (it links to {', '.join(listed[:3])})" if listed else " (it lists no website)"
    return f"Your GitHub profile {profile} does not link back to {me}{lists}. {fix}"


# -- GitHub, the configured service (its URLs come from the config, not from users)

class Unreachable(Exception):
    """GitHub could not be reached or answered with something unusable; the message says which."""


class Busy(AuthenticationFailed):
    """Not even tried: this server is already waiting on as many other sites as it allows (503)."""

    def __init__(self, message, username=""):
        super().__init__(message, 503, retry_after=1, username=username)


def s256(verifier):
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class GitHub:
    """GitHub's OAuth web flow and REST API at the configured addresses, with timeouts and a size cap."""

    def __init__(self, settings, http, user_agent, slots=None):
        self.github_url = settings["github_url"].rstrip("/")
        self.api_url = settings["api_url"].rstrip("/")
        self.client_id, self.client_secret = settings["client_id"].strip(), settings["client_secret"]
        self.host = split_url(self.github_url).netloc
        # The core's guarded client, trusting the two configured origins (GitHub Enterprise Server may be
        # on a private network); each request, answer included, ends after `timeout` seconds, and holds
        # one of `slots` (ServiceSlots) while it runs.
        timeout = settings["timeout"]
        self.http = http.trusting(self.github_url, self.api_url, timeout=(min(5, timeout), timeout),
                                  deadline=timeout, max_bytes=MAX_PAGE_BYTES, user_agent=user_agent, slots=slots)

    def request(self, method, url, **kwargs):
        """(status, body) of a request to GitHub; Unreachable when it cannot be had, Busy when it was not
        sent because this server is already waiting on as many sites as it allows."""
        try:
            response = self.http.request(method, url, **kwargs)
        except FetchBusy:
            raise Busy(busy(self.host)) from None
        except FetchError as error:
            raise Unreachable(str(error)) from None
        return response.status, response.content

    def api(self, path, token=None):
        """(status, parsed JSON or None) of a GET of the REST API."""
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        status, body = self.request("GET", self.api_url + path, headers=headers)
        try:
            return status, json.loads(body)
        except ValueError:
            return status, None

    def profile(self, login):
        return f"{self.github_url}/{login}"

    def profile_rel_me(self, login):
        """The rel="me" links of the GitHub profile page (GitHub marks the website and social accounts
        so); None when there is no such page."""
        status, body = self.request("GET", self.profile(login), headers={"Accept": "text/html"})
        if status == 404:
            return None
        if status != 200:
            raise Unreachable(f"the profile page {self.profile(login)} answered HTTP {status}")
        page = bs4.BeautifulSoup(body, "html.parser")
        return [urllib.parse.urljoin(self.profile(login), tag["href"].strip())
                for tag in page.find_all(["a", "link"], href=True) if "me" in [r.lower() for r in tag.get("rel") or ()]]

    def verify(self, login, me):
        """(login as GitHub spells it, numeric id or None) when the profile of `login` links back to
        `me`, by its website (`blog`) in the API or a rel="me" link on its page; AuthenticationFailed
        saying what to fix otherwise."""
        listed, account_id, api_problem = [], None, None
        try:
            status, data = self.api(f"/users/{login}")
            if status == 404:
                raise AuthenticationFailed(no_such_account(self.profile(login)))
            if status == 200 and isinstance(data, dict):
                login, account_id = data.get("login") or login, data.get("id")
                listed += [data["blog"]] if data.get("blog") else []
            else:
                api_problem = f"the API answered HTTP {status}"
        except Unreachable as exc:
            api_problem = str(exc)
        if link_back_problem(me, self.profile(login), listed):
            try:
                found = self.profile_rel_me(login)
            except Unreachable as exc:
                if api_problem:
                    raise AuthenticationFailed(unreachable(self.host, exc), 502) from None
                found = []
            if found is None and api_problem:
                raise AuthenticationFailed(no_such_account(self.profile(login)))
            listed += [url for url in found or () if url not in listed]
        problem = link_back_problem(me, self.profile(login), listed)
        if problem:
            raise AuthenticationFailed(problem)
        return login, account_id

    def authorize_url(self, state, redirect_uri, login, verifier):
        query = {"client_id": self.client_id, "redirect_uri": redirect_uri, "state": state, "scope": "",
                 "login": login, "allow_signup": "false", "code_challenge": s256(verifier),
                 "code_challenge_method": "S256"}
        return f"{self.github_url}/login/oauth/authorize?" + urllib.parse.urlencode(query)

    def exchange(self, code, redirect_uri, verifier):
        """The access token for `code`; AuthenticationFailed saying what went wrong (GitHub answers
        its OAuth errors with HTTP 200 and an `error` field)."""
        try:
            status, body = self.request("POST", f"{self.github_url}/login/oauth/access_token",
                                        headers={"Accept": "application/json"},
                                        data={"client_id": self.client_id, "client_secret": self.client_secret,
                                              "code": code, "redirect_uri": redirect_uri, "code_verifier": verifier})
        except Unreachable as exc:
            raise AuthenticationFailed(unreachable(self.host, exc), 502) from None
        try:
            answer = json.loads(body)
        except ValueError:
            answer = None
        if not isinstance(answer, dict) or (status != 200 and "error" not in answer):
            raise AuthenticationFailed(unreachable(self.host, f"its token endpoint answered HTTP {status}"), 502)
        if answer.get("access_token"):
            return answer["access_token"]
        raise AuthenticationFailed(TOKEN_ERRORS.get(answer.get("error"), TOKEN_ERRORS[None]).format(
            error=answer.get("error"), description=answer.get("error_description", ""),
            redirect_uri=redirect_uri), 502 if answer.get("error") == "incorrect_client_credentials" else 400)

    def account(self, token):
        """{id, login} of the account that signed in, read with its token; AuthenticationFailed otherwise."""
        try:
            status, data = self.api("/user", token=token)
        except Unreachable as exc:
            raise AuthenticationFailed(unreachable(self.host, exc), 502) from None
        if status != 200 or not isinstance(data, dict) or not data.get("login"):
            raise AuthenticationFailed(unreachable(self.host, f"asking which account signed in "
                                                              f"answered HTTP {status}"), 502)
        return data


# -- what people are told

def busy(host):
    return (f"GitHub ({host}) could not be reached right now: this server is already waiting on as many "
            f"services as it allows; try again in a moment.")


def unreachable(host, reason):
    return (f"GitHub ({host}) could not be reached: {reason}. Nothing is wrong with your page or your "
            f"GitHub profile; try again in a few minutes.")


def no_such_account(profile):
    return (f"Your page links to {profile}, but GitHub has no such account. Correct the rel=\"me\" link "
            f"on your page to point at your own GitHub profile.")


TOKEN_ERRORS = {
    "bad_verification_code": "GitHub did not accept the sign-in code: it expired or was used already. Start again.",
    "incorrect_client_credentials": "GitHub did not accept this server's OAuth app credentials. The site owner "
                                    "must check client_id and client_secret in [plugins.github] against the OAuth "
                                    "app on GitHub.",
    "redirect_uri_mismatch": "GitHub refused the callback address {redirect_uri}. The site owner must set the "
                             "OAuth app's \"Authorization callback URL\" on GitHub to exactly that address.",
    None: "GitHub refused to finish the sign-in ({error}: {description}). Start again; if it happens again, "
          "tell the site owner.",
}
CALLBACK_ERRORS = {
    "access_denied": "You cancelled on GitHub (GitHub answered error=access_denied), so you are not signed in. "
                     "To sign in, start again and choose \"Authorize\" on GitHub.",
    "redirect_uri_mismatch": TOKEN_ERRORS["redirect_uri_mismatch"],
    "application_suspended": "The site's GitHub OAuth app is suspended, so GitHub refused. The site owner must "
                             "restore it (or register a new one) on GitHub.",
    None: "GitHub refused the sign-in ({error}: {description}). Start again; if it happens again, tell the "
          "site owner.",
}
NOT_STARTED = ("No sign-in with GitHub was started in this browser, so GitHub's answer was refused: it was started "
               "in another browser, or cookies are blocked for this site — or someone tried to sign you in to "
               "their own account (cross-site request forgery). Start again from this page.")
NO_STATE = ("GitHub's answer came back without its state value, so it cannot be matched to the sign-in started "
            "in this browser and was refused (this protects you from cross-site request forgery). "
            "Start again from this page.")
WRONG_STATE = ("GitHub's answer does not belong to the sign-in started in this browser (its state value does not "
               "match), so it was refused: it may be an attempt to sign you in to someone else's account "
               "(cross-site request forgery). Start again from this page.")
USED_STATE = "This answer from GitHub was used already; each one works once. Start again from this page."
EXPIRED_STATE = (f"Signing in with GitHub took longer than {STATE_LIFETIME // 60} minutes, so it has expired. "
                 "Start again.")
STATE_REFUSED = {"missing": NO_STATE, "unknown": WRONG_STATE, "other_browser": NOT_STARTED, "used": USED_STATE,
                 "expired": EXPIRED_STATE}


def no_rel_me(me, github_url, links):
    """The message for a page with no rel="me" link to GitHub, pointing at a plain link if there is one."""
    plain = [url for url, _ in links if github_login(url, github_url)]
    if plain:
        return (f"Your page {me} links to {plain[0]}, but not with rel=\"me\", so it does not say that this "
                f"GitHub profile is yours. Add rel=\"me\" to that link, then try again.")
    return (f"Your page {me} has no rel=\"me\" link to a GitHub profile. Add one, such as "
            f"<a rel=\"me\" href=\"{github_url.rstrip('/')}/YOUR-LOGIN\">GitHub</a>, then try again.")


def profile_url(typed):
    """A typed profile URL in canonical form; `example.com` is read as https://example.com/."""
    typed = typed.strip()
    return canonical_url(typed if "://" in typed else "https://" + typed)


# -- the authenticator

class GitHubAuthenticator(Authenticator):
    name = NAME
    label = "GitHub"
    proves_sites = True  # RelMeAuth: a site can be proven at sign-up, before there is a user

    def __init__(self, app, settings):
        self.app = app
        self.github = GitHub(settings, app.http, user_agent=f"indieauth-github/{__version__} (+{app.base_url})",
                             slots=ServiceSlots(app.http.slots, NAME))

    def supports(self, user):
        """Anyone whose page links to GitHub with rel="me" can use it; that is only known by trying."""
        return True

    def start(self, request, context):
        me = request.environ.get(TYPED_ME) or form_value("me") or context["me"]
        return self.app.render("github_login.tpl", **dict(context, me=me))

    # -- leaving for GitHub
    def finish(self, request):
        """Find and check the GitHub account the user's page links to, then send the browser to GitHub.
        Never returns a user: the callback does, once GitHub has said who signed in."""
        user = partial = self.app.partial_user()
        address = self.app.client_address()
        if partial is None:
            typed = form_value("me").strip()[:512]
            request.environ[TYPED_ME] = typed
            if not typed:
                raise AuthenticationFailed("Enter your profile URL (your website's address), "
                                           "like https://example.com/.")
            me = profile_url(typed)
            user = self.app.storage.get_user(me=me)
            self.app.throttle.check(user.username if user else "", address)
            if user is None:
                self.app.throttle.failed("", address)
                raise AuthenticationFailed(unknown_profile(self.app, me))
        else:
            self.app.throttle.check(user.username, address)
        login, account_id = self.discover(user.me, user.username)
        self.leave_for_github({"user": user.id, "second": partial is not None}, login, account_id,
                              safe_next(form_value("next")))

    def prove_site(self, me, next_url):
        """Sign-up with one's own site (the hosting plugin's invite page): the same discovery as signing in, then
        GitHub; the callback answers with app.site_proven once the account `me` links to has signed in.
        There is no user yet, so only the address is throttled."""
        self.app.throttle.check("", self.app.client_address())
        login, account_id = self.discover(me)
        self.leave_for_github({"user": None, "proof": me, "second": False}, login, account_id,
                              safe_next(next_url))

    def discover(self, me, username=""):
        """(login, id) of the GitHub account `me` links to with rel="me" and whose profile links back;
        AuthenticationFailed for `username` (a user's, or "" at sign-up) saying what to fix otherwise."""
        try:
            response = self.app.http.get(me, accept="text/html", max_bytes=MAX_PAGE_BYTES)
        except FetchBusy:
            raise Busy(f"Your page {me} could not be read right now: this server is already waiting on as many "
                       f"sites as it allows; try again in a moment.", username=username) from None
        except FetchError as error:
            raise AuthenticationFailed(f"Your page {me} could not be read ({error}). Check that it is online, "
                                       f"then try again.", 502, username=username) from None
        if response.status != 200:
            raise AuthenticationFailed(f"Your page {me} answered HTTP {response.status} instead of the page. "
                                       f"Check that it is online, then try again.", 502, username=username)
        links = page_links(response)
        logins = list(dict.fromkeys(login for login in (github_login(url, self.github.github_url)
                                                          for url in rel_me(links)) if login))
        if not logins:
            raise AuthenticationFailed(no_rel_me(me, self.github.github_url, links), username=username)
        first_failure = None
        for login in logins:  # the first one whose profile links back
            try:
                return self.github.verify(login, me)
            except Busy as busy_now:
                busy_now.username = username
                raise
            except AuthenticationFailed as failure:
                failure.username = username
                first_failure = first_failure or failure
        raise first_failure

    def leave_for_github(self, fields, login, account_id, next_url):
        """303 to GitHub's authorize page.  What the callback needs (`fields`: whose sign-in, or which site to
        prove; the account expected back; the PKCE verifier) stays on the server, bound to this browser."""
        verifier = secrets.token_urlsafe(48)
        pending = dict(fields, verifier=verifier, login=login, id=account_id,
                       next=next_url if len(next_url) <= 1000 else "/")
        state = self.app.save_callback_state(NAME, pending, STATE_LIFETIME)
        bottle.redirect(self.github.authorize_url(state, self.app.url(CALLBACK), login, verifier), 303)

    # -- coming back from GitHub
    def callback(self):
        """GET /login/github/callback: GitHub's answer.  Signs in only the account the page links to, or
        proves the site at sign-up when the pending step is a proof."""
        query = bottle.request.query
        try:
            pending = self.take_pending(query.get("state", ""))
        except AuthenticationFailed as failure:
            return self.failed(failure)
        if pending.get("proof"):
            return self.proof_callback(query, pending)
        try:
            user = self.app.storage.get_user(user_id=pending["user"]) if pending.get("user") else None
            if user is None:
                raise AuthenticationFailed(NOT_STARTED)
            bottle.request.environ[TYPED_ME] = user.me
            if pending["second"] and getattr(self.app.partial_user(), "id", None) != user.id:
                wait = describe_wait(self.app.config["auth"]["step_lifetime"])
                raise AuthenticationFailed(f"The first step of this sign-in has expired (the steps must follow each "
                                           f"other within {wait}). Start again from the sign-in page.")
            account = self.account_signed_in(query, pending, user.me, user.username)
            self.app.throttle.succeeded(user.username)
            self.remember(user, account)
            return self.app.authenticated(user, NAME, pending["next"])
        except AuthenticationFailed as failure:
            return self.failed(failure)

    def proof_callback(self, query, pending):
        """The end of proving a site at sign-up: proven when the account the site links to signed in.
        Nobody is signed in and no user is made here; the hosting plugin's invite page takes the proof."""
        try:
            self.account_signed_in(query, pending, pending["proof"], "")
        except AuthenticationFailed as failure:
            self.app.storage.log_event("site_proof_failed", me=pending["proof"], method=NAME,
                                       address=self.app.client_address(), reason=failure.message[:300])
            if failure.retry_after:
                bottle.response.set_header("Retry-After", str(failure.retry_after))
            bottle.response.status = failure.status
            return self.app.render("github_failed.tpl", title="Prove your site", error=failure.message,
                                   back=safe_next(pending.get("next") or "/"),
                                   back_label="Back to the invite, to try again")
        return self.app.site_proven(pending["proof"], NAME, pending["next"])

    def account_signed_in(self, query, pending, me, username):
        """The GitHub account that GitHub's answer `query` signed in, when it is the one `me` links to
        (pending["login"]); AuthenticationFailed otherwise, another account counting as a failed attempt
        of `username` ("" when there is no user yet) from this address."""
        if query.get("error"):
            error = query.get("error")
            raise AuthenticationFailed(CALLBACK_ERRORS.get(error, CALLBACK_ERRORS[None]).format(
                error=error[:64], description=query.get("error_description", "")[:300],
                redirect_uri=self.app.url(CALLBACK)), username=username)
        if not query.get("code"):
            raise AuthenticationFailed("GitHub's answer has no code. Start again.", username=username)
        address = self.app.client_address()
        self.app.throttle.check(username, address)
        token = self.github.exchange(query.get("code"), self.app.url(CALLBACK), pending["verifier"])
        account = self.github.account(token)
        if not same_account(account, pending):
            self.app.throttle.failed(username, address)
            raise AuthenticationFailed(
                f"You are signed in to GitHub as @{account['login']}, but {me} links to the GitHub "
                f"account @{pending['login']}. On GitHub, sign out (or switch accounts) and sign in as "
                f"@{pending['login']}, then try again here.", 403, username=username)
        return account

    def failed(self, failure):
        """The login page again with the message.  When GitHub is not a step of this sign-in any more
        (its first step expired), the core's page would drop the message, so it gets a page here."""
        page = self.app.login_failed(NAME, failure)
        if NAME in self.app.next_steps()[1]:
            return page
        return self.app.render("github_failed.tpl", title="Sign in", error=failure.message,
                               back="/login", back_label="Start again")

    def take_pending(self, state):
        """The pending sign-in (or proof of a site) this browser started with `state`; used once."""
        try:
            return self.app.take_callback_state(NAME, state)
        except StateRefused as refused:
            raise AuthenticationFailed(STATE_REFUSED[refused.reason]) from None

    def remember(self, user, account):
        """Keep which GitHub account signed the user in (login and id; never the token)."""
        data = {"login": account.get("login"), "id": account.get("id")}
        if self.app.storage.get_credential(user, NAME) == data:
            self.app.storage.touch_credential(user, NAME)
        else:
            self.app.storage.set_credential(user, NAME, data)
            self.app.storage.touch_credential(user, NAME)


def same_account(account, pending):
    """Is the account that signed in the one the page links to?  By numeric id when both are known."""
    if pending.get("id") is not None and account.get("id") is not None:
        return str(account["id"]) == str(pending["id"])
    return str(account.get("login", "")).lower() == pending["login"].lower()


def unknown_profile(app, me):
    """The message for a profile URL no user has, suggesting the http/https or slash variant that one has."""
    parts = split_url(me)
    variants = []
    if parts:
        other = "http" if parts.scheme == "https" else "https"
        path = parts.path[:-1] if parts.path.endswith("/") and parts.path != "/" else parts.path + "/"
        variants = [urllib.parse.urlunsplit((other,) + tuple(parts[1:])),
                    urllib.parse.urlunsplit(parts._replace(path=path))]
    for variant in variants:
        if variant != me and app.storage.get_user(me=variant) is not None:
            return f"There is no account here with the profile URL {me}. Did you mean {variant}?"
    return (f"There is no account here with the profile URL {me}. Check it for typing mistakes: it must be "
            f"the address of your website that the site owner registered.")


# -- hooks

@hookimpl
def configure(app):
    app.add_template_path(VIEWS)
    app.plugin_state[NAME] = GitHubAuthenticator(app, load_settings(app))


@hookimpl
def register_authenticators(app):
    return [app.plugin_state[NAME]]


@hookimpl
def register_routes(app):
    return [("GET", CALLBACK, app.plugin_state[NAME].callback)]
