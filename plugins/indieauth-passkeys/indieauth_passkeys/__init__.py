"""Passkeys (WebAuthn) for indieauth: sign in with a passkey alone, or after the password.

Built only on indieauth's public hooks, exactly as a third-party plugin would be, with py_webauthn
(`webauthn` on PyPI) doing the WebAuthn verification.  The user's `passkeys` credential holds
{"handle": the WebAuthn user handle, "passkeys": [{"id", "public_key", "sign_count", "transports",
"name", "created", "last_used"}]}.

A challenge is the core's single-use callback state (`app.save_callback_state`): kept on the server for
`challenge_lifetime`, bound to this browser, taken once by a conditional update whichever worker answers.
A browser may wait on several at once: each open sign-in page keeps one for the passkeys offered in its
user name field's autofill.
"""

import base64
import copy
import hmac
import ipaddress
import itertools
import json
import logging
import os
import secrets
import sys
import unicodedata
import urllib.parse

import bottle
import webauthn
from webauthn.helpers import parse_authentication_credential_json, parse_authenticator_data
from webauthn.helpers.structs import (AuthenticatorSelectionCriteria, AuthenticatorTransport,
                                      PublicKeyCredentialDescriptor, ResidentKeyRequirement,
                                      UserVerificationRequirement)

from indieauth import (AuthenticationFailed, Authenticator, ConfigError, PageError, Setting, StateRefused, UsageError,
                       fail, form_value, hookimpl, user_or_owner)

NAME = "passkeys"
HERE = os.path.dirname(__file__)
VIEWS = os.path.join(HERE, "views")
STATIC = os.path.join(HERE, "static")
SETTINGS_URL = "/plugins/passkeys/"
SCRIPT_URL = "/plugins/passkeys/passkeys.js"  # loaded by the login page (the scripts slot) and the settings page
SETTINGS = {
    "rp_name": Setting("str", "IndieAuth", "Name of this server that browsers and passkey managers show."),
    "challenge_lifetime": Setting("duration", 300, "How long a browser may take to use a passkey once it "
                                                   "has asked: 30 seconds to 10 minutes, e.g. \"5m\"."),
    "user_verification": Setting("str", "preferred", "Whether the passkey must check it is you (PIN, "
                                                     "fingerprint): preferred, required or discouraged.",
                                 ("preferred", "required", "discouraged")),
}
MAX_PASSKEYS = 20
MAX_NAME = 64
MAX_ANSWER = 32_000  # characters of the browser's JSON answer; real ones are a few hundred to a few thousand
TRANSPORTS = {t.value for t in AuthenticatorTransport}
log = logging.getLogger("indieauth.passkeys")

NO_CHALLENGE = "This passkey request is not known to this browser (or was used already). Start again."
EXPIRED = "This passkey request has expired. Start again."
USED = "This passkey request was used already. Start again."
UNREADABLE = "The browser's answer could not be read. Start again."
NOT_VERIFIED = "Your passkey's answer could not be verified for this site. Start again."
UNKNOWN = ("This passkey is not registered here (it may have been removed). Sign in another way, "
           "then add it again on the passkeys page.")
NOT_YOURS = "You have no such passkey (it may have been removed). Go back to your passkeys and try again."


class Refused(Exception):
    """A passkey request that cannot go on; `message` is shown to the person as it is."""

    def __init__(self, message, status=400, username=""):
        super().__init__(message)
        self.message, self.status, self.username = message, status, username


def checked_settings(app):
    """The [plugins.passkeys] table with the relying party; ConfigError naming the key that cannot work."""
    values = app.plugin_config(NAME, SETTINGS)
    where = app.config.where(f"plugins.{NAME}")
    if not values["rp_name"].strip():
        raise ConfigError(f"{where} rp_name: expected the name of this server, got an empty string")
    if not 30 <= values["challenge_lifetime"] <= 600:
        raise ConfigError(f"{where} challenge_lifetime: expected 30 seconds to 10 minutes, "
                          f"got {app.plugin_config(NAME)['challenge_lifetime']!r}")
    parts = urllib.parse.urlsplit(app.base_url)
    host = parts.hostname or ""
    try:
        ipaddress.ip_address(host)
        raise ConfigError(f"{where}: passkeys need a domain name in [server] base_url (a relying party ID "
                          f"cannot be an IP address), got {app.base_url!r}; use http://localhost:PORT/ for development")
    except ValueError:
        pass
    values["rp_id"] = host
    values["origin"] = f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")
    return values


