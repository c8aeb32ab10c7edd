"""The storage contract and its migrations, on SQLite and on every server database configured.

Every test runs on SQLite (a file in tmp_path) and again on each URL listed, space-separated, in
INDIEAUTH_TEST_DATABASE_URLS, for example

    INDIEAUTH_TEST_DATABASE_URLS="postgresql://postgres@127.0.0.1:5432/test mysql://root@127.0.0.1:3306/test"

A server database is scratch space: a test that wants it empty gets every table dropped before and after
it; one that wants it migrated gets its tables emptied, or dropped and migrated when their schema is not
exactly what a migration from nothing makes (migrated_database).  Under
pytest-xdist each worker has a database of its own on that server (indieauth.testing.database_urls()).
"""

import ast
import concurrent.futures
import contextlib
import datetime
import glob
import hashlib
import inspect
import json
import os
import re
import threading
import urllib.parse

import peewee
import pytest

import indieauth
import memory_storage
from indieauth import (AuthCode, AuthRequest, CallbackState, Client, Credential, DeviceCode, Event, Failure, Grant, LoginLink,
                       ResourceServer, Invite, RoleAssignment, Session, SchemaVersion, SigningKey, Token, User)

LIFETIME = 3600  # seconds, for sessions and sign-in links
WINDOW = datetime.timedelta(minutes=15)  # for failure counting

# The schema that `indieauth migrate` makes from nothing; a change here needs a new migration.
TABLES = ["authcode", "authrequest", "callbackstate", "client", "credential", "devicecode", "event", "failure",
          "grant", "invite", "loginlink", "receivedtoken", "resourceserver", "roleassignment", "schemaversion",
          "session", "signingkey", "ticket", "token", "user"]
MODELS = [User, Credential, Session, LoginLink, Failure, Event, AuthRequest, AuthCode, Token, Grant,
          ResourceServer, SigningKey, Invite, Client, RoleAssignment, CallbackState, DeviceCode, indieauth.Ticket,
          indieauth.ReceivedToken, SchemaVersion]


# ---------------------------------------------------------------------------------------------
#  Fixtures: one database per backend, emptied around each test
# ---------------------------------------------------------------------------------------------

def backend_name(url):
    """The test id for a database URL: sqlite, postgresql or mysql."""
    scheme = url.split(":", 1)[0].split("+", 1)[0]
    return {"postgres": "postgresql"}.get(scheme, scheme)


DATABASE_URLS = ["sqlite:///x.db"] + list(indieauth.testing.database_urls())  # this xdist worker's own
if os.environ.get("CI"):  # a backend left out would pass unseen: CI must test on both servers
    for scheme in {"postgresql", "mysql"} - {backend_name(url) for url in DATABASE_URLS}:
        raise RuntimeError(f"CI must run the storage tests on {scheme}: no {scheme}:// URL in "
                           f"INDIEAUTH_TEST_DATABASE_URLS (.ci/run sets it)")


def drop_all_tables(database):
    """Empty a shared server database, whatever foreign keys point where."""
    with database.connection_context():
        tables = database.get_tables()
        if isinstance(database, peewee.MySQLDatabase):
            database.execute_sql("SET FOREIGN_KEY_CHECKS=0")
            for table in tables:
                database.execute_sql(f"DROP TABLE `{table}`")
            database.execute_sql("SET FOREIGN_KEY_CHECKS=1")
        else:
            for table in tables:
                database.execute_sql(f'DROP TABLE "{table}" CASCADE')


@contextlib.contextmanager
def empty_database(url, folder):
    """An empty database: a new SQLite file, or a server database with every table dropped."""
    if url.startswith("sqlite:"):
        database = indieauth.open_database(url, folder)
        yield database
        database.close()
        return
    database = indieauth.open_database(url)
    drop_all_tables(database)
    yield database
    drop_all_tables(database)


def schema_of(database):
    """Every table with its columns and indexes, as a fresh migration leaves them (or not)."""
    return {table: (sorted((c.name, c.data_type, c.null) for c in database.get_columns(table)),
                    sorted((i.name, tuple(i.columns), i.unique) for i in database.get_indexes(table)))
            for table in database.get_tables()}


_migrated_schema = {}  # backend -> the schema a migration from nothing made on it in this process


@contextlib.contextmanager
def migrated_database(url, folder):
    """A freshly migrated database.  On a server whose tables are exactly what a migration from nothing
    made earlier in this process, every table but schemaversion is emptied instead (TRUNCATE: rows and
    counters as new): dropping and migrating again takes MariaDB seconds a test.  Otherwise, as for
    empty_database, every table is dropped and the migrations run."""
    if url.startswith("sqlite:"):
        with empty_database(url, folder) as database:
            indieauth.Storage(database).migrate()
            yield database
        return
    database = indieauth.open_database(url)
    with database.connection_context():
        if _migrated_schema.get(url) is not None and schema_of(database) == _migrated_schema[url]:
            truncate_all_tables(database)
        else:
            drop_all_tables(database)
            indieauth.Storage(database).migrate()
            _migrated_schema[url] = schema_of(database)
    yield database  # left as it is: the next test empties it, or drops it when a test changed the schema


def truncate_all_tables(database):
    """Empty every table but schemaversion, whatever foreign keys point where."""
    tables = [table for table in database.get_tables() if table != SchemaVersion._meta.table_name]
    if isinstance(database, peewee.MySQLDatabase):
        database.execute_sql("SET FOREIGN_KEY_CHECKS=0")
        for table in tables:
            database.execute_sql(f"TRUNCATE TABLE `{table}`")
        database.execute_sql("SET FOREIGN_KEY_CHECKS=1")
    else:
        database.execute_sql("TRUNCATE " + ", ".join(f'"{table}"' for table in tables) + " RESTART IDENTITY CASCADE")


@pytest.fixture(params=DATABASE_URLS, ids=backend_name)
def database(request, tmp_path):
    with empty_database(request.param, str(tmp_path)) as database:
        yield database


@contextlib.contextmanager
def peewee_storage(database, clock):
    """A Storage on `database`, connected and bound (models used directly query it) within the block."""
    storage = indieauth.Storage(database, clock=clock)
    with database.connection_context(), storage.bound():
        yield storage


@pytest.fixture
def empty_storage(database, clock):
    with peewee_storage(database, clock) as storage:
        yield storage


@pytest.fixture(params=DATABASE_URLS, ids=backend_name)
def sql_storage(request, tmp_path, clock):
    """A peewee Storage on a freshly migrated database."""
    with migrated_database(request.param, str(tmp_path)) as database, peewee_storage(database, clock) as storage:
        yield storage


@pytest.fixture(params=DATABASE_URLS + ["memory"], ids=backend_name)
def storage(request, tmp_path, clock):
    """What the contract tests run on: the peewee Storage on every database, and the in-memory backend
    of tests/plugins/memory_storage.py (a second StorageContract, as a plugin's storage_backend gives)."""
    if request.param == "memory":
        yield memory_storage.MemoryStorage(clock=clock)
        return
    with migrated_database(request.param, str(tmp_path)) as database, peewee_storage(database, clock) as storage:
        yield storage


def make_user(storage, username, **profile):
    return storage.create_user(username, f"https://{username}.example/", **profile)


def stored_values(database):
    """Every value of every row of every table, as text."""
    for table in database.get_tables():
        for row in peewee.Table(table).select(peewee.SQL("*")).tuples().bind(database):
            yield from (str(value) for value in row)


