"""The token page, testing tokens from the web UI and the CLI, and the audit log page."""

import json

import pytest
import webtest

import fixed_clients
import indieauth
from conftest import PASSWORD, sign_in
from test_protocol import CLIENT, bearer, get_code, redeem


@pytest.fixture
def app(make_app):
    return make_app(plugins=[fixed_clients])


@pytest.fixture
def signed_in(web, owner):
    sign_in(web)
    return web


def new_token(web, client_id="https://dev.example/", scopes=("create",), extra="", lifetime="1d", status=200):
    form = web.get("/tokens/new").forms["new-token"]
    form["client_id"] = client_id
    for box in form.fields.get("scope", []):
        box.checked = box._value in scopes
    form["extra_scopes"], form["lifetime"] = extra, lifetime
    return form.submit(status=status)


def revoke_via_page(web, form_index_text):
    """Press a revoke button on the token page, then confirm."""
    page = web.get("/tokens")
    form = next(f for f in page.forms.values() if f.action == "/tokens/revoke" and form_index_text(f))
    confirm = form.submit()
    assert "stop working at once" in confirm.text
    return confirm.forms[1].submit(status=303)  # [0] is the sign-out form


def test_token_pages_need_a_signed_in_user(web):
    for path in ("/tokens", "/tokens/new", "/log"):
        assert "/login?next=" in web.get(path, status=303).headers["Location"]


def test_issue_list_revoke_a_testing_token_in_the_browser(signed_in):
    """Done means: issue a testing token, see it listed, revoke it, see the verification GET fail."""
    shown = new_token(signed_in, scopes=("create", "media"), extra="x-custom")
    token = shown.html.select_one("textarea#token").text.strip()
    assert shown.headers["Cache-Control"] == "no-store"
    curl = shown.html.select_one("textarea#curl").text
    assert curl == f'curl -H "Authorization: Bearer {token}" http://localhost/token'
    assert signed_in.get("/token", headers=bearer(token)).json == {
        "me": "https://owner.example/", "client_id": "https://dev.example/", "scope": "create media x-custom",
        "aud": "https://owner.example/"}
    listing = signed_in.get("/tokens")
    assert "https://dev.example/" in listing.text and "testing token" in listing.text
    assert token not in listing.text  # never the token itself, only its fingerprint
    fp = shown.html.select_one("[role=status] code").text
    assert fp in listing.text
    revoke_via_page(signed_in, lambda f: f.get("what").value == "token")
    signed_in.get("/token", headers=bearer(token), status=401)
    assert "https://dev.example/" not in signed_in.get("/tokens").text


def test_copy_button_is_an_enhancement(signed_in):
    shown = new_token(signed_in)
    button = shown.html.select_one("button[data-copy=token]")
    assert button.has_attr("hidden")  # without JavaScript the text is selected by hand
    assert shown.html.select_one('script[src="/static/copy.js"]')


def test_flow_tokens_are_listed_with_their_details(signed_in):
    code, verifier, _ = get_code(signed_in)
    body = redeem(signed_in, code, verifier).json
    signed_in.get("/token", headers=bearer(body["access_token"]))
    page = signed_in.get("/tokens")
    rows = page.html.select("tbody tr")
    assert len(rows) == 2 and "sign-in flow" in page.text and "profile create" in page.text
    assert body["access_token"] not in page.text and body["refresh_token"] not in page.text
    by_kind = {("refresh" if "refresh," in row.text else "access"): row for row in rows}
    assert by_kind["refresh"].select("td")[3].text == "never"  # never used; the access token was
    assert by_kind["access"].select("td")[3].text == "2026-01-01 12:00"


def test_revoke_everything_of_a_client(signed_in):
    first = new_token(signed_in, client_id="https://one.example/").html.select_one("#token").text.strip()
    second = new_token(signed_in, client_id="https://one.example/").html.select_one("#token").text.strip()
    other = new_token(signed_in, client_id="https://two.example/").html.select_one("#token").text.strip()
    response = revoke_via_page(signed_in, lambda f: f.get("target").value == "https://one.example/"
                               and f.get("what").value == "client")
    assert response.headers["Location"].endswith("/tokens?revoked=2")
    signed_in.get("/token", headers=bearer(first), status=401)
    signed_in.get("/token", headers=bearer(second), status=401)
    signed_in.get("/token", headers=bearer(other))


def test_revoke_all(signed_in):
    tokens = [new_token(signed_in, client_id=f"https://{n}.example/").html.select_one("#token").text.strip()
              for n in ("a", "b")]
    revoke_via_page(signed_in, lambda f: f.get("what").value == "all")
    for token in tokens:
        signed_in.get("/token", headers=bearer(token), status=401)


def test_revoke_needs_the_confirmation(signed_in):
    token = new_token(signed_in).html.select_one("#token").text.strip()
    form = next(f for f in signed_in.get("/tokens").forms.values() if f.action == "/tokens/revoke")
    form.submit()  # the confirmation page, not yet the deed
    signed_in.get("/token", headers=bearer(token))


def test_revoke_without_csrf_token_is_refused(signed_in, app):  # SEC21 for the token page
    token = new_token(signed_in).html.select_one("#token").text.strip()
    signed_in.post("/tokens/revoke", {"what": "all", "confirm": "yes"}, status=403)
    signed_in.get("/token", headers=bearer(token))


def test_a_user_cannot_revoke_someone_elses_token(signed_in, app):
    other = app.storage.create_user("bob", "https://bob.example/")
    raw, row = indieauth.issue_testing_token(app, other, "https://x.example/", ["create"], 3600)
    csrf = signed_in.get("/tokens").forms[0]["csrf_token"].value
    signed_in.post("/tokens/revoke", {"what": "token", "target": row.jti, "confirm": "yes", "csrf_token": csrf},
                   status=400)
    signed_in.get("/token", headers=bearer(raw))


