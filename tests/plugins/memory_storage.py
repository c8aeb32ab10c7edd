"""Test-only plugin: a second storage backend, in memory, supplied through `storage_backend`.

It implements the whole `StorageContract` with plain dicts behind one lock, so it proves that the server
needs nothing of peewee: the contract tests and a complete flow run on it.  What it keeps is lost when
the process ends; never use it to serve."""

import contextlib
import copy
import collections
import datetime
import functools
import itertools
import json
import secrets
import threading
import types
import uuid

from indieauth import (PURGE_INTERVAL, REPLAY_MEMORY, SCHEMA_VERSION, UsageError, assign_app_roles, canonical_client_id,
                       check_app_roles, check_client_roles, check_role, client_roles, first_client_data, hookimpl,
                       role_of, token_by_id, token_hash, utcnow, valid_new_user)


class Row(types.SimpleNamespace):
    """A row as callers read it: attributes named in StorageContract.ROWS; equal to the same row read again."""

    def __eq__(self, other):
        return isinstance(other, Row) and (self._table, self.id) == (other._table, other.id)

    def __hash__(self):
        return hash((self._table, self.id))


def user_id(user):
    """A user row or a user id, as the contract's methods take either."""
    return getattr(user, "id", user)


def locked(cls):
    """Every public method runs holding the storage's (reentrant) lock: each call is atomic."""
    def wrap(method):
        @functools.wraps(method)
        def run(self, *args, **kwargs):
            with self.lock:
                return method(self, *args, **kwargs)
        return run
    for name, value in list(vars(cls).items()):
        if not name.startswith("_") and callable(value):
            setattr(cls, name, wrap(value))
    return cls