# -- small helpers

def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text):
    """Bytes of unpadded base64url text; ValueError for anything else."""
    if not isinstance(text, str):
        raise ValueError("not text")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def json_answer(status, body):
    """A JSON response that is never cached."""
    bottle.response.status = status
    bottle.response.content_type = "application/json"
    bottle.response.set_header("Cache-Control", "no-store")
    return json.dumps(body) if isinstance(body, dict) else body


def transports_of(names):
    return [AuthenticatorTransport(n) for n in names if n in TRANSPORTS]


# -- the user's credential

def record(app, user):
    """The user's passkeys data, created (with a new user handle) when there is none."""
    data = app.storage.get_credential(user, NAME)
    if not data or "handle" not in data:
        # 8 bytes of the user id, so a sign-in finds the user, and 24 random ones, so it is never guessed
        data = {"handle": b64(user.id.to_bytes(8, "big") + secrets.token_bytes(24)), "passkeys": [], "used": []}
        app.storage.set_credential(user, NAME, data)
    return data


def passkeys_of(app, user):
    data = app.storage.get_credential(user, NAME) or {}
    return data.get("passkeys", [])


def owner_of(app, handle):
    """The user whose user handle is `handle` (bytes), or None."""
    user_id = int.from_bytes(handle[:8], "big")
    if len(handle) != 32 or user_id >= 2 ** 63:  # a database integer holds 63 bits
        return None
    user = app.storage.get_user(user_id=user_id)
    data = app.storage.get_credential(user, NAME) if user else None
    if not data or not hmac.compare_digest(data.get("handle", "").encode(), b64(handle).encode()):
        return None
    return user


def change(app, user, edit):
    """Apply `edit(data) -> data` to the user's credential by compare-and-set, so of several racing
    changes each sees the one before; `edit` raises Refused to give up.  The new data."""
    for _ in range(8):
        data = record(app, user)
        new = edit(copy.deepcopy(data))
        if app.storage.update_credential(user, NAME, data, new):
            return new
    raise Refused("The server was busy with this account. Start again.", 409)


# -- challenges: the core's callback state, bound to this browser and used once

def issue_challenge(app, purpose, user=None, handle=None):
    """A new challenge for `purpose` ("login" or "register"): the bytes of a state the server keeps for
    this browser (256 random bits as 43 URL-safe characters), with whose request it is."""
    state = app.save_callback_state(f"{NAME}-{purpose}", {"u": user.id if user else None, "h": handle},
                                    app.plugin_state[NAME]["challenge_lifetime"])
    return state.encode("ascii")


def signed_challenge(client_data_json):
    """The challenge (bytes) that the browser's clientDataJSON says was signed; ValueError/KeyError/TypeError
    when it cannot be read."""
    return unb64(json.loads(client_data_json)["challenge"])


def take_challenge(app, purpose, signed):
    """What this browser's challenge for `purpose` whose bytes are `signed` was issued with, using it up;
    Refused when there is none (never given to this browser, or for another purpose), or it was used or
    has expired."""
    try:
        return app.take_callback_state(f"{NAME}-{purpose}", signed.decode("ascii"))
    except UnicodeDecodeError:
        raise Refused(NO_CHALLENGE) from None
    except StateRefused as refused:
        raise Refused({"used": USED, "expired": EXPIRED}.get(refused.reason, NO_CHALLENGE)) from None


def uv_setting(app):
    return UserVerificationRequirement(app.plugin_state[NAME]["user_verification"])


# -- registration

def registration_options(app, user):
    """The JSON options for navigator.credentials.create(), with a new challenge in this browser."""
    settings = app.plugin_state[NAME]
    data = record(app, user)
    if len(data["passkeys"]) >= MAX_PASSKEYS:
        raise Refused(f"You have {MAX_PASSKEYS} passkeys, the most there can be. Remove one first.")
    challenge = issue_challenge(app, "register", user, data["handle"])
    options = webauthn.generate_registration_options(
        rp_id=settings["rp_id"], rp_name=settings["rp_name"], user_id=unb64(data["handle"]),
        user_name=user.username, user_display_name=user.name or user.username, challenge=challenge,
        timeout=settings["challenge_lifetime"] * 1000,
        authenticator_selection=AuthenticatorSelectionCriteria(resident_key=ResidentKeyRequirement.REQUIRED,
                                                               user_verification=uv_setting(app)),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=unb64(p["id"]), transports=transports_of(p["transports"]))
                             for p in data["passkeys"]])
    return webauthn.options_to_json(options)


