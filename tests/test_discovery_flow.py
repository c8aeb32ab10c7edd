"""Client information discovery inside the authorization flow: a real client page on 127.0.0.1 (the kit's
FakeServer), reached through the SSRF-guarded session with a resolver that maps test names to 127.0.0.1."""

import pytest
import webtest

from conftest import PASSWORD, sign_in
from test_protocol import auth_params, pkce_pair, query_of, start

HITS = []
PROFILE_LINKS = {"meta": "http://localhost/.well-known/oauth-authorization-server", "auth": "http://localhost/auth"}


PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


def client_page(request):
    """The client's site, a route of the kit's FakeServer: an h-app page naming its logo on the host asked
    for, the logo itself and a few profile pages; every path asked for goes into HITS."""
    HITS.append(request.target)
    if request.target in ("/logo.png", "/logo.svg"):
        png = request.target.endswith("png")
        return 200, {"Content-Type": "image/png" if png else "image/svg+xml"}, PNG if png else b"<svg onload='alert(1)'/>"
    if request.target.startswith("/profile/"):
        headers = {"Content-Type": "text/html"}
        if request.target == "/profile/header":
            headers["Link"] = f'<{PROFILE_LINKS["auth"]}>; rel="authorization_endpoint"'
        body = {"/profile/links": f'<link rel="indieauth-metadata" href="{PROFILE_LINKS["meta"]}">',
                "/profile/other": '<link rel="authorization_endpoint" href="https://indieauth.com/auth">'}
        return 200, headers, body.get(request.target, "<p>no links</p>")
    port = request.host.rpartition(":")[2]
    logo = "/logo.svg" if request.host.startswith("svg.") else "/logo.png"
    return 200, {}, (f'<!doctype html><link rel="redirect_uri" href="http://other.test:{port}/cb">'
                     f'<div class="h-app"><img class="u-logo" src="http://{request.host}{logo}">'
                     f'<a class="u-url p-name" href="http://{request.host}/">Test Writer</a></div>')


@pytest.fixture
def client_site(fake_http):
    """The port of the client's site (a FakeServer on 127.0.0.1)."""
    fake_http.route("/*", client_page)
    HITS.clear()
    return fake_http.port


def resolver(host, port):
    return ["127.0.0.1"]  # app.test, other.test, internal.test: all this machine


def make(make_app, tmp_path, clock, fetch_allow):
    import indieauth
    app = indieauth.make_test_app({"plugins": {"password": {}}, "security": {"fetch_allow": fetch_allow}},
                                  folder=str(tmp_path), clock=clock, resolver=resolver)
    from indieauth_password import set_password
    set_password(app, app.storage.create_user("owner", "https://owner.example/"), PASSWORD)
    web = webtest.TestApp(app)
    sign_in(web)
    return web


def test_h_app_name_is_shown_and_published_redirect_accepted(tmp_path, clock, client_site, make_app):  # S23, S26, S27
    web = make(make_app, tmp_path, clock, ["127.0.0.1/32"])
    verifier, challenge = pkce_pair()
    client = f"http://app.test:{client_site}/"
    page = start(web, **auth_params(challenge, client_id=client, redirect_uri=f"http://other.test:{client_site}/cb")).follow()
    assert "Test Writer" in page.text and "published no information" not in page.text
    assert HITS[0] == "/" and set(HITS) <= {"/", "/logo.png"}  # the logo is fetched beside (issue 17)
    code = query_of(page.forms["consent"].submit("action", value="approve").headers["Location"])["code"]
    assert web.post("/token", {"grant_type": "authorization_code", "code": code, "client_id": client,
                               "redirect_uri": f"http://other.test:{client_site}/cb",
                               "code_verifier": verifier}).json["me"] == "https://owner.example/"


def test_client_information_is_cached(tmp_path, clock, client_site, make_app):  # S25 caching
    web = make(make_app, tmp_path, clock, ["127.0.0.1/32"])
    _, challenge = pkce_pair()
    for _ in range(2):
        start(web, **auth_params(challenge, client_id=f"http://app.test:{client_site}/",
                                 redirect_uri=f"http://other.test:{client_site}/cb"))
    assert HITS.count("/") == 1


def test_once_published_only_published_redirects_count_even_on_the_same_origin(tmp_path, clock, client_site,
                                                                              make_app):  # S32 (policy)
    web = make(make_app, tmp_path, clock, ["127.0.0.1/32"])
    _, challenge = pkce_pair()
    start(web, status=400, **auth_params(challenge, client_id=f"http://app.test:{client_site}/",
                                         redirect_uri=f"http://app.test:{client_site}/cb"))


def test_unpublished_cross_origin_redirect_after_fetch_is_refused(tmp_path, clock, client_site, make_app):  # SEC10, T11
    web = make(make_app, tmp_path, clock, ["127.0.0.1/32"])
    _, challenge = pkce_pair()
    response = start(web, status=400, **auth_params(challenge, client_id=f"http://app.test:{client_site}/",
                                                    redirect_uri=f"http://evil.test:{client_site}/cb"))
    assert "Location" not in response.headers and 'rel="redirect_uri"' in response.text


