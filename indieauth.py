"""indieauth: a self-hosted IndieAuth server.

One file, read top to bottom in the order a request meets it:
configuration · storage · hooks and plugins · sessions and sign-in · the web
application · command line · WSGI entry.  Ways to prove identity (password,
TOTP, …) live in plugins; this file owns state, expiry and the final identity
check around them.
"""

__version__ = "0.1.0"

import argparse
import base64
import dataclasses
import datetime
import getpass
import hashlib
import hmac
import html
import importlib.metadata
import ipaddress
import json
import logging
import math
import os
import re
import secrets
import sys
import threading
import time
import urllib.parse
import uuid

try:  # Python 3.11+
    import tomllib
except ImportError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

import bottle
import peewee
import pluggy
from playhouse.db_url import connect as db_url_connect

HERE = os.path.dirname(os.path.abspath(__file__))


def resource_dir(name):
    """views/ or static/: beside this file in a checkout, under share/indieauth when installed."""
    local = os.path.join(HERE, name)
    return local if os.path.isdir(local) else os.path.join(sys.prefix, "share", "indieauth", name)


log = logging.getLogger("indieauth")


class UsageError(Exception):
    """A mistake by the person running the server: printed plainly, exit code 2, never a traceback."""


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
    """One configuration key: `type` is one of str, int, bool, list, duration, url, secret."""

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
        "threads": Setting("int", 4, "Worker threads of `indieauth serve` (waitress)."),
        "trusted_proxies": Setting("list", [],
                                   "Addresses or networks (\"10.0.0.0/8\") of reverse proxies whose "
                                   "X-Forwarded-For header is believed."),
        "session_lifetime": Setting("duration", 14 * 86400,
                                    "How long a sign-in lasts, e.g. \"12h\" or \"14d\"."),
        "log_level": Setting("str", "info", "How much goes to stderr: debug, info, warning or error.",
                             ("debug", "info", "warning", "error")),
    },
    "tokens": {
        "algorithm": Setting("str", "EdDSA", "Signing algorithm of JWT access tokens: EdDSA, RS256 or ES256.",
                             ("EdDSA", "RS256", "ES256")),
        "signing_key": Setting("secret", {"file": "signing-key.pem"},
                               "Private key (PEM) that signs JWT access tokens."),
    },
    "security": {
        "account_failures": Setting("int", 5, "Failed sign-ins to one account before it is paused."),
        "address_failures": Setting("int", 20, "Failed sign-ins from one IP address before it is paused."),
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


def _coerce(kind, value):
    """The value converted to the setting's type, or ValueError saying what was expected."""
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
    raise AssertionError(kind)


def validate_table(path, table, data, settings):
    """`data` checked against `settings`, with defaults filled in; ConfigError names file, table and key."""
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: [{table}] must be a table")
    unknown = sorted(set(data) - set(settings))
    if unknown:
        known = ", ".join(sorted(settings)) or "none"
        raise ConfigError(f"{path}: [{table}] unknown key {unknown[0]!r} (known keys: {known})")
    values = {}
    for key, setting in settings.items():
        if key not in data:
            values[key] = setting.default
            continue
        try:
            values[key] = _coerce(setting.type, data[key])
            if setting.choices and values[key] not in setting.choices:
                raise ValueError("expected one of " + ", ".join(setting.choices))
            if key == "trusted_proxies":
                values[key] = [ipaddress.ip_network(v, strict=False) for v in values[key]]
        except ValueError as exc:
            raise ConfigError(f"{path}: [{table}] {key}: {exc}, got {data[key]!r}") from None
    return values


class Config:
    """The parsed plugins.toml: `config["server"]["port"]`, plugin tables and secret resolution."""

    def __init__(self, path, data):
        self.path = os.path.abspath(path)
        self.folder = os.path.dirname(self.path)
        unknown = sorted(set(data) - set(SETTINGS) - {"plugins"})
        if unknown:
            known = ", ".join(sorted(SETTINGS) + ["plugins"])
            raise ConfigError(f"{path}: unknown table [{unknown[0]}] (known tables: {known})")
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
            raise ConfigError(f"{path}: configuration file not found (create one with `indieauth init`)") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        except OSError as exc:
            raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from None
        return cls(path, data)

    def __getitem__(self, section):
        return self.sections[section]

    def resolve_path(self, path):
        """A path from the config, relative to the folder the config file is in."""
        return os.path.join(self.folder, os.path.expanduser(path))

    def secret(self, section, key):
        """The text of a secret setting, read from inline, `{ env = … }` or `{ file = … }`."""
        value = self.sections[section][key]
        where = f"{self.path}: [{section}] {key}"
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
                raise ConfigError(f"{self.path}: [plugins.{name}] enabled: expected true or false, got {flag!r}")
            if flag:
                enabled.append(name)
        return enabled


def default_config_path():
    """`INDIEAUTH_CONFIG`, or plugins.toml in the current folder."""
    return os.environ.get("INDIEAUTH_CONFIG") or DEFAULT_CONFIG_NAME


# ---------------------------------------------------------------------------------------------
#  Storage
# ---------------------------------------------------------------------------------------------
#  peewee models behind one DatabaseProxy.  Secrets at rest (sessions, sign-in links, password
#  hashes) are stored only as hashes.  Schema changes are versioned migrations, below the models.

db = peewee.DatabaseProxy()


def utcnow():
    """The current time, naive UTC (what every DateTimeField holds)."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None, microsecond=0)


def token_hash(raw):
    """SHA-256 hex of a secret value: the only form in which secrets are stored."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


USERNAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


def normalize_username(name):
    """User names are case-insensitive: stored and looked up trimmed and lowercased."""
    return name.strip().lower()


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
    expires_at = peewee.DateTimeField()
    used_at = peewee.DateTimeField(null=True)


class Failure(BaseModel):
    """One failed sign-in, counted per key (`account:NAME`, `address:IP`) for throttling."""

    key = peewee.CharField(max_length=160)
    at = peewee.DateTimeField()

    class Meta:
        indexes = ((("key", "at"), False),)


class Event(BaseModel):
    """The audit log: sign-ins, failures, issuance, revocation."""

    kind = peewee.CharField(max_length=40, index=True)
    user = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL")
    data = peewee.TextField(default="{}")
    at = peewee.DateTimeField(default=utcnow, index=True)


class SchemaVersion(BaseModel):
    version = peewee.IntegerField(primary_key=True)
    applied_at = peewee.DateTimeField(default=utcnow)


def _migration_1(migrator):
    """Users, credentials, sessions, sign-in links, throttling failures and the audit log."""
    db.create_tables([User, Credential, Session, LoginLink, Failure, Event])
    if isinstance(db.obj, peewee.MySQLDatabase):
        # MariaDB/MySQL compare text ignoring case, accents and trailing spaces by default; a
        # profile URL's path is case-sensitive, so these columns compare bytes as the others do.
        binary = "utf8mb4_nopad_bin" if db.execute_sql(
            "SHOW COLLATION LIKE 'utf8mb4_nopad_bin'").fetchone() else "utf8mb4_bin"
        db.execute_sql(f"ALTER TABLE `user` MODIFY `username` VARCHAR(64) COLLATE {binary} NOT NULL, "
                       f"MODIFY `me` VARCHAR(255) COLLATE {binary} NOT NULL")


# Each migration is (version, function(migrator)).  Append, never edit: a migration that changes
# an existing table uses `migrator` (playhouse.migrate) and checks `db.get_columns` first, because
# version 1 creates tables from the current models.
MIGRATIONS = [(1, _migration_1)]
SCHEMA_VERSION = MIGRATIONS[-1][0]


def open_database(url, folder="."):
    """A peewee Database for a URL; SQLite paths are relative to `folder`, with WAL and foreign keys on."""
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        if path in (":memory:", "") or path.startswith("file:"):
            raise ConfigError(f"database URL {url!r}: give SQLite a file; an in-memory database "
                              f"would be lost between requests")
        path = os.path.join(folder, path)
        return peewee.SqliteDatabase(path, pragmas={"journal_mode": "wal", "foreign_keys": 1,
                                                    "busy_timeout": 5000})
    if url.split(":", 1)[0] not in ("postgresql", "postgres", "mysql"):
        raise ConfigError(f"database URL {url!r} is not supported: use sqlite:///, postgresql:// or mysql://")
    options = {}
    if url.startswith("mysql"):
        # Count matched rows, not changed ones, as PostgreSQL and SQLite do: conditional updates
        # (single use, "update or insert") rely on the count.
        from pymysql.constants import CLIENT
        options = {"client_flag": CLIENT.FOUND_ROWS, "charset": "utf8mb4"}
    try:
        return db_url_connect(url, **options)
    except Exception as exc:  # driver missing, bad URL
        raise ConfigError(f"database {url!r} cannot be opened: {exc}") from None


class Storage:
    """The peewee storage every part of the server uses; plugins may supply another (storage_backend)."""

    def __init__(self, database, clock=utcnow):
        self.database = database
        self.now = clock
        db.initialize(database)

    # -- connections and schema
    def connect(self):
        self.database.connect(reuse_if_open=True)

    def close(self):
        if not self.database.is_closed():
            self.database.close()

    def schema_version(self):
        """The applied migration version; 0 for an empty database."""
        with self.database.connection_context():
            if not self.database.table_exists(SchemaVersion._meta.table_name):
                return 0
            return SchemaVersion.select(peewee.fn.MAX(SchemaVersion.version)).scalar() or 0

    def is_empty(self):
        """True when the database holds no table at all (never set up)."""
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
        """UsageError unless the database is at exactly this code's schema version."""
        version = self.schema_version()
        if version < SCHEMA_VERSION:
            raise UsageError(f"the database is at schema version {version}, this server needs "
                             f"{SCHEMA_VERSION}: run `indieauth migrate` first")
        if version > SCHEMA_VERSION:
            raise UsageError(f"the database is at schema version {version}, newer than this "
                             f"server ({SCHEMA_VERSION}): upgrade indieauth")

    # -- users and credentials
    def create_user(self, username, me, role="user", **profile):
        """A new user; UsageError when the username is not valid or the username or me is taken."""
        username = normalize_username(username)
        if not USERNAME_RE.fullmatch(username):
            raise UsageError(f"user name {username!r} must be 1 to 64 letters, digits, '.', '_' or '-', "
                             f"starting with a letter or digit")
        if len(me) > 255:
            raise UsageError("the profile URL is longer than 255 characters")
        try:
            with self.database.atomic():
                return User.create(username=username, me=me, role=role, **profile)
        except peewee.IntegrityError:
            raise UsageError(f"a user named {username!r} or with me {me!r} exists already") from None

    def get_user(self, username=None, me=None, user_id=None):
        """The user found by one of username, me or id; None when there is none."""
        query = (User.username == normalize_username(username)) if username is not None else (
            (User.me == me) if me is not None else (User.id == user_id))
        return User.get_or_none(query)

    def list_users(self):
        return list(User.select().order_by(User.id))

    def get_credential(self, user, method):
        """The plugin-owned data (a dict) of `user`'s credential for `method`, or None."""
        row = Credential.get_or_none(Credential.user == user, Credential.method == method)
        return json.loads(row.data) if row else None

    def set_credential(self, user, method, data):
        """Create or replace `user`'s credential for `method`."""
        with self.database.atomic():
            updated = (Credential.update(data=json.dumps(data), created_at=self.now())
                       .where(Credential.user == user, Credential.method == method).execute())
            if not updated:
                Credential.create(user=user, method=method, data=json.dumps(data), created_at=self.now())

    def touch_credential(self, user, method):
        Credential.update(last_used_at=self.now()).where(
            Credential.user == user, Credential.method == method).execute()

    # -- sessions
    def create_session(self, user, method, lifetime, address=""):
        """A new session; returns the raw token (only its hash is stored)."""
        raw = secrets.token_urlsafe(32)
        Session.create(token_hash=token_hash(raw), user=user, method=method, created_at=self.now(),
                       expires_at=self.now() + datetime.timedelta(seconds=lifetime), address=address)
        return raw

    def get_session(self, raw):
        """The live session for a raw token, or None if unknown, expired, revoked or its user disabled."""
        session = (Session.select(Session, User).join(User)
                   .where(Session.token_hash == token_hash(raw)).first())
        if (session is None or session.revoked_at is not None or session.expires_at <= self.now()
                or session.user.disabled_at is not None):
            return None
        return session

    def revoke_session(self, raw):
        Session.update(revoked_at=self.now()).where(
            Session.token_hash == token_hash(raw), Session.revoked_at.is_null()).execute()

    def revoke_user_sessions(self, user, keep=None):
        """End every live session of `user` but the one whose raw token is `keep`; returns how many."""
        query = Session.update(revoked_at=self.now()).where(Session.user == user, Session.revoked_at.is_null())
        if keep:
            query = query.where(Session.token_hash != token_hash(keep))
        return query.execute()

    # -- one-time sign-in links
    def create_login_link(self, user, lifetime):
        raw = secrets.token_urlsafe(32)
        LoginLink.create(token_hash=token_hash(raw), user=user, created_at=self.now(),
                         expires_at=self.now() + datetime.timedelta(seconds=lifetime))
        return raw

    def redeem_login_link(self, raw):
        """The user of an unused, unexpired link, marking it used; None otherwise (also on replay)."""
        now = self.now()
        used = (LoginLink.update(used_at=now)
                .where(LoginLink.token_hash == token_hash(raw), LoginLink.used_at.is_null(),
                       LoginLink.expires_at > now).execute())
        if used != 1:
            return None
        return LoginLink.get(LoginLink.token_hash == token_hash(raw)).user

    # -- throttling
    def record_failure(self, keys):
        now = self.now()
        Failure.insert_many([{"key": key, "at": now} for key in keys]).execute()

    def failures_since(self, key, since):
        """(count, oldest time) of failures for `key` at or after `since`."""
        row = (Failure.select(peewee.fn.COUNT(Failure.id), peewee.fn.MIN(Failure.at))
               .where(Failure.key == key, Failure.at >= since).tuples().first())
        return row[0], row[1]

    def clear_failures(self, key):
        Failure.delete().where(Failure.key == key).execute()

    # -- audit log
    def log_event(self, kind, user=None, **data):
        Event.create(kind=kind, user=user, data=json.dumps(data, default=str), at=self.now())

    def events(self, limit=50):
        return list(Event.select().order_by(Event.id.desc()).limit(limit))


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
        ConfigError naming the key and start-up fails.  Returns nothing."""

    @hookspec
    def register_authenticators(self, app):
        """Return a list of Authenticator objects (ways to prove who is at the keyboard).
        The login page shows every one; see `Authenticator` for what each must provide."""

    @hookspec
    def register_routes(self, app):
        """Return a list of `(method, path, callback)`; an authenticator's routes go under
        `/login/<name>/…`, anything else under `/plugins/<name>/…`.  Callbacks take Bottle's
        URL arguments and may use `bottle.request`, `app.current_user()` and `app.render()`."""

    @hookspec
    def register_commands(self, app, subparsers):
        """Add CLI subcommands with `subparsers.add_parser(name)`; give each a handler with
        `set_defaults(handler=function(app, args))`.  The handler's return value is the exit code."""

    @hookspec(firstresult=True)
    def storage_backend(self, app):
        """Return a Storage-compatible object to replace the core's peewee storage, or None.
        First result wins; the core's default is registered `trylast`."""

    @hookspec
    def track_event(self, app, event):
        """Called after the database commit for every event (LoginSucceeded, LoginFailed,
        LoggedOut…; see the event dataclasses).  Exceptions are logged, never raised."""


class CoreDefaults:
    """The core's own implementations of firstresult hooks, registered `trylast`."""

    @hookimpl(trylast=True)
    def storage_backend(self, app):
        return Storage(open_database(app.config["server"]["database"], app.config.folder), clock=app.now)


def installed_plugins():
    """{name: entry point} of everything installed in the `indieauth` entry-point group."""
    return {ep.name: ep for ep in importlib.metadata.entry_points(group="indieauth")}


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
            raise ConfigError(f"{config.path}: [plugins.{name}] no such plugin is installed "
                              f"(installed: {names})")
        pm.register(available[name].load(), name=name)
    for name, plugin in extra.items():
        pm.register(plugin, name=name)
    pm.check_pending()
    return pm


# ---------------------------------------------------------------------------------------------
#  Events
# ---------------------------------------------------------------------------------------------
#  Small dataclasses delivered through `track_event` after the commit.


@dataclasses.dataclass
class LoginSucceeded:
    user: object
    method: str
    address: str


@dataclasses.dataclass
class LoginFailed:
    username: str
    method: str
    address: str
    reason: str


@dataclasses.dataclass
class LoggedOut:
    user: object


# ---------------------------------------------------------------------------------------------
#  Sessions and sign-in
# ---------------------------------------------------------------------------------------------


class AuthenticationFailed(Exception):
    """Raised by an authenticator's `finish`: `message` is shown to the person as it is."""

    def __init__(self, message, status=400, retry_after=None, username=""):
        super().__init__(message)
        self.message, self.status, self.retry_after, self.username = message, status, retry_after, username


class Authenticator:
    """A way to prove who is at the keyboard, supplied by a plugin.

    `name` (the plugin name; its routes live under /login/<name>/) and `label` (shown to people).
    `supports(user)` says whether this method can sign in `user`.  `start(request, context)` returns
    the HTML fragment shown on the login page; `context` has `action` (where to POST), `csrf_token`,
    `next`, `error` and `username`.  `finish(request)` returns the verified User or raises
    AuthenticationFailed; the core has already checked the CSRF token.  `settings_url`, when set,
    is the page where a signed-in user manages this method (linked from the start page)."""

    name = ""
    label = ""
    settings_url = None

    def supports(self, user):
        return True

    def start(self, request, context):
        raise NotImplementedError

    def finish(self, request):
        raise NotImplementedError


class Throttle:
    """Counts failed sign-ins per account and per address in the database, so it holds across processes."""

    def __init__(self, app):
        self.app = app

    def keys(self, username, address):
        keys = [f"address:{address}"]
        if username:
            keys.append(f"account:{username.strip().lower()[:120]}")
        return keys

    def retry_after(self, username, address):
        """Seconds until another attempt is allowed; 0 when it is allowed now."""
        settings = self.app.config["security"]
        window = datetime.timedelta(seconds=settings["failure_window"])
        now = self.app.now()
        wait = 0
        for key in self.keys(username, address):
            limit = settings["address_failures"] if key.startswith("address:") else settings["account_failures"]
            count, oldest = self.app.storage.failures_since(key, now - window)
            if count >= limit:
                wait = max(wait, math.ceil((oldest + window - now).total_seconds()))
        return wait

    def failed(self, username, address):
        self.app.storage.record_failure(self.keys(username, address))

    def succeeded(self, username):
        if username:
            self.app.storage.clear_failures(f"account:{username.strip().lower()[:120]}")


def describe_wait(seconds):
    """'4 minutes', '30 seconds': a wait in words a person reads."""
    if seconds >= 90:
        return f"{(seconds + 59) // 60} minutes"
    return f"{seconds} seconds"


def safe_next(value):
    """A local path to go to after signing in; anything else (another site, a scheme) becomes '/'."""
    if (not isinstance(value, str) or not value.startswith("/") or value.startswith("//")
            or "\\" in value or any(ord(c) < 32 for c in value)):
        return "/"
    return value


def sign(secret, value):
    return hmac.new(secret.encode(), value.encode("utf-8", "surrogateescape"), hashlib.sha256).hexdigest()[:32]


def same(a, b):
    """Constant-time equality of two strings, whatever characters they hold."""
    return hmac.compare_digest(a.encode("utf-8", "surrogateescape"), b.encode("utf-8", "surrogateescape"))


# ---------------------------------------------------------------------------------------------
#  The web application
# ---------------------------------------------------------------------------------------------

SESSION_COOKIE = "indieauth_session"
CSRF_COOKIE = "indieauth_csrf"
API_PATHS = ("/token", "/introspect", "/revoke", "/userinfo", "/.well-known/")
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


class RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.request_id = getattr(_request_ids, "value", "-")
        return True


def setup_logging(level="info"):
    """Log to stderr, each line carrying the request id; idempotent."""
    if any(isinstance(h, logging.StreamHandler) and getattr(h, "_indieauth", False) for h in log.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler._indieauth = True
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(message)s"))
    log.addHandler(handler)
    log.setLevel(getattr(logging, level.upper(), logging.INFO))
    log.propagate = False


class IndieAuth:
    """The application: configuration, plugins, storage, the Bottle routes and the WSGI callable."""

    def __init__(self, config, plugins=(), clock=utcnow, check_schema=True):
        self.config = config
        self.now = clock
        self.base_url = config["server"]["base_url"]
        self.secret_key = config.secret("server", "secret_key")
        if len(self.secret_key) < 32:
            raise ConfigError(f"{config.path}: [server] secret_key: must be at least 32 characters")
        self._validated_plugin_tables = set()
        self.pm = make_plugin_manager(config, plugins)
        self.storage = self.pm.hook.storage_backend(app=self)
        self.throttle = Throttle(self)
        self.template_paths = [resource_dir("views")]
        self.pm.hook.configure.call_historic(kwargs={"app": self})
        self._check_plugin_tables()
        if check_schema:
            self.storage.check_schema()
        # The login page lists authenticators in the order of their tables in plugins.toml.
        order = {name: i for i, name in enumerate(config.enabled_plugins())}
        found = [a for batch in self.pm.hook.register_authenticators(app=self) for a in batch]
        self.authenticators = {a.name: a for a in sorted(found, key=lambda a: order.get(a.name, len(order)))}
        self.bottle = bottle.Bottle()
        self._routes()

    # -- configuration helpers for plugins
    def plugin_config(self, name, settings=None):
        """The `[plugins.NAME]` table (without `enabled`), checked against `settings` when given."""
        table = {k: v for k, v in self.config.plugins.get(name, {}).items() if k != "enabled"}
        if settings is None:
            return table
        self._validated_plugin_tables.add(name)
        return validate_table(self.config.path, f"plugins.{name}", table, settings)

    def _check_plugin_tables(self):
        """A plugin that never validated its table takes no settings: any key is a mistake."""
        for name in self.config.enabled_plugins():
            keys = set(self.config.plugins[name]) - {"enabled"}
            if keys and name not in self._validated_plugin_tables:
                raise ConfigError(f"{self.config.path}: [plugins.{name}] unknown key "
                                  f"{sorted(keys)[0]!r} (this plugin takes no settings)")

    def add_template_path(self, path):
        """Let a plugin's templates be found by `render` (and `rebase('base.tpl')` from them)."""
        if path not in self.template_paths:
            self.template_paths.append(path)

    def render(self, name, **values):
        """A rendered template; `base.tpl` gets the current user and CSRF token for its header."""
        values.setdefault("user", self.current_user())
        values.setdefault("csrf_token", self.csrf_token())
        values.setdefault("title", "")
        return bottle.template(name, template_lookup=self.template_paths, **values)

    def url(self, path=""):
        """Absolute URL of a path on this server."""
        return urllib.parse.urljoin(self.base_url, path.lstrip("/"))

    def event(self, event, kind=None, user=None, **data):
        """Record `event` in the audit log and deliver it to plugins; a plugin's failure is only logged."""
        if kind:
            self.storage.log_event(kind, user=user, **data)
        for impl in self.pm.hook.track_event.get_hookimpls():
            try:
                impl.function(app=self, event=event)
            except Exception:
                log.exception("plugin %s failed in track_event", impl.plugin_name)

    # -- request helpers
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

    def set_cookie(self, name, value, max_age=None):
        options = {"max_age": max_age} if max_age is not None else {}
        bottle.response.set_cookie(name, value, path="/", httponly=True, samesite="lax",
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
        """Abort with 403 unless the form's csrf_token matches this browser's CSRF cookie."""
        raw = bottle.request.get_cookie(CSRF_COOKIE) or ""
        sent = form_value("csrf_token")
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

    def login_succeeded(self, user, method, next_url="/"):
        """Start a session for `user` proven by `method`, then resume where the person was going (303)."""
        old = self.session_token()
        if old:
            self.storage.revoke_session(old)
        raw = self.storage.create_session(user, method, self.config["server"]["session_lifetime"],
                                          address=self.client_address())
        self.set_cookie(SESSION_COOKIE, raw + "." + sign(self.secret_key, "session:" + raw),
                        max_age=self.config["server"]["session_lifetime"])
        self.event(LoginSucceeded(user, method, self.client_address()), "login", user=user,
                   method=method, address=self.client_address())
        self.redirect(safe_next(next_url))

    def redirect(self, path):
        """303 See Other to a path on this server, as an absolute URL under base_url."""
        bottle.redirect(self.url(path), 303)

    # -- routes
    def _routes(self):
        """The URL map: every core route in one place, then the plugins' routes."""
        app, b = self, self.bottle
        b.route("/", "GET", self.home)
        b.route("/login", "GET", self.login_page)
        b.route("/login/<name>", "GET", self.login_page)
        b.route("/login/<name>", "POST", self.login_post)
        b.route("/login/once/<token>", "GET", self.login_link_page)
        b.route("/login/once/<token>", "POST", self.login_link_post)
        b.route("/logout", "POST", self.logout)
        b.route("/static/<path:path>", "GET", self.static)
        for batch in self.pm.hook.register_routes(app=self):
            for method, path, callback in batch:
                b.route(path, method, callback)
        b.install(self._catch_errors)
        b.add_hook("before_request", self._before)
        b.add_hook("after_request", self._after)
        for code in (400, 403, 404, 405, 413, 429, 500, 503):
            b.error(code)(self.error_page)
        del app

    def _catch_errors(self, callback):
        """Middleware: an unexpected exception becomes a logged 500 (a database outage a 503)."""
        def wrapper(*args, **kwargs):
            try:
                return callback(*args, **kwargs)
            except bottle.HTTPResponse:
                raise
            except (peewee.OperationalError, peewee.InterfaceError):
                log.exception("database error on %s %s", bottle.request.method, bottle.request.path)
                raise bottle.HTTPError(503) from None
            except Exception:
                log.exception("unhandled error on %s %s", bottle.request.method, bottle.request.path)
                raise bottle.HTTPError(500) from None
        return wrapper

    def _before(self):
        rid = bottle.request.get_header("X-Request-Id", "")
        _request_ids.value = rid if rid.isalnum() and len(rid) <= 64 else uuid.uuid4().hex[:12]
        bottle.request.environ["indieauth.started"] = time.monotonic()
        try:
            self.storage.connect()
        except (peewee.OperationalError, peewee.InterfaceError):
            log.exception("the database cannot be reached")
            raise bottle.HTTPError(503)

    def _after(self):
        response = bottle.response
        response.set_header("X-Request-Id", _request_ids.value)
        if response.content_type.startswith("text/html") or not is_api_path():
            for name, value in HTML_HEADERS.items():
                response.set_header(name, value)
        if "Cache-Control" not in response.headers:  # pages carry CSRF tokens and personal data
            response.set_header("Cache-Control", "no-store")
        self.storage.close()
        took = (time.monotonic() - bottle.request.environ.get("indieauth.started", time.monotonic())) * 1000
        # Only the path: query strings may carry codes or tokens, which never go to logs.
        log.info("%s %s %s %.1fms", bottle.request.method, bottle.request.path[:200],
                 response.status_code, took)

    def error_page(self, error):
        """Every error, as JSON on API paths and as a page that says what to do everywhere else."""
        status = error.status_code
        if error.exception is not None and not isinstance(error.exception, bottle.HTTPResponse):
            log.error("unhandled error on %s %s", bottle.request.method, bottle.request.path,
                      exc_info=(type(error.exception), error.exception, error.exception.__traceback__))
        title, advice = ERROR_TEXT.get(status, ERROR_TEXT[500 if status >= 500 else 400])
        detail = error.body if isinstance(error, PageError) else ""
        bottle.response.set_header("X-Request-Id", getattr(_request_ids, "value", "-"))
        if is_api_path():
            bottle.response.content_type = "application/json"
            bottle.response.set_header("Cache-Control", "no-store")
            code = {404: "not_found", 405: "invalid_request", 429: "slow_down", 503: "temporarily_unavailable"}
            return json.dumps({"error": code.get(status, "server_error" if status >= 500 else "invalid_request"),
                               "error_description": detail or advice})
        for name, value in HTML_HEADERS.items():
            bottle.response.set_header(name, value)
        try:
            return self.render("error.tpl", title=title, status=status, detail=detail, advice=advice,
                               request_id=getattr(_request_ids, "value", "-"))
        except Exception:  # the storage itself may be what failed
            log.exception("error page could not be rendered")
            return f"<!doctype html><title>{status} {html.escape(title)}</title><h1>{html.escape(title)}</h1><p>{html.escape(advice)}</p>"

    def static(self, path):
        response = bottle.static_file(path, root=resource_dir("static"))
        response.set_header("Cache-Control", "public, max-age=3600")
        return response

    def home(self):
        user = self.current_user()
        manage = [a for a in self.authenticators.values() if a.settings_url and user]
        return self.render("home.tpl", title="IndieAuth", manage=manage)

    # -- sign-in pages
    def login_page(self, name=None, error=None, username="", status=200):
        """The login page: every enabled authenticator's form, or one of them."""
        if name is not None and name not in self.authenticators:
            fail(404, f"There is no sign-in method called {name!r}.")
        next_url = safe_next(form_value("next", bottle.request.query.get("next", "/")) or "/")
        shown = [self.authenticators[name]] if name else list(self.authenticators.values())
        parts = []
        for auth in shown:
            context = {"action": f"/login/{auth.name}", "csrf_token": self.csrf_token(), "next": next_url,
                       "error": error if auth.name == name else None, "username": username}
            parts.append((auth, auth.start(bottle.request, context)))
        bottle.response.status = status
        return self.render("login.tpl", title="Sign in", methods=parts, next=next_url, single=name is not None and len(self.authenticators) > 1)

    def login_post(self, name):
        """The core's side of every authenticator: CSRF, finish(), throttle bookkeeping, session."""
        auth = self.authenticators.get(name)
        if auth is None:
            fail(404, f"There is no sign-in method called {name!r}.")
        self.check_csrf()
        next_url = safe_next(form_value("next"))
        try:
            user = auth.finish(bottle.request)
            if user is None or user.disabled_at is not None:
                raise AuthenticationFailed("This account is disabled. Ask the site's administrator.", 403)
        except AuthenticationFailed as failure:
            self.event(LoginFailed(failure.username, name, self.client_address(), failure.message),
                       "login_failed", method=name, username=failure.username[:64],
                       address=self.client_address())
            if failure.retry_after:
                bottle.response.set_header("Retry-After", str(failure.retry_after))
            return self.login_page(name, error=failure.message, username=failure.username,
                                   status=failure.status)
        self.login_succeeded(user, name, next_url)

    def login_link_page(self, token):
        return self.render("login_link.tpl", title="Sign in", token=token)

    def login_link_post(self, token):
        self.check_csrf()
        user = self.storage.redeem_login_link(token)
        if user is None:
            fail(400, "This sign-in link is not valid any more: each link works once and "
                              "expires. Ask for a new one with `indieauth user link`.")
        self.login_succeeded(user, "link", "/")

    def logout(self):
        self.check_csrf()
        raw = self.session_token()
        session = self.current_session()
        if raw:
            self.storage.revoke_session(raw)
        bottle.response.delete_cookie(SESSION_COOKIE, path="/")
        if session:
            self.event(LoggedOut(session.user), "logout", user=session.user)
        self.redirect("/")

    # -- WSGI
    def __call__(self, environ, start_response):
        return self.bottle(environ, start_response)


def is_api_path():
    path = bottle.request.path
    return path.startswith(API_PATHS) or "application/json" in bottle.request.get_header("Accept", "")


def form_value(name, default=""):
    """One form field as text; a field that cannot be decoded counts as empty, never an error."""
    try:
        value = bottle.request.forms.getunicode(name)
    except Exception:
        return default
    return default if value is None else value


def make_test_app(config_overrides=None, plugins=(), folder=None, clock=utcnow):
    """An IndieAuth app on a fresh migrated database for tests (core's and plugins'): webtest-ready.

    `config_overrides` is merged into a default config ({"server": {...}, "plugins": {...}});
    `plugins` are plugin objects or modules to register besides the installed, enabled ones."""
    import tempfile
    folder = folder or tempfile.mkdtemp(prefix="indieauth-test-")
    data = {"server": {"base_url": "http://auth.example/", "database": "sqlite:///test.db",
                       "secret_key": "t" * 40}, "plugins": {}}
    for section, values in (config_overrides or {}).items():
        data.setdefault(section, {}).update(values)
    for plugin in plugins:
        data["plugins"].setdefault(getattr(plugin, "__name__", type(plugin).__name__).rsplit(".", 1)[-1], {})
    config = Config(os.path.join(folder, DEFAULT_CONFIG_NAME), data)
    app = IndieAuth(config, plugins=plugins, clock=clock, check_schema=False)
    app.storage.migrate()
    return app


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
# indieauth configuration, made by `indieauth init`. Every key is described in README.md.
[server]
base_url = {base_url}
{port}database = "sqlite:///indieauth.db"
secret_key = {{ file = "secret.key" }}

[tokens]
signing_key = {{ file = "signing-key.pem" }}

# Each [plugins.NAME] table enables an installed plugin; `indieauth plugins` lists them.
[plugins.password]
"""


def validate_me(me):
    """A profile URL as the owner typed it, made canonical (host lowercased, path at least '/')."""
    parts = urllib.parse.urlsplit(me.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--me {me!r} must be an http:// or https:// URL such as https://example.com/")
    if parts.fragment or parts.username or parts.password:
        raise UsageError(f"--me {me!r} must not contain a fragment or a user name")
    netloc = parts.hostname.lower() + (f":{parts.port}" if parts.port else "")
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))


def setup_new_database(app, me, username="owner"):
    """Migrate an empty database and create its owner; returns a one-time sign-in URL for them."""
    app.storage.migrate()
    owner = app.storage.create_user(username, validate_me(me), role="owner")
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
    validate_me(args.me)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
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
        link = setup_new_database(app, args.me, args.username)
    except BaseException:  # leave nothing half-made behind, so init can simply be run again
        for leftover in [path] + made:
            os.remove(leftover)
        raise
    print(f"Created {path}, its secret keys and the database; owner {args.username!r} is {validate_me(args.me)}")
    print(f"Set a password with: {invocation(args)} passwd")
    print(f"or sign in once (within 24 hours) at: {link}")
    return 0


def cmd_serve(app_factory, args):
    """serve: run waitress; on a first run (no config, or an empty database) set everything up."""
    import waitress.server
    path = args.config
    first_link = None
    if not os.path.exists(path):
        port = args.port or 8080
        with open(path, "w", encoding="utf-8") as f:
            f.write(CONFIG_TEMPLATE.format(base_url=json.dumps(f"http://127.0.0.1:{port}/"),
                                           port=f"port = {port}\n"))
        print(f"No configuration found: wrote {path}")
    config = Config.load(path)
    if _sqlite_is_new(config):
        ensure_secret_files(config)
    app = app_factory(config, check_schema=False)
    host = args.host or config["server"]["host"]
    port = args.port or config["server"]["port"]
    try:  # listen first, so a first-run link is never made for a server that cannot start
        server = waitress.server.create_server(app, host=host, port=port, threads=config["server"]["threads"],
                                               ident="indieauth")
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}; is another server running? "
                         f"choose another port with --port") from None
    try:
        if app.storage.is_empty():  # a brand-new database: set it up; an old schema is refused below
            first_link = setup_new_database(app, config["server"]["base_url"])
        app.storage.check_schema()
    except BaseException:
        server.close()
        raise
    print(f"indieauth {__version__} serving {config['server']['base_url']} on http://{host}:{port}/")
    if first_link:
        print("First run: the owner's profile URL is " + config["server"]["base_url"])
        print("Sign in once (within 24 hours) at: " + first_link)
        print(f"then set a password with: {invocation(args)} passwd")
    sys.stdout.flush()
    try:
        server.run()
    finally:
        server.close()
    return 0


def _sqlite_is_new(config):
    url = config["server"]["database"]
    if not url.startswith("sqlite:///") or url.endswith(":memory:"):
        return False
    return not os.path.exists(os.path.join(config.folder, url[len("sqlite:///"):]))


def cmd_migrate(app, args):
    applied = app.storage.migrate()
    print(f"applied migrations {', '.join(map(str, applied))}" if applied else
          f"the database is up to date (schema version {SCHEMA_VERSION})")
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
    user = app.storage.create_user(args.username, validate_me(args.me), role=args.role)
    link = app.url("/login/once/" + app.storage.create_login_link(user, 24 * 3600))
    print(f"added {user.username} ({user.me}); sign in once (within 24 hours) at: {link}")
    return 0


def cmd_user_list(app, args):
    for user in app.storage.list_users():
        state = "disabled" if user.disabled_at else "active"
        print(f"{user.username:<20} {user.role:<6} {state:<8} {user.me}")
    return 0


def cmd_user_link(app, args):
    user = app.storage.get_user(username=args.user) if args.user else _owner(app)
    if user is None:
        raise UsageError(f"no user named {args.user!r}")
    print(app.url("/login/once/" + app.storage.create_login_link(user, 24 * 3600)))
    return 0


def _owner(app):
    return next((u for u in app.storage.list_users() if u.role == "owner"), None)


def cmd_log(app, args):
    for event in reversed(app.storage.events(args.limit)):
        who = event.user.username if event.user_id else "-"
        print(f"{event.at:%Y-%m-%d %H:%M:%S} {event.kind:<14} {who:<16} {event.data}")
    return 0


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(f"{message}\n{self.format_usage().strip()}")


def build_parser(app=None):
    """The `indieauth` command line; plugins add subcommands when the app is built."""
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
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.set_defaults(handler=cmd_serve, needs_app=False)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(handler=cmd_migrate, migrate=True)
    sub.add_parser("plugins", help="list installed plugins").set_defaults(handler=cmd_plugins, optional_app=True)
    p = sub.add_parser("log", help="show the audit log")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(handler=cmd_log)
    user = sub.add_parser("user", help="manage users").add_subparsers(dest="user_command", metavar="ACTION",
                                                                      parser_class=ArgumentParser, required=True)
    p = user.add_parser("add", help="add a user and print a one-time sign-in link")
    p.add_argument("username")
    p.add_argument("--me", required=True)
    p.add_argument("--role", default="user", choices=["user", "admin", "owner"])
    p.set_defaults(handler=cmd_user_add)
    user.add_parser("list", help="list users").set_defaults(handler=cmd_user_list)
    p = user.add_parser("link", help="print a one-time sign-in link (default: the owner)")
    p.add_argument("--user")
    p.set_defaults(handler=cmd_user_link)
    if app is not None:
        app.pm.hook.register_commands(app=app, subparsers=sub)
    return parser


def read_secret_from_stdin(prompt):
    """A line from stdin: prompted without echo on a terminal, plain read when piped."""
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    return sys.stdin.readline().rstrip("\r\n")


def main(argv=None, app_factory=None):
    """Entry point of the `indieauth` command; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    app_factory = app_factory or (lambda config, **kw: IndieAuth(config, **kw))
    try:
        pre = argparse.ArgumentParser(add_help=False)
        pre.add_argument("--config", default=default_config_path())
        known, _ = pre.parse_known_args(argv)
        app = None
        config_error = None
        command = next((a for a in argv if not a.startswith("-") and a != known.config), None)
        if command not in ("init", "serve", None) and os.path.exists(known.config):
            try:
                config = Config.load(known.config)
                setup_logging(config["server"]["log_level"])
                app = app_factory(config, check_schema=command not in ("migrate", "plugins"))
            except UsageError as exc:
                config_error = exc
        parser = build_parser(app)
        try:
            args = parser.parse_args(argv)
        except UsageError as exc:
            if config_error:
                raise config_error from None
            if not os.path.exists(known.config):
                raise UsageError(f"{exc}\n(commands from plugins, such as passwd, need a configuration: "
                                 f"{known.config} was not found; create one with `indieauth init`)") from None
            raise
        if args.command is None:
            parser.print_help()
            return 2
        if getattr(args, "needs_app", True) is False:
            setup_logging()
            return args.handler(app_factory, args)
        if config_error and getattr(args, "optional_app", False):
            print(f"indieauth: warning: {config_error}", file=sys.stderr)
        if app is None and not getattr(args, "optional_app", False):
            raise config_error or ConfigError(f"{args.config}: configuration file not found "
                                              f"(create one with `indieauth init`)")
        return args.handler(app, args)
    except UsageError as exc:
        print(f"indieauth: error: {exc}", file=sys.stderr)
        return 2
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


def application(environ, start_response):
    """WSGI callable built lazily from $INDIEAUTH_CONFIG (or ./plugins.toml)."""
    global _application
    if _application is None:
        with _application_lock:
            if _application is None:
                try:
                    config = Config.load(default_config_path())
                    setup_logging(config["server"]["log_level"])
                    _application = IndieAuth(config)
                except UsageError as exc:  # tried again on the next request, once it is fixed
                    setup_logging()
                    log.error("indieauth cannot start: %s", exc)
                    start_response("503 Service Unavailable", [("Content-Type", "text/plain; charset=utf-8"),
                                                               ("Retry-After", "60")])
                    return [b"This IndieAuth server is not set up correctly yet. "
                            b"Its owner can find the reason in the server's error log.\n"]
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