def register(app, user, answer, name):
    """Verify the browser's answer to registration_options and store the new passkey; its entry."""
    settings = app.plugin_state[NAME]
    try:
        parsed = json.loads(answer)
        signed = signed_challenge(unb64(parsed["response"]["clientDataJSON"]))
        transports = parsed["response"].get("transports") or []
        transports = [t for t in transports if t in TRANSPORTS][:8] if isinstance(transports, list) else []
    except (ValueError, TypeError, KeyError, AttributeError):
        raise Refused(UNREADABLE) from None
    challenge = take_challenge(app, "register", signed)
    if challenge.get("u") != user.id or challenge.get("h") != record(app, user)["handle"]:
        raise Refused(NO_CHALLENGE)
    try:
        verified = webauthn.verify_registration_response(
            credential=parsed, expected_challenge=signed, expected_rp_id=settings["rp_id"],
            expected_origin=settings["origin"],
            require_user_verification=settings["user_verification"] == "required")
    except Exception as exc:  # anything the library refuses, malformed parts included
        log.info("passkey registration refused for %s: %s", user.username, exc)
        raise Refused(NOT_VERIFIED) from None
    now = app.now()
    entry = {"id": b64(verified.credential_id), "public_key": b64(verified.credential_public_key),
             "sign_count": verified.sign_count, "transports": transports, "name": name,
             "created": now.isoformat(timespec="seconds"), "last_used": None}

    def add(data):
        data.pop("used", None)  # where challenges used before 0.2 were remembered
        if any(p["id"] == entry["id"] for p in data["passkeys"]):
            raise Refused("This passkey is registered already.")
        if len(data["passkeys"]) >= MAX_PASSKEYS:
            raise Refused(f"You have {MAX_PASSKEYS} passkeys, the most there can be. Remove one first.")
        if not entry["name"]:
            entry["name"] = f"Passkey {len(data['passkeys']) + 1}"
        data["passkeys"].append(entry)
        return data

    change(app, user, add)
    app.storage.log_event("passkey_added", user=user, name=entry["name"])
    return entry


# -- signing in

def authentication_options(app, user=None):
    """The JSON options for navigator.credentials.get(): any passkey of this site (discoverable), or only
    `user`'s when an earlier factor identified them."""
    settings = app.plugin_state[NAME]
    allow = None
    if user is not None:
        allow = [PublicKeyCredentialDescriptor(id=unb64(p["id"]), transports=transports_of(p["transports"]))
                 for p in passkeys_of(app, user)]
        if not allow:
            raise Refused("There is no passkey for this account. Sign in another way.")
    challenge = issue_challenge(app, "login", user)
    options = webauthn.generate_authentication_options(
        rp_id=settings["rp_id"], challenge=challenge, timeout=settings["challenge_lifetime"] * 1000,
        allow_credentials=allow, user_verification=uv_setting(app))
    return webauthn.options_to_json(options)


