"""The pgp plugin, tested as a third party would: indieauth.testing, webtest and a real local web server.

The person's site is a FakeServer on 127.0.0.1 reached as http://alice.test:PORT/ (the test resolver sends
every host name to 127.0.0.1, and `[security] fetch_allow` lets the guarded client reach it); the same
server as http://elsewhere.test:PORT/ is another site.  Keys are made in the tests with pysequoia
(Ed25519, a millisecond each) and sign as `gpg --clearsign` does; one test signs with the real gpg.
"""

import datetime
import os
import re
import shutil
import subprocess

import pysequoia
import pytest
import webtest
from pysequoia.packet import PacketPile

import indieauth
from indieauth import testing

ADDRESS = "192.0.2.20"


# -- keys, made once for the module ----------------------------------------------------------------

def new_key(name="Alice <alice@alice.test>", **options):
    return pysequoia.Tsk.generate(name, **options)


@pytest.fixture(scope="module")
def alice_key():
    return new_key()


@pytest.fixture(scope="module")
def mallory_key():
    return new_key("Mallory <mallory@example.com>")


def public(key):
    return str(key.extract_certificate())


def sign(key, text):
    """What `gpg --clearsign` prints for `text`, signed by `key`."""
    return pysequoia.sign(key.signer(), (text + "\n").encode(), mode=pysequoia.SignatureMode.CLEAR).decode()


def revoked(key):
    """The public key of `key` with a revocation of itself added (what `gpg --import REVOCATION` makes)."""
    cert = key.extract_certificate()
    packets = list(PacketPile.from_bytes(bytes(cert)))
    revocation = list(PacketPile.from_bytes(bytes(cert.revoke(key.certifier()))))
    return str(pysequoia.Cert.from_packets(packets[:1] + revocation + packets[1:]))


# -- the person's site -----------------------------------------------------------------------------

def home(*links):
    return "<!doctype html><title>Alice</title>" + "".join(links)


class Site:
    """The person's site: `pages[path] = (status, headers, body)`; `requests` lists (host, path)."""

    def __init__(self):
        self.pages, self.requests = {}, []
        self.fake = testing.FakeServer()
        self.fake.route("/*", self.handle, method="*")
        self.stop = self.fake.stop

    def url(self, path="/", host="alice.test"):
        return self.fake.url_for(path, host)

    def handle(self, request):
        self.requests.append((request.host.split(":")[0], request.path))
        return self.pages.get(request.path, (404, {}, "<h1>Not here</h1>"))

    def publish(self, key_text, link='<link rel="pgpkey" href="/key.asc">', path="/key.asc"):
        self.pages["/"] = (200, {}, home(link))
        self.pages[path] = (200, {"Content-Type": "application/pgp-keys"}, key_text)


@pytest.fixture(scope="module")
def server():
    site = Site()
    yield site
    site.stop()


@pytest.fixture
def site(server, alice_key):
    server.pages, server.requests = {}, []
    server.publish(public(alice_key))
    return server


# -- the app and a person --------------------------------------------------------------------------

@pytest.fixture
def clock():
    """The app's clock, starting now: signatures carry the real time, which the plugin compares with it."""
    return testing.Clock(datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None, microsecond=0))


@pytest.fixture
def make_app(tmp_path, clock):
    def make(pgp=None, **tables):
        config = {"plugins": {"pgp": pgp or {}}, "security": {"fetch_allow": ["127.0.0.1/32"]}}
        for name, table in tables.items():
            config.setdefault(name, {}).update(table)
        return testing.make_app(config, folder=str(tmp_path), clock=clock, resolver=lambda host, port: ["127.0.0.1"])
    return make


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def web(app):
    return webtest.TestApp(app, extra_environ={"REMOTE_ADDR": ADDRESS})


@pytest.fixture
def alice(app, site):
    app.storage.create_user("bob", "https://bob.example/")  # two users: the form asks for the profile URL
    return app.storage.create_user("alice", site.url("/"))


def challenge_page(web, me, path="/login", status=303):
    """Type `me` into the PGP form and ask for a challenge; the page that shows it (or the refusal)."""
    form = web.get(path).forms["pgp-login"]
    form["me"] = me
    answer = form.submit(status=status)
    return answer.follow() if status == 303 else answer


def challenge(page):
    return page.html.select_one("#pgp-challenge").text