def sha256(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------------------------
#  Migrations (the peewee backend only)
# ---------------------------------------------------------------------------------------------

def test_empty_database_has_schema_version_0(empty_storage):
    assert empty_storage.schema_version() == 0


def test_migrate_on_an_empty_database_applies_every_migration(empty_storage):
    assert empty_storage.migrate() == list(range(1, indieauth.SCHEMA_VERSION + 1))


def test_migrate_brings_the_database_to_the_code_schema_version(empty_storage):
    empty_storage.migrate()
    assert empty_storage.schema_version() == indieauth.SCHEMA_VERSION


def test_second_migrate_applies_nothing(empty_storage):
    empty_storage.migrate()
    assert empty_storage.migrate() == []
    assert SchemaVersion.select().count() == indieauth.SCHEMA_VERSION


def test_migrate_applies_only_pending_migrations(empty_storage, monkeypatch):
    empty_storage.migrate()
    following = indieauth.SCHEMA_VERSION + 1
    ran = []
    monkeypatch.setattr(indieauth, "MIGRATIONS", indieauth.MIGRATIONS + [(following, ran.append)])
    assert empty_storage.migrate() == [following]
    assert len(ran) == 1
    assert empty_storage.schema_version() == following


def test_failed_migration_is_not_recorded_and_runs_again(empty_storage, monkeypatch):
    empty_storage.migrate()
    released, following = indieauth.MIGRATIONS, indieauth.SCHEMA_VERSION + 1

    def broken(migrator):
        raise RuntimeError("this migration fails")

    monkeypatch.setattr(indieauth, "MIGRATIONS", released + [(following, broken)])
    with pytest.raises(RuntimeError):
        empty_storage.migrate()
    assert empty_storage.schema_version() == indieauth.SCHEMA_VERSION
    monkeypatch.setattr(indieauth, "MIGRATIONS", released + [(following, lambda migrator: None)])
    assert empty_storage.migrate() == [following]


def test_check_schema_on_an_empty_database_asks_for_indieauth_migrate(empty_storage):
    with pytest.raises(indieauth.UsageError, match="indieauth migrate"):
        empty_storage.check_schema()


def test_check_schema_passes_after_migrate(empty_storage):
    empty_storage.migrate()
    empty_storage.check_schema()


def test_database_is_empty_until_migrated(empty_storage):
    assert empty_storage.is_empty()
    empty_storage.migrate()
    assert not empty_storage.is_empty()


def test_migrating_from_scratch_creates_the_same_tables_on_every_backend(empty_storage):
    empty_storage.migrate()
    assert sorted(empty_storage.database.get_tables()) == TABLES


# ---------------------------------------------------------------------------------------------
#  Users
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["username", "me", "user_id"])
def test_get_user_finds_a_user_by_username_me_or_id(storage, key):
    alice = make_user(storage, "alice", name="Alice")
    make_user(storage, "bob")
    found = storage.get_user(**{key: {"username": "alice", "me": alice.me, "user_id": alice.id}[key]})
    assert (found.id, found.username, found.me, found.name) == (alice.id, "alice", "https://alice.example/", "Alice")


@pytest.mark.parametrize("lookup", [
    {"username": "carol"},
    {"me": "https://carol.example/"},
    {"user_id": 999999},
], ids=lambda lookup: next(iter(lookup)))
def test_get_user_is_none_for_an_unknown_user(storage, lookup):
    make_user(storage, "alice")
    assert storage.get_user(**lookup) is None


@pytest.mark.parametrize("username, me", [
    pytest.param("alice", "https://other.example/", id="username"),
    pytest.param("other", "https://alice.example/", id="me"),
])
def test_a_taken_username_or_me_is_refused(storage, username, me):
    make_user(storage, "alice")
    with pytest.raises(indieauth.UsageError, match="exists already"):
        storage.create_user(username, me)
    assert [u.username for u in storage.list_users()] == ["alice"]


def test_a_refused_duplicate_leaves_the_database_usable(storage):
    make_user(storage, "alice")
    with pytest.raises(indieauth.UsageError):
        make_user(storage, "alice")
    make_user(storage, "bob")
    assert [u.username for u in storage.list_users()] == ["alice", "bob"]


@pytest.mark.parametrize("typed", ["ALICE", " alice ", "Alice"])
def test_user_names_are_case_insensitive_and_trimmed(storage, typed):
    storage.create_user("Alice", "https://alice.example/")
    assert storage.get_user(username=typed).username == "alice"
    with pytest.raises(indieauth.UsageError):
        storage.create_user(typed, "https://other.example/")


@pytest.mark.parametrize("name", ["", "-alice", "al ice", "a" * 65, "alice/x", "ålice"])
def test_invalid_user_names_are_refused(storage, name):
    with pytest.raises(indieauth.UsageError, match="user name"):
        storage.create_user(name, "https://x.example/")


def test_an_over_long_profile_url_is_a_usage_error_on_every_backend(storage):
    with pytest.raises(indieauth.UsageError, match="255"):
        storage.create_user("alice", "https://example.com/" + "a" * 250)


@pytest.mark.parametrize("lookup", [
    pytest.param({"username": "alicé"}, id="username-accent"),
    pytest.param({"me": "https://alice.example/Alice/"}, id="me-path-case"),
])
def test_user_lookups_compare_text_exactly(request, storage, lookup):
    storage.create_user("alice", "https://alice.example/alice/")
    assert storage.get_user(**lookup) is None


def test_profile_urls_differing_only_in_path_case_are_different_users(request, storage):
    # validate_me keeps the path as typed: only the host of a profile URL is case-insensitive.
    storage.create_user("alice", "https://example.com/alice/")
    storage.create_user("bob", "https://example.com/Alice/")
    assert storage.get_user(me="https://example.com/Alice/").username == "bob"


def test_list_users_is_in_creation_order(storage):
    for name in ("carol", "alice", "bob"):
        make_user(storage, name)
    assert [u.username for u in storage.list_users()] == ["carol", "alice", "bob"]


# ---------------------------------------------------------------------------------------------
#  Credentials
# ---------------------------------------------------------------------------------------------

def test_get_credential_returns_the_stored_dict(storage):
    alice = make_user(storage, "alice")
    data = {"hash": "$scrypt$abc", "recovery": ["x", "y"], "n": 3, "nested": {"ok": True}}
    storage.set_credential(alice, "password", data)
    assert storage.get_credential(alice, "password") == data


@pytest.mark.parametrize("who, method", [("alice", "totp"), ("bob", "password")])
def test_get_credential_is_none_when_absent(storage, who, method):
    users = {"alice": make_user(storage, "alice"), "bob": make_user(storage, "bob")}
    storage.set_credential(users["alice"], "password", {"hash": "h"})
    assert storage.get_credential(users[who], method) is None


# ---------------------------------------------------------------------------------------------
#  Sessions
# ---------------------------------------------------------------------------------------------

def test_get_session_returns_the_live_session_with_its_user(storage):
    alice = make_user(storage, "alice")
    raw = storage.create_session(alice, "password", LIFETIME, address="192.0.2.1")
    session = storage.get_session(raw)
    assert (session.user.username, session.method, session.address) == ("alice", "password", "192.0.2.1")


def test_get_session_is_none_for_an_unknown_token(storage):
    storage.create_session(make_user(storage, "alice"), "password", LIFETIME)
    assert storage.get_session("not-a-session-token") is None


@pytest.mark.parametrize("seconds_later, live", [
    (0, True),
    (LIFETIME - 1, True),
    (LIFETIME, False),
    (LIFETIME + 86400, False),
])
def test_session_lives_until_its_lifetime_ends(storage, clock, seconds_later, live):
    raw = storage.create_session(make_user(storage, "alice"), "password", LIFETIME)
    clock.advance(seconds=seconds_later)
    assert (storage.get_session(raw) is not None) is live


def test_revoked_session_is_gone(storage):
    alice = make_user(storage, "alice")
    raw = storage.create_session(alice, "password", LIFETIME)
    other = storage.create_session(alice, "password", LIFETIME)
    storage.revoke_session(raw)
    assert storage.get_session(raw) is None
    assert storage.get_session(other) is not None


def test_session_of_a_disabled_user_is_gone(storage, clock):
    alice = make_user(storage, "alice")
    raw = storage.create_session(alice, "password", LIFETIME)
    storage.update_user(alice, disabled_at=clock())
    assert storage.get_session(raw) is None


def test_revoke_user_sessions_ends_every_session_of_that_user_only(storage):
    alice, bob = make_user(storage, "alice"), make_user(storage, "bob")
    alice_raw = [storage.create_session(alice, "password", LIFETIME) for _ in range(2)]
    bob_raw = storage.create_session(bob, "password", LIFETIME)
    assert storage.revoke_user_sessions(alice) == 2
    assert [storage.get_session(raw) for raw in alice_raw] == [None, None]
    assert storage.get_session(bob_raw) is not None


def test_revoke_user_sessions_counts_only_sessions_still_live(storage):
    alice = make_user(storage, "alice")
    storage.revoke_session(storage.create_session(alice, "password", LIFETIME))
    storage.create_session(alice, "password", LIFETIME)
    assert storage.revoke_user_sessions(alice) == 1
    assert storage.revoke_user_sessions(alice) == 0


# ---------------------------------------------------------------------------------------------
#  One-time sign-in links
# ---------------------------------------------------------------------------------------------

def test_login_link_redeems_to_its_user(storage):
    make_user(storage, "alice")
    bob = make_user(storage, "bob")
    raw = storage.create_login_link(bob, LIFETIME)
    assert storage.redeem_login_link(raw).username == "bob"


def test_login_link_is_single_use(storage):
    raw = storage.create_login_link(make_user(storage, "alice"), LIFETIME)
    assert storage.redeem_login_link(raw) is not None
    assert storage.redeem_login_link(raw) is None


@pytest.mark.parametrize("seconds_later, works", [
    (0, True),
    (LIFETIME - 1, True),
    (LIFETIME, False),
    (LIFETIME + 86400, False),
])
def test_login_link_works_until_its_lifetime_ends(storage, clock, seconds_later, works):
    raw = storage.create_login_link(make_user(storage, "alice"), LIFETIME)
    clock.advance(seconds=seconds_later)
    assert (storage.redeem_login_link(raw) is not None) is works


