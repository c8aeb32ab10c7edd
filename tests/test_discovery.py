"""Client Information Discovery: the SSRF-guarded HTTP client, client_id fetching and redirect_uri rules.

Every fetch goes to a real HTTP server on 127.0.0.1.  Names such as app.test and evil.test reach it through
an injected resolver; addresses that must never be contacted are only ever resolver answers or URL literals,
so a refusal sends no packet.  Each test names the checklist item it covers.
"""

import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import ipaddress
import json
import ssl
import threading
import time

import pytest

from indieauth import (ClientCache, ClientInfo, FetchError, GuardedSession, address_kind,
                              fetch_client_info, redirect_uri_allowed)

LOCAL = [ipaddress.ip_network("127.0.0.1/32")]


class Site:
    """A real HTTP server on 127.0.0.1.  `routes[path]` is (status, headers, body) or a function of the
    request handler; `requests` records (path, Host header) of every request received."""

    def __init__(self, tls=None):
        self.routes, self.requests, self.sni, self.authorization = {}, [], [], []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                site.requests.append((self.path, self.headers.get("Host")))
                site.authorization.append(self.headers.get("Authorization"))
                route = site.routes.get(self.path, (404, {}, "not found"))
                if callable(route):
                    return route(self)
                status, headers, body = route
                body = body.encode() if isinstance(body, str) else body
                self.send_response(status)
                for name, value in headers.items() if isinstance(headers, dict) else headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            context.sni_callback = lambda sock, name, ctx: self.sni.append(name)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def url(self, path="/", host="app.test", scheme="http"):
        return f"{scheme}://{host}:{self.port}{path}"

    def json(self, path, doc, status=200, headers=()):
        self.routes[path] = (status, [("Content-Type", "application/json"), *headers], json.dumps(doc))

    def html(self, path, body, headers=()):
        self.routes[path] = (200, [("Content-Type", "text/html; charset=utf-8"), *headers], body)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class FakeDNS:
    """A resolver that answers from a table and records every name it is asked for."""

    def __init__(self, names):
        self.names, self.calls = dict(names), []

    def __call__(self, host, port):
        self.calls.append(host)
        return list(self.names.get(host, []))


@pytest.fixture
def site():
    server = Site()
    yield server
    server.close()


@pytest.fixture
def dns():
    return FakeDNS({"app.test": ["127.0.0.1"], "evil.test": ["127.0.0.1"]})


@pytest.fixture
def http(dns):
    return GuardedSession(fetch_allow=LOCAL, resolver=dns, timeout=(1, 1), deadline=1.5)


# -- the guard: addresses -----------------------------------------------------------------------

SPECIAL_USE = [("127.0.0.1", "loopback"), ("127.1.2.3", "loopback"), ("10.0.0.1", "private"),
               ("172.16.0.1", "private"), ("192.168.1.1", "private"), ("169.254.169.254", "link-local"),
               ("100.64.0.1", "special-use"), ("0.0.0.0", "unspecified"), ("0.1.2.3", "private"),
               ("192.0.0.9", "special-use"), ("198.18.0.1", "private"), ("240.0.0.1", "private"),
               ("224.0.0.1", "multicast"), ("::1", "loopback"), ("::", "unspecified"),
               ("::ffff:127.0.0.1", "loopback"), ("::ffff:10.0.0.1", "private"), ("fc00::1", "private"),
               ("fd12:3456::1", "private"), ("fe80::1", "link-local"), ("64:ff9b::7f00:1", "reserved"),
               ("2002:7f00:1::1", "loopback"), ("2001:db8::1", "private"), ("ff02::1", "multicast")]


@pytest.mark.parametrize("address, kind", SPECIAL_USE)
def test_special_use_addresses_are_named(address, kind):
    # SEC30: is_global plus an explicit deny list; IPv4-mapped and 6to4 addresses are judged by their IPv4 part
    assert address_kind(address) == kind


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_pass(address):
    # SEC30: never stricter than needed: globally routable addresses are fetched
    assert address_kind(address) == ""


@pytest.mark.parametrize("address, kind", [("127.0.0.1", "loopback"), ("10.0.0.1", "private"),
                                           ("169.254.169.254", "link-local"), ("::1", "loopback"),
                                           ("::ffff:127.0.0.1", "loopback"), ("100.64.0.1", "special-use"),
                                           ("0.0.0.0", "unspecified")])
