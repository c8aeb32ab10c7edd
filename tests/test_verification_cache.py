"""Verified tokens kept a moment per process (issue 17): a revocation still refused at once on the machine.

Two apps made on one folder and one SQLite file are two server processes of one machine: each keeps its
own verified tokens, and they share the generation file.  A change written to the database without the
storage contract stands for a server on another machine: it is seen within `verification_cache`.
"""

import inspect
import os
import sqlite3

import pytest
import requests
import webtest

import indieauth

from test_cli import Setup, serve, setup  # noqa: F401  (fixtures: a real `indieauth serve` and its CLI)

CLIENT = "https://app.example/"

# The contract's methods that cannot end a live access token nor change what verifying it answers.
KEEPS_TOKENS = {
    "connect", "close", "schema_version", "is_empty", "migrate", "check_schema", "create_user", "get_user",
    "list_users", "get_credential", "set_credential", "update_credential", "delete_credential",
    "touch_credential", "create_session", "get_session", "revoke_session", "revoke_user_sessions",
    "create_login_link", "login_link_usable", "redeem_login_link", "save_callback_state",
    "take_callback_state", "record_failure", "delete_failures", "failures_since", "clear_failures",
    "save_auth_request", "get_auth_request", "use_auth_request", "create_code", "find_code", "use_code",
    "claim", "create_token", "find_token", "token_is_live", "touch_token", "live_tokens", "find_token_by_id",
    "register_key", "published_keys", "retire_key", "extend_key", "list_keys", "get_client", "list_clients",
    "rotate_client_secret", "client_roles", "role_assignments", "role_for", "seen_clients", "create_invite",
    "get_invite", "use_invite", "redeem_invite", "list_invites", "get_grant", "list_grants", "save_grant",
    "forget_grant", "add_resource_server", "check_resource_server", "list_resource_servers",
    "log_event", "events", "activity", "purge",
    "save_device_code", "find_device_code", "answer_device_code", "poll_device_code", "use_device_code",
    # tickets: spending one issues a token, never ends one (revoking a ticket's token is revoke_family's)
    "create_ticket", "find_ticket", "use_ticket", "sent_tickets", "keep_received_token", "received_tokens",
    "delete_received_token",
}


@pytest.fixture
def machine(make_app, owner):
    """Two server processes of one machine (a, b) and a token of the owner's; each answers GET /token."""
    a, b = make_app(), make_app()
    raw, row = indieauth.issue_testing_token(a, owner, CLIENT, ["create"], 3600)
    return a, b, raw, row


def verify(app, raw, status=200):
    web = webtest.TestApp(app, extra_environ={"REMOTE_ADDR": "192.0.2.10"})
    return web.get("/token", headers={"Authorization": f"Bearer {raw}"}, status=status)


def revoke_behind_the_contract(folder, row):
    """What a server on another machine does to the shared database: this machine's processes are not told."""
    with sqlite3.connect(os.path.join(folder, "test.db")) as db:
        db.execute("UPDATE token SET revoked_at = '2026-01-01 12:00:00' WHERE id = ?", (row.id,))


def test_every_contract_method_is_sorted_by_whether_it_can_end_a_token():
    contract = {name for name, _ in inspect.getmembers(indieauth.StorageContract, inspect.isfunction)
                if not name.startswith("_")}
    assert indieauth.ENDS_TOKENS <= contract
    assert not indieauth.ENDS_TOKENS & KEEPS_TOKENS
    assert contract - indieauth.ENDS_TOKENS == KEEPS_TOKENS, "a new contract method: add it to one of the two"


def test_a_token_is_answered_from_what_was_kept_until_the_interval_ends(machine, tmp_path, clock):
    """Without a revocation this machine knows of (another machine's), a kept answer lasts the interval."""
    a, _, raw, row = machine
    assert verify(a, raw).json["client_id"] == CLIENT
    revoke_behind_the_contract(str(tmp_path), row)
    assert verify(a, raw).json["client_id"] == CLIENT  # kept: no query was made
    clock.advance(seconds=6)  # past the default verification_cache of 5 s
    verify(a, raw, status=401)


def test_without_the_cache_every_verification_asks_the_database(make_app, owner, tmp_path):
    app = make_app({"tokens": {"verification_cache": 0}})
    raw, row = indieauth.issue_testing_token(app, owner, CLIENT, ["create"], 3600)
    verify(app, raw)
    revoke_behind_the_contract(str(tmp_path), row)
    verify(app, raw, status=401)


def test_a_revocation_by_another_process_is_refused_at_once(machine):
    a, b, raw, _ = machine
    verify(a, raw)
    verify(b, raw)
    webtest.TestApp(b).post("/revoke", {"token": raw, "client_id": CLIENT})
    verify(a, raw, status=401)
    verify(b, raw, status=401)
    assert webtest.TestApp(a).post("/introspect", {"token": raw}, status=401).json["error"] == "invalid_client"


def test_introspection_sees_another_process_revoke(machine):
    a, b, raw, row = machine
    secret = a.storage.add_resource_server("micropub")
    introspect = lambda app: webtest.TestApp(app).post(  # noqa: E731
        "/introspect", {"token": raw}, headers={"Authorization": f"Bearer {secret}"}).json["active"]
    assert introspect(a) is True
    b.storage.revoke_token(b.storage.find_token(raw))
    assert introspect(a) is False


def test_a_disabled_user_is_refused_at_once_by_every_process(machine, owner):
    a, b, raw, _ = machine
    verify(a, raw)
    b.storage.disable_user(b.storage.get_user("owner"))
    verify(a, raw, status=401)