def test_unknown_login_link_redeems_to_nothing(storage):
    storage.create_login_link(make_user(storage, "alice"), LIFETIME)
    assert storage.redeem_login_link("not-a-link-token") is None


# ---------------------------------------------------------------------------------------------
#  Throttling failures
# ---------------------------------------------------------------------------------------------

def test_failures_since_counts_only_failures_within_the_window(storage, clock):
    storage.record_failure(["account:alice"])
    clock.advance(minutes=10)
    storage.record_failure(["account:alice"])
    clock.advance(minutes=5)
    storage.record_failure(["account:alice"])
    # The window is inclusive of its start: the failure exactly 15 minutes ago still counts.
    assert storage.failures_since("account:alice", clock() - WINDOW)[0] == 3
    clock.advance(seconds=1)
    assert storage.failures_since("account:alice", clock() - WINDOW)[0] == 2


def test_failures_since_reports_the_oldest_failure_within_the_window(storage, clock):
    start = clock()
    for _ in range(3):
        storage.record_failure(["account:alice"])
        clock.advance(minutes=10)
    assert storage.failures_since("account:alice", clock() - WINDOW) == (1, start + datetime.timedelta(minutes=20))


def test_failures_are_counted_per_key(storage, clock):
    storage.record_failure(["account:alice", "address:192.0.2.1"])
    storage.record_failure(["account:bob", "address:192.0.2.1"])
    since = clock() - WINDOW
    counts = [storage.failures_since(key, since)[0]
              for key in ("account:alice", "account:bob", "address:192.0.2.1", "address:192.0.2.2")]
    assert counts == [1, 1, 2, 0]


def test_failures_since_is_zero_and_none_for_a_key_without_failures(storage, clock):
    storage.record_failure(["account:alice"])
    assert storage.failures_since("account:bob", clock() - WINDOW) == (0, None)


def test_clear_failures_clears_only_that_key(storage, clock):
    storage.record_failure(["account:alice", "address:192.0.2.1"])
    storage.clear_failures("account:alice")
    since = clock() - WINDOW
    assert storage.failures_since("account:alice", since)[0] == 0
    assert storage.failures_since("address:192.0.2.1", since)[0] == 1


# ---------------------------------------------------------------------------------------------
#  The audit log
# ---------------------------------------------------------------------------------------------

def test_events_are_listed_newest_first(storage, clock):
    for kind in ("first", "second", "third"):
        storage.log_event(kind)
        clock.advance(minutes=1)
    assert [e.kind for e in storage.events()] == ["third", "second", "first"]


def test_events_limit_keeps_the_newest(storage, clock):
    for kind in ("first", "second", "third"):
        storage.log_event(kind)
        clock.advance(minutes=1)
    assert [e.kind for e in storage.events(limit=2)] == ["third", "second"]


def test_log_event_keeps_kind_user_data_and_time(storage, clock):
    alice = make_user(storage, "alice")
    clock.advance(hours=1)
    storage.log_event("login", user=alice, method="password", address="192.0.2.1")
    event = storage.events()[0]
    assert (event.kind, event.user.username, event.at) == ("login", "alice", clock())
    assert json.loads(event.data) == {"method": "password", "address": "192.0.2.1"}


def test_activity_counts_a_users_events_of_the_kinds_asked_per_day_since_a_time(storage, clock):
    alice, bob = make_user(storage, "alice"), make_user(storage, "bob")
    storage.log_event("login", user=alice)              # 2026-01-01, before `since`
    clock.advance(days=1, hours=11)                     # 2026-01-02 23:00
    since = clock()
    storage.log_event("login", user=alice)
    storage.log_event("token_issued", user=alice)
    storage.log_event("token_issued", user=alice)
    storage.log_event("login", user=bob)                # another user's
    storage.log_event("login_failed", user=alice)       # a kind not asked for
    clock.advance(hours=2)                              # 2026-01-03 01:00
    storage.log_event("login", user=alice)
    counts = storage.activity(alice, since, ("login", "token_issued"))
    assert counts == {("2026-01-02", "login"): 1, ("2026-01-02", "token_issued"): 2, ("2026-01-03", "login"): 1}


# ---------------------------------------------------------------------------------------------
#  The authorization flow's rows (written with SQL built once: Compiled, Prepared, PreparedInsert)
# ---------------------------------------------------------------------------------------------

def test_a_pushed_request_is_found_only_as_a_pushed_one(storage):
    raw = storage.save_auth_request(60, client_id="https://app.example/", redirect_uri="https://app.example/cb",
                                    state="s", pushed=True)
    assert storage.get_auth_request(raw) is None
    assert storage.get_auth_request(raw, pushed=True).pushed is True


def test_a_code_keeps_what_was_approved_and_is_consumed_once(storage, clock):
    alice = make_user(storage, "alice")
    raw = storage.create_code(60, user=alice, me=alice.me, client_id="https://app.example/",
                              redirect_uri="https://app.example/cb", code_challenge="c" * 43,
                              code_challenge_method="S256", scope="profile create", auth_time=clock())
    code = storage.find_code(raw)
    assert (code.user.username, code.me, code.scope, code.code_challenge, code.auth_time, code.used_at) == (
        "alice", alice.me, "profile create", "c" * 43, clock(), None)
    assert [storage.use_code(code), storage.use_code(code)] == [True, False]
    assert storage.find_code(raw).used_at == clock()
    assert storage.find_code("another code") is None


def test_a_new_token_row_has_the_id_it_was_stored_under(storage):
    alice = make_user(storage, "alice")
    made = [storage.create_token(kind, alice, alice.me, "https://app.example/", "profile", 3600, "family1")
            for kind in ("access", "refresh")]
    found = [storage.find_token(raw) for raw, _ in made]
    assert [row.id for _, row in made] == [row.id for row in found]
    assert made[0][1].id != made[1][1].id
    assert [(t.kind, t.via, t.user.username, t.revoked_at, t.code_id) for t in found] == [
        ("access", "flow", "alice", None, None), ("refresh", "flow", "alice", None, None)]
    assert storage.revoke_token(made[0][1]) and storage.find_token(made[0][0]).revoked_at is not None


def test_codes_and_tokens_keep_the_scope_the_app_asked_for(storage):
    """Beside the scope granted (issue 18: a refresh may resend it); "" when not given."""
    alice = make_user(storage, "alice")
    raw = storage.create_code(600, user=alice, me=alice.me, client_id="https://app.example/",
                              redirect_uri="https://app.example/cb", scope="profile",
                              requested_scope="profile create")
    assert (storage.find_code(raw).scope, storage.find_code(raw).requested_scope) == ("profile", "profile create")
    asked, _ = storage.create_token("refresh", alice, alice.me, "https://app.example/", "profile", 3600, "f1",
                                    requested_scope="profile create")
    plain, _ = storage.create_token("access", alice, alice.me, "https://app.example/", "profile", 3600, "f1")
    assert [storage.find_token(raw).requested_scope for raw in (asked, plain)] == ["profile create", ""]


def test_a_grant_is_found_for_its_user_and_client_only(storage):
    alice, bob = make_user(storage, "alice"), make_user(storage, "bob")
    storage.save_grant(alice, "https://app.example/", "profile")
    assert storage.get_grant(alice, "https://app.example/").scope == "profile"
    assert storage.get_grant(alice.id, "https://app.example/").scope == "profile"
    assert storage.get_grant(bob, "https://app.example/") is None
    assert storage.get_grant(alice, "https://other.example/") is None


def test_removing_a_client_ends_its_tokens_codes_roles_and_grants_and_nothing_of_other_clients(storage, clock):
    alice = make_user(storage, "alice")
    for client_id in ("https://app.example/", "https://other.example/"):
        storage.create_client(client_id, client_id, [client_id + "cb"])
        storage.assign_role(alice, storage.get_client(client_id), "editor")
        storage.save_grant(alice, client_id, "profile")
        storage.create_token("access", alice, alice.me, client_id, "create", 3600, family="f" + client_id)
    raw = storage.create_code(60, user=alice, me=alice.me, client_id="https://app.example/",
                              redirect_uri="https://app.example/cb", code_challenge="c" * 43,
                              code_challenge_method="S256", scope="create", auth_time=clock())
    assert storage.remove_client("https://APP.example") == 1  # any form of the client_id
    assert storage.get_client("https://app.example/") is None
    assert storage.get_grant(alice, "https://app.example/") is None
    assert storage.find_code(raw).used_at == clock() and not storage.use_code(storage.find_code(raw))
    assert [t.client_id for t in storage.live_tokens()] == ["https://other.example/"]
    assert storage.role_for(alice, "https://other.example/") == "editor"
    assert storage.get_grant(alice, "https://other.example/") is not None
    assert storage.remove_client("https://app.example/") is None