def authenticate(app, answer, expected_user=None):
    """The user whose passkey signed this browser's challenge (which is then used up); Refused otherwise.
    With `expected_user` (an earlier factor's), only that user's passkeys count."""
    settings = app.plugin_state[NAME]
    try:
        credential = parse_authentication_credential_json(answer)
        counter = parse_authenticator_data(credential.response.authenticator_data).sign_count
        signed = signed_challenge(credential.response.client_data_json)
    except Exception:
        raise Refused(UNREADABLE) from None
    challenge = take_challenge(app, "login", signed)
    handle = credential.response.user_handle
    user = owner_of(app, handle) if handle else expected_user
    if user is None:
        raise Refused(UNKNOWN)
    if expected_user is not None and user.id != expected_user.id:
        raise Refused("This passkey belongs to another account. Use the passkey of "
                      f"{expected_user.username}.", username=expected_user.username)
    if challenge.get("u") is not None and challenge["u"] != user.id:
        raise Refused(NO_CHALLENGE, username=user.username)
    key_id = b64(credential.raw_id)
    entry = next((p for p in passkeys_of(app, user) if p["id"] == key_id), None)
    if entry is None:
        raise Refused(UNKNOWN, username=user.username)
    if (counter or entry["sign_count"]) and counter <= entry["sign_count"]:
        app.storage.log_event("passkey_counter_regressed", user=user, name=entry["name"])
        raise Refused("This passkey's signature counter went backwards, which can mean it was copied. "
                      "Sign in another way and check your passkeys.", username=user.username)
    try:
        verified = webauthn.verify_authentication_response(
            credential=credential, expected_challenge=signed, expected_rp_id=settings["rp_id"],
            expected_origin=settings["origin"], credential_public_key=unb64(entry["public_key"]),
            credential_current_sign_count=entry["sign_count"],
            require_user_verification=settings["user_verification"] == "required")
    except Exception as exc:
        log.info("passkey sign-in refused for %s: %s", user.username, exc)
        raise Refused(NOT_VERIFIED, username=user.username) from None
    now = app.now()

    def used(data):
        data.pop("used", None)
        current = next((p for p in data["passkeys"] if p["id"] == key_id), None)
        if current is None:
            raise Refused(UNKNOWN, username=user.username)
        if (verified.new_sign_count or current["sign_count"]) and verified.new_sign_count <= current["sign_count"]:
            raise Refused(USED, username=user.username)  # another request with this counter won the race
        current["sign_count"] = verified.new_sign_count
        current["last_used"] = now.isoformat(timespec="seconds")
        return data

    change(app, user, used)
    app.storage.touch_credential(user, NAME)
    return user


# -- managing passkeys: renaming and removing, from the settings page and the command line

def clean_name(text):
    """A passkey name as typed, with each run of white space made one space and control characters dropped."""
    return "".join(ch for ch in " ".join(text.split()) if unicodedata.category(ch) != "Cc")


def name_problem(name):
    """Why `name` (cleaned) cannot name a passkey, or None."""
    if not name:
        return "Give the passkey a name, for example “Laptop” or “Phone”."
    if len(name) > MAX_NAME:
        return f"A passkey's name can be at most {MAX_NAME} characters; this one has {len(name)}."
    return None


def find_passkey(app, user, key_id):
    """`user`'s passkey whose ID is `key_id`, or None (another user's passkey included)."""
    return next((p for p in passkeys_of(app, user) if p["id"] == key_id), None)


def rename(app, user, key_id, name):
    """Give `user`'s passkey `key_id` the name `name` (cleaned); its old name.  Refused when the name is
    empty or too long, or when `user` has no passkey `key_id`."""
    name = clean_name(name)
    problem = name_problem(name)
    if problem:
        raise Refused(problem)
    old = []

    def edit(data):
        entry = next((p for p in data["passkeys"] if p["id"] == key_id), None)
        if entry is None:
            raise Refused(NOT_YOURS, 404)
        old[:] = [entry["name"]]
        entry["name"] = name
        return data

    change(app, user, edit)
    app.storage.log_event("passkey_renamed", user=user, old=old[0], name=name)
    return old[0]


def remove(app, user, key_id):
    """Remove `user`'s passkey `key_id`, so it no longer signs in; its entry, or None when there was none."""
    removed = []

    def drop(data):
        removed[:] = [p for p in data["passkeys"] if p["id"] == key_id]
        data["passkeys"] = [p for p in data["passkeys"] if p["id"] != key_id]
        return data

    change(app, user, drop)
    if not removed:
        return None
    app.storage.log_event("passkey_removed", user=user, name=removed[0]["name"])
    return removed[0]


class PasskeysAuthenticator(Authenticator):
    name = NAME
    label = "Passkey"
    settings_url = SETTINGS_URL
    scripts = (SCRIPT_URL,)

    def __init__(self, app):
        self.app = app

    def supports(self, user):
        return bool(passkeys_of(self.app, user))

    def start(self, request, context):
        return self.app.render("passkeys_login.tpl", **context)

    def finish(self, request):
        """The user whose passkey signed this browser's challenge: anyone's, or the earlier factor's."""
        app = self.app
        partial = app.partial_user()
        username = partial.username if partial else ""
        address = app.client_address()
        app.throttle.check(username, address)
        answer = form_value("credential")
        if not answer.strip():
            raise AuthenticationFailed("Signing in with a passkey needs JavaScript. Turn it on, or use another "
                                       "way to sign in.", username=username)
        try:
            if len(answer) > MAX_ANSWER:
                raise Refused(UNREADABLE)
            return authenticate(app, answer, partial)
        except Refused as refused:
            app.throttle.failed(refused.username or username, address)
            raise AuthenticationFailed(refused.message, status=refused.status,
                                       username=refused.username or username) from None


