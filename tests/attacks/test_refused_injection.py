"""Header injection, path traversal and malformed requests: refused cleanly, never a 500, never a
header or a file the attacker chose."""

import urllib.parse

import pytest

from conftest import PASSWORD

from .conftest import CLIENT, REDIRECT, auth_query, code_for, query_of, redeem

CRLF = "\r\nSet-Cookie: injected=1\r\nX-Injected: 1"


def assert_no_injected_header(response):
    assert "X-Injected" not in response.headers and "injected" not in response.headers.get("Set-Cookie", "")
    for name, value in response.headerlist:
        assert "\r" not in value and "\n" not in value, (name, value)


# -- header injection

def test_crlf_in_redirect_uri_is_refused(web):
    """Header injection through redirect_uri: a CR/LF in it is refused with a page, no Location at all."""
    response = web.get(auth_query(redirect_uri=REDIRECT + CRLF), status=400)
    assert "Location" not in response.headers
    assert_no_injected_header(response)


def test_crlf_in_state_is_not_echoed_into_a_header(web):
    """Header injection through state: refused, and the error redirect carries no raw CR/LF."""
    response = web.get(auth_query(state="x" + CRLF), status=302)
    assert_no_injected_header(response)
    assert query_of(response.headers["Location"])["error"] == "invalid_request"


def test_crlf_in_request_id_is_not_echoed(web):
    """Header injection through X-Request-Id: an id that is not alphanumeric is replaced, not echoed."""
    response = web.get("/", headers={"X-Request-Id": "abc" + CRLF.replace("\r\n", "%0d%0a")})
    assert_no_injected_header(response)
    assert "abc" not in response.headers["X-Request-Id"]


def test_request_id_with_newline_in_environ_is_not_echoed(web):
    """Header injection through X-Request-Id as a server might pass it on (raw CR/LF in the environ)."""
    response = web.get("/", extra_environ={"HTTP_X_REQUEST_ID": "abc" + CRLF})
    assert_no_injected_header(response)
    assert "abc" not in response.headers["X-Request-Id"]


@pytest.mark.parametrize("next_url", ["/%0d%0aSet-Cookie:%20injected=1", "/\r\nX-Injected: 1", "/%0aX-Injected:%201"],
                         ids=["encoded-crlf", "raw-crlf", "encoded-lf"])
def test_crlf_in_next_is_not_echoed_after_sign_in(web, owner, next_url):
    """Header injection through ?next= after signing in: the Location carries no raw CR/LF."""
    page = web.get("/login?next=" + urllib.parse.quote(next_url, safe="/%:"))
    form = page.forms["password-login"]
    form["username"], form["password"] = "owner", PASSWORD
    response = form.submit(status=303)
    assert_no_injected_header(response)
    assert response.headers["Location"].startswith("http://localhost/")


def test_crlf_in_basic_credentials_is_refused(web):
    """Header injection through HTTP Basic client credentials: refused as malformed, no header echoed."""
    response = web.post("/token", {"grant_type": "authorization_code", "code": "x"},
                        headers={"Authorization": "Basic !!!\r\nX-Injected: 1"}, expect_errors=True)
    assert response.status_int in (400, 401) and "access_token" not in response.text
    assert_no_injected_header(response)


# -- path traversal

@pytest.mark.parametrize("path", [
    "/static/../indieauth.py",
    "/static/%2e%2e/indieauth.py",
    "/static/..%2findieauth.py",
    "/static/%2e%2e%2f%2e%2e%2fsetup.cfg",
    "/static/....//indieauth.py",
    "/static//etc/passwd",
    "/static/%2fetc%2fpasswd",
    "/static/..\\indieauth.py",
    "/static/../views/base.tpl",
    "/static/%252e%252e/indieauth.py",
], ids=["dot-dot", "encoded-dots", "encoded-slash", "two-levels", "dots-doubled", "absolute", "encoded-absolute",
        "backslash", "template", "double-encoded"])
def test_static_path_traversal_is_refused(web, path):
    """Path traversal out of /static: never the source, a template or a system file."""
    response = web.get(path, expect_errors=True)
    assert response.status_int in (400, 403, 404)
    assert b"import" not in response.body and b"root:" not in response.body and b"rebase" not in response.body


@pytest.mark.parametrize("path", ["/login/..%2f..%2fviews%2fbase", "/login/../../indieauth", "/u/..%2fadmin/edit",
                                  "/login/%2e%2e", "/plugins/password/..%2f..%2findieauth.py"],
                         ids=["login-template", "login-dots", "profile-dots", "login-encoded-dot-dot",
                              "plugin-dots"])