def test_a_retired_key_that_still_signs_is_published_longer_and_a_current_one_is_left_alone(storage, clock):
    storage.register_key("old", "EdDSA", {"kid": "old"})
    storage.register_key("new", "EdDSA", {"kid": "new"})
    storage.retire_key("old", clock() + datetime.timedelta(hours=1))
    storage.extend_key("old", clock() + datetime.timedelta(hours=2))
    storage.extend_key("old", clock() + datetime.timedelta(minutes=30))  # never shortened
    storage.extend_key("new", clock() + datetime.timedelta(hours=2))  # not retired: published anyway
    keys = {key.kid: key.publish_until for key in storage.list_keys()}
    assert keys == {"old": clock() + datetime.timedelta(hours=2), "new": None}


def test_a_retired_key_stays_published_until_the_last_access_token_issued_before_expires(storage, clock):
    """Issue 21: a 30-day testing token outlives rotation time plus access_token_lifetime."""
    alice = make_user(storage, "alice")
    storage.register_key("old", "EdDSA", {"kid": "old"})
    _, long = storage.create_token("access", alice, alice.me, "https://app.example/", "create", 30 * 86400,
                                   family="f1", via="testing")
    _, revoked = storage.create_token("access", alice, alice.me, "https://app.example/", "create", 60 * 86400,
                                      family="f2", via="testing")
    storage.create_token("refresh", alice, alice.me, "https://app.example/", "create", 90 * 86400, family="f1")
    storage.revoke_token(revoked)  # a revoked token need not verify anywhere
    storage.retire_key("old", clock() + datetime.timedelta(days=1))
    assert {key.kid: key.publish_until for key in storage.list_keys()} == {"old": long.expires_at}
    storage.register_key("short", "EdDSA", {"kid": "short"})
    storage.retire_key("short", clock() + datetime.timedelta(days=31))  # never shorter than asked
    assert storage.list_keys()[1].publish_until == clock() + datetime.timedelta(days=31)


# ---------------------------------------------------------------------------------------------
#  Device authorizations (RFC 8628)
# ---------------------------------------------------------------------------------------------

def save_device_code(storage, lifetime, user_code=None, client_id="https://app.example/"):
    return storage.save_device_code(lifetime, user_code or indieauth.new_user_code(), client_id=client_id,
                                    scope="profile create", client_data="{}", family="f" * 32, interval=5)


def approved_device(storage, user, scope="create"):
    raw = save_device_code(storage, 60)
    assert storage.answer_device_code(storage.find_device_code(raw), user, scope)
    return storage.find_device_code(raw)


def test_a_device_code_is_found_by_its_device_code_and_its_user_code(storage, clock):
    raw = save_device_code(storage, 600, "BCDF-GHJK")
    by_device, by_user = storage.find_device_code(raw), storage.find_device_code(user_code="BCDF-GHJK")
    assert by_device == by_user and by_device.id is not None
    assert (by_device.client_id, by_device.scope, by_device.family, by_device.interval, by_device.user,
            by_device.answered_at, by_device.denied, by_device.used_at) == (
        "https://app.example/", "profile create", "f" * 32, 5, None, None, False, None)
    assert (by_device.created_at, by_device.next_poll_at, by_device.expires_at) == (
        clock(), clock(), clock() + datetime.timedelta(seconds=600))
    assert storage.find_device_code("another") is None and storage.find_device_code(user_code="BCDF-GHJL") is None
    assert storage.find_device_code() is None


def test_a_user_code_taken_by_another_device_code_is_refused(storage):
    assert save_device_code(storage, 600, "BCDF-GHJK")
    assert save_device_code(storage, 600, "BCDF-GHJK") is None
    assert save_device_code(storage, 600, "BCDF-GHJL")


def test_a_device_code_is_answered_once_and_keeps_the_answer(storage, clock):
    alice, bob = make_user(storage, "alice"), make_user(storage, "bob")
    raw = save_device_code(storage, 600)
    device = storage.find_device_code(raw)
    clock.advance(seconds=30)
    assert storage.answer_device_code(device, alice, "create", auth_time=clock() - datetime.timedelta(hours=1))
    assert not storage.answer_device_code(device, bob, "profile create", denied=True)
    answered = storage.find_device_code(raw)
    assert (answered.user.username, answered.user_id, answered.granted_scope, answered.scope, answered.answered_at,
            answered.auth_time, answered.denied, answered.used_at) == (
        "alice", alice.id, "create", "profile create", clock(), clock() - datetime.timedelta(hours=1), False, None)


def test_a_device_code_is_not_answered_once_expired(storage, clock):
    alice = make_user(storage, "alice")
    device = storage.find_device_code(save_device_code(storage, 60))
    clock.advance(seconds=60)
    assert not storage.answer_device_code(device, alice, "create")


def test_polling_sooner_than_the_interval_makes_it_5_seconds_longer(storage, clock):
    raw = save_device_code(storage, 600)
    device = lambda: storage.find_device_code(raw)
    assert storage.poll_device_code(device())  # the first poll may come at once
    clock.advance(seconds=3)
    assert not storage.poll_device_code(device()) and device().interval == 10
    clock.advance(seconds=9)  # 9 s after the poll that was too soon: still sooner than 10
    assert not storage.poll_device_code(device()) and device().interval == 15
    clock.advance(seconds=15)
    assert storage.poll_device_code(device()) and device().interval == 15
    clock.advance(seconds=15)
    assert storage.poll_device_code(device())


def test_a_device_code_is_used_once_and_only_once_approved(storage, clock):
    alice = make_user(storage, "alice")
    raw = save_device_code(storage, 600)
    assert not storage.use_device_code(storage.find_device_code(raw))  # not answered yet
    assert storage.answer_device_code(storage.find_device_code(raw), alice, "create")
    assert [storage.use_device_code(storage.find_device_code(raw)) for _ in range(2)] == [True, False]
    used = storage.find_device_code(raw)
    assert (used.used_at, used.user.username, used.granted_scope, used.denied) == (clock(), "alice", "create", False)


def test_a_denied_device_code_is_never_used(storage):
    alice = make_user(storage, "alice")
    raw = save_device_code(storage, 600)
    assert storage.answer_device_code(storage.find_device_code(raw), alice, "", denied=True)
    denied = storage.find_device_code(raw)
    assert (denied.denied, denied.user.username) == (True, "alice")
    assert not storage.use_device_code(denied)


def test_purge_removes_unused_device_codes_at_expiry_and_used_ones_after_the_replay_memory(storage, clock):
    alice = make_user(storage, "alice")
    unused, used = save_device_code(storage, 60), save_device_code(storage, 60)
    assert storage.answer_device_code(storage.find_device_code(used), alice, "create")
    assert storage.use_device_code(storage.find_device_code(used))
    clock.advance(seconds=61)
    assert storage.purge()["devicecode"] == 1
    assert storage.find_device_code(unused) is None and storage.find_device_code(used) is not None
    clock.advance(days=2)
    assert storage.purge()["devicecode"] == 1 and storage.find_device_code(used) is None


def test_deleting_a_user_deletes_the_device_codes_they_answered(storage):
    alice, bob = make_user(storage, "alice"), make_user(storage, "bob")
    theirs, others, pending = save_device_code(storage, 600), save_device_code(storage, 600), save_device_code(storage, 600)
    storage.answer_device_code(storage.find_device_code(theirs), alice, "create")
    storage.answer_device_code(storage.find_device_code(others), bob, "create")
    storage.delete_user(alice)
    assert storage.find_device_code(theirs) is None
    assert storage.find_device_code(others).user.username == "bob" and storage.find_device_code(pending).user is None


# ---------------------------------------------------------------------------------------------
#  Deleting a user
# ---------------------------------------------------------------------------------------------

def give_everything(storage, user):
    storage.set_credential(user, "password", {"hash": "h"})
    storage.create_session(user, "password", LIFETIME)
    storage.create_login_link(user, LIFETIME)
    storage.log_event("login", user=user)


def test_update_credential_is_compare_and_set(storage):
    alice = make_user(storage, "alice")
    storage.set_credential(alice, "totp", {"step": 1})
    assert storage.update_credential(alice, "totp", {"step": 1}, {"step": 2}) is True
    assert storage.update_credential(alice, "totp", {"step": 1}, {"step": 3}) is False  # the loser of a race
    assert storage.get_credential(alice, "totp") == {"step": 2}


def test_delete_credential(storage):
    alice = make_user(storage, "alice")
    storage.set_credential(alice, "totp", {"step": 1})
    assert storage.delete_credential(alice, "totp") == 1
    assert storage.get_credential(alice, "totp") is None


# ---------------------------------------------------------------------------------------------
#  Purging expired rows (issue 15, finding 9)
# ---------------------------------------------------------------------------------------------

PURGED = ["authrequest", "session", "loginlink", "invite", "token", "authcode", "failure", "callbackstate", "event",
          "devicecode", "ticket", "receivedtoken"]
