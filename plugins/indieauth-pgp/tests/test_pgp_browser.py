"""Signing in, and proving one's site at sign-up, with a PGP key in headless Chromium, without JavaScript: the server on a real port, the
person's site a FakeServer on 127.0.0.1 that links a key made here.  What the browser sends from the
textarea (lines ending in CR LF) is what the server checks."""

import contextlib

import pysequoia
import pytest

from indieauth import testing


@pytest.fixture
def server(tmp_path):
    """(base URL, Alice's profile URL, her key): a server with Alice, whose site links her key, and Bob."""
    key = pysequoia.Tsk.generate("Alice <alice@alice.test>")
    with contextlib.ExitStack() as stack:
        site = stack.enter_context(testing.FakeServer())
        site.route("/", '<!doctype html><title>Alice</title><link rel="pgpkey" href="/key.asc">')
        site.route("/key.asc", (200, {"Content-Type": "application/pgp-keys"}, str(key.extract_certificate())))
        port = testing.free_port()
        app = testing.make_app({"server": {"base_url": f"http://localhost:{port}/"}, "plugins": {"pgp": {}},
                                "security": {"fetch_allow": ["127.0.0.1/32"]}}, folder=str(tmp_path))
        app.storage.create_user("alice", site.url + "/")
        app.storage.create_user("bob", "https://bob.example/")
        stack.enter_context(testing.serving(app, port))
        yield f"http://localhost:{port}", site.url + "/", key


def test_sign_the_challenge_and_paste_it_to_sign_in(page_factory, server, screenshot):
    base, me, key = server
    page = page_factory(javascript=False)
    page.goto(base + "/login")
    page.fill("#pgp-me", me)
    page.click("#pgp-login button[type=submit]")
    challenge = page.input_value("#pgp-challenge")
    assert page.input_value("#pgp-command") == f"echo '{challenge}' | gpg --clearsign"
    screenshot("login-pgp", page)
    signed = pysequoia.sign(key.signer(), challenge.encode(), mode=pysequoia.SignatureMode.CLEAR).decode()
    page.fill("#pgp-signature", signed)
    page.click("#pgp-login button[type=submit]")
    page.wait_for_url(base + "/")
    assert "Signed in as alice" in page.inner_text("header")


def test_a_wrong_paste_is_said_next_to_the_box(page_factory, server):
    base, me, _ = server
    page = page_factory(javascript=False)
    page.goto(base + "/login")
    page.fill("#pgp-me", me)
    page.click("#pgp-login button[type=submit]")
    page.fill("#pgp-signature", "I signed it, honestly")
    page.click("#pgp-login button[type=submit]")
    assert "not a signed message" in page.inner_text("#pgp-error")
    assert page.get_attribute("#pgp-signature", "aria-invalid") == "true"
    assert "pgp-error" in page.get_attribute("#pgp-signature", "aria-describedby")


def test_prove_a_site_with_its_key_to_join_through_an_invite(page_factory, tmp_path, screenshot):
    key = pysequoia.Tsk.generate("Bea <bea@bea.test>")
    with contextlib.ExitStack() as stack:
        site = stack.enter_context(testing.FakeServer())
        site.route("/", '<!doctype html><title>Bea</title><a rel="pgpkey" href="key.asc">my key</a>')
        site.route("/key.asc", str(key.extract_certificate()))
        port = testing.free_port()
        app = testing.make_app({"server": {"base_url": f"http://localhost:{port}/"},
                                "plugins": {"pgp": {}, "hosting": {}}, "security": {"fetch_allow": ["127.0.0.1/32"]}},
                               folder=str(tmp_path))
        stack.enter_context(testing.serving(app, port))
        page = page_factory(javascript=False, width=360, scheme="dark")
        page.goto(f"http://localhost:{port}/invite/" + app.storage.create_invite("user", 3600))
        page.fill("#username", "bea")
        page.check("#profile-site")
        page.fill("#site", site.url + "/")
        page.click("#invite button[type=submit]")
        page.click("#prove-pgp button")
        challenge = page.input_value("#pgp-challenge")
        screenshot("prove-pgp", page)
        page.fill("#pgp-signature", pysequoia.sign(key.signer(), challenge.encode(),
                                                   mode=pysequoia.SignatureMode.CLEAR).decode())
        page.click("#pgp-prove button[type=submit]")
        assert "is proven to be yours" in page.inner_text("[role=status]")
        page.click("#invite button[type=submit]")
        assert "Signed in as bea" in page.inner_text("header")
