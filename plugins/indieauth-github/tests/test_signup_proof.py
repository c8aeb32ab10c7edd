"""Proving one's own site with GitHub at sign-up (issue #6): RelMeAuth instead of a link to this server.

The fake GitHub and the stand-in website are those of test_github.py.  Bea joins through an invite with
her own site, http://127.0.0.1:PORT/ (a loopback profile URL with a port is accepted because the test
server's base_url is on loopback); the site links to the fake GitHub's /alice with rel="me", that
profile links back, and the site does not name this server, so the invite page offers the proof.
"""

import pytest
import webtest

import indieauth
from test_github import ADDRESS, error, rel_me_page, sign_in, signed_in, via_github
from test_github import clock, github, make_app, servers, site  # noqa: F401 (fixtures)



@pytest.fixture
def app(make_app):
    return make_app(config={"plugins": {"hosting": {}}})


@pytest.fixture
def web(app):
    return webtest.TestApp(app, extra_environ={"REMOTE_ADDR": ADDRESS})


@pytest.fixture
def bea_site(github, site):
    """Bea's site: a rel="me" link to the GitHub account alice, whose profile links back; nothing about
    this server."""
    me = site.url("/", host="127.0.0.1")
    site.pages["/"] = (200, rel_me_page(f"{github.url}/alice"), ())
    github.add("alice", 101, blog=me)
    return me


@pytest.fixture
def link(app):
    return "/invite/" + app.storage.create_invite("user", 3600)


def join(web, link, site, username="bea", status=303):
    """Fill in the invite form with one's own site and press Join."""
    form = web.get(link).forms["invite"]
    form["username"], form["profile"], form["site"] = username, "site", site
    return form.submit(status=status)


def prove(web, link, site, status=303):
    """Join is refused (the site does not name this server); press "Prove it with GitHub"."""
    refused = join(web, link, site, status=400)
    assert "does not name this server" in refused.text
    return refused.forms["prove-github"].submit(status=status)


def user(app, username="bea"):
    return app.storage.get_user(username=username)


def proof_cookie(web):
    return web.cookies.get(indieauth.PROOF_COOKIE)


def exchanges(github):
    return github.requests.count(("POST", "/login/oauth/access_token"))


# -- the whole sign-up ------------------------------------------------------------------------------

def test_an_own_site_proven_with_github_signs_up(app, web, link, bea_site, github):
    refused = join(web, link, bea_site, status=400)
    assert "Prove it with GitHub" in refused.html.select_one("#prove-github").text
    leaving = refused.forms["prove-github"].submit(status=303)
    assert leaving.headers["Location"].startswith(github.url + "/login/oauth/authorize?")
    back = web.get(via_github(leaving), status=303)
    assert back.headers["Location"].startswith(f"http://localhost{link}?")
    assert proof_cookie(web) and not signed_in(web)  # proven, but nobody is signed in by a proof
    page = back.follow()
    assert f"Your site {bea_site} is proven to be yours" in page.html.select_one("[role=status]").text
    form = page.forms["invite"]
    assert (form["username"].value, form["profile"].value, form["site"].value) == ("bea", "site", bea_site)
    form.submit(status=303)
    assert user(app).me == bea_site and signed_in(web)
    assert app.storage.get_credential(user(app), "github") is None  # the proof makes no credential
    proven = [e for e in app.storage.events() if e.kind == "site_proven"]
    assert len(proven) == 1 and '"method": "github"' in proven[0].data


def test_after_signing_up_with_a_proven_site_github_signs_in_as_usual(app, web, link, bea_site):
    web.get(via_github(prove(web, link, bea_site)), status=303).follow().forms["invite"].submit(status=303)
    later = webtest.TestApp(app, extra_environ={"REMOTE_ADDR": ADDRESS})
    sign_in(later, bea_site)
    assert signed_in(later) and "bea" in later.get("/").text
    assert app.storage.get_credential(user(app), "github") == {"login": "alice", "id": 101}


def test_the_proof_is_refused_when_github_signs_in_another_account(app, web, link, bea_site, github):
    github.add("mallory", 666, blog="https://mallory.example/")
    github.sign_in_as = "mallory"
    response = web.get(via_github(prove(web, link, bea_site)), status=403)
    assert f"You are signed in to GitHub as @mallory, but {bea_site} links to the GitHub account @alice" \
        in error(response)
    assert response.html.select_one("a[href^='/invite/']")["href"].startswith(link + "?")  # to try again
    assert proof_cookie(web) is None
    assert "does not name this server" in join(web, link, bea_site, status=400).text
    assert user(app) is None