def test_name_resolving_to_special_use_address_is_not_fetched(site, address, kind):
    # SEC30: without fetch_allow, a name resolving to a special-use address is refused before connecting
    http = GuardedSession(resolver=FakeDNS({"target.test": [address]}))
    with pytest.raises(FetchError) as error:
        http.get(site.url(host="target.test"))
    assert f"target.test resolves to a{'n' if kind[0] in 'aeiou' else ''} {kind} address ({address})" \
           in str(error.value)
    assert "not fetched" in str(error.value)
    assert site.requests == []


def test_one_special_use_answer_among_several_refuses(site):
    # SEC30: every resolved address is checked, not only the one connected to
    http = GuardedSession(fetch_allow=LOCAL, resolver=FakeDNS({"mixed.test": ["127.0.0.1", "10.0.0.1"]}))
    with pytest.raises(FetchError, match=r"private address \(10\.0\.0\.1\)"):
        http.get(site.url(host="mixed.test"))
    assert site.requests == []


@pytest.mark.parametrize("host", ["169.254.169.254", "[::ffff:127.0.0.1]", "[::1]", "127.0.0.1"])
def test_address_literal_in_url_is_checked_too(site, dns, host):
    # SEC30: an IP literal is checked like a resolved name (the resolver is not asked)
    with pytest.raises(FetchError, match="not fetched"):
        GuardedSession(resolver=dns).get(site.url(host=host))
    assert site.requests == [] and dns.calls == []


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://app.test/", "gopher://app.test:70/_GET"])
def test_other_schemes_are_refused(http, dns, url):
    # SEC38: only http: and https: are fetched
    with pytest.raises(FetchError, match=f"^{url.split(':')[0]} URLs are not fetched"):
        http.get(url)
    assert dns.calls == []


def test_redirect_to_file_scheme_is_refused(http, site):
    # SEC38: a redirect hop is held to the same scheme rule
    site.routes["/go"] = (302, {"Location": "file:///etc/passwd"}, "")
    with pytest.raises(FetchError, match="file URLs are not fetched"):
        http.get(site.url("/go"))


def test_redirect_hop_to_metadata_address_is_refused(http, site):
    # SEC32: every redirect hop is checked again; the metadata address is never connected to
    site.routes["/go"] = (301, {"Location": "http://169.254.169.254/latest/meta-data/"}, "")
    with pytest.raises(FetchError, match=r"link-local address \(169\.254\.169\.254\); not fetched"):
        http.get(site.url("/go"))


def test_redirect_hop_to_name_resolving_to_private_address_is_refused(site):
    # SEC32: the check of a hop resolves its name afresh
    dns = FakeDNS({"app.test": ["127.0.0.1"], "inside.test": ["10.1.2.3"]})
    site.routes["/go"] = (302, {"Location": "http://inside.test/admin"}, "")
    with pytest.raises(FetchError, match=r"inside\.test resolves to a private address \(10\.1\.2\.3\)"):
        GuardedSession(fetch_allow=LOCAL, resolver=dns).get(site.url("/go"))


def test_credentials_are_not_carried_to_another_site(http, site):
    # SEC38 (derived): an Authorization header goes to the origin it was meant for, not to a redirect target
    site.routes["/a"] = (302, {"Location": "/b"}, "")
    site.routes["/b"] = (302, {"Location": site.url("/c", host="evil.test")}, "")
    site.routes["/c"] = (200, {}, "")
    http.get(site.url("/a"), headers={"Authorization": "Bearer secret"})
    assert site.authorization == ["Bearer secret", "Bearer secret", None]


def test_redirect_hops_are_capped(http, site):
    # SEC32: at most max_redirects hops are followed
    site.routes["/loop"] = (302, {"Location": "/loop"}, "")
    with pytest.raises(FetchError, match="more than 3 redirects"):
        http.get(site.url("/loop"))
    assert len(site.requests) == 4


# -- the guard: DNS pinning ---------------------------------------------------------------------

def test_connection_goes_to_checked_address_with_the_original_host(http, dns, site):
    # SEC31: app.test exists only in the injected resolver, so reaching the server proves the checked
    # address was used; the server still sees the name in the Host header
    site.routes["/"] = (200, {}, "hello")
    response = http.get(site.url())
    assert (response.status, response.content) == (200, b"hello")
    assert site.requests == [("/", f"app.test:{site.port}")]