PURGE_INDEXED = [LoginLink.expires_at, Failure.at, AuthRequest.expires_at, AuthCode.expires_at, Token.expires_at,
                 Invite.expires_at, Session.expires_at, Event.at, indieauth.Ticket.expires_at,
                 indieauth.ReceivedToken.expires_at]


def one_of_each(storage, user, lifetime):
    """A pending request, session, sign-in link, invite, code, token, failure and event, made now and
    lasting `lifetime` seconds; [(model, id)]."""
    by_hash = lambda model, column, raw: (model, model.get(column == sha256(raw)).id)
    _, token = storage.create_token("access", user, user.me, "https://app.example/", "create", lifetime, "family")
    return [
        by_hash(AuthRequest, AuthRequest.key_hash, storage.save_auth_request(
            lifetime, client_id="https://app.example/", redirect_uri="https://app.example/cb", state="s")),
        by_hash(Session, Session.token_hash, storage.create_session(user, "password", lifetime)),
        by_hash(LoginLink, LoginLink.token_hash, storage.create_login_link(user, lifetime)),
        by_hash(Invite, Invite.token_hash, storage.create_invite("user", lifetime)),
        by_hash(AuthCode, AuthCode.code_hash, storage.create_code(
            lifetime, user=user, me=user.me, client_id="https://app.example/", redirect_uri="https://app.example/cb")),
        (Token, token.id),
        (Failure, storage.record_failure(["address:192.0.2.1"])[0]),
        (Event, storage.log_event("test", user=user) or Event.select(peewee.fn.MAX(Event.id)).scalar()),
        by_hash(CallbackState, CallbackState.key_hash, storage.save_callback_state("test", "b" * 43, {}, lifetime)),
        by_hash(DeviceCode, DeviceCode.device_hash, save_device_code(storage, lifetime)),
        (indieauth.Ticket, storage.create_ticket(user, "https://bob.example/", "https://alice.example/", "read",
                                                 "https://bob.example/ticket", lifetime)[1].id),
        (indieauth.ReceivedToken, storage.keep_received_token(
            user, "https://carol.example/", "https://carol.example/", "https://carol.example/token", "read", "s",
            expires_at=storage.now() + datetime.timedelta(seconds=lifetime)).id),
    ]


def exists(model, row_id):
    return model.select().where(model.id == row_id).exists()


# ---------------------------------------------------------------------------------------------
#  The peewee backend only: migrations, the tables and columns, hashes at rest, indexes, purge
#  counted per table (these read the tables with the models)
# ---------------------------------------------------------------------------------------------

def test_a_database_at_schema_2_gains_roles_and_keeps_its_apps(sql_storage):
    """What the released schema 2 looked like: no role columns, no roleassignment table."""
    from playhouse.migrate import SchemaMigrator, migrate
    database = sql_storage.database
    migrator = SchemaMigrator.from_database(database)
    database.drop_tables([RoleAssignment])
    migrate(migrator.drop_column("client", "roles"), migrator.drop_column("client", "default_role"),
            migrator.drop_column("invite", "app_roles"))
    SchemaVersion.delete().where(SchemaVersion.version >= 3).execute()
    peewee.Table("client", ("client_id", "name", "redirect_uris", "secret_hash", "description", "logo",
                            "created_at")).bind(database).insert(
        client_id="https://app.example/", name="Old App", redirect_uris="[]", secret_hash="x" * 64,
        description="", logo="", created_at=datetime.datetime(2026, 1, 1)).execute()
    assert sql_storage.migrate() == list(range(3, indieauth.SCHEMA_VERSION + 1))
    client = sql_storage.get_client("https://app.example/")
    assert client.name == "Old App" and sql_storage.client_roles(client) == [] and client.default_role == ""
    assert "roleassignment" in database.get_tables()
    user = make_user(sql_storage, "alice")
    sql_storage.assign_role(user, client, "editor")
    assert sql_storage.role_for(user, client.client_id) == "editor"


def test_a_database_at_schema_6_gains_requested_scope_and_keeps_its_codes_and_tokens(sql_storage, clock):
    """What the released schema 6 looked like: no requested_scope on authcode and token.  Rows made before
    read as "" (the refresh rule then takes what was granted)."""
    from playhouse.migrate import SchemaMigrator, migrate
    database = sql_storage.database
    alice = make_user(sql_storage, "alice")
    code = sql_storage.create_code(600, user=alice, me=alice.me, client_id="https://app.example/",
                                   redirect_uri="https://app.example/cb", scope="create")
    token, _ = sql_storage.create_token("refresh", alice, alice.me, "https://app.example/", "create", 3600, "f1")
    migrator = SchemaMigrator.from_database(database)
    migrate(migrator.drop_column("authcode", "requested_scope"), migrator.drop_column("token", "requested_scope"))
    SchemaVersion.delete().where(SchemaVersion.version >= 7).execute()
    assert "requested_scope" not in {c.name for c in database.get_columns("token")}
    assert sql_storage.migrate() == list(range(7, indieauth.SCHEMA_VERSION + 1))
    sql_storage.check_schema()
    assert (sql_storage.find_code(code).scope, sql_storage.find_code(code).requested_scope) == ("create", "")
    assert (sql_storage.find_token(token).scope, sql_storage.find_token(token).requested_scope) == ("create", "")


def test_a_database_at_schema_9_gains_resource_indicators_and_keeps_its_rows(sql_storage):
    """What schema 9 looked like: no resource on requests, codes and grants, no resources on resource servers.
    Rows made before read as "": for no resource (a token for me) and, for a credential, bound to none."""
    from playhouse.migrate import SchemaMigrator, migrate
    database = sql_storage.database
    alice = make_user(sql_storage, "alice")
    code = sql_storage.create_code(600, user=alice, me=alice.me, client_id="https://app.example/",
                                   redirect_uri="https://app.example/cb", scope="create")
    sql_storage.save_grant(alice, "https://app.example/", "create")
    secret = sql_storage.add_resource_server("micropub")
    migrator = SchemaMigrator.from_database(database)
    migrate(*[migrator.drop_column(table, "resource") for table in ("authrequest", "authcode", "grant")],
            migrator.drop_column("resourceserver", "resources"))
    SchemaVersion.delete().where(SchemaVersion.version >= 10).execute()
    assert sql_storage.migrate() == list(range(10, indieauth.SCHEMA_VERSION + 1))
    sql_storage.check_schema()
    assert (sql_storage.find_code(code).scope, sql_storage.find_code(code).resource) == ("create", "")
    assert sql_storage.get_grant(alice, "https://app.example/").resource == ""
    assert sql_storage.check_resource_server(secret).resources == ""


def test_check_schema_refuses_a_database_newer_than_the_code(sql_storage):
    SchemaVersion.create(version=indieauth.SCHEMA_VERSION + 1)
    with pytest.raises(indieauth.UsageError, match="upgrade indieauth"):
        sql_storage.check_schema()


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_migrated_table_has_exactly_the_model_columns(sql_storage, model):
    columns = sql_storage.database.get_columns(model._meta.table_name)
    assert sorted(c.name for c in columns) == sorted(f.column_name for f in model._meta.sorted_fields)


@pytest.mark.parametrize("model", [Credential, Session, LoginLink, Event], ids=lambda model: model.__name__)
def test_migrated_user_reference_is_a_foreign_key(sql_storage, model):
    keys = sql_storage.database.get_foreign_keys(model._meta.table_name)
    assert [(k.column, k.dest_table, k.dest_column) for k in keys] == [("user_id", "user", "id")]


def test_setting_a_credential_again_replaces_it(sql_storage, clock):
    alice = make_user(sql_storage, "alice")
    sql_storage.set_credential(alice, "password", {"hash": "old"})
    clock.advance(minutes=1)
    sql_storage.set_credential(alice, "password", {"hash": "new"})
    assert Credential.select().where(Credential.user == alice).count() == 1
    assert sql_storage.get_credential(alice, "password") == {"hash": "new"}


def test_setting_the_same_credential_twice_keeps_one_row(request, sql_storage):
    alice = make_user(sql_storage, "alice")
    sql_storage.set_credential(alice, "totp", {"secret": "JBSWY3DP"})
    sql_storage.set_credential(alice, "totp", {"secret": "JBSWY3DP"})
    assert Credential.select().where(Credential.user == alice).count() == 1


def test_touch_credential_records_when_it_was_last_used(sql_storage, clock):
    alice = make_user(sql_storage, "alice")
    sql_storage.set_credential(alice, "password", {"hash": "h"})
    clock.advance(hours=2)
    sql_storage.touch_credential(alice, "password")
    assert Credential.get(Credential.user == alice).last_used_at == clock()


def test_session_is_stored_only_as_the_sha256_of_its_token(sql_storage):
    raw = sql_storage.create_session(make_user(sql_storage, "alice"), "password", LIFETIME)
    assert [s.token_hash for s in Session.select()] == [sha256(raw)]