def test_client_id_resolving_to_loopback_is_not_fetched(tmp_path, clock, client_site, make_app):  # SEC30, S24
    web = make(make_app, tmp_path, clock, [])  # no development exemption
    _, challenge = pkce_pair()
    client = f"http://internal.test:{client_site}/"
    page = start(web, **auth_params(challenge, client_id=client, redirect_uri=client + "cb")).follow()
    assert HITS == []  # not a single request reached the address
    assert "published no information" in page.text  # SEC54: same-origin, so consent with a warning
    start(web, status=400, **auth_params(challenge, client_id=client, redirect_uri=f"http://other.test:{client_site}/cb"))
    assert HITS == []


def test_loopback_client_id_is_never_fetched(tmp_path, clock, client_site, make_app):  # SEC29, S24
    web = make(make_app, tmp_path, clock, ["127.0.0.1/32"])
    _, challenge = pkce_pair()
    client = f"http://127.0.0.1:{client_site}/"
    start(web, **auth_params(challenge, client_id=client, redirect_uri=client + "cb")).follow()
    assert HITS == []


def test_logo_is_proxied_never_hot_linked(tmp_path, clock, client_site, make_app):  # SEC26, SEC37
    web = make(make_app, tmp_path, clock, ["127.0.0.1/32"])
    _, challenge = pkce_pair()
    page = start(web, **auth_params(challenge, client_id=f"http://app.test:{client_site}/",
                                    redirect_uri=f"http://other.test:{client_site}/cb")).follow()
    src = page.html.select_one("img.client-logo")["src"]
    assert src.startswith("/auth/logo/")  # served by this server, not the app's
    logo = web.get(src)
    assert logo.content_type == "image/png" and logo.body == PNG
    web.get(src)
    assert HITS == ["/", "/logo.png"]  # fetched once, then cached


def test_an_svg_logo_is_not_served(tmp_path, clock, client_site, make_app):  # SEC26: SVG can carry script
    web = make(make_app, tmp_path, clock, ["127.0.0.1/32"])
    _, challenge = pkce_pair()
    page = start(web, **auth_params(challenge, client_id=f"http://svg.test:{client_site}/",
                                    redirect_uri=f"http://other.test:{client_site}/cb")).follow()
    web.get(page.html.select_one("img.client-logo")["src"], status=404)


@pytest.mark.parametrize("page, verdict", [("links", "Yes."), ("header", "Yes."), ("none", "No:"), ("other", "No:")])
def test_self_test_checks_that_the_profile_url_names_this_server(tmp_path, clock, client_site, page, verdict):  # S8
    import indieauth
    app = indieauth.make_test_app({"plugins": {"password": {}}, "security": {"fetch_allow": ["127.0.0.1/32"]}},
                                  folder=str(tmp_path), clock=clock, resolver=resolver)
    from indieauth_password import set_password
    set_password(app, app.storage.create_user("owner", f"http://site.test:{client_site}/profile/{page}"), PASSWORD)
    web = webtest.TestApp(app)
    sign_in(web)
    # the Authorization check is the browser's (tests/test_interop.py); only S8 is judged here
    answer = web.get("/selftest").html.select("[role=status], [role=alert]")[-1].text
    assert answer.startswith(verdict), answer
    if verdict == "No:":
        assert "indieauth-metadata" in web.get("/selftest").text


@pytest.mark.parametrize("page, verdict", [("links", "Yes:"), ("none", "Not yet:"), ("other", "names another")])
def test_the_start_page_checks_the_links_on_the_persons_site_when_asked(tmp_path, clock, client_site, page, verdict):
    """The guide's check fetches the person's site through the guarded client (a real server on 127.0.0.1)."""
    import indieauth
    app = indieauth.make_test_app({"plugins": {"password": {}}, "security": {"fetch_allow": ["127.0.0.1/32"]}},
                                  folder=str(tmp_path), clock=clock, resolver=resolver)
    from indieauth_password import set_password
    set_password(app, app.storage.create_user("owner", f"http://site.test:{client_site}/profile/{page}"), PASSWORD)
    web = webtest.TestApp(app)
    sign_in(web)
    HITS.clear()
    assert not web.get("/").html.select("#links-check") and HITS == []  # not fetched unless asked
    checked = web.get("/?check=links")
    assert verdict in checked.html.select_one("#links-check").text
    assert HITS == [f"/profile/{page}"]


def test_the_start_page_link_check_never_reaches_a_private_address(tmp_path, clock, client_site):  # SEC: SSRF
    import indieauth
    app = indieauth.make_test_app({"plugins": {"password": {}}}, folder=str(tmp_path), clock=clock, resolver=resolver)
    from indieauth_password import set_password
    set_password(app, app.storage.create_user("owner", f"http://site.test:{client_site}/profile/links"), PASSWORD)
    web = webtest.TestApp(app)
    sign_in(web)
    HITS.clear()
    assert "could not be read" in web.get("/?check=links").html.select_one("#links-check").text
    assert HITS == []