def test_resolver_is_called_once_per_hop(http, dns, site):
    # SEC31: do not resolve twice: one resolution per hop, the connection uses its answer
    site.routes["/a"] = (302, {"Location": "/b"}, "")
    site.routes["/b"] = (302, {"Location": site.url("/c", host="evil.test")}, "")
    site.routes["/c"] = (200, {}, "done")
    assert http.get(site.url("/a")).content == b"done"
    assert dns.calls == ["app.test", "app.test", "evil.test"]


def test_rebinding_answer_after_the_check_is_never_used(site):
    # SEC31: a resolver that answers 127.0.0.1 once and 10.0.0.1 afterwards (DNS rebinding)
    answers = iter([["127.0.0.1"]])
    http = GuardedSession(fetch_allow=LOCAL, resolver=lambda host, port: next(answers, ["10.0.0.1"]))
    site.routes["/"] = (200, {}, "pinned")
    assert http.get(site.url()).content == b"pinned"


def make_certificate(folder, name):
    """A self-signed certificate for `name`, its own trust anchor: (cert path, key path)."""
    from cryptography import x509  # a dependency of indieauth (JWT signing keys)
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(days=1))
                   .not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                   .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / f"{name}.pem", folder / f"{name}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


def test_https_to_checked_address_uses_the_name_for_sni_and_certificate(tmp_path, dns):
    # SEC31: connecting to the IP must not lose TLS: SNI and the certificate check use the URL's name
    cert, key = make_certificate(tmp_path, "app.test")
    server = Site(tls=(cert, key))
    try:
        server.routes["/"] = (200, {}, "secure")
        http = GuardedSession(fetch_allow=LOCAL, resolver=dns, verify=cert)
        assert http.get(server.url(scheme="https")).content == b"secure"
        assert server.sni == ["app.test"]
        assert server.requests == [("/", f"app.test:{server.port}")]
    finally:
        server.close()


def test_https_certificate_for_another_name_is_refused(tmp_path, dns):
    # SEC31: the certificate is checked against the URL's name, not accepted for the pinned IP
    cert, key = make_certificate(tmp_path, "other.test")
    server = Site(tls=(cert, key))
    try:
        http = GuardedSession(fetch_allow=LOCAL, resolver=dns, verify=cert)
        with pytest.raises(FetchError, match="TLS connection to app.test failed"):
            http.get(server.url(scheme="https"))
        assert server.requests == []
    finally:
        server.close()


# -- the guard: size and time -------------------------------------------------------------------

def test_streamed_body_over_the_cap_is_aborted(http, site):
    # SEC33: a body without Content-Length is cut off as soon as it passes max_bytes
    def endless(handler):
        handler.send_response(200)
        handler.end_headers()
        try:
            for _ in range(1000):
                handler.wfile.write(b"x" * 1024)
        except OSError:  # the client hung up, as it should
            pass
    site.routes["/big"] = endless
    with pytest.raises(FetchError, match="^response larger than 4096 bytes$"):
        http.get(site.url("/big"), max_bytes=4096)


def drip(handler, prefix, count=30):
    """Send `prefix` at once, then one byte a second."""
    try:
        handler.wfile.write(prefix)
        for _ in range(count):
            handler.wfile.write(b"a")
            handler.wfile.flush()
            time.sleep(1)
    except OSError:
        pass


@pytest.mark.parametrize("prefix", [b"HTTP/1.0 200 OK\r\nContent-Length: 100\r\n\r\n",
                                    b"HTTP/1.0 200 OK\r\nX-Slow: "], ids=["body", "headers"])
def test_slow_drip_is_aborted_by_the_deadline(dns, site, prefix):
    # SEC33: a byte a second never trips the 5 s read timeout; the overall deadline (1.5 s here) ends the fetch
    http = GuardedSession(fetch_allow=LOCAL, resolver=dns, timeout=(1, 5), deadline=1.5)
    site.routes["/slow"] = lambda handler: drip(handler, prefix)
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"^timed out after 1\.5 s$"):
        http.get(site.url("/slow"))
    assert time.monotonic() - started < 3


