"""Sign-in with a code sent by email: a 6-digit code and a one-click link, sent over SMTP.

The address is the user's `email` profile field, or else a `mailto:` rel=me link on their profile
page.  Codes live 10 minutes, are stored only as keyed hashes in the user's credential, work once and
at most 5 wrong tries.  Built only on indieauth's public hooks, exactly as a third-party plugin would be.
"""

import datetime
import email.message
import email.utils
import functools
import hashlib
import hmac
import logging
import os
import re
import secrets
import smtplib
import socket
import ssl
import string
import threading
import urllib.parse

import bottle

from indieauth import (AuthenticationFailed, Authenticator, ConfigError, FetchBusy, FetchError, Setting,
                       describe_wait, fail, form_value, hookimpl, safe_next, token_hash, too_many_attempts)

NAME = "email"
VIEWS = os.path.join(os.path.dirname(__file__), "views")
log = logging.getLogger("indieauth.email")

CODE_LIFETIME = 600        # seconds a code and its link work
MAX_TRIES = 5              # wrong codes before a code is void
RESEND_AFTER = 60          # seconds before another code may be sent to the same account
MAX_SENDS = 5              # codes one account may be sent in SEND_WINDOW
SEND_WINDOW = 3600
SEND_WAIT = 1.0            # seconds the send request waits for the mail server; then the code form says "on its way"
DISCOVERY_TTL = 300        # seconds a mailto: rel=me found on a profile page is remembered
PAGE_MAX_BYTES = 512 * 1024
LOCAL_HOSTS = ("127.0.0.1", "::1", "localhost")
PLACEHOLDERS = ("code", "link", "me", "minutes")
SHOW_CODE_FORM = "indieauth_email.show_code_form"  # request environ flag from our routes to start()

SETTINGS = {
    "host": Setting("str", "", "Mail server (SMTP) host name or address. Required."),
    "port": Setting("int", None, "Mail server port (default 587, or 465 when security is \"tls\")."),
    "security": Setting("str", "starttls", "\"starttls\" (upgrade a plain connection), \"tls\" (TLS from the "
                                           "start) or \"none\" (only for a server on 127.0.0.1, ::1 or localhost).",
                        ("starttls", "tls", "none")),
    "username": Setting("str", "", "User name for SMTP AUTH; empty: send without signing in."),
    "password": Setting("secret", None, "Password for SMTP AUTH: inline, { env = \"NAME\" } or { file = \"path\" }."),
    "from_address": Setting("str", "", "Sender of the emails, like \"Sign-in <auth@example.com>\". Required."),
    "subject": Setting("str", "Your sign-in code", "Subject of the emails."),
    "template": Setting("str", "", "Plain-text template of the email body (a path relative to the config file) "
                                   "with {code}, {link}, {me} and {minutes}; empty: the built-in text."),
    "ca_file": Setting("str", "", "PEM file of the certificate authorities to trust for the mail server "
                                  "(relative to the config file); empty: the system's."),
    "timeout": Setting("duration", 10, "How long to wait for the mail server, e.g. \"10s\"."),
}

DEFAULT_TEMPLATE = """\
Your sign-in code is {code}

Or sign in with one click (the page asks you to confirm):
{link}

The code and the link work once, for {minutes} minutes, to sign in as {me}.
If you did not ask to sign in, you can ignore this email: nobody can sign in
without the code.
"""

# One address, printable ASCII without the characters that would start a second one or a header.
ADDRESS_RE = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")

# Read-modify-write of a pending code happens under this lock (see the README: one process only).
_lock = threading.Lock()


# -- configuration ------------------------------------------------------------------------------

