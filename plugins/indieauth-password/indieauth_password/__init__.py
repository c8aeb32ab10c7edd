"""Password sign-in for indieauth: scrypt hashes, constant-time checks, throttled attempts.

Built only on indieauth's public hooks, exactly as a third-party plugin would be.
"""

import base64
import functools
import hashlib
import hmac
import os
import secrets
import threading

import bottle

from indieauth import (AuthenticationFailed, Authenticator, Setting, UsageError, form_value, hookimpl,
                       read_secret_from_stdin, refuse_attempt, user_or_owner)

NAME = "password"
VIEWS = os.path.join(os.path.dirname(__file__), "views")
SETTINGS = {
    "min_length": Setting("int", 10, "Shortest password accepted by `passwd` and the change-password page."),
}
# scrypt cost: 2**14 * 8 * 128 bytes = 16 MiB per check, fine on small shared hosts.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1
# One scrypt at a time in a process: four sign-ins at once would need 64 MiB together.  A check takes
# ~50 ms, so sign-ins queue only when more than ~20 a second arrive, which throttling keeps an
# attacker from sending anyway.  (That the 16 MiB go back to the system afterwards is the core's
# doing: see indieauth.give_back_big_blocks.)
_one_at_a_time = threading.Lock()


def scrypt(password, salt, n, r, p, dklen):
    with _one_at_a_time:
        return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024,
                              dklen=dklen)


def hash_password(password, salt=None):
    """'scrypt$N$r$p$salt$hash' for a password (salt random unless given)."""
    salt = salt or secrets.token_bytes(16)
    digest = scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, 32)
    b64 = lambda b: base64.b64encode(b).decode()
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt)}${b64(digest)}"


def check_password(password, stored):
    """True when `password` matches the stored hash; compares in constant time."""
    try:
        _, n, r, p, salt, digest = stored.split("$")
        expected = base64.b64decode(digest)
        actual = scrypt(password, base64.b64decode(salt), int(n), int(r), int(p), len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


@functools.lru_cache(maxsize=None)
def _dummy_hash():
    """Checked against when the user does not exist, so timing does not tell which names exist.  Made
    on first need, not on import: scrypt's 16 MiB and tens of milliseconds would burden every start."""
    return hash_password(secrets.token_urlsafe(16))


def password_problem(password, min_length):
    """Why a new password is refused, or None."""
    if len(password) < min_length:
        return f"The password must be at least {min_length} characters long."
    return None


class PasswordAuthenticator(Authenticator):
    name = NAME
    label = "Password"
    settings_url = "/plugins/password/"

    def __init__(self, app):
        self.app = app

    def supports(self, user):
        return self.app.storage.get_credential(user, NAME) is not None

    def start(self, request, context):
        return self.app.render("password_login.tpl", **context)

    def finish(self, request):
        """The user whose password this is; throttled per account and per address."""
        username = self.app.posted_username()
        password = form_value("password")
        address = self.app.client_address()
        self.app.throttle.check(username, address)
        if not username or not password:
            raise AuthenticationFailed("Enter your user name and your password.", username=username)
        user = self.app.storage.get_user(username=username)
        credential = self.app.storage.get_credential(user, NAME) if user else None
        stored = credential["hash"] if credential else _dummy_hash()
        if not check_password(password, stored) or credential is None:
            self.app.throttle.failed(username, address)
            # a one-user server asked for no user name, so the password is all that can be wrong
            raise AuthenticationFailed("The password is not right." if self.app.sole_user() else
                                       "The user name or the password is not right.", status=400, username=username)
        self.app.storage.touch_credential(user, NAME)  # the core clears failures once the whole sign-in succeeds
        return user


def set_password(app, user, password, keep_session=None):
    """Store a new password for `user` and end their sign-ins but `keep_session`; returns how many ended."""
    app.storage.set_credential(user, NAME, {"hash": hash_password(password)})
    app.storage.log_event("password_changed", user=user)
    return app.storage.revoke_user_sessions(user, keep=keep_session)


@hookimpl
def configure(app):
    app.add_template_path(VIEWS)
    app.plugin_state[NAME] = app.plugin_config(NAME, SETTINGS)


@hookimpl
def register_authenticators(app):
    return [PasswordAuthenticator(app)]


@hookimpl
def register_routes(app):
    def change_page(error=None, status=200):
        user = app.require_user()
        bottle.response.status = status
        return app.render("password_change.tpl", title="Change password", error=error,
                          has_password=app.storage.get_credential(user, NAME) is not None,
                          min_length=app.plugin_state[NAME]["min_length"],
                          request_changed=bottle.request.query.get("changed") == "1")

    def change_post():
        user = app.require_user()
        app.check_csrf()
        current, new, again = form_value("current_password"), form_value("new_password"), form_value("new_password_again")
        credential = app.storage.get_credential(user, NAME)
        if credential:  # a current password is a secret like any other: throttled as sign-ins are
            address = app.client_address()
            wait = app.throttle.retry_after(user.username, address)
            if wait:
                refuse_attempt(wait)
            if not check_password(current, credential["hash"]):
                app.throttle.failed(user.username, address)
                return change_page("Your current password is not right.", 400)
        problem = password_problem(new, app.plugin_state[NAME]["min_length"])
        if problem or new != again:
            return change_page(problem or "The two new passwords are not the same.", 400)
        set_password(app, user, new, keep_session=app.session_token())
        app.redirect("/plugins/password/?changed=1")

    return [("GET", "/plugins/password/", lambda: change_page()),
            ("POST", "/plugins/password/", change_post)]


# The commands register_commands adds, declared so that `indieauth --help` lists them while the plugin is not enabled.
COMMANDS = {"passwd": "set a user's password (read from stdin)"}


@hookimpl
def register_commands(app, subparsers):
    parser = subparsers.add_parser("passwd", help=COMMANDS["passwd"])
    parser.add_argument("--user", help="user name (default: the owner)")
    parser.set_defaults(handler=cmd_passwd)


def cmd_passwd(app, args):
    """passwd: a new password from stdin (no echo on a terminal); ends the user's sign-ins."""
    user = user_or_owner(app, args.user)
    password = read_secret_from_stdin(f"New password for {user.username}: ")
    problem = password_problem(password, app.plugin_state[NAME]["min_length"])
    if problem:
        raise UsageError(problem)
    if os.isatty(0) and read_secret_from_stdin("Again: ") != password:
        raise UsageError("the two passwords are not the same")
    ended = set_password(app, user, password)
    print(f"password set for {user.username}" + (f"; ended {ended} sign-in(s)" if ended else ""))
    return 0
