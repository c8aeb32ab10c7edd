"""SSRF: whatever a client_id, a logo or a profile URL says, the server never reaches a private address.

`intranet` is a real server on 127.0.0.2 standing for a machine of the private network; fetch_allow lets
the server reach 127.0.0.1 only (the "public" test sites), so every encoding of 127.0.0.2, and every name
resolving to it, must be refused before a connection is made: `intranet.hits` stays empty.
"""

import pytest

from .conftest import auth_query, resolver

ALLOW_PUBLIC = {"security": {"fetch_allow": ["127.0.0.1/32"]}}


@pytest.fixture
def app(make_app):
    return make_app(ALLOW_PUBLIC, resolver=resolver)


def publish_other_redirect(server):
    """The intranet's page publishes a redirect URI elsewhere: were it read, that redirect would pass."""
    server.page("/", '<link rel="redirect_uri" href="http://evil.test/cb">')


# -- client_id

@pytest.mark.parametrize("host", ["0.0.0.0", "[::]", "[::ffff:127.0.0.2]", "[::ffff:7f00:2]", "127.0.0.2",
                                  "169.254.169.254", "10.0.0.7", "[fe80::1]", "[fd00::1]", "192.168.1.1"],
                         ids=["zero", "ipv6-any", "ipv6-mapped", "ipv6-mapped-hex", "loopback-other",
                              "link-local-metadata", "private-10", "ipv6-link-local", "ipv6-ula", "private-192"])
def test_client_id_on_a_private_ip_literal_is_refused(web, intranet, host):
    """A client_id on an IP address other than 127.0.0.1 and [::1] is invalid (S9), never fetched."""
    publish_other_redirect(intranet)
    client = f"http://{host}:{intranet.port}/"
    response = web.get(auth_query(client_id=client, redirect_uri="http://evil.test/cb"), status=400)
    assert "Location" not in response.headers and intranet.hits == []


@pytest.mark.parametrize("host", ["2130706434", "0x7f000002", "0177.0.0.2", "127.2", "0x7f.0.0.2"],
                         ids=["decimal", "hex", "octal", "short-form", "hex-dotted"])
def test_client_id_with_an_encoded_ip_is_not_fetched(web, intranet, host):
    """Decimal, hex, octal and short IPv4 forms resolve to 127.0.0.2: the guard refuses the address (SEC30)."""
    publish_other_redirect(intranet)
    response = web.get(auth_query(client_id=f"http://{host}:{intranet.port}/", redirect_uri="http://evil.test/cb"),
                       status=400)
    assert "Location" not in response.headers and intranet.hits == []


@pytest.mark.parametrize("name", ["intranet.test", "private.test", "metadata.test", "mapped.test", "zero.test"])
def test_client_id_whose_name_resolves_to_a_private_address_is_not_fetched(web, intranet, name):
    """DNS pointing a public-looking name at a private address: resolved, checked, not fetched (SEC30)."""
    publish_other_redirect(intranet)
    response = web.get(auth_query(client_id=f"http://{name}:{intranet.port}/", redirect_uri="http://evil.test/cb"),
                       status=400)
    assert "not fetched" in response.text and intranet.hits == []


@pytest.mark.parametrize("target", ["http://intranet.test:{port}/", "http://127.0.0.2:{port}/"],
                         ids=["name", "ip"])
def test_client_id_redirecting_to_a_private_address_is_not_followed(web, site, intranet, target):
    """A public client_id page that redirects to the intranet: the redirect is not followed (SEC32)."""
    publish_other_redirect(intranet)
    site.page("/", "", status=302, Location=target.format(port=intranet.port))
    response = web.get(auth_query(client_id=site.url_for("/", host="app.test"), redirect_uri="http://evil.test/cb"),
                       status=400)
    assert "Location" not in response.headers and intranet.hits == [] and len(site.hits) == 1