def test_silent_server_hits_the_read_timeout(http, site):
    # SEC33: a server that accepts and says nothing is given up after the read timeout
    site.routes["/silent"] = lambda handler: time.sleep(3)
    with pytest.raises(FetchError, match=r"^timed out after 1 s$"):
        http.get(site.url("/silent"))


# -- client information: JSON client metadata document ------------------------------------------

def metadata(client_id, **fields):
    return {"client_id": client_id, "client_name": "Example App", "client_uri": client_id.rsplit("/", 1)[0] + "/",
            "logo_uri": client_id.rsplit("/", 1)[0] + "/logo.png", "redirect_uris": ["https://app.example/cb"],
            "token_endpoint_auth_method": "none", **fields}


def test_json_metadata_document_is_read(http, site):
    # S25: client_name, client_uri, logo_uri and redirect_uris of a valid document
    client_id = site.url("/app.json")
    site.json("/app.json", metadata(client_id))
    client = fetch_client_info(http, client_id)
    assert client == ClientInfo(client_id, name="Example App", logo=site.url("/logo.png"), url=site.url("/"),
                                redirect_uris=("https://app.example/cb",), fetched=True, source="json")


@pytest.mark.parametrize("claimed", ["/app.json/", "/APP.json", "/other.json"])
def test_json_document_for_another_client_id_is_rejected(http, site, claimed):
    # SEC35: the document's client_id equals the fetch URL by simple string comparison, trailing slash too
    client_id = site.url("/app.json")
    site.json("/app.json", metadata(site.url(claimed)))
    client = fetch_client_info(http, client_id)
    assert not client.fetched
    assert "names client_id" in client.error and site.url(claimed) in client.error


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post", "client_secret_jwt"])
def test_shared_secret_auth_method_is_rejected(http, site, method):
    # SEC36: token_endpoint_auth_method must not be a shared-secret method
    site.json("/app.json", metadata(site.url("/app.json"), token_endpoint_auth_method=method))
    client = fetch_client_info(http, site.url("/app.json"))
    assert not client.fetched and method in client.error


@pytest.mark.parametrize("field", ["client_secret", "client_secret_expires_at"])
def test_document_with_client_secret_is_rejected(http, site, field):
    # SEC36: client_secret and client_secret_expires_at must not appear
    site.json("/app.json", metadata(site.url("/app.json"), **{field: "0"}))
    client = fetch_client_info(http, site.url("/app.json"))
    assert not client.fetched and "client_secret" in client.error


@pytest.mark.parametrize("uris", [["/cb"], "https://app.example/cb", [42]])
def test_redirect_uris_must_be_a_list_of_absolute_urls(http, site, uris):
    # S25: redirect_uris is an array of absolute URLs; nothing is resolved
    site.json("/app.json", metadata(site.url("/app.json"), redirect_uris=uris))
    client = fetch_client_info(http, site.url("/app.json"))
    assert not client.fetched and "redirect_uris" in client.error


def test_client_uri_that_is_not_a_prefix_of_client_id_is_dropped(http, site):
    # S25 (IA §4.2.1): client_uri MUST be a prefix of client_id
    site.json("/app.json", metadata(site.url("/app.json"), client_uri="https://elsewhere.example/"))
    client = fetch_client_info(http, site.url("/app.json"))
    assert client.fetched and client.url == ""
    assert client.warnings == ("client_uri https://elsewhere.example/ is ignored: "
                               "it is not a prefix of the client_id",)


def test_invalid_json_is_a_failed_fetch(http, site):
    # S25: a document that is not JSON is an error
    site.routes["/app.json"] = (200, {"Content-Type": "application/json"}, "{not json")
    client = fetch_client_info(http, site.url("/app.json"))
    assert not client.fetched and "not valid JSON" in client.error


def test_json_over_five_kilobytes_is_rejected(http, site):
    # SEC33: CIMD caps the document at 5 KB
    site.json("/app.json", metadata(site.url("/app.json"), padding="x" * 5200))
    client = fetch_client_info(http, site.url("/app.json"))
    assert not client.fetched and client.error == "response larger than 5120 bytes"


def test_html_may_be_larger_than_the_json_cap(http, site):
    # SEC33: a bounded but larger cap for h-app HTML
    page = f'<div class="h-app"><a class="u-url p-name" href="/">Big App</a></div>{"<p>x</p>" * 1000}'
    site.html("/", page)
    assert fetch_client_info(http, site.url("/")).name == "Big App"


