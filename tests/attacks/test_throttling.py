"""Every form and endpoint that checks a secret goes through the one throttle, and that throttle cannot be
turned against the owner (issue 15, finding 7 and the informational lock-out finding)."""

import base64

import pyotp
import webtest

import indieauth_totp
from conftest import PASSWORD, sign_in

ATTACKER, OWNER = "198.51.100.7", "203.0.113.20"


def browser(app, address=ATTACKER):
    return webtest.TestApp(app, extra_environ={"REMOTE_ADDR": address})


def slowed_down(response):
    """The refusal: 429 with a Retry-After in seconds; JSON `slow_down` on API endpoints."""
    assert response.status_int == 429 and int(response.headers["Retry-After"]) > 0
    if response.content_type == "application/json":
        assert response.json["error"] == "slow_down"
    return response


def csrf(web):
    return web.get("/login").forms["password-login"]["csrf_token"].value


def change_form(web):
    return next(f for f in web.get("/plugins/password/").forms.values() if "current_password" in f.fields)


def test_wrong_current_passwords_at_the_change_form_are_throttled(app, owner):
    """Finding 7: the change-password form let 12 wrong current passwords through in 0.9 s, never a 429."""
    web = browser(app)
    sign_in(web)
    statuses = []
    for _ in range(12):
        form = change_form(web)
        form["current_password"], form["new_password"], form["new_password_again"] = "wrong guess", "x" * 12, "x" * 12
        statuses.append(form.submit(expect_errors=True))
    assert [r.status_int for r in statuses].count(400) <= app.config["security"]["account_failures"]
    slowed_down(statuses[-1])
    form = change_form(web)  # now even the right one waits
    form["current_password"], form["new_password"], form["new_password_again"] = PASSWORD, "y" * 12, "y" * 12
    slowed_down(form.submit(expect_errors=True))


def test_wrong_authenticator_codes_are_throttled(make_app, owner):
    """Finding 7: TOTP codes go through the same throttle."""
    app = make_app({"plugins": {"password": {}, "totp": {}}})
    user = app.storage.create_user("ann", "https://ann.example/", role="owner")
    secret = pyotp.random_base32()
    indieauth_totp.enable(app, user, secret, step=0)
    web = browser(app)
    responses = []
    for n in range(8):
        form = web.get("/login/totp").forms["totp-login"]
        form["username"], form["code"] = "ann", f"{n:06d}"
        responses.append(form.submit(expect_errors=True))
    slowed_down(responses[-1])


def test_unknown_one_time_links_are_throttled(app, owner):
    """Finding 7: guessing one-time sign-in links (POST /login/once/<token>) is throttled per address."""
    web = browser(app)
    token = csrf(web)
    responses = [web.post(f"/login/once/guess{n}", {"csrf_token": token}, expect_errors=True) for n in range(25)]
    assert responses[0].status_int == 400
    assert "indieauth user link" in slowed_down(responses[-1]).text
    link = app.storage.create_login_link(owner, 3600)  # even a real link waits at this address
    slowed_down(web.post(f"/login/once/{link}", {"csrf_token": token}, expect_errors=True))
    browser(app, OWNER).get(f"/login/once/{link}").forms[0].submit(status=303)  # not elsewhere


def test_unknown_invites_are_throttled(make_app):
    """Finding 7: guessing invite tokens (GET and POST /invite/<token>) is throttled per address."""
    app = make_app({"plugins": {"hosting": {}}})
    web = browser(app)
    token = csrf(web)
    responses = [web.get(f"/invite/guess{n}", expect_errors=True) for n in range(12)]
    responses += [web.post(f"/invite/guess{n}", {"csrf_token": token, "username": f"mallory{n}",
                                                 "profile": "hosted"}, expect_errors=True) for n in range(12)]
    assert responses[0].status_int == 400
    slowed_down(responses[-1])
    invite = app.storage.create_invite("user", 3600)
    slowed_down(web.get(f"/invite/{invite}", expect_errors=True))
    browser(app, OWNER).get(f"/invite/{invite}", status=200)


def basic(client_id, secret):
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def test_wrong_client_secrets_are_throttled(app):
    """Finding 7: a registered app's secret cannot be guessed at without limit: 401 invalid_client, then
    429 slow_down with Retry-After, before the secret is looked at."""
    client_id = app.url("clients/abc/")
    secret = app.storage.create_client(client_id, "Registered App", ["https://registered.example/cb"])
    web = browser(app)
    form = {"grant_type": "refresh_token", "refresh_token": "x", "client_id": client_id}
    responses = [web.post("/token", form, headers=basic(client_id, f"guess{n}"), expect_errors=True)
                 for n in range(25)]
    assert responses[0].status_int == 401 and responses[0].json["error"] == "invalid_client"
    slowed_down(responses[-1])
    slowed_down(web.post("/token", form, headers=basic(client_id, secret), expect_errors=True))
    right = browser(app, OWNER).post("/token", form, headers=basic(client_id, secret), expect_errors=True)
    assert right.json["error"] == "invalid_grant"  # authenticated: only the refresh token is wrong


def test_wrong_resource_server_credentials_are_throttled(app):
    """Finding 7: introspection credentials cannot be guessed at without limit."""
    secret = app.storage.add_resource_server("micropub")
    web = browser(app)
    responses = [web.post("/introspect", {"token": "x"}, headers={"Authorization": f"Bearer guess{n}"},
                          expect_errors=True) for n in range(25)]
    assert responses[0].status_int == 401
    slowed_down(responses[-1])
    answer = browser(app, OWNER).post("/introspect", {"token": "x"}, headers={"Authorization": f"Bearer {secret}"})
    assert answer.json == {"active": False}


def test_six_wrong_passwords_do_not_lock_the_owner_out(app, owner, clock):
    """Lock-out: whoever knows the user name `owner` locked the owner out for 15 minutes with 6 wrong
    passwords.  Now the guessing address is paused, and the owner elsewhere waits a few seconds at most."""
    attacker = browser(app)
    for _ in range(6):
        sign_in(attacker, password="wrong password", status="*")
    refusal = sign_in(attacker, status=429)
    assert "indieauth user link" in refusal.text and int(refusal.headers["Retry-After"]) > 60
    waiting = sign_in(browser(app, OWNER), status=429)  # at the very moment of the last guess
    assert int(waiting.headers["Retry-After"]) <= 5
    clock.advance(seconds=5)
    owner_browser = browser(app, OWNER)
    sign_in(owner_browser)
    assert "Signed in as" in owner_browser.get("/").text
    sign_in(attacker, status=429)


def test_guesses_from_many_addresses_only_slow_the_account_down(app, owner, clock):
    """Lock-out: failures of one account from many addresses pace further attempts at it (a few seconds
    apart) but never pause it; each address keeps its own hard limit."""
    for n in range(30):
        sign_in(browser(app, f"198.51.100.{n}"), password="wrong password", status=400)
        clock.advance(seconds=5)
    owner_browser = browser(app, OWNER)
    sign_in(owner_browser)
    assert "Signed in as" in owner_browser.get("/").text
    for n in range(5):  # the owner's sign-in started the count afresh
        sign_in(browser(app, f"192.0.2.{n}"), password="wrong password", status=400)
    paced = slowed_down(sign_in(browser(app, "192.0.2.99"), password="wrong password", status=429))
    assert int(paced.headers["Retry-After"]) <= 5