@hookimpl
def configure(app):
    app.add_template_path(VIEWS)
    app.plugin_state[NAME] = checked_settings(app)


@hookimpl
def register_authenticators(app):
    return [PasskeysAuthenticator(app)]


@hookimpl
def register_routes(app):
    def script():
        response = bottle.static_file("passkeys.js", root=STATIC, mimetype="text/javascript", charset="utf-8")
        response.set_header("Cache-Control", "public, max-age=3600")
        return response

    def json_endpoint(handler, signed_in):
        """A POST answered only in JSON: CSRF checked, errors as {"error": message}, never a page."""
        def endpoint():
            user = app.current_user()
            if signed_in and user is None:
                return json_answer(401, {"error": "Sign in first, then add a passkey on the passkeys page."})
            try:
                app.check_csrf()  # the script sends the page's token in X-CSRF-Token
            except PageError as refused:
                return json_answer(refused.status_code, {"error": refused.body})
            try:
                return json_answer(200, handler(user))
            except Refused as refused:
                return json_answer(refused.status, {"error": refused.message})
        return endpoint

    def login_options(user):
        if NAME not in app.next_steps()[1]:
            raise Refused("Signing in with a passkey is not possible at this step. Start again.")
        return authentication_options(app, app.partial_user())

    def register_verify(user):
        answer = form_value("credential")
        if not answer.strip() or len(answer) > MAX_ANSWER:
            raise Refused(UNREADABLE)
        register(app, user, answer, clean_name(form_value("name"))[:MAX_NAME])
        return {"ok": True, "redirect": SETTINGS_URL + "?added=1"}

    def settings_page():
        user = app.require_user()
        query = bottle.request.query
        return app.render("passkeys_manage.tpl", title="Passkeys", passkeys=passkeys_of(app, user),
                          done=next((flag for flag in ("added", "renamed", "removed") if query.get(flag) == "1"), None),
                          required=all(NAME in chain for chain in app.chains), max_name=MAX_NAME, scripts=[SCRIPT_URL])

    def rename_page(error=None, status=200):
        user = app.require_user()
        entry = find_passkey(app, user, form_value("id", bottle.request.query.get("id", "")))
        if entry is None:
            fail(404, NOT_YOURS)
        bottle.response.status = status
        return app.render("passkeys_rename.tpl", title="Rename a passkey", passkey=entry, error=error,
                          typed=form_value("name") if error else entry["name"], max_name=MAX_NAME)

    def rename_post():
        user = app.require_user()
        app.check_csrf()
        try:
            rename(app, user, form_value("id"), form_value("name"))
        except Refused as refused:
            if refused.status == 404:
                fail(404, refused.message)
            return rename_page(refused.message, 400)
        app.redirect(SETTINGS_URL + "?renamed=1")

    def remove_page(error=None, status=200):
        user = app.require_user()
        entry = find_passkey(app, user, form_value("id", bottle.request.query.get("id", "")))
        if entry is None:
            app.redirect(SETTINGS_URL)
        bottle.response.status = status
        return app.render("passkeys_remove.tpl", title="Remove a passkey", passkey=entry, error=error,
                          last=len(passkeys_of(app, user)) == 1)

    def remove_post():
        user = app.require_user()
        app.check_csrf()
        if form_value("confirm") != "yes":
            return remove_page("Tick the box to confirm that this passkey should stop signing you in.", 400)
        remove(app, user, form_value("id"))
        app.redirect(SETTINGS_URL + "?removed=1")

    return [("GET", SCRIPT_URL, script),
            ("GET", SETTINGS_URL, settings_page),
            ("POST", "/plugins/passkeys/register/options",
             json_endpoint(lambda user: registration_options(app, user), signed_in=True)),
            ("POST", "/plugins/passkeys/register/verify", json_endpoint(register_verify, signed_in=True)),
            ("GET", "/plugins/passkeys/rename", lambda: rename_page()),
            ("POST", "/plugins/passkeys/rename", rename_post),
            ("GET", "/plugins/passkeys/remove", lambda: remove_page()),
            ("POST", "/plugins/passkeys/remove", remove_post),
            ("POST", "/login/passkeys/options", json_endpoint(login_options, signed_in=False))]


