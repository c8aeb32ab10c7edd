"""indieauth: a self-hosted IndieAuth server.

One file, read top to bottom in the order a request meets it:
configuration · storage · hooks and plugins · sessions and sign-in · the web
application · command line · WSGI entry.  Ways to prove identity (password,
TOTP, …) live in plugins; this file owns state, expiry and the final identity
check around them.
"""

__version__ = "0.1.0"

import argparse
import atexit
import base64
import collections
import contextlib
import contextvars
import dataclasses
import datetime
import functools
import getpass
import hashlib
import hmac
import html
import importlib.metadata
import ipaddress
import itertools
import json
import logging
import math
import mmap
import os
import re
import secrets
import select
import signal
import socket
import sys
import threading
import time
import types
import typing
import urllib.parse
import uuid

try:  # Python 3.11+
    import tomllib
except ImportError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

import bottle
import peewee
import pluggy
from playhouse.pool import PooledSqliteDatabase

HERE = os.path.dirname(os.path.abspath(__file__))


def resource_dir(name):
    """views/ or static/: beside this file in a checkout, under share/indieauth when installed."""
    local = os.path.join(HERE, name)
    return local if os.path.isdir(local) else os.path.join(sys.prefix, "share", "indieauth", name)


log = logging.getLogger("indieauth")


class UsageError(Exception):
    """A mistake by the person running the server: printed plainly, exit code 2, never a traceback."""

    exit_code = 2


class NotFound(UsageError):
    """What a command names is not there ("no user named 'bea'"): printed plainly, exit code 1."""

    exit_code = 1


class ConfigError(UsageError):
    """The configuration file is wrong; the message names the file, the table and the key."""


class PageError(bottle.HTTPError):
    """An error whose message is written for the person who sees it (shown on the error page)."""


def fail(status, message):
    """Stop the request with `status` and a message that tells the person what to do."""
    raise PageError(status, message)


# ---------------------------------------------------------------------------------------------
#  Configuration
# ---------------------------------------------------------------------------------------------
#  Every setting is declared once here, with its type, default and help line.  The README's
#  configuration reference and the validation of plugins.toml both come from this table.

DEFAULT_CONFIG_NAME = "plugins.toml"


@dataclasses.dataclass(frozen=True)
class Setting:
    """One configuration key: `type` is one of str, int, bool, list, duration, url, secret, table (a TOML
    table of name = "text", e.g. user name = account id), workers (a whole number from 1, or "auto")."""

    type: str
    default: object
    help: str
    choices: tuple = ()


SETTINGS = {
    "server": {
        "base_url": Setting("url", "http://127.0.0.1:8080/",
                            "Public URL of this server, ending in '/'; it is also the issuer."),
        "database": Setting("str", "sqlite:///indieauth.db",
                            "Database URL: sqlite:///path (relative to this file), "
                            "postgresql://user@host/db or mysql://user:pass@host/db."),
        "secret_key": Setting("secret", {"file": "secret.key"},
                              "Key that signs cookies and CSRF tokens (at least 32 characters)."),
        "host": Setting("str", "127.0.0.1", "Address `indieauth serve` listens on."),
        "port": Setting("int", 8080, "Port `indieauth serve` listens on."),
        "workers": Setting("workers", 1, "Processes of `indieauth serve`, each with its own threads, all on one "
                                         "port: a whole number, or \"auto\" for one per core. Each costs about 35 MB; "
                                         "one is enough for a personal server (docs/deployment.md)."),
        "threads": Setting("int", 4, "Worker threads of `indieauth serve` (waitress): requests answered at once. "
                                     "Fewer threads compete less for Python's interpreter lock (on 2 cores, 1 thread "
                                     "verified tokens 1.6x faster than 4, bench/FINDINGS.md), but then one slow "
                                     "request (a plugin waiting on a service, a large page) holds up all the "
                                     "others; what apps publish is fetched on threads of its own."),
        "trusted_proxies": Setting("list", [],
                                   "Addresses or networks (\"10.0.0.0/8\") of reverse proxies whose "
                                   "X-Forwarded-For header is believed."),
        "session_lifetime": Setting("duration", 14 * 86400,
                                    "How long a sign-in lasts, e.g. \"12h\" or \"14d\"."),
        "log_level": Setting("str", "info", "How much goes to stderr: debug, info, warning or error.",
                             ("debug", "info", "warning", "error")),
        "log_retention": Setting("duration", 365 * 86400,
                                 "How long the audit log (`indieauth log`) keeps an event; older ones are deleted "
                                 "with the other expired rows (`indieauth purge`). 0 keeps them for ever."),
    },
    "tokens": {
        "format": Setting("str", "jwt", "Access tokens as signed JWTs (RFC 9068) that resource servers can verify "
                                        "with the JWKS, or as opaque random strings checked by introspection.",
                          ("jwt", "opaque")),
        "access_token_lifetime": Setting("duration", 86400, "How long an access token works, e.g. \"1h\" or \"1d\"."),
        "refresh_token_lifetime": Setting("duration", 30 * 86400,
                                          "How long an unused refresh token works; each use gives a new one."),
        "ticket_token_lifetime": Setting("duration", 30 * 86400,
                                         "How long an access token redeemed from a ticket you sent works (it comes "
                                         "without a refresh token: send a new ticket to renew it)."),
        "algorithm": Setting("str", "EdDSA", "Signing algorithm of JWT access tokens: EdDSA, RS256 or ES256.",
                             ("EdDSA", "RS256", "ES256")),
        "signing_key": Setting("secret", {"file": "signing-key.pem"},
                               "Private key (PEM) that signs JWT access tokens."),
        "verification_cache": Setting("duration", 5, "How long a server process reuses its answer for an access "
                                                     "token it verified, without asking the database again. A "
                                                     "revocation on the same machine reaches every process at once; "
                                                     "one on another machine sharing the database, within this time. "
                                                     "0: always ask the database."),
        "device_code_lifetime": Setting("duration", 600, "How long a device (a command-line client, a TV) "
                                                         "may wait for its user_code to be approved at /device "
                                                         "and pick up its tokens (RFC 8628)."),
    },
    "auth": {
        "methods": Setting("list", [], "Ways to sign in, any one of which will do: an authenticator's name, or "
                                       "names joined by '+' for factors required one after the other, e.g. "
                                       "[\"password+totp\", \"github\"]. Empty: each enabled authenticator alone."),
        "step_lifetime": Setting("duration", 300, "Time allowed between the factors of one sign-in."),
    },
    "security": {
        "require_pkce": Setting("bool", True, "Refuse authorization requests without PKCE (S256)."),
        "require_par": Setting("bool", False, "Accept authorization requests only as pushed authorization "
                                              "requests (RFC 9126), never in the browser's URL."),
        "pkce_exempt_clients": Setting("list", [], "client_ids of old apps allowed to sign in without PKCE."),
        "fetch_allow": Setting("list", [], "Addresses or networks the server may fetch from although they are "
                                           "private or loopback (development and tests only)."),
        "account_failures": Setting("int", 5, "Failed sign-ins at one account from one IP address before that "
                                              "address is paused for it; after this many from all addresses, "
                                              "each attempt at the account waits 5 seconds after the last "
                                              "(slowed, never locked out)."),
        "address_failures": Setting("int", 20, "Failed attempts at any secret (passwords, codes, sign-in links, "
                                               "invites, client and resource-server secrets) from one IP address "
                                               "(an IPv6 /64) before it is paused."),
        "failure_window": Setting("duration", 15 * 60,
                                  "Window in which failures are counted; a pause ends when the "
                                  "oldest failure leaves it."),
    },
}

DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(value):
    """Seconds from an int or a string like "90s", "10m", "1h", "14d"; ValueError otherwise."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and len(value) >= 2 and value[:-1].isdigit() and value[-1] in DURATION_UNITS:
        return int(value[:-1]) * DURATION_UNITS[value[-1]]
    raise ValueError("expected a duration such as 90s, 10m, 1h or 14d")


def _whole_number(value):
    """A TOML integer, or a quoted one ("8080"): digits alone cannot mean anything else."""
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,18}", value):
        return int(value)
    return value


def _coerce(kind, value):
    """The value converted to the setting's type, or ValueError saying what was expected.  Whole numbers
    (int, workers, duration) may be quoted."""
    if kind in ("int", "workers", "duration"):
        value = _whole_number(value)
    if kind == "str":
        if not isinstance(value, str):
            raise ValueError("expected a string")
        return value
    if kind == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError("expected a whole number")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError("expected true or false")
        return value
    if kind == "list":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError("expected a list of strings")
        return value
    if kind == "duration":
        return parse_duration(value)
    if kind == "url":
        parts = urllib.parse.urlsplit(value) if isinstance(value, str) else None
        if not parts or parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("expected an http:// or https:// URL")
        return value if value.endswith("/") else value + "/"
    if kind == "secret":
        if isinstance(value, str) or (isinstance(value, dict) and len(value) == 1
                                      and set(value) <= {"env", "file"}
                                      and isinstance(next(iter(value.values())), str)):
            return value
        raise ValueError('expected a string, { env = "NAME" } or { file = "path" }')
    if kind == "workers":
        if value != "auto" and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            raise ValueError('expected a whole number from 1, or "auto"')
        return value
    if kind == "table":
        if not isinstance(value, dict):
            raise ValueError('expected a table of name = "text"')
        for name, text in value.items():
            if not isinstance(text, str):
                raise ValueError(f"{name}: expected a string")
        return value
    raise AssertionError(kind)


def config_place(path, table=None, key=None):
    """How every message names a place in the configuration: the file as the person named it (--config,
    $INDIEAUTH_CONFIG or plugins.toml), then the table and the key: "plugins.toml: [server] port"."""
    return path + (f": [{table}]" if table else "") + (f" {key}" if table and key else "")


def validate_table(path, table, data, settings):
    """`data` checked against `settings`, with defaults filled in; ConfigError names file, table and key."""
    if not isinstance(data, dict):
        raise ConfigError(f"{config_place(path, table)} must be a table")
    unknown = sorted(set(data) - set(settings))
    if unknown:
        known = ", ".join(sorted(settings)) or "none"
        raise ConfigError(f"{config_place(path, table)} unknown key {unknown[0]!r} (known keys: {known})")
    values = {}
    for key, setting in settings.items():
        if key not in data:
            values[key] = setting.default
            continue
        try:
            values[key] = _coerce(setting.type, data[key])
            if setting.choices and values[key] not in setting.choices:
                raise ValueError("expected one of " + ", ".join(map(str, setting.choices)))
            if key in ("trusted_proxies", "fetch_allow"):
                values[key] = [ipaddress.ip_network(v, strict=False) for v in values[key]]
        except ValueError as exc:
            raise ConfigError(f"{config_place(path, table, key)}: {exc}, got {data[key]!r}") from None
    return values


class Config:
    """The parsed plugins.toml: `config["server"]["port"]`, plugin tables and secret resolution.  `path` is
    the file's absolute path, `shown` the path as the person gave it, which messages name (`where`)."""

    def __init__(self, path, data):
        self.path = os.path.abspath(path)
        self.shown = path
        self.folder = os.path.dirname(self.path)
        unknown = sorted(set(data) - set(SETTINGS) - {"plugins"})
        if unknown:
            known = ", ".join(sorted(SETTINGS) + ["plugins"])
            raise ConfigError(f"{path}: unknown table [{unknown[0]}] (known tables: {known})")
        if isinstance(data.get("server"), dict) and "shared_host" in data["server"]:
            raise ConfigError(f"{path}: [server] shared_host is gone: multi-user hosting (invites, /u/NAME, the Users "
                              f"page) is the hosting plugin now. Delete the line, install the plugin (pip install "
                              f"indieauth-hosting, or plugins/indieauth-hosting from the source) and write an "
                              f"empty [plugins.hosting] table instead; the users and invites in the database stay.")
        self.sections = {name: validate_table(path, name, data.get(name, {}), settings)
                         for name, settings in SETTINGS.items()}
        plugins = data.get("plugins", {})
        if not isinstance(plugins, dict) or not all(isinstance(t, dict) for t in plugins.values()):
            raise ConfigError(f"{path}: [plugins] must hold one table per plugin, like [plugins.password]")
        self.plugins = plugins

    @classmethod
    def load(cls, path):
        """Read and validate a TOML file; ConfigError (never a traceback) when it cannot be used."""
        try:
            with open(path, "rb") as f:
                data = tomllib.load(f)
        except FileNotFoundError:
            raise config_not_found(path) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        except OSError as exc:
            raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from None
        return cls(path, data)

    def __getitem__(self, section):
        return self.sections[section]

    def where(self, table=None, key=None):
        """config_place in this file: "plugins.toml: [plugins.email] host", for a message."""
        return config_place(self.shown, table, key)

    def resolve_path(self, path):
        """A path from the config, relative to the folder the config file is in."""
        return os.path.join(self.folder, os.path.expanduser(path))

    def secret(self, section, key):
        """The text of a secret setting, read from inline, `{ env = … }` or `{ file = … }`."""
        return self.resolve_secret(self.sections[section][key], f"[{section}] {key}")

    def resolve_secret(self, value, where):
        """The text of a secret value (a string, `{ env = … }` or `{ file = … }` relative to this file);
        ConfigError naming `where` (e.g. "[plugins.email] password") when it cannot be read."""
        where = f"{self.shown}: {where}"
        if isinstance(value, str):
            return value
        if "env" in value:
            if not os.environ.get(value["env"]):
                raise ConfigError(f"{where}: environment variable {value['env']} is not set")
            return os.environ[value["env"]]
        try:
            with open(self.resolve_path(value["file"]), encoding="utf-8") as f:
                return f.read().strip()
        except OSError as exc:
            raise ConfigError(f"{where}: cannot read {self.resolve_path(value['file'])}: {exc.strerror}") from None

    def enabled_plugins(self):
        """Names of the [plugins.NAME] tables that are not `enabled = false`."""
        enabled = []
        for name, table in self.plugins.items():
            flag = table.get("enabled", True)
            if not isinstance(flag, bool):
                raise ConfigError(f"{self.where(f'plugins.{name}', 'enabled')}: expected true or false, "
                                  f"got {flag!r}")
            if flag:
                enabled.append(name)
        return enabled

    def check_plugin_tables(self, validated):
        """A plugin that never validated its table (its name not in `validated`) takes no settings: any
        key is a mistake."""
        for name in self.enabled_plugins():
            keys = set(self.plugins[name]) - {"enabled"}
            if keys and name not in validated:
                raise ConfigError(f"{self.where(f'plugins.{name}')} unknown key "
                                  f"{sorted(keys)[0]!r} (this plugin takes no settings)")


def default_config_path():
    """`INDIEAUTH_CONFIG`, or plugins.toml in the current folder."""
    return os.environ.get("INDIEAUTH_CONFIG") or DEFAULT_CONFIG_NAME


def config_not_found(path):
    """The one error for a configuration file that is not there."""
    return ConfigError(f"{path}: configuration file not found (create one with `indieauth init`)")


# ---------------------------------------------------------------------------------------------
#  Storage
# ---------------------------------------------------------------------------------------------
#  StorageContract, what the server asks of any backend, and the rules backends share; then the peewee
#  backend: models, each Storage's own database bound to them while its methods run (BoundDatabase).
#  Secrets at rest (sessions, sign-in links, password hashes) are stored only as hashes.  Schema
#  changes are versioned migrations, below the models.

class UnboundModels(RuntimeError):
    """A model was used outside any Storage call: there is no database it could mean."""


_bound_database = contextvars.ContextVar("indieauth_bound_database", default=None)


class BoundDatabase(peewee.DatabaseProxy):
    """The models' database: the one of the Storage whose method runs in this thread (or task), never
    module state, so two apps in one process each query their own.  Storage binds its database around
    every public method (and `with storage.bound():` for code that uses the models directly); used
    anywhere else, it raises UnboundModels instead of guessing."""

    __slots__ = ()

    def __init__(self):
        object.__setattr__(self, "_callbacks", [])

    @property
    def obj(self):
        database = _bound_database.get()
        if database is None:
            raise UnboundModels("indieauth's models were used outside a Storage method: there is no "
                                "database to use; go through app.storage (or `with storage.bound():`)")
        return database

    def __getattr__(self, attr):
        return getattr(self.obj, attr)

    def initialize(self, obj):
        raise UnboundModels("the models follow the Storage whose method runs; use `with storage.bound():`, "
                            "not db.initialize()")


db = BoundDatabase()


def utcnow():
    """The current time, naive UTC (what every DateTimeField holds)."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None, microsecond=0)


def token_hash(raw):
    """SHA-256 hex of a secret value: the only form in which secrets are stored."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


USERNAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
ROLE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")


def normalize_username(name):
    """User names are case-insensitive: stored and looked up trimmed and lowercased."""
    return name.strip().lower()


def valid_new_user(username, me):
    """The normalized user name; UsageError when it or the profile URL cannot be stored (any backend)."""
    username = normalize_username(username)
    if not USERNAME_RE.fullmatch(username):
        raise UsageError(f"user name {username!r} must be 1 to 64 letters, digits, '.', '_' or '-', "
                         f"starting with a letter or digit")
    if len(me) > 255:
        raise UsageError("the profile URL is longer than 255 characters")
    return username


def check_role_name(role):
    if not ROLE_RE.fullmatch(role or ""):
        raise UsageError(f"role {role!r} must be 1 to 64 letters, digits, '_', '.', ':' or '-'")


def check_client_roles(roles, default_role):
    """The roles a client may accept, without repeats; UsageError for a bad name or a foreign default."""
    for role in list(roles) + ([default_role] if default_role else []):
        check_role_name(role)
    if roles and default_role and default_role not in roles:
        raise UsageError(f"the default role {default_role!r} is not one of the app's roles")
    return list(dict.fromkeys(roles))


def client_roles(client):
    """The roles a client row accepts (empty: any)."""
    return json.loads(client.roles or "[]")


def check_role(client, role):
    """UsageError unless `role` may be assigned in `client`."""
    check_role_name(role)
    allowed = client_roles(client)
    if allowed and role not in allowed:
        raise UsageError(f"{client.name} accepts the roles {', '.join(allowed)}, not {role!r}")


def check_app_roles(storage, app_roles):
    """UsageError unless each app role ({client_id: role}) of a new invite can be assigned."""
    for client_id, app_role in (app_roles or {}).items():
        client = storage.get_client(client_id)
        if client is None:
            raise UsageError(f"there is no pre-registered app {client_id!r}")
        check_role(client, app_role)


def assign_app_roles(storage, user, app_roles):
    """Give an invited user the app roles of their invite (JSON), skipping apps deleted or changed since."""
    for client_id, role in json.loads(app_roles or "{}").items():
        client = storage.get_client(client_id)
        try:
            if client is not None:
                storage.assign_role(user, client, role)
        except UsageError:
            pass  # the app no longer accepts this role: its default applies


def first_client_data(pairs, limit):
    """{client_id: client_data} of (client_id, client_data JSON) pairs, the first of each, up to `limit`."""
    seen = {}
    for client_id, client_data in pairs:
        seen.setdefault(client_id, json.loads(client_data or "{}"))
        if len(seen) >= limit:
            break
    return seen


def token_by_id(tokens, token_id):
    """The one token whose jti starts with `token_id` (6+ hex digits), or None (none, or ambiguous)."""
    if len(token_id) < 6 or not re.fullmatch(r"[0-9a-f]+", token_id):
        return None
    found = [t for t in tokens if t.jti.startswith(token_id)]
    return found[0] if len(found) == 1 else None


def role_of(roles, default_role, assigned):
    """A user's role from a client's roles (JSON), its default and the user's assignment (or None)."""
    allowed = json.loads(roles or "[]")
    if assigned and (not allowed or assigned in allowed):
        return assigned
    return default_role or None


# The rows the contract's methods return, and the attributes the rest of the server reads from each:
# every backend's rows have them.  Times are naive UTC datetimes, None when not (yet) set; `<x>_id` is
# the id of the row in attribute `<x>` (None when there is none); JSON columns are text.  Rows are
# snapshots: a later change is seen by reading again, and a row compares equal to the same row read again.
STORAGE_ROWS = {
    "user": "id username me name url photo email note role created_at disabled_at",
    "session": "id user user_id method created_at expires_at revoked_at address",
    "authrequest": "id client_id redirect_uri state code_challenge code_challenge_method scope me_hint "
                   "response_type client_data pushed created_at expires_at used_at resource",  # client_data: JSON
    "authcode": "id user user_id me client_id redirect_uri code_challenge code_challenge_method scope created_at "
                "auth_time expires_at used_at requested_scope resource",
    "token": "id jti kind via family code_id user user_id me client_id scope created_at auth_time expires_at "
             "last_used_at revoked_at requested_scope resource",  # kind: access|refresh; via: flow|testing|ticket
    "signingkey": "id kid algorithm public_jwk created_at retired_at publish_until",  # public_jwk: JSON
    "grant": "id user_id client_id scope created_at resource",
    "resourceserver": "id name created_at revoked_at resources",
    "invite": "id role app_roles created_by created_by_id created_at expires_at used_at used_by used_by_id",
    "client": "id client_id name description logo redirect_uris secret_hash created_at rotated_at roles "
              "default_role",  # redirect_uris, roles: JSON lists
    "roleassignment": "id user client role",
    "event": "id kind user user_id data at",  # data: JSON object
    "devicecode": "id client_id scope client_data family interval next_poll_at created_at expires_at user user_id "
                  "granted_scope auth_time answered_at denied used_at",  # user: who answered; client_data: JSON
    "ticket": "id user user_id subject resource scope endpoint family created_at expires_at used_at",
    "receivedtoken": "id user_id resource issuer token_endpoint scope sealed created_at expires_at",
}


class TicketContract(typing.Protocol):
    """The part of the storage contract that Ticketing for IndieAuth adds: the tickets a user sends (single
    use, like codes) and the tokens a user receives from other servers' tickets (kept as given, sealed)."""

    def create_ticket(self, user, subject, resource, scope, endpoint, lifetime):
        """(raw, row) of a new ticket `user` sends to `subject` for `resource`; its `family` is new."""

    def find_ticket(self, raw):
        """The ticket with its user, whatever its state, or None."""

    def use_ticket(self, ticket):
        """Single use: True for exactly one caller, while it was unused."""

    def sent_tickets(self, user):
        """The tickets `user` sent, newest first."""

    def keep_received_token(self, user, resource, issuer, token_endpoint, scope, sealed, expires_at=None):
        """Store a token `user` received from a ticket; its row."""

    def received_tokens(self, user):
        """The tokens `user` received, newest first, expired ones too until purge removes them."""

    def delete_received_token(self, user, token_id):
        """Delete one of `user`'s received tokens; True when there was one."""


class StorageContract(TicketContract, typing.Protocol):
    """What the server asks of its storage: the peewee `Storage` below, or what `storage_backend` returns.

    A `user` argument is a user row or its id; `raw` is a secret as the browser or client holds it, which
    a backend keeps only as its `token_hash`.  `lifetime` is in seconds from `now()`.  A row is live while
    it is not used, revoked or expired (`expires_at` later than now, None never expires) and its user is
    not disabled.  Single-use things are consumed by a conditional update: when callers race, exactly one
    gets True (or the row), every other False (or None), never read-then-write.  Bad input a person can
    correct raises UsageError; data that cannot be reached raises peewee.OperationalError (a 503 from
    catch_errors, a clear error from the CLI), never a driver's own exception."""

    # -- connections and schema: a backend with neither makes these no-ops (migrate returns [])
    def connect(self):
        """Make sure this thread can query (a page during an outage then fails early, as a 503)."""

    def close(self):
        """Give this thread's connection back; called after each request (not under keep_connections)."""

    def schema_version(self):
        """The version of the data's layout; 0 for storage never set up."""

    def is_empty(self):
        """True for storage never set up (`indieauth serve` then migrates it)."""

    def migrate(self):
        """Bring the layout to SCHEMA_VERSION; the versions applied."""

    def check_schema(self):
        """UsageError unless the layout is at exactly SCHEMA_VERSION."""

    # -- users and credentials
    def create_user(self, username, me, role="user", **profile):
        """A new user (profile: name, url, photo, email, note); UsageError (valid_new_user) for a bad
        name, or one whose username (trimmed, lowercased) or me is taken."""

    def get_user(self, username=None, me=None, user_id=None):
        """The user with this username (any case), me (compared exactly) or id."""

    def list_users(self):
        """Every user, in creation order."""

    def update_user(self, user, **fields):
        """Change profile columns (or role, disabled_at); the row as now stored.  UsageError when me is taken."""

    def disable_user(self, user):
        """Set disabled_at and end for good what they hold: tokens and sessions revoked, unused codes and
        sign-in links expired, remembered consent forgotten; the row as now stored."""

    def delete_user(self, user):
        """Revoke their tokens and sessions, then delete them with everything of theirs; their events and
        the invites they made or used stay, with user None."""

    def get_credential(self, user, method):
        """The plugin-owned data of `user`'s credential for `method`."""

    def set_credential(self, user, method, data):
        """Create or replace the data (one credential per user and method; created_at stays the first's)."""

    def update_credential(self, user, method, expected, data):
        """Replace the data only while it is still `expected`: single use, True for exactly one racer."""

    def delete_credential(self, user, method):
        """How many were deleted (0 or 1)."""

    def touch_credential(self, user, method):
        """Set its last_used_at to now."""

    # -- sessions
    def create_session(self, user, method, lifetime, address=""):
        """A new session's raw token."""

    def get_session(self, raw):
        """The live session, with its user."""

    def revoke_session(self, raw):
        """End one session (unknown or ended: nothing happens)."""

    def revoke_user_sessions(self, user, keep=None):
        """End every live session of `user` but the one whose raw token is `keep`; how many."""

    # -- one-time sign-in links
    def create_login_link(self, user, lifetime):
        """A new link's raw token."""

    def login_link_usable(self, raw):
        """Whether it could be redeemed now: only a look, which a racer may beat."""

    def redeem_login_link(self, raw):
        """Single use: the link's user for exactly one caller while it is live, keeping it as used."""

    # -- state of sign-ins through another site (app.save_callback_state), kept as the hash of `browser`
    def save_callback_state(self, purpose, browser, data, lifetime):
        """Keep `data` (JSON-able) for `purpose` and the browser whose binding value is `browser`; its raw key."""

    def take_callback_state(self, purpose, raw, browser):
        """Single use: (data, None) for exactly one caller, from the same browser, while live; otherwise
        (None, why): "unknown" (also for another purpose), "other_browser", "used" or "expired"."""

    # -- throttling
    def record_failure(self, keys):
        """A failed attempt counted now under each key; the ids of what was recorded."""

    def delete_failures(self, ids):
        """Forget failures recorded by record_failure."""

    def failures_since(self, key, since):
        """(count, oldest time) of the failures under `key` at or after `since`."""

    def clear_failures(self, key):
        """Forget every failure under `key`."""

    # -- authorization requests and codes
    def save_auth_request(self, lifetime, **fields):
        """A validated request (authrequest columns; unset ones are "", response_type "code", client_data
        "{}", pushed False); its raw key."""

    def get_auth_request(self, raw, pushed=False):
        """The live request of this key, pushed (PAR) or not as asked."""

    def use_auth_request(self, raw):
        """Single use: True for exactly one caller (answered once)."""

    def create_code(self, lifetime, **fields):
        """A new authorization code (user, me, client_id, redirect_uri, code_challenge[_method], scope,
        auth_time, requested_scope: what the app asked for, "" by default); its raw value."""

    def find_code(self, raw):
        """The code with its user, whatever its state (a replay must be recognised)."""

    def use_code(self, code):
        """Single use: True for exactly one caller, however many race."""

    def claim(self, take, then):
        """`take()` (a single-use method) and, for the one caller it is True for, `then()`, all or nothing:
        (won, what then returned).  A loser's take returns after the winner's then, so it sees its writes."""

    # -- device authorizations (RFC 8628): the device_code (`raw`) and the user_code kept as hashes
    def save_device_code(self, lifetime, user_code, **fields):
        """(client_id, scope, client_data, family, interval) its raw device_code; None if user_code is taken."""

    def find_device_code(self, raw=None, user_code=None):
        """The one of this device_code or user_code, with its user (who answered), whatever its state."""

    def answer_device_code(self, device, user, scope, auth_time=None, denied=False):
        """Single use: True for exactly one caller while it is live and unanswered; the answer is kept."""

    def poll_device_code(self, device):
        """A poll now: True if none came within `interval` seconds, else False and the interval grows by 5."""

    def use_device_code(self, device):
        """Single use: True for exactly one caller, once it is approved."""

    # -- tokens
    def create_token(self, kind, user, me, client_id, scope, lifetime, family, code=None, via="flow",
                     auth_time=None, encode=None, requested_scope="", resource=""):
        """(raw, row) of a new token; lifetime 0 never expires.  `encode(jti, iat, exp)` makes the raw
        token (a JWT) when given, else it is random.  `requested_scope` and `resource` are kept as given."""

    def find_token(self, raw):
        """The token with its user, whatever its state."""

    def token_is_live(self, token):
        """Not revoked, not expired, its user not disabled."""

    def touch_token(self, token):
        """Set its last_used_at to now."""

    def revoke_token(self, token):
        """Single use (refresh rotation): True for exactly one caller, while it was not revoked."""

    def revoke_family(self, family):
        """Revoke every token of a family (issued from one code); how many were live."""

    def revoke_tokens_from_code(self, code):
        """Revoke the families issued from a code (it was replayed); how many."""

    def live_tokens(self, user=None):
        """Unrevoked, unexpired tokens of `user` (or everyone's), newest first, with their users."""

    def find_token_by_id(self, token_id, user=None):
        """The live token whose jti starts with `token_id` (6+ hex digits, unambiguous)."""

    def revoke_tokens(self, user=None, client_id=None):
        """Revoke every token of `user` (all when None), of one client when given; how many."""

    # -- signing keys
    def register_key(self, kid, algorithm, public_jwk):
        """Record a public key once (racing processes: one row)."""

    def published_keys(self):
        """Keys not retired or published until later than now, newest first."""

    def retire_key(self, kid, publish_until):
        """Retire a current key, keeping it published until `publish_until` or until the last access token
        issued so far (and not revoked) expires, whichever is later: a 30-day testing token keeps it 30
        days; 1 when it was current."""

    def extend_key(self, kid, until):
        """A retired key still signing stays published until `until` (never shortened)."""

    def list_keys(self):
        """Every key, oldest first."""

    # -- pre-registered clients and roles, found under canonical_client_id
    def create_client(self, client_id, name, redirect_uris, description="", logo=""):
        """Register a confidential client; its raw secret."""

    def get_client(self, client_id=None, number=None):
        """The client of `client_id` in any form, or the one whose id is `number`."""

    def list_clients(self):
        """Every client, in creation order."""

    def rotate_client_secret(self, client_id):
        """A new raw secret replacing the old one."""

    def remove_client(self, client_id):
        """Unregister the client: its live tokens revoked, its unused codes spent (a code it holds would
        otherwise be redeemed without a secret, as a client that is not registered), its role assignments
        and remembered approvals deleted, then the client, in one transaction; the number of tokens
        revoked, None when there is no such client."""

    def set_client_roles(self, client, roles, default_role=""):
        """What the client accepts (check_client_roles), stored and set on the row given."""

    def client_roles(self, client):
        """client_roles(client)."""

    def assign_role(self, user, client, role):
        """Give `user` this role in `client` (check_role), or take theirs away with ""."""

    def role_assignments(self, client):
        """The client's assignments with their users, by username."""

    def role_for(self, user, client_id):
        """role_of the client's roles, default and the user's assignment; None for an unregistered client."""

    def seen_clients(self, limit=100):
        """{client_id: client_data} of the clients of stored requests, newest first."""

    # -- invites
    def create_invite(self, role, lifetime, created_by=None, app_roles=None):
        """A new invite's raw token; UsageError for an app role (client_id: role) that cannot be assigned."""

    def get_invite(self, raw):
        """The live invite."""

    def use_invite(self, raw, user=None):
        """Single use: True for exactly one caller while it is live, recording `user` as its user."""

    def redeem_invite(self, raw, username, me, **profile):
        """use_invite and create_user with its role and app roles, all or nothing; None when it is gone."""

    def list_invites(self):
        """Every invite, newest first."""

    # -- remembered consent, under canonical_client_id
    def get_grant(self, user, client_id):
        """The grant: the scopes `user` let this client have without asking again."""

    def list_grants(self, user):
        """The user's grants, by client_id."""

    def save_grant(self, user, client_id, scope, resource=""):
        """Remember (or replace) the scopes, for these resources; one grant per user and client."""

    def forget_grant(self, user, client_id):
        """How many were forgotten (0 or 1)."""

    # -- resource servers (introspection callers)
    def add_resource_server(self, name, resources=""):
        """Its raw secret; `resources` (space-separated URIs) bind it to them; UsageError when the name is taken."""

    def check_resource_server(self, raw):
        """The unrevoked resource server whose secret this is."""

    def list_resource_servers(self):
        """Every one, in creation order."""

    def revoke_resource_server(self, name):
        """1 when it was unrevoked."""

    # -- audit log and what has expired
    def log_event(self, kind, user=None, **data):
        """Record an event now; `data` is kept as JSON (str() for what JSON lacks)."""

    def events(self, limit=50, user=None):
        """The newest `limit` events (of `user`), newest first, with their users."""

    def activity(self, user, since, kinds):
        """{(day as "YYYY-MM-DD" in UTC, kind): count} of `user`'s events of `kinds` from `since` on: the
        start page's picture of recent sign-ins and token use, counted by the database in one query."""

    def purge(self):
        """Delete what can serve no more; {table: count} for authrequest, session, loginlink, invite, token, authcode,
        devicecode, failure, callbackstate, ticket, receivedtoken, event: expired requests, sessions, callback
        states, received tokens, unused invites and device codes, expired or used sign-in links, old failures,
        events past log_retention (0: kept for ever), and codes, used device codes, tickets and tokens
        REPLAY_MEMORY after they expired (a late replay is still recognised)."""


class BaseModel(peewee.Model):
    class Meta:
        database = db


class User(BaseModel):
    username = peewee.CharField(max_length=64, unique=True)
    me = peewee.CharField(max_length=255, unique=True)
    name = peewee.CharField(max_length=255, default="")
    url = peewee.CharField(max_length=255, default="")
    photo = peewee.CharField(max_length=255, default="")
    email = peewee.CharField(max_length=255, default="")
    note = peewee.TextField(default="")
    role = peewee.CharField(max_length=16, default="user")
    created_at = peewee.DateTimeField(default=utcnow)
    disabled_at = peewee.DateTimeField(null=True)


class Credential(BaseModel):
    """A way for a user to sign in; `data` is JSON owned by the plugin named in `method`."""

    user = peewee.ForeignKeyField(User, backref="credentials", on_delete="CASCADE")
    method = peewee.CharField(max_length=32)
    data = peewee.TextField(default="{}")
    created_at = peewee.DateTimeField(default=utcnow)
    last_used_at = peewee.DateTimeField(null=True)

    class Meta:
        indexes = ((("user", "method"), True),)


class Session(BaseModel):
    token_hash = peewee.CharField(max_length=64, unique=True)
    user = peewee.ForeignKeyField(User, backref="sessions", on_delete="CASCADE")
    method = peewee.CharField(max_length=32)
    created_at = peewee.DateTimeField(default=utcnow)
    expires_at = peewee.DateTimeField(index=True)
    revoked_at = peewee.DateTimeField(null=True)
    address = peewee.CharField(max_length=64, default="")


class LoginLink(BaseModel):
    """A one-time sign-in link (first run, recovery); single use by a conditional update."""

    token_hash = peewee.CharField(max_length=64, unique=True)
    user = peewee.ForeignKeyField(User, on_delete="CASCADE")
    created_at = peewee.DateTimeField(default=utcnow)
    expires_at = peewee.DateTimeField(index=True)
    used_at = peewee.DateTimeField(null=True)


class Failure(BaseModel):
    """One failed sign-in, counted per key (`account:NAME`, `address:IP`) for throttling."""

    key = peewee.CharField(max_length=160)
    at = peewee.DateTimeField(index=True)

    class Meta:
        indexes = ((("key", "at"), False),)


class Event(BaseModel):
    """The audit log: sign-ins, failures, issuance, revocation."""

    kind = peewee.CharField(max_length=40, index=True)
    user = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL")
    data = peewee.TextField(default="{}")
    at = peewee.DateTimeField(default=utcnow, index=True)


class AuthRequest(BaseModel):
    """A validated authorization request waiting for sign-in and consent; keyed by an opaque id."""

    key_hash = peewee.CharField(max_length=64, unique=True)
    client_id = peewee.CharField(max_length=512)
    redirect_uri = peewee.TextField()
    state = peewee.TextField()
    code_challenge = peewee.CharField(max_length=128, default="")
    code_challenge_method = peewee.CharField(max_length=16, default="")
    scope = peewee.TextField(default="")
    me_hint = peewee.TextField(default="")
    response_type = peewee.CharField(max_length=16, default="code")
    client_data = peewee.TextField(default="{}")
    pushed = peewee.BooleanField(default=False)  # made by PAR: redeemable once as a request_uri
    created_at = peewee.DateTimeField(default=utcnow)
    expires_at = peewee.DateTimeField(index=True)
    used_at = peewee.DateTimeField(null=True)
    resource = peewee.TextField(default="")  # RFC 8707: the resources asked for, space-separated


class AuthCode(BaseModel):
    """An authorization code: single use, bound to everything the person approved."""

    code_hash = peewee.CharField(max_length=64, unique=True)
    user = peewee.ForeignKeyField(User, on_delete="CASCADE")
    me = peewee.CharField(max_length=255)
    client_id = peewee.CharField(max_length=512)
    redirect_uri = peewee.TextField()
    code_challenge = peewee.CharField(max_length=128, default="")
    code_challenge_method = peewee.CharField(max_length=16, default="")
    scope = peewee.TextField(default="")
    created_at = peewee.DateTimeField(default=utcnow)
    auth_time = peewee.DateTimeField(null=True)
    expires_at = peewee.DateTimeField(index=True)
    used_at = peewee.DateTimeField(null=True)
    requested_scope = peewee.TextField(default="")  # what the app asked for; `scope` is what was granted
    resource = peewee.TextField(default="")  # RFC 8707: the resources asked for, space-separated


class Token(BaseModel):
    """An access or refresh token; a `family` is everything issued from one code (rotation, replay)."""

    token_hash = peewee.CharField(max_length=64, unique=True)
    jti = peewee.CharField(max_length=32, unique=True)
    kind = peewee.CharField(max_length=8)  # "access" or "refresh"
    via = peewee.CharField(max_length=8, default="flow")  # "flow", "testing" or "ticket"
    family = peewee.CharField(max_length=32, index=True)
    code = peewee.ForeignKeyField(AuthCode, null=True, on_delete="SET NULL")
    user = peewee.ForeignKeyField(User, on_delete="CASCADE")
    me = peewee.CharField(max_length=255)
    client_id = peewee.CharField(max_length=512, index=True)
    scope = peewee.TextField(default="")
    created_at = peewee.DateTimeField(default=utcnow)
    auth_time = peewee.DateTimeField(null=True)
    expires_at = peewee.DateTimeField(null=True, index=True)
    last_used_at = peewee.DateTimeField(null=True)
    revoked_at = peewee.DateTimeField(null=True)
    requested_scope = peewee.TextField(default="")  # a refresh token's: what the app asked for at first
    resource = peewee.TextField(default="")  # what it is for (a ticket's resource); "" for the person's own use


class SigningKey(BaseModel):
    """A public key that signs (or signed) JWT access tokens; published until its last token expires."""

    kid = peewee.CharField(max_length=64, unique=True)
    algorithm = peewee.CharField(max_length=8)
    public_jwk = peewee.TextField()
    created_at = peewee.DateTimeField(default=utcnow)
    retired_at = peewee.DateTimeField(null=True)
    publish_until = peewee.DateTimeField(null=True)


class Grant(BaseModel):
    """Remembered consent: this user let this client have these scopes without asking again."""

    user = peewee.ForeignKeyField(User, on_delete="CASCADE")
    client_id = peewee.CharField(max_length=512)
    scope = peewee.TextField(default="")
    created_at = peewee.DateTimeField(default=utcnow)
    resource = peewee.TextField(default="")  # the resources it covers: a request for others asks again

    class Meta:
        indexes = ((("user", "client_id"), True),)


class ResourceServer(BaseModel):
    """A credential a resource server (a Micropub endpoint…) uses to call token introspection."""

    name = peewee.CharField(max_length=64, unique=True)
    secret_hash = peewee.CharField(max_length=64, unique=True)
    created_at = peewee.DateTimeField(default=utcnow)
    revoked_at = peewee.DateTimeField(null=True)
    resources = peewee.TextField(default="")  # the resource URIs it serves (space-separated); "" any


class Invite(BaseModel):
    """A single-use sign-up link, stored as a hash; `role` is the new user's role."""

    token_hash = peewee.CharField(max_length=64, unique=True)
    role = peewee.CharField(max_length=16, default="user")
    app_roles = peewee.TextField(default="{}")  # {client_id: role} assigned on sign-up (schema 3)
    created_by = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="invites_made")
    created_at = peewee.DateTimeField(default=utcnow)
    expires_at = peewee.DateTimeField(index=True)
    used_at = peewee.DateTimeField(null=True)
    used_by = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="invited_by")


class Client(BaseModel):
    """A pre-registered (confidential) client: its secret is stored as a hash, shown once."""

    client_id = peewee.CharField(max_length=512, unique=True)
    name = peewee.CharField(max_length=255)
    description = peewee.TextField(default="")
    logo = peewee.CharField(max_length=512, default="")
    redirect_uris = peewee.TextField(default="[]")
    secret_hash = peewee.CharField(max_length=64)
    created_at = peewee.DateTimeField(default=utcnow)
    rotated_at = peewee.DateTimeField(null=True)
    roles = peewee.TextField(default="[]")  # the roles it accepts, JSON; empty: any (schema 3)
    default_role = peewee.CharField(max_length=64, default="")  # for users without an assignment (schema 3)


class RoleAssignment(BaseModel):
    """A user's role in one pre-registered client (Indiko's per-app roles)."""

    user = peewee.ForeignKeyField(User, on_delete="CASCADE", backref="app_roles")
    client = peewee.ForeignKeyField(Client, on_delete="CASCADE", backref="assignments")
    role = peewee.CharField(max_length=64)

    class Meta:
        indexes = ((("user", "client"), True),)


class CallbackState(BaseModel):
    """What a sign-in that leaves for another site (an OAuth callback, a WebAuthn ceremony) needs when it
    comes back: single use, bound to the browser that started it, short-lived; keyed by an opaque id."""

    key_hash = peewee.CharField(max_length=64, unique=True)
    purpose = peewee.CharField(max_length=64)
    browser = peewee.CharField(max_length=64)  # the hash of the browser's binding cookie
    data = peewee.TextField(default="{}")
    created_at = peewee.DateTimeField(default=utcnow)
    expires_at = peewee.DateTimeField(index=True)
    used_at = peewee.DateTimeField(null=True)


class DeviceCode(BaseModel):
    """A device authorization (RFC 8628): the device polls with its device_code while a person approves its
    user_code on another screen.  Both are random and stored as hashes; single use by a conditional update."""

    device_hash = peewee.CharField(max_length=64, unique=True)
    user_code_hash = peewee.CharField(max_length=64, unique=True)
    client_id = peewee.CharField(max_length=512)
    scope = peewee.TextField(default="")  # what the app asked for; `granted_scope` what the person allowed
    client_data = peewee.TextField(default="{}")
    family = peewee.CharField(max_length=32)  # of the tokens it gives, revoked if it is replayed
    interval = peewee.IntegerField()
    next_poll_at = peewee.DateTimeField()
    created_at = peewee.DateTimeField(default=utcnow)
    expires_at = peewee.DateTimeField(index=True)
    user = peewee.ForeignKeyField(User, null=True, on_delete="CASCADE")
    granted_scope = peewee.TextField(default="")
    auth_time = peewee.DateTimeField(null=True)
    answered_at = peewee.DateTimeField(null=True)
    denied = peewee.BooleanField(default=False)
    used_at = peewee.DateTimeField(null=True)


class Ticket(BaseModel):
    """A ticket a user sent (Ticketing for IndieAuth): redeemed once, within minutes, at the token endpoint
    for an access token whose `me` is the subject; the tokens it yields are of its `family`."""

    ticket_hash = peewee.CharField(max_length=64, unique=True)
    user = peewee.ForeignKeyField(User, on_delete="CASCADE")
    subject = peewee.CharField(max_length=255)
    resource = peewee.TextField()
    scope = peewee.TextField(default="")
    endpoint = peewee.TextField()  # the subject's ticket_endpoint it was sent to (the tokens' client_id)
    family = peewee.CharField(max_length=32)
    created_at = peewee.DateTimeField(default=utcnow)
    expires_at = peewee.DateTimeField(index=True)
    used_at = peewee.DateTimeField(null=True)


class ReceivedToken(BaseModel):
    """An access token another server gave a user of ours for one of its resources, from a ticket it sent;
    `sealed` holds the token (and a refresh token, if any) encrypted with the server's secret."""

    user = peewee.ForeignKeyField(User, on_delete="CASCADE")
    resource = peewee.TextField()
    issuer = peewee.TextField()
    token_endpoint = peewee.TextField()
    scope = peewee.TextField(default="")
    sealed = peewee.TextField()
    created_at = peewee.DateTimeField(default=utcnow)
    expires_at = peewee.DateTimeField(null=True, index=True)


class SchemaVersion(BaseModel):
    version = peewee.IntegerField(primary_key=True)
    applied_at = peewee.DateTimeField(default=utcnow)


def _migration_1(migrator):
    """Users, credentials, sessions, sign-in links, throttling failures and the audit log."""
    database = migrator.database
    database.create_tables([User, Credential, Session, LoginLink, Failure, Event])
    if isinstance(database, peewee.MySQLDatabase):
        # MariaDB/MySQL compare text ignoring case, accents and trailing spaces by default; a
        # profile URL's path is case-sensitive, so these columns compare bytes as the others do.
        binary = "utf8mb4_nopad_bin" if database.execute_sql(
            "SHOW COLLATION LIKE 'utf8mb4_nopad_bin'").fetchone() else "utf8mb4_bin"
        database.execute_sql(f"ALTER TABLE `user` MODIFY `username` VARCHAR(64) COLLATE {binary} NOT NULL, "
                             f"MODIFY `me` VARCHAR(255) COLLATE {binary} NOT NULL")


def _migration_2(migrator):
    """The protocol: pending authorization requests, codes, tokens, remembered consent, resource servers,
    signing keys, invites."""
    migrator.database.create_tables([AuthRequest, AuthCode, Token, Grant, ResourceServer, SigningKey, Invite, Client])


def _add_missing_columns(migrator, model, names):
    from playhouse.migrate import migrate
    present = {column.name for column in migrator.database.get_columns(model._meta.table_name)}
    migrate(*[migrator.add_column(model._meta.table_name, name, model._meta.fields[name])
              for name in names if name not in present])


def _migration_3(migrator):
    """Roles: what a pre-registered client accepts, who has which, and the roles an invite hands out."""
    _add_missing_columns(migrator, Client, ["roles", "default_role"])
    _add_missing_columns(migrator, Invite, ["app_roles"])
    migrator.database.create_tables([RoleAssignment])


def _migration_4(migrator):
    """Indexes on the times Storage.purge compares, so its DELETEs find expired rows without a scan."""
    from playhouse.migrate import migrate
    for field in (LoginLink.expires_at, Failure.at, AuthRequest.expires_at, AuthCode.expires_at, Token.expires_at,
                  Invite.expires_at):
        table = field.model._meta.table_name
        if not any(index.columns == [field.column_name] for index in migrator.database.get_indexes(table)):
            migrate(migrator.add_index(table, (field.column_name,), False))


def _migration_5(migrator):
    """client_ids stored before there was one canonical form (a registered app made from a base_url typed
    with capitals or :443) take it, so lookups by the canonical form find them and what hangs on them.  A
    remembered consent that then names the same client twice keeps the newer one."""
    for model in (Client, AuthRequest, AuthCode, Token, Grant):
        stored = [row[0] for row in model.select(model.client_id).distinct().tuples()]
        for old in stored:
            new = canonical_client_id(old)
            if new == old:
                continue
            if model is Grant:  # unique per (user, client_id)
                for grant in Grant.select().where(Grant.client_id == old):
                    Grant.delete().where(Grant.user == grant.user_id, Grant.client_id == new,
                                         Grant.created_at <= grant.created_at).execute()
                    if Grant.select().where(Grant.user == grant.user_id, Grant.client_id == new).exists():
                        grant.delete_instance()  # the canonical one is newer
                    else:
                        Grant.update(client_id=new).where(Grant.id == grant.id).execute()
            else:
                model.update(client_id=new).where(model.client_id == old).execute()


def _migration_6(migrator):
    """Single-use state for sign-ins through another site (CallbackState), kept by the server instead of
    each plugin's own cookie and in-process memory of used values."""
    migrator.database.create_tables([CallbackState])


def _migration_7(migrator):
    """The scope the app asked for, beside the scope granted, on codes and refresh tokens: a refresh that
    resends it after the person narrowed it at consent gets what was granted (issue 18).  Rows made
    before keep "", read as "what was granted"."""
    _add_missing_columns(migrator, AuthCode, ["requested_scope"])
    _add_missing_columns(migrator, Token, ["requested_scope"])


def _migration_8(migrator):
    """Device authorizations (RFC 8628): DeviceCode."""
    migrator.database.create_tables([DeviceCode])


def _migration_9(migrator):
    """Ticketing for IndieAuth (issue 19): the tickets users send, the tokens they receive from tickets, and
    the resource a token is for."""
    migrator.database.create_tables([Ticket, ReceivedToken])
    _add_missing_columns(migrator, Token, ["resource"])


def _migration_10(migrator):
    """Resource indicators (RFC 8707, issue 20): the resources a request, a code and a remembered approval are
    for, and those a resource server's introspection credential is bound to ("" in older rows: none, any)."""
    for model in (AuthRequest, AuthCode, Grant):
        _add_missing_columns(migrator, model, ["resource"])
    _add_missing_columns(migrator, ResourceServer, ["resources"])


# Each migration is (version, function(migrator)), run by Storage.migrate on `migrator.database`.
# Append, never edit: a migration that changes an existing table uses `migrator` (playhouse.migrate)
# and checks `migrator.database.get_columns` first, because the versions that create tables create
# them from the current models.
MIGRATIONS = [(1, _migration_1), (2, _migration_2), (3, _migration_3), (4, _migration_4), (5, _migration_5),
              (6, _migration_6), (7, _migration_7), (8, _migration_8), (9, _migration_9),
              (10, _migration_10)]
SCHEMA_VERSION = MIGRATIONS[-1][0]


def sqlite_file(url, folder="."):
    """The file of a sqlite:/// database URL, relative to `folder`; None for any other database."""
    if not url.startswith("sqlite:///"):
        return None
    path = url[len("sqlite:///"):]
    if path in (":memory:", "") or path.startswith("file:"):
        raise ConfigError(f"database URL {url!r}: give SQLite a file; an in-memory database "
                          f"would be lost between requests")
    return os.path.join(folder, path)


def open_database(url, folder="."):
    """A peewee Database for a URL; SQLite paths are relative to `folder`, with WAL and foreign keys on.
    Every command and entry point opens its database here, so a new SQLite file is made here, readable
    by its owner only (0600): it holds password hashes and TOTP secrets.  SQLite gives the -wal and
    -shm files it makes the database file's mode."""
    path = sqlite_file(url, folder)
    if path is not None:
        try:
            os.close(os.open(path, os.O_RDONLY | os.O_CREAT, 0o600))  # an existing file is left as it is
        except OSError:
            pass  # a missing folder, no permission: SQLite says so when it connects
        # Pooled: a request takes an open connection and gives it back, so connecting (and the
        # PRAGMAs) happen once per thread, not per request; a connection serves one thread at a time.
        # synchronous stays FULL (not WAL's usual NORMAL): a revocation that was answered must
        # survive a power loss too, which costs an fsync per commit (bench/RESULTS.md).
        return PooledSqliteDatabase(path, max_connections=None, stale_timeout=3600, check_same_thread=False,
                                    pragmas={"journal_mode": "wal", "foreign_keys": 1,
                                             "busy_timeout": 5000})
    scheme, sep, rest = url.partition(":")
    if scheme not in ("postgresql", "postgres", "mysql"):
        raise ConfigError(f"database URL {url!r} is not supported: use sqlite:///, postgresql:// or mysql://")
    url = f"{scheme}+pool{sep}{rest}"  # a connection per request would cost a TCP connect and a log-in
    options = {}
    if url.startswith("postgres") and "connect_timeout=" not in url.partition("?")[2]:
        # libpq waits forever for a host that stopped answering, and so would every request (503 instead)
        options = {"connect_timeout": 5}
    if url.startswith("mysql"):
        # Count matched rows, not changed ones, as PostgreSQL and SQLite do: conditional updates
        # (single use, "update or insert") rely on the count.
        from pymysql.constants import CLIENT
        options = {"client_flag": CLIENT.FOUND_ROWS, "charset": "utf8mb4"}
    from playhouse.db_url import connect as db_url_connect  # not for SQLite: it imports every backend's module
    try:
        return db_url_connect(url, max_connections=None, stale_timeout=3600, **options)
    except Exception as exc:  # driver missing, bad URL
        raise ConfigError(f"database {url!r} cannot be opened: {exc}") from None


class Compiled:
    """A statement of the hot paths with its SQL built once per kind of database, with public peewee API
    (`sql()`, `execute_sql`): peewee builds a query's SQL anew each time, which on the hot paths cost
    more than the database took to answer it.  `build(slot)` makes the peewee query, `slot(i)` standing
    for the i-th value of each call; calling it runs the statement and gives the rows it changed (for
    the conditional UPDATEs that consume a request or a code)."""

    # Strings that text, integer, date-time and foreign-key columns' converters leave alone (a
    # BooleanField's would make one True: compare booleans with literals, not slots).
    SLOTS = tuple(f"\x00slot {i}\x00" for i in range(8))

    def __init__(self, build):
        self.build, self.compiled = build, {}

    def execute(self, database, values):
        """The cursor of the statement run with `values` (each as the column's db_value would make it)."""
        compiled = self.compiled.get(type(database))
        if compiled is None:
            sql, params = self.build(Compiled.SLOTS.__getitem__).sql()
            slots = {slot: i for i, slot in enumerate(Compiled.SLOTS)}
            compiled = self.compiled[type(database)] = sql, [
                (slots[p], None) if isinstance(p, str) and p in slots else (None, p) for p in params]
        sql, params = compiled
        return database.execute_sql(sql, [p if i is None else values[i] for i, p in params])

    def __call__(self, database, *values):
        return database.rows_affected(self.execute(database, values))


class Prepared(Compiled):
    """A lookup of `model` (joined to `joined` by its foreign key, when given) by the values of one column
    or more, compiled once.  Rows become models through each field's python_value; the joined model is
    attached."""

    def __init__(self, model, joined, columns, extra=(), extend=None):
        """`columns`: one column or a tuple of them, each compared for equality with its value in the
        call.  `extend(query)` may add (LEFT) joins for the `extra` columns, whose values come back as the
        found row's `extra` tuple."""
        super().__init__(self.lookup)
        self.model, self.joined = model, joined
        self.columns = columns if isinstance(columns, tuple) else (columns,)
        self.fields = (model._meta.sorted_fields, joined._meta.sorted_fields if joined else [])
        self.extra, self.extend = tuple(extra), extend

    def lookup(self, slot):
        query = self.model.select(*self.fields[0], *self.fields[1], *self.extra)
        if self.joined is not None:
            query = query.join(self.joined)
        if self.extend is not None:
            query = self.extend(query)
        return query.where(*(column == slot(i) for i, column in enumerate(self.columns))).limit(1)

    def __call__(self, database, *values):
        row = self.execute(database, values).fetchone()
        if row is None:
            return None
        split = len(self.fields[0])
        found = self.model(**{f.name: f.python_value(v) for f, v in zip(self.fields[0], row[:split])})
        if self.joined is not None:
            setattr(found, self.model._meta.model_refs[self.joined][0].name,
                    self.joined(**{f.name: f.python_value(v) for f, v in
                                   zip(self.fields[1], row[split:split + len(self.fields[1])])}))
        if self.extra:
            found.extra = tuple(row[len(row) - len(self.extra):])
        return found


class PreparedInsert:
    """Model.create for the rows the hot paths write (a request, a code, a token, an event): the INSERT of
    every column but the id, its SQL built once per kind of database.  Defaults are applied as
    Model.create applies them; the new row is returned with its id."""

    def __init__(self, model):
        self.model, self.compiled = model, {}
        self.fields = [f for f in model._meta.sorted_fields if f is not model._meta.primary_key]

    def __call__(self, database, **values):
        row = self.model(**values)
        sql = self.compiled.get(type(database))
        if sql is None:
            query = self.model.insert_many([[None] * len(self.fields)], fields=self.fields)
            if database.returning_clause:
                query = query.returning(self.model._meta.primary_key)
            sql, params = query.sql()
            assert len(params) == len(self.fields), "one parameter per column"
            self.compiled[type(database)] = sql
        cursor = database.execute_sql(sql, [f.db_value(row.__data__.get(f.name)) for f in self.fields])
        setattr(row, self.model._meta.primary_key.name,
                cursor.fetchone()[0] if database.returning_clause else cursor.lastrowid)
        return row


PURGE_INTERVAL = 10 * 60  # seconds between a process's purges of expired rows
REPLAY_MEMORY = 86400     # seconds codes and tokens are kept after they expire


def bind_storage_methods(cls):
    """Wrap each public method of a Storage class so that it runs with the models bound to its storage's
    database (BoundDatabase): no method can forget, nested and concurrent calls each see their own.  A
    call made while its database is bound already (one method calling another) costs one comparison."""
    def binding(method):
        @functools.wraps(method)
        def bound(self, *args, **kwargs):
            database = self.database
            if _bound_database.get() is database:
                return method(self, *args, **kwargs)
            reset = _bound_database.set(database)
            try:
                return method(self, *args, **kwargs)
            finally:
                _bound_database.reset(reset)
        return bound
    for name, value in list(vars(cls).items()):
        if not name.startswith("_") and name != "bound" and isinstance(value, types.FunctionType):
            setattr(cls, name, binding(value))
    return cls


class StoredAccounts:
    """The peewee Storage's rows about people and the apps they use: users and credentials, sessions,
    registered apps and their roles, invites, sign-in links, callback state and throttling failures."""

    # -- users and credentials
    def create_user(self, username, me, role="user", **profile):
        username = valid_new_user(username, me)
        try:
            with self.database.atomic():
                return User.create(username=username, me=me, role=role, **profile)
        except peewee.IntegrityError:
            raise UsageError(f"a user named {username!r} or with me {me!r} exists already") from None

    def get_user(self, username=None, me=None, user_id=None):
        if username is not None:
            return self._user_by_name(self.database, normalize_username(username))
        return self._user_by_me(self.database, me) if me is not None else self._user_by_id(self.database, user_id)

    def list_users(self):
        return list(User.select().order_by(User.id))

    def get_credential(self, user, method):
        row = Credential.get_or_none(Credential.user == user, Credential.method == method)
        return json.loads(row.data) if row else None

    def set_credential(self, user, method, data):
        with self.database.atomic():
            updated = (Credential.update(data=json.dumps(data))
                       .where(Credential.user == user, Credential.method == method).execute())
            if not updated:
                Credential.create(user=user, method=method, data=json.dumps(data), created_at=self.now())

    def update_credential(self, user, method, expected, data):
        return Credential.update(data=json.dumps(data)).where(
            Credential.user == user, Credential.method == method,
            Credential.data == json.dumps(expected)).execute() == 1

    def delete_credential(self, user, method):
        return Credential.delete().where(Credential.user == user, Credential.method == method).execute()

    def touch_credential(self, user, method):
        Credential.update(last_used_at=self.now()).where(
            Credential.user == user, Credential.method == method).execute()

    # -- sessions
    def create_session(self, user, method, lifetime, address=""):
        raw = secrets.token_urlsafe(32)
        Session.create(token_hash=token_hash(raw), user=user, method=method, created_at=self.now(),
                       expires_at=self.now() + datetime.timedelta(seconds=lifetime), address=address)
        self.purge_now_and_then()
        return raw

    def get_session(self, raw):
        session = self._session(self.database, token_hash(raw))
        if (session is None or session.revoked_at is not None or session.expires_at <= self.now()
                or session.user.disabled_at is not None):
            return None
        return session

    def revoke_session(self, raw):
        Session.update(revoked_at=self.now()).where(
            Session.token_hash == token_hash(raw), Session.revoked_at.is_null()).execute()

    def revoke_user_sessions(self, user, keep=None):
        query = Session.update(revoked_at=self.now()).where(Session.user == user, Session.revoked_at.is_null())
        if keep:
            query = query.where(Session.token_hash != token_hash(keep))
        return query.execute()

    def update_user(self, user, **fields):
        try:
            with self.database.atomic():
                User.update(**fields).where(User.id == user.id).execute()
        except peewee.IntegrityError:
            raise UsageError("that profile URL belongs to another user already") from None
        return self.get_user(user_id=user.id)

    def disable_user(self, user):
        now = self.now()
        with self.database.atomic():
            User.update(disabled_at=now).where(User.id == user.id).execute()
            self.revoke_tokens(user)
            self.revoke_user_sessions(user)
            AuthCode.update(expires_at=now).where(AuthCode.user == user, AuthCode.used_at.is_null(),
                                                  AuthCode.expires_at > now).execute()
            LoginLink.update(expires_at=now).where(LoginLink.user == user, LoginLink.used_at.is_null(),
                                                   LoginLink.expires_at > now).execute()
            Grant.delete().where(Grant.user == user).execute()
        return self.get_user(user_id=user.id)

    def delete_user(self, user):
        with self.database.atomic():
            self.revoke_tokens(user)
            self.revoke_user_sessions(user)
            User.delete().where(User.id == user.id).execute()

    # -- pre-registered clients
    def create_client(self, client_id, name, redirect_uris, description="", logo=""):
        raw = secrets.token_urlsafe(32)
        Client.create(client_id=canonical_client_id(client_id), name=name, description=description, logo=logo,
                      redirect_uris=json.dumps(list(redirect_uris)), secret_hash=token_hash(raw), created_at=self.now())
        return raw

    def get_client(self, client_id=None, number=None):
        if number is not None:
            return Client.get_or_none(Client.id == number)
        return self._client(self.database, canonical_client_id(client_id)) if client_id else None

    def list_clients(self):
        return list(Client.select().order_by(Client.id))

    def rotate_client_secret(self, client_id):
        raw = secrets.token_urlsafe(32)
        Client.update(secret_hash=token_hash(raw), rotated_at=self.now()).where(
            Client.client_id == canonical_client_id(client_id)).execute()
        return raw

    def remove_client(self, client_id):
        client_id = canonical_client_id(client_id)
        with self.database.atomic():
            client = Client.get_or_none(Client.client_id == client_id)
            if client is None:
                return None
            revoked = self.revoke_tokens(client_id=client_id)
            AuthCode.update(used_at=self.now()).where(AuthCode.client_id == client_id,
                                                      AuthCode.used_at.is_null()).execute()
            RoleAssignment.delete().where(RoleAssignment.client == client).execute()
            Grant.delete().where(Grant.client_id == client_id).execute()
            client.delete_instance()
            return revoked

    # -- roles in pre-registered clients
    def set_client_roles(self, client, roles, default_role=""):
        client.roles, client.default_role = json.dumps(check_client_roles(roles, default_role)), default_role
        Client.update(roles=client.roles, default_role=default_role).where(Client.id == client.id).execute()

    def client_roles(self, client):
        return client_roles(client)

    def assign_role(self, user, client, role):
        with self.database.atomic():
            RoleAssignment.delete().where(RoleAssignment.user == user, RoleAssignment.client == client).execute()
            if role:
                check_role(client, role)
                RoleAssignment.create(user=user, client=client, role=role)

    def role_assignments(self, client):
        return list(RoleAssignment.select(RoleAssignment, User).join(User).where(RoleAssignment.client == client)
                    .order_by(User.username))

    # role_for's one query: it runs on every token verification and introspection
    _role = Compiled(lambda slot: Client.select(Client.roles, Client.default_role, RoleAssignment.role).join(
        RoleAssignment, peewee.JOIN.LEFT_OUTER,
        on=(RoleAssignment.client == Client.id) & (RoleAssignment.user == slot(1))).where(
        Client.client_id == slot(0)).limit(1))

    def role_for(self, user, client_id):
        if not client_id:
            return None
        known = getattr(user, "roles_known", {})
        if client_id in known:  # looked up with the user's token a moment ago
            return known[client_id]
        row = self._role.execute(self.database, (canonical_client_id(client_id), user.id)).fetchone()
        if row is None:
            return None
        return role_of(*row)

    def seen_clients(self, limit=100):
        return first_client_data(AuthRequest.select(AuthRequest.client_id, AuthRequest.client_data)
                                 .order_by(AuthRequest.id.desc()).tuples(), limit)

    # -- invites
    def create_invite(self, role, lifetime, created_by=None, app_roles=None):
        check_app_roles(self, app_roles)
        raw = secrets.token_urlsafe(32)
        Invite.create(token_hash=token_hash(raw), role=role, created_by=created_by, created_at=self.now(),
                      expires_at=self.now() + datetime.timedelta(seconds=lifetime),
                      app_roles=json.dumps(app_roles or {}))
        return raw

    def get_invite(self, raw):
        row = Invite.get_or_none(Invite.token_hash == token_hash(raw))
        return row if row and row.used_at is None and row.expires_at > self.now() else None

    def redeem_invite(self, raw, username, me, **profile):
        """Create the invited user and use the invite up, both or neither; None if the invite is gone.

        The invite is taken first, by its conditional update: racing sign-ups wait for that commit and
        find it used, instead of reading it as unused and then failing to write (SQLite: "locked")."""
        class Gone(Exception):
            pass
        try:
            with self.database.atomic():
                if not self.use_invite(raw):
                    raise Gone
                invite = Invite.get(Invite.token_hash == token_hash(raw))
                user = self.create_user(username, me, role=invite.role, **profile)
                Invite.update(used_by=user).where(Invite.id == invite.id).execute()
                assign_app_roles(self, user, invite.app_roles)
                return user
        except Gone:
            return None

    def use_invite(self, raw, user=None):
        return Invite.update(used_at=self.now(), used_by=user).where(
            Invite.token_hash == token_hash(raw), Invite.used_at.is_null(), Invite.expires_at > self.now()
        ).execute() == 1

    def list_invites(self):
        return list(Invite.select().order_by(Invite.id.desc()))

    # -- one-time sign-in links
    def create_login_link(self, user, lifetime):
        raw = secrets.token_urlsafe(32)
        LoginLink.create(token_hash=token_hash(raw), user=user, created_at=self.now(),
                         expires_at=self.now() + datetime.timedelta(seconds=lifetime))
        return raw

    def login_link_usable(self, raw):
        return LoginLink.select().where(LoginLink.token_hash == token_hash(raw), LoginLink.used_at.is_null(),
                                        LoginLink.expires_at > self.now()).exists()

    def redeem_login_link(self, raw):
        now = self.now()
        used = (LoginLink.update(used_at=now)
                .where(LoginLink.token_hash == token_hash(raw), LoginLink.used_at.is_null(),
                       LoginLink.expires_at > now).execute())
        if used != 1:
            return None
        return LoginLink.get(LoginLink.token_hash == token_hash(raw)).user

    # -- state of sign-ins through another site
    def save_callback_state(self, purpose, browser, data, lifetime):
        raw = secrets.token_urlsafe(32)
        CallbackState.create(key_hash=token_hash(raw), purpose=purpose, browser=token_hash(browser),
                             data=json.dumps(data), created_at=self.now(),
                             expires_at=self.now() + datetime.timedelta(seconds=lifetime))
        self.purge_now_and_then()
        return raw

    def take_callback_state(self, purpose, raw, browser):
        now, key = self.now(), token_hash(raw)
        taken = (CallbackState.update(used_at=now)
                 .where(CallbackState.key_hash == key, CallbackState.purpose == purpose,
                        CallbackState.browser == token_hash(browser), CallbackState.used_at.is_null(),
                        CallbackState.expires_at > now).execute())
        row = CallbackState.get_or_none(CallbackState.key_hash == key, CallbackState.purpose == purpose)
        if taken == 1:
            return json.loads(row.data), None
        if row is None:
            return None, "unknown"
        if row.browser != token_hash(browser):
            return None, "other_browser"
        return None, "used" if row.used_at is not None else "expired"

    # -- throttling
    def record_failure(self, keys):
        now = self.now()
        return [Failure.insert(key=key, at=now).execute() for key in keys]

    def delete_failures(self, ids):
        Failure.delete().where(Failure.id.in_(ids)).execute()

    def failures_since(self, key, since):
        row = (Failure.select(peewee.fn.COUNT(Failure.id), peewee.fn.MIN(Failure.at))
               .where(Failure.key == key, Failure.at >= since).tuples().first())
        return row[0], row[1]

    def clear_failures(self, key):
        Failure.delete().where(Failure.key == key).execute()


class StoredProtocol:
    """The peewee Storage's rows of the protocol: pending requests and codes, tokens, signing keys,
    remembered consent, resource servers, the audit log, and purging what has expired."""

    # -- authorization requests and codes
    def save_auth_request(self, lifetime, **fields):
        raw = secrets.token_urlsafe(24)
        self._insert_auth_request(self.database, key_hash=token_hash(raw), created_at=self.now(),
                                  expires_at=self.now() + datetime.timedelta(seconds=lifetime), **fields)
        self.purge_now_and_then()
        return raw

    def get_auth_request(self, raw, pushed=False):
        row = self._auth_request(self.database, token_hash(raw))
        if row is None or row.used_at is not None or row.expires_at <= self.now() or row.pushed != pushed:
            return None
        return row

    def use_auth_request(self, raw):
        return self._use_auth_request(self.database, self.now(), token_hash(raw)) == 1

    def create_code(self, lifetime, **fields):
        raw = secrets.token_urlsafe(32)
        self._insert_code(self.database, code_hash=token_hash(raw), created_at=self.now(),
                          expires_at=self.now() + datetime.timedelta(seconds=lifetime), **fields)
        return raw

    def find_code(self, raw):
        return self._code(self.database, token_hash(raw))

    def claim(self, take, then):
        """`take()`, a conditional update that is True for exactly one caller, and when it is, `then()`, in
        one transaction: (won, what `then` returned).  A racing caller's update waits for the winner's
        commit, so what it revokes after losing includes what the winner stored; a failure undoes both."""
        with self.database.atomic():
            if not take():
                return False, None
            return True, then()

    def use_code(self, code):
        return self._use_code(self.database, self.now(), code.id) == 1

    # -- device authorizations (RFC 8628)
    def save_device_code(self, lifetime, user_code, **fields):
        raw, now = secrets.token_urlsafe(32), self.now()
        try:
            with self.database.atomic():
                DeviceCode.create(device_hash=token_hash(raw), user_code_hash=token_hash(user_code), created_at=now,
                                  next_poll_at=now, expires_at=now + datetime.timedelta(seconds=lifetime), **fields)
        except peewee.IntegrityError:
            return None  # the user_code of another authorization, live or kept
        self.purge_now_and_then()
        return raw

    def find_device_code(self, raw=None, user_code=None):
        column, value = (DeviceCode.device_hash, raw) if raw is not None else (DeviceCode.user_code_hash, user_code)
        return (DeviceCode.select(DeviceCode, User).join(User, peewee.JOIN.LEFT_OUTER)
                .where(column == token_hash(value or "")).first())

    def answer_device_code(self, device, user, scope, auth_time=None, denied=False):
        now = self.now()
        return DeviceCode.update(user=user, granted_scope=scope, auth_time=auth_time, answered_at=now,
                                 denied=denied).where(DeviceCode.id == device.id, DeviceCode.answered_at.is_null(),
                                                      DeviceCode.expires_at > now).execute() == 1

    def poll_device_code(self, device):
        now = self.now()
        if DeviceCode.update(next_poll_at=now + datetime.timedelta(seconds=device.interval)).where(
                DeviceCode.id == device.id, DeviceCode.next_poll_at <= now).execute() == 1:
            return True
        DeviceCode.update(interval=DeviceCode.interval + 5,
                          next_poll_at=now + datetime.timedelta(seconds=device.interval + 5)).where(
            DeviceCode.id == device.id).execute()
        return False

    def use_device_code(self, device):
        return DeviceCode.update(used_at=self.now()).where(
            DeviceCode.id == device.id, DeviceCode.used_at.is_null(), DeviceCode.answered_at.is_null(False),
            DeviceCode.denied == False).execute() == 1  # noqa: E712 (SQL, not Python)

    # -- tokens
    def create_token(self, kind, user, me, client_id, scope, lifetime, family, code=None, via="flow",
                     auth_time=None, encode=None, requested_scope="", resource=""):
        jti, now = secrets.token_hex(16), self.now()
        expires = now + datetime.timedelta(seconds=lifetime) if lifetime else None
        raw = encode(jti, now, expires) if encode else secrets.token_urlsafe(32)
        row = self._insert_token(self.database, token_hash=token_hash(raw), jti=jti, kind=kind, via=via,
                                 family=family, code=code, user=user, me=me, client_id=client_id, scope=scope,
                                 created_at=now, auth_time=auth_time, expires_at=expires,
                                 requested_scope=requested_scope, resource=resource)
        return raw, row

    def find_token(self, raw):
        """The token row (with its user) for a raw token whatever its state, or None.  The user's role in
        the token's client comes in the same query: role_for(token.user, token.client_id) then asks
        nothing more (in this request; the next one looks again)."""
        token = self._token(self.database, token_hash(raw))
        if token is not None:
            token.user.roles_known = {token.client_id: role_of(*token.extra)}
        return token

    def token_is_live(self, token):
        return (token is not None and token.revoked_at is None and token.user.disabled_at is None
                and (token.expires_at is None or token.expires_at > self.now()))

    def touch_token(self, token):
        Token.update(last_used_at=self.now()).where(Token.id == token.id).execute()

    def revoke_token(self, token):
        return Token.update(revoked_at=self.now()).where(
            Token.id == token.id, Token.revoked_at.is_null()).execute() == 1

    def revoke_family(self, family):
        return Token.update(revoked_at=self.now()).where(
            Token.family == family, Token.revoked_at.is_null()).execute()

    def revoke_tokens_from_code(self, code):
        families = [t.family for t in Token.select(Token.family).where(Token.code == code).distinct()]
        return sum(self.revoke_family(f) for f in families)

    def live_tokens(self, user=None):
        query = (Token.select(Token, User).join(User)
                 .where(Token.revoked_at.is_null(), Token.expires_at.is_null() | (Token.expires_at > self.now()))
                 .order_by(Token.id.desc()))
        return list(query.where(Token.user == user) if user is not None else query)

    def find_token_by_id(self, token_id, user=None):
        return token_by_id(self.live_tokens(user), token_id)

    def revoke_tokens(self, user=None, client_id=None):
        query = Token.update(revoked_at=self.now()).where(Token.revoked_at.is_null())
        if user is not None:
            query = query.where(Token.user == user)
        if client_id is not None:
            query = query.where(Token.client_id == canonical_client_id(client_id))
        return query.execute()

    # -- signing keys
    def register_key(self, kid, algorithm, public_jwk):
        if not SigningKey.select().where(SigningKey.kid == kid).exists():
            try:
                with self.database.atomic():
                    SigningKey.create(kid=kid, algorithm=algorithm, public_jwk=json.dumps(public_jwk),
                                      created_at=self.now())
            except peewee.IntegrityError:
                pass  # another process registered it first

    def published_keys(self):
        return list(SigningKey.select().where(SigningKey.publish_until.is_null() |
                                              (SigningKey.publish_until > self.now()))
                    .order_by(SigningKey.id.desc()))

    def retire_key(self, kid, publish_until):
        last = (Token.select(peewee.fn.MAX(Token.expires_at)).where(Token.kind == "access", Token.revoked_at.is_null())
                .scalar())
        return SigningKey.update(retired_at=self.now(), publish_until=max(publish_until, last or publish_until)).where(
            SigningKey.kid == kid, SigningKey.retired_at.is_null()).execute()

    def extend_key(self, kid, until):
        self._extend_key(self.database, until, kid)

    def list_keys(self):
        return list(SigningKey.select().order_by(SigningKey.id))

    # -- remembered consent, kept and found under the canonical client_id
    def get_grant(self, user, client_id):
        return self._grant(self.database, Grant.user.db_value(user), canonical_client_id(client_id))

    def list_grants(self, user):
        return list(Grant.select().where(Grant.user == user).order_by(Grant.client_id))

    def forget_grant(self, user, client_id):
        client_id = canonical_client_id(client_id)
        return Grant.delete().where(Grant.user == user, Grant.client_id == client_id).execute()

    def save_grant(self, user, client_id, scope, resource=""):
        client_id = canonical_client_id(client_id)
        with self.database.atomic():
            if not Grant.update(scope=scope, resource=resource, created_at=self.now()).where(
                    Grant.user == user, Grant.client_id == client_id).execute():
                Grant.create(user=user, client_id=client_id, scope=scope, resource=resource, created_at=self.now())

    # -- resource servers (introspection callers)
    def add_resource_server(self, name, resources=""):
        raw = secrets.token_urlsafe(32)
        try:
            with self.database.atomic():
                ResourceServer.create(name=name, secret_hash=token_hash(raw), created_at=self.now(), resources=resources)
        except peewee.IntegrityError:
            raise UsageError(f"a resource server named {name!r} exists already") from None
        return raw

    def check_resource_server(self, raw):
        row = self._resource_server(self.database, token_hash(raw))
        return row if row and row.revoked_at is None else None

    def list_resource_servers(self):
        return list(ResourceServer.select().order_by(ResourceServer.id))

    def revoke_resource_server(self, name):
        return ResourceServer.update(revoked_at=self.now()).where(
            ResourceServer.name == name, ResourceServer.revoked_at.is_null()).execute()

    # -- audit log
    def log_event(self, kind, user=None, **data):
        self._insert_event(self.database, kind=kind, user=user, data=json.dumps(data, default=str), at=self.now())

    def events(self, limit=50, user=None):
        query = Event.select(Event, User).join(User, peewee.JOIN.LEFT_OUTER).order_by(Event.id.desc()).limit(limit)
        return list(query.where(Event.user == user) if user is not None else query)

    def activity(self, user, since, kinds):
        # DATE() is the same function on SQLite (a string), PostgreSQL and MariaDB (a date)
        day = peewee.fn.DATE(Event.at)
        query = (Event.select(day, Event.kind, peewee.fn.COUNT(Event.id))
                 .where(Event.user == user, Event.at >= since, Event.kind.in_(list(kinds))).group_by(day, Event.kind))
        return {(str(found)[:10], kind): count for found, kind, count in query.tuples()}

    # -- purging what has expired
    def purge(self):
        """Each table's purge is one DELETE on an indexed time (migration 4)."""
        now = self.now()
        replayed = now - datetime.timedelta(seconds=REPLAY_MEMORY)
        deletes = {
            "authrequest": AuthRequest.delete().where(AuthRequest.expires_at < now),
            "session": Session.delete().where(Session.expires_at < now),
            "loginlink": LoginLink.delete().where((LoginLink.expires_at < now) | LoginLink.used_at.is_null(False)),
            "invite": Invite.delete().where(Invite.expires_at < now, Invite.used_at.is_null()),
            "token": Token.delete().where(Token.expires_at < replayed),
            "authcode": AuthCode.delete().where(AuthCode.expires_at < replayed),
            "devicecode": DeviceCode.delete().where(((DeviceCode.expires_at < now) & DeviceCode.used_at.is_null())
                                                    | (DeviceCode.expires_at < replayed)),
            "failure": Failure.delete().where(Failure.at < now - datetime.timedelta(seconds=self.failure_window)),
            "callbackstate": CallbackState.delete().where(CallbackState.expires_at < now),
            "ticket": Ticket.delete().where(Ticket.expires_at < replayed),
            "receivedtoken": ReceivedToken.delete().where(ReceivedToken.expires_at < now),
        }
        if self.log_retention:
            deletes["event"] = Event.delete().where(Event.at < now - datetime.timedelta(seconds=self.log_retention))
        return dict({"event": 0}, **{table: query.execute() for table, query in deletes.items()})

    def purge_now_and_then(self):
        """purge() when this process has not for PURGE_INTERVAL, outside any transaction; called when rows that
        expire are written, so the database stays as small as what is live.  A failure is only logged."""
        now = self.now()
        if self.purged_at is not None and now < self.purged_at + datetime.timedelta(seconds=PURGE_INTERVAL):
            return None
        if self.database.in_transaction():
            return None
        self.purged_at = now
        try:
            return self.purge()
        except peewee.PeeweeException:
            log.warning("could not delete expired rows", exc_info=True)
            return None


class StoredTickets:
    """The peewee Storage's rows of Ticketing for IndieAuth: tickets sent and tokens received."""

    def create_ticket(self, user, subject, resource, scope, endpoint, lifetime):
        raw, now = secrets.token_urlsafe(32), self.now()
        row = Ticket.create(ticket_hash=token_hash(raw), user=user, subject=subject, resource=resource, scope=scope,
                            endpoint=endpoint, family=uuid.uuid4().hex, created_at=now,
                            expires_at=now + datetime.timedelta(seconds=lifetime))
        self.purge_now_and_then()
        return raw, row

    def find_ticket(self, raw):
        return Ticket.select(Ticket, User).join(User).where(Ticket.ticket_hash == token_hash(raw)).first()

    def use_ticket(self, ticket):
        return Ticket.update(used_at=self.now()).where(Ticket.id == ticket.id, Ticket.used_at.is_null()).execute() == 1

    def sent_tickets(self, user):
        return list(Ticket.select().where(Ticket.user == user).order_by(Ticket.id.desc()))

    def keep_received_token(self, user, resource, issuer, token_endpoint, scope, sealed, expires_at=None):
        return ReceivedToken.create(user=user, resource=resource, issuer=issuer, token_endpoint=token_endpoint,
                                    scope=scope, sealed=sealed, created_at=self.now(), expires_at=expires_at)

    def received_tokens(self, user):
        return list(ReceivedToken.select().where(ReceivedToken.user == user).order_by(ReceivedToken.id.desc()))

    def delete_received_token(self, user, token_id):
        return ReceivedToken.delete().where(ReceivedToken.user == user, ReceivedToken.id == token_id).execute() == 1


class Storage(StoredAccounts, StoredProtocol, StoredTickets):
    """StorageContract on peewee: the default backend (storage_backend).  It owns its database: every
    public method runs with the models bound to it (bind_storage_methods); `bound()` and `database` are
    its own, for tests and scripts, not part of the contract."""

    # the lookups of (nearly) every request: a session by its cookie, a token by its hash
    _session = Prepared(Session, User, Session.token_hash)
    # a token with the user's role in its client (role_for's query, joined in: one query per verification)
    _token = Prepared(Token, User, Token.token_hash, extra=(Client.roles, Client.default_role, RoleAssignment.role),
                      extend=lambda query: query.switch(Token).join(
                          Client, peewee.JOIN.LEFT_OUTER, on=(Client.client_id == Token.client_id)).join(
                          RoleAssignment, peewee.JOIN.LEFT_OUTER,
                          on=(RoleAssignment.client == Client.id) & (RoleAssignment.user == Token.user)))
    # and of every introspection and every authorization flow
    _resource_server = Prepared(ResourceServer, None, ResourceServer.secret_hash)
    _client = Prepared(Client, None, Client.client_id)
    _auth_request = Prepared(AuthRequest, None, AuthRequest.key_hash)
    _code = Prepared(AuthCode, User, AuthCode.code_hash)
    _user_by_name = Prepared(User, None, User.username)
    _user_by_me = Prepared(User, None, User.me)
    _user_by_id = Prepared(User, None, User.id)
    _grant = Prepared(Grant, None, (Grant.user, Grant.client_id))
    # the writes of every authorization flow
    _insert_auth_request = PreparedInsert(AuthRequest)
    _insert_code = PreparedInsert(AuthCode)
    _insert_token = PreparedInsert(Token)
    _insert_event = PreparedInsert(Event)
    _use_auth_request = Compiled(lambda slot: AuthRequest.update(used_at=slot(0)).where(
        AuthRequest.key_hash == slot(1), AuthRequest.used_at.is_null()))
    _use_code = Compiled(lambda slot: AuthCode.update(used_at=slot(0)).where(
        AuthCode.id == slot(1), AuthCode.used_at.is_null()))
    _extend_key = Compiled(lambda slot: SigningKey.update(publish_until=slot(0)).where(
        SigningKey.kid == slot(1), SigningKey.retired_at.is_null(False), SigningKey.publish_until < slot(0)))

    def __init__(self, database, clock=utcnow, failure_window=15 * 60, log_retention=365 * 86400):
        self.database = database
        self.now = clock
        self.failure_window, self.log_retention = failure_window, log_retention
        self.purged_at = None  # when this process last purged (purge_now_and_then)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        bind_storage_methods(cls)

    @contextlib.contextmanager
    def bound(self):
        """Within the block, the models query this storage's database (tests, a one-off script); its own
        methods need no block: each binds itself."""
        reset = _bound_database.set(self.database)
        try:
            yield self
        finally:
            _bound_database.reset(reset)

    # -- connections and schema
    def connect(self):
        self.database.connect(reuse_if_open=True)

    def close(self):
        if not self.database.is_closed():
            self.database.close()

    def close_all(self):
        """Close every connection, every thread's: for a server that stopped using this storage (a reload)."""
        self.database.close_all()

    def schema_version(self):
        with self.database.connection_context():
            if not self.database.table_exists(SchemaVersion._meta.table_name):
                return 0
            return SchemaVersion.select(peewee.fn.MAX(SchemaVersion.version)).scalar() or 0

    def is_empty(self):
        with self.database.connection_context():
            return not self.database.get_tables()

    def migrate(self):
        """Apply every pending migration, each in its own transaction; returns the versions applied."""
        from playhouse.migrate import SchemaMigrator
        applied = []
        with self.database.connection_context():
            self.database.create_tables([SchemaVersion])
            current = SchemaVersion.select(peewee.fn.MAX(SchemaVersion.version)).scalar() or 0
            migrator = SchemaMigrator.from_database(self.database)
            for version, migration in MIGRATIONS:
                if version > current:
                    with self.database.atomic():
                        migration(migrator)
                        SchemaVersion.create(version=version)
                    applied.append(version)
        return applied

    def check_schema(self):
        version = self.schema_version()
        if version < SCHEMA_VERSION:
            raise UsageError(f"the database is at schema version {version}, this server needs "
                             f"{SCHEMA_VERSION}: run `indieauth migrate` first")
        if version > SCHEMA_VERSION:
            raise UsageError(f"the database is at schema version {version}, newer than this "
                             f"server ({SCHEMA_VERSION}): a newer indieauth migrated it; upgrade indieauth, or "
                             f"restore the backup made before that upgrade")


for _part in (StoredAccounts, StoredProtocol, StoredTickets, Storage):
    bind_storage_methods(_part)


# ---------------------------------------------------------------------------------------------
#  Hooks and plugins
# ---------------------------------------------------------------------------------------------

hookspec = pluggy.HookspecMarker("indieauth")
hookimpl = pluggy.HookimplMarker("indieauth")


class HookSpecs:
    """The hooks a plugin may implement.  Every hook gets `app` (the IndieAuth application)."""

    @hookspec(historic=True)
    def configure(self, app):
        """Called once at start-up, when the plugin is registered.  Validate the plugin's own
        `[plugins.NAME]` table with `app.plugin_config(NAME, SETTINGS)`; a bad value raises
        ConfigError naming the key and start-up fails.  Keep what the plugin needs later in
        `app.plugin_state[NAME]`, never in an attribute of the app.  Returns nothing."""

    @hookspec
    def register_authenticators(self, app):
        """Return a list of Authenticator objects (ways to prove who is at the keyboard).
        The login page shows every one; see `Authenticator` for what each must provide."""

    @hookspec
    def register_routes(self, app):
        """Return a list of `(method, path, callback)`; an authenticator's routes go under
        `/login/<name>/…`, anything else under `/plugins/<name>/…`, except URLs people already hold
        that moved out of the core with their feature (the hosting plugin's `/u/NAME`, `/invite/<token>`
        and `/admin/users`), which keep their paths; no path may be one the core serves.  Callbacks take Bottle's
        URL arguments and may use `bottle.request`, `app.current_user()` and `app.render()`.
        Name a wildcard that carries a secret `<token>`, `<code>` or `<key>` (SECRET_NAMES): its
        value is then never written to the log.  A database id is `<name:id>` (1 to 2**31-1, else 404)."""

    @hookspec
    def register_commands(self, app, subparsers, groups):
        """Add CLI subcommands with `subparsers.add_parser(name)`; give each a handler with
        `set_defaults(handler=function(app, args))`.  The handler's return value is the exit code.
        `groups` holds the subparsers of the core's command groups, {"user", "token", "keys",
        "resource-server"}: `groups["user"].add_parser("invite")` adds `indieauth user invite`."""

    @hookspec
    def register_scopes(self, app):
        """Return a list of `Scope(name, description)`: scopes the consent screen explains and
        `scopes_supported` lists.  A plugin's description replaces the core's for the same name."""

    @hookspec(firstresult=True)
    def client_metadata(self, app, client_id):
        """Return a ClientInfo for `client_id` (name, logo, url, redirect_uris), or None.
        First result wins; the core's default fetches the JSON client metadata document, then h-app
        and rel=redirect_uri, through the SSRF-guarded `app.http`."""

    @hookspec
    def token_claims(self, app, me, client, scopes, extra):
        """Return a dict of claims to add to a JWT access token for `me` issued to `client` (its
        client_id) with `scopes`, or None.  They are merged *under* the core's: iss, sub, aud,
        client_id, scope, iat, exp, jti and auth_time always win, and `role` is the core's alone (set
        only for registered apps).  `extra` is reserved (empty)."""

    @hookspec(firstresult=True)
    def user_profile(self, app, me, scopes):
        """Return a dict with name, url, photo and email for the user whose profile URL is `me`,
        or None.  First result wins; the core's default reads the user's record.  The core drops
        email unless `scopes` has "email"."""

    @hookspec
    def menu_links(self, app, user):
        """Called for every page that shows the navigation to a signed-in `user` (a `User`).  Return a
        list of `(label, path)` links to add after the core's (Tokens, Activity, Developers) and before
        Apps, or None; each plugin's in the order plugins are loaded.  Default: none."""

    @hookspec(firstresult=True)
    def storage_backend(self, app):
        """Return an object meeting `StorageContract` to replace the core's peewee storage, or None.
        Called once at start-up, after `configure` (so a plugin builds its backend from settings it
        validated there, kept in `app.plugin_state`) and before any hook that reads data.  First result
        wins; the core's default, registered `trylast`, is the peewee `Storage` on `[server] database`.
        The core wraps the object's methods named in `ENDS_TOKENS` (revocations, disabling, roles) so that
        every server process drops the tokens it verified a moment ago (`VerifiedTokens`)."""

    @hookspec
    def track_event(self, app, event):
        """Called after the database commit for every event, a `ServerEvent` (LoginSucceeded,
        LoginFailed, LoggedOut…; see the Events chapter).  Exceptions are logged, never raised."""


class CoreDefaults:
    """The core's own implementations of firstresult hooks, registered `trylast`."""

    @hookimpl(trylast=True)
    def storage_backend(self, app):
        return Storage(open_database(app.config["server"]["database"], app.config.folder), clock=app.now,
                       failure_window=app.config["security"]["failure_window"],
                       log_retention=app.config["server"]["log_retention"])

    @hookimpl(trylast=True)
    def client_metadata(self, app, client_id):
        return fetch_client_info(app.http, client_id, app.client_cache)

    @hookimpl(trylast=True)
    def user_profile(self, app, me, scopes):
        user = app.storage.get_user(me=me)
        if user is None:
            return None
        profile = {"name": user.name or user.username, "url": user.url or user.me}
        if user.photo:
            profile["photo"] = user.photo
        if user.email:
            profile["email"] = user.email
        return profile

    @hookimpl
    def register_scopes(self, app):
        return CORE_SCOPES


def installed_plugins():
    """{name: entry point} of everything installed in the `indieauth` entry-point group."""
    return {ep.name: ep for ep in importlib.metadata.entry_points(group="indieauth")}


def declared_commands():
    """{(group or None, name): (plugin, help)} of the commands installed plugins declare in their module's
    `COMMANDS` ({"passwd": help, "user invite": help}), read without enabling them: each module is imported
    (one that cannot be is left out), none is registered."""
    found = {}
    for plugin, ep in sorted(installed_plugins().items()):
        try:
            commands = getattr(ep.load(), "COMMANDS", {})
        except Exception:  # a broken plugin: `indieauth plugins` says why
            continue
        for path, text in commands.items():
            words = path.split()
            found[(words[0], words[1]) if len(words) == 2 else (None, words[0])] = (plugin, text)
    return found


def make_plugin_manager(config, extra_plugins=()):
    """A PluginManager with the core defaults and only the enabled plugins registered."""
    pm = pluggy.PluginManager("indieauth")
    pm.add_hookspecs(HookSpecs)
    pm.register(CoreDefaults(), name="indieauth.core")
    available = installed_plugins()
    extra = {getattr(p, "__name__", type(p).__name__).rsplit(".", 1)[-1]: p for p in extra_plugins}
    for name in config.enabled_plugins():
        if name in extra:
            continue
        if name not in available:
            names = ", ".join(sorted(available)) or "none"
            raise ConfigError(f"{config.where(f'plugins.{name}')} no such plugin is installed "
                              f"(installed: {names})")
        try:
            module = available[name].load()
        except ImportError as exc:  # installed after this process started, or broken
            raise ConfigError(f"{config.where(f'plugins.{name}')} the plugin is installed but its code cannot be "
                              f"loaded ({type(exc).__name__}: {exc}); a plugin installed or upgraded while the "
                              "server runs is loaded by a restart, not a reload") from None
        pm.register(module, name=name)
    for name, plugin in extra.items():
        pm.register(plugin, name=name)
    pm.check_pending()
    return pm


class PluginState(dict):
    """`app.plugin_state`: each plugin's own objects, under its name, so plugins never set attributes on
    the app.  `configure` stores them (`app.plugin_state[NAME] = …`); reading a name nothing stored raises
    a KeyError that names the plugin.  `.get(NAME)` is None instead."""

    def __missing__(self, name):
        raise KeyError(f"no plugin state for {name!r}: the plugin {name!r} stores it in its configure hook "
                       f"(app.plugin_state[{name!r}] = …); is [plugins.{name}] enabled?")


# ---------------------------------------------------------------------------------------------
#  Events
# ---------------------------------------------------------------------------------------------
#  Small dataclasses delivered through `track_event` after the commit, all `ServerEvent`s.


class ServerEvent:
    """Something that happened on the server; `name` (snake_case, one per class) is what webhooks and
    settings call it.  (Not `Event`: that is the audit log's model.)"""
    name = None


@dataclasses.dataclass
class LoginSucceeded(ServerEvent):
    name = "login_succeeded"
    user: object
    method: str
    address: str


@dataclasses.dataclass
class LoginFailed(ServerEvent):
    name = "login_failed"
    username: str
    method: str
    address: str
    reason: str


@dataclasses.dataclass
class LoggedOut(ServerEvent):
    name = "logged_out"
    user: object


@dataclasses.dataclass
class TokenIssued(ServerEvent):
    """An access token was issued: `grant_type` is authorization_code, refresh_token, testing or
    urn:ietf:params:oauth:grant-type:device_code."""
    name = "token_issued"
    user: object
    me: str
    client_id: str
    scope: str
    grant_type: str
    jti: str
    at: datetime.datetime


@dataclasses.dataclass
class TokenRevoked(ServerEvent):
    """A token was revoked (`kind` is access or refresh; a refresh takes its family along)."""
    name = "token_revoked"
    user: object
    me: str
    client_id: str
    scope: str
    kind: str
    jti: str
    at: datetime.datetime


@dataclasses.dataclass
class TicketSent(ServerEvent):
    """A user sent a ticket (Ticketing for IndieAuth): `subject` may now redeem it for `resource`."""
    name = "ticket_sent"
    user: object
    subject: str
    resource: str
    scope: str
    endpoint: str
    at: datetime.datetime


@dataclasses.dataclass
class TicketReceived(ServerEvent):
    """Another server's ticket for one of our users was redeemed: the token is kept for them."""
    name = "ticket_received"
    user: object
    resource: str
    issuer: str
    scope: str
    at: datetime.datetime


@dataclasses.dataclass
class ConsentGranted(ServerEvent):
    name = "consent_granted"
    user: object
    client_id: str
    scope: str


@dataclasses.dataclass
class ConsentDenied(ServerEvent):
    name = "consent_denied"
    user: object
    client_id: str


# ---------------------------------------------------------------------------------------------
#  URL Rules (IndieAuth §3)
# ---------------------------------------------------------------------------------------------
#  Plain functions, one `if` per rule of the spec, never stricter than it.  Each returns None for a
#  valid value or a sentence saying what is wrong, written for the developer who must fix it.

LOOPBACK_NAMES = ("127.0.0.1", "::1", "localhost")
DOMAIN_RE = re.compile(r"(?=.{1,253}\.?$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?")
SCOPE_TOKEN_RE = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")
PKCE_RE = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
MAX_URL = 512


def split_url(url):
    """urllib's split of `url`, or None when it cannot be parsed (a bad port, brackets…) or holds a space or
    a control character, which no URL holds (RFC 3986 §2) and urllib would silently drop (tab, CR, LF)."""
    try:
        if any(ord(c) <= 0x20 or ord(c) == 0x7f for c in url):
            return None
        parts = urllib.parse.urlsplit(url)
        parts.port  # raises ValueError for a port that is not a number in range
        return parts
    except (ValueError, TypeError):
        return None


def canonical_url(url):
    """S12, S13: a URL with no path gets '/', and its host is lowercased; the rest is kept as typed."""
    # ASCII blanks only: str.strip() also takes Unicode ones that the result may end with (not idempotent)
    parts = split_url(url.strip(" \t\r\n"))
    if not parts or not parts.hostname:
        return url
    host = parts.hostname.lower()
    host = f"[{host}]" if ":" in host else host
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = (userinfo + "@" if userinfo else "") + host + (f":{parts.port}" if parts.port is not None else "")
    return urllib.parse.urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, parts.fragment))


DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_client_id(url):
    """The one form of a client_id that is stored, looked up and compared (IA §3.2, §3.4; S12, S13): scheme
    and host lowercased, the default port dropped, an empty path '/'; the rest kept as typed.  Idempotent;
    a value that is not a URL comes back unchanged, for the validators to refuse."""
    parts = split_url(url) if isinstance(url, str) else None
    if not parts or parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return url
    host = parts.hostname.lower()
    host = f"[{host}]" if ":" in host else host
    port = f":{parts.port}" if parts.port not in (None, DEFAULT_PORTS[parts.scheme]) else ""
    userinfo = parts.netloc.rpartition("@")[0]
    rest = url[len(parts.scheme) + 3 + len(parts.netloc):]  # path, query and fragment exactly as typed
    return (f"{parts.scheme}://{userinfo + '@' if userinfo else ''}{host}{port}"
            f"{'' if rest.startswith('/') else '/'}{rest}")


def is_loopback(host):
    """127.0.0.1, [::1] or localhost (IndieAuth §3.3 names these for clients)."""
    return (host or "").lower().strip("[]") in LOOPBACK_NAMES


def is_ip(host):
    """True when `host` is an IP address literal (with or without brackets) rather than a name."""
    try:
        return bool(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return False


def _has_dot_segment(path):
    return any(segment.lower() in (".", "..", "%2e", "%2e%2e", ".%2e", "%2e.")
               for segment in path.split("/"))


def _common_url_problem(url, what):
    """The rules profile URLs and client identifiers share (IndieAuth §3.2, §3.3)."""
    parts = split_url(url)
    # the value is an URL at all, and not an enormous one
    if not parts or len(url) > MAX_URL:
        return f"The {what} is not a URL that can be read (at most {MAX_URL} characters)."
    # MUST have either an https or http scheme
    if parts.scheme not in ("http", "https"):
        return f"The {what} must start with https:// or http://."
    # MUST have a host
    if not parts.hostname:
        return f"The {what} has no host name."
    # MUST NOT contain a username or password component
    if parts.username is not None or parts.password is not None:
        return f"The {what} must not contain a user name or password (the part before '@')."
    # MUST NOT contain a fragment component
    if "#" in url:
        return f"The {what} must not contain a fragment (the part after '#')."
    # MUST contain a path component; MUST NOT contain single-dot or double-dot path segments
    if _has_dot_segment(parts.path):
        return f"The {what} must not contain '.' or '..' path segments."
    return None


def profile_url_problem(url, allow_loopback=False):
    """Why `url` is not a valid profile URL (IndieAuth §3.2; S5), or None.

    `allow_loopback` is the development relaxation of S6: a loopback host with a port, allowed only
    when this server's own base_url is on loopback (and said in the log at start-up)."""
    problem = _common_url_problem(url, "profile URL")
    if problem:
        return problem
    parts = split_url(url)
    if allow_loopback and is_loopback(parts.hostname):
        return None
    # host names MUST be domain names and MUST NOT be ipv4 or ipv6 addresses
    if is_ip(parts.hostname) or not DOMAIN_RE.fullmatch(parts.hostname.lower()):
        return "The profile URL must use a domain name, not an IP address."
    # MUST NOT contain a port
    if parts.port is not None:
        return "The profile URL must not contain a port number."
    return None


def client_id_problem(url):
    """Why `url` is not a valid client identifier (IndieAuth §3.3; S9), or None."""
    problem = _common_url_problem(url, "client_id")
    if problem:
        return problem
    host = split_url(url).hostname.lower()
    # host names MUST be domain names or a loopback interface; IP addresses other than
    # 127.0.0.1 and [::1] are not allowed (a port MAY be given)
    if is_ip(host) and not is_loopback(host):
        return "The client_id must use a domain name; the only IP addresses allowed are 127.0.0.1 and [::1]."
    if not is_ip(host) and not DOMAIN_RE.fullmatch(host):
        return "The client_id's host name is not a valid domain name."
    return None


def redirect_uri_problem(url):
    """Why `url` cannot be a redirect_uri at all (RFC 6749 §3.1.2; S31), or None."""
    parts = split_url(url)
    # an absolute URI that can be read
    if not parts or len(url) > 2048:
        return "The redirect_uri is not a URL that can be read."
    # web applications redirect to http(s); anything else (javascript:, data:) is refused
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "The redirect_uri must be an absolute https:// or http:// URL."
    # MUST NOT include a fragment component (SEC12)
    if "#" in url:
        return "The redirect_uri must not contain a fragment (the part after '#')."
    # no user name or password: "https://app.example@evil.example/" goes to evil.example (SEC11)
    if parts.username is not None or parts.password is not None:
        return "The redirect_uri must not contain a user name or password (the part before '@')."
    return None


# ---------------------------------------------------------------------------------------------
#  Client Information Discovery
# ---------------------------------------------------------------------------------------------
#  What the server learns about an app from its client_id URL [IA §4.2; CIMD]: a JSON client
#  metadata document, or an HTML page with an h-app and rel=redirect_uri links.  Every outbound
#  request of the server (client_id, logo, `me`, jwks, webhooks) goes through GuardedSession,
#  which refuses special-use addresses on every hop and bounds time and size (SEC29–SEC38); services
#  the operator configured (GitHub, Okta, webhooks) through its `trusting` copies.


class FetchError(Exception):
    """An outbound request that failed or was refused; the message is written for a person to read."""


class FetchBusy(FetchError):
    """A fetch not even tried: as many as allowed are under way.  Says nothing about the site."""


FETCH_BUSY = ("this server is already fetching as many pages as it allows at once, so it was not read right "
              "now; try again in a moment")


# A request thread never waits long on a site a request named (finding 4 of issue 15): app.http, which
# fetches client_ids, logos and profile pages, ends a whole fetch after FETCH_DEADLINE seconds, runs at
# most half of `[server] threads` fetches at once and FETCHES_PER_HOST to one host, and refuses a fetch
# that finds no free slot within FETCH_SLOT_WAIT seconds.  A failed client_id is not fetched again for
# FETCH_FAILURE_TTL seconds.
FETCH_DEADLINE = 3
FETCHES_PER_HOST = 1
FETCH_SLOT_WAIT = 0.1
FETCH_FAILURE_TTL = 60


class FetchSlots:
    """At most `total` fetches at once, `per_host` of them to one host; FetchBusy when none is free
    within `wait` seconds, so fetches can never take every worker thread."""

    def __init__(self, total, per_host=FETCHES_PER_HOST, wait=FETCH_SLOT_WAIT):
        self.total, self.per_host, self.wait = total, per_host, wait
        self.busy, self.changed = {}, threading.Condition()  # host -> fetches under way

    @contextlib.contextmanager
    def taken(self, host, per_host=None):
        """One slot for a fetch from `host` while the block runs (`per_host` instead of the usual limit)."""
        if getattr(_fetcher_thread, "pool", None) is not None:  # a Fetchers thread: the pool is its bound
            yield
            return
        per_host = self.per_host if per_host is None else per_host
        with self.changed:
            if not self.changed.wait_for(lambda: sum(self.busy.values()) < self.total
                                         and self.busy.get(host, 0) < per_host, self.wait):
                raise FetchBusy(FETCH_BUSY)
            self.busy[host] = self.busy.get(host, 0) + 1
        try:
            yield
        finally:
            with self.changed:
                self.busy[host] -= 1
                if not self.busy[host]:
                    del self.busy[host]
                self.changed.notify_all()


class ServiceSlots:
    """The FetchSlots `slots` as calls to a service the operator configured (GitHub, Okta) take them: they
    count against the same total, under the service's `name` whatever the host, and may take all of it,
    since one service's callers are many people, where one site named in requests gets one slot.  Give
    it as `slots=` to `GuardedSession.trusting`."""

    def __init__(self, slots, name):
        self.slots, self.name = slots, name

    def taken(self, host):
        return self.slots.taken(self.name, per_host=self.slots.total)


class FetchPending(Exception):
    """The job for `key` is under way in the Fetchers and was not done within the time the caller gave."""

    def __init__(self, key):
        super().__init__(f"still fetching {key!r}")
        self.key = key


# No request thread waits on a third party (issue 17): what a request needs fetched is done by a few
# threads of the app's own, FETCHERS of them, with at most FETCH_QUEUE jobs waiting.  A request waits
# at most a short bound for the answer and otherwise answers at once (the authorization endpoint with a
# page that reloads until the app's details are in); a finished job's answer is kept FETCH_ANSWER_KEEP
# seconds for the request that comes back for it.
FETCHERS = 2
FETCH_QUEUE = 32
FETCH_ANSWER_KEEP = 30
FETCHER_IDLE = 10  # seconds a fetcher thread with nothing to do waits before it ends
_fetcher_thread = threading.local()  # .pool is set in the threads of a Fetchers


class Fetchers:
    """The app's pool of fetcher threads: one job per key at a time (a second request for the same key
    shares it).  A thread is started when a job needs one (so none exists before a fork) and ends after
    `idle` seconds without work, or once `stop` is called and the queue is empty."""

    def __init__(self, size=FETCHERS, queue=FETCH_QUEUE, keep=FETCH_ANSWER_KEEP, clock=None,
                 name="indieauth-fetcher", idle=FETCHER_IDLE):
        self.size, self.queue, self.name, self.idle = size, queue, name, idle
        self.keep = datetime.timedelta(seconds=keep)
        self.clock = clock or utcnow
        self.changed = threading.Condition()
        self.waiting = collections.deque()  # (key, job, future) not started yet
        self.running, self.answers, self.threads, self.stopped = {}, {}, [], False

    def submit(self, key, job):
        """The concurrent.futures.Future of `job()` for `key`: the job under way, one answered less than
        `keep` seconds ago, or a new one; FetchBusy when `queue` jobs are already waiting."""
        with self.changed:
            answered = self.answers.get(key)
            if answered is not None and answered[0] > self.clock():
                return answered[1]
            if key in self.running:
                return self.running[key]
            if self.stopped or len(self.waiting) >= self.queue:
                raise FetchBusy(FETCH_BUSY)
            import concurrent.futures  # here: a CGI request that fetches nothing does not pay for importing it
            future = self.running[key] = concurrent.futures.Future()
            self.waiting.append((key, job, future))
            if len(self.threads) < min(self.size, len(self.running)):
                thread = threading.Thread(target=self._work, name=f"{self.name}-{len(self.threads) + 1}",
                                          daemon=True)
                self.threads.append(thread)
                thread.start()
            self.changed.notify()
        return future

    def answer(self, key, job, wait):
        """job()'s answer for `key` (its exception raised), if it is there within `wait` seconds;
        FetchPending when it is not; FetchBusy when it could not even be queued.  A job that waits its
        turn behind others is not waited for: its caller is told at once.  An answer given is no longer
        kept: it was kept only for a caller that had to come back for it."""
        import concurrent.futures
        future = self.submit(key, job)
        with self.changed:
            if len(self.running) > self.size:  # more jobs than threads: this one may wait for a slow one
                wait = 0
        if not concurrent.futures.wait((future,), wait).done:
            raise FetchPending(key)
        with self.changed:
            if self.answers.get(key, (None, None))[1] is future:
                del self.answers[key]
        return future.result()

    def _work(self):
        _fetcher_thread.pool = self
        while True:
            with self.changed:
                self.changed.wait_for(lambda: self.waiting or self.stopped, self.idle)
                if not self.waiting:  # stopped, or idle for long enough
                    self.threads.remove(threading.current_thread())
                    return
                key, job, future = self.waiting.popleft()
            try:
                result, error = job(), None
            except Exception as failure:  # the caller re-raises it; logged here too, in case none is left
                log.warning("fetching %r failed: %r", key, failure)
                result, error = None, failure
            with self.changed:  # kept before it is told, so that a caller told can take it back out
                del self.running[key]
                now = self.clock()
                for old in [k for k, (until, _) in self.answers.items() if until <= now]:
                    del self.answers[old]
                if len(self.answers) >= 4 * self.queue:
                    del self.answers[next(iter(self.answers))]  # the oldest
                self.answers[key] = (now + self.keep, future)
            if error is None:
                future.set_result(result)
            else:
                future.set_exception(error)

    def stop(self):
        """Take no new job; the threads end once the jobs already queued are done."""
        with self.changed:
            self.stopped = True
            self.changed.notify_all()

    def join(self):
        """Wait until every thread has ended (call `stop` first)."""
        for thread in list(self.threads):
            thread.join()


# Special-use networks [RFC 6890] refused on top of what `ipaddress` calls non-global: Python's
# own tables differ between versions and count NAT64 (64:ff9b::/96) or 192.0.0.9 as global.
SPECIAL_USE_NETWORKS = tuple(ipaddress.ip_network(net) for net in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
    "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4", "::/128", "::1/128",
    "::ffff:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001::/23", "2001:db8::/32",
    "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8"))


def address_kind(ip):
    """'' when `ip` is globally routable; otherwise what it is ('loopback', 'private', …) (SEC30)."""
    ip = ipaddress.ip_address(ip)
    embedded = ip.version == 6 and (ip.ipv4_mapped or ip.sixtofour)  # ::ffff:127.0.0.1, 2002:7f00:1::
    if embedded and address_kind(embedded):
        return address_kind(embedded)
    for kind in ("unspecified", "loopback", "link_local", "multicast", "private", "reserved"):
        if getattr(ip, "is_" + kind):
            return kind.replace("_", "-")
    return "special-use" if not ip.is_global or any(ip in net for net in SPECIAL_USE_NETWORKS) else ""


def system_resolver(host, port):
    """The addresses `host` resolves to, in the system resolver's order of preference."""
    return list(dict.fromkeys(info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)))


def origin(url):
    """(scheme, host, port) of `url`, the scheme's default port filled in; port -1 when invalid."""
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    return parts.scheme, parts.hostname, port or {"http": 80, "https": 443}.get(parts.scheme)


def media_type(headers):
    """'application/json' for `Content-Type: Application/JSON; charset=utf-8`."""
    return headers.get("Content-Type", "").split(";")[0].strip().lower()


@dataclasses.dataclass
class FetchResponse:
    """A response read to its end; `links` holds the Link header's (absolute URL, rel tokens) pairs."""
    url: str
    status: int
    headers: object
    content: bytes
    links: tuple = ()


def header_links(url, headers):
    """(absolute URL, lowercased rel tokens) of each link in the Link header, resolved against `url`."""
    import requests
    return tuple((urllib.parse.urljoin(url, link["url"]), tuple(link.get("rel", "").lower().split()))
                 for link in requests.utils.parse_header_links(headers.get("Link", "")))


class _Deadline:
    """Shuts down a fetch's sockets when its time is up, so a blocked read ends at once: a server that
    drips a byte a second, in its headers or its body, cannot hold a worker (SEC33)."""

    def __init__(self, seconds):
        self.expired, self.sockets = False, []
        self.timer = threading.Timer(seconds, self.expire)
        self.timer.daemon = True
        self.timer.start()

    def watch(self, sock):
        self.sockets.append(sock)
        if self.expired:
            self.expire()

    def expire(self):
        self.expired = True
        for sock in self.sockets:
            try:  # socket.socket's own shutdown, also on a TLS socket: the reader sees end-of-file
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except OSError:
                pass


class _Watched:
    """A urllib3 connection that hands its sockets to the deadline: the TCP one as soon as it is
    connected (covering the TLS handshake), then the TLS one that replaces it."""

    def __init__(self, *args, deadline, **kwargs):
        super().__init__(*args, **kwargs)
        self.deadline = deadline

    def _new_conn(self):
        sock = super()._new_conn()
        self.deadline.watch(sock)
        return sock

    def connect(self):
        super().connect()
        self.deadline.watch(self.sock)


@functools.lru_cache(maxsize=None)
def _watched_connections():
    """(HTTP, HTTPS) urllib3 connection classes that are _Watched.  requests and urllib3 are imported at
    the first fetch, not with the core: a CGI request that fetches nothing starts ~100 ms sooner."""
    import urllib3.connection

    class _WatchedHTTP(_Watched, urllib3.connection.HTTPConnection):
        pass

    class _WatchedHTTPS(_Watched, urllib3.connection.HTTPSConnection):
        pass
    return _WatchedHTTP, _WatchedHTTPS


class GuardedSession:
    """The one HTTP client of the server.  On every hop the host is resolved once, by `resolver(host,
    port)`, and refused unless each address is globally routable or inside `fetch_allow` (or the hop
    goes to one of the `trusted` origins, see `trusting`); the connection goes to the checked address.
    `timeout` is (connect, read) seconds, `deadline` bounds a whole fetch, `max_bytes` its body, `slots`
    (a FetchSlots) how many fetches run at once; every failure is a FetchError (SEC29–SEC38)."""

    def __init__(self, fetch_allow=(), resolver=None, timeout=(3.05, 5), max_bytes=1024 * 1024,
                 max_redirects=3, user_agent="indieauth", deadline=10, verify=True, slots=None, trusted=()):
        self.fetch_allow = tuple(ipaddress.ip_network(net, strict=False) for net in fetch_allow)
        self.resolver = resolver or system_resolver
        self.connect_timeout, self.read_timeout = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        self.max_bytes, self.max_redirects, self.deadline = max_bytes, max_redirects, deadline
        self.verify, self.user_agent, self.slots = verify, user_agent, slots
        self.trusted = frozenset(origin(url) for url in trusted)

    def trusting(self, *urls, **changes):
        """A copy that may also reach the origins of `urls` on any address, loopback and private ones
        included: for services the operator configured (an API's base URL, a webhook receiver, this
        server's own base_url), never for a URL that came with a request.  It keeps the resolver and
        fetch_allow, takes no slots, and `changes` set its timeout, deadline, max_bytes, user_agent, …"""
        settings = dict(fetch_allow=self.fetch_allow, resolver=self.resolver, max_bytes=self.max_bytes,
                        timeout=(self.connect_timeout, self.read_timeout), max_redirects=self.max_redirects,
                        user_agent=self.user_agent, deadline=self.deadline, verify=self.verify)
        copy = GuardedSession(**dict(settings, **changes))
        copy.trusted = self.trusted | {origin(url) for url in urls}
        return copy

    @functools.cached_property
    def session(self):
        """A requests.Session that prepares requests (json=, data=, auth=), never sends them."""
        import requests
        session = requests.Session()
        session.trust_env = False  # no .netrc credentials from the environment
        session.headers.update({"User-Agent": self.user_agent, "Accept-Encoding": "identity"})
        return session

    @functools.cached_property
    def ca_certs(self):
        import requests
        return requests.certs.where() if self.verify is True else self.verify  # a CA bundle path in tests

    @functools.cached_property
    def timeout(self):
        import urllib3
        return urllib3.Timeout(connect=self.connect_timeout, read=self.read_timeout)

    def get(self, url, accept=None, max_bytes=None, follow_redirects=True, **kwargs):
        """GET `url` (`accept` is the Accept header); see `request`."""
        return self.request("GET", url, accept, max_bytes, follow_redirects, **kwargs)

    def request(self, method, url, accept=None, max_bytes=None, follow_redirects=True, **kwargs):
        """The FetchResponse for `url`.  A GET follows up to `max_redirects` redirects (only same-origin
        ones when follow_redirects="same-origin"); `max_bytes` may be a function of the headers."""
        headers = dict(kwargs.pop("headers", None) or {}, **({"Accept": accept} if accept else {}))
        host = (urllib.parse.urlsplit(url).hostname or "") if isinstance(url, str) else ""
        with self.slots.taken(host) if self.slots else contextlib.nullcontext():
            return self._fetch(method, url, headers, max_bytes, follow_redirects, **kwargs)

    def _fetch(self, method, url, headers, max_bytes, follow_redirects, **kwargs):
        """`request` once it holds a slot: every hop, within one deadline."""
        import requests
        deadline = _Deadline(self.deadline)
        try:
            prepared = self.session.prepare_request(requests.Request(method, url, headers=headers, **kwargs))
            for _ in range(self.max_redirects + 1):
                response = self._send(prepared, max_bytes or self.max_bytes, deadline)
                location = response.headers.get("Location")
                if not (follow_redirects and method == "GET" and location
                        and response.status in (301, 302, 303, 307, 308)):
                    return response
                prepared = self._redirect(prepared, location, follow_redirects)
        except (requests.RequestException, ValueError) as error:  # preparing a malformed URL
            raise FetchError(f"not a URL that can be fetched ({error})") from None
        finally:
            deadline.timer.cancel()
        raise FetchError(f"more than {self.max_redirects} redirects")

    def checked_address(self, host, port, trusted=False):
        """The address to connect to for `host`, resolved once; FetchError when any address it resolves
        to is neither globally routable nor inside `fetch_allow`, unless `trusted` (SEC30; CIMD §SSRF)."""
        try:
            answers = [host] if is_ip(host) else list(self.resolver(host, port))
            addresses = [ipaddress.ip_address(answer) for answer in answers]
        except (OSError, ValueError, UnicodeError):
            addresses = []
        if not addresses:
            raise FetchError(f"{host} could not be resolved")
        for answer, ip in zip(answers, addresses):
            kind = "" if trusted or any(ip in net for net in self.fetch_allow) else address_kind(ip)
            if kind:
                article = "an" if kind[0] in "aeiou" else "a"
                raise FetchError(f"{host} resolves to {article} {kind} address ({answer}); not fetched")
        return str(addresses[0])

    def _send(self, prepared, max_bytes, deadline):
        """One hop: check the host's addresses, connect to the checked one, read at most `max_bytes`."""
        scheme, host, port = origin(prepared.url)
        # SEC38: only http and https; file:, ftp:, gopher:, … are refused.
        if scheme not in ("http", "https"):
            raise FetchError(f"{scheme or 'relative'} URLs are not fetched, only http: and https:")
        if not host or port == -1:
            raise FetchError(f"{prepared.url} has no valid host and port")
        # SEC31: the pool connects to the checked IP, never resolving the name again; the server still
        # sees the name in the Host header, in TLS SNI and in the certificate check.
        import urllib3
        ip = self.checked_address(host, port, trusted=(scheme, host, port) in self.trusted)
        if scheme == "https":
            pool = urllib3.HTTPSConnectionPool(ip, port, server_hostname=host, assert_hostname=host,
                                               cert_reqs="CERT_REQUIRED", ca_certs=self.ca_certs,
                                               deadline=deadline)
        else:
            pool = urllib3.HTTPConnectionPool(ip, port, deadline=deadline)
        pool.ConnectionCls = _watched_connections()[scheme == "https"]
        headers = dict(prepared.headers, Host=urllib.parse.urlsplit(prepared.url).netloc.rpartition("@")[2])
        response = None
        try:
            response = pool.urlopen(prepared.method, prepared.path_url, body=prepared.body,
                                    headers=headers, timeout=self.timeout, redirect=False, retries=False,
                                    preload_content=False)
            content = self._read(response, max_bytes)
        except (urllib3.exceptions.HTTPError, OSError, ValueError) as error:
            raise self._failure(error, host, deadline) from None
        finally:
            if response is not None:
                response.close()
            pool.close()
        if deadline.expired:  # a body cut short by the deadline must not pass for a whole one
            raise FetchError(f"timed out after {self.deadline:g} s")
        return FetchResponse(prepared.url, response.status, response.headers, content,
                             header_links(prepared.url, response.headers))

    def _read(self, response, max_bytes):
        """The body, abandoned as soon as it is known to be larger than `max_bytes` (SEC33)."""
        limit = max_bytes(response.headers) if callable(max_bytes) else max_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise FetchError(f"response larger than {limit} bytes")
        body = bytearray()
        for chunk in response.stream(16384):
            body += chunk
            if len(body) > limit:
                raise FetchError(f"response larger than {limit} bytes")
        return bytes(body)

    def _failure(self, error, host, deadline):
        """A FetchError saying in plain words why talking to `host` failed."""
        import urllib3
        if deadline.expired:
            return FetchError(f"timed out after {self.deadline:g} s")
        if isinstance(error, urllib3.exceptions.ConnectTimeoutError):  # also connection refused
            return FetchError(f"could not connect to {host}")
        if isinstance(error, (urllib3.exceptions.TimeoutError, TimeoutError)):
            return FetchError(f"timed out after {self.timeout.read_timeout:g} s")
        if isinstance(error, urllib3.exceptions.SSLError):
            return FetchError(f"the TLS connection to {host} failed (is its certificate for this name?)")
        return FetchError(f"could not fetch from {host} ({error.__class__.__name__})")

    def _redirect(self, prepared, location, follow_redirects):
        """The GET of the next hop, whose address `_send` checks afresh (SEC32)."""
        target = urllib.parse.urljoin(prepared.url, location)
        if follow_redirects == "same-origin" and origin(target) != origin(prepared.url):
            raise FetchError(f"{prepared.url} redirects to another site ({target}); not followed")
        following = prepared.copy()
        following.prepare_url(target, None)
        if origin(target) != origin(prepared.url):  # credentials stay with the site they were meant for
            following.headers.pop("Authorization", None)
            following.headers.pop("Cookie", None)
        return following


@dataclasses.dataclass(frozen=True)
class ClientInfo:
    """What the server knows about an app (S23).  `fetched` is False and `error` says why when nothing
    could be read; `source` is "json", "h-app" or ""; `warnings` lists what was ignored and why."""
    client_id: str
    name: str = ""
    logo: str = ""
    url: str = ""
    redirect_uris: tuple = ()
    fetched: bool = False
    error: str = ""
    source: str = ""
    warnings: tuple = ()

    @property
    def host(self):
        return urllib.parse.urlsplit(self.client_id).netloc

    @property
    def title(self):
        """What the pages call the app: the name it published, else its host."""
        return self.name or self.host

    @property
    def local(self):
        """True for an app on the person's own computer (a loopback client_id): never fetched (S24, SEC29)."""
        return is_loopback_host(urllib.parse.urlsplit(self.client_id).hostname)


JSON_MAX_BYTES = 5 * 1024  # CIMD §Maximum Response Size
HTML_MAX_BYTES = 256 * 1024
CLIENT_ACCEPT = "application/json, text/html;q=0.9, */*;q=0.1"


def is_json(media):
    return media == "application/json" or media.endswith("+json")


def is_loopback_host(host):
    """True for 127.0.0.1, ::1, localhost and *.localhost: names of this very machine (S24)."""
    host = (host or "").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    return is_ip(host) and ipaddress.ip_address(host).is_loopback


def is_absolute_url(value, schemes=None):
    """True for a string with a scheme (one of `schemes`, if given) and, for http(s), a host."""
    try:
        parts = urllib.parse.urlsplit(value) if isinstance(value, str) else None
    except ValueError:
        return False
    return bool(parts and parts.scheme and (schemes is None or parts.scheme in schemes)
                and (parts.netloc or parts.scheme not in ("http", "https")))


def fetch_client_info(http, client_id, cache=None):
    """ClientInfo for `client_id`, from `cache` or fetched through the guard; never raises.  A failure is
    a ClientInfo with fetched=False and the reason in `error`; it is never cached as metadata (SEC34), but
    holds back fetching again for the cache's failure_ttl (issue 15), unless the fetch was not even tried."""
    # S24/SEC29: a loopback client_id is never fetched.
    if is_loopback_host(urllib.parse.urlsplit(client_id).hostname):
        return ClientInfo(client_id, error="loopback client: not fetched")
    cached = cache.get(client_id) or cache.recent_failure(client_id) if cache is not None else None
    if cached:
        return cached
    try:
        # S25/SEC32 (policy): IA "fetches", following redirects; CIMD-01 MUST NOT follow them.  Only
        # same-origin redirects (/app → /app/) are followed, so a client_id can never point the server
        # at another host; a cross-origin redirect is a failed fetch.
        response = http.get(client_id, accept=CLIENT_ACCEPT, follow_redirects="same-origin",
                            max_bytes=lambda h: JSON_MAX_BYTES if is_json(media_type(h)) else HTML_MAX_BYTES)
        # S25/SEC34: CIMD: a successful fetch is a 200; anything else (3xx, 404, 500) is an error.
        if response.status != 200:
            raise FetchError(f"HTTP {response.status}")
        # S28: the parser is chosen by Content-Type.
        parse = client_from_metadata if is_json(media_type(response.headers)) else client_from_html
        client = parse(client_id, response)
    except FetchBusy as error:
        return ClientInfo(client_id, error=str(error))
    except FetchError as error:
        failed = ClientInfo(client_id, error=str(error))
        if cache is not None:
            cache.put_failure(failed)
        return failed
    if cache is not None:
        cache.put(client, cache_max_age(response.headers))
    return client


def client_from_metadata(client_id, response):
    """ClientInfo from a JSON client metadata document, or FetchError naming the rule it breaks (S25)."""
    try:
        doc = json.loads(response.content)
    except ValueError:
        raise FetchError("the client metadata document is not valid JSON") from None
    if not isinstance(doc, dict):
        raise FetchError("the client metadata document is not a JSON object")
    # S25/SEC35: its client_id equals the URL it was fetched from, by simple string comparison.
    if doc.get("client_id") != client_id:
        raise FetchError(f"the client metadata document names client_id {doc.get('client_id')!r}, "
                         f"not {client_id!r}")
    # SEC36: no authentication method based on a shared secret (client_secret_basic, _post, _jwt, …).
    if str(doc.get("token_endpoint_auth_method", "")).startswith("client_secret"):
        raise FetchError(f"token_endpoint_auth_method {doc['token_endpoint_auth_method']} needs a shared "
                         "secret, which a client metadata document must not use")
    # SEC36: no client_secret or client_secret_expires_at.
    if "client_secret" in doc or "client_secret_expires_at" in doc:
        raise FetchError("the client metadata document contains a client_secret")
    # S25: redirect_uris is a list of absolute URLs; nothing is resolved.
    redirect_uris = doc.get("redirect_uris", [])
    if not isinstance(redirect_uris, list) or not all(is_absolute_url(uri) for uri in redirect_uris):
        raise FetchError("redirect_uris in the client metadata document must be a list of absolute URLs")
    name, client_uri, logo = (doc.get(key) if isinstance(doc.get(key), str) else ""
                              for key in ("client_name", "client_uri", "logo_uri"))
    warnings = []
    # IA §4.2.1: client_uri MUST be a prefix of client_id; otherwise it is not shown.
    if client_uri and not client_id.startswith(client_uri):
        warnings.append(f"client_uri {client_uri} is ignored: it is not a prefix of the client_id")
        client_uri = ""
    if logo and not is_absolute_url(logo, ("http", "https")):
        warnings.append(f"logo_uri {logo} is ignored: it is not an absolute http(s) URL")
        logo = ""
    return ClientInfo(client_id, name=name, logo=logo, url=client_uri, redirect_uris=tuple(redirect_uris),
                      fetched=True, source="json", warnings=tuple(warnings))


def _mf2_apps(items):
    """Every h-app and h-x-app among `items` and their children, in document order."""
    for item in items:
        if {"h-app", "h-x-app"} & set(item.get("type", [])):
            yield item
        yield from _mf2_apps(item.get("children", []))


def _mf2_text(properties, *names):
    """The first value of the first of `names` present, as a string ('' when there is none)."""
    value = next((properties[name][0] for name in names if properties.get(name)), "")
    value = value.get("value", "") if isinstance(value, dict) else value
    return value if isinstance(value, str) else ""


def client_from_html(client_id, response):
    """ClientInfo from the client_id page: name and logo of the first h-app or h-x-app whose url is the
    client_id (S26), redirect URIs from rel=redirect_uri in the Link header and <link> elements (S27)."""
    redirect_uris = [url for url, rels in response.links if "redirect_uri" in rels]
    properties = {}
    if media_type(response.headers) in ("text/html", "application/xhtml+xml"):
        charset = re.search(r"charset=[\"']?([\w.:-]+)", response.headers.get("Content-Type", ""), re.I)
        import bs4  # imported when first needed: it is slow to import, and CGI starts a process per request
        import mf2py
        soup = bs4.BeautifulSoup(response.content, "html.parser", from_encoding=charset and charset.group(1))
        redirect_uris += [urllib.parse.urljoin(response.url, link["href"])
                          for link in soup.find_all("link", href=True)
                          if "redirect_uri" in [rel.lower() for rel in link.get("rel", [])]]
        # doc= always: given only a url, mf2py would fetch the page itself, past the guard.
        apps = (app["properties"] for app in _mf2_apps(mf2py.parse(doc=soup, url=response.url)["items"]))
        properties = next((props for props in apps if client_id in props.get("url", [])), {})
    logo = _mf2_text(properties, "logo", "photo")
    return ClientInfo(client_id, name=_mf2_text(properties, "name"), url=client_id if properties else "",
                      logo=logo if is_absolute_url(logo, ("http", "https")) else "",
                      redirect_uris=tuple(dict.fromkeys(redirect_uris)), fetched=True,
                      source="h-app" if properties else "")


def cache_max_age(headers):
    """Seconds from `Cache-Control: max-age=N` (0 for no-store or no-cache); None when it says neither."""
    value = headers.get("Cache-Control", "").lower()
    if "no-store" in value or "no-cache" in value:
        return 0
    match = re.search(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", value)
    return int(match.group(1)) if match else None


class ClientCache:
    """Successfully fetched ClientInfo, kept in this process for the response's max-age held within
    [min_ttl, max_ttl] seconds, else `ttl` (CIMD §Metadata Caching).  `clock()` returns a datetime.

    SEC34 says errors are not cached; issue 15 (finding 4) decides that a failed fetch is remembered
    apart, for `failure_ttl` seconds, only so that a failing client_id is not fetched on every request:
    `get` never returns it, and it is never taken for what the client publishes."""

    def __init__(self, ttl=600, clock=None, min_ttl=60, max_ttl=86400, max_entries=1000,
                 failure_ttl=FETCH_FAILURE_TTL):
        self.ttl, self.min_ttl, self.max_ttl, self.max_entries = ttl, min_ttl, max_ttl, max_entries
        self.failure_ttl = failure_ttl
        self.clock = clock or (lambda: datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None))
        self.entries, self.failures, self.lock = {}, {}, threading.Lock()

    def _live(self, table, client_id):
        with self.lock:
            expires, client = table.get(client_id, (None, None))
            if client and self.clock() >= expires:
                del table[client_id]
                return None
            return client

    def _keep(self, table, client, seconds):
        with self.lock:
            table.pop(client.client_id, None)
            if len(table) >= self.max_entries:
                del table[next(iter(table))]  # the oldest
            table[client.client_id] = (self.clock() + datetime.timedelta(seconds=seconds), client)

    def get(self, client_id):
        """The cached ClientInfo for `client_id`, or None when there is none or it has expired."""
        return self._live(self.entries, client_id)

    def put(self, client, max_age=None):
        """Keep `client` unless its fetch failed (SEC34: an error is never kept as metadata)."""
        if not client.fetched or client.error:
            return
        self._keep(self.entries, client, self.ttl if max_age is None else min(max(max_age, self.min_ttl),
                                                                                self.max_ttl))

    def recent_failure(self, client_id):
        """The failed ClientInfo of a fetch of `client_id` less than `failure_ttl` seconds ago, or None."""
        return self._live(self.failures, client_id)

    def put_failure(self, client):
        """Remember that fetching `client.client_id` failed, for `failure_ttl` seconds."""
        if client.error and not client.fetched:
            self._keep(self.failures, client, self.failure_ttl)


DISCOVERY_RELS = ("indieauth-metadata", "authorization_endpoint", "token_endpoint")


def profile_discovery(http, me, rels=DISCOVERY_RELS):
    """{rel: absolute URL} of the IndieAuth links (`rels`) a profile page publishes (IndieAuth §4.1): the
    first of each rel, Link header before <link> elements, as clients read them; FetchError if unreadable."""
    response = http.get(me, accept="text/html", max_bytes=HTML_MAX_BYTES)
    if response.status != 200:
        raise FetchError(f"HTTP {response.status}")
    found = {}
    links = list(response.links)
    if media_type(response.headers) in ("text/html", "application/xhtml+xml"):
        import bs4
        soup = bs4.BeautifulSoup(response.content, "html.parser")
        links += [(urllib.parse.urljoin(response.url, tag["href"]), tuple(r.lower() for r in tag.get("rel", [])))
                  for tag in soup.find_all(["link", "a"], href=True)]
    for url, link_rels in links:
        for rel in link_rels:
            found.setdefault(rel, url)
    return {rel: found[rel] for rel in rels if rel in found}


LOGO_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")  # never SVG: it can carry script
LOGO_MAX_BYTES = 256 * 1024


def fetch_logo(http, url):
    """(content type, bytes) of a client's logo, fetched through the guard (SEC26, SEC37); FetchError."""
    response = http.get(url, accept=", ".join(LOGO_TYPES), max_bytes=LOGO_MAX_BYTES)
    kind = media_type(response.headers)
    if response.status != 200 or kind not in LOGO_TYPES:
        raise FetchError(f"the logo is not a PNG, JPEG, GIF or WebP image (HTTP {response.status}, {kind})")
    return kind, response.content


def _loopback_portless(url):
    """`url` without its port when its host is the loopback IP 127.0.0.1 or [::1] (S33; RFC 8252 §7.3)."""
    try:
        parts = urllib.parse.urlsplit(url)
        if parts.hostname not in ("127.0.0.1", "::1") or parts.port is None:
            return url
    except ValueError:
        return url
    start = url.index("//") + 2
    return url[:start] + parts.netloc.rpartition(":")[0] + url[start + len(parts.netloc):]


def on_client_origin(client_id, redirect_uri):
    """Whether `redirect_uri` is on the client_id's own origin (scheme, host and port; S29), any port of a
    loopback IP counting as the client_id's (S33; RFC 8252 §7.3).  The redirect check and the consent
    screen's warning both ask this."""
    return origin(_loopback_portless(redirect_uri)) == origin(_loopback_portless(client_id))


def redirect_uri_allowed(client, client_id, redirect_uri):
    """(True, "") when the app may use `redirect_uri`; else (False, a sentence for the error page saying
    what the app's developer must publish) (S29–S33, SEC10, SEC11, SEC18)."""
    publish = (f'The app\'s developer must publish <link rel="redirect_uri" href="{redirect_uri}"> on the '
               "client_id page or list it in redirect_uris of the client metadata document.")
    published = {_loopback_portless(uri) for uri in client.redirect_uris}
    # S31: an absolute URL.
    if not is_absolute_url(redirect_uri):
        return False, f"The redirect_uri {redirect_uri!r} is not an absolute URL."
    # S31/SEC12: no fragment.
    if "#" in redirect_uri:
        return False, f"The redirect_uri {redirect_uri} must not contain a fragment (#)."
    # S30/SEC11: a published redirect URI matches by exact string comparison; S33/SEC18: any loopback port.
    if _loopback_portless(redirect_uri) in published:
        return True, ""
    # S32 (policy): once the app publishes redirect URIs, only those, even on its own origin.
    if published:
        return False, f"{redirect_uri} is not among the redirect URIs that {client_id} publishes. {publish}"
    # S29: same scheme, host and port as the client_id needs no registration (S33: any loopback port).
    if on_client_origin(client_id, redirect_uri):
        return True, ""
    # S30/SEC10: another origin must be published.
    unread = f" ({client_id} could not be read: {client.error}.)" if client.error else ""
    return False, (f"{redirect_uri} is on another site than the app ({client_id}) and the app does not "
                   f"publish it.{unread} {publish}")


# ---------------------------------------------------------------------------------------------
#  Errors (RFC 6749 §4.1.2.1, §5.2; RFC 6750 §3.1; RFC 7009 §2.2.1)
# ---------------------------------------------------------------------------------------------


class OAuthError(Exception):
    """An error the client is told about as `{"error", "error_description"}` (or redirected with).

    `challenge`, when set, is sent as the WWW-Authenticate header."""

    error = "invalid_request"
    status = 400
    challenge = None
    retry_after = None

    def __init__(self, description=""):
        super().__init__(description)
        self.description = description


class InvalidRequest(OAuthError):
    """RFC 6749 §5.2: a parameter is missing, repeated, malformed or unsupported."""


class InvalidClient(OAuthError):
    """RFC 6749 §5.2: client authentication failed (401)."""
    error, status, challenge = "invalid_client", 401, 'Basic realm="indieauth"'


class SlowDown(OAuthError):
    """Too many failed attempts from this address: 429 with Retry-After (seconds).  RFC 6749 has no such
    error; `slow_down` is what RFC 8628 §3.5 calls a client that must wait before it tries again."""
    error, status = "slow_down", 429

    def __init__(self, retry_after):
        super().__init__(f"Too many failed attempts from this address: try again in {describe_wait(retry_after)}.")
        self.retry_after = retry_after

    @classmethod
    def now(cls, retry_after):
        """Refuse the request at once (a `refuse` for IndieAuth.opened_by)."""
        raise cls(retry_after)


class PollingTooFast(SlowDown):
    """RFC 8628 §3.5: a device polled the token endpoint sooner than its interval allows; that interval is now
    5 seconds longer, and Retry-After says it.  400, as the token endpoint's errors are (RFC 6749 §5.2), not
    the throttle's 429: a device keeps polling after it, a guesser refused by the throttle should not."""
    status = 400

    def __init__(self, interval):
        OAuthError.__init__(self, f"Polling too fast: wait at least {interval} seconds between polls.")
        self.retry_after = interval


class AuthorizationPending(OAuthError):
    """RFC 8628 §3.5: the person has not answered the user_code yet; poll again after the interval."""
    error = "authorization_pending"


class ExpiredToken(OAuthError):
    """RFC 8628 §3.5: the device_code expired before it was used; start a new device authorization."""
    error = "expired_token"


class TemporarilyUnavailable(OAuthError):
    """The server cannot answer this request right now (RFC 6749 §4.1.2.1); 503, try again in a second."""
    error, status, retry_after = "temporarily_unavailable", 503, 1


class InvalidGrant(OAuthError):
    """RFC 6749 §5.2: the code or refresh token is invalid, expired, revoked, or not for this client."""
    error = "invalid_grant"


class UnsupportedGrantType(OAuthError):
    """RFC 6749 §5.2: this server does not do that grant_type."""
    error = "unsupported_grant_type"


class InvalidScope(OAuthError):
    """RFC 6749 §4.1.2.1, §5.2: the scope is malformed or wider than what was granted."""
    error = "invalid_scope"


class InvalidTarget(OAuthError):
    """RFC 8707 §2: a `resource` that is not an absolute URI without a fragment, or one the grant does not
    cover (a token request naming another resource than the authorization request did)."""
    error = "invalid_target"


class AccessDenied(OAuthError):
    """RFC 6749 §4.1.2.1: the person said no."""
    error = "access_denied"


class UnsupportedResponseType(OAuthError):
    """RFC 6749 §4.1.2.1: a response_type other than code (or the legacy id)."""
    error = "unsupported_response_type"


class InvalidToken(OAuthError):
    """RFC 6750 §3.1: the access token is unknown, expired or revoked (401)."""
    error, status, challenge = "invalid_token", 401, 'Bearer realm="indieauth", error="invalid_token"'


class InsufficientScope(OAuthError):
    """RFC 6750 §3.1: the token lacks the scope this resource needs (403)."""
    error, status, challenge = "insufficient_scope", 403, 'Bearer realm="indieauth", error="insufficient_scope"'


class NoCredentials(OAuthError):
    """RFC 6750 §3.1: a protected resource asked for without any token: 401 with no error code."""
    error, status, challenge = "", 401, 'Bearer realm="indieauth"'


class ClientProblem(Exception):
    """A client_id or redirect_uri that cannot be trusted: shown to the person, never redirected to."""

    def __init__(self, title, message):
        super().__init__(message)
        self.title, self.message = title, message


class RedirectError(Exception):
    """An OAuthError found after client_id and redirect_uri were verified: it goes back to the client."""

    def __init__(self, error, redirect_uri, state):
        super().__init__(error.description)
        self.oauth, self.redirect_uri, self.state = error, redirect_uri, state


# -- endpoints answer with an OAuthError as JSON

def oauth_json(handler, success=200):
    """Run `handler`; its dict (with status `success`), or its OAuthError, as JSON that is never
    cached (S55, SEC45)."""
    try:
        body, status = handler(), success
    except OAuthError as error:
        body, status = {"error": error.error, "error_description": error.description}, error.status
        if not error.error:
            body = {}
        if error.challenge:
            bottle.response.set_header("WWW-Authenticate", error.challenge)
        if error.retry_after:
            bottle.response.set_header("Retry-After", str(error.retry_after))
    bottle.response.status = status
    bottle.response.set_header("Cache-Control", "no-store")
    bottle.response.set_header("Pragma", "no-cache")
    accept = bottle.request.get_header("Accept", "")
    if "application/x-www-form-urlencoded" in accept and "json" not in accept:
        bottle.response.content_type = "application/x-www-form-urlencoded"  # legacy clients
        return urllib.parse.urlencode({k: json.dumps(v) if isinstance(v, dict) else v
                                       for k, v in body.items()})
    bottle.response.content_type = "application/json"
    return json.dumps(body)


# ---------------------------------------------------------------------------------------------
#  Scopes
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Scope:
    """A scope the consent screen explains; plugins add more through register_scopes."""

    name: str
    description: str


CORE_SCOPES = [
    Scope("profile", "See your name, photo and website"),
    Scope("email", "See your email address"),
    Scope("create", "Create new posts on your site"),
    Scope("update", "Edit your posts"),
    Scope("delete", "Delete your posts"),
    Scope("undelete", "Restore deleted posts"),
    Scope("media", "Upload photos and other files to your site"),
    Scope("draft", "Create posts as drafts only"),
    Scope("read", "Read your feeds and channels"),
    Scope("follow", "Follow and unfollow feeds for you"),
    Scope("mute", "Mute and unmute people for you"),
    Scope("block", "Block and unblock people for you"),
    Scope("channels", "Manage your reader's channels"),
    Scope("post", "Create and update posts (the old name for \"create update\")"),
]
PROFILE_SCOPES = ("profile", "email")


# A request may name at most MAX_SCOPES scopes of at most MAX_SCOPE_LENGTH characters: generous for real
# clients (Micropub and Microsub name a dozen short words; URL-like scopes stay under 200 characters), and
# a bound on what anyone may make the server parse and store with a pending request.
MAX_SCOPES = 50
MAX_SCOPE_LENGTH = 200


def parse_scope(scope):
    """The scope tokens of a scope string in order, without duplicates; InvalidScope for a bad token or too
    many.  Linear in the length of the string: duplicates are found by hashing."""
    names = {}
    for name in (scope or "").split(" "):
        if not name:
            continue  # be lenient with doubled spaces
        # this server's bound on what anyone may make it parse and store
        if len(name) > MAX_SCOPE_LENGTH or (len(names) == MAX_SCOPES and name not in names):
            raise InvalidScope(f"A request may name at most {MAX_SCOPES} scopes of at most "
                               f"{MAX_SCOPE_LENGTH} characters each.")
        # scope-token = 1*( %x21 / %x23-5B / %x5D-7E ) (RFC 6749 §3.3)
        if not SCOPE_TOKEN_RE.fullmatch(name):
            raise InvalidScope(f"The scope {name!r} contains a character that scopes cannot contain.")
        names[name] = None
    return list(names)


MAX_RESOURCES, MAX_RESOURCE_LENGTH = 4, 512


def parse_resources(values):
    """RFC 8707 §2: the resource indicators a request names (one value or a list), in order and without
    repeats; InvalidTarget for one that is not an absolute URI without a fragment."""
    found = []
    for value in [values] if isinstance(values, str) else list(values or ()):
        parts = split_url(value) if len(value) <= MAX_RESOURCE_LENGTH else None
        # RFC 8707 §2: an absolute URI (RFC 3986 §4.3), which MUST NOT include a fragment
        if parts is None or not parts.scheme or not (parts.netloc or parts.path) or "#" in value:
            raise InvalidTarget(f"The resource {value[:100]!r} is not an absolute URI without a fragment.")
        if value not in found:
            found.append(value)
    if len(found) > MAX_RESOURCES:
        raise InvalidTarget(f"A request may name at most {MAX_RESOURCES} resources.")
    return found


def chosen_resources(asked, granted):
    """The resources a token is for (RFC 8707 §2.2): those `asked` at the token endpoint, each one the grant
    covers (`granted`, space-separated), or without any asked, all the grant's; InvalidTarget otherwise."""
    asked, granted = parse_resources(asked), granted.split()
    for resource in asked:
        if resource not in granted:
            raise InvalidTarget(f"The resource {resource!r} was not part of the authorization request.")
    return asked or granted


def audience(resource, me):
    """A token's `aud` (RFC 9068 §3, RFC 8707): its one resource, the list of its resources, or `me` when it
    is for none (the person's own use: Micropub and IndieAuth clients)."""
    resources = resource.split()
    return me if not resources else resources[0] if len(resources) == 1 else resources


# ---------------------------------------------------------------------------------------------
#  Authorization Request (IndieAuth §5.2)
# ---------------------------------------------------------------------------------------------

AUTH_REQUEST_LIFETIME = 30 * 60   # time to sign in and decide
CODE_LIFETIME = 10 * 60           # S48: at most 10 minutes


REPEATABLE = frozenset({"resource"})  # RFC 8707 §2: a request may name several resources


def single_params(multidict):
    """{name: value} of a request's parameters; InvalidRequest for a repeated or undecodable one.  A
    REPEATABLE parameter's value is the list of its values.

    S34: an empty value counts as omitted; unknown parameters are ignored; a repeat is an error."""
    values = {}
    for name in set(multidict.keys()):
        found = multidict.getall(name)
        try:
            found = [v.encode("latin-1").decode("utf-8") if isinstance(v, str) else v for v in found]
        except (UnicodeDecodeError, UnicodeEncodeError):
            raise InvalidRequest(f"The parameter {name!r} is not valid UTF-8.") from None
        found = [v for v in found if v != ""]
        if name in REPEATABLE:
            if found:
                values[name] = found
            continue
        if len(found) > 1:
            raise InvalidRequest(f"The parameter {name!r} was sent more than once.")
        if found:
            values[name] = found[0]
    return values


def client_info(app, client_id, wait=None):
    """What is known about a client: its registration here, else the client_metadata hook (which
    fetches what the client publishes, and its logo); never raises for a fetch failure.  With `wait`,
    the fetch is the fetchers' job: FetchPending when its answer is not in within `wait` seconds."""
    if client_id == canonical_client_id(app.url("docs")):
        # the OAuth tester on /docs is this server's own page: known here, never fetched
        return ClientInfo(client_id, name="OAuth tester (this server's /docs page)", url=client_id,
                          redirect_uris=(client_id,), fetched=True, source="builtin")
    registered = app.storage.get_client(client_id)
    if registered is not None:
        return ClientInfo(client_id, name=registered.name, logo=registered.logo, url=client_id,
                          redirect_uris=tuple(json.loads(registered.redirect_uris)), fetched=True,
                          source="registered")

    def fetch():
        client = app.pm.hook.client_metadata(app=app, client_id=client_id) or ClientInfo(client_id)
        if client.logo:  # fetched now, so that the consent page can show it at once
            with contextlib.suppress(FetchBusy):
                app.fetchers.submit(("logo", client.logo), lambda: kept_logo(app, client.logo))
        return client
    if wait is None:
        return fetch()
    try:
        return app.fetchers.answer(("client", client_id), fetch, wait)
    except FetchBusy as error:
        return ClientInfo(client_id, error=str(error))


def verify_client(app, params, wait):
    """(canonical client_id, redirect_uri, ClientInfo) once both are trustworthy; ClientProblem otherwise
    (S10, S36); FetchPending when what the app publishes is not read within `wait` seconds."""
    client_id, redirect_uri = params.get("client_id"), params.get("redirect_uri")
    if not client_id:
        raise ClientProblem("The app did not say who it is",
                            "The request has no client_id. The app must send its own URL as client_id.")
    problem = client_id_problem(client_id)
    if problem:
        raise ClientProblem("The app's client_id is not valid", problem)
    if not redirect_uri:
        raise ClientProblem("The app did not say where to return",
                            "The request has no redirect_uri. The app must send the URL to return to.")
    problem = redirect_uri_problem(redirect_uri)
    if problem:
        raise ClientProblem("The app's redirect_uri is not valid", problem)
    client_id = canonical_client_id(client_id)  # the form stored in the request and used from here on
    client = client_info(app, client_id, max(wait, app.client_wait))
    allowed, reason = redirect_uri_allowed(client, client_id, redirect_uri)
    if not allowed:
        raise ClientProblem("The app asked to return somewhere it has not published", reason)
    return client_id, redirect_uri, client


def valid_state(state):
    """Whether `state` is one this server accepts, and so the only kind it ever echoes: VSCHAR (%x20-7E,
    RFC 6749 Appendix A.5), long signed states included, up to 2048 characters."""
    return isinstance(state, str) and 0 < len(state) <= 2048 and all(32 <= ord(c) <= 126 for c in state)


def check_authorization_request(app, params, client_id, redirect_uri):
    """The fields of an AuthRequest from verified parameters; RedirectError for every other mistake."""
    state = params.get("state", "")

    def refuse(error):
        raise RedirectError(error, redirect_uri, state)

    response_type = params.get("response_type", "id")
    # S93: response_type=id, or none at all, is the legacy authentication-only request
    if response_type not in ("code", "id"):
        refuse(UnsupportedResponseType(f"response_type {response_type!r} is not supported; use code."))
    # the server MUST echo state, so a request without one cannot be answered correctly (S36)
    if not state:
        refuse(InvalidRequest("The state parameter is missing."))
    if not valid_state(state):
        refuse(InvalidRequest("The state parameter has characters or a length it cannot have."))
    challenge, method = params.get("code_challenge", ""), params.get("code_challenge_method", "")
    # both PKCE parameters, or (for exempt legacy clients) neither
    if bool(challenge) != bool(method):
        refuse(InvalidRequest("code_challenge and code_challenge_method must be sent together."))
    # S38: only S256; plain offers no protection
    if method and method != "S256":
        refuse(InvalidRequest(f"code_challenge_method {method!r} is not supported; use S256."))
    # RFC 7636 §4.2: 43 to 128 unreserved characters
    if challenge and not PKCE_RE.fullmatch(challenge):
        refuse(InvalidRequest("code_challenge must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~."))
    security = app.config["security"]
    if (not challenge and security["require_pkce"]
            and client_id not in [canonical_client_id(c) for c in security["pkce_exempt_clients"]]):
        refuse(InvalidRequest("code_challenge is required (PKCE with S256)."))
    try:
        scopes = parse_scope(params.get("scope", ""))
    except OAuthError as error:
        refuse(error)
    if response_type == "id":
        scopes = [s for s in scopes if s in PROFILE_SCOPES]
    # S39: the me hint is only a hint; an invalid one is ignored
    me_hint = canonical_url(params["me"]) if "me" in params else ""
    if me_hint and "://" not in me_hint:
        me_hint = canonical_url("http://" + me_hint)  # S15
    if me_hint and profile_url_problem(me_hint, app.dev_profiles):
        me_hint = ""
    try:
        resources = parse_resources(params.get("resource"))
    except OAuthError as error:
        refuse(error)
    return dict(client_id=client_id, redirect_uri=redirect_uri, state=state, code_challenge=challenge,
                code_challenge_method=method, scope=" ".join(scopes), me_hint=me_hint,
                response_type=response_type, resource=" ".join(resources))


ASCII_VISIBLE = "".join(chr(c) for c in range(0x21, 0x7f))


def redirect_with(redirect_uri, params):
    """redirect_uri with `params` added to its own query, which is kept (S31).  Characters beyond ASCII
    are percent-encoded (a host by IDNA): a Location header carries ASCII only (RFC 9110 §5.5)."""
    parts = urllib.parse.urlsplit(redirect_uri)
    query = parts.query + ("&" if parts.query else "") + urllib.parse.urlencode(params)
    netloc = parts.netloc
    if not netloc.isascii():
        try:
            netloc = netloc.encode("idna").decode("ascii")
        except UnicodeError:
            netloc = urllib.parse.quote(netloc, safe=ASCII_VISIBLE)
    return urllib.parse.urlunsplit((parts.scheme, netloc, urllib.parse.quote(parts.path, safe=ASCII_VISIBLE),
                                    urllib.parse.quote(query, safe=ASCII_VISIBLE), ""))


# How long a request thread waits for what an app publishes before it answers without it: the
# authorization endpoint then shows a page that comes back for it; PAR, an API call, answers 503.
AUTH_CLIENT_WAIT = 0.25
PAR_CLIENT_WAIT = 1.0
PAR_LIFETIME = 90           # RFC 9126 §2.2: expires_in, short; the consent then has AUTH_REQUEST_LIFETIME
REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"


def validate_authorization(app, params, wait):
    """(AuthRequest fields, ClientInfo) of a valid authorization request; ClientProblem before client_id
    and redirect_uri are verified, RedirectError after, FetchPending while the client's details are
    fetched (`wait` seconds at most).  The one validation of GET /auth and PAR."""
    client_id, redirect_uri, client = verify_client(app, params, wait)
    fields = check_authorization_request(app, params, client_id, redirect_uri)
    if client.source == "registered" and not fields["code_challenge"]:  # a pre-registered client: always PKCE
        raise RedirectError(InvalidRequest("code_challenge is required (PKCE with S256)."), redirect_uri,
                            fields["state"])
    fields["client_data"] = stored_client_data(client)
    return fields, client


# What a pending request, which anyone may make, keeps of the app's published information: each text at
# most CLIENT_TEXT_MAX characters (a URL that is longer is left out, not cut), each list its first
# CLIENT_LIST_MAX entries of at most that length.  With the caps on scope (MAX_SCOPES, MAX_SCOPE_LENGTH),
# state and redirect_uri (2048) and client_id and me (MAX_URL), a pending request's text columns hold
# less than MAX_PENDING_REQUEST characters.
CLIENT_TEXT_MAX = 512
CLIENT_LIST_MAX = 5
MAX_PENDING_REQUEST = 20 * 1024


def stored_client_data(client):
    """The JSON of a ClientInfo as a pending request stores it, cut to the bounds above."""
    data = dataclasses.asdict(client)
    for name, value in data.items():
        if name in ("logo", "url") and len(value) > CLIENT_TEXT_MAX:
            data[name] = ""
        elif isinstance(value, str):
            data[name] = value[:CLIENT_TEXT_MAX]
        elif isinstance(value, (list, tuple)):
            data[name] = [item for item in value if len(item) <= CLIENT_TEXT_MAX][:CLIENT_LIST_MAX]
    return json.dumps(data)


def push_authorization_request(app, params):
    """RFC 9126 §2: validate like the authorization endpoint, store, and answer the request_uri."""
    if "request_uri" in params:
        raise InvalidRequest("A pushed request cannot itself carry a request_uri.")  # RFC 9126 §2.1
    try:
        fields, _ = validate_authorization(app, params, PAR_CLIENT_WAIT)
    except ClientProblem as problem:
        raise InvalidRequest(problem.message) from None
    except FetchPending:
        raise TemporarilyUnavailable("The app's client_id is being read; send the request again in "
                                     "a second.") from None
    except RedirectError as error:
        raise error.oauth from None
    key = app.storage.save_auth_request(PAR_LIFETIME, pushed=True, **fields)
    return {"request_uri": REQUEST_URI_PREFIX + key, "expires_in": PAR_LIFETIME}


def pushed_request_fields(app, params):
    """The stored fields behind a request_uri, used up (single use, bound to its client_id); every
    other parameter of the request is ignored (RFC 9126 §4).  ClientProblem when it cannot be used."""
    request_uri = params["request_uri"]
    key = request_uri[len(REQUEST_URI_PREFIX):] if request_uri.startswith(REQUEST_URI_PREFIX) else ""
    pushed = app.storage.get_auth_request(key, pushed=True) if key else None
    if pushed is None or pushed.client_id != canonical_client_id(params.get("client_id")):
        raise ClientProblem("This sign-in request cannot be used",
                            "The request_uri is unknown, expired, already used, or belongs to another "
                            "client_id. Go back to the app and start signing in again.")
    if not app.storage.use_auth_request(key):
        raise ClientProblem("This sign-in request was already used", "Go back to the app and start again.")
    return {name: getattr(pushed, name) for name in (
        "client_id", "redirect_uri", "state", "code_challenge", "code_challenge_method", "scope", "me_hint",
        "response_type", "client_data", "resource")}


def issue_code(app, request, user, scopes, auth_time=None):
    """A new authorization code for an approved request (S48, S49)."""
    return app.storage.create_code(CODE_LIFETIME, user=user, me=user.me, client_id=request.client_id,
                                   auth_time=auth_time,
                                   redirect_uri=request.redirect_uri, code_challenge=request.code_challenge,
                                   code_challenge_method=request.code_challenge_method, scope=" ".join(scopes),
                                   requested_scope=request.scope, resource=request.resource)


# -- endpoints: the authorization endpoint (GET), PAR and the consent page

def form_value(name, default=""):
    """One form field as text; a field that cannot be decoded counts as empty, never an error."""
    try:
        value = bottle.request.forms.getunicode(name)
    except Exception:
        return default
    return default if value is None else value


def posted_form():
    """The POSTed form as {name: value}; InvalidRequest for a repeated or undecodable field."""
    return single_params(bottle.request.forms)


def basic_credentials(header):
    """(user, password) of an HTTP Basic header, or None; a URL user name may come url-encoded or not."""
    scheme, _, value = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequest("The Authorization header does not hold valid Basic credentials.") from None
    user, sep, password = decoded.rpartition(":")
    if not sep:
        raise InvalidRequest("The Authorization header does not hold valid Basic credentials.")
    if "://" not in user:
        user = urllib.parse.unquote_plus(user)
    return user, urllib.parse.unquote_plus(password)


def client_id_from_basic(app, form):
    """The client_id of a request: a public client may send it as an HTTP Basic user name (url-encoded
    or not); a pre-registered client must prove it with its secret (client_secret_basic or
    client_secret_post), or InvalidClient (401)."""
    header = bottle.request.environ.get("HTTP_AUTHORIZATION") or bottle.request.environ.get(
        "REDIRECT_HTTP_AUTHORIZATION", "")
    credentials = basic_credentials(header)
    if credentials:
        if form.get("client_id") and canonical_client_id(form["client_id"]) != canonical_client_id(credentials[0]):
            raise InvalidRequest("The client_id in the form and in the Authorization header differ.")
        form["client_id"] = credentials[0]
    if form.get("client_id"):
        form["client_id"] = canonical_client_id(form["client_id"])  # every later lookup and comparison
    registered = app.storage.get_client(form.get("client_id"))
    if registered is not None:
        secret = credentials[1] if credentials else form.get("client_secret", "")
        if not app.opened_by(lambda: secret and same(token_hash(secret), registered.secret_hash), SlowDown.now):
            raise InvalidClient("This client is registered with a secret: authenticate with "
                                "client_secret_basic or client_secret_post.")
    return form


def client_problem_page(app, problem):
    """The 400 page for a client_id or redirect_uri that cannot be trusted: never a redirect."""
    bottle.response.status = 400
    return app.render("client_error.tpl", title=problem.title, message=problem.message,
                      client_id=bottle.request.query.get("client_id", "")[:MAX_URL])


def redirect_error(app, error, status=303):
    """Send an OAuth error back to the verified redirect_uri with state and iss (S36, S45, SEC14)."""
    params = {"error": error.oauth.error, "error_description": error.oauth.description}
    if valid_state(error.state):  # an invalid one is not echoed: it may be 100 KB, or carry anything
        params["state"] = error.state
    params["iss"] = app.issuer
    bottle.redirect(redirect_with(error.redirect_uri, params), status)


def authorization_get(app):
    """GET /auth: validate everything, store the request, then sign-in and consent (S34–S41)."""
    try:
        params = single_params(bottle.request.query)
    except OAuthError as error:  # SEC56: which client_id or redirect_uri would we believe?
        return client_problem_page(app, ClientProblem("The app sent a malformed request", error.description))
    if not params:
        return app.render("auth_info.tpl", title="Authorization endpoint")
    try:
        if "request_uri" in params:
            fields = pushed_request_fields(app, params)
        else:
            fields, _ = validate_authorization(app, params, AUTH_CLIENT_WAIT)
            if app.config["security"]["require_par"]:
                raise RedirectError(InvalidRequest("This server accepts only pushed authorization requests "
                                                   "(RFC 9126): POST them to the "
                                                   "pushed_authorization_request_endpoint."),
                                    fields["redirect_uri"], fields["state"])
    except ClientProblem as problem:
        return client_problem_page(app, problem)
    except RedirectError as error:
        return redirect_error(app, error, 302)
    except FetchPending:
        return client_wait_page(app, params["client_id"])
    key = app.storage.save_auth_request(AUTH_REQUEST_LIFETIME, **fields)
    app.redirect("/auth/consent/" + key)


def client_wait_page(app, client_id):
    """The page shown while the app's details are fetched: it reloads itself (no script needed), and the
    request, made again, finds them or, if the fetch failed, goes on without them."""
    return app.render("client_wait.tpl", title="Reading the app's details", meta=[("refresh", "1")],
                      host=split_url(client_id).netloc,
                      here=app.url("auth?" + bottle.request.environ.get("QUERY_STRING", "")))


def par_post(app):
    """POST /par (RFC 9126): 201 with a single-use request_uri, or a JSON error."""
    return oauth_json(lambda: push_authorization_request(
        app, client_id_from_basic(app, posted_form())), success=201)


def pending_request(app, key):
    request = app.storage.get_auth_request(key)
    if request is None:
        fail(400, "This sign-in request has expired or was already answered. Go back to the app "
                  "and start signing in again.")
    return request


def stored_client(request):
    """The ClientInfo kept with a stored authorization request: what the sign-in and consent pages show."""
    return ClientInfo(**{k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(request.client_data).items()})


def consent_page(app, key):
    """The consent screen for a stored request, after sign-in (S41, SEC25–SEC27, SEC52–SEC54)."""
    request = pending_request(app, key)
    user = app.require_user()
    scopes = request.scope.split()
    grant = app.storage.get_grant(user, request.client_id)
    # a remembered approval covers these scopes for these resources only: approving one of the person's
    # resource servers never covers another (issue 20)
    if (grant is not None and set(scopes) <= set(grant.scope.split()) and grant.resource == request.resource
            and app.storage.use_auth_request(key)):
        app.event(ConsentGranted(user, request.client_id, request.scope), ConsentGranted.name, user=user,
                  client_id=request.client_id, scope=request.scope, remembered=True)
        return approve(app, request, user, scopes)
    client = stored_client(request)
    redirect_host = split_url(request.redirect_uri).netloc
    return app.render("consent.tpl", title="Allow access?", request=request, client=client, key=key,
                      scopes=[(s, app.scopes.get(s)) for s in scopes], redirect_host=redirect_host,
                      cross_host=not on_client_origin(request.client_id, request.redirect_uri),
                      hint_mismatch=bool(request.me_hint) and request.me_hint != user.me,
                      role=app.storage.role_for(user, request.client_id), resources=request.resource.split())


LOGO_WAIT = 1.0  # what a request for a logo that was not fetched with the client's details waits for it


def kept_logo(app, url):
    """(until, content type, bytes) of a client's logo, fetched unless kept; a logo that could not be
    fetched is (until, None, None), tried again after FETCH_FAILURE_TTL seconds."""
    cached = app.logo_cache.get(url)
    if cached is None or cached[0] < time.monotonic():
        try:
            cached = (time.monotonic() + 3600, *fetch_logo(app.http, url))
        except FetchError as error:
            log.info("client logo not shown: %s", error)
            cached = (time.monotonic() + FETCH_FAILURE_TTL, None, None)  # not fetched again for a while
        if len(app.logo_cache) > 200:
            app.logo_cache.clear()
        app.logo_cache[url] = cached
    return cached


def client_logo(app, key):
    """The logo of a pending request's client, proxied so the consent page never hot-links (SEC26)."""
    request = app.storage.get_auth_request(key)
    return send_logo(app, json.loads(request.client_data).get("logo", "") if request else "")


def send_logo(app, logo):
    """A client's logo (its URL `logo`), as kept_logo has it, with the headers that make it harmless."""
    if not logo:
        fail(404, "There is no logo for this request.")
    try:  # normally fetched with the client's details, before the consent page was shown
        cached = app.fetchers.answer(("logo", logo), lambda: kept_logo(app, logo), LOGO_WAIT)
    except (FetchPending, FetchBusy):
        fail(404, "The app's logo is still being loaded.")
    if cached[1] is None:
        fail(404, "The app's logo could not be loaded.")
    bottle.response.content_type = cached[1]
    bottle.response.set_header("Cache-Control", "private, max-age=3600")
    bottle.response.set_header("Content-Security-Policy", "default-src 'none'; sandbox")
    return cached[2]


def consent_post(app, key):
    """Approve or deny: the request comes from storage, never from the form (SEC21–SEC23)."""
    app.check_csrf()
    request = pending_request(app, key)
    user = app.require_user()
    action = form_value("action")
    if action not in ("approve", "deny"):
        fail(400, "Choose Allow or Deny.")
    chosen = set(bottle.request.forms.getall("scope"))
    scopes = [s for s in request.scope.split() if s in chosen]  # SEC23: granted ⊆ requested

    def answer():  # with the request marked answered, in its transaction: one commit, not four
        if action == "deny":
            return app.record_event(ConsentDenied(user, request.client_id), ConsentDenied.name, user=user,
                                    client_id=request.client_id), None
        if form_value("remember") == "yes":
            app.storage.save_grant(user, request.client_id, " ".join(scopes), request.resource)
        deliver = app.record_event(ConsentGranted(user, request.client_id, " ".join(scopes)),
                                   ConsentGranted.name, user=user, client_id=request.client_id,
                                   scope=" ".join(scopes))
        return deliver, new_code(app, request, user, scopes)

    won, answered = app.storage.claim(lambda: app.storage.use_auth_request(key), answer)
    if not won:
        fail(400, "This sign-in request was already answered. Go back to the app and start again.")
    deliver, code = answered
    deliver()
    if code is None:
        return redirect_error(app, RedirectError(AccessDenied("The user denied the request."),
                                                 request.redirect_uri, request.state))
    return send_code(app, request, code)


def new_code(app, request, user, scopes):
    session = app.current_session()
    return issue_code(app, request, user, scopes, auth_time=session.created_at if session else None)


def approve(app, request, user, scopes):
    """Issue the code and send the person back to the app with code, state and iss (S44)."""
    return send_code(app, request, new_code(app, request, user, scopes))


def send_code(app, request, code):
    bottle.redirect(redirect_with(request.redirect_uri, {"code": code, "state": request.state,
                                                         "iss": app.issuer}), 303)


# ---------------------------------------------------------------------------------------------
#  JWT Access Tokens (RFC 9068) and the JSON Web Key Set
# ---------------------------------------------------------------------------------------------


def public_jwk(private_key):
    """The public JWK of a private key, with its RFC 7638 thumbprint as `kid`."""
    import jwt.algorithms
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    public = private_key.public_key()
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        jwk, members = jwt.algorithms.OKPAlgorithm.to_jwk(public, as_dict=True), ("crv", "kty", "x")
    elif isinstance(private_key, ec.EllipticCurvePrivateKey):
        jwk, members = jwt.algorithms.ECAlgorithm.to_jwk(public, as_dict=True), ("crv", "kty", "x", "y")
    elif isinstance(private_key, rsa.RSAPrivateKey):
        jwk, members = jwt.algorithms.RSAAlgorithm.to_jwk(public, as_dict=True), ("e", "kty", "n")
    else:
        raise ConfigError("[tokens] signing_key: an Ed25519, P-256 or RSA private key is needed")
    canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    kid = base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()
    return {**{m: jwk[m] for m in members}, "kid": kid, "use": "sig"}


class SigningKeys:
    """The private key that signs access tokens, loaded once (again when its file changes), and the
    published keys (RFC 7517) that let resource servers verify tokens without calling us."""

    def __init__(self, app):
        self.app, self.lock, self.loaded = app, threading.Lock(), None

    def _source(self):
        value = self.app.config["tokens"]["signing_key"]
        path = self.app.config.resolve_path(value["file"]) if isinstance(value, dict) and "file" in value else None
        return path, (os.stat(path).st_mtime_ns if path and os.path.exists(path) else None)

    def current(self):
        """(kid, private key, algorithm) of the signing key, registered in storage on first use."""
        from cryptography.hazmat.primitives import serialization
        source = self._source()
        with self.lock:
            if self.loaded is None or self.loaded[0] != source:
                pem = self.app.config.secret("tokens", "signing_key").encode()
                try:
                    key = serialization.load_pem_private_key(pem, password=None)
                except (ValueError, TypeError) as exc:
                    raise ConfigError(f"{self.app.config.where('tokens', 'signing_key')}: not a PEM private key "
                                      f"without a password ({exc})") from None
                jwk = public_jwk(key)
                algorithm = self.app.config["tokens"]["algorithm"]
                self.app.storage.register_key(jwk["kid"], algorithm, {**jwk, "alg": algorithm})
                self.loaded = (source, jwk["kid"], key, algorithm)
            return self.loaded[1:]

    def sign(self, claims):
        """A signed JWT access token (`typ: at+jwt`, RFC 9068 §2.1)."""
        import jwt
        kid, key, algorithm = self.current()
        self.app.storage.extend_key(kid, datetime.datetime.fromtimestamp(claims["exp"], datetime.timezone.utc)
                                    .replace(tzinfo=None))
        return jwt.encode(claims, key, algorithm=algorithm, headers={"typ": "at+jwt", "kid": kid})

    def jwks(self):
        """The JSON Web Key Set: every key that signs, or signed tokens that have not expired."""
        self.current()
        return {"keys": [json.loads(k.public_jwk) for k in self.app.storage.published_keys()]}


def check_signing_key(app, light=False):
    """ConfigError naming `[tokens] signing_key` when JWTs are issued and the key is missing, unreadable or
    not a key: found at start-up, not at the token request after a person has signed in and consented.
    `light` (CGI, where every request starts a process) only reads the key's text, without the cost of
    loading it; a damaged key is then found when it signs, a 503 that uses nothing up."""
    if app.config["tokens"]["format"] != "jwt":
        return
    if not light:
        app.keys.current()
    elif "PRIVATE KEY-----" not in app.config.secret("tokens", "signing_key"):
        raise ConfigError(f"{app.config.where('tokens', 'signing_key')}: not a PEM private key")


def epoch(moment):
    return int(moment.replace(tzinfo=datetime.timezone.utc).timestamp())


def access_token_encoder(app, user, client_id, scopes, auth_time, role=None, me=None, resource=""):
    """`encode(jti, iat, exp)` for Storage.create_token: a JWT with RFC 9068's claims, or None for
    opaque tokens.  Plugins add claims through token_claims; the core's claims always win, and `role`
    is the core's alone: only a pre-registered client's tokens carry one.  `sub` is `me` (the user's own
    profile URL unless given: a ticket's subject), `aud` the `audience` of the token's resources."""
    if app.config["tokens"]["format"] != "jwt":
        return None
    me = me or user.me

    def encode(jti, iat, exp):
        claims = {}
        for extra in reversed(app.pm.hook.token_claims(app=app, me=me, client=client_id,
                                                        scopes=list(scopes), extra={})):
            claims.update(extra or {})
        claims.pop("role", None)
        if role:
            claims["role"] = role
        claims.update({"iss": app.issuer, "sub": me, "aud": audience(resource, me), "client_id": client_id,
                       "scope": " ".join(scopes), "iat": epoch(iat), "exp": epoch(exp), "jti": jti,
                       "auth_time": epoch(auth_time or iat)})
        return app.keys.sign(claims)
    return encode


# ---------------------------------------------------------------------------------------------
#  Redeeming the Authorization Code (IndieAuth §5.3)
# ---------------------------------------------------------------------------------------------


def pkce_s256(verifier):
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


def redeem_code(app, form, at_authorization_endpoint=False, issue=lambda code: None):
    """(the AuthCode of a valid redemption, what `issue(code)` stored for it), the code consumed in the same
    transaction; an OAuthError otherwise (S53, S54, SEC1–SEC6)."""
    for name in ("code", "client_id", "redirect_uri"):
        if not form.get(name):
            raise InvalidRequest(f"The {name} parameter is missing.")
    code = app.storage.find_code(form["code"])
    if code is None:
        raise InvalidGrant("The authorization code is not valid.")
    # a second use MUST be denied and SHOULD revoke what the first use issued (S50, SEC1)
    if code.used_at is not None:
        app.storage.revoke_tokens_from_code(code)
        raise InvalidGrant("The authorization code was used already; tokens issued from it are revoked.")
    if code.expires_at <= app.now():
        raise InvalidGrant("The authorization code has expired.")
    # S14: client_id and redirect_uri identical to the authorization request's; the client_id as identical
    # strings in its one canonical form, the form the request stored (canonical_client_id)
    if canonical_client_id(form["client_id"]) != code.client_id or form["redirect_uri"] != code.redirect_uri:
        raise InvalidGrant("The client_id or redirect_uri is not the one the code was issued to.")
    verifier = form.get("code_verifier", "")
    if code.code_challenge:
        if not verifier:
            raise InvalidRequest("The code_verifier parameter is missing.")
        # RFC 7636 §4.6; a wrong verifier burns the code so it cannot be guessed at (SEC4)
        if not PKCE_RE.fullmatch(verifier) or not same(pkce_s256(verifier), code.code_challenge):
            app.storage.use_code(code)
            raise InvalidGrant("The code_verifier does not match the code_challenge.")
    elif verifier:
        # SEC5: a code issued without PKCE must be redeemed without a verifier (downgrade attack)
        raise InvalidGrant("This code was issued without PKCE; a code_verifier cannot be used with it.")
    scopes = code.scope.split()
    # S59 (policy, issue 18): a code carrying access scopes may be redeemed at the authorization endpoint
    # too, as clients in the wild do; it answers the profile URL only (`issue` is never given a token
    # there) and the code is spent like any other.
    if not at_authorization_endpoint and not scopes:
        # S61: a code without scope MUST NOT yield an access token
        raise InvalidGrant("This code has no scope, so no access token can be issued; "
                           "redeem it at the authorization endpoint for the profile URL.")
    if code.user.disabled_at is not None:
        raise InvalidGrant("The account this code was issued for is disabled.")
    # S50 under a race: a replay that loses waits for the winner's tokens, then revokes them (SEC1)
    won, issued = app.storage.claim(lambda: app.storage.use_code(code), lambda: issue(code))
    if not won:
        app.storage.revoke_tokens_from_code(code)
        raise InvalidGrant("The authorization code was used already.")
    return code, issued


def profile_for(app, user, scopes):
    """The `profile` object for the granted scopes, or None without the profile scope (S66)."""
    if "profile" not in scopes:
        return None
    profile = app.pm.hook.user_profile(app=app, me=user.me, scopes=list(scopes)) or {}
    return {k: v for k, v in profile.items() if k != "email" or "email" in scopes}


def token_response(app, user, client_id, scopes, code=None, family=None, refresh_scope=None, auth_time=None,
                   grant_type="authorization_code", after=None, requested_scope="", ticket=None, resource="",
                   refresh_resource=None):
    """Issue an access and a refresh token; the JSON body of S62 (and S71 for a refresh).  The refresh token
    keeps `requested_scope`, what the app first asked for, and `refresh_resource`, the resources granted
    (refresh_tokens); the access token is for `resource` (RFC 8707: its `aud`).  For a `ticket` (TK9) the
    access token alone, whose `me` is the ticket's subject, for its resource, for `ticket_token_lifetime`.
    The TokenIssued event is sent at once, or put in the list `after` for a caller in a transaction to send
    once it commits."""
    settings = app.config["tokens"]
    family = family or uuid.uuid4().hex
    me, resource = (ticket.subject, ticket.resource) if ticket else (user.me, resource)
    lifetime = settings["ticket_token_lifetime" if ticket else "access_token_lifetime"]
    role = app.storage.role_for(user, client_id)
    access, row = app.storage.create_token("access", user, me, client_id, " ".join(scopes), lifetime, family, code,
                                           auth_time=auth_time, via="ticket" if ticket else "flow", resource=resource,
                                           encode=access_token_encoder(app, user, client_id, scopes, auth_time, role,
                                                                       me=me, resource=resource))
    body = {"access_token": access, "token_type": "Bearer", "scope": " ".join(scopes), "expires_in": lifetime,
            "me": me}
    if not ticket:
        body["refresh_token"], _ = app.storage.create_token(
            "refresh", user, user.me, client_id, refresh_scope if refresh_scope is not None else " ".join(scopes),
            settings["refresh_token_lifetime"], family, code, auth_time=auth_time, requested_scope=requested_scope,
            resource=resource if refresh_resource is None else refresh_resource)
    if role:
        body["role"] = role
    profile = profile_for(app, user, scopes)
    if profile is not None:
        body["profile"] = profile
    send = app.record_event(TokenIssued(user, me, client_id, body["scope"], grant_type, row.jti, row.created_at),
                            TokenIssued.name, user=user, client_id=client_id, scope=body["scope"],
                            grant_type=grant_type, jti=row.jti)  # in the caller's transaction, if any
    if after is None:
        send()
    else:
        after.append(send)
    return body


def issue_once(app, take, issue, family, what):
    """The token response `issue(after)` makes, in one transaction with `take()`, a single-use update (a
    refresh token's rotation, a device code, a ticket); the TokenIssued events in `after` are sent once it
    commits.  S50 under a race: a caller whose update loses waits for the winner's tokens, revokes their
    `family` (SEC1) and gets InvalidGrant naming `what`."""
    after = []
    won, body = app.storage.claim(take, lambda: issue(after))
    if not won:
        app.storage.revoke_family(family)
        raise InvalidGrant(f"The {what} was used already.")
    for send in after:
        send()
    return body


def issue_testing_token(app, user, client_id, scopes, lifetime):
    """An access token for developing a client without running the flow; (raw token, row).

    UsageError for a client_id or scope that the flow itself would refuse."""
    problem = client_id_problem(client_id)
    if problem:
        raise UsageError(problem)
    client_id = canonical_client_id(client_id)
    try:
        scopes = parse_scope(" ".join(scopes))
    except OAuthError as error:
        raise UsageError(error.description) from None
    if not scopes:
        raise UsageError("A testing token needs at least one scope.")
    raw, row = app.storage.create_token("access", user, user.me, client_id, " ".join(scopes), lifetime,
                                        uuid.uuid4().hex, via="testing",
                                        encode=access_token_encoder(app, user, client_id, scopes, None,
                                                                    app.storage.role_for(user, client_id)))
    app.event(TokenIssued(user, user.me, client_id, row.scope, "testing", row.jti, row.created_at),
              TokenIssued.name, user=user, client_id=client_id, scope=row.scope, grant_type="testing", jti=row.jti)
    return raw, row


def fingerprint(token):
    """A short, harmless name for a token: the start of its stored hash (sha256 of the token)."""
    return token.token_hash[:10]


# -- endpoints: the authorization endpoint (POST, the profile URL only) and the token endpoint

def authorization_post(app):
    """POST /auth: redeem a code for the profile URL only (S57, S58, S60), whatever scopes it carries
    (S59: never a token here); a pre-registered client authenticates here as at the token endpoint."""
    def redeem():
        form = client_id_from_basic(app, posted_form())
        if form.get("grant_type", "authorization_code") != "authorization_code":
            raise UnsupportedGrantType("The authorization endpoint only redeems authorization codes.")
        code, _ = redeem_code(app, form, at_authorization_endpoint=True)
        body = {"me": code.me}
        profile = profile_for(app, code.user, code.scope.split())
        if profile is not None:
            body["profile"] = profile
        return body
    return oauth_json(redeem)


def token_post(app):
    """POST /token: authorization_code, refresh_token, device_code and ticket grants, and the legacy
    action=revoke."""
    def handle():
        form = client_id_from_basic(app, posted_form())
        if form.get("action") == "revoke":  # S92
            revoke(app, form)
            return {}
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            after = []
            _, body = redeem_code(app, form, issue=lambda code: token_response(
                app, code.user, code.client_id, code.scope.split(), code=code, auth_time=code.auth_time,
                after=after, requested_scope=code.requested_scope, refresh_resource=code.resource,
                resource=" ".join(chosen_resources(form.get("resource"), code.resource))))
            for send in after:
                send()
        elif grant_type == "refresh_token":
            body = refresh_tokens(app, form)
        elif grant_type == DEVICE_GRANT:
            body = device_token(app, form)
        elif grant_type == "ticket":
            body = redeem_ticket(app, form)
        elif not grant_type:
            raise InvalidRequest("The grant_type parameter is missing.")
        else:
            raise UnsupportedGrantType(f"grant_type {grant_type!r} is not supported.")
        return body
    return oauth_json(handle)


# ---------------------------------------------------------------------------------------------
#  Refreshing an Access Token (IndieAuth §5.5)
# ---------------------------------------------------------------------------------------------


def refreshed_scopes(token, asked):
    """The scopes a refresh of `token` grants for the scopes `asked` (None: not sent, the granted ones);
    InvalidScope for a scope the app never asked for, or when nothing asked for was granted."""
    granted = token.scope.split()
    requested = token.requested_scope.split() or granted  # "" before schema 7: what was granted
    if asked is None:
        return granted
    # S70, SEC41: the scope may be narrowed, never widened; a scope the app asked for at first and the
    # person left out at consent is dropped, not refused, as clients resend what they first asked for
    # (issue 18); a scope it never asked for is refused.
    if any(s not in granted and s not in requested for s in asked):
        raise InvalidScope("A refresh cannot add scopes that were not granted.")
    scopes = [s for s in asked if s in granted]
    if not scopes:
        raise InvalidScope("None of the scopes asked for were granted.")
    return scopes


def refresh_tokens(app, form):
    """New tokens for a refresh token, rotating it (S69–S74, SEC39–SEC42)."""
    if not form.get("refresh_token") or not form.get("client_id"):
        raise InvalidRequest("refresh_token and client_id are required.")
    token = app.storage.find_token(form["refresh_token"])
    if token is None or token.kind != "refresh":
        raise InvalidGrant("The refresh token is not valid.")
    if token.revoked_at is not None:
        # BCP §4.14.2: reuse of a rotated (or revoked) refresh token revokes the whole family
        app.storage.revoke_family(token.family)
        raise InvalidGrant("The refresh token was used already or revoked; its tokens are revoked.")
    if canonical_client_id(form["client_id"]) != token.client_id:
        raise InvalidGrant("The refresh token was issued to another client.")
    if not app.storage.token_is_live(token):
        raise InvalidGrant("The refresh token has expired.")
    scopes = refreshed_scopes(token, parse_scope(form["scope"]) if form.get("scope") else None)
    # RFC 8707 §2.2: the audience is kept, or narrowed to resources the grant covers
    resources = " ".join(chosen_resources(form.get("resource"), token.resource))
    # rotation: exactly one caller wins; one that loses waits for the winner's tokens and revokes them
    return issue_once(app, lambda: app.storage.revoke_token(token), lambda after: token_response(
        app, token.user, token.client_id, scopes, code=token.code_id, family=token.family,
        refresh_scope=token.scope, auth_time=token.auth_time, grant_type="refresh_token", after=after,
        requested_scope=token.requested_scope, resource=resources, refresh_resource=token.resource),
        token.family, "refresh token")


# ---------------------------------------------------------------------------------------------
#  Device Authorization Grant (RFC 8628)
# ---------------------------------------------------------------------------------------------
#  A device that cannot receive a redirect (a command-line client, an e-reader, a TV) asks for a
#  device_code and a short user_code; the person types the user_code at /device on a phone or computer,
#  signs in and answers the consent screen; the device polls the token endpoint with its device_code
#  until it gets the normal token response.

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
USER_CODE_LETTERS = "BCDFGHJKLMNPQRSTVWXZ"  # RFC 8628 §6.1: no vowels (no words), none that look alike
USER_CODE_LENGTH = 8      # 20**8, about 34 bits, shown as XXXX-XXXX; guessing is throttled per address
USER_CODE_MAX = 40        # characters of a typed code read at all (spaces and dashes are ignored)
DEVICE_INTERVAL = 5       # RFC 8628 §3.2: seconds a device waits between polls, until told to slow down
DEVICE_REQUESTS = 20      # device authorizations one address may start within `[security] failure_window`


def new_user_code():
    """A random user_code, XXXX-XXXX of USER_CODE_LETTERS."""
    letters = "".join(secrets.choice(USER_CODE_LETTERS) for _ in range(USER_CODE_LENGTH))
    return f"{letters[:4]}-{letters[4:]}"


def normalize_user_code(typed):
    """The one form (XXXX-XXXX) of a user_code as a person typed it, in any case, with or without dashes
    and spaces; "" for text that cannot be a user_code."""
    letters = re.sub(r"[\s-]", "", typed or "").upper()
    if len(letters) != USER_CODE_LENGTH or any(c not in USER_CODE_LETTERS for c in letters):
        return ""
    return f"{letters[:4]}-{letters[4:]}"


def count_address_request(app, kind, limit, what):
    """Count a request of `kind` from this address; SlowDown (429, saying "too many `what`") once it made
    `limit` within the failure window: what an unauthenticated caller can make us store or fetch is bounded."""
    key = f"{kind}:{throttled_address(app.client_address())}"
    window = datetime.timedelta(seconds=app.config["security"]["failure_window"])
    count, oldest = app.storage.failures_since(key, app.now() - window)
    if count >= limit:
        error = SlowDown(max(1, math.ceil((oldest + window - app.now()).total_seconds())))
        error.description = f"Too many {what} from this address: try again in {describe_wait(error.retry_after)}."
        raise error
    app.storage.record_failure([key])


def start_device_authorization(app, form):
    """RFC 8628 §3.1–3.2: a pending device authorization of a client (`form` came through
    client_id_from_basic) for its scope; the device_code, user_code, where to go and how often to poll."""
    client_id = form.get("client_id")
    if not client_id:
        raise InvalidRequest("The client_id parameter is missing.")
    problem = client_id_problem(client_id)
    if problem:
        raise InvalidRequest(problem)
    scopes = parse_scope(form.get("scope", ""))
    # policy: the device flow ends in an access token, and one without scope is never issued (S61)
    if not scopes:
        raise InvalidScope("Ask for at least one scope: a device authorization ends in an access token.")
    try:  # the app's name and logo for the consent screen, as for any other client
        client = client_info(app, client_id, max(PAR_CLIENT_WAIT, app.client_wait))
    except FetchPending:  # not counted: the app sends it again in a second, as told
        raise TemporarilyUnavailable("The app's client_id is being read; send the request again in "
                                     "a second.") from None
    count_address_request(app, "device", DEVICE_REQUESTS, "device authorizations")
    lifetime = app.config["tokens"]["device_code_lifetime"]
    for _ in range(3):  # a user_code already taken (1 in 10**10 per live code) is drawn again
        user_code = new_user_code()
        raw = app.storage.save_device_code(lifetime, user_code, client_id=client_id, scope=" ".join(scopes),
                                           client_data=stored_client_data(client), family=uuid.uuid4().hex,
                                           interval=DEVICE_INTERVAL)
        if raw:
            break
    else:
        raise TemporarilyUnavailable("No free user_code was found; try again.")
    verification = app.url("device")
    return {"device_code": raw, "user_code": user_code, "verification_uri": verification,
            "verification_uri_complete": verification + "?" + urllib.parse.urlencode({"user_code": user_code}),
            "expires_in": lifetime, "interval": DEVICE_INTERVAL}


def pending_device(app, user_code):
    """The live, unanswered device authorization of a user_code in its one form, or None."""
    device = app.storage.find_device_code(user_code=user_code)
    if device is None or device.answered_at is not None or device.expires_at <= app.now():
        return None
    return device


def answer_device(app, device, user, scopes, approve, auth_time=None):
    """Keep the person's answer to a device's user_code, once, with its consent event (as the consent
    screen records them); False when it was answered already or has expired."""
    def record():
        if approve:
            return app.record_event(ConsentGranted(user, device.client_id, " ".join(scopes)), ConsentGranted.name,
                                    user=user, client_id=device.client_id, scope=" ".join(scopes),
                                    grant_type=DEVICE_GRANT)
        return app.record_event(ConsentDenied(user, device.client_id), ConsentDenied.name, user=user,
                                client_id=device.client_id, grant_type=DEVICE_GRANT)
    won, deliver = app.storage.claim(lambda: app.storage.answer_device_code(
        device, user, " ".join(scopes), auth_time, denied=not approve), record)
    if won:
        deliver()
    return won


def device_token(app, form):
    """RFC 8628 §3.4–3.5: the token endpoint's answer to a device polling with its device_code: an error
    until the person approved, then the normal token response, once."""
    if not form.get("device_code") or not form.get("client_id"):
        raise InvalidRequest("device_code and client_id are required.")
    device = app.storage.find_device_code(raw=form["device_code"])
    if device is None:
        raise InvalidGrant("The device_code is not valid.")
    # bound to the client it was issued to, compared in the one canonical form (client_id_from_basic)
    if canonical_client_id(form["client_id"]) != device.client_id:
        raise InvalidGrant("The device_code was issued to another client.")
    # a second use is refused and revokes what the first use issued, as for a code (S50)
    if device.used_at is not None:
        app.storage.revoke_family(device.family)
        raise InvalidGrant("The device_code was used already; tokens issued from it are revoked.")
    if device.expires_at <= app.now():
        raise ExpiredToken("The device_code has expired; start a new device authorization.")
    if not app.storage.poll_device_code(device):
        raise PollingTooFast(device.interval + 5)
    if device.denied:
        raise AccessDenied("The person denied the request.")
    if device.answered_at is None:
        raise AuthorizationPending("The person has not answered yet; poll again after the interval.")
    # an app unregistered since would otherwise get tokens without its secret (as Storage.remove_client
    # spends its codes)
    registered = json.loads(device.client_data).get("source") == "registered"
    if registered and app.storage.get_client(device.client_id) is None:
        raise InvalidGrant("The app this device_code was issued to is no longer registered.")
    if device.user.disabled_at is not None:
        raise InvalidGrant("The account that approved this device_code is disabled.")
    return issue_once(app, lambda: app.storage.use_device_code(device), lambda after: token_response(
        app, device.user, device.client_id, device.granted_scope.split(), family=device.family,
        auth_time=device.auth_time, grant_type=DEVICE_GRANT, after=after, requested_scope=device.scope),
        device.family, "device_code")


# -- endpoints: the device authorization endpoint, and the pages where a person answers a user_code

def device_authorization_post(app):
    """POST /device_authorization (RFC 8628 §3.1): a device_code and user_code, or a JSON error."""
    return oauth_json(lambda: start_device_authorization(app, client_id_from_basic(app, posted_form())))


def device_form(app, typed="", error=None):
    """The page where a signed-in person types the code their device shows."""
    if error:
        bottle.response.status = 400
    return app.render("device.tpl", title="Connect a device", user_code=typed, error=error)


def device_page(app):
    """GET /device: after sign-in, the form for the code, filled in from ?user_code= (the device's
    verification_uri_complete): the person still checks it and presses Continue."""
    app.require_user()
    return device_form(app, (bottle.request.query.getunicode("user_code") or "")[:USER_CODE_MAX])


def refuse_user_code(wait):
    """Stop a request from an address that typed too many wrong codes: the 429 page with Retry-After."""
    raise PageError(429, f"Too many wrong codes were typed from your address. You can try again in "
                         f"{describe_wait(wait)}; check the code on your device meanwhile.",
                    **{"Retry-After": str(wait)})


def device_post(app):
    """POST /device: the code typed.  The consent screen for it, or the form again saying what is wrong; a
    wrong code counts against the address (app.throttle), which is refused for a while once it missed too often."""
    app.check_csrf()
    user = app.require_user()
    typed = form_value("user_code")[:USER_CODE_MAX]
    user_code = normalize_user_code(typed)
    if not user_code:
        return device_form(app, typed, "A code is 8 letters, like BCDF-GHJK. Type the one your device shows.")
    address = app.client_address()
    wait = app.throttle.retry_after("", address)
    if wait:
        refuse_user_code(wait)
    device = pending_device(app, user_code)
    if device is None:
        app.throttle.failed("", address)
        return device_form(app, typed, "No device is waiting for that code. Check it against the code on your "
                                       "device; if it has expired or was answered already, start again there.")
    handle = app.seal("device", [user_code, user.id], max(1, int((device.expires_at - app.now()).total_seconds())))
    return app.render("consent.tpl", title="Allow access?", request=device, client=stored_client(device),
                      key=handle, device=user_code, action="/device/consent", logo=app.url("device/logo/" + handle),
                      scopes=[(s, app.scopes.get(s)) for s in device.scope.split()], redirect_host="",
                      cross_host=False, hint_mismatch=False, role=app.storage.role_for(user, device.client_id))


def sealed_device(app, handle, user):
    """The pending device authorization whose consent screen `user` was shown (the form's sealed handle)."""
    sealed = app.unseal("device", handle)
    if not isinstance(sealed, list) or len(sealed) != 2 or sealed[1] != user.id:
        fail(400, "This form has expired. Type the code your device shows again.")
    device = pending_device(app, sealed[0])
    if device is None:
        fail(400, "This code was answered already, or it has expired. Start again on your device.")
    return device


def device_consent_post(app):
    """POST /device/consent: Allow (the scopes ticked, never more than asked for) or Deny, for the code the
    screen was shown for (sealed in the form, so this form cannot guess codes); then: back to the device."""
    app.check_csrf()
    user = app.require_user()
    device = sealed_device(app, form_value("key"), user)
    action = form_value("action")
    if action not in ("approve", "deny"):
        fail(400, "Choose Allow or Deny.")
    chosen = set(bottle.request.forms.getall("scope"))
    scopes = [s for s in device.scope.split() if s in chosen]
    if action == "approve" and not scopes:
        fail(400, "Tick at least one permission to allow, or choose Deny.")
    session = app.current_session()
    if not answer_device(app, device, user, scopes, action == "approve", session.created_at if session else None):
        fail(400, "This code was answered already, or it has expired. Start again on your device.")
    return app.render("device_done.tpl", title="Go back to your device", approved=action == "approve",
                      client=stored_client(device))


def device_logo(app, key):
    """The logo of the app on a device consent screen (its sealed handle), proxied like the consent page's."""
    sealed = app.unseal("device", key)
    device = app.storage.find_device_code(user_code=sealed[0]) if isinstance(sealed, list) and sealed else None
    return send_logo(app, json.loads(device.client_data).get("logo", "") if device else "")


# ---------------------------------------------------------------------------------------------
#  Token Revocation (IndieAuth §7; RFC 7009) and Access Token Verification (IndieAuth §6)
# ---------------------------------------------------------------------------------------------


def revoke_token_row(app, token):
    """Revoke a token row and record a TokenRevoked event; a refresh token takes the grant's access
    tokens along (S85).  The one way the endpoint, the /tokens page and the CLI revoke."""
    if token.kind == "refresh":
        app.storage.revoke_family(token.family)
    else:
        app.storage.revoke_token(token)
    app.event(TokenRevoked(token.user, token.me, token.client_id, token.scope, token.kind, token.jti, app.now()),
              TokenRevoked.name, user=token.user, client_id=token.client_id, token_kind=token.kind, jti=token.jti)


def revoke(app, form):
    """Revoke the token in `form`; unknown tokens are fine (S82–S86).  A refresh token takes its family.
    A pre-registered (confidential) client's token is revoked only by that client, authenticated
    (RFC 7009 §2.1; `form` comes through client_id_from_basic, which checked the secret)."""
    if not form.get("token"):
        raise InvalidRequest("The token parameter is missing.")
    token = app.storage.find_token(form["token"])  # S82: the hint only orders the search; one table
    if token is None:
        return False
    if (canonical_client_id(form.get("client_id")) != token.client_id
            and app.storage.get_client(token.client_id) is not None):
        raise InvalidClient("This token was issued to a registered app: that app revokes it, authenticated "
                            "with its client_id and secret (or its user, on the token page).")
    revoke_token_row(app, token)  # S85: a refresh token takes the grant's access tokens along
    return True


# Each server process keeps the tokens it verified for `[tokens] verification_cache` seconds, so that a
# resource server asking again and again costs no query.  Every contract method that can end a live access
# token or change what its verification answers (ENDS_TOKENS) changes, once it has returned, a generation
# number in a small file beside the configuration (GENERATION_FILE), which every process on the machine
# maps into its memory and reads before each lookup: what a process kept under another generation is
# never used, so a revocation (by any process, the CLI included) is refused at once everywhere on the
# machine.  A process on another machine sharing a PostgreSQL or MariaDB database sees it within
# `verification_cache` seconds.  Without the file (a folder the server cannot write), nothing is kept.
ENDS_TOKENS = frozenset({"update_user", "disable_user", "delete_user", "revoke_token", "revoke_family",
                         "revoke_tokens_from_code", "revoke_tokens", "create_client", "set_client_roles",
                         "assign_role", "remove_client", "revoke_resource_server"})
GENERATION_FILE = ".indieauth-generation"
VERIFIED_MAX = 10_000  # tokens kept per process; all are dropped when there would be more


def map_generation(path):
    """The 8-byte generation number in `path`, shared by every process that maps it; None if unusable."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_size < 8:
                os.pwrite(fd, secrets.token_bytes(8), 0)
            return mmap.mmap(fd, 8)
        finally:
            os.close(fd)
    except (OSError, ValueError) as exc:
        log.info("verified tokens are not kept between requests: cannot use %s (%s)", path, exc)
        return None


class VerifiedTokens:
    """The live access tokens this process verified a moment ago, by the hash of the raw token, each with
    the generation it was read at and the time it is kept until (never past its expiry)."""

    def __init__(self, path, seconds, clock):
        self.clock, self.kept = clock, {}
        self.shared = map_generation(path) if seconds else None
        self.keep_for = datetime.timedelta(seconds=seconds if self.shared is not None else 0)
        self.seen = None  # the generation last read: when it changes, everything kept goes

    def look(self, raw):
        """(key, generation, the kept token or None); read the generation before the database is asked."""
        if self.shared is None:
            return None, None, None
        key, generation = hashlib.sha256(raw.encode()).digest(), self.shared[:8]
        if generation != self.seen:
            self.kept, self.seen = {}, generation
        kept = self.kept.get(key)
        if kept is not None and kept[0] == generation and kept[1] > self.clock():
            return key, generation, kept[2]
        return key, generation, None

    def keep(self, key, generation, token):
        if key is None:
            return
        if len(self.kept) >= VERIFIED_MAX:
            self.kept = {}
        until = self.clock() + self.keep_for
        expires = getattr(token, "expires_at", None)  # a resource server's credential has none
        self.kept[key] = (generation, until if expires is None else min(until, expires), token)

    def changed(self):
        """A token may have ended: every process drops what it kept."""
        if self.shared is not None:
            self.shared[:8] = secrets.token_bytes(8)
            self.kept = {}

    def watch(self, storage):
        """Make each ENDS_TOKENS method of `storage` call changed() once it has returned (or raised)."""
        def ending(method):
            @functools.wraps(method)
            def call(*args, **kwargs):
                try:
                    return method(*args, **kwargs)
                finally:
                    self.changed()
            return call
        for name in ENDS_TOKENS:
            if hasattr(storage, name):
                setattr(storage, name, ending(getattr(storage, name)))
        return storage


def verified_token(app, raw):
    """The live access token for a raw token, or None; kept a moment by app.verified (VerifiedTokens)."""
    if not raw:
        return None
    key, generation, token = app.verified.look(raw)
    if token is not None:
        return token
    token = app.storage.find_token(raw)
    if token is None or token.kind != "access" or not app.storage.token_is_live(token):
        return None
    app.verified.keep(key, generation, token)
    return token


TOUCH_INTERVAL = datetime.timedelta(minutes=1)


def live_access_token(app, raw):
    """The live access token for a raw bearer token; InvalidToken otherwise.  Its last use is recorded
    to the minute: a write (and on SQLite a commit) for every verification would cost more than it tells."""
    token = verified_token(app, raw)
    if token is None:
        raise InvalidToken("The access token is not valid, has expired or was revoked.")
    if token.last_used_at is None or token.last_used_at <= app.now() - TOUCH_INTERVAL:
        app.storage.touch_token(token)
        token.last_used_at = app.now()  # the kept token too: touched again a minute later, not at once
    return token


def serves_audience(server, token):
    """True when the resource server (a credential's row, or None) may see `token`: it is bound to no
    resource, or to one the token is for (a token for `me` is for none of them)."""
    bound = server.resources.split() if server is not None and getattr(server, "resources", "") else []
    return not bound or any(r in bound for r in token.resource.split())


def resource_server(app, secret):
    """The resource server whose credential `secret` is, or None (a miss counts against the address, and
    a paused address is refused, SlowDown).  Kept a moment by app.verified as verified tokens are, under
    a key of its own: a resource server introspects token after token with one credential.  A kept answer
    skips the throttle's look, which can tell a guesser nothing: a guess is never kept."""
    key, generation, kept = app.verified.look("resource server " + secret) if secret else (None, None, None)
    if kept is not None:
        return kept
    found = app.opened_by(lambda: secret and app.storage.check_resource_server(secret), SlowDown.now)
    if found:
        app.verified.keep(key, generation, found)
    return found


def introspection(app, raw, server=None):
    """RFC 7662 §2.2 and IndieAuth §6.2: `active` true with details, or only `active` false (S77–S79).  A
    resource `server` bound to resources sees only the tokens for one of them as active (issue 20)."""
    token = verified_token(app, raw)
    if token is None or not serves_audience(server, token):
        return {"active": False}
    body = {"active": True, "me": token.me, "client_id": token.client_id, "scope": token.scope,
            "iat": int(token.created_at.replace(tzinfo=datetime.timezone.utc).timestamp()),
            "token_type": "Bearer", "iss": app.issuer, "aud": audience(token.resource, token.me)}
    if token.via == "ticket":  # a ticket's token: what it gives access to
        body["resource"] = token.resource
    role = app.storage.role_for(token.user, token.client_id)
    if role:
        body["role"] = role  # as it is now: an admin's change shows at once, unlike a JWT's claim
    if token.expires_at is not None:
        body["exp"] = int(token.expires_at.replace(tzinfo=datetime.timezone.utc).timestamp())
    return body


# -- endpoints: verifying a token (GET /token), revocation, introspection, userinfo

def bearer_token():
    """The bearer token of this request: the Authorization header (also as Apache's
    REDIRECT_HTTP_AUTHORIZATION), or the RFC 6750 §2.2 `access_token` form field; None if absent."""
    environ = bottle.request.environ
    header = environ.get("HTTP_AUTHORIZATION") or environ.get("REDIRECT_HTTP_AUTHORIZATION", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if bottle.request.method == "POST":
        token = posted_form().get("access_token")  # InvalidRequest (400) when it cannot be decoded
        if token:
            return token
    if "access_token" in bottle.request.query:  # SEC48: never in the URL, where logs keep it
        raise InvalidRequest("Send the access token in the Authorization header, not in the URL.")
    return None


def presented_token(app):
    """The live access token this request presents: NoCredentials (401) without one, InvalidToken when
    it is not live."""
    raw = bearer_token()
    if raw is None:
        raise NoCredentials()
    return live_access_token(app, raw)


def token_get(app):
    """GET /token with a bearer token: the legacy verification answer (S91, SEC51)."""
    def verify():
        token = presented_token(app)
        body = {"me": token.me, "client_id": token.client_id, "scope": token.scope,
                "aud": audience(token.resource, token.me)}
        if token.via == "ticket":  # a ticket's token: what it gives access to
            body["resource"] = token.resource
        role = app.storage.role_for(token.user, token.client_id)
        return dict(body, role=role) if role else body
    return oauth_json(verify)


def revoke_post(app):
    """POST /revoke (RFC 7009): 200 for known and unknown tokens alike (S82–S86)."""
    return oauth_json(lambda: revoke(app, client_id_from_basic(app, posted_form())) and {} or {})


def introspect_post(app):
    """POST /introspect (RFC 7662), for resource servers holding a credential (S75–S79)."""
    def handle():
        header = bottle.request.environ.get("HTTP_AUTHORIZATION") or bottle.request.environ.get(
            "REDIRECT_HTTP_AUTHORIZATION", "")
        scheme, _, value = header.partition(" ")
        secret = value.strip() if scheme.lower() == "bearer" else (basic_credentials(header) or ("", ""))[1]
        server = resource_server(app, secret)
        if not server:
            raise InvalidClient("Introspection needs a resource-server credential "
                                "(create one with `indieauth resource-server add NAME`).")
        form = posted_form()
        if not form.get("token"):
            raise InvalidRequest("The token parameter is missing.")
        return introspection(app, form["token"], server)
    return oauth_json(handle)


def userinfo(app):
    """GET /userinfo with a bearer token that has profile or email (S87–S89, SEC49)."""
    def handle():
        token = presented_token(app)
        scopes = token.scope.split()
        if "profile" not in scopes and "email" not in scopes:
            raise InsufficientScope("The token needs the profile or email scope.")
        profile = app.pm.hook.user_profile(app=app, me=token.me, scopes=scopes) or {}
        if "profile" not in scopes:
            profile = {k: v for k, v in profile.items() if k == "email"}
        return {k: v for k, v in profile.items() if k != "email" or "email" in scopes}
    return oauth_json(handle)


# ---------------------------------------------------------------------------------------------
#  Ticketing for IndieAuth (indieweb.org/IndieAuth_Ticket_Auth)
# ---------------------------------------------------------------------------------------------
# A user of ours gives someone access to a resource without being asked: we send the subject's server a
# ticket, which it redeems at our token endpoint for a token whose `me` is the subject (TK8–TK10).  And
# the other way round: our ticket endpoint takes tickets sent to our users, redeems them at the sender's
# token endpoint off the request thread, and keeps the tokens, sealed, for the user (TK2–TK7).

TICKET_LIFETIME = 300  # seconds a ticket we send can be redeemed: a server redeems it at once (TK8)
TICKET_SCOPE = "read"
TICKET_FIELD_MAX = 2048  # characters of a ticket, resource, subject or iss that the ticket endpoint takes
RECEIVED_MAX = 200  # tokens a user keeps from tickets: anyone may send tickets, so what they fill is bounded
TICKET_REDEEMERS, TICKET_QUEUE = 2, 16  # threads redeeming tickets sent to our users, and tickets waiting
TICKET_REQUESTS = 20  # tickets one address may send within `[security] failure_window`
METADATA_MAX_BYTES = 64 * 1024


class TicketProblem(Exception):
    """Why a ticket sent to one of our users was not redeemed: recorded in the audit log."""


def ticket_url_problem(app, url, what):
    """'' when `url` may be a ticket's subject, resource, iss or endpoint: an https URL, or in development
    (a loopback base_url) an http one on loopback, as profile URLs (S6); otherwise what is wrong."""
    parts = split_url(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        return f"The {what} must be an absolute https URL."
    if parts.fragment or parts.username is not None or parts.password is not None:
        return f"The {what} must not contain a fragment or a user name and password."
    if parts.scheme == "http" and not (app.dev_profiles and is_loopback(parts.hostname)):
        return f"The {what} must be an https URL (http only on loopback, for a development server)."
    return ""


def ticket_scopes(scope):
    """The scopes of a ticket we send: `read` unless others are named; UsageError for profile and email,
    which are about a person, not a resource."""
    try:
        scopes = parse_scope(scope or TICKET_SCOPE)
    except OAuthError as error:
        raise UsageError(error.description) from None
    if any(s in PROFILE_SCOPES for s in scopes) or not scopes:
        raise UsageError("A ticket gives access to a resource: name scopes such as read, not profile or email.")
    return scopes


def server_metadata(http, url):
    """The JSON object an authorization server publishes at `url` (RFC 8414); FetchError otherwise."""
    response = http.get(url, accept="application/json", max_bytes=METADATA_MAX_BYTES)
    if response.status != 200:
        raise FetchError(f"{url} answered HTTP {response.status}")
    try:
        data = json.loads(response.content)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise FetchError(f"{url} is not a JSON metadata document")
    return data


def discover_ticket_endpoint(app, subject):
    """The subject's ticket endpoint (TK10): its indieauth-metadata's `ticket_endpoint`, else its
    rel=ticket_endpoint link; FetchError when it has none, or one the rules refuse."""
    links = profile_discovery(app.http, subject, ("indieauth-metadata", "ticket_endpoint"))
    endpoint = None
    if "indieauth-metadata" in links:
        endpoint = server_metadata(app.http, links["indieauth-metadata"]).get("ticket_endpoint")
    endpoint = endpoint if isinstance(endpoint, str) and endpoint else links.get("ticket_endpoint")
    if not endpoint:
        raise FetchError(f"{subject} publishes no ticket endpoint, so it cannot receive tickets")
    problem = ticket_url_problem(app, endpoint, "subject's ticket endpoint")
    if problem:
        raise FetchError(problem)
    return endpoint


def send_ticket(app, user, subject, resource, scope=""):
    """Send `subject` a ticket for `resource` from `user` (TK10): the Ticket row, once the subject's ticket
    endpoint took it.  UsageError for a URL or scope the rules refuse; FetchError when the endpoint cannot
    be found or reached, or refuses the ticket (also in the audit log)."""
    subject = canonical_url(subject or "")
    problem = (ticket_url_problem(app, subject, "subject") or profile_url_problem(subject, app.dev_profiles)
               or ticket_url_problem(app, resource, "resource"))
    if problem:
        raise UsageError(problem)
    scopes = ticket_scopes(scope)
    try:
        endpoint = discover_ticket_endpoint(app, subject)
        raw, ticket = app.storage.create_ticket(user, subject, resource, " ".join(scopes), endpoint, TICKET_LIFETIME)
        response = app.http.request("POST", endpoint, accept="application/json", follow_redirects=False,
                                    data={"ticket": raw, "resource": resource, "subject": subject, "iss": app.issuer})
        if response.status not in (200, 201, 202):
            raise FetchError(f"the ticket endpoint {endpoint} refused the ticket (HTTP {response.status})")
    except FetchError as error:
        app.storage.log_event("ticket_not_sent", user=user, subject=subject, resource=resource, reason=str(error),
                              address=app.client_address() or "cli")
        raise
    app.event(TicketSent(user, subject, resource, ticket.scope, endpoint, ticket.created_at), TicketSent.name,
              user=user, subject=subject, resource=resource, scope=ticket.scope, endpoint=endpoint)
    return ticket


def redeem_ticket(app, form):
    """The token response for `grant_type=ticket` (TK8, TK9): an access token whose `me` is the subject, for
    the resource, the ticket spent in the same transaction; InvalidGrant for a ticket that is not a live
    one of ours, and a replay revokes what the first use got (as for codes, SEC1)."""
    if not form.get("ticket"):
        raise InvalidRequest("The ticket parameter is missing.")
    ticket = app.storage.find_ticket(form["ticket"])
    if ticket is None:
        raise InvalidGrant("The ticket is not valid.")
    if ticket.used_at is not None:
        app.storage.revoke_family(ticket.family)
        raise InvalidGrant("The ticket was used already; the token issued from it is revoked.")
    if ticket.expires_at <= app.now():
        raise InvalidGrant("The ticket has expired.")
    if ticket.user.disabled_at is not None:
        raise InvalidGrant("The account that sent this ticket is disabled.")
    return issue_once(app, lambda: app.storage.use_ticket(ticket), lambda after: token_response(
        app, ticket.user, canonical_client_id(ticket.endpoint), ticket.scope.split(), family=ticket.family,
        grant_type="ticket", after=after, ticket=ticket), ticket.family, "ticket")


def ticket_subject(app, subject):
    """The enabled user whose profile URL `subject` is, or None."""
    user = app.storage.get_user(me=canonical_url(subject))
    return user if user is not None and user.disabled_at is None else None


def accept_ticket(app, form):
    """Take a ticket sent to one of our users (TK2–TK4): its redemption queued on `app.ticket_fetchers`
    (TemporarilyUnavailable when full; run at once under CGI, whose process ends with the answer).  InvalidRequest for a missing or refused parameter or a subject
    that is not one of our users (counted against the address, as a wrong secret is)."""
    form = dict(form)
    if len(form.get("resource") or ()) > 1:  # single_params gives a list: RFC 8707 names it repeatable
        raise InvalidRequest("A ticket is for one resource: send the resource parameter once.")
    form["resource"] = (form.get("resource") or [""])[0]
    for name in ("ticket", "resource", "subject"):
        if not form.get(name):
            raise InvalidRequest(f"The {name} parameter is missing.")
    if any(len(form.get(name, "")) > TICKET_FIELD_MAX for name in ("ticket", "resource", "subject", "iss")):
        raise InvalidRequest(f"A parameter is longer than {TICKET_FIELD_MAX} characters.")
    problem = ticket_url_problem(app, form["resource"], "resource") or (
        form.get("iss") and ticket_url_problem(app, form["iss"], "iss"))
    if problem:
        raise InvalidRequest(problem)
    address = app.client_address()
    user = app.opened_by(lambda: ticket_subject(app, form["subject"]), SlowDown.now)
    if user is None:
        app.storage.log_event("ticket_refused", subject=form["subject"][:255], resource=form["resource"],
                              reason="the subject is not a user of this server", address=address)
        raise InvalidRequest("The subject is not a user of this server.")
    # each ticket taken makes us fetch from a server the sender names and may store a token: bounded per address
    count_address_request(app, "ticket", TICKET_REQUESTS, "tickets")
    job = functools.partial(redeem_received_ticket, app, user, form["ticket"], form["resource"],
                            form.get("iss", ""), address)
    if os.environ.get("GATEWAY_INTERFACE", "").startswith("CGI"):
        job()
        return
    try:
        app.ticket_fetchers.submit(("ticket", token_hash(form["ticket"])), job)
    except FetchBusy:
        raise TemporarilyUnavailable("Too many tickets are being redeemed; send it again in a minute.") from None


def ticket_token_endpoint(app, resource, iss):
    """(token endpoint, issuer) to redeem a ticket at (TK5): from the metadata of `iss` when it is given
    (its `issuer` must be `iss`, RFC 8414 §3.3), else discovered from `resource`; TicketProblem otherwise."""
    if iss:
        parts = urllib.parse.urlsplit(iss)
        path = parts.path.rstrip("/")
        for url in dict.fromkeys([f"{parts.scheme}://{parts.netloc}/.well-known/oauth-authorization-server{path}",
                                  iss.rstrip("/") + "/.well-known/oauth-authorization-server"]):
            try:
                found = server_metadata(app.http, url)
            except FetchError as error:
                last = error
                continue
            if found.get("issuer") != iss:
                raise TicketProblem(f"the metadata of {iss} names another issuer, {found.get('issuer')!r}")
            return ticket_endpoint_of(app, found.get("token_endpoint")), iss
        raise TicketProblem(f"the metadata of {iss} cannot be read: {last}")
    links = profile_discovery(app.http, resource, ("indieauth-metadata", "token_endpoint"))
    if "indieauth-metadata" in links:
        found = server_metadata(app.http, links["indieauth-metadata"])
        return ticket_endpoint_of(app, found.get("token_endpoint")), str(found.get("issuer", ""))[:512]
    if "token_endpoint" in links:
        return ticket_endpoint_of(app, links["token_endpoint"]), ""
    raise TicketProblem(f"{resource} names no authorization server (no indieauth-metadata or token_endpoint link)")


def ticket_endpoint_of(app, url):
    """`url` as the token endpoint to redeem a ticket at; TicketProblem when it is missing or refused."""
    problem = ticket_url_problem(app, url, "token endpoint") if url else "The metadata has no token_endpoint."
    if problem:
        raise TicketProblem(problem)
    return url


def received_token_cipher(app):
    """The Fernet cipher (AES-CBC with HMAC) that seals received tokens, keyed from the server's secret."""
    from cryptography.fernet import Fernet
    key = hashlib.sha256(b"indieauth received tokens\0" + app.secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def open_received_token(app, row):
    """{access_token, token_type, refresh_token} of a received token; None when the server's secret changed."""
    from cryptography.fernet import InvalidToken as Unreadable
    try:
        return json.loads(received_token_cipher(app).decrypt(row.sealed.encode()))
    except (Unreadable, ValueError):
        return None


def redeem_received_ticket(app, user, ticket, resource, iss, address):
    """Redeem a ticket sent to `user` at the sender's token endpoint (TK5–TK7) and keep the token, sealed;
    a failure is recorded in the audit log (a defect in the log), never raised: this runs off the request."""
    issuer = iss
    try:
        endpoint, issuer = ticket_token_endpoint(app, resource, iss)
        response = app.http.request("POST", endpoint, accept="application/json", follow_redirects=False,
                                    data={"grant_type": "ticket", "ticket": ticket})
        try:
            body = json.loads(response.content)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise TicketProblem(f"the token endpoint answered HTTP {response.status} without a JSON object")
        if response.status != 200 or not isinstance(body.get("access_token"), str):
            raise TicketProblem(f"the token endpoint refused the ticket (HTTP {response.status}, "
                                f"{str(body.get('error', 'no access_token'))[:100]})")
        if not isinstance(body.get("me"), str) or canonical_url(body["me"]) != user.me:
            raise TicketProblem(f"the token is for {str(body.get('me'))[:255]!r}, not for {user.me}")
        if len(app.storage.received_tokens(user)) >= RECEIVED_MAX:
            raise TicketProblem(f"{user.username} keeps {RECEIVED_MAX} received tokens already")
        expires_in = body.get("expires_in")
        expires_at = app.now() + datetime.timedelta(seconds=expires_in) if (
            isinstance(expires_in, int) and 0 < expires_in < 10 * 365 * 86400) else None
        sealed = received_token_cipher(app).encrypt(json.dumps(
            {k: body.get(k) for k in ("access_token", "token_type", "refresh_token")}).encode()).decode()
        scope = str(body.get("scope", ""))[:1000]
        app.storage.keep_received_token(user, resource, issuer or endpoint, endpoint, scope, sealed, expires_at)
        app.event(TicketReceived(user, resource, issuer or endpoint, scope, app.now()), TicketReceived.name,
                  user=user, resource=resource, issuer=issuer or endpoint, scope=scope, address=address)
    except (FetchError, TicketProblem) as problem:
        app.storage.log_event("ticket_failed", user=user, resource=resource, issuer=issuer, reason=str(problem),
                              address=address)
    except Exception:  # a defect: logged with its traceback, never a request's 500 (under CGI this runs in one)
        log.exception("redeeming a ticket for %s failed", user.username)
    finally:
        app.storage.close()


def after_tickets(pool, then):
    """Stop the ticket pool and call `then` (closing every database connection) once the tickets being
    redeemed are done: at once when none is, else on a thread of its own (a redemption writes to the database)."""
    pool.stop()
    if not pool.threads:
        return then()

    def when_redeemed():
        pool.join()
        then()
    threading.Thread(target=when_redeemed, name="indieauth-close", daemon=True).start()


# -- endpoints: the ticket endpoint

def ticket_post(app):
    """POST /ticket: a ticket for one of our users, taken with 202 Accepted and redeemed off the request."""
    return oauth_json(lambda: accept_ticket(app, posted_form()) or {}, success=202)


# ---------------------------------------------------------------------------------------------
#  Server Metadata (IndieAuth §4.1.1; RFC 8414)
# ---------------------------------------------------------------------------------------------


def metadata(app):
    """The JSON document at /.well-known/oauth-authorization-server (S16–S22)."""
    return {
        "issuer": app.issuer,
        "authorization_endpoint": app.url("auth"),
        "token_endpoint": app.url("token"),
        "introspection_endpoint": app.url("introspect"),
        # a resource-server credential as `Authorization: Bearer SECRET` (IndieAuth §6.1) or HTTP Basic (S76)
        "introspection_endpoint_auth_methods_supported": ["Bearer", "client_secret_basic"],
        "revocation_endpoint": app.url("revoke"),
        "revocation_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
        "userinfo_endpoint": app.url("userinfo"),
        "jwks_uri": app.url(".well-known/jwks.json"),
        "pushed_authorization_request_endpoint": app.url("par"),
        "require_pushed_authorization_requests": app.config["security"]["require_par"],
        "scopes_supported": [s.name for s in app.scopes.values()],
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token", DEVICE_GRANT, "ticket"],
        "device_authorization_endpoint": app.url("device_authorization"),
        "ticket_endpoint": app.url("ticket"),
        # what the MCP authorization spec looks for: a client_id may be the URL of its metadata document
        "client_id_metadata_document_supported": True,
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
        "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
        "service_documentation": app.url("docs"),
    }


# -- endpoints: the metadata document, the key set and CORS preflight

def metadata_get(app):
    """GET /.well-known/oauth-authorization-server (S16, S19–S22)."""
    bottle.response.content_type = "application/json"
    bottle.response.set_header("Cache-Control", "public, max-age=3600")
    if app.metadata_json is None:  # the same for every request: made once
        app.metadata_json = json.dumps(metadata(app), indent=2)
    return app.metadata_json


def metadata_at_path(app, path):
    """GET /.well-known/oauth-authorization-server/PATH, where RFC 8414 §3.1 puts the metadata of an issuer
    whose URL has a path (PATH is that path): for a web server that forwards that URL, as it is, to here."""
    issuer_path = urllib.parse.urlsplit(app.issuer).path.strip("/")
    if not issuer_path or path.strip("/") != issuer_path:
        fail(404, "This server's metadata is at /.well-known/oauth-authorization-server under its base_url.")
    return metadata_get(app)


def jwks_get(app):
    """GET /.well-known/jwks.json: the public keys of JWT access tokens (RFC 7517)."""
    bottle.response.content_type = "application/json"
    bottle.response.set_header("Cache-Control", "public, max-age=300")
    return json.dumps(app.keys.jwks(), indent=2)


def preflight(app):
    """CORS preflight for the endpoints browser-based clients call (S22)."""
    bottle.response.status = 204
    bottle.response.set_header("Access-Control-Allow-Methods", "GET, POST")
    bottle.response.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept")
    bottle.response.set_header("Access-Control-Max-Age", "86400")
    return ""


# ---------------------------------------------------------------------------------------------
#  Sessions and sign-in
# ---------------------------------------------------------------------------------------------


class AuthenticationFailed(Exception):
    """Raised by an authenticator's `finish`: `message` is shown to the person as it is."""

    def __init__(self, message, status=400, retry_after=None, username=""):
        super().__init__(message)
        self.message, self.status, self.retry_after, self.username = message, status, retry_after, username


class StateRefused(Exception):
    """`app.take_callback_state` found no state it may give: `reason` is "missing" (none was sent),
    "unknown", "other_browser" (or cookies are blocked), "used" or "expired"."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


class Authenticator:
    """A way to prove who is at the keyboard, supplied by a plugin.

    `name` (the plugin name; its routes live under /login/<name>/) and `label` (shown to people).
    `supports(user)` says whether this method can sign in `user`.  `start(request, context)` returns
    the HTML fragment shown on the login page; `context` has `action` (where to POST), `csrf_token`,
    `next`, `error` and `username`.  `finish(request)` returns the verified User or raises
    AuthenticationFailed; the core has already checked the CSRF token.  `settings_url`, when set,
    is the page where a signed-in user manages this method (linked from the start page).
    `stylesheets` and `scripts` are paths on this server that the login page's <head> loads (scripts
    deferred) while this method is shown, each once however many methods name it.

    An authenticator that can prove a person controls a website without an account here (RelMeAuth)
    sets `proves_sites` and implements `prove_site(me, next_url)`: it sends the browser off to prove
    `me` and, once proven, answers with `app.site_proven(me, name, next_url)`.  Sign-up through an
    invite offers it for a site that does not link to this server."""

    name = ""
    label = ""
    settings_url = None
    proves_sites = False
    stylesheets = ()
    scripts = ()

    def prove_site(self, me, next_url):
        raise NotImplementedError

    def supports(self, user):
        return True

    def start(self, request, context):
        raise NotImplementedError

    def finish(self, request):
        raise NotImplementedError


# Once `account_failures` failures of one account from all addresses together fall in the window, each
# further attempt at that account waits until this many seconds after the one before (see Throttle).
ACCOUNT_PACE = 5


def account_key(username):
    return f"account:{username.strip().lower()[:64]}"


def throttled_address(address):
    """The address failures are counted under: an IPv6 address by its /64, which one subscriber holds."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    return str(ipaddress.ip_network(f"{ip}/64", strict=False)) if ip.version == 6 else str(ip)


class Throttle:
    """Counts failed attempts at secrets in the database, so it holds across processes.

    An address may fail `address_failures` times within `failure_window` at anything (passwords, codes,
    links, invites, client secrets) and `account_failures` times at one account; then it waits until its
    oldest failure leaves the window.  An account's failures from all addresses together never pause it:
    once `account_failures` of them fall in the window, each attempt at it comes ACCOUNT_PACE seconds
    after the one before.  So guessing is slowed, and the owner, from an address of their own, waits a
    few seconds at most: knowing a user name does not let anyone lock its owner out."""

    def __init__(self, app):
        self.app = app

    def keys(self, username, address):
        """{key: limit} of the counts an attempt is held to; the limit None paces instead of pausing."""
        settings = self.app.config["security"]
        address = throttled_address(address)
        keys = {f"address:{address}": settings["address_failures"]}
        if username:
            keys[f"{account_key(username)}|{address}"] = settings["account_failures"]
            keys[account_key(username)] = None
        return keys

    ATTEMPT = "indieauth.attempt"  # request environ: {key: id} of this request's provisional failures

    def _attempt(self):
        try:
            return bottle.request.environ.setdefault(self.ATTEMPT, {})
        except RuntimeError:  # outside a request: nothing provisional to keep
            return {}

    def retry_after(self, username, address):
        """Seconds until another attempt is allowed; 0 when it is allowed now.

        An allowed attempt is counted at once, as a provisional failure: parallel attempts see each other
        and cannot all slip under the limit.  `failed` keeps it, `succeeded` drops it, and so does the end
        of the request (an attempt that only left for an identity provider is no failure)."""
        settings = self.app.config["security"]
        window = datetime.timedelta(seconds=settings["failure_window"])
        pace = datetime.timedelta(seconds=ACCOUNT_PACE)
        now = self.app.now()
        attempt, wait = self._attempt(), 0
        for key, limit in self.keys(username, address).items():
            if key not in attempt:
                attempt[key] = self.app.storage.record_failure([key])[0]
            count, oldest = self.app.storage.failures_since(key, now - window)  # this attempt's own row included
            if limit is None and count > settings["account_failures"]:
                recent, since = self.app.storage.failures_since(key, now - pace)
                if recent > 1:
                    wait = max(wait, math.ceil((since + pace - now).total_seconds()))
            elif limit is not None and count > limit:
                wait = max(wait, math.ceil((oldest + window - now).total_seconds()))
        if wait:
            self.discard()  # a refused attempt is not a failure
        return wait

    def check(self, username, address):
        """Count an attempt at `username`'s secret from `address` (as retry_after does); AuthenticationFailed
        (429, with Retry-After) when it must wait.  Authenticators call it before they look at what was entered."""
        wait = self.retry_after(username, address)
        if wait:
            raise AuthenticationFailed(too_many_attempts(wait), status=429, retry_after=wait, username=username)

    def address_wait(self, address):
        """Seconds `address` must wait before it may try a random secret (a link, an invite, a client or
        resource-server secret) again; 0 now.  Only a look: a guess at 256 random bits gains nothing by racing."""
        settings = self.app.config["security"]
        window = datetime.timedelta(seconds=settings["failure_window"])
        now = self.app.now()
        count, oldest = self.app.storage.failures_since(f"address:{throttled_address(address)}", now - window)
        return math.ceil((oldest + window - now).total_seconds()) if count >= settings["address_failures"] else 0

    def failed(self, username, address):
        """Count a failure: this request's provisional rows stay, the keys without one get one."""
        attempt = self._attempt()
        missing = [key for key in self.keys(username, address) if key not in attempt]
        if missing:
            self.app.storage.record_failure(missing)
        attempt.clear()  # kept for good

    def succeeded(self, username):
        """Forget an account's failures (from everywhere, and this address's at it); the core calls this when
        a whole sign-in (every factor) succeeds."""
        self.discard()
        if username:
            self.app.storage.clear_failures(account_key(username))
            self.app.storage.clear_failures(f"{account_key(username)}|{throttled_address(self.app.client_address())}")

    def discard(self):
        """Drop this request's provisional failures (at success, at refusal, and at the end of a request)."""
        attempt = self._attempt()
        if attempt:
            self.app.storage.delete_failures(list(attempt.values()))
            attempt.clear()


def describe_wait(seconds):
    """'4 minutes', '30 seconds': a wait in words a person reads."""
    if seconds >= 90:
        return f"{(seconds + 59) // 60} minutes"
    return f"{seconds} seconds"


def refuse_attempt(wait):
    """Stop a request the throttle refused: the 429 page (JSON `slow_down` on API paths) with Retry-After."""
    raise PageError(429, too_many_attempts(wait), **{"Retry-After": str(wait)})


def too_many_attempts(wait):
    """What a person is told when the throttle refuses an attempt: when to try again, and how else to get in."""
    return (f"Too many failed attempts. You can try again in {describe_wait(wait)}. If you cannot wait, the "
            f"server's owner can make you a one-time sign-in link with the command indieauth user link.")


MAX_NEXT = 1000  # characters of a `next` path kept through a sign-in


def safe_next(value):
    """`value` if it is a safe path on this server to go to after signing in, else '/' (SEC16): printable,
    one leading '/', and (decoded too) no backslash and no dot segment, so that put after base_url it
    stays under base_url.  Every `next`, the core's and plugins', goes through here."""
    if not isinstance(value, str) or not value.startswith("/") or len(value) > MAX_NEXT:
        return "/"
    path = urllib.parse.unquote(value.partition("?")[0].partition("#")[0])
    # `//host` and `/\host` (raw or %2F-encoded) name another host to a browser; it drops tabs and
    # newlines first, and resolves `..` (also as %2e%2e) above a base_url's path
    if (path.startswith("//") or "\\" in value or "\\" in path or not value.isprintable() or " " in value
            or any(segment in (".", "..") for segment in path.split("/"))):
        return "/"
    return value


def sign(secret, value):
    return hmac.new(secret.encode(), value.encode("utf-8", "surrogateescape"), hashlib.sha256).hexdigest()[:32]


def same(a, b):
    """Constant-time equality of two strings, whatever characters they hold."""
    return hmac.compare_digest(a.encode("utf-8", "surrogateescape"), b.encode("utf-8", "surrogateescape"))


SESSION_COOKIE = "indieauth_session"
PARTIAL_COOKIE = "indieauth_partial"
PROOF_COOKIE = "indieauth_site_proof"
BROWSER_COOKIE = "indieauth_browser"  # a random value binding callback states to this browser
PROOF_LIFETIME = 900  # seconds between proving one's site (RelMeAuth) and using the proof to sign up
CSRF_COOKIE = "indieauth_csrf"
CSRF_HEADER = "X-CSRF-Token"  # where a script (fetch()) sends the page's csrf_token instead of a form field
LINK_USED = ("This sign-in link is not valid any more: each link works once and expires. Ask the "
             "server's owner for a new one (the command indieauth user link makes one).")


def pending_authorization(app, next_url):
    """The stored authorization request a sign-in is for (its `next` is the request's consent page), or None."""
    match = re.fullmatch(r"/auth/consent/([A-Za-z0-9_-]{1,128})", next_url.split("?")[0])
    return app.storage.get_auth_request(match.group(1)) if match else None


def expected_user(app, request):
    """Whom a sign-in is most likely for: the user the app's `me` names (a profile URL, which is public),
    else the sole user; None when that is not known."""
    if request is not None and request.me_hint:
        named = app.storage.get_user(me=request.me_hint)
        if named is not None and named.disabled_at is None:
            return named
    return app.sole_user()


class SignIn:
    """What a signed-in browser has and what plugins call to sign people in: cookies, sessions, CSRF,
    sealed values, sign-in in steps ([auth] methods), site proofs and the throttle for random secrets.
    `IndieAuth` inherits it, so plugins reach all of it as `app.<name>`."""

    # -- the request: the client's address, cookies, the session, CSRF
    def client_address(self, request=None):
        """The client's IP; X-Forwarded-For is believed only from `trusted_proxies`."""
        request = request or bottle.request
        address = request.environ.get("REMOTE_ADDR", "")
        trusted = self.config["server"]["trusted_proxies"]

        def is_trusted(value):
            try:
                ip = ipaddress.ip_address(value)
            except ValueError:
                return False
            return any(ip in network for network in trusted)

        if trusted and is_trusted(address):
            hops = [h.strip() for h in request.environ.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
            for hop in reversed(hops):
                if not is_trusted(hop):
                    return hop[:64]
        return address[:64]

    def _cookie_secure(self):
        return self.base_url.startswith("https:")

    def set_cookie(self, name, value, max_age=None, path="/"):
        """An HttpOnly, SameSite=Lax cookie, Secure when base_url is https."""
        options = {"max_age": max_age} if max_age is not None else {}
        bottle.response.set_cookie(name, value, path=path, httponly=True, samesite="lax",
                                   secure=self._cookie_secure(), **options)

    def session_token(self):
        """The raw session token from a correctly signed cookie, or None."""
        cookie = bottle.request.get_cookie(SESSION_COOKIE) or ""
        raw, _, signature = cookie.rpartition(".")
        if raw and same(signature, sign(self.secret_key, "session:" + raw)):
            return raw
        return None

    def current_session(self):
        """The live Session of this request, or None."""
        if "indieauth.session" not in bottle.request.environ:
            raw = self.session_token()
            bottle.request.environ["indieauth.session"] = self.storage.get_session(raw) if raw else None
        return bottle.request.environ["indieauth.session"]

    def current_user(self):
        session = self.current_session()
        return session.user if session else None

    def csrf_token(self):
        """The CSRF token for forms on this page: an HMAC of this browser's CSRF cookie."""
        environ = bottle.request.environ
        if "indieauth.csrf" not in environ:
            raw = bottle.request.get_cookie(CSRF_COOKIE) or ""
            if len(raw) != 43:
                raw = secrets.token_urlsafe(32)
                self.set_cookie(CSRF_COOKIE, raw)
            environ["indieauth.csrf"] = raw
        return sign(self.secret_key, "csrf:" + environ["indieauth.csrf"])

    def check_csrf(self):
        """Abort with 403 unless the CSRF token matches this browser's CSRF cookie: the X-CSRF-Token header
        when a script's request (a JSON route's fetch()) sends one, otherwise the form's csrf_token."""
        raw = bottle.request.get_cookie(CSRF_COOKIE) or ""
        sent = bottle.request.get_header(CSRF_HEADER) or form_value("csrf_token")
        if not raw or not sent or not same(sent, sign(self.secret_key, "csrf:" + raw)):
            fail(403, "The form could not be accepted because its security token is missing "
                              "or out of date. Go back, reload the page and send the form again.")

    def require_user(self):
        """The signed-in user, or a redirect to the login page that comes back here."""
        user = self.current_user()
        if user is None:
            here = bottle.request.fullpath + ("?" + bottle.request.query_string if bottle.request.query_string else "")
            self.redirect("/login?" + urllib.parse.urlencode({"next": here}))
        return user

    # -- a sign-in that succeeded: a new session
    def login_succeeded(self, user, method, next_url="/"):
        """Start a session for `user` proven by `method`, then resume where the person was going (303)."""
        old = self.session_token()
        if old:
            self.storage.revoke_session(old)
        raw = self.storage.create_session(user, method, self.config["server"]["session_lifetime"],
                                          address=self.client_address())
        self.set_cookie(SESSION_COOKIE, raw + "." + sign(self.secret_key, "session:" + raw),
                        max_age=self.config["server"]["session_lifetime"])
        bottle.response.delete_cookie(PARTIAL_COOKIE, path="/")
        self.throttle.succeeded(user.username)  # only a whole sign-in clears the account's failures
        self.event(LoginSucceeded(user, method, self.client_address()), "login", user=user,
                   method=method, address=self.client_address())
        self.redirect(safe_next(next_url))

    # -- signed, expiring values for cookies and state (plugins may use them too)
    def seal(self, purpose, data, lifetime):
        """`data` (JSON-able) as text signed for `purpose`, good for `lifetime` seconds; see unseal."""
        value = base64.urlsafe_b64encode(json.dumps([data, epoch(self.now()) + lifetime]).encode()).decode()
        return value + "." + sign(self.secret_key, purpose + ":" + value)

    def unseal(self, purpose, text):
        """The data `seal(purpose, …)` made, while it is good; None when forged, for another purpose or old."""
        value, _, signature = (text or "").rpartition(".")
        if not value or not same(signature, sign(self.secret_key, purpose + ":" + value)):
            return None
        try:
            data, expires = json.loads(base64.urlsafe_b64decode(value.encode()))
        except (ValueError, TypeError):
            return None
        return data if isinstance(expires, int) and expires > epoch(self.now()) else None

    # -- own sites proven by RelMeAuth, for sign-up: a signed, short-lived cookie naming the site
    def site_proven(self, me, method, next_url="/"):
        """An authenticator proved that this browser's person controls `me`; remember it briefly, go on."""
        self.set_cookie(PROOF_COOKIE, self.seal("proof", [me, method], PROOF_LIFETIME), max_age=PROOF_LIFETIME)
        self.storage.log_event("site_proven", me=me, method=method, address=self.client_address())
        self.redirect(safe_next(next_url))

    def proven_site(self):
        """(me, method) that this browser proved in the last PROOF_LIFETIME seconds, or None."""
        proof = self.unseal("proof", bottle.request.get_cookie(PROOF_COOKIE))
        return tuple(proof) if isinstance(proof, list) and len(proof) == 2 else None

    # -- single-use state for a sign-in that leaves for another site and comes back (OAuth callbacks)
    def browser_key(self):
        """This browser's random binding value, from an HttpOnly session cookie made on first use: what
        ties a saved callback state to the browser that started the sign-in."""
        environ = bottle.request.environ
        value = environ.get("indieauth.browser") or bottle.request.get_cookie(BROWSER_COOKIE) or ""
        if not 40 <= len(value) <= 64:
            value = secrets.token_urlsafe(32)
            self.set_cookie(BROWSER_COOKIE, value)
        environ["indieauth.browser"] = value
        return value

    def save_callback_state(self, purpose, data, lifetime):
        """Keep `data` (JSON-able) for the sign-in step `purpose` of this browser for `lifetime` seconds, on
        the server; returns the opaque `state` value to send through the other site."""
        return self.storage.save_callback_state(purpose, self.browser_key(), data, lifetime)

    def take_callback_state(self, purpose, state):
        """The data saved with `state` for `purpose`: once, in the browser that saved it, before it expires.
        Otherwise StateRefused says why; a miss counts against the address like any random secret's."""
        if not state:
            raise StateRefused("missing")
        browser, taken = bottle.request.get_cookie(BROWSER_COOKIE) or "", []
        if not browser:  # another browser, or cookies blocked: nothing here could be this browser's
            raise StateRefused("other_browser")

        def find():
            taken.append(self.storage.take_callback_state(purpose, state[:128], browser))
            return taken[0][1] is None
        self.opened_by(find)
        data, reason = taken[0]
        if reason is not None:
            raise StateRefused(reason)
        return data

    # -- sign-in in steps ([auth] methods): the factors done so far live in a signed, short-lived cookie
    def _sign_in_chains(self):
        """[auth] methods as tuples of authenticator names; ConfigError naming an unknown one."""
        chains = []
        for entry in self.config["auth"]["methods"] or list(self.authenticators):
            chain = tuple(part.strip() for part in entry.split("+"))
            for name in chain:
                if name not in self.authenticators:
                    known = ", ".join(self.authenticators) or "none (enable an authenticator plugin)"
                    raise ConfigError(f"{self.config.where('auth', 'methods')}: {entry!r} names {name!r}, which is not "
                                      f"an enabled authenticator (enabled: {known})")
            if len(set(chain)) != len(chain):
                raise ConfigError(f"{self.config.where('auth', 'methods')}: {entry!r} repeats a method")
            chains.append(chain)
        return chains

    def partial_login(self):
        """(user, methods done) of a sign-in that has passed its first factor(s) in this browser, or None."""
        if bottle.request.environ.get("indieauth.partial_reset"):
            return None
        partial = self.unseal("partial", bottle.request.get_cookie(PARTIAL_COOKIE))
        if not (isinstance(partial, list) and len(partial) == 2 and isinstance(partial[1], list)):
            return None
        user = self.storage.get_user(user_id=partial[0]) if isinstance(partial[0], int) else None
        return (user, tuple(partial[1])) if user is not None and user.disabled_at is None else None

    def partial_user(self):
        """The user an earlier factor of this sign-in identified (for a second factor's start/finish)."""
        partial = self.partial_login()
        return partial[0] if partial else None

    def next_steps(self):
        """(methods done, authenticator names that may come next) for this browser's sign-in."""
        partial = self.partial_login()
        done = partial[1] if partial else ()
        steps = [chain[len(done)] for chain in self.chains if chain[:len(done)] == done and len(chain) > len(done)]
        return done, list(dict.fromkeys(steps))

    def authenticated(self, user, method, next_url="/"):
        """An authenticator proved who `user` is by `method`: finish the sign-in, or go on to the next
        factor [auth] methods requires.  Authenticators with routes of their own (OAuth callbacks,
        links) call this; it answers with a redirect.  AuthenticationFailed when it cannot go on."""
        partial = self.partial_login()
        done = partial[1] if partial else ()
        if partial and partial[0].id != user.id:
            raise AuthenticationFailed("The second step of signing in was done as another user. Start again.", 403)
        if user.disabled_at is not None:
            raise AuthenticationFailed("This account is disabled. Ask the site's administrator.", 403)
        done = done + (method,)
        chains = [chain for chain in self.chains if chain[:len(done)] == done]
        if done in chains:
            return self.login_succeeded(user, "+".join(done), next_url)
        following = [self.authenticators[c[len(done)]] for c in chains if self.authenticators[c[len(done)]].supports(user)]
        if not following:
            raise AuthenticationFailed("This account must use another factor after this one, but none is set up "
                                       "for it. Ask the site's administrator.", 403, username=user.username)
        self.set_cookie(PARTIAL_COOKIE, self.seal("partial", [user.id, list(done)], self.config["auth"]["step_lifetime"]))
        self.redirect(f"/login/{following[0].name}?" + urllib.parse.urlencode({"next": safe_next(next_url)}))

    # -- who is signing in, as far as it is known before they say
    def sole_user(self):
        """The one user of a server that has exactly one (not disabled), or None: its login forms ask for no
        user name, since there is only one it can be (docs/security.md, "User names")."""
        users = [user for user in self.storage.list_users() if user.disabled_at is None]
        return users[0] if len(users) == 1 else None

    def posted_username(self):
        """The user name a login form sent (trimmed, at most 64 characters), or the sole user's when the form
        sent none: every authenticator's `finish` reads the user name through this."""
        username = form_value("username").strip()[:64]
        if not username:
            sole = self.sole_user()
            username = sole.username if sole else ""
        return username

    # -- the login page, which plugins show again with their message
    def login_page(self, name=None, error=None, username="", status=200):
        """The login page: the authenticators that may come next in this sign-in, or one of them; with the app
        that asks, when the sign-in is for an authorization, and the user name filled in when it is known."""
        done, steps = self.next_steps()
        if name is not None and name not in steps:
            if name in self.authenticators and not done:
                fail(400, "This way of signing in comes after another one. Start at the sign-in page.")
            fail(404, f"There is no sign-in method called {name!r} at this step.")
        user = self.partial_user() if done else None
        next_url = safe_next(form_value("next", bottle.request.query.get("next", "/")) or "/")
        request = pending_authorization(self, next_url)
        expected, sole = expected_user(self, request), self.sole_user()
        shown = [self.authenticators[name]] if name else [self.authenticators[step] for step in steps]
        shown = [auth for auth in shown if user is None or auth.supports(user)]
        parts = []
        for auth in shown:
            context = {"action": f"/login/{auth.name}", "csrf_token": self.csrf_token(), "next": next_url,
                       "error": error if auth.name == name else None, "user": user,
                       "username": (sole.username if sole else username or (expected.username if expected else "")),
                       "sole_user": sole is not None, "me": expected.me if expected else ""}
            parts.append((auth, auth.start(bottle.request, context)))
        client = stored_client(request) if request else None
        bottle.response.status = status
        return self.render("login.tpl", title="Sign in" if not done else "One more step", methods=parts,
                           next=next_url, single=name is not None and len(steps) > 1, step=len(done),
                           error=error if name is None else None, client=client,
                           stylesheets=list(dict.fromkeys(href for auth in shown for href in auth.stylesheets)),
                           scripts=list(dict.fromkeys(src for auth in shown for src in auth.scripts)))

    def login_failed(self, name, failure):
        """Record a failed step and show its page again with the message (and Retry-After)."""
        self.event(LoginFailed(failure.username, name, self.client_address(), failure.message),
                   LoginFailed.name, method=name, username=failure.username[:64], address=self.client_address())
        if failure.retry_after:
            bottle.response.set_header("Retry-After", str(failure.retry_after))
        return self.login_page(name if name in self.next_steps()[1] else None, error=failure.message,
                               username=failure.username, status=failure.status)

    # -- who may open what: random secrets, the owner's and admins' pages
    def opened_by(self, find, refuse=refuse_attempt):
        """What a random secret opens (a one-time sign-in link, an invite, a client or resource-server
        secret): `find()`, or None.  Every miss counts against the address, which is refused by
        `refuse(wait)` (the 429 page; SlowDown.now on API endpoints) before the secret is looked at once it
        has missed too often."""
        address = self.client_address()
        wait = self.throttle.address_wait(address)
        if wait:
            refuse(wait)
        found = find()
        if not found:
            self.throttle.failed("", address)
        return found

    def require_admin(self):
        """The signed-in owner or administrator; 403 for anyone else (a redirect to sign in first)."""
        user = self.require_user()
        if user.role not in ("owner", "admin"):
            fail(403, "Only the owner and administrators can manage users.")
        return user


# -- pages: signing in by a method or a one-time link, signing out

def login_start(app):
    """GET /login: the first factors; a sign-in left half-way in this browser starts over."""
    if app.partial_login():
        bottle.response.delete_cookie(PARTIAL_COOKIE, path="/")
        bottle.request.environ["indieauth.partial_reset"] = True
    return app.login_page()


def login_post(app, name):
    """The core's side of every authenticator: CSRF, finish(), the audit log, the next step."""
    done, steps = app.next_steps()
    auth = app.authenticators.get(name)
    if auth is None or name not in steps:
        fail(404, f"There is no sign-in method called {name!r} at this step.")
    app.check_csrf()
    next_url = safe_next(form_value("next"))
    try:
        user = auth.finish(bottle.request)
        if user is None:
            raise AuthenticationFailed("Signing in did not succeed.")
        return app.authenticated(user, name, next_url)
    except AuthenticationFailed as failure:
        return app.login_failed(name, failure)


def login_link_page(app, token):
    """The confirm button (so a link preview cannot use the link up), or at once the refusal of a spent link."""
    if not app.opened_by(lambda: app.storage.login_link_usable(token)):
        fail(400, LINK_USED)
    return app.render("login_link.tpl", title="Sign in", token=token)


def login_link_post(app, token):
    """Sign in; someone with no way to sign in yet (the first run, a reset) goes on to set one up."""
    app.check_csrf()
    user = app.opened_by(lambda: app.storage.redeem_login_link(token))
    if user is None:
        fail(400, LINK_USED)
    has_credential = any(auth.supports(user) for auth in app.authenticators.values())
    first = next((auth.settings_url for auth in app.authenticators.values() if auth.settings_url), "/")
    app.login_succeeded(user, "link", "/" if has_credential else first)


def logout(app):
    app.check_csrf()
    raw = app.session_token()
    session = app.current_session()
    if raw:
        app.storage.revoke_session(raw)
    bottle.response.delete_cookie(SESSION_COOKIE, path="/")
    if session:
        app.event(LoggedOut(session.user), "logout", user=session.user)
    app.redirect("/")


# ---------------------------------------------------------------------------------------------
#  Token management pages
#  The signed-in person's tokens and remembered approvals, testing tokens, the audit log.
# ---------------------------------------------------------------------------------------------


TESTING_LIFETIMES = (("1h", "1 hour"), ("1d", "1 day"), ("7d", "7 days"), ("30d", "30 days"))


def tokens_page(app):
    """Every live token and remembered approval of the signed-in user (never a token itself)."""
    user = app.require_user()
    tokens = app.storage.live_tokens(user)
    clients = {}
    for token in tokens:
        clients.setdefault(token.client_id, []).append(token)
    return app.render("tokens.tpl", title="Your tokens", clients=clients, fingerprint=fingerprint,
                      grants=app.storage.list_grants(user), now=app.now(),
                      revoked=bottle.request.query.get("revoked", ""))


def token_new_page(app, error=None, status=200, values=None):
    app.require_user()
    bottle.response.status = status
    return app.render("token_new.tpl", title="New testing token", error=error, values=values or {},
                      scopes=list(app.scopes.values()), lifetimes=TESTING_LIFETIMES)


def token_new_post(app):
    """Issue a testing token and show it exactly once."""
    user = app.require_user()
    app.check_csrf()
    values = {"client_id": form_value("client_id").strip(), "extra": form_value("extra_scopes"),
              "lifetime": form_value("lifetime"), "scopes": bottle.request.forms.getall("scope")}
    lifetimes = dict(TESTING_LIFETIMES)
    if values["lifetime"] not in lifetimes:
        return token_new_page(app, "Choose how long the token works.", 400, values)
    try:
        raw, row = issue_testing_token(app, user, values["client_id"], values["scopes"] + [values["extra"]],
                                       parse_duration(values["lifetime"]))
    except UsageError as error:
        return token_new_page(app, str(error), 400, values)
    return app.render("token_shown.tpl", title="Your testing token", token=raw, row=row,
                      fingerprint=fingerprint(row), verify_url=app.url("token"))


def tokens_revoke(app):
    """Revoke one token, a client's tokens or all: first a confirmation page, then the deed."""
    user = app.require_user()
    app.check_csrf()
    what, target = form_value("what"), form_value("target")
    if what == "client":
        target = canonical_client_id(target)
    if what == "token":
        token = app.storage.find_token_by_id(target, user)
        if token is None:
            fail(400, "That token is not active any more.")
        description, count = f"the token {fingerprint(token)} of {token.client_id}", 1
    elif what == "client":
        count = sum(1 for t in app.storage.live_tokens(user) if t.client_id == target)
        description = f"all {count} tokens of {target}"
    elif what == "all":
        count = len(app.storage.live_tokens(user))
        description = f"all {count} of your tokens"
    else:
        fail(400, "Choose what to revoke.")
    if form_value("confirm") != "yes":
        return app.render("confirm.tpl", title="Revoke tokens?", description=description, what=what,
                          target=target, action="/tokens/revoke", button="Revoke")
    if what == "token":
        revoke_token_row(app, token)
        done = 1
    else:
        for token in [t for t in app.storage.live_tokens(user) if what == "all" or t.client_id == target]:
            revoke_token_row(app, token)
        done = count
    app.redirect(f"/tokens?revoked={done}")


def grant_forget(app):
    user = app.require_user()
    app.check_csrf()
    app.storage.forget_grant(user, form_value("client_id"))
    app.redirect("/tokens")


TICKET_NOTICES = {"sent": "The ticket is sent: the subject's server can now redeem it for a token.",
                  "deleted": "The received token is deleted.", "revoked": "The ticket and its token are revoked."}


def tickets_page(app, error=None, status=200, values=None):
    """The signed-in person's tickets: tokens received from other servers' tickets, a form to send one, and
    the tickets sent, each with the live token it gave (never a token itself, until asked)."""
    user = app.require_user()
    bottle.response.status = status
    live = {t.family: t for t in app.storage.live_tokens(user) if t.via == "ticket"}
    return app.render("tickets.tpl", title="Tickets", received=app.storage.received_tokens(user),
                      sent=app.storage.sent_tickets(user), live=live, now=app.now(), error=error,
                      values=values or {}, notice=TICKET_NOTICES.get(bottle.request.query.get("done", ""), ""))


def tickets_send(app):
    """POST /tickets/send: send a ticket (send_ticket); what went wrong is shown above the form, kept filled in."""
    user = app.require_user()
    app.check_csrf()
    values = {name: form_value(name).strip() for name in ("subject", "resource", "scope")}
    try:
        send_ticket(app, user, values["subject"], values["resource"], values["scope"])
    except (UsageError, FetchError) as error:
        return tickets_page(app, str(error), 400, values)
    app.redirect("/tickets?done=sent")


def tickets_received(app):
    """POST /tickets/received: show one received token (to copy it into a reader), or delete it."""
    user = app.require_user()
    app.check_csrf()
    row = next((t for t in app.storage.received_tokens(user) if str(t.id) == form_value("id")), None)
    if row is None:
        fail(400, "That received token is not here any more: it expired or was deleted.")
    if form_value("action") == "delete":
        app.storage.delete_received_token(user, row.id)
        app.redirect("/tickets?done=deleted")
    opened = open_received_token(app, row)
    if opened is None:
        fail(400, "This token cannot be read: the server's secret key changed after it was received. "
                  "Delete it and ask the sender for a new ticket.")
    return app.render("ticket_token.tpl", title="Received token", row=row, token=opened["access_token"])


def tickets_revoke(app):
    """POST /tickets/revoke: a sent ticket can no longer be redeemed, and the token it gave is revoked."""
    user = app.require_user()
    app.check_csrf()
    ticket = next((t for t in app.storage.sent_tickets(user) if str(t.id) == form_value("id")), None)
    if ticket is None:
        fail(400, "That ticket is not here any more.")
    app.storage.use_ticket(ticket)
    for token in app.storage.live_tokens(user):
        if token.family == ticket.family:
            revoke_token_row(app, token)
    app.redirect("/tickets?done=revoked")


def log_page(app):
    """The audit log: everyone's for the owner and admins, one's own for everyone else."""
    user = app.require_user()
    everyone = user.role in ("owner", "admin")
    events = app.storage.events(200, user=None if everyone else user)
    return app.render("log.tpl", title="Activity", events=events, everyone=everyone,
                      data=lambda e: json.loads(e.data or "{}"))


# ---------------------------------------------------------------------------------------------
#  Registered apps
#  Pre-registered (confidential) clients, their secrets and roles: the owner's and admins' pages.
# ---------------------------------------------------------------------------------------------


def register_client(app, name, redirect_uris, description="", logo=""):
    """Register a confidential app under a new client_id on this server: (client_id, its raw secret, shown
    once).  UsageError says what is wrong: no name, no redirect URI, or one the spec forbids."""
    name = name.strip()[:255]
    uris = [uri.strip() for uri in redirect_uris if uri.strip()]
    if not name or not uris:
        raise UsageError("Give the app a name and at least one redirect URI.")
    for uri in uris:
        problem = redirect_uri_problem(uri)
        if problem:
            raise UsageError(f"{uri}: {problem}")
    client_id = canonical_client_id(app.url("clients/" + secrets.token_hex(8) + "/"))
    return client_id, app.storage.create_client(client_id, name, uris, description[:2000], logo.strip()[:512])


def remove_client(app, client, by=None):
    """Unregister `client`: its tokens stop working at once, its roles and remembered approvals are gone,
    and the audit log says so; the number of tokens revoked."""
    revoked = app.storage.remove_client(client.client_id) or 0
    app.storage.log_event("client_removed", user=by, client_id=client.client_id, name=client.name, tokens=revoked)
    return revoked


def admin_clients(app, secret=None, registered=None, error=None, status=200, notice=None):
    """Pre-registered clients (create, rotate a secret, remove) and the clients that came on their own."""
    app.require_admin()
    bottle.response.status = status
    return app.render("admin_clients.tpl", title="Apps", clients=app.storage.list_clients(),
                      seen=app.storage.seen_clients(), secret=secret, registered=registered, error=error,
                      notice=notice, loads=json.loads)


def admin_clients_post(app):
    admin = app.require_admin()
    app.check_csrf()
    action = form_value("action")
    if action in ("rotate", "remove"):
        client = app.storage.get_client(form_value("client_id"))
        if client is None:
            fail(400, "There is no such registered app.")
        if action == "rotate":
            return admin_clients(app, app.storage.rotate_client_secret(client.client_id), client.client_id)
        if form_value("confirm") != "yes":
            return admin_client(app, client.id, "Tick the box to confirm the removal.", 400)
        revoked = remove_client(app, client, admin)
        return admin_clients(app, notice=f"{client.name} is removed; {revoked} of its tokens revoked.")
    try:
        client_id, secret = register_client(app, form_value("name"), form_value("redirect_uris").split(),
                                            form_value("description"), form_value("logo"))
    except UsageError as error:
        return admin_clients(app, error=str(error), status=400)
    return admin_clients(app, secret, client_id)


def registered_client(app, number):
    client = app.storage.get_client(number=number)
    if client is None:
        fail(404, "There is no such registered app. Go back to the Apps page.")
    return client


def admin_client(app, number, error=None, status=200, notice=None):
    """One pre-registered app: the roles it accepts, its default role, and who has which."""
    app.require_admin()
    client = registered_client(app, number)
    bottle.response.status = status
    return app.render("admin_client.tpl", title=client.name, client=client, error=error, notice=notice,
                      roles=app.storage.client_roles(client), assignments=app.storage.role_assignments(client),
                      users=app.storage.list_users(), loads=json.loads)


def admin_client_post(app, number):
    """Set the app's roles and default, or give a user a role in it (role "" takes it away)."""
    admin = app.require_admin()
    app.check_csrf()
    client = registered_client(app, number)
    action = form_value("action")
    try:
        if action == "roles":
            roles = [r for r in re.split(r"[\s,]+", form_value("roles")) if r]
            app.storage.set_client_roles(client, roles, form_value("default_role").strip())
            notice, details = "The app's roles are saved.", {"roles": roles}
        elif action == "assign":
            person = app.storage.get_user(username=form_value("username"))
            if person is None:
                raise UsageError("Choose a user.")
            role = form_value("role").strip()
            app.storage.assign_role(person, client, role)
            notice = (f"{person.username} now has the role {role} in {client.name}." if role
                      else f"{person.username} has no role of their own in {client.name} now.")
            details = {"target": person.username, "role": role}
        else:
            fail(400, "Choose an action.")
    except UsageError as error:
        return admin_client(app, number, str(error)[:1].upper() + str(error)[1:], 400)
    app.storage.log_event("app_roles_changed", user=admin, client_id=client.client_id, **details)
    return admin_client(app, number, notice=notice)


# ---------------------------------------------------------------------------------------------
#  Developer tools
#  /docs (with the OAuth tester) and /selftest, for the developers of apps and the operator.
# ---------------------------------------------------------------------------------------------


def selftest_echo(app):
    """Says whether this request's Authorization header arrived, renamed, or not at all."""
    nonce = bottle.request.query.get("nonce", "")[:64]
    expected = "Bearer " + sign(app.secret_key, "selftest:" + nonce)
    environ = bottle.request.environ
    found = ("passed" if same(environ.get("HTTP_AUTHORIZATION", ""), expected) else
             "renamed" if same(environ.get("REDIRECT_HTTP_AUTHORIZATION", ""), expected) else "missing")
    bottle.response.content_type = "application/json"
    return json.dumps({"authorization": found})


def selftest(app):
    """A page for the owner: does the web server in front pass the Authorization header on? The browser
    asks /selftest/echo (static/selftest.js), through that web server as apps do, or the owner with curl;
    the server never asks itself, which with one worker thread would only wait for itself."""
    app.require_user()
    nonce = secrets.token_urlsafe(16)
    return app.render("selftest.tpl", title="Server self-test",
                      echo=app.url("selftest/echo") + "?" + urllib.parse.urlencode({"nonce": nonce}),
                      authorization="Bearer " + sign(app.secret_key, "selftest:" + nonce),
                      profile=profile_check(app, app.current_user()), links=app.profile_links())


def profile_check(app, user):
    """(state, detail) for S8: does the user's profile URL name this server, as clients require?"""
    if user.me == app.base_url:
        return "hosted", ""
    try:
        found = profile_discovery(app.http, user.me)
    except FetchError as error:
        return "unreachable", str(error)
    expected = dict(app.profile_links())
    wrong = {rel: url for rel, url in found.items() if url != expected[rel]}
    if wrong:
        return "other", ", ".join(f"{rel} → {url}" for rel, url in wrong.items())
    return ("ok", "") if "indieauth-metadata" in found or "authorization_endpoint" in found else ("missing", "")


def docs_page(app):
    """GET /docs: the developer page, with its endpoints (from the metadata), a sign-in snippet and the
    OAuth tester (static/docs.js), whose client_id and redirect_uri are this page's own URL."""
    return app.render("docs.tpl", title="For developers", metadata=metadata(app), links=app.profile_links(),
                      tester_client_id=app.url("docs"), scopes=sorted(app.scopes),
                      ticket_minutes=TICKET_LIFETIME // 60, pgp="pgp" in app.authenticators)


# ---------------------------------------------------------------------------------------------
#  Account
# ---------------------------------------------------------------------------------------------
#  The signed-in person's name, photo, email (where the email plugin sends sign-in codes) and website:
#  what `user_profile` gives apps.  The hosting plugin's /u/NAME/edit reads and checks its form with the
#  same two functions and shows the same form (views/profile_form.tpl).

PROFILE_FIELDS = ("name", "url", "photo", "email", "note")
EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")  # one @, a dot in the domain: a typo caught, not RFC 5322


def posted_profile():
    """The profile fields of the posted form, trimmed and cut to what storage keeps."""
    return {f: form_value(f).strip()[:2000 if f == "note" else 255] for f in PROFILE_FIELDS}


def profile_problem(values):
    """What is wrong with a profile for its owner to fix, or None: the website and photo must be absolute
    http(s) addresses (never javascript:, shown as links), the email must look like an address."""
    for field, what in (("url", "website"), ("photo", "photo")):
        if values[field] and redirect_uri_problem(values[field]):
            return f"The {what} must be a full https:// address."
    if values["email"] and not EMAIL_RE.fullmatch(values["email"]):
        return "That email address does not look right: it is written like name@example.com."
    return None


def account_page(app, error=None, status=200, values=None):
    """GET /account: the profile form, filled in with what is stored (or with what was posted, and why not)."""
    user = app.require_user()
    bottle.response.status = status
    return app.render("account.tpl", title="Your account", person=user, error=error,
                      saved=not error and bottle.request.query.get("saved") == "1",
                      values=values or {f: getattr(user, f) for f in PROFILE_FIELDS})


def account_post(app):
    """POST /account: save the profile (CSRF-checked); a 400 page keeping the input when it is malformed."""
    user = app.require_user()
    app.check_csrf()
    values = posted_profile()
    problem = profile_problem(values)
    if problem:
        return account_page(app, problem, 400, values)
    app.storage.update_user(user, **values)
    app.redirect("/account?saved=1")


# ---------------------------------------------------------------------------------------------
#  Home
# ---------------------------------------------------------------------------------------------


ACTIVITY_DAYS = 30
ACTIVITY_KINDS = (("login", "sign-in", "sign-ins"),  # (event kind, one, many)
                  (TokenIssued.name, "token issued to apps", "tokens issued to apps"))  # a refresh is one too


def activity(app, user, days=ACTIVITY_DAYS):
    """The start page's picture: [(day, {kind: count})] for each of the last `days` days (UTC) of `user`'s
    sign-ins and tokens, oldest first, with the totals per kind and the highest count of a day."""
    today = app.now().date()
    first = today - datetime.timedelta(days=days - 1)
    kinds = [kind for kind, _, _ in ACTIVITY_KINDS]
    counts = app.storage.activity(user, datetime.datetime.combine(first, datetime.time()), kinds)
    series = [(day, {kind: counts.get((day.isoformat(), kind), 0) for kind in kinds})
              for day in (first + datetime.timedelta(days=n) for n in range(days))]
    totals = {kind: sum(per_day[kind] for _, per_day in series) for kind in kinds}
    return {"series": series, "totals": totals, "kinds": ACTIVITY_KINDS,
            "highest": max([1] + [count for _, per_day in series for count in per_day.values()])}


def home(app):
    """The start page: the profile links; for a signed-in person, what to do next (the links on their site,
    checked only when asked, since the check fetches their site; a second factor; the OAuth tester; a
    testing token) and their recent activity."""
    for rel, href in app.profile_links():  # S4, S17: also on HEAD, which Bottle answers from GET
        bottle.response.add_header("Link", f'<{href}>; rel="{rel}"')
    owner = next((u for u in app.storage.list_users() if u.role == "owner" and u.me == app.base_url), None)
    user = app.current_user()
    manage = [a for a in app.authenticators.values() if a.settings_url and user]
    missing = [a for a in manage if not a.supports(user)]
    check = profile_check(app, user) if user and bottle.request.query.get("check") == "links" else None
    return app.render("home.tpl", title="IndieAuth", manage=manage, owner=owner, links=app.profile_links(),
                      base_url=app.base_url, missing=missing, check=check,
                      activity=activity(app, user) if user else None)


# ---------------------------------------------------------------------------------------------
#  The web application
# ---------------------------------------------------------------------------------------------

CORS_PATHS = ("/par", "/token", "/revoke", "/introspect", "/userinfo", "/.well-known/oauth-authorization-server",
              "/.well-known/jwks.json")
API_PATHS = ("/par", "/token", "/introspect", "/revoke", "/userinfo", "/device_authorization", "/ticket")
# Names of the values that prove something to whoever holds them: never logged.  A route wildcard with one
# of these names (the core's /login/once/<token>, /auth/consent/<key>; a plugin's: hosting's /invite/<token>)
# is redacted from every log line that names a request path; query strings are never logged at all.
SECRET_NAMES = frozenset({"code", "token", "ticket", "device_code", "code_verifier", "access_token",
                          "refresh_token", "client_secret", "key"})
REDACTED = "[redacted]"
HTML_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                               "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
ERROR_TEXT = {
    400: ("Bad request", "The request could not be understood. Check the address or go back and try again."),
    403: ("Forbidden", "This action is not allowed. If you were filling in a form, go back, reload the page and try again."),
    404: ("Not found", "There is nothing at this address. Check it for typing mistakes, or go to the start page."),
    405: ("Method not allowed", "This address does not accept that kind of request. Follow a link or a button instead of typing the address."),
    413: ("Request too large", "The request was larger than this server accepts."),
    429: ("Too many attempts", "Wait a little and try again."),
    500: ("Something went wrong", "The server could not finish this request. It has been logged; try again in a moment, and tell the site owner if it goes on."),
    503: ("Temporarily unavailable", "The server cannot reach its database. Try again in a moment."),
}
_request_ids = threading.local()
# Under `indieauth serve` (app.keep_connections) a server thread keeps its database connection from one
# request to the next while it is busy: giving it back to the pool after every request made the pool
# check it on the next (a `SELECT 1` on PostgreSQL, a ping on MariaDB, under the pool's lock), which
# doubled the round trips of a token verification.  A connection idle for longer than this goes back
# first, so that check runs again after a quiet spell (a database restarted meanwhile costs no
# request); one that failed is dropped.  The WSGI entry (Passenger) keeps them too, but not under CGI
# (one request per process).  Otherwise (tests, apps built by hand) every request gives its connection
# back: a process with many apps would hold one per app and thread.
CONNECTION_RECHECK = 1.0  # seconds
# Request ids name a request in the logs, so they need to be unique, not unguessable: a random prefix
# per process and a counter (reading the system's random source for each cost a system call).
_request_numbers = itertools.count()
_request_prefix = secrets.token_hex(3)


def _new_request_prefix():
    global _request_prefix
    _request_prefix = secrets.token_hex(3)


os.register_at_fork(after_in_child=_new_request_prefix)  # a forked worker gets its own
_connections = threading.local()


class RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.request_id = getattr(_request_ids, "value", "-")
        return True


class StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (a test runner swaps it), not the one at start-up."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


def setup_logging(level="info"):
    """Log to stderr, each line carrying the request id; idempotent."""
    if any(isinstance(h, logging.StreamHandler) and getattr(h, "_indieauth", False) for h in log.handlers):
        return
    handler = StderrHandler()
    handler._indieauth = True
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    log.addHandler(handler)
    log.setLevel(getattr(logging, level.upper(), logging.INFO))
    log.propagate = False


LOG_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(message)s"
_log_second = (None, "")  # the last second an access line was written in, and its text


def access_log(method, path, status, took):
    """The access log line of a request, as `log.info` would write it with setup_logging's handler alone,
    without a LogRecord, a stack walk and a strftime per request (a third of a metadata request's time).
    Any other handler (a test's, an operator's) gets the line through logging."""
    if not log.isEnabledFor(logging.INFO):  # `[server] log_level` warning or error: no access lines
        return
    handler = log.handlers[0] if len(log.handlers) == 1 and not log.propagate else None
    if not isinstance(handler, StderrHandler):
        log.info("%s %s %s %.1fms", method, path, status, took)
        return
    global _log_second
    now = time.time()
    second, text = _log_second
    if second != int(now):
        second = int(now)
        _log_second = second, text = second, time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))
    line = (f"{text},{int((now - second) * 1000):03d} INFO [{getattr(_request_ids, 'value', '-')}] "
            f"{method} {path} {status} {took:.1f}ms\n")
    with handler.lock:
        handler.stream.write(line)
        handler.stream.flush()


def static(path, mimetype=True):
    response = bottle.static_file(path, root=resource_dir("static"), mimetype=mimetype)
    response.set_header("Cache-Control", "public, max-age=3600")
    return response


# The URL map of the core, in one place: (path, method or methods, handler(app, ...)).  Each handler is a
# function of the chapter it serves; IndieAuth._routes binds it to its app once.  Plugins add their routes
# through register_routes.
CORE_ROUTES = (
    ("/", "GET", home),
    ("/login", "GET", login_start),
    ("/login/<name>", "GET", SignIn.login_page),
    ("/login/<name>", "POST", login_post),
    ("/login/once/<token>", "GET", login_link_page),
    ("/login/once/<token>", "POST", login_link_post),
    ("/logout", "POST", logout),
    ("/auth", "GET", authorization_get),
    ("/auth", "POST", authorization_post),
    ("/auth/consent/<key>", "GET", consent_page),
    ("/auth/consent/<key>", "POST", consent_post),
    ("/auth/logo/<key>", "GET", client_logo),
    ("/par", "POST", par_post),
    ("/device_authorization", "POST", device_authorization_post),
    ("/device", "GET", device_page),
    ("/device", "POST", device_post),
    ("/device/consent", "POST", device_consent_post),
    ("/device/logo/<key>", "GET", device_logo),
    ("/token", "POST", token_post),
    ("/token", "GET", token_get),
    ("/ticket", "POST", ticket_post),
    ("/revoke", "POST", revoke_post),
    ("/introspect", "POST", introspect_post),
    ("/userinfo", ["GET", "POST"], userinfo),
    ("/.well-known/oauth-authorization-server", "GET", metadata_get),
    ("/.well-known/oauth-authorization-server/<path:path>", "GET", metadata_at_path),
    ("/openapi.json", "GET", lambda app: static("openapi.json")),
    ("/favicon.ico", "GET", lambda app: static("favicon.ico", "image/x-icon")),  # asked for by every browser
    ("/.well-known/jwks.json", "GET", jwks_get),
    ("/admin/clients", "GET", admin_clients),
    ("/admin/clients", "POST", admin_clients_post),
    ("/admin/clients/<number:id>", "GET", admin_client),
    ("/admin/clients/<number:id>", "POST", admin_client_post),
    ("/tokens", "GET", tokens_page),
    ("/tokens/new", "GET", token_new_page),
    ("/tokens/new", "POST", token_new_post),
    ("/tokens/revoke", "POST", tokens_revoke),
    ("/tokens/forget", "POST", grant_forget),
    ("/tickets", "GET", tickets_page),
    ("/tickets/send", "POST", tickets_send),
    ("/tickets/received", "POST", tickets_received),
    ("/tickets/revoke", "POST", tickets_revoke),
    ("/log", "GET", log_page),
    ("/account", "GET", account_page),
    ("/account", "POST", account_post),
    ("/selftest", "GET", selftest),
    ("/selftest/echo", "GET", selftest_echo),
    ("/docs", "GET", docs_page),
)


class IndieAuth(SignIn):
    """The application, a container: configuration, storage, plugins, the route table, the middleware and the
    WSGI callable.  The handlers are functions of the chapters they serve; the sign-in API is `SignIn`'s."""

    def __init__(self, config, plugins=(), clock=utcnow, check_schema=True, resolver=None,
                 client_wait=AUTH_CLIENT_WAIT):
        self.config = config
        self.now = clock
        self.keep_connections = False  # True under `indieauth serve` and Passenger (CONNECTION_RECHECK)
        self.base_url = config["server"]["base_url"]
        self.secret_key = config.secret("server", "secret_key")
        if len(self.secret_key) < 32:
            raise ConfigError(f"{config.where('server', 'secret_key')}: must be at least 32 characters")
        self.issuer = self.base_url
        # what _headers adds to every answer (unless the handler set it), made once; HSTS for a year, without
        # subdomains (they may be other people's sites)
        hsts = (("Strict-Transport-Security", "max-age=31536000"),) if self.base_url.startswith("https:") else ()
        self._api_headers = (("X-Content-Type-Options", "nosniff"), ("Cache-Control", "no-store"), *hsts)
        self._page_headers = (*HTML_HEADERS.items(), ("Cache-Control", "no-store"), *hsts)
        host = split_url(self.base_url).hostname
        # S1: the issuer is https; plain http only on loopback, for development and tests
        self.dev_profiles = is_loopback(host)
        if not self.base_url.startswith("https://") and not self.dev_profiles:
            raise ConfigError(f"{config.where('server', 'base_url')}: must be https:// (the issuer of an "
                              f"authorization server); http:// is allowed only for 127.0.0.1, [::1] and localhost")
        self._validated_plugin_tables = set()
        # The one outbound HTTP client (SSRF-guarded) and the cache of what clients publish.
        self.http = GuardedSession(fetch_allow=config["security"]["fetch_allow"], resolver=resolver,
                                   user_agent=f"indieauth/{__version__} (+{self.base_url})", deadline=FETCH_DEADLINE,
                                   slots=FetchSlots(max(1, config["server"]["threads"] // 2)))
        self.client_cache = ClientCache(clock=clock)
        self.logo_cache = {}
        self.fetchers = Fetchers(clock=clock)
        # tickets for our users are redeemed on a pool of their own: a flood of them never delays client discovery
        self.ticket_fetchers = Fetchers(size=TICKET_REDEEMERS, queue=TICKET_QUEUE, clock=clock,
                                        name="indieauth-tickets")
        self.client_wait = client_wait  # more than AUTH_CLIENT_WAIT: tests that do not look at the waiting page
        self.keys = SigningKeys(self)
        self.pm = make_plugin_manager(config, plugins)
        self.template_paths = [resource_dir("views")]
        self.plugin_state = PluginState()
        self.pm.hook.configure.call_historic(kwargs={"app": self})
        config.check_plugin_tables(self._validated_plugin_tables)
        # after configure: a backend is built from settings its plugin has validated
        self.verified = VerifiedTokens(os.path.join(config.folder, GENERATION_FILE),
                                       config["tokens"]["verification_cache"], clock)
        self.storage = self.verified.watch(self.pm.hook.storage_backend(app=self))
        self.throttle = Throttle(self)
        if check_schema:
            self.storage.check_schema()
        # The login page lists authenticators in the order of their tables in plugins.toml.
        order = {name: i for i, name in enumerate(config.enabled_plugins())}
        found = [a for batch in self.pm.hook.register_authenticators(app=self) for a in batch]
        self.authenticators = {a.name: a for a in sorted(found, key=lambda a: order.get(a.name, len(order)))}
        self.chains = self._sign_in_chains()
        self.scopes = {}
        for batch in reversed(self.pm.hook.register_scopes(app=self)):  # plugins' descriptions win
            self.scopes.update({scope.name: scope for scope in batch})
        self.metadata_json = None  # the metadata document, made once
        self.bottle = bottle.Bottle()
        self._routes()

    # -- configuration helpers for plugins
    def plugin_config(self, name, settings=None):
        """The `[plugins.NAME]` table (without `enabled`), checked against `settings` when given."""
        table = {k: v for k, v in self.config.plugins.get(name, {}).items() if k != "enabled"}
        if settings is None:
            return table
        self._validated_plugin_tables.add(name)
        return validate_table(self.config.shown, f"plugins.{name}", table, settings)

    def plugin_secret(self, name, key, value, needed=None):
        """The text of the secret setting `key` of `[plugins.NAME]` (`value` as the table holds it: inline,
        `{ env = … }` or `{ file = … }`), without surrounding whitespace. `needed` says what the secret is when
        it is required: then a missing or empty one is a ConfigError saying so; otherwise a missing one is ""."""
        where = f"[plugins.{name}] {key}"
        if value is None and needed is None:
            return ""
        if value is None:
            raise ConfigError(f"{self.config.shown}: {where}: required ({needed}), inline or as "
                              f"{{ env = \"NAME\" }} or {{ file = \"path\" }}")
        text = self.config.resolve_secret(value, where).strip()
        if needed is not None and not text:
            raise ConfigError(f"{self.config.shown}: {where}: is empty")
        return text

    # -- what handlers share: what is known of a client, templates, URLs, events
    def add_template_path(self, path):
        """Let a plugin's templates be found by `render` (and `rebase('base.tpl')` from them)."""
        if path not in self.template_paths:
            self.template_paths.append(path)

    def render(self, name, **values):
        """A rendered template; `base.tpl` gets the current user and CSRF token for its header."""
        if "user" not in values:  # not looked up when given (the error page of an outage gives None)
            # Every page but the error page needs the database sooner or later (a form's POST does): a page
            # shown during an outage is a 503 that says so, even one that reads nothing, like /login.
            self.storage.connect()
            values["user"] = self.current_user()
        values.setdefault("csrf_token", self.csrf_token())
        if values["user"] and "menu" not in values:
            values["menu"] = [link for links in reversed(self.pm.hook.menu_links(app=self, user=values["user"]))
                              for link in links or ()]
        values.setdefault("title", "")
        values.setdefault("split_host", lambda url: (split_url(url).netloc if split_url(url) else url))
        return bottle.template(name, template_lookup=self.template_paths, **values)

    def url(self, path=""):
        """Absolute URL of a path on this server: base_url followed by the path, whatever it holds (a
        scheme, `//host`), percent-encoded to ASCII, so it can name no other origin (SEC16)."""
        return self.base_url + urllib.parse.quote(path.lstrip("/"), safe=ASCII_VISIBLE)

    def redirect(self, path):
        """303 See Other to a path on this server, as an absolute URL under base_url (never elsewhere)."""
        bottle.redirect(self.url(path), 303)

    def profile_links(self):
        """The discovery links of this server, as (rel, absolute URL) pairs (S17, S18)."""
        return [("indieauth-metadata", self.url(".well-known/oauth-authorization-server")),
                ("authorization_endpoint", self.url("auth")), ("token_endpoint", self.url("token")),
                ("ticket_endpoint", self.url("ticket"))]

    def event(self, event, kind=None, user=None, **data):
        """Record `event` in the audit log and deliver it to plugins; a plugin's failure is only logged."""
        self.record_event(event, kind, user, **data)()

    def record_event(self, event, kind=None, user=None, **data):
        """Record `event` in the audit log now; returns the call that delivers it to plugins, for a caller
        in a transaction to make once it has committed (track_event sees only what was committed)."""
        if kind:
            if "address" not in data:  # given by work done off a request (a ticket redeemed in the background)
                data["address"] = self.client_address() or "cli"  # no address: the command line
            self.storage.log_event(kind, user=user, **data)
        return functools.partial(self._deliver_event, event)

    def _deliver_event(self, event):
        for impl in self.pm.hook.track_event.get_hookimpls():
            try:
                impl.function(app=self, event=event)
            except Exception:
                log.exception("plugin %s failed in track_event", impl.plugin_name)

    # -- routes
    def _routes(self):
        """The URL map: CORE_ROUTES, each handler bound to this app once, here (no work per request), then the
        plugins' routes."""
        b = self.bottle
        b.router.add_filter("id", id_filter)
        for path, method, handler in CORE_ROUTES:
            b.route(path, method, functools.partial(handler, self))
        for path in CORS_PATHS:
            b.route(path, "OPTIONS", functools.partial(preflight, self))
        b.route("/static/<path:path>", "GET", static)
        for batch in self.pm.hook.register_routes(app=self):
            for method, path, callback in batch:
                b.route(path, method, callback)
        b.install(catch_errors)
        for code in (400, 403, 404, 405, 413, 429, 500, 503):
            b.error(code)(self.error_page)

    # -- middleware: every request's start and end, errors as pages or JSON
    def _start(self, environ):
        """A request's start: its id, and its database connection given back when it has been idle."""
        rid = environ.get("HTTP_X_REQUEST_ID", "")
        _request_ids.value = rid if rid.isalnum() and len(rid) <= 64 else \
            f"{_request_prefix}{next(_request_numbers) % 0x1000000:06x}"
        started = time.monotonic()
        _connections.failed = False
        if not self.keep_connections or started - getattr(_connections, "last_used", started) > CONNECTION_RECHECK:
            self.storage.close()  # back to the pool, which checks it when the next query takes it
        # Otherwise no connection is taken here: the first query takes one (peewee connects on demand),
        # so a request that needs none (metadata) costs the pool nothing, and a database that cannot be
        # reached is a 503 from catch_errors.
        return started

    def _headers(self, environ, headers):
        """What every response carries besides its own headers, added to the WSGI header list: the request
        id, CORS on the API (S22; never on the authorization endpoint, SEC28), nosniff (and HSTS with an
        https base_url) everywhere, HTML_HEADERS on pages, and `no-store` unless the handler said how to
        cache (pages carry CSRF tokens and personal data).  A header the handler set itself (the logo
        proxy's sandbox CSP) is kept."""
        present, page = set(), None
        for name, value in headers:
            name = name.lower()
            present.add(name)
            if name == "content-type":
                page = value.startswith("text/html")
        extra = self._page_headers if page or not is_api_path(environ) else self._api_headers
        headers.extend(header for header in extra if header[0].lower() not in present)
        headers.append(("X-Request-Id", _request_ids.value))
        if environ.get("PATH_INFO") in CORS_PATHS:
            headers.append(("Access-Control-Allow-Origin", "*"))

    def _finish(self, environ, status, started):
        """A request's end: provisional sign-in failures dropped, the connection kept or given back, and
        one access log line (only the path, its secrets redacted: query strings may carry codes or tokens)."""
        if environ.get(Throttle.ATTEMPT):
            try:
                self.throttle.discard()  # an attempt neither failed nor succeeded counts for nothing
            except peewee.PeeweeException:
                log.warning("could not drop a provisional sign-in failure", exc_info=True)
        if _connections.failed or not self.keep_connections:
            self.storage.close()
        _connections.last_used = now = time.monotonic()
        if log.isEnabledFor(logging.INFO):
            access_log(environ.get("REQUEST_METHOD", "GET"), loggable_path(environ), status, (now - started) * 1000)

    def error_page(self, error):
        """Every error, as JSON on API paths and as a page that says what to do everywhere else."""
        status = error.status_code
        if error.exception is not None and not isinstance(error.exception, bottle.HTTPResponse):
            log.error("unhandled error on %s %s", bottle.request.method, loggable_path(bottle.request.environ),
                      exc_info=(type(error.exception), error.exception, error.exception.__traceback__))
        title, advice = ERROR_TEXT.get(status, ERROR_TEXT[500 if status >= 500 else 400])
        detail = error.body if isinstance(error, PageError) else ""
        bottle.response.set_header("X-Request-Id", request_id := getattr(_request_ids, "value", "-"))
        if is_api_path():
            bottle.response.content_type = "application/json"
            bottle.response.set_header("Cache-Control", "no-store")
            code = {404: "not_found", 405: "invalid_request", 429: "slow_down", 503: "temporarily_unavailable"}
            return json.dumps({"error": code.get(status, "server_error" if status >= 500 else "invalid_request"),
                               "error_description": detail or advice})
        try:
            return self.render("error.tpl", title=title, status=status, detail=detail, advice=advice,
                               request_id=request_id, **({"user": None} if status == 503 else {}))  # 503: no database
        except Exception:  # the storage itself may be what failed
            log.exception("error page could not be rendered")
            return f"<!doctype html><title>{status} {html.escape(title)}</title><h1>{html.escape(title)}</h1><p>{html.escape(advice)}</p>"

    # -- WSGI
    def __call__(self, environ, start_response):
        """The middleware around Bottle, at the WSGI level: cheaper than Bottle's hooks and its response
        object's header methods, and it sees every answer, error pages included."""
        started = self._start(environ)
        answered = []

        def respond(status, headers, exc_info=None):
            self._headers(environ, headers)
            answered.append(status)
            return start_response(status, headers, exc_info)
        try:
            return self.bottle(environ, respond)
        finally:
            self._finish(environ, answered[-1][:3] if answered else "500", started)

    def close(self):
        """Give back every database connection: called by the server once it has swapped a newly built app
        in (SIGHUP) and the requests this one was answering are done, or before it forks its workers.  Tickets
        being redeemed in the background finish first (lost otherwise), and their connections are closed then."""
        self.fetchers.stop()
        close_all = getattr(self.storage, "close_all", None)  # a plugin's backend may have none
        after_tickets(self.ticket_fetchers, close_all or (lambda: None))


def catch_errors(callback):
    """Middleware: an unexpected exception becomes a logged 500 (a database outage a 503)."""
    def wrapper(*args, **kwargs):
        try:
            return callback(*args, **kwargs)
        except bottle.HTTPResponse:
            raise
        except (peewee.OperationalError, peewee.InterfaceError) as exc:  # an outage: its reason, no traceback
            log.error("database error on %s %s: %s", bottle.request.method,
                      loggable_path(bottle.request.environ), one_line(exc))
            _connections.failed = True  # never reused: _finish gives it back, and the pool drops it
            raise bottle.HTTPError(503, **{"Retry-After": str(OUTAGE_RETRY)}) from None
        except ConfigError as exc:  # a signing key gone since start-up: the transaction was rolled back
            log.error("cannot answer %s %s: %s", bottle.request.method, loggable_path(bottle.request.environ), exc)
            raise PageError(503, "This server is not set up correctly right now; its owner finds the reason in its "
                                 "log. Nothing you sent was used up: try again in a minute.",
                            **{"Retry-After": str(OUTAGE_RETRY)}) from None
        except Exception:
            log.exception("unhandled error on %s %s", bottle.request.method,
                          loggable_path(bottle.request.environ))
            raise bottle.HTTPError(500) from None
    return wrapper


def check_start_up(app, light=False):
    """What `serve` and the WSGI entry check before they answer: the database is reachable and at this code's
    schema (Storage.check_schema), and the signing key can be read (check_signing_key; `light` under CGI)."""
    app.storage.check_schema()
    check_signing_key(app, light)


OUTAGE_RETRY = 60  # seconds: Retry-After of a 503 while the database or the signing key cannot be used (S83)


def one_line(exc):
    """An exception's message on one line (a database driver's spans several)."""
    return " ".join(str(exc).split()) or type(exc).__name__


MAX_ID = 2 ** 31 - 1  # the largest id an INTEGER column holds, on every database supported


def id_filter(config):
    """Bottle's route filter `<name:id>`, for every numeric route argument: a database id, 1 to MAX_ID.
    Anything else (0, -1, 0001, 2**31) is a 404 before any query is made."""
    def to_python(text):
        if int(text) > MAX_ID:
            raise bottle.HTTPError(404)
        return int(text)
    return r"[1-9][0-9]{0,9}", to_python, str


def loggable_path(environ):
    """The request's path for a log line, without its secrets: the value of every route wildcard named in
    SECRET_NAMES; on a path no route matched (a 404, a 405), every run of 16 or more token characters
    with a capital or a digit, as a mistyped one-time link holds."""
    path = "/" + environ.get("PATH_INFO", "").lstrip("/")
    if environ.get("bottle.route") is None:
        path = re.sub(r"[A-Za-z0-9_-]{16,}", lambda m: REDACTED if re.search("[A-Z0-9]", m[0]) else m[0], path)
    for name, value in (environ.get("route.url_args") or {}).items():
        if name in SECRET_NAMES and value:
            path = path.replace(str(value), REDACTED)
    return path[:200]


def is_api_path(environ=None):
    """Whether errors here are JSON: the API endpoints, /.well-known/, and requests that accept JSON."""
    environ = bottle.request.environ if environ is None else environ
    path = "/" + environ.get("PATH_INFO", "").lstrip("/")
    return (path in API_PATHS or path.startswith("/.well-known/")  # not /tokens, a page
            or "application/json" in environ.get("HTTP_ACCEPT", ""))


def make_test_app(config_overrides=None, plugins=(), folder=None, clock=utcnow, resolver=None,
                  client_wait=FETCH_DEADLINE + 2):
    """An IndieAuth app on a fresh migrated database for tests (core's and plugins'): webtest-ready.

    `config_overrides` is merged into a default config ({"server": {...}, "plugins": {...}});
    `plugins` are plugin objects or modules to register besides the installed, enabled ones.  The
    authorization endpoint waits up to `client_wait` seconds for what an app publishes, so that a test
    gets its answer in one request; give AUTH_CLIENT_WAIT to see the waiting page as a server shows it."""
    import tempfile
    folder = folder or tempfile.mkdtemp(prefix="indieauth-test-")
    data = {"server": {"base_url": "http://localhost/", "database": "sqlite:///test.db",
                       "secret_key": "t" * 40}, "plugins": {}}
    for section, values in (config_overrides or {}).items():
        data.setdefault(section, {}).update(values)
    for plugin in plugins:
        data["plugins"].setdefault(getattr(plugin, "__name__", type(plugin).__name__).rsplit(".", 1)[-1], {})
    config = Config(os.path.join(folder, DEFAULT_CONFIG_NAME), data)
    ensure_secret_files(config)
    path = sqlite_file(data["server"]["database"], folder)
    if path is not None and not os.path.exists(path):
        copy_migrated_sqlite(path)
    app = IndieAuth(config, plugins=plugins, clock=clock, check_schema=False, resolver=resolver,
                    client_wait=client_wait)
    app.storage.migrate()  # nothing left to apply on a copy; another backend's own database is migrated here
    return app


_migrated_sqlite = []  # the SQLite file copy_migrated_sqlite copies, migrated once per process


def copy_migrated_sqlite(path):
    """Make `path` a new SQLite database holding every migration, readable by its owner only: a copy of
    one migrated once per process, since migrating from nothing takes a test app most of its start."""
    import atexit
    import shutil
    import tempfile
    if not _migrated_sqlite:
        folder = tempfile.mkdtemp(prefix="indieauth-migrated-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        database = open_database("sqlite:///migrated.db", folder)
        Storage(database).migrate()
        database.close_all()  # checkpointed: the file alone holds everything, no -wal beside it
        _migrated_sqlite.append(os.path.join(folder, "migrated.db"))
    with open(_migrated_sqlite[0], "rb") as template:
        data = template.read()
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as copy:
        copy.write(data)


def __getattr__(name):
    """`indieauth.testing` is the test kit, the module indieauth_testing, imported only when asked for
    (PEP 562): a server never loads it."""
    if name == "testing":
        import indieauth_testing
        return indieauth_testing
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ---------------------------------------------------------------------------------------------
#  Serving
# ---------------------------------------------------------------------------------------------
#  `indieauth serve`'s server, for any WSGI app (bench/ serves a bare Bottle app with it too): waitress
#  on sockets bound once.  With several workers this process is their master: it forks them, replaces
#  one that dies and passes signals on.  In every serving process SIGHUP builds the app anew and swaps
#  it in between requests, and SIGTERM (or SIGINT) lets the requests in flight finish.

DRAIN_GRACE = 10                        # seconds a stopping server gives the requests in flight
RESTART_DELAYS = (0, 1, 2, 5, 10, 30)   # seconds before a worker that died is replaced, by quick deaths in a row
STEADY = 10                             # a worker that ran this long did not die quickly
LOOP_TIMEOUT = 0.25                     # seconds a serving process waits for sockets before it looks at signals


def worker_count(value):
    """The number of worker processes `value` asks for ("auto": one per core this process may use);
    UsageError for more than one where processes cannot fork (Windows)."""
    if value == "auto":
        value = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if value > 1 and not hasattr(os, "fork"):
        raise UsageError(f"--workers {value}: this platform cannot fork worker processes; run with --workers 1")
    return value


def listen(host, port):
    """Listening sockets for host:port (one per address the host resolves to), bound once for every
    worker; UsageError when they cannot be."""
    import waitress.adjustments
    sockets = []
    try:
        for family, kind, proto, address in waitress.adjustments.Adjustments(host=host, port=port).listen:
            sockets.append(socket.create_server(address, family=family, backlog=1024))
    except OSError as exc:
        for sock in sockets:
            sock.close()
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}; is another server running? "
                         f"choose another port with --port") from None
    return sockets


class Swappable:
    """The WSGI app a server calls, replaced between requests by `swap`; the app it replaced is closed
    (its `close()`, when it has one) as soon as the calls it was answering have returned."""

    def __init__(self, app):
        self.app, self.lock, self.calls, self.retired = app, threading.Lock(), {}, []

    def __call__(self, environ, start_response):
        app = self.app
        with self.lock:
            self.calls[id(app)] = self.calls.get(id(app), 0) + 1
        try:
            return app(environ, start_response)
        finally:
            with self.lock:
                self.calls[id(app)] -= 1
            self.close_retired()

    def swap(self, app):
        with self.lock:
            self.retired.append(self.app)
            self.app = app
        self.close_retired()

    def close_retired(self):
        with self.lock:
            done = [app for app in self.retired if not self.calls.get(id(app))]
            self.retired = [app for app in self.retired if self.calls.get(id(app))]
            for app in done:
                self.calls.pop(id(app), None)
        for app in done:
            getattr(app, "close", lambda: None)()


@functools.lru_cache(maxsize=None)
def _draining_channel():
    """waitress's HTTPChannel whose responses say `Connection: close` once its server is draining, so a
    client does not send another request on a connection about to close.  Made on first use: waitress
    is imported only to serve, never by CGI."""
    import waitress.channel
    import waitress.task

    class Task(waitress.task.WSGITask):
        def build_response_header(self):
            if getattr(self.channel.server, "draining", False):
                self.set_close_on_finish()
            return super().build_response_header()

    return type("DrainingChannel", (waitress.channel.HTTPChannel,), {"task_class": Task})


def serve_here(make_app, sockets, threads, ident="indieauth", grace=DRAIN_GRACE):
    """Serve `make_app()` with waitress on `sockets` in this process until SIGTERM or SIGINT, then let the
    requests in flight finish (at most `grace` seconds) and return 0.  SIGHUP calls make_app() again
    and swaps the new app in between requests; when that fails, the error is logged and the old app
    serves on."""
    import waitress.server
    import waitress.wasyncore
    wanted = []
    names = [name for name in ("SIGHUP", "SIGTERM", "SIGINT") if hasattr(signal, name)]  # no SIGHUP on Windows
    before = {name: signal.signal(getattr(signal, name), lambda signum, frame: wanted.append(signum)) for name in names}
    try:
        app = Swappable(make_app())
        sockets_map = {}
        server = waitress.server.create_server(app, map=sockets_map, sockets=sockets, threads=threads, ident=ident)
        listeners = [d for d in sockets_map.values() if isinstance(d, waitress.server.BaseWSGIServer)]
        for listener in listeners:
            listener.channel_class, listener.draining = _draining_channel(), False
        use_poll = server.adj.asyncore_use_poll
        log.info("process %d ready", os.getpid())
        while True:
            waitress.wasyncore.loop(timeout=LOOP_TIMEOUT, map=sockets_map, use_poll=use_poll, count=1)
            if getattr(signal, "SIGHUP", None) in wanted:
                wanted.remove(signal.SIGHUP)
                reload_app(app, make_app)
            if wanted:
                break
        log.info("stopping: no new connections; finishing the requests in flight")
        for listener in listeners:  # stop accepting: this process's copy of the socket only
            listener.draining = True
            waitress.wasyncore.dispatcher.close(listener)
        drain(sockets_map, grace, use_poll)
        server.task_dispatcher.shutdown(timeout=1)
        waitress.wasyncore.close_all(sockets_map)
        app.swap(None)  # closes the last app
        return 0
    finally:
        for name, handler in before.items():
            signal.signal(getattr(signal, name), handler)


def reload_app(app, make_app):
    """SIGHUP: a new app from make_app() swapped into the Swappable `app`; a failure is logged, no more."""
    try:
        app.swap(make_app())
    except (UsageError, peewee.PeeweeException) as exc:
        log.error("reload failed, the running configuration stays: %s", exc)
    except Exception:
        log.exception("reload failed, the running configuration stays")
    else:
        log.info("reloaded the configuration and plugins")


def drain(sockets_map, grace, use_poll):
    """Run waitress's loop until every connection has closed: a request in flight (or being received)
    is answered and its connection then closed; an idle kept-alive connection is closed at once."""
    import waitress.channel
    import waitress.wasyncore
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        channels = [d for d in sockets_map.values() if isinstance(d, waitress.channel.HTTPChannel)]
        if not channels:
            return
        for channel in channels:
            if not (channel.requests or channel.request is not None or channel.total_outbufs_len):
                channel.will_close = True
        waitress.wasyncore.loop(timeout=0.05, map=sockets_map, use_poll=use_poll, count=1)
    log.warning("stopped with requests still in flight after %ss", grace)


def serve_workers(make_app, host="127.0.0.1", port=8080, workers=1, threads=4, sockets=None, ident="indieauth",
                  grace=DRAIN_GRACE):
    """Serve the WSGI app `make_app()` builds, with waitress and `threads` threads, on host:port (or on
    `sockets`, already listening) until SIGTERM or SIGINT; returns 0.  One worker: this process serves
    (`serve_here`).  More (a number, or "auto"): this process binds the sockets, forks `workers`
    processes that each call make_app() and serve them, replaces one that dies, and passes SIGHUP and
    SIGTERM on (`Master`).  Every serving process calls make_app() again on SIGHUP."""
    workers = worker_count(workers)
    sockets = sockets or listen(host, port)
    if workers == 1:
        return serve_here(make_app, sockets, threads, ident, grace)
    return Master(make_app, sockets, workers, threads, ident, grace).run()


class Master:
    """The parent of the worker processes: keeps `workers` of them serving the inherited sockets, each
    building its own app after the fork (no connection or pool crosses a fork)."""

    def __init__(self, make_app, sockets, workers, threads, ident, grace):
        self.make_app, self.sockets, self.workers, self.threads = make_app, sockets, workers, threads
        self.ident, self.grace = ident, grace
        self.children = {}  # pid: time.monotonic() it started
        self.due = []       # time.monotonic() at which a worker is to be started
        self.quick_deaths, self.signals, self.stopping = 0, [], False

    def run(self):
        wake_r, wake_w = os.pipe()
        for fd in (wake_r, wake_w):
            os.set_blocking(fd, False)
        old_wakeup = signal.set_wakeup_fd(wake_w)
        watched = (signal.SIGCHLD, signal.SIGHUP, signal.SIGTERM, signal.SIGINT)
        old_handlers = {signum: signal.signal(signum, lambda signum, frame: self.signals.append(signum))
                        for signum in watched}
        try:
            self.due = [time.monotonic()] * self.workers
            while not self.stopping:
                self.start_due(wake_r, wake_w)
                timeout = max(0.0, min(self.due) - time.monotonic()) if self.due else None
                select.select([wake_r], [], [], timeout)
                with contextlib.suppress(BlockingIOError):
                    os.read(wake_r, 512)
                self.handle_signals()
                self.reap()
            self.stop_all(wake_r)
        finally:
            signal.set_wakeup_fd(old_wakeup)
            for signum, handler in old_handlers.items():
                signal.signal(signum, handler)
            os.close(wake_r)
            os.close(wake_w)
            for sock in self.sockets:
                sock.close()
        return 0

    def handle_signals(self):
        while self.signals:
            signum = self.signals.pop(0)
            if signum == signal.SIGHUP:
                log.info("reloading: SIGHUP passed on to the workers")
                self.tell(signal.SIGHUP)
            elif signum in (signal.SIGTERM, signal.SIGINT):
                self.stopping = True

    def tell(self, signum):
        for pid in self.children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    def start_due(self, wake_r, wake_w):
        now = time.monotonic()
        for when in [when for when in self.due if when <= now]:
            self.due.remove(when)
            pid = os.fork()
            if pid == 0:  # the worker: never returns into the master's code
                code = 1
                try:
                    signal.set_wakeup_fd(-1)
                    for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):  # until serve_here takes them
                        signal.signal(signum, signal.SIG_DFL)
                    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # the app it builds reads the file as it is now
                    os.close(wake_r)
                    os.close(wake_w)
                    code = serve_here(self.make_app, self.sockets, self.threads, self.ident, self.grace)
                    atexit._run_exitfuncs()  # what the plugins registered (queued webhooks), as at a normal exit
                except UsageError as exc:
                    log.error("worker %d cannot start: %s", os.getpid(), exc)
                except BaseException:
                    log.exception("worker %d failed", os.getpid())
                finally:
                    sys.stdout.flush()
                    sys.stderr.flush()
                    os._exit(code)
            self.children[pid] = time.monotonic()
            log.info("worker %d started", pid)

    def reap(self):
        """Collect the workers that ended; one that died while serving is replaced, sooner the longer it ran."""
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            started = self.children.pop(pid, None)
            if started is None or self.stopping:
                continue
            self.quick_deaths = self.quick_deaths + 1 if time.monotonic() - started < STEADY else 0
            delay = RESTART_DELAYS[min(self.quick_deaths, len(RESTART_DELAYS) - 1)]
            code = os.waitstatus_to_exitcode(status)
            how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
            log.warning("worker %d %s; another starts in %ds", pid, how, delay)
            self.due.append(time.monotonic() + delay)

    def stop_all(self, wake_r):
        """SIGTERM to every worker, which finishes its requests in flight; SIGKILL to any still running
        `grace` seconds (and a little) later."""
        log.info("stopping %d workers", len(self.children))
        self.tell(signal.SIGTERM)
        deadline = time.monotonic() + self.grace + 5
        while self.children and time.monotonic() < deadline:
            select.select([wake_r], [], [], 0.2)
            with contextlib.suppress(BlockingIOError):
                os.read(wake_r, 512)
            self.reap()
        if self.children:
            log.warning("workers %s did not stop in time: killed", ", ".join(map(str, self.children)))
            self.tell(signal.SIGKILL)
            while self.children:
                self.children.pop(os.waitpid(-1, 0)[0], None)



# ---------------------------------------------------------------------------------------------
#  Command line
# ---------------------------------------------------------------------------------------------


def write_secret_file(path, text):
    """Create a secret file readable by its owner only (0600); never overwrite one."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def generate_signing_key(algorithm="EdDSA"):
    """A new private key in PEM for the given JWT algorithm."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    if algorithm == "RS256":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif algorithm == "ES256":
        key = ec.generate_private_key(ec.SECP256R1())
    else:
        key = ed25519.Ed25519PrivateKey.generate()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def ensure_secret_files(config):
    """Create the secret key and signing key files the config names, if they do not exist yet."""
    made = []
    for section, key, generate in (("server", "secret_key", lambda: secrets.token_hex(32)),
                                   ("tokens", "signing_key",
                                    lambda: generate_signing_key(config["tokens"]["algorithm"]))):
        value = config[section][key]
        if isinstance(value, dict) and "file" in value:
            path = config.resolve_path(value["file"])
            if not os.path.exists(path):
                write_secret_file(path, generate())
                made.append(path)
    return made


CONFIG_TEMPLATE = """\
# indieauth configuration, made by `indieauth init`. Every key is described in docs/configuration.md.
[server]
base_url = {base_url}
{port}database = "sqlite:///indieauth.db"
secret_key = {{ file = "secret.key" }}

[tokens]
signing_key = {{ file = "signing-key.pem" }}

# Each [plugins.NAME] table enables an installed plugin; `indieauth plugins` lists them.
[plugins.password]
"""


def validate_me(me, base_url):
    """A profile URL as typed, made canonical (S12, S13) and checked against the spec's rules (S5).

    Loopback profile URLs with a port are accepted only for a loopback base_url (development, S6)."""
    me = canonical_url(me.strip())
    problem = profile_url_problem(me, allow_loopback=is_loopback(split_url(base_url).hostname))
    if problem:
        raise UsageError(f"--me {me!r}: {problem}")
    return me


def setup_new_database(app, me, username="owner"):
    """Migrate an empty database and create its owner; returns a one-time sign-in URL for them."""
    app.storage.migrate()
    owner = app.storage.create_user(username, validate_me(me, app.base_url), role="owner")
    return app.url("/login/once/" + app.storage.create_login_link(owner, 24 * 3600))


def invocation(args):
    """How the person ran this command (`.venv/bin/indieauth --config x.toml`), to echo back in hints."""
    prog = sys.argv[0] if os.path.basename(sys.argv[0]) == "indieauth" else "indieauth"
    if os.path.abspath(args.config) != os.path.abspath(DEFAULT_CONFIG_NAME):
        prog += f" --config {args.config}"
    return prog


def cmd_init(app_factory, args):
    """init: write a config (if none), secret files, the database and the owner user."""
    path = args.config
    if os.path.exists(path):
        raise UsageError(f"{path} exists already; to start afresh elsewhere pass --config NEWFILE")
    try:
        base_url = _coerce("url", args.base_url)
    except ValueError:
        raise UsageError(f"--base-url {args.base_url!r} must be an http:// or https:// URL") from None
    me = validate_me(args.me, base_url)
    os.makedirs(os.path.dirname(os.path.abspath(path)), mode=0o700, exist_ok=True)  # a new folder: ours only
    with open(path, "w", encoding="utf-8") as f:
        f.write(CONFIG_TEMPLATE.format(base_url=json.dumps(base_url), port=""))
    made = []
    try:
        config = Config.load(path)
        made = ensure_secret_files(config)
        app = app_factory(config, check_schema=False)
        if not app.storage.is_empty():
            raise UsageError(f"the database {config['server']['database']} next to {path} is already in use "
                             f"(it holds tables); run init in another folder")
        link = setup_new_database(app, me, args.username)
    except BaseException:  # leave nothing half-made behind, so init can simply be run again
        for leftover in [path] + made:
            os.remove(leftover)
        raise
    print(f"Created {path}, its secret keys and the database; owner {args.username!r} is {me}")
    print(f"Set a password with: {invocation(args)} passwd")
    print(f"or sign in once (within 24 hours) at: {link}")
    return 0


def cmd_serve(app_factory, args):
    """serve: run waitress (in `workers` processes); on a first run (no config, or an empty database) set
    everything up first."""
    path = args.config
    first_link = None
    if not os.path.exists(path):
        port = args.port or 8080
        with open(path, "w", encoding="utf-8") as f:
            f.write(CONFIG_TEMPLATE.format(base_url=json.dumps(f"http://127.0.0.1:{port}/"),
                                           port=f"port = {port}\n"))
        print(f"No configuration found: wrote {path}")
    config = Config.load(path)
    warn_if_readable(config)
    warn_if_development(config)
    if _sqlite_is_new(config):
        ensure_secret_files(config)
    workers = worker_count(args.workers or config["server"]["workers"])
    app = app_factory(config, check_schema=False)
    host = args.host or config["server"]["host"]
    port = args.port or config["server"]["port"]
    sockets = listen(host, port)  # first, so a first-run link is never made for a server that cannot start
    try:
        if app.storage.is_empty():  # a brand-new database: set it up; an old schema is refused below
            first_link = setup_new_database(app, config["server"]["base_url"])
        check_start_up(app)
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    finally:
        app.close()  # each serving process builds its own app: no connection crosses a fork
    print(f"indieauth {__version__} serving {config['server']['base_url']} on http://{host}:{port}/"
          + (f" with {workers} worker processes" if workers > 1 else ""))
    if first_link:
        print("First run: the owner's profile URL is " + config["server"]["base_url"])
        print("Sign in once (within 24 hours) at: " + first_link)
        print(f"then set a password with: {invocation(args)} passwd")
    sys.stdout.flush()
    give_back_big_blocks()

    def make_app():  # the configuration as the file is now: SIGHUP takes up its changes
        served = app_factory(Config.load(path))
        served.keep_connections = True  # its threads live as long as the server (CONNECTION_RECHECK)
        return served

    return serve_workers(make_app, workers=workers, threads=config["server"]["threads"], sockets=sockets)


def workers_option(text):
    """`--workers`: a whole number from 1, or "auto"."""
    try:
        return _coerce("workers", text if text == "auto" else int(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f'expected a whole number from 1, or "auto", got {text!r}') from None


def _sqlite_is_new(config):
    path = sqlite_file(config["server"]["database"], config.folder)
    return path is not None and not os.path.exists(path)


def warn_if_development(config):
    """One warning line, once when `serve` starts (not per command, request or reload), when base_url is
    on loopback: the development mode IndieAuth.__init__ allows."""
    if is_loopback(split_url(config["server"]["base_url"]).hostname):
        log.warning("base_url %s is on loopback: development mode (http allowed; profile URLs on loopback with "
                    "a port accepted, which strict clients refuse)", config["server"]["base_url"])


def warn_if_readable(config):
    """One warning line when the SQLite database (or its -wal, -shm) can be read by group or others."""
    path = sqlite_file(config["server"]["database"], config.folder)
    exposed = [p for p in (path, f"{path}-wal", f"{path}-shm") if path and os.path.exists(p)
               and os.stat(p).st_mode & 0o044]
    if exposed:
        log.warning("the database is readable by other users of this machine, and it holds password hashes: "
                    "run chmod 600 %s", " ".join(exposed))


MIGRATION_NEEDED = 3  # the exit code of `migrate --check` when `indieauth migrate` has work to do


def cmd_migrate(app, args):
    """migrate: apply the pending migrations; with --check only say whether there are any (exit code 0: none,
    MIGRATION_NEEDED: some).  A database newer than this code is refused either way (Storage.check_schema)."""
    version = app.storage.schema_version()
    if version > SCHEMA_VERSION:
        app.storage.check_schema()
    if args.check:
        if version == SCHEMA_VERSION:
            print(f"the database is up to date (schema version {SCHEMA_VERSION}): no migration is needed")
            return 0
        print(f"the database is at schema version {version}, this version of indieauth needs {SCHEMA_VERSION}: "
              f"back it up (`indieauth backup DEST`), then run `indieauth migrate` before serving")
        return MIGRATION_NEEDED
    applied = app.storage.migrate()
    print(f"applied migrations {', '.join(map(str, applied))}" if applied else
          f"the database is up to date (schema version {SCHEMA_VERSION})")
    return 0


BACKUP_MANIFEST = "manifest.json"
DUMP_TOOLS = {"postgresql": ("pg_dump", "psql", "postgresql-client"),
              "mysql": ("mariadb-dump", "mariadb", "mariadb-client")}


def database_kind(url):
    """sqlite, postgresql or mysql: which tools back a database URL up."""
    scheme = url.split(":", 1)[0].split("+", 1)[0]
    return {"postgres": "postgresql"}.get(scheme, scheme)


def secret_file_paths(config):
    """Every `{ file = … }` the configuration reads a secret from (defaults included), as written."""
    found = []

    def walk(value):
        if isinstance(value, dict) and set(value) == {"file"} and isinstance(value["file"], str):
            found.append(value["file"])
        elif isinstance(value, dict):
            for inner in value.values():
                walk(inner)
    walk({"sections": config.sections, "plugins": config.plugins})
    return sorted(set(found))


def client_command(url, tool):
    """(argv, environment) running a PostgreSQL or MariaDB client `tool` on the database of `url`; the
    password goes through the environment, never the command line that `ps` shows.  UsageError saying what
    to install when the tool is not on PATH."""
    import shutil
    kind = database_kind(url)
    program = shutil.which(tool) or (shutil.which("mysqldump" if tool == "mariadb-dump" else "mysql")
                                     if kind == "mysql" else None)
    if program is None:
        raise NotFound(f"{tool} is not installed: install it (Debian and Ubuntu: apt install "
                       f"{DUMP_TOOLS[kind][2]}) and run this again")
    parts = urllib.parse.urlsplit(url)
    env = dict(os.environ)
    if kind == "postgresql":
        env.update(PGPASSWORD=urllib.parse.unquote(parts.password or ""), PGHOST=parts.hostname or "localhost",
                   PGPORT=str(parts.port or 5432), PGUSER=urllib.parse.unquote(parts.username or ""),
                   PGDATABASE=parts.path.lstrip("/"))
        return [program, "--no-password"], env
    env["MYSQL_PWD"] = urllib.parse.unquote(parts.password or "")
    return [program, "-h", parts.hostname or "localhost", "-P", str(parts.port or 3306),
            "-u", urllib.parse.unquote(parts.username or "root")], env


def dump_database(config, dest):
    """Write a consistent snapshot of the configuration's database into `dest` (0600): SQLite's online backup
    API (the server may go on writing), `pg_dump` or `mariadb-dump --single-transaction`; its file name."""
    import sqlite3
    import subprocess
    url = config["server"]["database"]
    path = sqlite_file(url, config.folder)
    if path is not None:
        if not os.path.exists(path):
            raise NotFound(f"the database {path} does not exist")
        name = "database.sqlite"  # restore puts it where the restored configuration says
        write_secret_file(os.path.join(dest, name), "")
        source, copy = sqlite3.connect(f"file:{path}?mode=ro", uri=True), sqlite3.connect(os.path.join(dest, name))
        with source, copy:
            source.backup(copy)
        source.close()
        copy.close()
        return name
    kind = database_kind(url)
    argv, env = client_command(url, DUMP_TOOLS[kind][0])
    extra = (["--no-owner", "--no-privileges"] if kind == "postgresql" else
             ["--single-transaction", "--routines", urllib.parse.urlsplit(url).path.lstrip("/")])
    name = "database.sql"
    fd = os.open(os.path.join(dest, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        result = subprocess.run(argv + extra, stdout=out, stderr=subprocess.PIPE, env=env)
    if result.returncode != 0:
        raise NotFound(f"{argv[0]} failed: {one_line(result.stderr.decode(errors='replace'))}")
    return name


def cmd_backup(app_factory, args):
    """backup DEST: the configuration, its secret files and a consistent snapshot of the database in a new
    folder DEST (0700, every file 0600), while the server runs; `restore` puts them back."""
    import shutil
    config = Config.load(args.config)
    dest = os.path.abspath(args.dest)
    if os.path.exists(dest) and os.listdir(dest):
        raise UsageError(f"{args.dest} is not empty: back up into a new folder")
    kind = database_kind(config["server"]["database"])
    if kind != "sqlite":
        client_command(config["server"]["database"], DUMP_TOOLS[kind][0])  # before anything is written
    os.makedirs(dest, mode=0o700, exist_ok=True)
    os.chmod(dest, 0o700)
    files = {"config": os.path.basename(config.path), "database": dump_database(config, dest), "secrets": []}
    shutil.copyfile(config.path, os.path.join(dest, files["config"]))
    for written in secret_file_paths(config):
        source = config.resolve_path(written)
        inside = os.path.relpath(source, config.folder)
        if inside.startswith(os.pardir) or os.path.isabs(written):
            print(f"indieauth: warning: {written} is outside {config.folder}: back it up by hand", file=sys.stderr)
        elif os.path.exists(source):
            write_secret_file(os.path.join(dest, inside), open(source, encoding="utf-8").read())
            files["secrets"].append(inside)
    files.update(kind=kind, schema_version=Storage(open_database(config["server"]["database"], config.folder))
                 .schema_version(), indieauth=__version__, made=utcnow().isoformat() + "Z")
    write_secret_file(os.path.join(dest, BACKUP_MANIFEST), json.dumps(files, indent=2) + "\n")
    for top, _, names in os.walk(dest):
        for name in names:
            os.chmod(os.path.join(top, name), 0o600)
    print(f"backed up {files['config']}, {', '.join(files['secrets']) or 'no secret files'} and the "
          f"{kind} database into {args.dest}")
    return 0


def load_dump(url, path):
    """Load a `pg_dump` or `mariadb-dump` file into the empty database of `url` (psql in one transaction,
    stopping at the first error; mariadb); UsageError for a database that has tables."""
    import subprocess
    if not Storage(open_database(url)).is_empty():
        raise UsageError(f"the database {url} is not empty: restore into an empty database")
    kind = database_kind(url)
    argv, env = client_command(url, DUMP_TOOLS[kind][1])
    extra = (["-v", "ON_ERROR_STOP=1", "--single-transaction", "-q"] if kind == "postgresql" else
             [urllib.parse.urlsplit(url).path.lstrip("/")])
    with open(path, "rb") as dump:
        result = subprocess.run(argv + extra, stdin=dump, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    if result.returncode != 0:
        raise NotFound(f"{argv[0]} failed: {one_line(result.stderr.decode(errors='replace'))}")


def cmd_restore(app_factory, args):
    """restore SRC: put a backup back, into the empty folder of --config; a PostgreSQL or MariaDB backup is
    loaded into the database its configuration names, which must be empty."""
    import shutil
    with open(os.path.join(args.source, BACKUP_MANIFEST), encoding="utf-8") as f:
        files = json.load(f)
    folder = os.path.dirname(os.path.abspath(args.config))
    if os.path.exists(folder) and os.listdir(folder):
        raise UsageError(f"{folder} is not empty: restore into a new, empty folder")
    os.makedirs(folder, mode=0o700, exist_ok=True)
    for name in files["secrets"]:
        target = os.path.normpath(os.path.join(folder, name))
        if os.path.isabs(name) or not target.startswith(folder + os.sep):
            raise UsageError(f"{args.source}: {BACKUP_MANIFEST} names {name!r}, outside the folder")
        write_secret_file(target, open(os.path.join(args.source, name), encoding="utf-8").read())
    write_secret_file(os.path.abspath(args.config), open(os.path.join(args.source, files["config"]),
                                                         encoding="utf-8").read())
    config = Config.load(args.config)
    if files["kind"] == "sqlite":
        target = sqlite_file(config["server"]["database"], config.folder)
        if os.path.exists(target):
            raise UsageError(f"{target} exists: restore into a new, empty place")
        write_secret_file(target, "")
        shutil.copyfile(os.path.join(args.source, files["database"]), target)
    else:
        load_dump(config["server"]["database"], os.path.join(args.source, files["database"]))
    print(f"restored {args.source} (schema version {files['schema_version']}) into {folder}; "
          f"run `indieauth --config {args.config} migrate --check` before serving it")
    return 0


def cmd_plugins(app, args):
    """plugins: every installed plugin with its version, whether it is enabled and its hooks."""
    enabled = set(app.config.enabled_plugins()) if app else set()
    rows = []
    for name, ep in sorted(installed_plugins().items()):
        if app and app.pm.get_plugin(name) is not None:
            module = app.pm.get_plugin(name)
        else:
            try:
                module = ep.load()
            except Exception as exc:
                rows.append((name, "?", "broken", f"cannot be loaded: {exc}"))
                continue
        probe = pluggy.PluginManager("indieauth")
        probe.add_hookspecs(HookSpecs)
        probe.register(module, name=name)
        hooks = sorted(h.name for h in probe.get_hookcallers(module))
        version = ep.dist.version if ep.dist else "?"
        rows.append((name, version, "enabled" if name in enabled else "disabled", ", ".join(hooks)))
    if not rows:
        print("no plugins installed")
    for row in rows:
        print("{:<12} {:<10} {:<9} {}".format(*row))
    return 0


def cmd_user_add(app, args):
    user = app.storage.create_user(args.username, validate_me(args.me, app.base_url), role=args.role)
    link = app.url("/login/once/" + app.storage.create_login_link(user, 24 * 3600))
    print(f"added {user.username} ({user.me}); sign in once (within 24 hours) at: {link}")
    return 0


def cmd_user_role(app, args):
    user = app.storage.get_user(username=args.username)
    if user is None:
        raise NotFound(f"no user named {args.username!r}")
    client = app.storage.get_client(args.client_id)
    if client is None:
        raise UsageError(f"{args.client_id!r} is not a pre-registered app (see /admin/clients); "
                         f"apps that came on their own have no roles")
    if args.role is not None:
        app.storage.assign_role(user, client, args.role)
        app.storage.log_event("app_roles_changed", client_id=client.client_id, target=user.username, role=args.role)
    role = app.storage.role_for(user, client.client_id)
    print(f"{user.username} in {client.name}: {role or 'no role'}")
    return 0


def cmd_user_list(app, args):
    for user in app.storage.list_users():
        state = "disabled" if user.disabled_at else "active"
        print(f"{user.username:<20} {user.role:<6} {state:<8} {user.me}")
    return 0


def cmd_user_link(app, args):
    user = user_or_owner(app, args.user)
    print(app.url("/login/once/" + app.storage.create_login_link(user, 24 * 3600)))
    return 0


def user_or_owner(app, name):
    """The user called `name`, or the owner when `name` is empty: the user a command names (the core's
    and plugins' alike); NotFound, "no user named 'NAME'" and exit code 1, when there is none."""
    user = app.storage.get_user(username=name) if name else _owner(app)
    if user is None:
        raise NotFound(f"no user named {name!r}" if name else "there is no owner user yet")
    return user


def cmd_token_issue(app, args):
    """token issue: a testing token on stdout, nothing else, so scripts can capture it."""
    try:
        lifetime = parse_duration(args.expires)
    except ValueError as exc:
        raise UsageError(f"--expires {args.expires!r}: {exc}") from None
    raw, _ = issue_testing_token(app, user_or_owner(app, args.user), args.client_id, args.scope.split(), lifetime)
    print(raw)
    return 0


def cmd_token_list(app, args):
    tokens = app.storage.live_tokens()
    if args.json:
        print(json.dumps([{"id": t.jti, "fingerprint": fingerprint(t), "user": t.user.username, "me": t.me,
                           "client_id": t.client_id, "scope": t.scope, "kind": t.kind, "via": t.via,
                           "issued": t.created_at.isoformat() + "Z",
                           "last_used": t.last_used_at.isoformat() + "Z" if t.last_used_at else None,
                           "expires": t.expires_at.isoformat() + "Z" if t.expires_at else None}
                          for t in tokens], indent=2))
        return 0
    for t in tokens:
        expires = f"{t.expires_at:%Y-%m-%d %H:%M}" if t.expires_at else "never"
        print(f"{t.jti[:12]}  {t.user.username:<12} {t.kind:<7} {t.via:<7} {expires}  {t.client_id}  {t.scope}")
    return 0


def cmd_token_revoke(app, args):
    if sum(bool(x) for x in (args.id, args.client, args.all)) != 1:
        raise UsageError("name exactly one of: a token ID, --client URL or --all")
    if args.id:
        token = app.storage.find_token_by_id(args.id.lower())
        if token is None:
            raise UsageError(f"no single active token has an ID starting with {args.id!r} (see `token list`)")
        targets = [token]
    else:
        client_id = canonical_client_id(args.client)
        targets = [t for t in app.storage.live_tokens() if args.all or t.client_id == client_id]
    for token in targets:
        revoke_token_row(app, token)
    print(f"revoked {len(targets)} token{'' if len(targets) == 1 else 's'}")
    return 0


def cmd_ticket_send(app, args):
    """ticket send: the ticket is sent (send_ticket), or exit 1 saying why the subject's server has not got it."""
    try:
        ticket = send_ticket(app, user_or_owner(app, args.user), args.subject, args.resource, args.scope)
    except FetchError as error:
        print(f"indieauth: the ticket was not sent: {error}", file=sys.stderr)
        return 1
    print(f"sent a ticket to {ticket.subject} for {ticket.resource} ({ticket.scope}); "
          f"it can be redeemed for {TICKET_LIFETIME // 60} minutes")
    return 0


def cmd_ticket_list(app, args):
    user = user_or_owner(app, args.user)
    stamp = lambda at: at.isoformat() + "Z" if at else None
    sent = [{"subject": t.subject, "resource": t.resource, "scope": t.scope, "sent": stamp(t.created_at),
             "redeemed": stamp(t.used_at)} for t in app.storage.sent_tickets(user)]
    received = [{"resource": t.resource, "issuer": t.issuer, "scope": t.scope, "received": stamp(t.created_at),
                 "expires": stamp(t.expires_at)} for t in app.storage.received_tokens(user)]
    if args.json:
        print(json.dumps({"sent": sent, "received": received}, indent=2))
        return 0
    for t in sent:
        print(f"sent      {t['sent'][:16]}  {t['subject']}  {t['resource']}  {t['scope']}  "
              f"{'redeemed' if t['redeemed'] else 'not redeemed'}")
    for t in received:
        print(f"received  {t['received'][:16]}  {t['resource']}  from {t['issuer']}  {t['scope']}")
    return 0


def cmd_keys_rotate(app, args):
    """keys rotate: a new signing key; the old one stays published until its last token expires."""
    value = app.config["tokens"]["signing_key"]
    if not (isinstance(value, dict) and "file" in value):
        raise UsageError(f"{app.config.where('tokens', 'signing_key')} is not a {{ file = ... }}; rotate it by "
                         f"replacing the key where it is kept (the old one must then be published by hand)")
    path = app.config.resolve_path(value["file"])
    old_kid = app.keys.current()[0]
    fresh = path + ".new"
    if os.path.exists(fresh):
        os.remove(fresh)
    write_secret_file(fresh, generate_signing_key(app.config["tokens"]["algorithm"]))
    os.replace(fresh, path)
    until = app.now() + datetime.timedelta(seconds=app.config["tokens"]["access_token_lifetime"])
    app.storage.retire_key(old_kid, until)
    new_kid = app.keys.current()[0]
    until = next(key.publish_until for key in app.storage.list_keys() if key.kid == old_kid)
    print(f"new signing key {new_kid}; the old key {old_kid} stays published until {until:%Y-%m-%d %H:%M} UTC "
          f"(when its last token expires)")
    return 0


def cmd_keys_list(app, args):
    app.keys.current()
    for key in app.storage.list_keys():
        state = ("signing" if key.retired_at is None else
                 f"retired, published until {key.publish_until:%Y-%m-%d %H:%M}" if key.publish_until > app.now()
                 else "expired")
        print(f"{key.kid}  {key.algorithm:<6} {key.created_at:%Y-%m-%d}  {state}")
    return 0


def cmd_client_add(app, args):
    """client add: register an app as the Apps page does; its client_id and secret (shown only now)."""
    client_id, secret = register_client(app, args.name, args.redirect_uri, args.description, args.logo)
    if args.json:
        print(json.dumps({"client_id": client_id, "client_secret": secret}))
    else:
        print(f"client_id: {client_id}\nclient_secret: {secret}")
        print("(the secret is shown only now; `indieauth client secret` makes a new one)", file=sys.stderr)
    return 0


def cmd_client_list(app, args):
    """client list: every registered app, never a secret."""
    clients = [{"client_id": c.client_id, "name": c.name, "redirect_uris": json.loads(c.redirect_uris),
                "created": c.created_at.isoformat() + "Z"} for c in app.storage.list_clients()]
    if args.json:
        print(json.dumps(clients, indent=2))
    for c in clients if not args.json else ():
        print(f"{c['client_id']}  {c['name']}  {' '.join(c['redirect_uris'])}")
    return 0


def registered(app, client_id):
    """The registered app of `client_id`; NotFound (exit code 1) when there is none."""
    client = app.storage.get_client(client_id)
    if client is None:
        raise NotFound(f"no registered app {client_id!r} (see `indieauth client list`)")
    return client


def cmd_client_secret(app, args):
    """client secret: a new secret for the app, printed once; the old one stops working."""
    client = registered(app, args.client_id)
    secret = app.storage.rotate_client_secret(client.client_id)
    print(json.dumps({"client_id": client.client_id, "client_secret": secret}) if args.json else secret)
    return 0


def cmd_client_remove(app, args):
    """client remove: unregister the app as the Apps page does, revoking its tokens."""
    client = registered(app, args.client_id)
    revoked = remove_client(app, client)
    print(json.dumps({"client_id": client.client_id, "tokens_revoked": revoked}) if args.json else
          f"removed {client.name} ({client.client_id}); revoked {revoked} token{'' if revoked == 1 else 's'}")
    return 0


def cmd_resource_server_add(app, args):
    try:
        resources = parse_resources(args.resource or [])
    except OAuthError as error:
        raise UsageError(f"--resource: {error.description}") from None
    secret = app.storage.add_resource_server(args.name, " ".join(resources))
    print(secret)
    print(f"(the secret of resource server {args.name!r}: it calls POST {app.url('introspect')} with "
          f"'Authorization: Bearer <secret>'; it is shown only now)", file=sys.stderr)
    return 0


def cmd_resource_server_list(app, args):
    for row in app.storage.list_resource_servers():
        print(f"{row.name:<24} {'revoked' if row.revoked_at else 'active':<8} {row.created_at:%Y-%m-%d}  "
              f"{row.resources or '(any resource)'}")
    return 0


def cmd_resource_server_revoke(app, args):
    if not app.storage.revoke_resource_server(args.name):
        raise UsageError(f"no active resource server named {args.name!r}")
    print(f"revoked {args.name}")
    return 0


def _owner(app):
    return next((u for u in app.storage.list_users() if u.role == "owner"), None)


def cmd_purge(app, args):
    """purge: delete expired rows now (the server also does it every few minutes) and say how many."""
    counts = app.storage.purge()
    for table, count in counts.items():
        print(f"{table:<12} {count}")
    return 0


def cmd_log(app, args):
    for event in reversed(app.storage.events(args.limit)):
        who = event.user.username if event.user_id else "-"
        print(f"{event.at:%Y-%m-%d %H:%M:%S} {event.kind:<14} {who:<16} {event.data}")
    return 0


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(f"{message}\n{self.format_usage().strip()}")


def build_parser(app=None, disabled=True, config=None):
    """The `indieauth` command line: the core's commands and the enabled plugins' (`app`'s); with `disabled`,
    the commands installed plugins declare that are not enabled too, each saying which table enables it in
    `config` (the file as given; by default the app's)."""
    parser = ArgumentParser(prog="indieauth", description="A self-hosted IndieAuth server.")
    parser.add_argument("--config", default=default_config_path(),
                        help="configuration file (default: $INDIEAUTH_CONFIG or ./plugins.toml)")
    parser.add_argument("--version", action="version", version=f"indieauth {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    p = sub.add_parser("init", help="create config, keys, database and the owner user")
    p.add_argument("--me", required=True, help="the owner's profile URL, e.g. https://example.com/")
    p.add_argument("--base-url", required=True, help="this server's public URL")
    p.add_argument("--username", default="owner", help="the owner's user name (default: owner)")
    p.set_defaults(handler=cmd_init, needs_app=False)
    p = sub.add_parser("serve", help="run the server with waitress")
    p.add_argument("--host", help="the address to listen on (default: [server] host, 127.0.0.1)")
    p.add_argument("--port", type=int, help="the port to listen on (default: [server] port, 8080)")
    p.add_argument("--workers", type=workers_option, metavar="N",
                   help='processes serving the port: a number, or "auto" for one per core ([server] workers)')
    p.set_defaults(handler=cmd_serve, needs_app=False)
    p = sub.add_parser("migrate", help="apply database migrations")
    p.add_argument("--check", action="store_true",
                   help=f"only say whether a migration is needed (exit code {MIGRATION_NEEDED} when one is)")
    p.set_defaults(handler=cmd_migrate, migrate=True)
    p = sub.add_parser("backup", help="copy the configuration, its key files and the database into a new folder")
    p.add_argument("dest", metavar="DEST", help="a new (or empty) folder for the backup")
    p.set_defaults(handler=cmd_backup, needs_app=False)
    p = sub.add_parser("restore", help="put a backup back into the empty folder of --config")
    p.add_argument("source", metavar="SRC", help="the folder `indieauth backup` made")
    p.set_defaults(handler=cmd_restore, needs_app=False)
    sub.add_parser("plugins", help="list installed plugins").set_defaults(handler=cmd_plugins, optional_app=True)
    sub.add_parser("purge", help="delete expired rows now and print how many of each").set_defaults(handler=cmd_purge)
    p = sub.add_parser("log", help="show the audit log")
    p.add_argument("--limit", type=int, default=50, help="how many of the newest events (default: 50)")
    p.set_defaults(handler=cmd_log)
    user = sub.add_parser("user", help="manage users").add_subparsers(dest="user_command", metavar="ACTION",
                                                                      parser_class=ArgumentParser, required=True)
    p = user.add_parser("add", help="add a user and print a one-time sign-in link")
    p.add_argument("username", help="the name to sign in with")
    p.add_argument("--me", required=True, help="the user's profile URL, e.g. https://example.com/")
    p.add_argument("--role", default="user", choices=["user", "admin", "owner"],
                   help="admins and the owner manage users and apps (default: user)")
    p.set_defaults(handler=cmd_user_add)
    user.add_parser("list", help="list users").set_defaults(handler=cmd_user_list)
    p = user.add_parser("role", help="show, give or take away a user's role in a pre-registered app")
    p.add_argument("username", help="the user's name")
    p.add_argument("client_id", help="the client_id of a pre-registered app (see `indieauth client list`)")
    p.add_argument("role", nargs="?", help='the role to give; "" takes it away; none shows it')
    p.set_defaults(handler=cmd_user_role)
    p = user.add_parser("link", help="print a one-time sign-in link (default: the owner)")
    p.add_argument("--user", help="user name (default: the owner)")
    p.set_defaults(handler=cmd_user_link)
    tok = sub.add_parser("token", help="testing tokens, and every token").add_subparsers(
        dest="token_command", metavar="ACTION", parser_class=ArgumentParser, required=True)
    p = tok.add_parser("issue", help="issue a testing token and print it")
    p.add_argument("--client-id", required=True, help="the app's client_id (URL)")
    p.add_argument("--scope", required=True, help='space-separated scopes, e.g. "create update"')
    p.add_argument("--user", help="whose token (default: the owner)")
    p.add_argument("--expires", default="1d", help="lifetime, e.g. 1h or 7d (default: 1d)")
    p.set_defaults(handler=cmd_token_issue)
    p = tok.add_parser("list", help="list active tokens")
    p.add_argument("--json", action="store_true", help="as JSON")
    p.set_defaults(handler=cmd_token_list)
    p = tok.add_parser("revoke", help="revoke a token, a client's tokens or all")
    p.add_argument("id", nargs="?", help="a token ID from `token list` (its first 6+ characters)")
    p.add_argument("--client", help="revoke every token of this client_id")
    p.add_argument("--all", action="store_true", help="revoke every token")
    p.set_defaults(handler=cmd_token_revoke)
    tickets = sub.add_parser("ticket", help="tickets: give someone access to a resource of yours").add_subparsers(
        dest="ticket_command", metavar="ACTION", parser_class=ArgumentParser, required=True)
    p = tickets.add_parser("send", help="send a ticket to a person's site; their server redeems it for a token")
    p.add_argument("--subject", required=True, help="who gets access: their site's URL (profile URL)")
    p.add_argument("--resource", required=True, help="to what: the URL of the page or feed")
    p.add_argument("--scope", default="read", help='scopes, separated by spaces (default: "read")')
    p.add_argument("--user", help="who sends it (default: the owner)")
    p.set_defaults(handler=cmd_ticket_send)
    p = tickets.add_parser("list", help="list the tickets sent and the tokens received (never a token itself)")
    p.add_argument("--user", help="whose (default: the owner)")
    p.add_argument("--json", action="store_true", help="print them as JSON")
    p.set_defaults(handler=cmd_ticket_list)
    keys = sub.add_parser("keys", help="signing keys of JWT access tokens").add_subparsers(
        dest="keys_command", metavar="ACTION", parser_class=ArgumentParser, required=True)
    keys.add_parser("rotate", help="make a new signing key").set_defaults(handler=cmd_keys_rotate)
    keys.add_parser("list", help="list signing keys").set_defaults(handler=cmd_keys_list)
    rs = sub.add_parser("resource-server", help="credentials for token introspection").add_subparsers(
        dest="rs_command", metavar="ACTION", parser_class=ArgumentParser, required=True)
    p = rs.add_parser("add", help="create a credential and print its secret once")
    p.add_argument("name", help="a name for the resource server, e.g. micropub")
    p.add_argument("--resource", action="append", metavar="URI",
                   help="bind it to this resource (repeatable): introspection then says only tokens for it are active")
    p.set_defaults(handler=cmd_resource_server_add)
    rs.add_parser("list", help="list resource servers").set_defaults(handler=cmd_resource_server_list)
    p = rs.add_parser("revoke", help="revoke a resource server's credential")
    p.add_argument("name", help="its name, as in `resource-server list`")
    p.set_defaults(handler=cmd_resource_server_revoke)
    client = sub.add_parser("client", help="registered (confidential) apps, as on the Apps page").add_subparsers(
        dest="client_command", metavar="ACTION", parser_class=ArgumentParser, required=True)
    p = client.add_parser("add", help="register an app; print its client_id and its secret, once")
    p.add_argument("name", help="the app's name, shown when people sign in to it")
    p.add_argument("--redirect-uri", action="append", required=True, metavar="URL",
                   help="where the app receives the code (repeatable)")
    p.add_argument("--description", default="", help="a line about the app")
    p.add_argument("--logo", default="", metavar="URL", help="the address of the app's logo")
    p.add_argument("--json", action="store_true", help='print {"client_id", "client_secret"} as JSON')
    p.set_defaults(handler=cmd_client_add)
    p = client.add_parser("list", help="list registered apps (without secrets)")
    p.add_argument("--json", action="store_true", help="as JSON")
    p.set_defaults(handler=cmd_client_list)
    p = client.add_parser("secret", help="give an app a new secret and print it once; the old one stops working")
    p.add_argument("client_id", help="the app's client_id, from `client list`")
    p.add_argument("--json", action="store_true", help='print {"client_id", "client_secret"} as JSON')
    p.set_defaults(handler=cmd_client_secret)
    p = client.add_parser("remove", help="unregister an app and revoke its tokens")
    p.add_argument("client_id", help="the app's client_id, from `client list`")
    p.add_argument("--json", action="store_true", help='print {"client_id", "tokens_revoked"} as JSON')
    p.set_defaults(handler=cmd_client_remove)
    groups = {None: sub, "user": user, "token": tok, "ticket": tickets, "keys": keys, "resource-server": rs,
              "client": client}
    if app is not None:
        app.pm.hook.register_commands(app=app, subparsers=sub, groups={k: v for k, v in groups.items() if k})
    if disabled:
        config = config or (app.config.shown if app is not None else default_config_path())
        missing = {path: (plugin, text, False) for path, (plugin, text) in MOVED_COMMANDS.items()}
        declared = {path: (plugin, text, True) for path, (plugin, text) in declared_commands().items()}
        for (group, name), (plugin, text, installed) in {**missing, **declared}.items():
            if group in groups and name not in groups[group].choices:
                add_unavailable_command(groups[group], group, name, plugin, text, installed, config)
    return parser


# Commands that moved from the core to a first-party plugin: said to come with it even when it is not installed.
MOVED_COMMANDS = {("user", "invite"): ("hosting", "print a single-use sign-up link")}


def add_unavailable_command(subparsers, group, name, plugin, text, installed, config):
    """A stand-in for a command whose plugin is not enabled (or not installed): listed in the help with the
    table that enables it; run, it says so, whatever its arguments."""
    hint = f"enable with [plugins.{plugin}] in {config}"
    if not installed:
        hint = f"pip install indieauth-{plugin} (or plugins/indieauth-{plugin} from the source), then {hint}"
    command = " ".join(filter(None, ("indieauth", group, name)))

    def handler(app, args):
        raise UsageError(f"`{command}` comes with the {plugin} plugin, which is not "
                         f"{'enabled' if installed else 'installed'} ({hint})")
    p = subparsers.add_parser(name, help=f"{text}  ({hint})" if installed else f"{text}  ([plugins.{plugin}])",
                              add_help=False, prefix_chars="\0")  # takes any options: they reach the message
    p.add_argument("arguments", nargs="*", help="whatever the command takes")
    p.set_defaults(handler=handler, unavailable=plugin)


def read_secret_from_stdin(prompt):
    """A line from stdin: prompted without echo on a terminal, plain read when piped."""
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    return sys.stdin.readline().rstrip("\r\n")


def parse_command_line(app, argv, config):
    """`argv` parsed.  The commands of plugins that are not enabled are looked for (which imports every
    installed plugin) only when they may be what was asked: help, or a command the others do not know."""
    helping = any(arg in ("-h", "--help") for arg in argv)
    try:
        return build_parser(app, disabled=helping, config=config).parse_args(argv)
    except UsageError:
        if helping:
            raise
    return build_parser(app, config=config).parse_args(argv)


def main(argv=None, app_factory=None):
    """Entry point of the `indieauth` command; returns the exit code."""
    if argv is None and os.environ.get("GATEWAY_INTERFACE", "").startswith("CGI"):
        run_cgi()  # the command run by a web server's CGI: from the bytecode cache, unlike `python indieauth.py`
        return 0
    argv = list(sys.argv[1:] if argv is None else argv)
    app_factory = app_factory or (lambda config, **kw: IndieAuth(config, **kw))
    try:
        pre = argparse.ArgumentParser(add_help=False)
        pre.add_argument("--config", default=default_config_path())
        known, _ = pre.parse_known_args(argv)
        app = None
        config_error = None
        command = next((a for a in argv if not a.startswith("-") and a != known.config), None)
        helping = command is None and any(arg in ("-h", "--help") for arg in argv)  # which plugins are enabled
        if (command not in ("init", "serve", None) or helping) and os.path.exists(known.config):
            try:
                config = Config.load(known.config)
                setup_logging(config["server"]["log_level"])
                app = app_factory(config, check_schema=command not in ("migrate", "plugins", None))
            except UsageError as exc:
                config_error = exc
        try:
            args = parse_command_line(app, argv, known.config)
        except UsageError as exc:
            if config_error:
                raise config_error from None
            if not os.path.exists(known.config):
                raise UsageError(f"{exc}\n(commands from plugins, such as passwd, need a configuration: "
                                 f"{known.config} was not found; create one with `indieauth init`)") from None
            raise
        if args.command is None:
            build_parser(app, config=known.config).print_help()
            return 2
        if getattr(args, "needs_app", True) is False:
            setup_logging()
            return args.handler(app_factory, args)
        if config_error and getattr(args, "optional_app", False):
            print(f"indieauth: warning: {config_error}", file=sys.stderr)
        if app is None and not getattr(args, "optional_app", False):
            raise config_error or config_not_found(args.config)
        return args.handler(app, args)
    except UsageError as exc:
        print(f"indieauth: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except peewee.OperationalError as exc:
        print(f"indieauth: error: the database cannot be used: {exc}", file=sys.stderr)
        return 1


# ---------------------------------------------------------------------------------------------
#  WSGI entry
# ---------------------------------------------------------------------------------------------
#  `indieauth.application` for Passenger (passenger_wsgi.py) and CGI: built on the first request
#  from INDIEAUTH_CONFIG, so importing this module stays cheap and side-effect free.

_application = None
_application_lock = threading.Lock()


def give_back_big_blocks(threshold=4 * 1024 * 1024):
    """For a long-running server: have glibc serve every allocation of `threshold` bytes or more with its
    own mapping, returned to the system when freed.  By default glibc raises that threshold after the
    first such block is freed and then keeps later ones in the freeing thread's arena: each password
    check (scrypt's 16 MiB) left 16 MiB behind in a server thread, some 50 MB after a few sign-ins on
    a host that may allow a hundred.  Does nothing under another C library."""
    try:
        import ctypes
        ctypes.CDLL(None).mallopt(-3, threshold)  # M_MMAP_THRESHOLD; a fixed value stops the raising
    except (OSError, AttributeError):
        pass


def build_application(cgi):
    """The app of $INDIEAUTH_CONFIG (or ./plugins.toml), checked as `serve` checks it before answering:
    its database reachable and at this code's schema, its signing key readable (check_start_up)."""
    config = Config.load(default_config_path())
    level = config["server"]["log_level"]
    # Under CGI stderr is the web server's error log, and the web server keeps its own access
    # log: a request that goes well writes nothing there (log_level "debug" still does).
    setup_logging("warning" if cgi and level == "info" else level)
    app = IndieAuth(config, check_schema=False)
    try:
        check_start_up(app, light=cgi)
    except BaseException:
        app.close()  # a half-built app keeps no connection while the next request tries again
        raise
    if not cgi:
        # Passenger and other long-running WSGI servers: one app per process, as under serve
        give_back_big_blocks()
        app.keep_connections = True
    return app


def cannot_start(environ, start_response, exc):
    """The answer while the app cannot be built: a 503 (JSON on API paths) that names no detail, and the
    reason on one line of the error log."""
    setup_logging()
    reason = str(exc) if isinstance(exc, UsageError) else f"the database cannot be used: {one_line(exc)}"
    log.error("indieauth cannot start: %s", reason)
    advice = ("This IndieAuth server cannot answer yet: it is not set up correctly, or its database cannot be "
              "reached. Try again in a minute; its owner can find the reason in the server's error log.")
    if is_api_path(environ):
        body, kind = json.dumps({"error": "temporarily_unavailable", "error_description": advice}), "application/json"
    else:
        body = (f'<!doctype html>\n<html lang="en"><meta charset="utf-8"><title>Temporarily unavailable</title>'
                f"<h1>Temporarily unavailable</h1><p>{html.escape(advice)}</p></html>\n")
        kind = "text/html; charset=utf-8"
    start_response("503 Service Unavailable", [("Content-Type", kind), ("Retry-After", str(OUTAGE_RETRY)),
                                               ("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff")])
    return [body.encode()]


def application(environ, start_response):
    """WSGI callable built lazily from $INDIEAUTH_CONFIG (or ./plugins.toml); while it cannot be built (a
    configuration mistake, a database that is down, a signing key that cannot be read) every request is a
    clean 503 and tries again, so the server recovers by itself once the cause is gone."""
    global _application
    if _application is None:
        with _application_lock:
            if _application is None:
                try:
                    _application = build_application(os.environ.get("GATEWAY_INTERFACE", "").startswith("CGI"))
                except (UsageError, peewee.PeeweeException) as exc:
                    return cannot_start(environ, start_response, exc)
    return _application(environ, start_response)


def run_cgi():
    """Serve one CGI request (python indieauth.py under a web server's CGI)."""
    import wsgiref.handlers
    wsgiref.handlers.CGIHandler().run(application)


if __name__ == "__main__":
    # Run as the imported module, not as __main__, so plugins and we share one `indieauth`.
    import indieauth
    if os.environ.get("GATEWAY_INTERFACE", "").startswith("CGI"):
        indieauth.run_cgi()
    else:
        sys.exit(indieauth.main())