def load_settings(app):
    """The validated `[plugins.email]` table with its secret and template read; ConfigError names the key."""
    values = app.plugin_config(NAME, SETTINGS)
    where = app.config.where(f"plugins.{NAME}")
    if not values["host"].strip():
        raise ConfigError(f"{where} host: required, the name or address of your mail (SMTP) server")
    if values["port"] is None:
        values["port"] = 465 if values["security"] == "tls" else 587
    if not 0 < values["port"] < 65536:
        raise ConfigError(f"{where} port: expected 1 to 65535, got {values['port']!r}")
    if values["security"] == "none" and values["host"].strip("[]").lower() not in LOCAL_HOSTS:
        raise ConfigError(f"{where} security: \"none\" sends codes unencrypted, so it is allowed only for a mail "
                          f"server on 127.0.0.1, ::1 or localhost, not {values['host']!r}; use \"starttls\" or \"tls\"")
    if not values["from_address"]:
        raise ConfigError(f"{where} from_address: required, the sender of the emails, like \"auth@example.com\"")
    if not ADDRESS_RE.fullmatch(email.utils.parseaddr(values["from_address"])[1]) or has_newline(values["from_address"]):
        raise ConfigError(f"{where} from_address: expected an address like \"auth@example.com\" or "
                          f"\"Sign-in <auth@example.com>\", got {values['from_address']!r}")
    if has_newline(values["subject"]) or not values["subject"].strip():
        raise ConfigError(f"{where} subject: expected one line of text, got {values['subject']!r}")
    values["password"] = app.plugin_secret(NAME, "password", values["password"])
    if values["password"] and not values["username"]:
        raise ConfigError(f"{where} username: required when a password is set")
    if values["username"] and not values["password"]:
        raise ConfigError(f"{where} password: required when a username is set")
    values["body"] = read_template(app, values["template"]) if values["template"] else DEFAULT_TEMPLATE
    if values["ca_file"]:
        values["ca_file"] = app.config.resolve_path(values["ca_file"])
        try:
            ssl.create_default_context(cafile=values["ca_file"])
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"{where} ca_file: cannot use {values['ca_file']}: "
                              f"{getattr(exc, 'strerror', None) or exc}") from None
    if values["timeout"] < 1:
        raise ConfigError(f"{where} timeout: must be at least 1s, got {values['timeout']!r}")
    return values


def has_newline(text):
    return "\r" in text or "\n" in text


def read_template(app, name):
    """The text of the owner's template; ConfigError for a missing file or an unknown placeholder."""
    where = app.config.where(f"plugins.{NAME}", "template")
    path = app.config.resolve_path(name)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{where}: cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        fields = [field for _, field, _, _ in string.Formatter().parse(text) if field is not None]
    except ValueError as exc:
        raise ConfigError(f"{where}: {path}: {exc} (write {{{{ and }}}} for a literal brace)") from None
    for field in fields:
        if field not in PLACEHOLDERS:
            raise ConfigError(f"{where}: {path}: unknown placeholder {{{field}}} "
                              f"(known: {', '.join('{' + p + '}' for p in PLACEHOLDERS)})")
    if "code" not in fields and "link" not in fields:
        raise ConfigError(f"{where}: {path}: the template must contain {{code}} or {{link}}")
    return text


# -- addresses ----------------------------------------------------------------------------------

def clean_address(value):
    """`value` when it is one plain email address (never a header injection), else None."""
    value = (value or "").strip()
    return value if ADDRESS_RE.fullmatch(value) and len(value) <= 254 else None


