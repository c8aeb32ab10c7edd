"""Two apps in one process each keep to their own database (issue 16, first bug).

Storage owns its database: nothing module-level decides where a query goes, so an app's users,
credentials and sessions are found by that app only, whichever app was made last, on any thread.
"""

import threading

import pytest
import webtest

import indieauth
from indieauth_password import set_password

from conftest import PASSWORD


def two_storages(tmp_path):
    """Two migrated Storage objects on two SQLite files."""
    storages = []
    for name in ("a", "b"):
        storage = indieauth.Storage(indieauth.open_database(f"sqlite:///{name}.db", str(tmp_path)))
        storage.migrate()
        storages.append(storage)
    return storages


def two_apps(tmp_path, clock):
    """Two apps made with make_test_app in two folders, the password and hosting plugins on in both."""
    apps = []
    for name in ("a", "b"):
        folder = tmp_path / name
        folder.mkdir()
        apps.append(indieauth.make_test_app({"plugins": {"password": {}, "hosting": {}}}, folder=str(folder),
                                            clock=clock))
    return apps


def test_a_user_is_found_by_its_own_storage_only(tmp_path):
    """Issue 16: two apps in one process share one database."""
    a, b = two_storages(tmp_path)
    alice = a.create_user("alice", "https://alice.example/")
    bob = b.create_user("bob", "https://bob.example/")
    assert a.get_user("alice").id == alice.id and a.get_user(me="https://alice.example/").id == alice.id
    assert b.get_user("bob").id == bob.id
    assert a.get_user("bob") is None and b.get_user("alice") is None
    assert [u.username for u in a.list_users()] == ["alice"]
    assert [u.username for u in b.list_users()] == ["bob"]
    a.set_credential(alice, "password", {"hash": "a"})
    assert a.get_credential(alice, "password") == {"hash": "a"}
    assert b.get_credential(bob, "password") is None


def test_two_apps_made_with_make_test_app_keep_apart(tmp_path, clock):
    """Issue 16: two apps in one process share one database (the app made first is not shadowed)."""
    a, b = two_apps(tmp_path, clock)
    a.storage.create_user("alice", "https://alice.example/")
    assert a.storage.get_user("alice") is not None
    assert b.storage.get_user("alice") is None
    assert [u.username for u in b.storage.list_users()] == []
    assert a.storage.schema_version() == b.storage.schema_version() == indieauth.SCHEMA_VERSION


def sign_in(web, username, status=303):
    form = web.get("/login").forms["password-login"]
    form["username"], form["password"] = username, PASSWORD
    return form.submit(status=status)


def test_two_apps_on_the_web_interleaved(tmp_path, clock):
    """Issue 16: two apps in one process share one database, through the web."""
    a, b = two_apps(tmp_path, clock)
    set_password(a, a.storage.create_user("alice", "https://alice.example/", role="owner"), PASSWORD)
    set_password(b, b.storage.create_user("bob", "https://bob.example/", role="owner"), PASSWORD)
    web_a = webtest.TestApp(a, extra_environ={"REMOTE_ADDR": "192.0.2.10"})
    web_b = webtest.TestApp(b, extra_environ={"REMOTE_ADDR": "192.0.2.11"})
    sign_in(web_a, "alice")
    sign_in(web_b, "bob")
    sign_in(web_b, "alice", status=400)  # no alice on b
    sign_in(web_a, "bob", status=400)    # nor bob on a
    assert "alice" in web_a.get("/tokens").text
    assert "bob" in web_b.get("/tokens").text
    assert "alice" in web_a.get("/admin/users").text and "bob" not in web_a.get("/admin/users").text
    assert "bob" in web_b.get("/admin/users").text and "alice" not in web_b.get("/admin/users").text
    a.storage.create_client("https://app.example/", "App of a", ["https://app.example/cb"])
    number = a.storage.get_client("https://app.example/").id
    assert "App of a" in web_a.get(f"/admin/clients/{number}").text
    web_b.get(f"/admin/clients/{number}", status=404)  # the admin pages look apps up in their own storage
    kinds_a = [e.kind for e in a.storage.events()]
    kinds_b = [e.kind for e in b.storage.events()]
    assert kinds_a.count("login") == 1 and kinds_b.count("login") == 1


def test_two_apps_on_two_threads_at_once(tmp_path, clock):
    """Issue 16: two apps in one process share one database, from two threads at once."""
    a, b = two_apps(tmp_path, clock)
    rounds = 30
    barrier = threading.Barrier(2)
    found, errors = {}, []

    def work(app, other, name):
        try:
            barrier.wait(timeout=10)
            for i in range(rounds):
                user = app.storage.create_user(f"{name}{i}", f"https://{name}{i}.example/")
                app.storage.set_credential(user, "password", {"round": i})
                barrier.wait(timeout=10)  # both threads between their own calls, every round
                assert app.storage.get_user(f"{name}{i}").id == user.id
                assert app.storage.get_credential(user, "password") == {"round": i}
                assert other.storage.get_user(f"{name}{i}") is None
            found[name] = [u.username for u in app.storage.list_users()]
        except Exception as exc:  # reported below, on the test's thread
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=work, args=(a, b, "a")), threading.Thread(target=work, args=(b, a, "b"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not [e for e in errors if not isinstance(e, threading.BrokenBarrierError)], errors
    assert sorted(found["a"]) == sorted(f"a{i}" for i in range(rounds))
    assert sorted(found["b"]) == sorted(f"b{i}" for i in range(rounds))


def test_models_outside_a_storage_call_fail_loudly(tmp_path):
    """Issue 16: no module-level database to fall back on: a model used outside Storage names the problem."""
    a, b = two_storages(tmp_path)
    a.create_user("alice", "https://alice.example/")
    with pytest.raises(indieauth.UnboundModels, match="outside a Storage method"):
        indieauth.User.select().count()
    with pytest.raises(indieauth.UnboundModels):
        indieauth.db.initialize(a.database)
    with a.bound():
        assert [u.username for u in indieauth.User.select()] == ["alice"]
        with b.bound():
            assert indieauth.User.select().count() == 0
        assert b.get_user("alice") is None and a.get_user("alice") is not None  # each call binds its own
        assert indieauth.User.select().count() == 1  # and the outer binding is back after them
    with pytest.raises(indieauth.UnboundModels):
        indieauth.User.select().count()


def test_a_storage_subclass_binds_its_own_methods_too(tmp_path):
    """Issue 16: a method a subclass adds runs on its own database as Storage's do."""
    class Counting(indieauth.Storage):
        def count_users(self):
            return indieauth.User.select().count()

    a = Counting(indieauth.open_database("sqlite:///a.db", str(tmp_path)))
    a.migrate()
    a.create_user("alice", "https://alice.example/")
    assert a.count_users() == 1