def answer(page, signed, status=303, form="pgp-login"):
    form = page.forms[form]
    form["signature"] = signed
    return form.submit(status=status)


def sign_in(web, me, key, status=303):
    page = challenge_page(web, me)
    return answer(page, sign(key, challenge(page)), status)


def error(response):
    return " ".join(response.html.select_one("#pgp-error").text.split())


def signed_in(web):
    return "Signed in as" in web.get("/").text


def failures(app):
    return [e for e in app.storage.events() if e.kind == "login_failed"]


# -- signing in ------------------------------------------------------------------------------------

def test_a_good_signature_signs_in_through_an_authorization_request_to_a_code(web, alice, alice_key):
    consent_url, verifier = testing.start_authorization(web)
    login_url = web.get(consent_url, status=303).headers["Location"]
    page = challenge_page(web, alice.me, path=login_url)
    back = answer(page, sign(alice_key, challenge(page)))
    assert back.headers["Location"] == "http://localhost" + consent_url
    tokens = testing.redeem(web, testing.approve(web, consent_url), verifier)
    assert tokens["me"] == alice.me and tokens["access_token"]


def test_the_challenge_names_the_site_and_this_server_and_shows_the_gpg_command(web, alice, alice_key):
    page = challenge_page(web, alice.me)
    text = challenge(page)
    assert re.fullmatch(rf"Sign in to http://localhost/ as {re.escape(alice.me)}: [A-Za-z0-9_-]{{20}}", text)
    assert page.html.select_one("#pgp-command").text == f"echo '{text}' | gpg --clearsign"
    assert page.html.select_one("label[for=pgp-signature]") and page.html.select_one("label[for=pgp-challenge]")
    assert "".join(alice_key.extract_certificate().fingerprint.upper().split()) in \
        page.html.select_one("#pgp-key code").text.replace(" ", "")
    assert challenge(challenge_page(web, alice.me)) != text  # every challenge is new


def test_a_sign_in_is_recorded_with_the_method_and_the_key_is_remembered(web, alice, alice_key, app):
    sign_in(web, alice.me, alice_key)
    assert signed_in(web)
    event = app.storage.events(1)[0]
    assert event.kind == "login" and '"method": "pgp"' in event.data
    assert app.storage.get_credential(alice, "pgp") == {"fingerprint": alice_key.extract_certificate().fingerprint,
                                                        "key_url": alice.me + "key.asc"}


@pytest.fixture
def gpg(tmp_path):
    """gpg(*args, input=None) -> what the real gpg prints, with a keyring of its own; its agent is stopped after."""
    gpg = shutil.which("gpg")
    if gpg is None:
        indieauth.testing._missing("gpg is not installed (Debian's gnupg package)")  # fails under CI
    env = dict(os.environ, GNUPGHOME=str(tmp_path / "gnupg"))
    os.mkdir(env["GNUPGHOME"], 0o700)
    yield lambda *args, **kw: subprocess.run([gpg, "--batch", "--quiet", *args], env=env, check=True,
                                             capture_output=True, **kw).stdout
    subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=env, check=False, capture_output=True)


def test_what_real_gpg_clearsign_prints_signs_in(web, alice, site, gpg):
    gpg("--passphrase", "", "--quick-gen-key", "Alice <alice@alice.test>", "ed25519", "sign", "1d")
    site.publish(gpg("--armor", "--export", "alice@alice.test").decode())
    page = challenge_page(web, alice.me)
    signed = gpg("--clearsign", input=(challenge(page) + "\n").encode()).decode()
    answer(page, signed.replace("\n", "\r\n"))  # a browser sends a textarea's lines with CR LF
    assert signed_in(web)


def test_a_one_user_server_asks_for_no_profile_url(web, app, site, alice_key):
    me = site.url("/")
    app.storage.create_user("alice", me)
    form = web.get("/login").forms["pgp-login"]
    assert form["me"].value == me and form.html.select_one("#pgp-me").has_attr("hidden")
    page = form.submit(status=303).follow()
    answer(page, sign(alice_key, challenge(page)))
    assert signed_in(web)


def test_a_profile_url_typed_without_https_is_found(web, app):
    app.storage.create_user("bob", "https://bob.test/")
    page = challenge_page(web, "BOB.test", status=502)  # nothing listens on port 443 here
    assert "Your site https://bob.test/ could not be read" in error(page)