@pytest.mark.parametrize("client_id", ["file:///etc/passwd", "ftp://app.test/", "gopher://app.test:70/",
                                       "dict://app.test:11211/", "https:app.test"],
                         ids=["file", "ftp", "gopher", "dict", "no-slashes"])
def test_client_id_with_another_scheme_is_refused(web, site, client_id):
    """Only http(s) client_ids exist (S9); nothing is fetched for any other scheme (SEC38)."""
    response = web.get(auth_query(client_id=client_id, redirect_uri="http://evil.test/cb"), status=400)
    assert "Location" not in response.headers and site.hits == []


# -- the logo of a registered app, fetched through the logo proxy

LOGO_TARGETS = {
    "loopback-ip": "http://127.0.0.2:{port}/logo.png",
    "decimal": "http://2130706434:{port}/logo.png",
    "hex": "http://0x7f000002:{port}/logo.png",
    "ipv6-mapped": "http://[::ffff:127.0.0.2]:{port}/logo.png",
    "private-name": "http://intranet.test:{port}/logo.png",
    "public-redirecting-to-private": "http://app.test:{public}/hop",
    "file-scheme": "file:///etc/passwd",
    "link-local": "http://169.254.169.254/latest/meta-data/",
}


@pytest.mark.parametrize("kind", LOGO_TARGETS)
def test_logo_on_a_private_address_is_not_fetched(app, web, site, intranet, kind):
    """The logo proxy goes through the guard: a logo URL pointing into the intranet is a 404 (SEC26, SEC30)."""
    intranet.page("/logo.png", b"\x89PNG secret", content_type="image/png")
    site.page("/hop", "", status=302, Location=intranet.url_for("/logo.png", host="intranet.test"))
    logo = LOGO_TARGETS[kind].format(port=intranet.port, public=site.port)
    app.storage.create_client("http://localhost/clients/logo/", "Logo App", ["http://localhost/cb"], logo=logo)
    consent = web.get(auth_query(client_id="http://localhost/clients/logo/", redirect_uri="http://localhost/cb"),
                      status=303).headers["Location"]
    key = consent.rsplit("/", 1)[1]
    response = web.get(f"/auth/logo/{key}", status=404)
    assert b"secret" not in response.body and intranet.hits == []


# -- a profile URL read when signing up with one's own site

@pytest.fixture
def shared(make_app):
    return make_app({"plugins": {"hosting": {}}, "security": {"fetch_allow": ["127.0.0.1/32"]}},
                    resolver=resolver)


@pytest.mark.parametrize("site_url", ["http://intranet.test/", "http://private.test/", "http://metadata.test/",
                                      "http://2130706434/", "http://0x7f000002/"],
                         ids=["private-name", "private-10", "link-local", "decimal", "hex"])
def test_profile_discovery_of_a_private_site_is_refused(shared, site_url):
    """Signing up with one's own site reads it through the guard: a private address is never fetched."""
    import webtest
    link = "/invite/" + shared.storage.create_invite("user", 3600)
    web = webtest.TestApp(shared)
    form = web.get(link).forms["invite"]
    form["username"], form["profile"], form["site"] = "mallory", "site", site_url
    response = form.submit(status=400)
    assert "not fetched" in response.text and shared.storage.get_user(username="mallory") is None


@pytest.mark.parametrize("site_url", ["http://127.0.0.2/", "http://[::ffff:127.0.0.2]/", "http://169.254.169.254/"],
                         ids=["loopback-ip", "ipv6-mapped", "link-local-ip"])
def test_profile_url_on_an_ip_literal_is_refused(shared, site_url):
    """A profile URL on an IP address is invalid (S5): refused before anything is fetched."""
    import webtest
    link = "/invite/" + shared.storage.create_invite("user", 3600)
    web = webtest.TestApp(shared)
    form = web.get(link).forms["invite"]
    form["username"], form["profile"], form["site"] = "mallory", "site", site_url
    form.submit(status=400)
    assert shared.storage.get_user(username="mallory") is None