@pytest.mark.parametrize("content_type, source", [("application/json; charset=utf-8", "json"),
                                                  ("application/x-client+json", "json"), ("text/plain", "")])
def test_parser_is_chosen_by_content_type(http, site, content_type, source):
    # S28: the same JSON document is only read as client metadata when served as JSON
    site.routes["/app.json"] = (200, {"Content-Type": content_type}, json.dumps(metadata(site.url("/app.json"))))
    client = fetch_client_info(http, site.url("/app.json"))
    assert client.fetched and client.source == source


# -- client information: HTML -------------------------------------------------------------------

def test_h_app_name_and_logo(http, site):
    # S26: name and logo of the h-app whose url is the client_id
    site.html("/", '<div class="h-app"><img class="u-logo" src="/logo.png" alt="">'
                   '<a class="u-url p-name" href="/">My App</a></div>')
    client = fetch_client_info(http, site.url("/"))
    assert (client.name, client.logo, client.source) == ("My App", site.url("/logo.png"), "h-app")


def test_first_h_app_matching_the_client_id_is_used(http, site):
    # S26/T15: h-apps for other URLs are skipped, and only the first match counts
    site.html("/", '<div class="h-app"><a class="u-url p-name" href="https://other.example/">Other</a></div>'
                   '<div class="h-app"><a class="u-url p-name" href="/">First</a></div>'
                   '<div class="h-app"><a class="u-url p-name" href="/">Second</a></div>')
    assert fetch_client_info(http, site.url("/")).name == "First"


def test_h_app_url_must_equal_the_client_id_exactly(http, site):
    # S26: /app is not /app/
    site.html("/app", '<div class="h-app"><a class="u-url p-name" href="/app/">Near</a></div>')
    client = fetch_client_info(http, site.url("/app"))
    assert client.fetched and client.name == "" and client.source == ""


def test_h_x_app_is_recognised(http, site):
    # S26/T16: h-x-app as well as h-app
    site.html("/", '<div class="h-x-app"><a class="u-url p-name" href="/">Old App</a></div>')
    assert fetch_client_info(http, site.url("/")).name == "Old App"


def test_h_app_photo_is_used_as_logo(http, site):
    # S26: Taproot reads photo when there is no logo
    site.html("/", '<div class="h-app"><img class="u-photo" src="/p.png" alt="icon">'
                   '<a class="u-url p-name" href="/">Pic</a></div>')
    assert fetch_client_info(http, site.url("/")).logo == site.url("/p.png")


def test_redirect_uri_from_link_header(http, site):
    # S27/T13: Link: <...>; rel="redirect_uri", relative URLs resolved against the document URL
    site.html("/", "<p>app</p>", headers=[("Link", '</cb>; rel="redirect_uri"'),
                                          ("Link", '<https://other.example/cb>; rel="redirect_uri"')])
    client = fetch_client_info(http, site.url("/"))
    assert client.redirect_uris == (site.url("/cb"), "https://other.example/cb")


def test_redirect_uri_from_link_element(http, site):
    # S27/T14: <link rel="redirect_uri" href>, resolved against the document URL
    site.html("/app/", '<link rel="redirect_uri" href="callback"><link rel="me redirect_uri" href="/x">')
    client = fetch_client_info(http, site.url("/app/"))
    assert client.redirect_uris == (site.url("/app/callback"), site.url("/x"))


@pytest.mark.parametrize("rel", ["redirect", "redirect-uri", "redirect_uris", "authorization_endpoint"])
def test_other_rels_are_ignored(http, site, rel):
    # S27/T11: the rel must be exactly redirect_uri, in the Link header and in <link>
    site.html("/", f'<link rel="{rel}" href="/a">', headers=[("Link", f'</b>; rel="{rel}"')])
    assert fetch_client_info(http, site.url("/")).redirect_uris == ()


# -- client information: fetch policy -----------------------------------------------------------

@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]", "localhost", "app.localhost"])
def test_loopback_client_id_is_never_fetched(site, host):
    # S24/SEC29: no outbound request at all, not even a DNS lookup
    dns = FakeDNS({"localhost": ["127.0.0.1"], "app.localhost": ["127.0.0.1"]})
    http = GuardedSession(fetch_allow=LOCAL + [ipaddress.ip_network("::1/128")], resolver=dns)
    client = fetch_client_info(http, site.url("/app", host=host))
    assert (client.fetched, client.error) == (False, "loopback client: not fetched")
    assert site.requests == [] and dns.calls == []