def test_raw_session_token_appears_nowhere_in_the_database(sql_storage):
    raw = sql_storage.create_session(make_user(sql_storage, "alice"), "password", LIFETIME, address="192.0.2.1")
    sql_storage.log_event("login", user=sql_storage.get_user(username="alice"), method="password")
    values = list(stored_values(sql_storage.database))
    assert sha256(raw) in values
    assert not [value for value in values if raw in value]


def test_redeeming_a_login_link_keeps_it_marked_used(sql_storage, clock):
    raw = sql_storage.create_login_link(make_user(sql_storage, "alice"), LIFETIME)
    clock.advance(minutes=5)
    sql_storage.redeem_login_link(raw)
    assert [link.used_at for link in LoginLink.select()] == [clock()]


def test_raw_login_link_token_appears_nowhere_in_the_database(sql_storage):
    raw = sql_storage.create_login_link(make_user(sql_storage, "alice"), LIFETIME)
    values = list(stored_values(sql_storage.database))
    assert sha256(raw) in values
    assert not [value for value in values if raw in value]


def test_an_auth_request_is_stored_with_its_defaults_and_answered_once(sql_storage, clock):
    raw = sql_storage.save_auth_request(600, client_id="https://app.example/", redirect_uri="https://app.example/cb",
                                    state="xyz", scope="profile")
    request = sql_storage.get_auth_request(raw)
    assert (request.client_id, request.redirect_uri, request.state, request.scope) == (
        "https://app.example/", "https://app.example/cb", "xyz", "profile")
    assert (request.response_type, request.pushed, request.code_challenge, request.client_data) == (
        "code", False, "", "{}")
    assert (request.created_at, request.expires_at) == (clock(), clock() + datetime.timedelta(seconds=600))
    assert request.id == AuthRequest.get(AuthRequest.key_hash == sha256(raw)).id
    assert [sql_storage.use_auth_request(raw), sql_storage.use_auth_request(raw)] == [True, False]
    assert sql_storage.get_auth_request(raw) is None


@pytest.mark.parametrize("model", [Credential, Session, LoginLink], ids=lambda model: model.__name__)
def test_deleting_a_user_deletes_their_rows_and_no_one_elses(sql_storage, model):
    alice, bob = make_user(sql_storage, "alice"), make_user(sql_storage, "bob")
    give_everything(sql_storage, alice)
    give_everything(sql_storage, bob)
    alice.delete_instance()
    assert [row.user_id for row in model.select()] == [bob.id]


def test_deleting_a_user_keeps_their_events_without_the_user(sql_storage):
    alice = make_user(sql_storage, "alice")
    give_everything(sql_storage, alice)
    alice.delete_instance()
    assert [(e.kind, e.user_id) for e in Event.select()] == [("login", None)]


def test_replacing_a_credential_keeps_its_creation_time(sql_storage, clock):
    alice = make_user(sql_storage, "alice")
    sql_storage.set_credential(alice, "password", {"hash": "a"})
    first = Credential.get(Credential.user == alice).created_at
    clock.advance(days=1)
    sql_storage.set_credential(alice, "password", {"hash": "b"})
    assert Credential.get(Credential.user == alice).created_at == first


def test_purge_deletes_expired_rows_of_every_kind_and_keeps_live_ones(sql_storage, clock, monkeypatch):
    monkeypatch.setattr(sql_storage, "purge_now_and_then", lambda: None)  # only the explicit purge, here
    sql_storage.log_retention = 86400
    alice = make_user(sql_storage, "alice")
    expired = one_of_each(sql_storage, alice, 60)
    clock.advance(days=2)  # past every lifetime, the failure window, the retention and the replay memory
    live = one_of_each(sql_storage, alice, 3600)
    assert sql_storage.purge() == {table: 1 for table in PURGED}
    assert not any(exists(model, row_id) for model, row_id in expired)
    assert all(exists(model, row_id) for model, row_id in live)
    assert sql_storage.purge() == {table: 0 for table in PURGED}


def test_purge_keeps_what_may_still_be_replayed_or_audited(sql_storage, clock, monkeypatch):
    monkeypatch.setattr(sql_storage, "purge_now_and_then", lambda: None)
    alice = make_user(sql_storage, "alice")
    code = sql_storage.create_code(60, user=alice, me=alice.me, client_id="https://app.example/",
                               redirect_uri="https://app.example/cb")
    _, token = sql_storage.create_token("access", alice, alice.me, "https://app.example/", "create", 60, "f1")
    _, forever = sql_storage.create_token("access", alice, alice.me, "https://app.example/", "create", 0, "f2")
    invite = sql_storage.create_invite("user", 60)
    sql_storage.redeem_invite(invite, "bob", "https://bob.example/")
    link = sql_storage.create_login_link(alice, 3600)
    sql_storage.redeem_login_link(link)
    sql_storage.log_event("test", user=alice)
    clock.advance(hours=12)  # the code and token expired, but less than a day ago
    counts = sql_storage.purge()
    assert counts["loginlink"] == 1  # used: it can serve no more, although unexpired
    assert counts["authcode"] == counts["token"] == counts["invite"] == counts["event"] == 0
    assert sql_storage.find_code(code) is not None and exists(Token, token.id) and exists(Token, forever.id)
    sql_storage.log_retention = 0  # keeps events for ever
    clock.advance(days=400)
    counts = sql_storage.purge()
    assert counts["authcode"] == counts["token"] == 1 and counts["event"] == 0
    assert exists(Token, forever.id) and Invite.select().count() == 1  # a used invite stays, for the record


def test_storage_purges_now_and_then_as_it_stores_requests_and_sessions(sql_storage, clock):
    alice = make_user(sql_storage, "alice")
    sql_storage.create_login_link(alice, 60)
    sql_storage.create_session(alice, "password", 3600)  # the process's first purge: nothing has expired
    assert LoginLink.select().count() == 1
    clock.advance(minutes=5)  # the link has expired, but this process purged less than PURGE_INTERVAL ago
    sql_storage.save_auth_request(60, client_id="https://app.example/", redirect_uri="https://app.example/cb", state="s")
    assert LoginLink.select().count() == 1
    clock.advance(seconds=indieauth.PURGE_INTERVAL)
    sql_storage.save_auth_request(60, client_id="https://app.example/", redirect_uri="https://app.example/cb", state="s")
    assert LoginLink.select().count() == 0 and AuthRequest.select().count() == 1  # the first request expired


def test_purge_finds_expired_rows_by_an_index(sql_storage):
    for field in PURGE_INDEXED:
        indexes = sql_storage.database.get_indexes(field.model._meta.table_name)
        assert any(index.columns == [field.column_name] for index in indexes), field


def test_a_database_at_schema_3_gains_the_purge_indexes(sql_storage):
    """What schema 3 looked like: no index on the expiry times purge compares."""
    from playhouse.migrate import SchemaMigrator, migrate
    database = sql_storage.database
    migrator = SchemaMigrator.from_database(database)
    for field in PURGE_INDEXED[:6]:
        table = field.model._meta.table_name
        for index in database.get_indexes(table):
            if index.columns == [field.column_name]:
                migrate(migrator.drop_index(table, index.name))
    SchemaVersion.delete().where(SchemaVersion.version >= 4).execute()
    assert sql_storage.migrate() == list(range(4, indieauth.SCHEMA_VERSION + 1))
    test_purge_finds_expired_rows_by_an_index(sql_storage)


def test_a_database_at_schema_4_stores_client_ids_in_their_canonical_form(sql_storage):
    """Issue 15, finding 1: rows written before the one canonical client_id (a registered app made from a
    base_url typed with capitals and :443) take it, with what hangs on them; a consent remembered under
    both forms keeps the newer."""
    old, new = "HTTPS://Auth.Example:443/clients/ab/", "https://auth.example/clients/ab/"
    user = make_user(sql_storage, "alice")
    Client.create(client_id=old, name="Old App", redirect_uris="[]", secret_hash="x" * 64)
    sql_storage.create_token("access", user, user.me, old, "create", 3600, "family")
    Grant.create(user=user, client_id=old, scope="create", created_at=datetime.datetime(2026, 1, 1))
    Grant.create(user=user, client_id=new, scope="create update", created_at=datetime.datetime(2026, 2, 1))
    other = make_user(sql_storage, "bob")
    Grant.create(user=other, client_id=old, scope="media", created_at=datetime.datetime(2026, 1, 1))
    SchemaVersion.delete().where(SchemaVersion.version >= 5).execute()
    assert sql_storage.migrate() == list(range(5, indieauth.SCHEMA_VERSION + 1))
    assert sql_storage.get_client(new).name == "Old App"
    assert [t.client_id for t in sql_storage.live_tokens(user)] == [new]
    assert sql_storage.get_grant(user, new).scope == "create update"
    assert sql_storage.get_grant(other, new).scope == "media"
    assert not Grant.select().where(Grant.client_id == old).exists()