@locked
class MemoryStorage:
    """StorageContract in dicts: {table: {id: {column: value}}}, foreign keys as `<name>_id`."""

    FOREIGN = {"user": "user", "created_by": "user", "used_by": "user", "client": "client", "code": "authcode"}

    def __init__(self, clock=utcnow, failure_window=15 * 60, log_retention=365 * 86400):
        self.now, self.failure_window, self.log_retention = clock, failure_window, log_retention
        self.lock = threading.RLock()
        self.tables = {}
        self.ids = itertools.count(1)
        self.purged_at = None

    # -- rows
    def _insert(self, table, **values):
        row_id = next(self.ids)
        self.tables.setdefault(table, {})[row_id] = dict(values, id=row_id)
        return self._row(table, row_id)

    def _row(self, table, row_id):
        """A copy of a stored row with its foreign rows attached (as peewee attaches them)."""
        values = self.tables.get(table, {}).get(row_id)
        if values is None:
            return None
        row = Row(_table=table, **copy.deepcopy(values))
        for name, target in self.FOREIGN.items():
            if f"{name}_id" in values:
                setattr(row, name, self._row(target, values[f"{name}_id"]))
        return row

    def _where(self, table, **equal):
        """The stored dicts of `table` whose columns equal `equal` (and pass the callables given), by id."""
        return [values for _, values in sorted(self.tables.get(table, {}).items())
                if all(value(values.get(name)) if callable(value) else values.get(name) == value
                       for name, value in equal.items())]

    def _rows(self, table, **equal):
        return [self._row(table, values["id"]) for values in self._where(table, **equal)]

    def _one(self, table, **equal):
        found = self._where(table, **equal)
        return self._row(table, found[0]["id"]) if found else None

    def _later(self, seconds):
        return self.now() + datetime.timedelta(seconds=seconds)

    @contextlib.contextmanager
    def _atomic(self):
        """Everything in the block happens or nothing does (a copy of the tables is put back on failure)."""
        with self.lock:
            saved = copy.deepcopy(self.tables)
            try:
                yield
            except BaseException:
                self.tables = saved
                raise

    # -- connections and schema: nothing to connect to, nothing to migrate
    def connect(self):
        pass

    def close(self):
        pass

    def schema_version(self):
        return SCHEMA_VERSION

    def is_empty(self):
        return False

    def migrate(self):
        return []

    def check_schema(self):
        pass

    # -- users and credentials
    def create_user(self, username, me, role="user", **profile):
        username = valid_new_user(username, me)
        if self._where("user", username=username) or self._where("user", me=me):
            raise UsageError(f"a user named {username!r} or with me {me!r} exists already")
        profile = dict(dict.fromkeys(("name", "url", "photo", "email", "note"), ""), **profile)
        return self._insert("user", username=username, me=me, role=role, created_at=self.now(), disabled_at=None,
                            **profile)

    def get_user(self, username=None, me=None, user_id=None):
        if username is not None:
            return self._one("user", username=username.strip().lower())
        return self._one("user", me=me) if me is not None else self._row("user", user_id)

    def list_users(self):
        return self._rows("user")

    def _credential(self, user, method):
        found = self._where("credential", user_id=user_id(user), method=method)
        return found[0] if found else None

    def get_credential(self, user, method):
        found = self._credential(user, method)
        return json.loads(found["data"]) if found else None

    def set_credential(self, user, method, data):
        found = self._credential(user, method)
        if found:
            found["data"] = json.dumps(data)
        else:
            self._insert("credential", user_id=user_id(user), method=method, data=json.dumps(data),
                         created_at=self.now(), last_used_at=None)

    def update_credential(self, user, method, expected, data):
        found = self._credential(user, method)
        if found is None or found["data"] != json.dumps(expected):
            return False
        found["data"] = json.dumps(data)
        return True

    def delete_credential(self, user, method):
        found = self._credential(user, method)
        if found:
            del self.tables["credential"][found["id"]]
        return int(bool(found))

    def touch_credential(self, user, method):
        found = self._credential(user, method)
        if found:
            found["last_used_at"] = self.now()

    # -- sessions
    def create_session(self, user, method, lifetime, address=""):
        raw = secrets.token_urlsafe(32)
        self._insert("session", token_hash=token_hash(raw), user_id=user_id(user), method=method,
                     created_at=self.now(), expires_at=self._later(lifetime), revoked_at=None, address=address)
        self.purge_now_and_then()
        return raw

    def get_session(self, raw):
        session = self._one("session", token_hash=token_hash(raw))
        if (session is None or session.revoked_at is not None or session.expires_at <= self.now()
                or session.user.disabled_at is not None):
            return None
        return session

    def revoke_session(self, raw):
        for values in self._where("session", token_hash=token_hash(raw), revoked_at=None):
            values["revoked_at"] = self.now()

    def revoke_user_sessions(self, user, keep=None):
        ended = [values for values in self._where("session", user_id=user_id(user), revoked_at=None)
                 if not keep or values["token_hash"] != token_hash(keep)]
        for values in ended:
            values["revoked_at"] = self.now()
        return len(ended)

    def update_user(self, user, **fields):
        stored = self.tables["user"][user_id(user)]
        for name in ("username", "me"):
            if name in fields and any(v["id"] != stored["id"] for v in self._where("user", **{name: fields[name]})):
                raise UsageError("that profile URL belongs to another user already")
        stored.update(fields)
        return self.get_user(user_id=stored["id"])

    def disable_user(self, user):
        now, uid = self.now(), user_id(user)
        self.tables["user"][uid]["disabled_at"] = now
        self.revoke_tokens(uid)
        self.revoke_user_sessions(uid)
        for table in ("authcode", "loginlink"):
            for values in self._where(table, user_id=uid, used_at=None, expires_at=lambda at: at > now):
                values["expires_at"] = now
        for values in self._where("grant", user_id=uid):
            del self.tables["grant"][values["id"]]
        return self.get_user(user_id=uid)

    def delete_user(self, user):
        uid = user_id(user)
        self.revoke_tokens(uid)
        self.revoke_user_sessions(uid)
        del self.tables["user"][uid]
        for table in ("credential", "session", "loginlink", "authcode", "token", "grant", "roleassignment",
                      "devicecode", "ticket", "receivedtoken"):
            for values in self._where(table, user_id=uid):  # on_delete CASCADE
                del self.tables[table][values["id"]]
        for table, column in (("event", "user_id"), ("invite", "created_by_id"), ("invite", "used_by_id")):
            for values in self._where(table, **{column: uid}):  # on_delete SET NULL
                values[column] = None

    # -- pre-registered clients and their roles
    def create_client(self, client_id, name, redirect_uris, description="", logo=""):
        raw = secrets.token_urlsafe(32)
        self._insert("client", client_id=canonical_client_id(client_id), name=name, description=description,
                     logo=logo, redirect_uris=json.dumps(list(redirect_uris)), secret_hash=token_hash(raw),
                     created_at=self.now(), rotated_at=None, roles="[]", default_role="")
        return raw

    def get_client(self, client_id=None, number=None):
        if number is not None:
            return self._row("client", number)
        return self._one("client", client_id=canonical_client_id(client_id)) if client_id else None

    def list_clients(self):
        return self._rows("client")

    def rotate_client_secret(self, client_id):
        raw = secrets.token_urlsafe(32)
        for values in self._where("client", client_id=canonical_client_id(client_id)):
            values.update(secret_hash=token_hash(raw), rotated_at=self.now())
        return raw

    def remove_client(self, client_id):
        client = self.get_client(client_id)
        if client is None:
            return None
        revoked = self.revoke_tokens(client_id=client.client_id)
        for values in self._where("authcode", client_id=client.client_id, used_at=None):
            values["used_at"] = self.now()
        for table, column, value in (("roleassignment", "client_id", client.id),
                                     ("grant", "client_id", client.client_id)):
            for values in self._where(table, **{column: value}):
                del self.tables[table][values["id"]]
        del self.tables["client"][client.id]
        return revoked

    def set_client_roles(self, client, roles, default_role=""):
        roles = check_client_roles(roles, default_role)
        self.tables["client"][client.id].update(roles=json.dumps(roles), default_role=default_role)
        client.roles, client.default_role = json.dumps(roles), default_role

    def client_roles(self, client):
        return client_roles(client)

    def assign_role(self, user, client, role):
        with self._atomic():
            for values in self._where("roleassignment", user_id=user_id(user), client_id=client.id):
                del self.tables["roleassignment"][values["id"]]
            if role:
                check_role(client, role)
                self._insert("roleassignment", user_id=user_id(user), client_id=client.id, role=role)

    def role_assignments(self, client):
        return sorted(self._rows("roleassignment", client_id=client.id), key=lambda row: row.user.username)

    def role_for(self, user, client_id):
        client = self.get_client(client_id) if client_id else None
        if client is None:
            return None
        assigned = self._where("roleassignment", user_id=user_id(user), client_id=client.id)
        return role_of(client.roles, client.default_role, assigned[0]["role"] if assigned else None)

    def seen_clients(self, limit=100):
        return first_client_data(((v["client_id"], v["client_data"]) for v in reversed(self._where("authrequest"))),
                                 limit)

    # -- invites
    def create_invite(self, role, lifetime, created_by=None, app_roles=None):
        check_app_roles(self, app_roles)
        raw = secrets.token_urlsafe(32)
        self._insert("invite", token_hash=token_hash(raw), role=role, app_roles=json.dumps(app_roles or {}),
                     created_by_id=user_id(created_by), created_at=self.now(), expires_at=self._later(lifetime),
                     used_at=None, used_by_id=None)
        return raw

    def get_invite(self, raw):
        invite = self._one("invite", token_hash=token_hash(raw))
        return invite if invite and invite.used_at is None and invite.expires_at > self.now() else None

    def use_invite(self, raw, user=None):
        found = self._where("invite", token_hash=token_hash(raw), used_at=None,
                            expires_at=lambda at: at > self.now())
        for values in found:
            values.update(used_at=self.now(), used_by_id=user_id(user))
        return len(found) == 1

    def redeem_invite(self, raw, username, me, **profile):
        with self._atomic():
            if not self.use_invite(raw):
                return None
            invite = self._one("invite", token_hash=token_hash(raw))
            user = self.create_user(username, me, role=invite.role, **profile)
            self.tables["invite"][invite.id]["used_by_id"] = user.id
            assign_app_roles(self, user, invite.app_roles)
            return user

    def list_invites(self):
        return self._rows("invite")[::-1]

    # -- one-time sign-in links
    def create_login_link(self, user, lifetime):
        raw = secrets.token_urlsafe(32)
        self._insert("loginlink", token_hash=token_hash(raw), user_id=user_id(user), created_at=self.now(),
                     expires_at=self._later(lifetime), used_at=None)
        return raw

    def _usable_link(self, raw):
        return self._where("loginlink", token_hash=token_hash(raw), used_at=None,
                           expires_at=lambda at: at > self.now())

    def login_link_usable(self, raw):
        return bool(self._usable_link(raw))

    def redeem_login_link(self, raw):
        for values in self._usable_link(raw):
            values["used_at"] = self.now()
            return self.get_user(user_id=values["user_id"])
        return None

    # -- state of sign-ins through another site
    def save_callback_state(self, purpose, browser, data, lifetime):
        raw = secrets.token_urlsafe(32)
        self._insert("callbackstate", key_hash=token_hash(raw), purpose=purpose, browser=token_hash(browser),
                     data=json.dumps(data), created_at=self.now(), expires_at=self._later(lifetime), used_at=None)
        self.purge_now_and_then()
        return raw

    def take_callback_state(self, purpose, raw, browser):
        found = self._where("callbackstate", key_hash=token_hash(raw), purpose=purpose)
        if not found:
            return None, "unknown"
        state = found[0]
        if state["browser"] != token_hash(browser):
            return None, "other_browser"
        if state["used_at"] is not None:
            return None, "used"
        if state["expires_at"] <= self.now():
            return None, "expired"
        state["used_at"] = self.now()
        return json.loads(state["data"]), None

    # -- throttling
    def record_failure(self, keys):
        return [self._insert("failure", key=key, at=self.now()).id for key in keys]

    def delete_failures(self, ids):
        for row_id in ids:
            self.tables.get("failure", {}).pop(row_id, None)

    def failures_since(self, key, since):
        times = [values["at"] for values in self._where("failure", key=key, at=lambda at: at >= since)]
        return len(times), min(times, default=None)

    def clear_failures(self, key):
        for values in self._where("failure", key=key):
            del self.tables["failure"][values["id"]]

    # -- authorization requests and codes
    def save_auth_request(self, lifetime, **fields):
        raw = secrets.token_urlsafe(24)
        defaults = dict(code_challenge="", code_challenge_method="", scope="", me_hint="", response_type="code",
                        client_data="{}", pushed=False, resource="")
        self._insert("authrequest", **dict(defaults, **fields), key_hash=token_hash(raw), created_at=self.now(),
                     expires_at=self._later(lifetime), used_at=None)
        self.purge_now_and_then()
        return raw

    def get_auth_request(self, raw, pushed=False):
        row = self._one("authrequest", key_hash=token_hash(raw))
        if row is None or row.used_at is not None or row.expires_at <= self.now() or row.pushed != pushed:
            return None
        return row

    def use_auth_request(self, raw):
        found = self._where("authrequest", key_hash=token_hash(raw), used_at=None)
        for values in found:
            values["used_at"] = self.now()
        return len(found) == 1

    def create_code(self, lifetime, **fields):
        raw = secrets.token_urlsafe(32)
        defaults = dict(code_challenge="", code_challenge_method="", scope="", auth_time=None, requested_scope="",
                        resource="")
        user = fields.pop("user")
        self._insert("authcode", **dict(defaults, **fields), user_id=user_id(user), code_hash=token_hash(raw),
                     created_at=self.now(), expires_at=self._later(lifetime), used_at=None)
        return raw

    def find_code(self, raw):
        return self._one("authcode", code_hash=token_hash(raw))

    def claim(self, take, then):
        with self._atomic():
            if not take():
                return False, None
            return True, then()

    def use_code(self, code):
        found = self._where("authcode", id=code.id, used_at=None)
        for values in found:
            values["used_at"] = self.now()
        return len(found) == 1

    # -- device authorizations (RFC 8628)
    def save_device_code(self, lifetime, user_code, **fields):
        if self._where("devicecode", user_code_hash=token_hash(user_code)):
            return None
        raw, now = secrets.token_urlsafe(32), self.now()
        self._insert("devicecode", **fields, device_hash=token_hash(raw), user_code_hash=token_hash(user_code),
                     created_at=now, next_poll_at=now, expires_at=self._later(lifetime), user_id=None,
                     granted_scope="", auth_time=None, answered_at=None, denied=False, used_at=None)
        self.purge_now_and_then()
        return raw

    def find_device_code(self, raw=None, user_code=None):
        if raw is not None:
            return self._one("devicecode", device_hash=token_hash(raw))
        return self._one("devicecode", user_code_hash=token_hash(user_code or ""))

    def answer_device_code(self, device, user, scope, auth_time=None, denied=False):
        now = self.now()
        found = self._where("devicecode", id=device.id, answered_at=None, expires_at=lambda at: at > now)
        for values in found:
            values.update(user_id=user_id(user), granted_scope=scope, auth_time=auth_time, answered_at=now,
                          denied=denied)
        return len(found) == 1

    def poll_device_code(self, device):
        now, values = self.now(), self.tables["devicecode"][device.id]
        on_time = values["next_poll_at"] <= now
        if not on_time:
            values["interval"] += 5
        values["next_poll_at"] = now + datetime.timedelta(seconds=values["interval"])
        return on_time

    def use_device_code(self, device):
        found = self._where("devicecode", id=device.id, used_at=None, denied=False,
                            answered_at=lambda at: at is not None)
        for values in found:
            values["used_at"] = self.now()
        return len(found) == 1

    # -- tokens
    def create_token(self, kind, user, me, client_id, scope, lifetime, family, code=None, via="flow",
                     auth_time=None, encode=None, requested_scope="", resource=""):
        jti, now = secrets.token_hex(16), self.now()
        expires = self._later(lifetime) if lifetime else None
        raw = encode(jti, now, expires) if encode else secrets.token_urlsafe(32)
        row = self._insert("token", token_hash=token_hash(raw), jti=jti, kind=kind, via=via, family=family,
                           code_id=getattr(code, "id", code), user_id=user_id(user), me=me, client_id=client_id,
                           scope=scope, created_at=now, auth_time=auth_time, expires_at=expires,
                           last_used_at=None, revoked_at=None, requested_scope=requested_scope, resource=resource)
        return raw, row

    def find_token(self, raw):
        return self._one("token", token_hash=token_hash(raw))

    def token_is_live(self, token):
        return (token is not None and token.revoked_at is None and token.user.disabled_at is None
                and (token.expires_at is None or token.expires_at > self.now()))

    def touch_token(self, token):
        self.tables["token"][token.id]["last_used_at"] = self.now()

    def _revoke(self, **equal):
        found = self._where("token", revoked_at=None, **equal)
        for values in found:
            values["revoked_at"] = self.now()
        return len(found)

    def revoke_token(self, token):
        return self._revoke(id=token.id) == 1

    def revoke_family(self, family):
        return self._revoke(family=family)

    def revoke_tokens_from_code(self, code):
        families = {values["family"] for values in self._where("token", code_id=code.id)}
        return sum(self.revoke_family(family) for family in families)

    def live_tokens(self, user=None):
        live = self._where("token", revoked_at=None, expires_at=lambda at: at is None or at > self.now(),
                           **({"user_id": user_id(user)} if user is not None else {}))
        return [self._row("token", values["id"]) for values in reversed(live)]

    def find_token_by_id(self, token_id, user=None):
        return token_by_id(self.live_tokens(user), token_id)

    def revoke_tokens(self, user=None, client_id=None):
        equal = {"user_id": user_id(user)} if user is not None else {}
        if client_id is not None:
            equal["client_id"] = canonical_client_id(client_id)
        return self._revoke(**equal)

    # -- signing keys
    def register_key(self, kid, algorithm, public_jwk):
        if not self._where("signingkey", kid=kid):
            self._insert("signingkey", kid=kid, algorithm=algorithm, public_jwk=json.dumps(public_jwk),
                         created_at=self.now(), retired_at=None, publish_until=None)

    def published_keys(self):
        return self._rows("signingkey", publish_until=lambda until: until is None or until > self.now())[::-1]

    def retire_key(self, kid, publish_until):
        publish_until = max([publish_until] + [values["expires_at"] for values in self._where(
            "token", kind="access", revoked_at=None)])
        found = self._where("signingkey", kid=kid, retired_at=None)
        for values in found:
            values.update(retired_at=self.now(), publish_until=publish_until)
        return len(found)

    def extend_key(self, kid, until):
        for values in self._where("signingkey", kid=kid, retired_at=lambda at: at is not None,
                                  publish_until=lambda at: at is not None and at < until):
            values["publish_until"] = until

    def list_keys(self):
        return self._rows("signingkey")

    # -- remembered consent
    def get_grant(self, user, client_id):
        return self._one("grant", user_id=user_id(user), client_id=canonical_client_id(client_id))

    def list_grants(self, user):
        return sorted(self._rows("grant", user_id=user_id(user)), key=lambda grant: grant.client_id)

    def forget_grant(self, user, client_id):
        found = self._where("grant", user_id=user_id(user), client_id=canonical_client_id(client_id))
        for values in found:
            del self.tables["grant"][values["id"]]
        return len(found)

    def save_grant(self, user, client_id, scope, resource=""):
        self.forget_grant(user, client_id)
        self._insert("grant", user_id=user_id(user), client_id=canonical_client_id(client_id), scope=scope,
                     created_at=self.now(), resource=resource)

    # -- resource servers
    def add_resource_server(self, name, resources=""):
        if self._where("resourceserver", name=name):
            raise UsageError(f"a resource server named {name!r} exists already")
        raw = secrets.token_urlsafe(32)
        self._insert("resourceserver", name=name, secret_hash=token_hash(raw), created_at=self.now(),
                     revoked_at=None, resources=resources)
        return raw

    def check_resource_server(self, raw):
        return self._one("resourceserver", secret_hash=token_hash(raw), revoked_at=None)

    def list_resource_servers(self):
        return self._rows("resourceserver")

    def revoke_resource_server(self, name):
        found = self._where("resourceserver", name=name, revoked_at=None)
        for values in found:
            values["revoked_at"] = self.now()
        return len(found)

    # -- audit log
    def log_event(self, kind, user=None, **data):
        self._insert("event", kind=kind, user_id=user_id(user), data=json.dumps(data, default=str), at=self.now())

    def events(self, limit=50, user=None):
        found = self._where("event", **({"user_id": user_id(user)} if user is not None else {}))
        return [self._row("event", values["id"]) for values in found[::-1][:limit]]

    def activity(self, user, since, kinds):
        counts = collections.Counter()
        for values in self._where("event", user_id=user_id(user)):
            if values["at"] >= since and values["kind"] in kinds:
                counts[(values["at"].date().isoformat(), values["kind"])] += 1
        return dict(counts)

    # -- tickets sent and tokens received (Ticketing for IndieAuth)
    def create_ticket(self, user, subject, resource, scope, endpoint, lifetime):
        raw = secrets.token_urlsafe(32)
        row = self._insert("ticket", ticket_hash=token_hash(raw), user_id=user_id(user), subject=subject,
                           resource=resource, scope=scope, endpoint=endpoint, family=uuid.uuid4().hex,
                           created_at=self.now(), expires_at=self._later(lifetime), used_at=None)
        self.purge_now_and_then()
        return raw, row

    def find_ticket(self, raw):
        return self._one("ticket", ticket_hash=token_hash(raw))

    def use_ticket(self, ticket):
        found = self._where("ticket", id=ticket.id, used_at=None)
        for values in found:
            values["used_at"] = self.now()
        return len(found) == 1

    def sent_tickets(self, user):
        return list(reversed(self._rows("ticket", user_id=user_id(user))))

    def keep_received_token(self, user, resource, issuer, token_endpoint, scope, sealed, expires_at=None):
        return self._insert("receivedtoken", user_id=user_id(user), resource=resource, issuer=issuer,
                            token_endpoint=token_endpoint, scope=scope, sealed=sealed, created_at=self.now(),
                            expires_at=expires_at)

    def received_tokens(self, user):
        return list(reversed(self._rows("receivedtoken", user_id=user_id(user))))

    def delete_received_token(self, user, token_id):
        found = self._where("receivedtoken", id=token_id, user_id=user_id(user))
        for values in found:
            del self.tables["receivedtoken"][values["id"]]
        return len(found) == 1

    # -- purging what has expired
    def purge(self):
        now = self.now()
        replayed = now - datetime.timedelta(seconds=REPLAY_MEMORY)
        expired = {
            "authrequest": {"expires_at": lambda at: at < now},
            "session": {"expires_at": lambda at: at < now},
            "loginlink": {"id": lambda i: self.tables["loginlink"][i]["expires_at"] < now
                          or self.tables["loginlink"][i]["used_at"] is not None},
            "invite": {"expires_at": lambda at: at < now, "used_at": None},
            "token": {"expires_at": lambda at: at is not None and at < replayed},
            "authcode": {"expires_at": lambda at: at < replayed},
            "devicecode": {"id": lambda i: self.tables["devicecode"][i]["expires_at"] < replayed
                           or (self.tables["devicecode"][i]["expires_at"] < now
                               and self.tables["devicecode"][i]["used_at"] is None)},
            "failure": {"at": lambda at: at < now - datetime.timedelta(seconds=self.failure_window)},
            "callbackstate": {"expires_at": lambda at: at < now},
            "ticket": {"expires_at": lambda at: at < replayed},
            "receivedtoken": {"expires_at": lambda at: at is not None and at < now},
            "event": {"at": lambda at: bool(self.log_retention)
                      and at < now - datetime.timedelta(seconds=self.log_retention)},
        }
        counts = {}
        for table, equal in expired.items():
            found = self._where(table, **equal)
            for values in found:
                del self.tables[table][values["id"]]
            counts[table] = len(found)
        return counts

    def purge_now_and_then(self):
        now = self.now()
        if self.purged_at is not None and now < self.purged_at + datetime.timedelta(seconds=PURGE_INTERVAL):
            return None
        self.purged_at = now
        return self.purge()


@hookimpl
def storage_backend(app):
    return MemoryStorage(clock=app.now, failure_window=app.config["security"]["failure_window"],
                         log_retention=app.config["server"]["log_retention"])