def test_client_id_resolving_to_private_address_is_not_fetched(site):
    # SEC30: the consent page learns why nothing was fetched
    http = GuardedSession(resolver=FakeDNS({"app.test": ["10.0.0.5"]}))
    client = fetch_client_info(http, site.url("/"))
    assert not client.fetched
    assert client.error == "app.test resolves to a private address (10.0.0.5); not fetched"


def test_same_origin_redirect_of_client_id_is_followed(http, site):
    # S25 (policy): a redirect within the client_id's origin is followed
    client_id = site.url("/app")
    site.routes["/app"] = (301, {"Location": "/app.json"}, "")
    site.json("/app.json", metadata(client_id))
    assert fetch_client_info(http, client_id).source == "json"


def test_cross_origin_redirect_of_client_id_is_not_followed(http, site):
    # SEC32 (policy): CIMD-01 MUST NOT follow; only same-origin redirects are, so this is a failed fetch
    client_id = site.url("/app")
    site.routes["/app"] = (302, {"Location": site.url("/evil", host="evil.test")}, "")
    site.json("/evil", metadata(client_id))
    client = fetch_client_info(http, client_id)
    assert not client.fetched and "redirects to another site" in client.error
    assert [path for path, host in site.requests] == ["/app"]


@pytest.mark.parametrize("status", [404, 500, 300])
def test_error_status_is_a_failed_fetch_and_not_cached(http, site, clock, status):
    # SEC34: 404, 500 or 3xx is an error, never cached as metadata.  Issue 15 (finding 4) decides that it
    # holds back fetching again for the cache's failure_ttl (60 s); after that the next request fetches again.
    cache, client_id = ClientCache(clock=clock), site.url("/app.json")
    site.json("/app.json", metadata(client_id), status=status)
    assert fetch_client_info(http, client_id, cache).error == f"HTTP {status}"
    site.json("/app.json", metadata(client_id))
    assert fetch_client_info(http, client_id, cache).error == f"HTTP {status}"  # remembered, not refetched
    assert cache.get(client_id) is None and len(site.requests) == 1
    clock.advance(seconds=cache.failure_ttl)
    assert fetch_client_info(http, client_id, cache).fetched
    assert len(site.requests) == 2


def test_cache_refuses_failed_results(clock):
    # SEC34: the cache never stores a failure as metadata, whoever hands it one; a failure handed to
    # put_failure is only a reason not to fetch again for failure_ttl seconds (issue 15, finding 4)
    cache = ClientCache(clock=clock)
    cache.put(ClientInfo("https://app.example/", error="HTTP 500"))
    assert cache.get("https://app.example/") is None and cache.recent_failure("https://app.example/") is None
    cache.put_failure(ClientInfo("https://app.example/", error="HTTP 500"))
    assert cache.get("https://app.example/") is None
    assert cache.recent_failure("https://app.example/").error == "HTTP 500"
    clock.advance(seconds=cache.failure_ttl)
    assert cache.recent_failure("https://app.example/") is None


def test_success_is_cached_until_the_ttl_expires(http, site, clock):
    # S25 (CIMD §Metadata Caching): MAY cache; the default lifetime is 10 minutes (injected clock)
    cache, client_id = ClientCache(clock=clock), site.url("/app.json")
    site.json("/app.json", metadata(client_id))
    fetch_client_info(http, client_id, cache)
    clock.advance(minutes=9, seconds=59)
    assert fetch_client_info(http, client_id, cache).fetched and len(site.requests) == 1
    clock.advance(seconds=1)
    assert fetch_client_info(http, client_id, cache).fetched and len(site.requests) == 2


@pytest.mark.parametrize("cache_control, seconds", [("max-age=120", 120), ("public, max-age=300", 300),
                                                    ("max-age=5", 60), ("max-age=999999", 86400),
                                                    ("no-store", 60), ("", 600)])