# ---------------------------------------------------------------------------------------------
#  The contract's rows and single use, on every backend
# ---------------------------------------------------------------------------------------------

def every_kind_of_row(storage, clock):
    """{row kind: a row of it as the contract's methods return it}."""
    alice = make_user(storage, "alice")
    storage.create_client("https://app.example/", "App", ["https://app.example/cb"])
    client = storage.get_client("https://app.example/")
    storage.set_client_roles(client, ["editor"])
    storage.assign_role(alice, client, "editor")
    code = storage.find_code(storage.create_code(60, user=alice, me=alice.me, client_id="https://app.example/",
                                                 redirect_uri="https://app.example/cb"))
    storage.register_key("k1", "EdDSA", {"kid": "k1"})
    storage.save_grant(alice, "https://app.example/", "profile")
    storage.log_event("login", user=alice)
    return {
        "user": alice,
        "session": storage.get_session(storage.create_session(alice, "password", LIFETIME)),
        "authrequest": storage.get_auth_request(storage.save_auth_request(
            60, client_id="https://app.example/", redirect_uri="https://app.example/cb", state="s")),
        "authcode": code,
        "token": storage.find_token(storage.create_token("access", alice, alice.me, "https://app.example/",
                                                         "profile", 60, "f", code=code)[0]),
        "signingkey": storage.list_keys()[0],
        "grant": storage.get_grant(alice, "https://app.example/"),
        "resourceserver": storage.check_resource_server(storage.add_resource_server("micropub")),
        "invite": storage.get_invite(storage.create_invite("user", 60, created_by=alice)),
        "client": client,
        "roleassignment": storage.role_assignments(client)[0],
        "event": storage.events()[0],
        "devicecode": approved_device(storage, alice),
        "ticket": storage.find_ticket(storage.create_ticket(alice, "https://bob.example/", "https://alice.example/feed",
                                                            "read", "https://bob.example/ticket", 300)[0]),
        "receivedtoken": storage.keep_received_token(alice, "https://carol.example/feed", "https://carol.example/",
                                                     "https://carol.example/token", "read", "sealed"),
    }


def test_every_row_has_the_attributes_of_the_row_contract(storage, clock):
    rows = every_kind_of_row(storage, clock)
    assert set(rows) == set(indieauth.STORAGE_ROWS)
    missing = {kind: [name for name in indieauth.STORAGE_ROWS[kind].split() if not hasattr(row, name)]
               for kind, row in rows.items()}
    assert missing == {kind: [] for kind in rows}
    assert rows["token"].user == rows["user"] and rows["token"].code_id == rows["authcode"].id
    assert rows["invite"].created_by_id == rows["user"].id and rows["roleassignment"].client == rows["client"]


def test_a_ticket_is_found_by_its_raw_value_and_used_once(storage, clock):
    alice = make_user(storage, "alice")
    raw, row = storage.create_ticket(alice, "https://bob.example/", "https://alice.example/feed", "read",
                                     "https://bob.example/ticket", 300)
    assert storage.find_ticket("not-" + raw) is None
    ticket = storage.find_ticket(raw)
    assert (ticket.id, ticket.user.username, ticket.subject, ticket.resource, ticket.scope, ticket.endpoint) == (
        row.id, "alice", "https://bob.example/", "https://alice.example/feed", "read", "https://bob.example/ticket")
    assert ticket.used_at is None and ticket.expires_at == clock() + datetime.timedelta(seconds=300)
    assert len(ticket.family) == 32
    assert storage.use_ticket(ticket) is True
    assert storage.use_ticket(ticket) is False
    assert storage.find_ticket(raw).used_at == clock()
    other, _ = storage.create_ticket(alice, "https://carol.example/", "https://alice.example/feed", "read",
                                     "https://carol.example/ticket", 300)
    assert [t.subject for t in storage.sent_tickets(alice)] == ["https://carol.example/", "https://bob.example/"]
    assert storage.find_ticket(other).family != ticket.family


def test_received_tokens_are_kept_per_user_and_deleted_only_by_their_owner(storage, clock):
    alice, bob = make_user(storage, "alice"), make_user(storage, "bob")
    later = clock() + datetime.timedelta(days=1)
    first = storage.keep_received_token(alice, "https://carol.example/feed", "https://carol.example/",
                                        "https://carol.example/token", "read", "sealed-1", expires_at=later)
    second = storage.keep_received_token(alice, "https://dave.example/", "https://auth.dave.example/",
                                         "https://auth.dave.example/token", "read follow", "sealed-2")
    assert [(t.resource, t.sealed, t.expires_at) for t in storage.received_tokens(alice)] == [
        ("https://dave.example/", "sealed-2", None), ("https://carol.example/feed", "sealed-1", later)]
    assert storage.received_tokens(bob) == []
    assert storage.delete_received_token(bob, first.id) is False
    assert storage.delete_received_token(alice, first.id) is True
    assert storage.delete_received_token(alice, first.id) is False
    assert [t.id for t in storage.received_tokens(alice)] == [second.id]


def test_purge_removes_expired_received_tokens_and_tickets_past_replay_memory(storage, clock):
    alice = make_user(storage, "alice")
    storage.keep_received_token(alice, "https://carol.example/", "https://carol.example/", "https://carol.example/token",
                                "read", "s", expires_at=clock() + datetime.timedelta(seconds=60))
    storage.keep_received_token(alice, "https://dave.example/", "https://dave.example/", "https://dave.example/token",
                                "read", "s")
    raw, _ = storage.create_ticket(alice, "https://bob.example/", "https://alice.example/", "read",
                                   "https://bob.example/ticket", 60)
    clock.advance(seconds=61)
    counts = storage.purge()
    assert counts["receivedtoken"] == 1 and counts["ticket"] == 0
    assert [t.resource for t in storage.received_tokens(alice)] == ["https://dave.example/"]
    assert storage.find_ticket(raw) is not None  # a late replay is still recognised
    clock.advance(seconds=indieauth.REPLAY_MEMORY)
    assert storage.purge()["ticket"] == 1 and storage.find_ticket(raw) is None


def test_deleting_a_user_deletes_their_tickets_and_received_tokens(storage):
    alice = make_user(storage, "alice")
    raw, _ = storage.create_ticket(alice, "https://bob.example/", "https://alice.example/", "read",
                                   "https://bob.example/ticket", 60)
    storage.keep_received_token(alice, "https://carol.example/", "https://carol.example/", "https://carol.example/t",
                                "read", "s")
    storage.delete_user(alice)
    assert storage.find_ticket(raw) is None
    assert storage.received_tokens(alice) == []


def test_callback_state_is_taken_once_in_its_browser_for_its_purpose_while_live(storage, clock):
    raw = storage.save_callback_state("github", "b" * 43, {"next": "/x"}, 600)
    assert storage.take_callback_state("passkeys", raw, "b" * 43) == (None, "unknown")
    assert storage.take_callback_state("github", raw, "c" * 43) == (None, "other_browser")
    assert storage.take_callback_state("github", raw, "b" * 43) == ({"next": "/x"}, None)
    assert storage.take_callback_state("github", raw, "b" * 43) == (None, "used")
    late = storage.save_callback_state("github", "b" * 43, {}, 600)
    clock.advance(seconds=600)
    assert storage.take_callback_state("github", late, "b" * 43) == (None, "expired")
    assert storage.take_callback_state("github", "never-saved", "b" * 43) == (None, "unknown")


def test_purge_counts_every_table_it_purges(storage, clock):
    alice = make_user(storage, "alice")
    storage.create_login_link(alice, 60)
    storage.save_callback_state("github", "b" * 43, {}, 60)
    clock.advance(days=2)
    counts = storage.purge()
    assert set(counts) == set(PURGED) and counts["loginlink"] == counts["callbackstate"] == 1


SINGLE_USE = {
    "code": lambda storage, user: (lambda code: lambda: storage.use_code(code))(storage.find_code(storage.create_code(
        60, user=user, me=user.me, client_id="https://app.example/", redirect_uri="https://app.example/cb"))),
    "auth request": lambda storage, user: (lambda raw: lambda: storage.use_auth_request(raw))(storage.save_auth_request(
        60, client_id="https://app.example/", redirect_uri="https://app.example/cb", state="s")),
    "login link": lambda storage, user: (lambda raw: lambda: storage.redeem_login_link(raw) is not None)(
        storage.create_login_link(user, 60)),
    "invite": lambda storage, user: (lambda raw: lambda: storage.use_invite(raw))(storage.create_invite("user", 60)),
    "callback state": lambda storage, user: (lambda raw: lambda: storage.take_callback_state("t", raw, "b" * 43)[1]
                                             is None)(storage.save_callback_state("t", "b" * 43, {}, 60)),
    "refresh token": lambda storage, user: (lambda token: lambda: storage.revoke_token(token))(storage.create_token(
        "refresh", user, user.me, "https://app.example/", "create", 60, "f")[1]),
    "device answer": lambda storage, user: (lambda device: lambda: storage.answer_device_code(device, user, "create"))(
        storage.find_device_code(save_device_code(storage, 60))),
    "device code": lambda storage, user: (lambda device: lambda: storage.use_device_code(device))(
        approved_device(storage, user)),
    "ticket": lambda storage, user: (lambda ticket: lambda: storage.use_ticket(ticket))(storage.create_ticket(
        user, "https://bob.example/", "https://alice.example/", "read", "https://bob.example/ticket", 60)[1]),
}