# The commands register_commands adds, declared so that `indieauth --help` lists them while the plugin is not enabled.
COMMANDS = {"passkeys": "a user's passkeys: list, rename, remove"}


@hookimpl
def register_commands(app, subparsers):
    parser = subparsers.add_parser("passkeys", help=COMMANDS["passkeys"])
    actions = parser.add_subparsers(dest="passkeys_command", metavar="ACTION", parser_class=type(parser),
                                    required=True)
    listing = actions.add_parser("list", help="list a user's passkeys: ID, added, last used, name")
    listing.add_argument("--user", help="user name (default: the owner)")
    listing.set_defaults(handler=cmd_list)
    renaming = actions.add_parser("rename", help="give a passkey another name")
    renaming.add_argument("id", metavar="ID", help="the passkey's ID from `passkeys list` (6 or more characters of it)")
    renaming.add_argument("name", metavar="NAME", help=f"the new name, 1 to {MAX_NAME} characters")
    renaming.add_argument("--user", help="user name (default: the owner)")
    renaming.set_defaults(handler=cmd_rename)
    removing = actions.add_parser("remove", help="remove a passkey: it no longer signs in")
    removing.add_argument("id", metavar="ID", help="the passkey's ID from `passkeys list` (6 or more characters of it)")
    removing.add_argument("--user", help="user name (default: the owner)")
    removing.set_defaults(handler=cmd_remove)


def command_user(app, args):
    """The user named by --user, or the owner; UsageError when there is none."""
    return user_or_owner(app, args.user)


def cli_id(entry):
    """A passkey's ID on the command line: its credential ID in hex.  The base64url form the browser
    uses may begin with "-", which argparse would take for an option."""
    return unb64(entry["id"]).hex()


def command_passkey(app, user, text):
    """`user`'s one passkey whose ID starts with `text` (6 characters at least); UsageError otherwise."""
    found = ([p for p in passkeys_of(app, user) if cli_id(p).startswith(text.lower())]
             if len(text) >= 6 else [])
    if len(found) != 1:
        problem = ("give at least 6 characters of the passkey's ID, not" if len(text) < 6 else
                   f"{user.username} has {'several passkeys' if found else 'no passkey'} with an ID starting with")
        raise UsageError(f"{problem} {text!r} (see `indieauth passkeys list --user {user.username}`)")
    return found[0]


def when(moment):
    return moment[:16].replace("T", " ") if moment else "never"


def cmd_list(app, args):
    """passkeys list: one line per passkey, its ID cut to 12 characters (more if two would look the same)."""
    user = command_user(app, args)
    entries = passkeys_of(app, user)
    if not entries:
        print(f"{user.username} has no passkeys")
        return 0
    width = next(n for n in itertools.count(12) if len({cli_id(p)[:n] for p in entries}) == len(entries))
    print(f"{'ID':<{width}}  {'ADDED (UTC)':<16}  {'LAST USED (UTC)':<16}  NAME")
    for entry in entries:
        print(f"{cli_id(entry)[:width]:<{width}}  {when(entry['created']):<16}  {when(entry['last_used']):<16}  "
              f"{entry['name']}")
    return 0


def cmd_rename(app, args):
    user = command_user(app, args)
    entry = command_passkey(app, user, args.id)
    try:
        old = rename(app, user, entry["id"], args.name)
    except Refused as refused:
        raise UsageError(refused.message) from None
    print(f"renamed the passkey {old!r} of {user.username} to {clean_name(args.name)!r}")
    return 0


def cmd_remove(app, args):
    user = command_user(app, args)
    entry = command_passkey(app, user, args.id)
    remove(app, user, entry["id"])
    print(f"removed the passkey {entry['name']!r} of {user.username}: it no longer signs in")
    if not passkeys_of(app, user) and all(NAME in chain for chain in app.chains):
        print(f"warning: {user.username} has no passkey left, and this server asks for one at every sign-in",
              file=sys.stderr)
    return 0