def test_cache_control_max_age_is_respected_within_bounds(http, site, clock, cache_control, seconds):
    # S25: SHOULD respect HTTP cache headers, within bounds of our own ([60 s, 24 h])
    cache, client_id = ClientCache(clock=clock), site.url("/app.json")
    site.json("/app.json", metadata(client_id), headers=[("Cache-Control", cache_control)] * bool(cache_control))
    fetch_client_info(http, client_id, cache)
    clock.advance(seconds=seconds - 1)
    fetch_client_info(http, client_id, cache)
    assert len(site.requests) == 1
    clock.advance(seconds=1)
    fetch_client_info(http, client_id, cache)
    assert len(site.requests) == 2


# -- redirect_uri rules -------------------------------------------------------------------------

CLIENT_ID = "https://app.example/"
REGISTERED = "https://registered.example/cb"
PUBLISHING = ClientInfo(CLIENT_ID, redirect_uris=(REGISTERED, "http://127.0.0.1:8000/cb", "http://[::1]/cb"),
                        fetched=True)
SILENT = ClientInfo(CLIENT_ID, fetched=True)


@pytest.mark.parametrize("client, redirect_uri", [
    (SILENT, "https://app.example/callback"),                  # S29: same scheme, host and port
    (SILENT, "https://app.example:443/callback?x=1"),          # S29: the default port is the same port
    (ClientInfo(CLIENT_ID, error="HTTP 500"), "https://app.example/cb"),  # S29: fetch failed, same origin
    (PUBLISHING, REGISTERED),                                  # S30: cross-origin, exact match
    (PUBLISHING, "http://127.0.0.1:51234/cb"),                 # S33/SEC18: loopback, any port
    (PUBLISHING, "http://127.0.0.1/cb"),                       # S33: loopback, no port
    (PUBLISHING, "http://[::1]:5000/cb"),                      # S33: IPv6 loopback, any port
    (ClientInfo("http://127.0.0.1:8080/", error="loopback client: not fetched"),
     "http://127.0.0.1:43210/done"),                           # S33/SEC29: loopback client, any port
])
def test_redirect_uri_allowed(client, redirect_uri):
    assert redirect_uri_allowed(client, client.client_id, redirect_uri) == (True, "")


@pytest.mark.parametrize("client, redirect_uri", [
    (SILENT, "https://evil.example/cb"),                       # SEC10: cross-origin, not published
    (SILENT, "http://app.example/callback"),                   # S29: scheme differs
    (SILENT, "https://app.example:8443/callback"),             # S29: port differs
    (SILENT, "https://app.example.evil.example/"),             # S29: host differs
    (PUBLISHING, "https://app.example/callback"),              # S32 (policy): published list binds same origin
    (PUBLISHING, REGISTERED + "/"),                            # SEC11: trailing slash
    (PUBLISHING, REGISTERED + "/extra"),                       # SEC11: extra path segment
    (PUBLISHING, REGISTERED + "?x=1"),                         # SEC11: extra query
    (PUBLISHING, "https://registered.example/CB"),             # SEC11: case change in the path
    (PUBLISHING, "http://registered.example/cb"),              # SEC11: https → http
    (PUBLISHING, "https://registered.example:8443/cb"),        # SEC11: port change
    (PUBLISHING, "https://registered.example@evil.example/"),  # SEC11: userinfo trick
    (PUBLISHING, "https://registered.example/%63b"),           # SEC11: percent-encoded variant
    (PUBLISHING, "http://127.0.0.1:51234/other"),              # S33: only the port is lenient
    (PUBLISHING, "http://localhost:8000/cb"),                  # S33: names get no port leniency
    (PUBLISHING, REGISTERED + "#top"),                         # S31/SEC12: fragment
    (SILENT, "/callback"),                                     # S31: relative
])
def test_redirect_uri_refused(client, redirect_uri):
    allowed, reason = redirect_uri_allowed(client, CLIENT_ID, redirect_uri)
    assert not allowed and reason


def test_refusal_says_what_to_publish():
    # SEC10: the error page names what the app's developer must publish
    allowed, reason = redirect_uri_allowed(SILENT, CLIENT_ID, "https://evil.example/cb")
    assert not allowed
    assert '<link rel="redirect_uri" href="https://evil.example/cb">' in reason
    assert "redirect_uris of the client metadata document" in reason


def test_refusal_after_failed_fetch_says_why():
    # SEC10: when the client_id could not be read, the reason includes why
    client = ClientInfo(CLIENT_ID, error="HTTP 404")
    assert "could not be read: HTTP 404" in redirect_uri_allowed(client, CLIENT_ID, "https://evil.example/cb")[1]