def test_an_unknown_profile_url_is_refused_and_counted(web, alice, app):
    page = challenge_page(web, "https://nobody.example/", status=400)
    assert "There is no account here with the profile URL https://nobody.example/" in error(page)
    assert page.forms["pgp-login"]["me"].value == "https://nobody.example/"
    assert app.storage.failures_since("address:" + ADDRESS, app.now() - datetime.timedelta(minutes=1))[0] == 1


# -- what is refused -------------------------------------------------------------------------------

def test_a_signature_by_another_key_is_refused(web, alice, mallory_key, app):
    page = challenge_page(web, alice.me)
    refused = answer(page, sign(mallory_key, challenge(page)), status=400)
    assert "This was signed with another key" in error(refused) and "not the key your site links to" in error(refused)
    assert not signed_in(web) and failures(app)
    assert challenge(refused) == challenge(page)  # the same challenge, to sign again with the right key


def test_a_replayed_challenge_is_refused(web, app, alice, alice_key):
    page = challenge_page(web, alice.me)
    signed = sign(alice_key, challenge(page))
    answer(page, signed)
    web.post("/logout", {"csrf_token": web.get("/").forms[0]["csrf_token"].value}, status=303)
    assert not signed_in(web)
    replayed = answer(page, signed, status=400)
    assert "This challenge has been used already" in error(replayed) and not signed_in(web)
    assert replayed.forms["pgp-login"]["me"].value == alice.me  # back at the first step, for a new one
    elsewhere = webtest.TestApp(app, extra_environ={"REMOTE_ADDR": ADDRESS})  # the page and signature elsewhere
    form = elsewhere.get("/login").forms["pgp-login"]
    response = elsewhere.post("/login/pgp", {"csrf_token": form["csrf_token"].value, "next": "/",
                                             "challenge": page.forms["pgp-login"]["challenge"].value,
                                             "signature": signed}, status=400)
    assert "This challenge was given to another browser" in error(response) and not signed_in(elsewhere)


def test_a_challenge_given_to_another_browser_is_refused_before_it_is_used(web, app, alice, alice_key):
    page = challenge_page(web, alice.me)
    elsewhere = webtest.TestApp(app, extra_environ={"REMOTE_ADDR": ADDRESS})
    form = elsewhere.get("/login").forms["pgp-login"]
    response = elsewhere.post("/login/pgp", {"csrf_token": form["csrf_token"].value, "next": "/",
                                             "challenge": page.forms["pgp-login"]["challenge"].value,
                                             "signature": sign(alice_key, challenge(page))}, status=400)
    assert "This challenge was given to another browser" in error(response) and not signed_in(elsewhere)
    answer(page, sign(alice_key, challenge(page)))  # still good in the browser it was given to
    assert signed_in(web)


def test_a_signature_over_other_text_is_refused(web, alice, alice_key):
    page = challenge_page(web, alice.me)
    refused = answer(page, sign(alice_key, challenge(page) + " and more"), status=400)
    assert "The signed text is not this challenge" in error(refused) and not signed_in(web)
    other = challenge_page(web, alice.me)  # a good signature of another challenge of the same person
    refused = answer(page, sign(alice_key, challenge(other)), status=400)
    assert "The signed text is not this challenge" in error(refused) and not signed_in(web)


def test_a_tampered_signature_is_refused(web, alice, alice_key):
    page = challenge_page(web, alice.me)
    text = challenge(page)
    signed = sign(alice_key, text)
    changed = text[:-1] + ("A" if text[-1] != "A" else "B")
    refused = answer(page, signed.replace(text, changed), status=400)
    assert "The signature is not valid for the key your site links to" in error(refused)
    lines = signed.splitlines()
    body = lines.index("-----BEGIN PGP SIGNATURE-----") + 2  # a byte of the signature itself
    lines[body] = lines[body][:20] + ("A" if lines[body][20] != "A" else "B") + lines[body][21:]
    refused = answer(page, "\n".join(lines), status=400)
    assert "not valid" in error(refused) or "not a signed message" in error(refused)
    assert not signed_in(web)


@pytest.mark.parametrize("pasted", [
    "hello", "\x00\xff garbage \ufffd", "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\nx\n"
    "-----BEGIN PGP SIGNATURE-----\n\n!!!!\n-----END PGP SIGNATURE-----\n",
    "-----BEGIN PGP SIGNED MESSAGE-----\n-----END PGP SIGNATURE-----", "x" * 100_000])