def test_a_changed_role_is_answered_at_once_by_every_process(machine, owner):
    a, b, raw, _ = machine
    assert "role" not in verify(a, raw).json
    b.storage.create_client(CLIENT, "App", [CLIENT + "cb"])
    client = b.storage.get_client(CLIENT)
    b.storage.set_client_roles(client, ["editor", "viewer"], default_role="viewer")
    assert verify(a, raw).json["role"] == "viewer"
    b.storage.assign_role(b.storage.get_user("owner"), client, "editor")
    assert verify(a, raw).json["role"] == "editor"


def test_a_kept_token_is_never_answered_past_its_expiry(make_app, owner, clock):
    app = make_app({"tokens": {"verification_cache": "1h"}})
    raw, _ = indieauth.issue_testing_token(app, owner, CLIENT, ["create"], 60)
    verify(app, raw)
    clock.advance(seconds=61)
    verify(app, raw, status=401)


def test_without_a_usable_generation_file_nothing_is_kept(make_app, owner, tmp_path):
    (tmp_path / indieauth.GENERATION_FILE).unlink()  # made by the owner fixture's app
    (tmp_path / indieauth.GENERATION_FILE).mkdir()  # cannot be opened as the file
    app = make_app()
    raw, row = indieauth.issue_testing_token(app, owner, CLIENT, ["create"], 3600)
    verify(app, raw)
    revoke_behind_the_contract(str(tmp_path), row)
    verify(app, raw, status=401)


def calls(storage, user, token, code):
    """Each ENDS_TOKENS method, called as the server calls it."""
    storage.create_client("https://other.example/", "Other", ["https://other.example/cb"])
    other = storage.get_client("https://other.example/")
    return {
        "update_user": lambda: storage.update_user(user, name="Changed"),
        "disable_user": lambda: storage.disable_user(user),
        "delete_user": lambda: storage.delete_user(user),
        "revoke_token": lambda: storage.revoke_token(token),
        "revoke_family": lambda: storage.revoke_family(token.family),
        "revoke_tokens_from_code": lambda: storage.revoke_tokens_from_code(code),
        "revoke_tokens": lambda: storage.revoke_tokens(user=user),
        "create_client": lambda: storage.create_client("https://third.example/", "Third", ["https://third.example/cb"]),
        "set_client_roles": lambda: storage.set_client_roles(other, ["editor"]),
        "assign_role": lambda: storage.assign_role(user, other, "editor"),
        "remove_client": lambda: storage.remove_client(other.client_id),
        "revoke_resource_server": lambda: storage.revoke_resource_server("unknown"),
    }


@pytest.mark.parametrize("name", sorted(indieauth.ENDS_TOKENS))
def test_each_method_that_can_end_a_token_drops_what_every_process_kept(machine, owner, clock, name):
    a, b, raw, row = machine
    code = b.storage.find_code(b.storage.create_code(
        60, user=owner, me=owner.me, client_id=CLIENT, redirect_uri=CLIENT + "cb", code_challenge="c" * 43,
        code_challenge_method="S256", scope="create", auth_time=clock()))
    call = calls(b.storage, b.storage.get_user("owner"), b.storage.find_token(raw), code)[name]
    key, generation, _ = a.verified.look(raw)
    a.verified.keep(key, generation, a.storage.find_token(raw))
    assert a.verified.look(raw)[2] is not None
    call()
    assert a.verified.look(raw)[2] is None


def test_a_cli_revocation_is_refused_at_once_by_a_running_server(setup, serve):  # noqa: F811
    """Real processes: `indieauth serve` keeps the token it verified; `indieauth token revoke` ends it."""
    assert setup.run("passwd", stdin="correct horse battery staple\n").returncode == 0
    issued = setup.run("token", "issue", "--client-id", CLIENT, "--scope", "create")
    assert issued.returncode == 0, issued.stderr
    raw = issued.stdout.strip()
    serve(setup.folder, setup.port, "--port", setup.port, config=setup.config)
    answer = lambda: requests.get(setup.base + "token", headers={"Authorization": f"Bearer {raw}"},  # noqa: E731
                                  timeout=5)
    assert answer().json()["client_id"] == CLIENT
    assert answer().status_code == 200  # answered from what the server kept
    revoked = setup.run("token", "revoke", "--all")
    assert revoked.returncode == 0, revoked.stderr
    assert answer().status_code == 401


# -- introspection: the resource server's credential is kept as verified tokens are

def introspect(app, credential, raw, status=200, address="192.0.2.10"):
    web = webtest.TestApp(app, extra_environ={"REMOTE_ADDR": address})
    return web.post("/introspect", {"token": raw}, headers={"Authorization": f"Bearer {credential}"},
                    status=status)


def test_a_resource_servers_credential_is_kept_and_its_revocation_refused_at_once(machine):
    """An introspection needs no query for the credential it checked a moment ago, and `indieauth
    resource-server revoke` (revoke_resource_server) is refused at once by every process of the machine."""
    a, b, raw, _ = machine
    credential = a.storage.add_resource_server("notes")
    assert introspect(a, credential, raw).json["active"] is True
    with a.storage.bound():
        indieauth.ResourceServer.update(revoked_at=indieauth.utcnow()).execute()  # behind the contract
    assert introspect(a, credential, raw).json["active"] is True  # kept: the credential was not asked again
    b.storage.revoke_resource_server("notes")  # another process, through the contract
    assert introspect(a, credential, raw, status=401).json["error"] == "invalid_client"


def test_a_wrong_credential_is_never_kept_and_still_counts_against_the_address(machine):
    a, _, raw, _ = machine
    a.storage.add_resource_server("notes")
    limit = a.config["security"]["address_failures"]
    for _ in range(limit):
        introspect(a, "a guess", raw, status=401)
    assert a.verified.look("resource server a guess")[2] is None
    assert introspect(a, "a guess", raw, status=429).json["error"] == "slow_down"