@pytest.mark.parametrize("thing", SINGLE_USE)
def test_single_use_things_are_consumed_by_exactly_one_of_racing_callers(storage, thing):
    take = SINGLE_USE[thing](storage, make_user(storage, "alice"))
    barrier = threading.Barrier(8)

    def race():
        barrier.wait()
        return take()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: race(), range(8)))
    assert sorted(results) == [False] * 7 + [True]


# ---------------------------------------------------------------------------------------------
#  A complete flow on the in-memory backend, through the real app
# ---------------------------------------------------------------------------------------------

def test_a_complete_flow_runs_on_a_storage_backend_from_a_plugin(make_app):
    import allow_anyone
    import webtest
    from indieauth import testing
    app = make_app(plugins=[memory_storage, allow_anyone], password=False)
    assert isinstance(app.storage, memory_storage.MemoryStorage)
    app.storage.create_user("ann", "https://ann.example/", role="owner")
    rs_secret = app.storage.add_resource_server("micropub")
    web = webtest.TestApp(app, extra_environ={"REMOTE_ADDR": "192.0.2.10"})
    introspect = lambda token: web.post("/introspect", {"token": token},
                                        headers={"Authorization": f"Bearer {rs_secret}"}).json

    consent_url, verifier = testing.start_authorization(web, scope="profile create")  # PKCE S256
    login = web.get(consent_url, status=303).follow()
    form = next(form for form in login.forms.values() if "who" in form.fields)
    form["who"] = "ann"
    assert urllib.parse.urlsplit(form.submit(status=303).headers["Location"]).path == consent_url
    body = testing.redeem(web, testing.approve(web, consent_url), verifier)
    assert (body["me"], body["scope"]) == ("https://ann.example/", "profile create")

    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    assert web.get("/token", headers=bearer).json["me"] == "https://ann.example/"
    assert introspect(body["access_token"])["active"] is True
    rotated = web.post("/token", {"grant_type": "refresh_token", "refresh_token": body["refresh_token"],
                                  "client_id": testing.CLIENT_ID}).json
    assert rotated["refresh_token"] != body["refresh_token"] and introspect(rotated["access_token"])["active"]
    web.post("/revoke", {"token": rotated["access_token"]})
    assert introspect(rotated["access_token"]) == {"active": False}
    web.get("/token", headers={"Authorization": f"Bearer {rotated['access_token']}"}, status=401)

    form = web.get("/tokens/new").forms["new-token"]  # a testing token, from the signed-in web UI
    form["client_id"] = "https://dev.example/"
    shown = form.submit(status=200)
    testing_token = shown.html.select_one("textarea#token").text.strip()
    assert introspect(testing_token)["active"] is True
    assert [t.via for t in app.storage.live_tokens()][:1] == ["testing"]


# ---------------------------------------------------------------------------------------------
#  Nothing outside the Storage chapter touches the peewee models
# ---------------------------------------------------------------------------------------------

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL_NAMES = {name for name, value in vars(indieauth).items()
               if isinstance(value, type) and issubclass(value, peewee.Model)} | {"db"}


def models_named(source, path, allowed=range(0)):
    """[(line, name)] of every model (or the models' `db`) the code names outside the `allowed` lines:
    `User`, `indieauth.User`, `from indieauth import User`."""
    found = []
    for node in ast.walk(ast.parse(source, path)):
        names = ([(node.lineno, node.id)] if isinstance(node, ast.Name) else
                 [(node.lineno, node.attr)] if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                 and node.value.id == "indieauth" else
                 [(node.lineno, alias.name) for alias in node.names]
                 if isinstance(node, ast.ImportFrom) and node.module == "indieauth" else [])
        found += [(line, name) for line, name in names if name in MODEL_NAMES and line not in allowed]
    return sorted(found)


def storage_chapter(source):
    """The line numbers of the Storage chapter of indieauth.py (banner to the next banner)."""
    lines = source.splitlines()
    banners = [number for number, line in enumerate(lines[1:-1], 2) if re.fullmatch(r"#  \S.*", line)
               and lines[number - 2].startswith("# ----") and lines[number].startswith("# ----")]
    start = next(number for number in banners if lines[number - 1] == "#  Storage")
    return range(start, banners[banners.index(start) + 1])


def test_the_check_finds_a_model_named_outside_storage():
    assert models_named("from indieauth import Client\nClient.get_or_none(Client.id == 1)\nindieauth.User",
                        "sample.py") == [(1, "Client"), (2, "Client"), (2, "Client"), (3, "User")]


def test_nothing_outside_the_storage_chapter_or_in_plugins_names_a_model():
    """Every read and write goes through app.storage (StorageContract), so another backend serves it all;
    plugins' own tests may still read the peewee tables to check what is stored at rest."""
    core = open(os.path.join(ROOT, "indieauth.py")).read()
    found = {"indieauth.py": models_named(core, "indieauth.py", storage_chapter(core))}
    plugin_files = glob.glob(os.path.join(ROOT, "plugins", "*", "indieauth_*", "**", "*.py"), recursive=True)
    for path in plugin_files + glob.glob(os.path.join(ROOT, "tests", "plugins", "*.py")):
        found[os.path.relpath(path, ROOT)] = models_named(open(path).read(), path)
    assert len(plugin_files) >= 7
    assert {path: names for path, names in found.items() if names} == {}


CONTRACT = {name: inspect.signature(method) for name, method in inspect.getmembers(indieauth.StorageContract)
            if not name.startswith("_") and inspect.isfunction(method)}


@pytest.mark.parametrize("backend", [indieauth.Storage, memory_storage.MemoryStorage], ids=lambda cls: cls.__name__)
def test_a_backend_has_every_method_of_the_contract_with_its_parameters(backend):
    parameters = lambda signature: [(p.name, p.kind, p.default) for p in signature.parameters.values()]
    differ = {name: str(inspect.signature(getattr(backend, name, None) or (lambda: None)))
              for name, signature in CONTRACT.items()
              if parameters(inspect.signature(getattr(backend, name, None) or (lambda: None))) != parameters(signature)}
    assert differ == {}


def test_the_contract_has_every_storage_method_the_server_and_its_plugins_call():
    core = open(os.path.join(ROOT, "indieauth.py")).read()
    chapter = storage_chapter(core)
    sources = [("indieauth.py", core)] + [
        (path, open(path).read()) for path in glob.glob(os.path.join(ROOT, "plugins", "*", "indieauth_*", "**", "*.py"),
                                                        recursive=True)]
    called = {node.attr for path, source in sources for node in ast.walk(ast.parse(source, path))
              if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute)
              and node.value.attr == "storage" and (path != "indieauth.py" or node.lineno not in chapter)}
    assert len(called) > 40
    assert called - set(CONTRACT) == set()


@pytest.fixture
def memory_web(make_app):
    """An owner, ann, signed in on an app whose storage is the in-memory backend's (with the hosting plugin,
    whose Users page reads users, invites and app roles)."""
    import allow_anyone
    import webtest
    app = make_app({"plugins": {"hosting": {}}}, plugins=[memory_storage, allow_anyone], password=False)
    app.storage.create_user("ann", "https://ann.example/", role="owner")
    web = webtest.TestApp(app, extra_environ={"REMOTE_ADDR": "192.0.2.10"})
    form = web.get("/login/allow_anyone").forms[0]
    form["who"] = "ann"
    form.submit(status=303)
    return web


@pytest.mark.parametrize("path", ["/", "/admin/users", "/admin/clients", "/admin/clients/{client}", "/tokens", "/tokens/new",
                                  "/log", "/.well-known/jwks.json"])
def test_the_pages_read_only_what_the_row_contract_gives(memory_web, path):
    storage = memory_web.app.storage
    storage.create_client("https://app.example/", "App", ["https://app.example/cb"])
    storage.set_client_roles(storage.get_client("https://app.example/"), ["editor"], "editor")
    storage.assign_role(storage.get_user(username="ann"), storage.get_client("https://app.example/"), "editor")
    storage.create_invite("user", 3600, created_by=storage.get_user(username="ann"))
    storage.create_token("access", storage.get_user(username="ann"), "https://ann.example/", "https://app.example/",
                         "create", 3600, "family")
    assert memory_web.get(path.format(client=storage.get_client("https://app.example/").id)).status_int == 200