def test_garbage_gets_a_clear_message_never_a_500(web, alice, pasted):
    page = challenge_page(web, alice.me)
    refused = answer(page, pasted, status=400)
    assert "not a signed message" in error(refused) or "not valid" in error(refused)


def test_an_empty_paste_asks_for_the_signature(web, alice):
    refused = answer(challenge_page(web, alice.me), "  \n", status=400)
    assert "Paste the signed challenge" in error(refused)


def test_an_expired_key_is_refused(web, alice, site, clock):
    key = new_key(validity_seconds=120)  # made a minute in the past, so it expires a minute from now
    site.publish(public(key))
    clock.advance(minutes=2)  # on the app's clock it has expired; it still signs, on this computer's
    page = challenge_page(web, alice.me)
    refused = answer(page, sign(key, challenge(page)), status=400)
    assert "expired on" in error(refused) and not signed_in(web)


def test_a_revoked_key_is_refused(web, alice, alice_key, site):
    site.publish(revoked(alice_key))
    page = challenge_page(web, alice.me)
    refused = answer(page, sign(alice_key, challenge(page)), status=400)
    assert "has been revoked" in error(refused) and not signed_in(web)


def test_an_expired_challenge_is_refused(web, alice, alice_key, clock):
    page = challenge_page(web, alice.me)
    clock.advance(minutes=6)
    refused = answer(page, sign(alice_key, challenge(page)), status=400)
    assert "This challenge has expired" in error(refused) and not signed_in(web)


def test_a_signature_dated_before_the_challenge_is_refused(web, alice, alice_key, clock):
    clock.advance(minutes=20)  # as if this computer's clock (and so the signature's date) were 20 minutes slow
    page = challenge_page(web, alice.me)
    refused = answer(page, sign(alice_key, challenge(page)), status=400)
    assert "before this challenge was made" in error(refused)


# -- where the key comes from ----------------------------------------------------------------------

def test_a_site_without_rel_pgpkey_is_told_how_to_link_a_key(web, alice, site):
    site.pages["/"] = (200, {}, home('<a href="/key.asc">my key</a>'))
    page = challenge_page(web, alice.me, status=400)
    assert f"Your site {alice.me} does not link a PGP key" in error(page)
    assert '<link rel="pgpkey" href="/key.asc">' in error(page)


def test_a_key_on_another_site_is_refused(web, alice, alice_key, site):
    site.publish(public(alice_key), f'<a rel="pgpkey" href="{site.url("/key.asc", host="elsewhere.test")}">key</a>')
    page = challenge_page(web, alice.me, status=400)
    assert "which is not on your site" in error(page)
    assert ("elsewhere.test", "/key.asc") not in site.requests


def test_a_key_that_redirects_to_another_site_is_refused(web, alice, alice_key, site):
    site.publish(public(alice_key), path="/elsewhere.asc")
    site.pages["/key.asc"] = (302, {"Location": site.url("/elsewhere.asc", host="elsewhere.test")}, "")
    page = challenge_page(web, alice.me, status=502)
    assert "redirects to another site" in error(page)
    assert ("elsewhere.test", "/elsewhere.asc") not in site.requests


def test_a_relative_link_in_a_link_header_or_through_a_redirect_on_the_site_works(web, alice, alice_key, site):
    site.publish(public(alice_key), '<base href="/about/"><a rel="me pgpkey" href="../keys/alice.asc">key</a>',
                 path="/keys/alice.asc")
    sign_in(web, alice.me, alice_key)
    assert signed_in(web)
    site.pages["/"] = (200, {"Link": '</moved.asc>; rel="pgpkey"'}, home())
    site.pages["/moved.asc"] = (301, {"Location": "/keys/alice.asc"}, "")
    assert re.search(r"/keys/alice\.asc", str(challenge_page(web, alice.me).html.select_one("#pgp-key")))


def test_a_pgpkey_link_that_is_also_authn_is_preferred(web, alice, alice_key, site):
    site.publish(public(alice_key), '<link rel="pgpkey" href="/old.asc"><a rel="pgpkey authn" href="/key.asc">key</a>')
    assert "/key.asc" in challenge_page(web, alice.me).html.select_one("#pgp-key a")["href"]