def mask(address):
    """'a•••@example.com': enough for a person to recognise their address, not for others to learn it."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}•••@{domain}"


def address_from_mailto(url):
    """The first address of a `mailto:` URL (its query, like ?subject=, left out), or None."""
    target = urllib.parse.unquote(url[len("mailto:"):].split("?", 1)[0])
    return clean_address(target.split(",")[0])


def mailto_rel_me(http, me):
    """The first address of a `mailto:` rel=me link on the page at `me` (HTML or Link header), or None.
    The page is fetched through the SSRF-guarded session; mf2py only parses it."""
    try:
        response = http.get(me, accept="text/html", max_bytes=PAGE_MAX_BYTES)
    except FetchError as error:
        log.warning("could not fetch %s to look for a mailto: rel=me link: %s", me, error)
        return None
    if response.status != 200:
        log.warning("could not fetch %s to look for a mailto: rel=me link: HTTP %s", me, response.status)
        return None
    urls = [url for url, rels in response.links if "me" in rels]
    kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if kind in ("text/html", "application/xhtml+xml"):
        import bs4  # imported when first needed, like the core: slow to import under CGI
        import mf2py
        soup = bs4.BeautifulSoup(response.content, "html.parser")
        urls += mf2py.parse(doc=soup, url=response.url)["rels"].get("me", [])  # doc=: mf2py never fetches
    for url in urls:
        if url.lower().startswith("mailto:") and address_from_mailto(url):
            return address_from_mailto(url)
    return None


# -- codes --------------------------------------------------------------------------------------

def new_code():
    """Six random digits."""
    return f"{secrets.randbelow(10 ** 6):06d}"


def code_digest(key, salt, code):
    """A keyed hash of a code: with only a million codes a plain hash would be guessed from the database."""
    return hmac.new(key.encode("utf-8"), f"email-code:{salt}:{code}".encode(), hashlib.sha256).hexdigest()


def pending_problem(pending, now, thing="code"):
    """Why a pending code (or its link: `thing`) cannot be used now, in words for the person; None when it can."""
    if not pending:
        return f"There is no {thing} waiting for this account. Send a new code."
    if pending.get("used"):
        return f"This {thing} has been used already: each {thing} works once. Send a new code to sign in again."
    if pending["tries"] >= MAX_TRIES:
        return f"This {thing} no longer works: the code was entered wrongly {MAX_TRIES} times. Send a new code."
    if now >= datetime.datetime.fromisoformat(pending["expires"]):
        return f"This {thing} has expired: codes and links work for {CODE_LIFETIME // 60} minutes. Send a new code."
    return None


def recent_sends(data, now):
    """Times (datetimes) of the codes sent to this account within SEND_WINDOW."""
    since = now - datetime.timedelta(seconds=SEND_WINDOW)
    return [t for t in map(datetime.datetime.fromisoformat, data.get("sent", [])) if t > since]


def send_refusal(data, now):
    """(message, seconds to wait) when no new code may be sent yet, else None."""
    sent = recent_sends(data, now)
    if sent and (now - max(sent)).total_seconds() < RESEND_AFTER:
        wait = RESEND_AFTER - int((now - max(sent)).total_seconds())
        return (f"A code was sent less than a minute ago. Look for it in your mail, or ask for a new one in "
                f"{describe_wait(wait)}.", wait)
    if len(sent) >= MAX_SENDS:
        wait = int((min(sent) + datetime.timedelta(seconds=SEND_WINDOW) - now).total_seconds()) + 1
        return (f"{MAX_SENDS} codes have been sent to this account in the last hour. You can ask for another "
                f"in {describe_wait(wait)}, or use another way to sign in.", wait)
    return None


# -- sending ------------------------------------------------------------------------------------

class SendError(Exception):
    """The mail server could not take the message; the text says why in words for a person."""


class Mailer:
    """Sends one message per connection through the configured SMTP server, within `timeout` seconds."""

    def __init__(self, host, port, security, username="", password="", timeout=10, ca_file="",
                 local_hostname=None):
        self.host, self.port, self.security = host, port, security
        self.username, self.password, self.timeout = username, password, timeout
        self.ca_file, self.local_hostname = ca_file or None, local_hostname

    def send(self, message):
        """Hand `message` to the mail server; SendError saying why when it cannot."""
        try:
            context = ssl.create_default_context(cafile=self.ca_file)
            if self.security == "tls":
                smtp = smtplib.SMTP_SSL(self.host, self.port, local_hostname=self.local_hostname,
                                        timeout=self.timeout, context=context)
            else:
                smtp = smtplib.SMTP(self.host, self.port, local_hostname=self.local_hostname, timeout=self.timeout)
            with smtp:
                if self.security == "starttls":
                    smtp.starttls(context=context)
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(message)
        except (smtplib.SMTPException, OSError, ValueError) as error:
            log.warning("the sign-in code could not be sent through %s:%s (%s): %s: %s", self.host, self.port,
                        self.security, error.__class__.__name__, error)
            raise SendError(describe_send_error(error)) from None


def describe_send_error(error):
    """Why sending failed, in a few words for the person at the login page."""
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return "the mail server does not offer a secure connection (STARTTLS)"
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return "the mail server did not accept this server's user name and password"
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "the mail server refused the address"
    if isinstance(error, smtplib.SMTPSenderRefused):
        return "the mail server refused the sender's address"
    if isinstance(error, smtplib.SMTPServerDisconnected) and isinstance(error.__context__, TimeoutError):
        return "the mail server did not answer in time"  # smtplib reports a read that timed out so
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return "the mail server closed the connection"
    if isinstance(error, smtplib.SMTPResponseException):
        return f"the mail server answered {error.smtp_code}"
    if isinstance(error, ssl.SSLCertVerificationError):
        return "the mail server's certificate could not be verified"
    if isinstance(error, ssl.SSLError):
        return "the secure connection to the mail server failed"
    if isinstance(error, ConnectionRefusedError):
        return "the mail server refused the connection"
    if isinstance(error, (TimeoutError, socket.timeout)):
        return "the mail server did not answer in time"
    if isinstance(error, socket.gaierror):
        return "the mail server's name could not be found"
    return "the mail server could not be reached"


def not_sent(reason):
    """What the login page says when the mail server did not take the email."""
    return f"The code could not be sent: {reason}. Try again, or use another way to sign in."


# -- the authenticator --------------------------------------------------------------------------

class EmailAuthenticator(Authenticator):
    """Sends a code and a link to the user's address; `finish` checks the code, `link_post` the link."""

    name = NAME
    label = "Code by email"

    def __init__(self, app, settings):
        self.app, self.settings = app, settings
        self.mailer = Mailer(settings["host"], settings["port"], settings["security"], settings["username"],
                             settings["password"], settings["timeout"], settings["ca_file"],
                             local_hostname=urllib.parse.urlsplit(app.base_url).hostname)
        self.found = {}  # me -> (address or None, when to look again): keeps supports() cheap

    # -- where the code goes
    def address(self, user, fresh=False):
        """The user's address: the `email` profile field, or else a mailto: rel=me on their `me` page."""
        if user.email:
            return clean_address(user.email)
        if user.me.rstrip("/") == self.app.base_url.rstrip("/"):
            return None  # the server's own start page, which has no rel=me
        now = self.app.now()
        cached = self.found.get(user.me)
        if fresh or cached is None or cached[1] <= now:
            cached = (mailto_rel_me(self.app.http, user.me), now + datetime.timedelta(seconds=DISCOVERY_TTL))
            self.found[user.me] = cached
        return cached[0]

    def supports(self, user):
        return self.address(user) is not None

    def credential(self, user):
        return (self.app.storage.get_credential(user, NAME) or {}) if user else {}

    def pending(self, user):
        return self.credential(user).get("pending")

    # -- the login page
    def start(self, request, context):
        """The send form, or, once a code is on its way, the form to enter it."""
        user = context["user"]
        username = user.username if user else (request.params.getunicode("username", "") or context["username"])
        username = username.strip()[:64]
        error, sent_to, sending = context["error"], None, False
        if request.environ.get(SHOW_CODE_FORM) or request.params.get("step") == "code":
            target = user or (self.app.storage.get_user(username=username) if username else None)
            data = self.credential(target)
            pending, unsent = data.get("pending"), data.get("unsent")
            problem = pending_problem(pending, self.app.now())
            if problem is None:
                sent_to, sending = pending["to"], bool(pending.get("sending"))
            if unsent:  # the mail server refused the newest code after its page was shown
                error = error or not_sent(unsent["reason"])
            elif problem:
                error = error or problem
        found = self.address(user) if user and sent_to is None else None
        to = mask(found) if found else None
        return self.app.render("email_login.tpl", **dict(context, error=error, username=username),
                               sent_to=sent_to, sending=sending, to=to, minutes=CODE_LIFETIME // 60,
                               send_action=context["action"] + "/send",
                               others="/login?" + urllib.parse.urlencode({"next": context["next"]}))

    def finish(self, request):
        """The user whose code this is; throttled per account and address, MAX_TRIES per code."""
        app = self.app
        user = app.partial_user()
        username = user.username if user else app.posted_username()
        address = app.client_address()
        self.app.throttle.check(username, address)
        code = re.sub(r"[\s-]", "", form_value("code"))
        if not username:
            raise AuthenticationFailed("Enter your user name and send yourself a code first.")
        if not (len(code) == 6 and code.isascii() and code.isdigit()):
            raise AuthenticationFailed("Enter the 6-digit code from the email, like 123456.", username=username)
        user = user or app.storage.get_user(username=username)
        with _lock:
            data = (app.storage.get_credential(user, NAME) if user else None) or {}
            pending = data.get("pending")
            problem = pending_problem(pending, app.now())
            if problem is None and not hmac.compare_digest(
                    code_digest(app.secret_key, pending["salt"], code), pending["code"]):
                pending["tries"] += 1
                app.storage.set_credential(user, NAME, data)
                left = MAX_TRIES - pending["tries"]
                problem = (f"The code is not right. You have {left} {'try' if left == 1 else 'tries'} left."
                           if left else pending_problem(pending, app.now()))
            if problem:
                app.throttle.failed(username, address)
                raise AuthenticationFailed(problem, username=username)
            pending["used"] = app.now().isoformat()
            app.storage.set_credential(user, NAME, data)
        return self.succeeded(user)

    def succeeded(self, user):
        self.app.throttle.succeeded(user.username)
        self.app.storage.touch_credential(user, NAME)
        return user

    # -- POST /login/email/send
    def send_post(self):
        """Send a new code and link, then show the form to enter the code (303); the login page with a
        message when no code can be sent."""
        app = self.app
        done, steps = app.next_steps()
        if NAME not in steps:
            fail(404, f"There is no sign-in method called {NAME!r} at this step.")
        app.check_csrf()
        next_url = safe_next(form_value("next"))
        user = app.partial_user() if done else None
        username = user.username if user else app.posted_username()
        address = app.client_address()
        try:
            self.app.throttle.check(username, address)
            if not username:
                raise AuthenticationFailed("Enter your user name to get a code.")
            user = user or app.storage.get_user(username=username)
            to = self.address(user, fresh=True) if user and user.disabled_at is None else None
            if to is None:
                app.throttle.failed(username, address)
                raise AuthenticationFailed(f"No code was sent: there is no user named {username!r} with an email "
                                           f"address. Check the user name, or use another way to sign in.",
                                           username=username)
            return self.send_code(user, to, next_url, len(done))
        except AuthenticationFailed as failure:
            return app.login_failed(NAME, failure)

    def send_code(self, user, to, next_url, step):
        """Store a new code and send it: the form to enter it (303), or the login page saying why not."""
        app, now = self.app, self.app.now()
        code, token, salt = new_code(), secrets.token_urlsafe(32), secrets.token_hex(8)
        with _lock:
            before = app.storage.get_credential(user, NAME) or {}
            refusal = send_refusal(before, now)  # before any email is queued
            if refusal:
                bottle.response.set_header("Retry-After", str(refusal[1]))
                bottle.request.environ[SHOW_CODE_FORM] = True
                return app.login_page(NAME, error=refusal[0], username=user.username, status=429)
            pending = {"code": code_digest(app.secret_key, salt, code), "salt": salt, "link": token_hash(token),
                       "expires": (now + datetime.timedelta(seconds=CODE_LIFETIME)).isoformat(),
                       "tries": 0, "used": None, "to": mask(to), "next": next_url, "step": step}
            sent = [t.isoformat() for t in recent_sends(before, now)] + [now.isoformat()]
            kept = {key: value for key, value in before.items() if key != "unsent"}
            app.storage.set_credential(user, NAME, dict(kept, pending=pending, sent=sent))
        link = app.url("/login/email/link?" + urllib.parse.urlencode({"user": user.username, "token": token}))
        self.deliver(user, mask(to), salt, before, self.message(user, to, code, link))
        query = {"step": "code", "next": next_url, **({} if step else {"username": user.username})}
        app.redirect("/login/email?" + urllib.parse.urlencode(query))

    def deliver(self, user, to, salt, before, message):
        """Give the email to the app's fetcher threads and wait at most SEND_WAIT seconds for the mail server
        (issue 17); AuthenticationFailed, with `before` put back, when it refused the email (502) or the
        fetchers are full (503).  When it is still busy, `record_outcome` is called once it is done."""
        import concurrent.futures  # here, not at import: a CGI request that sends nothing does not pay for it
        app = self.app
        try:
            future = app.fetchers.submit((NAME, user.id, salt), functools.partial(self.mailer.send, message))
        except FetchBusy:
            self.put_back(user, salt, before)
            raise AuthenticationFailed("No code was sent: the server is busy sending other emails. Try again in a "
                                       "moment.", status=503, retry_after=1, username=user.username) from None
        if not concurrent.futures.wait((future,), SEND_WAIT).done:
            self.mark_sending(user, salt)
            future.add_done_callback(functools.partial(self.record_outcome, user, to, salt, before,
                                                       app.client_address()))
            return
        error = future.exception()
        if error is not None:
            self.put_back(user, salt, before)  # the code never left
            if not isinstance(error, SendError):
                raise error
            raise AuthenticationFailed(not_sent(error), status=502, username=user.username)
        app.storage.log_event("email_code_sent", user=user, to=to, address=app.client_address())

    def change_code(self, user, salt, change):
        """Store change(credential) in place of the credential, unless a newer code replaced the one with
        this salt; `change` may edit the credential it is given and return it."""
        with _lock:
            data = self.credential(user)
            if (data.get("pending") or {}).get("salt") == salt:
                self.app.storage.set_credential(user, NAME, change(data))

    def put_back(self, user, salt, data):
        """Store `data` again in place of the code with this salt, unless a newer code replaced it."""
        self.change_code(user, salt, lambda _: data)

    def mark_sending(self, user, salt, sending=True):
        """Note in the code with this salt whether its email is still on its way, for the code form."""
        def mark(data):
            data["pending"]["sending"] = sending
            return data
        self.change_code(user, salt, mark)

    def record_outcome(self, user, to, salt, before, address, future):
        """How an email the send request stopped waiting for went, on a fetcher thread (so no bottle.request):
        recorded in the audit log and in the credential, where the code form of any process finds it."""
        try:
            error = future.exception()
            if error is None:
                self.mark_sending(user, salt, False)
                self.app.storage.log_event("email_code_sent", user=user, to=to, address=address)
                return
            reason = str(error) if isinstance(error, SendError) else "the mail server could not be reached"
            log.warning("the sign-in code for %r could not be sent after its page was shown: %s", user.username,
                        reason)
            self.put_back(user, salt, dict(before, unsent={"reason": reason}))
            self.app.storage.log_event("email_code_failed", user=user, to=to, reason=reason, address=address)
        except Exception:  # on a fetcher thread nobody else would see it
            log.exception("recording how the sign-in code for %r went failed", user.username)

    def message(self, user, to, code, link):
        """The email: plain text from the template, with headers that mark it as automatic."""
        message = email.message.EmailMessage()
        message["From"] = self.settings["from_address"]
        message["To"] = to
        message["Subject"] = self.settings["subject"]
        message["Date"] = email.utils.formatdate(usegmt=True)
        message["Message-ID"] = email.utils.make_msgid(
            domain=email.utils.parseaddr(self.settings["from_address"])[1].rpartition("@")[2])
        message["Auto-Submitted"] = "auto-generated"
        body = self.settings["body"].format(code=code, link=link, me=user.me, minutes=CODE_LIFETIME // 60)
        # Plain 7-bit text when it can be, so the link is never cut by quoted-printable line breaks.
        plain = body.isascii() and all(len(line) < 900 for line in body.splitlines())
        message.set_content(body, cte="7bit" if plain else None)
        return message

    # -- GET and POST /login/email/link?user=…&token=…: the one-click link
    def link_target(self):
        """(user, pending, problem) for the link in this request; problem is None when it can be used."""
        params = bottle.request.params
        username, token = params.getunicode("user", "")[:64], params.getunicode("token", "")
        user = self.app.storage.get_user(username=username) if username else None
        pending = self.pending(user)
        problem = pending_problem(pending, self.app.now(), "link")
        if pending and not hmac.compare_digest(token_hash(token), pending["link"]):
            problem = "This sign-in link is not right or has been replaced by a newer one. Use the newest email."
        return user, pending, problem

    def link_page(self, error=None, status=200):
        """The page a link opens: a button that signs in (GET uses nothing up: link previewers open links)."""
        user, pending, problem = self.link_target()
        bottle.response.status = 400 if problem and not error else status
        return self.app.render("email_link.tpl", title="Sign in", error=error or problem, who=user,
                               show_form=problem is None, username=user.username if user else "",
                               token=bottle.request.params.getunicode("token", ""))

    def link_post(self):
        app = self.app
        app.check_csrf()
        username = form_value("user").strip()[:64]
        address = app.client_address()
        wait = app.throttle.retry_after(username, address)
        if wait:
            bottle.response.set_header("Retry-After", str(wait))
            return self.link_page(too_many_attempts(wait), 429)
        with _lock:
            user, pending, problem = self.link_target()
            if problem is None and pending["step"] and getattr(app.partial_user(), "id", None) != user.id:
                return self.link_page("This link finishes a sign-in that began in another browser. Open it "
                                      "there, or type the code from the email there.", 400)
            if problem:
                app.throttle.failed(username, address)
                return self.link_page(problem, 400)
            pending["used"] = app.now().isoformat()
            data = app.storage.get_credential(user, NAME)
            app.storage.set_credential(user, NAME, dict(data, pending=pending))
        self.succeeded(user)
        try:
            return app.authenticated(user, NAME, pending["next"])
        except AuthenticationFailed as failure:
            return app.login_failed(NAME, failure)


# -- hooks --------------------------------------------------------------------------------------

@hookimpl
def configure(app):
    app.add_template_path(VIEWS)
    app.plugin_state[NAME] = EmailAuthenticator(app, load_settings(app))


@hookimpl
def register_authenticators(app):
    return [app.plugin_state[NAME]]


@hookimpl
def register_routes(app):
    auth = app.plugin_state[NAME]
    return [("POST", "/login/email/send", auth.send_post),
            ("GET", "/login/email/link", lambda: auth.link_page()),
            ("POST", "/login/email/link", auth.link_post)]