def test_template_and_route_traversal_is_refused(web, path):
    """Traversal through route arguments that name templates or users: nothing but a 4xx."""
    response = web.get(path, expect_errors=True)
    assert 400 <= response.status_int < 500
    assert b"import " not in response.body and b"% rebase" not in response.body


# -- oversized and malformed requests

def test_huge_form_is_refused_without_a_500(signed_in):
    """A 2 MB form to /token: refused as an invalid request, never a 500 and never a token."""
    response = signed_in.post("/token", {"grant_type": "authorization_code", "code": "c" * 2_000_000,
                                         "client_id": CLIENT, "redirect_uri": REDIRECT}, expect_errors=True)
    assert 400 <= response.status_int < 500 and "access_token" not in response.text


def test_many_parameters_are_refused_without_a_500(web):
    """Ten thousand parameters to /auth: a 4xx page, never a 500."""
    query = auth_query() + "&" + "&".join(f"p{i}=x" for i in range(10_000))
    assert web.get(query, expect_errors=True).status_int < 500


@pytest.mark.parametrize("path, body", [
    ("/token", b"grant_type=authorization_code&code=%ff%fe&client_id=x&redirect_uri=y"),
    ("/revoke", b"token=%c3%28"),
    ("/introspect", b"token=%80"),
    ("/par", b"client_id=%ff"),
    ("/auth", b"code=%ff&client_id=x&redirect_uri=y"),
], ids=["token", "revoke", "introspect", "par", "auth-post"])
def test_invalid_utf8_form_is_a_client_error(web, path, body):
    """Invalid UTF-8 in a form: a 4xx JSON error, never a 500."""
    response = web.post(path, body, content_type="application/x-www-form-urlencoded", expect_errors=True)
    assert 400 <= response.status_int < 500 and "access_token" not in response.text


def test_invalid_utf8_query_at_auth_is_a_page(web):
    """Invalid UTF-8 in the authorization request: a page, never a redirect or a 500."""
    response = web.get(auth_query() + "&state=%ff%fe", status=400)
    assert "Location" not in response.headers


def test_invalid_utf8_in_the_sign_in_form_is_refused(web, owner):
    """Invalid UTF-8 in the sign-in form: no session, no 500."""
    page = web.get("/login")
    token = page.forms["password-login"]["csrf_token"].value
    response = web.post("/login/password", f"csrf_token={token}&username=%ff%fe&password=%80".encode(),
                        content_type="application/x-www-form-urlencoded", expect_errors=True)
    assert 400 <= response.status_int < 500 and "indieauth_session" not in response.headers.get("Set-Cookie", "")


@pytest.mark.parametrize("name", ["client_id", "redirect_uri", "state", "code_challenge"])
def test_repeated_authorization_parameter_is_refused(web, name):
    """Parameter pollution at /auth: a repeated parameter is an error page, never a redirect (SEC56)."""
    response = web.get(auth_query() + "&" + urllib.parse.urlencode({name: "https://evil.example/cb"}), status=400)
    assert "Location" not in response.headers


@pytest.mark.parametrize("name", ["code", "client_id", "redirect_uri", "code_verifier"])
def test_repeated_token_parameter_is_refused(signed_in, name):
    """Parameter pollution at /token: a repeated parameter is invalid_request and gives no token."""
    code, verifier = code_for(signed_in)
    form = {"grant_type": "authorization_code", "code": code, "client_id": CLIENT, "redirect_uri": REDIRECT,
            "code_verifier": verifier}
    body = urllib.parse.urlencode(form) + "&" + urllib.parse.urlencode({name: "other"})
    response = signed_in.post("/token", body.encode(), content_type="application/x-www-form-urlencoded", status=400)
    assert response.json["error"] == "invalid_request" and "access_token" not in response.json
    assert "access_token" in redeem(signed_in, code, verifier).json  # the code was not used up by the attempt


def test_null_byte_in_client_id_is_refused(web):
    """A NUL in the client_id: an error page, nothing fetched or stored."""
    response = web.get(auth_query(client_id="http://127.0.0.1:9/\x00evil"), status=400)
    assert "Location" not in response.headers


def test_access_token_in_the_query_is_refused(signed_in):
    """A bearer token in the URL (where logs keep it) is refused (SEC48)."""
    response = signed_in.get("/userinfo?access_token=abc", status=400)
    assert response.json["error"] == "invalid_request"