def test_a_github_profile_that_does_not_link_back_is_refused_on_the_invite_page(app, web, link, bea_site, github):
    github.add("alice", 101, blog="https://elsewhere.example/")
    page = prove(web, link, bea_site, status=400)
    assert f"Your GitHub profile {github.url}/alice does not link back to {bea_site}" \
        in page.html.select_one(".error").text
    assert page.forms["prove-github"]  # offered again, to try once the profile is fixed
    assert ("GET", "/login/oauth/authorize") not in github.requests
    assert proof_cookie(web) is None and user(app) is None


def test_a_site_without_a_rel_me_link_to_github_is_refused_on_the_invite_page(app, web, link, bea_site, site):
    site.pages["/"] = (200, "<!doctype html><p>Bea's site</p>", ())
    page = prove(web, link, bea_site, status=400)
    assert f'Your page {bea_site} has no rel="me" link to a GitHub profile' in page.html.select_one(".error").text


def test_a_proof_is_for_its_own_site_only(app, web, link, bea_site, site):
    other = site.url("/someone-else/", host="127.0.0.1")  # a page that is not Bea's and names no server
    site.pages["/someone-else/"] = (200, "<!doctype html><p>Not Bea's</p>", ())
    page = web.get(via_github(prove(web, link, bea_site)), status=303).follow()
    assert "is proven to be yours" in page.text
    form = page.forms["invite"]
    form["site"] = other
    refused = form.submit(status=400)
    assert "does not name this server" in refused.text and "is proven to be yours" not in refused.text
    assert user(app) is None


def test_a_replayed_answer_from_github_proves_nothing(app, web, link, bea_site, github):
    callback = via_github(prove(web, link, bea_site))
    cookie = web.cookies[indieauth.BROWSER_COOKIE]
    web.get(callback, status=303)
    used = exchanges(github)
    attacker = webtest.TestApp(app, extra_environ={"REMOTE_ADDR": ADDRESS})
    attacker.set_cookie(indieauth.BROWSER_COOKIE, cookie)  # a copy of the browser's cookie and the callback URL
    response = attacker.get(callback, status=400)
    assert "This answer from GitHub was used already" in error(response)
    assert exchanges(github) == used and proof_cookie(attacker) is None
    assert "does not name this server" in join(attacker, link, bea_site, status=400).text
    assert user(app) is None


def test_an_answer_in_a_browser_that_did_not_start_the_proof_proves_nothing(app, web, link, bea_site):
    callback = via_github(prove(web, link, bea_site))
    victim = webtest.TestApp(app, extra_environ={"REMOTE_ADDR": ADDRESS})
    victim.get(callback, status=400)
    assert proof_cookie(victim) is None
    assert "does not name this server" in join(victim, link, bea_site, status=400).text


def test_cancelling_on_github_proves_nothing_and_leads_back_to_the_invite(app, web, link, bea_site, github):
    github.deny = True
    response = web.get(via_github(prove(web, link, bea_site)), status=400)
    assert "You cancelled on GitHub" in error(response) and proof_cookie(web) is None
    back = response.click(href=r"^/invite/")
    assert back.forms["invite"]["site"].value == bea_site


def test_wrong_accounts_while_proving_are_throttled_by_address(make_app, github, bea_site):
    app = make_app(config={"plugins": {"hosting": {}},
                           "security": {"fetch_allow": ["127.0.0.1/32"], "address_failures": 2}})
    link = "/invite/" + app.storage.create_invite("user", 3600)
    web = webtest.TestApp(app, extra_environ={"REMOTE_ADDR": ADDRESS})
    github.add("mallory", 666)
    github.sign_in_as = "mallory"
    for _ in range(2):
        web.get(via_github(prove(web, link, bea_site)), status=403)
    page = web.get(link, status=429)  # the paused address waits, even for its own invite
    assert "Too many failed attempts" in page.text and int(page.headers["Retry-After"]) > 0
    assert ("GET", "/login/oauth/authorize") in github.requests and user(app) is None
