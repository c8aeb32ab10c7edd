"""Codes from an authenticator app (TOTP, RFC 6238) for indieauth: a second factor or a way to sign in alone.

Built only on indieauth's public hooks, exactly as a third-party plugin would be.  The user's `totp`
credential holds {"secret", "last_step", "recovery": [sha256 hex], "enabled_at"} once a first code has
confirmed the secret; before that only {"pending": secret}, which signs nobody in.
"""

import calendar
import hashlib
import hmac
import os
import secrets
import sys
import threading

import bottle
import pyotp
import segno

from indieauth import (AuthenticationFailed, Authenticator, ConfigError, Setting, UsageError, form_value, hookimpl,
                       user_or_owner)

NAME = "totp"
VIEWS = os.path.join(os.path.dirname(__file__), "views")
SETTINGS = {
    "issuer": Setting("str", "IndieAuth", "Name authenticator apps show beside the code."),
    "digits": Setting("int", 6, "Length of a code: 6 or 8."),
    "period": Setting("duration", 30, "How long each code lasts: 10 to 300 seconds, e.g. 30 or \"30s\"."),
    "window": Setting("int", 1, "Time steps either side of now whose code is accepted too (clock drift): 0 to 5."),
}
RECOVERY_CODES = 10
# 31 letters and digits with none that look alike (no 0/o, 1/l/i): 12 of them are 59 bits.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
# Checking a code and recording its time step (or crossing out a recovery code) is one step per process.
_credential_lock = threading.Lock()


def checked_settings(app):
    """The [plugins.totp] table with defaults; ConfigError naming the key of a value that cannot work."""
    values = app.plugin_config(NAME, SETTINGS)
    rules = [
        ("issuer", values["issuer"].strip() != "" and ":" not in values["issuer"],
         "expected a name that is not empty and has no ':' (the app's label is issuer:account)"),
        ("digits", values["digits"] in (6, 8), "expected 6 or 8"),
        ("period", 10 <= values["period"] <= 300, "expected 10 to 300 seconds"),
        ("window", 0 <= values["window"] <= 5, "expected a whole number from 0 to 5"),
    ]
    for key, ok, expected in rules:
        if not ok:
            raise ConfigError(f"{app.config.where(f'plugins.{NAME}', key)}: {expected}, "
                              f"got {app.plugin_config(NAME)[key]!r}")
    return values


# -- codes

def time_step(moment, period):
    """The RFC 6238 counter at `moment`, a naive UTC datetime (pyotp would read a naive one as local time)."""
    return calendar.timegm(moment.timetuple()) // period


def matching_step(settings, secret, code, moment):
    """The time step within ±window of `moment` whose code is `code`, or None; compares in constant time."""
    otp = pyotp.TOTP(secret, digits=settings["digits"], interval=settings["period"])
    now = time_step(moment, settings["period"])
    found = None
    for step in range(now - settings["window"], now + settings["window"] + 1):
        if hmac.compare_digest(otp.generate_otp(step), code):
            found = step  # the latest that matches, so no later step can be replayed
    return found


def normalized(entered):
    """A code as typed, without spaces or dashes and in lower case ("123 456" and "ABCD-efgh" work)."""
    return "".join(entered.split()).replace("-", "").lower()


def is_totp_code(code, settings):
    return code.isdigit() and len(code) == settings["digits"]


def provisioning_uri(settings, secret, user):
    """The otpauth:// URI authenticator apps read from the QR code."""
    return pyotp.TOTP(secret, digits=settings["digits"], interval=settings["period"], name=user.username,
                      issuer=settings["issuer"]).provisioning_uri()


def qr_svg(uri):
    """The QR code of `uri` as inline SVG: dark on a white square, so it scans in dark mode too."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, light="#fff", svgclass="totp-qr")
    return svg.replace("<svg ", '<svg role="img" aria-label="QR code to scan with your authenticator app" ', 1)


def qr_text(uri, colour=False):
    """The QR code of `uri` for a terminal: two rows of modules per line in half blocks, dark modules
    drawn; with `colour`, black on white whatever the terminal's own colours."""
    rows = [[bool(module) for module in row] for row in segno.make(uri, error="m").matrix_iter(border=4)]
    rows.append([False] * len(rows[0]))  # pairs up an odd last row; zip drops it when not needed
    lines = []
    for top, bottom in zip(rows[0::2], rows[1::2]):
        line = "".join(" ▀▄█"[upper + 2 * lower] for upper, lower in zip(top, bottom))
        lines.append(f"\033[30;107m{line}\033[0m" if colour else line)
    return "\n".join(lines)