@pytest.mark.parametrize("client_id, scopes, lifetime, message", [
    ("not a url", ("create",), "1d", "client_id"),
    ("https://10.0.0.1/", ("create",), "1d", "domain name"),
    ("https://dev.example/", (), "1d", "at least one scope"),
])
def test_testing_token_form_says_what_is_wrong_and_keeps_the_input(signed_in, client_id, scopes, lifetime, message):
    response = new_token(signed_in, client_id=client_id, scopes=scopes, lifetime=lifetime, status=400)
    assert message in response.html.select_one("[role=alert]").text
    assert response.html.select_one("#client_id")["value"] == client_id


def test_testing_token_form_refuses_an_unknown_lifetime(signed_in):
    csrf = signed_in.get("/tokens/new").forms["new-token"]["csrf_token"].value
    response = signed_in.post("/tokens/new", {"csrf_token": csrf, "client_id": "https://dev.example/",
                                              "scope": "create", "lifetime": "99y"}, status=400)
    assert "how long" in response.text


def test_testing_token_lifetime(signed_in, clock):
    token = new_token(signed_in, lifetime="1h").html.select_one("#token").text.strip()
    clock.advance(minutes=59)
    signed_in.get("/token", headers=bearer(token))
    clock.advance(minutes=2)
    signed_in.get("/token", headers=bearer(token), status=401)


def test_remembered_approvals_can_be_forgotten(signed_in, app, owner):
    app.storage.save_grant(owner, CLIENT, "profile")
    page = signed_in.get("/tokens")
    assert CLIENT in page.html.select_one("ul.grants").text
    form = next(f for f in page.forms.values() if f.action == "/tokens/forget")
    form.submit(status=303)
    assert app.storage.get_grant(owner, CLIENT) is None


def test_activity_page_shows_sign_ins_consent_and_tokens(signed_in, app):
    sign_in(webtest.TestApp(app, extra_environ={"REMOTE_ADDR": "198.51.100.4"}), password="wrong password!",
            status=400)
    code, verifier, _ = get_code(signed_in)
    body = redeem(signed_in, code, verifier).json
    signed_in.post("/revoke", {"token": body["access_token"]})
    page = signed_in.get("/log")
    text = page.html.select_one("table.log").text
    for kind in ("login (password)", "login failed", "consent granted", "token issued", "token revoked"):
        assert kind in text, kind
    assert "198.51.100.4" in text and "192.0.2.10" in text and CLIENT in text


def test_activity_page_shows_a_plain_user_only_their_own(app, owner):
    from indieauth_password import set_password
    set_password(app, app.storage.create_user("bob", "https://bob.example/"), PASSWORD)
    owner_web, bob_web = webtest.TestApp(app), webtest.TestApp(app)
    sign_in(owner_web)
    sign_in(bob_web, "bob")
    rows = bob_web.get("/log").html.select("table.log tbody tr")
    assert rows and all("bob" in row.text for row in rows)
    assert any("owner" in row.text for row in owner_web.get("/log").html.select("table.log tbody tr"))


# -- the command line --------------------------------------------------------------------------

def cli(app, capsys, *argv):
    code = indieauth.main(["--config", app.config.path, *argv], app_factory=lambda config, **kw: app)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def configured(app, owner):
    with open(app.config.path, "w") as f:  # main() looks for the file; the factory hands out `app`
        f.write("")
    return app


def test_cli_token_issue_prints_only_the_token(configured, capsys, web):
    code, out, err = cli(configured, capsys, "token", "issue", "--client-id", "https://cli.example/",
                         "--scope", "create update", "--expires", "1h")
    assert code == 0 and len(out.splitlines()) == 1
    token = out.strip()
    assert web.get("/token", headers=bearer(token)).json["scope"] == "create update"


def test_cli_token_list_and_revoke_by_id(configured, capsys, web):
    cli(configured, capsys, "token", "issue", "--client-id", "https://cli.example/", "--scope", "create")
    code, out, _ = cli(configured, capsys, "token", "list", "--json")
    listed = json.loads(out)
    assert code == 0 and listed[0]["client_id"] == "https://cli.example/" and listed[0]["via"] == "testing"
    assert "token" not in listed[0]  # never the token itself
    code, out, _ = cli(configured, capsys, "token", "revoke", listed[0]["id"][:8])
    assert code == 0 and "revoked 1 token" in out
    assert cli(configured, capsys, "token", "list", "--json")[1].strip() == "[]"


def test_cli_token_revoke_client_and_all(configured, capsys):
    for client in ("https://a.example/", "https://a.example/", "https://b.example/"):
        cli(configured, capsys, "token", "issue", "--client-id", client, "--scope", "create")
    assert "revoked 2 tokens" in cli(configured, capsys, "token", "revoke", "--client", "https://a.example/")[1]
    assert "revoked 1 token" in cli(configured, capsys, "token", "revoke", "--all")[1]


@pytest.mark.parametrize("argv, words", [
    (["token", "revoke"], "exactly one"),
    (["token", "revoke", "abcdef", "--all"], "exactly one"),
    (["token", "revoke", "zz"], "no single active token"),
    (["token", "issue", "--client-id", "https://x.example/", "--scope", "create", "--expires", "soon"], "--expires"),
    (["token", "issue", "--client-id", "ftp://x.example/", "--scope", "create"], "https://"),
])
def test_cli_token_misuse_is_exit_2(configured, capsys, argv, words):
    code, out, err = cli(configured, capsys, *argv)
    assert code == 2 and words in err and "Traceback" not in err