@pytest.mark.parametrize("content, message", [
    ("<!doctype html><p>my key</p>", "is not an OpenPGP public key"),
    ("secret", "holds a SECRET key"),
    ("two", "holds 2 keys"),
])
def test_a_file_that_is_not_one_public_key_is_refused(web, alice, alice_key, mallory_key, site, content, message):
    content = {"secret": str(alice_key), "two": public(alice_key) + "\n" + public(mallory_key)}.get(content, content)
    site.publish(content)
    assert message in error(challenge_page(web, alice.me, status=400))


def test_the_key_is_kept_a_short_while_then_fetched_again(web, alice, alice_key, mallory_key, site, clock):
    sign_in(web, alice.me, alice_key)
    assert site.requests.count(("alice.test", "/key.asc")) == 1  # one fetch for the challenge and its answer
    site.publish(public(mallory_key))  # the site now links another key
    web.reset()
    page = challenge_page(web, alice.me)
    assert site.requests.count(("alice.test", "/key.asc")) == 1
    clock.advance(minutes=3)  # past key_cache (2 minutes)
    page = challenge_page(web, alice.me)
    assert site.requests.count(("alice.test", "/key.asc")) == 2
    refused = answer(page, sign(alice_key, challenge(page)), status=400)
    assert "signed with another key" in error(refused)


# -- throttling ------------------------------------------------------------------------------------

def test_repeated_failures_are_throttled(make_app, site, mallory_key, alice_key):
    app = make_app(security={"account_failures": 2})
    app.storage.create_user("bob", "https://bob.example/")
    me = app.storage.create_user("alice", site.url("/")).me
    web = webtest.TestApp(app, extra_environ={"REMOTE_ADDR": ADDRESS})
    page = challenge_page(web, me)
    for _ in range(2):
        answer(page, sign(mallory_key, challenge(page)), status=400)
    refused = answer(page, sign(alice_key, challenge(page)), status=429)  # even the right key waits now
    assert "Too many failed attempts" in error(refused) and int(refused.headers["Retry-After"]) > 0
    assert not signed_in(web)
    assert "Too many failed attempts" in error(challenge_page(web, me, status=429))  # and gets no new challenge


# -- as a second factor ----------------------------------------------------------------------------

def test_after_a_password_the_key_of_the_users_site_is_asked_for(make_app, site, alice_key, mallory_key):
    from indieauth_password import set_password
    app = make_app(plugins={"password": {}}, auth={"methods": ["password+pgp"]})
    alice = app.storage.create_user("alice", site.url("/"))
    app.storage.create_user("bob", "https://bob.example/")
    set_password(app, alice, "a long enough password")
    web = webtest.TestApp(app, extra_environ={"REMOTE_ADDR": ADDRESS})
    form = web.get("/login").forms["password-login"]
    form["username"], form["password"] = "alice", "a long enough password"
    step = form.submit(status=303).follow()
    assert "Confirm that it is you with the PGP key that" in step.text and "pgp-me" not in step.text
    page = step.forms["pgp-login"].submit(status=303).follow()
    refused = answer(page, sign(mallory_key, challenge(page)), status=400)
    assert "signed with another key" in error(refused) and not signed_in(web)
    answer(refused, sign(alice_key, challenge(page)))
    assert signed_in(web)


# -- proving a site at sign-up (the hosting plugin's invites) --------------------------------------

@pytest.fixture
def hosting(make_app):
    app = make_app(plugins={"hosting": {}})
    return app, webtest.TestApp(app, extra_environ={"REMOTE_ADDR": ADDRESS}), \
        "/invite/" + app.storage.create_invite("user", 3600)


def prove(web, link, me, status=303):
    """Join with one's own site, which does not name this server; press "Prove it with PGP key"."""
    form = web.get(link).forms["invite"]
    form["username"], form["profile"], form["site"] = "bea", "site", me
    refused = form.submit(status=400)
    assert "does not name this server" in refused.text
    return refused.forms["prove-pgp"].submit(status=status)


def test_a_site_proven_with_its_key_signs_up(hosting, site, alice_key):
    app, web, link = hosting
    me = site.url("/", host="127.0.0.1")
    leaving = prove(web, link, me)
    assert leaving.headers["Location"].startswith("http://localhost/login/pgp/prove?challenge=")
    page = leaving.follow()
    assert challenge(page).startswith(f"Prove my site to http://localhost/ as {me}: ")
    back = answer(page, sign(alice_key, challenge(page)), form="pgp-prove")
    assert back.headers["Location"].startswith(f"http://localhost{link}?")
    assert web.cookies.get(indieauth.PROOF_COOKIE)
    joined = back.follow()
    assert f"Your site {me} is proven to be yours" in joined.html.select_one("[role=status]").text
    joined.forms["invite"].submit(status=303)
    assert app.storage.get_user(username="bea").me == me and signed_in(web)