def grouped(secret):
    """A base32 key in groups of four, as people type it into an app."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


# -- recovery codes

def new_recovery_codes():
    """RECOVERY_CODES fresh codes like 'k7dq-m2xa-9fte'."""
    return ["-".join("".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(4)) for _ in range(3))
            for _ in range(RECOVERY_CODES)]


def recovery_hash(code):
    """SHA-256 of a normalized recovery code: enough for 59 random bits, and all that is stored."""
    return hashlib.sha256(normalized(code).encode()).hexdigest()


# -- the user's credential

def enabled_secret(app, user):
    """The confirmed secret of `user`, or None (no credential, only a pending one, or turned off)."""
    credential = app.storage.get_credential(user, NAME)
    return credential.get("secret") if credential else None


def enable(app, user, secret, step):
    """Turn codes on for `user` with `secret`, whose code at `step` was just entered (so that code is used
    up); returns the new recovery codes, to be shown once."""
    codes = new_recovery_codes()
    app.storage.set_credential(user, NAME, {"secret": secret, "last_step": step,
                                            "recovery": [recovery_hash(c) for c in codes],
                                            "enabled_at": app.now().isoformat()})
    app.storage.log_event("totp_enabled", user=user)
    return codes


def use_code(app, user, entered):
    """Check a code or a recovery code of `user` and use it up: 'totp' or 'recovery' when it signs in,
    'replayed' for a code of a time step already used (or older), None when it is wrong."""
    settings = app.plugin_state[NAME]
    code = normalized(entered)
    with _credential_lock:
        credential = app.storage.get_credential(user, NAME) or {}
        if not credential.get("secret") or not code:
            return None
        if is_totp_code(code, settings):
            step = matching_step(settings, credential["secret"], code, app.now())
            if step is None:
                return None
            if step <= credential.get("last_step", -1):
                return "replayed"
            credential["last_step"] = step
            used = "totp"
        else:
            digest = recovery_hash(code)
            left = [h for h in credential.get("recovery", []) if not hmac.compare_digest(h, digest)]
            if len(left) == len(credential.get("recovery", [])):
                return None
            credential["recovery"] = left
            used = "recovery"
        app.storage.set_credential(user, NAME, credential)
    app.storage.touch_credential(user, NAME)
    if used == "recovery":
        app.storage.log_event("totp_recovery_code_used", user=user, left=len(credential["recovery"]))
    return used


# -- throttling: the core's, shared with the password plugin.  Only a whole sign-in clears an account's
#    count (the core's Throttle.succeeded), so a right password gives no endless guesses at codes.

class TotpAuthenticator(Authenticator):
    name = NAME
    label = "Authenticator app"
    settings_url = "/plugins/totp/"

    def __init__(self, app):
        self.app = app

    def supports(self, user):
        return enabled_secret(self.app, user) is not None

    def start(self, request, context):
        return self.app.render("totp_login.tpl", digits=self.app.plugin_state[NAME]["digits"], **context)

    def finish(self, request):
        """The user whose code this is: the one an earlier factor identified, or the one named in the form."""
        partial = self.app.partial_user()
        username = partial.username if partial else self.app.posted_username()
        entered = form_value("code")[:64]
        address = self.app.client_address()
        self.app.throttle.check(username, address)
        if not username or not entered.strip():
            raise AuthenticationFailed("Enter the code from your authenticator app." if partial else
                                       "Enter your user name and the code from your authenticator app.",
                                       username=username)
        user = partial or self.app.storage.get_user(username=username)
        used = use_code(self.app, user, entered) if user else None
        if used in (None, "replayed"):
            self.app.throttle.failed(username, address)
            if used == "replayed":
                message = "This code has been used already. Wait for your app to show the next one."
            elif partial:
                message = ("That code is not right. Enter the code your authenticator app shows now, "
                           "or one of your recovery codes.")
            else:
                message = "The user name or the code is not right."
            raise AuthenticationFailed(message, username=username)
        self.app.throttle.succeeded(username)
        return user


@hookimpl
def configure(app):
    app.add_template_path(VIEWS)
    app.plugin_state[NAME] = checked_settings(app)


@hookimpl
def register_authenticators(app):
    return [TotpAuthenticator(app)]


@hookimpl
def register_routes(app):
    settings = app.plugin_state[NAME]

    def settings_page(error=None, status=200):
        """Set-up (QR code, key, confirm with a code) when off; recovery codes and turning off when on."""
        user = app.require_user()
        credential = app.storage.get_credential(user, NAME) or {}
        bottle.response.status = status
        if credential.get("secret"):
            return app.render("totp_manage.tpl", title="Authenticator app", error=error,
                              since=credential.get("enabled_at", "")[:10], left=len(credential.get("recovery", [])),
                              total=RECOVERY_CODES, required=all(NAME in chain for chain in app.chains))
        pending = credential.get("pending")
        if not pending:  # kept until confirmed, so reloading the page does not change the QR code
            pending = pyotp.random_base32()
            app.storage.set_credential(user, NAME, {"pending": pending})
        uri = provisioning_uri(settings, pending, user)
        return app.render("totp_setup.tpl", title="Set up an authenticator app", error=error, uri=uri,
                          qr=qr_svg(uri), key=grouped(pending), issuer=settings["issuer"], account=user.username,
                          digits=settings["digits"], period=settings["period"],
                          turned_off=bottle.request.query.get("off") == "1")

    def codes_page(codes, just_enabled):
        return app.render("totp_codes.tpl", title="Recovery codes", codes=codes, just_enabled=just_enabled)

    def confirm_post():
        user = app.require_user()
        app.check_csrf()
        code = normalized(form_value("code")[:64])
        with _credential_lock:
            credential = app.storage.get_credential(user, NAME) or {}
            pending = None if credential.get("secret") else credential.get("pending")
            right_form = pending and is_totp_code(code, settings)
            step = matching_step(settings, pending, code, app.now()) if right_form else None
            codes = enable(app, user, pending, step) if step is not None else None
        if pending is None:
            app.redirect("/plugins/totp/")
        if codes is None:
            digits = settings["digits"]
            return settings_page(f"Enter the {digits}-digit code your authenticator app shows." if not code else
                                 f"That code is not right. Enter the {digits}-digit code your app shows now; "
                                 f"if it keeps failing, check that your phone sets its clock automatically.", 400)
        return codes_page(codes, just_enabled=True)

    def recovery_post():
        user = app.require_user()
        app.check_csrf()
        with _credential_lock:
            credential = app.storage.get_credential(user, NAME) or {}
            codes = new_recovery_codes() if credential.get("secret") else None
            if codes:
                credential["recovery"] = [recovery_hash(c) for c in codes]
                app.storage.set_credential(user, NAME, credential)
        if codes is None:
            app.redirect("/plugins/totp/")
        app.storage.log_event("totp_recovery_codes_made", user=user)
        return codes_page(codes, just_enabled=False)

    def disable_post():
        user = app.require_user()
        app.check_csrf()
        if not enabled_secret(app, user):
            app.redirect("/plugins/totp/")
        if form_value("confirm") != "yes":
            return settings_page("Tick the box to confirm that signing in should stop asking for "
                                 "codes from your authenticator app.", 400)
        app.storage.set_credential(user, NAME, {})
        app.storage.log_event("totp_disabled", user=user)
        app.redirect("/plugins/totp/?off=1")

    return [("GET", "/plugins/totp/", lambda: settings_page()),
            ("POST", "/plugins/totp/confirm", confirm_post),
            ("POST", "/plugins/totp/recovery", recovery_post),
            ("POST", "/plugins/totp/disable", disable_post)]


# The commands register_commands adds, declared so that `indieauth --help` lists them while the plugin is not enabled.
COMMANDS = {"totp": "codes from an authenticator app (TOTP)"}


@hookimpl
def register_commands(app, subparsers):
    parser = subparsers.add_parser("totp", help=COMMANDS["totp"])
    actions = parser.add_subparsers(dest="totp_command", metavar="ACTION", parser_class=type(parser),
                                    required=True)
    enroll = actions.add_parser("enroll", help="set up an authenticator app: shows a QR code, reads a code from stdin")
    enroll.add_argument("--user", help="user name (default: the owner)")
    enroll.set_defaults(handler=cmd_enroll)


def cmd_enroll(app, args):
    """totp enroll: a new secret as a QR code and a URI; turned on once a code from it is read from stdin."""
    user = user_or_owner(app, args.user)
    settings = app.plugin_state[NAME]
    secret = pyotp.random_base32()
    uri = provisioning_uri(settings, secret, user)
    print(f"Scan this QR code with the authenticator app of {user.username}:\n")
    print(qr_text(uri, colour=sys.stdout.isatty()))
    print(f"\nOr add the account by hand: key {grouped(secret)} (time-based, {settings['digits']} digits, "
          f"every {settings['period']} seconds), or open this URI:\n{uri}\n")
    if enabled_secret(app, user):
        print("This replaces the authenticator app set up before, once you enter a code from the new one.")
    print("Code the app shows now: ", end="", flush=True)
    code = normalized(sys.stdin.readline()[:64])
    step = matching_step(settings, secret, code, app.now()) if is_totp_code(code, settings) else None
    if step is None:
        raise UsageError(("no code was entered" if not code else "that code is not right (is the phone's clock "
                          "set automatically?)") + f"; nothing was changed for {user.username}: run the command again")
    codes = enable(app, user, secret, step)
    print(f"\nCodes from the authenticator app are on for {user.username}.")
    print("Recovery codes: each signs in once instead of a code, if the phone is lost. "
          "Keep them safe now; they are not shown again.")
    for recovery_code in codes:
        print(f"  {recovery_code}")
    return 0