def test_a_replayed_proof_proves_nothing_in_another_browser(hosting, site, alice_key):
    app, web, link = hosting
    page = prove(web, link, site.url("/", host="127.0.0.1")).follow()
    signed = sign(alice_key, challenge(page))
    answer(page, signed, form="pgp-prove")
    other = webtest.TestApp(app, extra_environ={"REMOTE_ADDR": ADDRESS})
    other.set_cookie(indieauth.BROWSER_COOKIE, web.cookies[indieauth.BROWSER_COOKIE])  # even with its cookie
    form = other.get(page.request.path_qs).forms["pgp-prove"]
    form["signature"] = signed
    assert "This challenge has been used already" in error(form.submit(status=400))
    assert other.cookies.get(indieauth.PROOF_COOKIE) is None


def test_a_proof_signed_by_another_key_proves_nothing(hosting, site, mallory_key):
    app, web, link = hosting
    page = prove(web, link, site.url("/", host="127.0.0.1")).follow()
    refused = answer(page, sign(mallory_key, challenge(page)), status=400, form="pgp-prove")
    assert "signed with another key" in error(refused) and challenge(refused) == challenge(page)
    assert refused.html.select_one("a[href^='/invite/']")["href"].startswith(link + "?")
    assert web.cookies.get(indieauth.PROOF_COOKIE) is None
    assert [e.kind for e in app.storage.events(1)] == ["site_proof_failed"]
    assert site.url("/", host="127.0.0.1") in app.storage.events(1)[0].data


def test_an_expired_or_made_up_proof_challenge_says_so_and_leads_back(hosting, site, alice_key, clock):
    app, web, link = hosting
    page = prove(web, link, site.url("/", host="127.0.0.1")).follow()
    clock.advance(minutes=6)
    refused = answer(page, sign(alice_key, challenge(page)), status=400, form="pgp-prove")
    assert "This challenge has expired" in error(refused) and "pgp-prove" not in refused.forms
    assert "Open your invite link again" in refused.text
    assert "This challenge has expired" in error(web.get("/login/pgp/prove?challenge=made-up"))
    web.get("/login/pgp/prove", status=404)
    assert web.cookies.get(indieauth.PROOF_COOKIE) is None


def test_a_made_up_challenge_on_the_login_page_is_no_error(web, alice):
    page = web.get("/login/pgp?challenge=" + "x" * 5000)
    assert "This challenge has expired" in error(page) and page.forms["pgp-login"]["me"].value == ""


def test_a_proof_is_refused_on_the_invite_page_when_the_site_links_no_key(hosting, site):
    app, web, link = hosting
    site.pages["/"] = (200, {}, home())
    page = prove(web, link, site.url("/", host="127.0.0.1"), status=400)
    assert "does not link a PGP key" in page.html.select_one(".error").text
    assert web.cookies.get(indieauth.PROOF_COOKIE) is None


def test_a_sign_in_challenge_proves_no_site(hosting, site, alice_key):
    app, web, link = hosting
    me = site.url("/", host="127.0.0.1")
    app.storage.create_user("alice", me)
    app.storage.create_user("bob", "https://bob.example/")
    page = challenge_page(web, me)
    form = web.get(prove(web, link, me).headers["Location"]).forms["pgp-prove"]
    form["challenge"] = page.forms["pgp-login"]["challenge"].value  # a sign-in challenge, sent to the proof
    form["signature"] = sign(alice_key, challenge(page))
    form.submit(status=400)
    assert web.cookies.get(indieauth.PROOF_COOKIE) is None


# -- configuration ---------------------------------------------------------------------------------

@pytest.mark.parametrize("table, message", [
    ({"challenge_lifetime": "1h"}, "[plugins.pgp] challenge_lifetime: expected 60 seconds to 15 minutes"),
    ({"key_cache": "1h"}, "[plugins.pgp] key_cache: expected 0 seconds to 10 minutes"),
    ({"colour": "blue"}, "colour"),
])
def test_a_setting_out_of_range_is_a_configuration_error(make_app, table, message):
    with pytest.raises(indieauth.ConfigError, match=re.escape(message)):
        make_app(pgp=table)
