"""Fuzzing (issue #8): Hypothesis properties of the URL rules, and schemathesis against /openapi.json.

The URL rules (canonical_url, profile_url_problem, client_id_problem, redirect_uri_problem,
redirect_uri_allowed) never fail, the canonical form is idempotent, and the IndieAuth spec's own examples
(shared/spec-checklist.md S5, S9, S12, S13, S29–S33, SEC11, SEC12) hold for every generated variant.  The
app itself never answers 500 to anything generated, whether from URL-shaped parameters or from the
OpenAPI document the server publishes.
"""

import json
import os
import urllib.parse

import hypothesis
import pytest
import schemathesis
import webtest
from hypothesis import HealthCheck, example, given, settings, strategies as st
from schemathesis import checks

import indieauth
from indieauth import (ClientInfo, canonical_url, client_id_problem, profile_url_problem, redirect_uri_allowed,
                       redirect_uri_problem)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROPERTY = settings(max_examples=200, deadline=None, database=None)
RULES = {
    "profile URL": profile_url_problem,
    "profile URL on a loopback server": lambda url: profile_url_problem(url, allow_loopback=True),
    "client_id": client_id_problem,
    "redirect_uri": redirect_uri_problem,
}


# ---------------------------------------------------------------------------------------------
#  URL-shaped strings: every part drawn from the cases the rules treat differently
# ---------------------------------------------------------------------------------------------

label = st.from_regex(r"[a-zA-Z0-9]([a-zA-Z0-9-]{0,8}[a-zA-Z0-9])?", fullmatch=True)
domain = st.builds(lambda labels, tld, dot: ".".join(labels + [tld]) + dot,
                   st.lists(label, min_size=1, max_size=3), st.sampled_from(["example", "com", "TEST", "xn--p1ai"]),
                   st.sampled_from(["", "", "", "."]))
host = st.one_of(
    domain, domain,
    st.sampled_from(["localhost", "LocalHost", "127.0.0.1", "[::1]", "[1::]", "[::ffff:127.0.0.1]", "0.0.0.0",
                     "172.28.92.51", "[fe80::1%25eth0]", "", "-bad-.example", "a..b", "[::1", "xn--", "%65xample.com"]),
    st.ip_addresses(v=4).map(str), st.ip_addresses(v=6).map(lambda ip: f"[{ip}]"))
scheme = st.sampled_from(["https", "http", "HTTPS", "Http", "ftp", "javascript", "mailto", "file", "data", ""])
userinfo = st.sampled_from(["", "", "", "", "user@", "user:pass@", ":@", "a@b@", "app.example@"])
port = st.one_of(st.just(""), st.just(""), st.integers(0, 70000).map(lambda p: f":{p}"),
                 st.sampled_from([":", ":080", ":x", ":-1", ": 80"]))
segment = st.one_of(st.sampled_from([".", "..", "%2e", "%2E%2e", ".%2e", "a", "A", "about.html", "", "~me", "%20",
                                     "ü", "a;b", "@", ":"]), st.text(max_size=6))
path = st.one_of(st.just(""), st.lists(segment, max_size=4).map(lambda segments: "/" + "/".join(segments)))
clean_path = st.one_of(st.just(""), st.lists(st.sampled_from(["a", "Users", "about.html", "", "~me", "%20", "a;b"]),
                                              max_size=3).map(lambda segments: "/" + "/".join(segments)))
query = st.one_of(st.just(""), st.just("?"), st.text(max_size=10).map(lambda q: "?" + q),
                  st.just("?id=100"), st.just("?a=1&b=2"))
fragment = st.one_of(st.just(""), st.just(""), st.just("#"), st.just("#me"), st.text(max_size=5).map(lambda f: "#" + f))
separator = st.sampled_from(["://", "://", "://", ":", ":/", ":///", "//"])
url_shaped = st.builds(lambda *parts: "".join(parts), scheme, separator, userinfo, host, port, path, query, fragment)
noise = st.sampled_from(["\t", "\n", "\r", " ", "\x00", "\x7f", "\x0b", "\u00a0", "\\", "[", "]", "%", "%zz", "\ufeff"])


@st.composite
def with_noise(draw, base):
    """A string from `base` with one odd character put in somewhere."""
    text = draw(base)
    at = draw(st.integers(0, len(text)))
    return text[:at] + draw(noise) + text[at:]


anything = st.one_of(url_shaped, url_shaped, with_noise(url_shaped), st.text(max_size=40))


# ---------------------------------------------------------------------------------------------
#  Properties of the rules
# ---------------------------------------------------------------------------------------------

@PROPERTY
@given(anything)
@example("https://EXAMPLE.com")
@example("HTTP://Example.COM:80?x#y")
@example("https://[::1]:8080")
@example("https://user:pass@Example.com")
@example(" https://example.com ")
def test_canonical_url_never_fails_and_what_it_changes_has_a_lowercase_host_and_a_path(url):
    canonical = canonical_url(url)
    assert isinstance(canonical, str)
    if canonical != url:
        parts = urllib.parse.urlsplit(canonical)
        host = parts.netloc.rpartition("@")[2]
        assert parts.hostname and host == host.lower()
        assert parts.scheme == parts.scheme.lower() and parts.path.startswith("/")


@PROPERTY
@given(anything)
@example("https://example.com/ ?")        # the space is kept the first time, stripped the second
@example("https://example.com/\xa0?")     # str.strip() also strips Unicode blanks
@example("https://localhost?\x85#")
def test_canonical_url_is_idempotent(url):
    once = canonical_url(url)
    assert canonical_url(once) == once


@PROPERTY
@given(anything)
def test_the_url_rules_never_fail_and_explain_every_refusal(url):
    for rule in RULES.values():
        problem = rule(url)
        assert problem is None or (isinstance(problem, str) and problem.endswith("."))


@PROPERTY
@given(scheme=st.sampled_from(["https", "http"]), host=domain, path=clean_path,
       query=st.sampled_from(["", "?id=100", "?a=B&c=%20"]))
@example(scheme="https", host="example.com", path="", query="")  # S12: https://example.com → https://example.com/
@example(scheme="http", host="Example.COM", path="/Users", query="?id=100")
def test_the_canonical_form_lowercases_the_host_and_always_has_a_path(scheme, host, path, query):
    """S12 (no path means '/'), S13 (hosts compare case-insensitively); the path and query stay as typed."""
    canonical = canonical_url(f"{scheme}://{host}{path}{query}")
    assert canonical == canonical_url(f"{scheme.upper()}://{host.upper()}{path}{query}")
    parts = urllib.parse.urlsplit(canonical)
    assert parts.hostname == host.lower() and parts.netloc == host.lower()
    assert parts.path == (path or "/")
    assert parts.query == query[1:]


@PROPERTY
@given(anything)
@example("https://example.com")
@example("https://Example.com/about.html")
def test_canonicalising_a_valid_url_keeps_it_valid(url):
    for name, rule in RULES.items():
        if rule(url) is None:
            assert rule(canonical_url(url)) is None, name


@PROPERTY
@given(anything)
@example("https://example.com/users?id=100")
@example("http://localhost:8080/")
def test_the_rules_nest_profile_url_then_client_id_then_redirect_uri(url):
    """A valid profile URL is a valid client_id (which also allows ports and loopback), and a valid
    client_id is a URL the server may redirect to (S5, S9, S31)."""
    if profile_url_problem(url) is None:
        assert client_id_problem(url) is None
        assert profile_url_problem(url, allow_loopback=True) is None
    if client_id_problem(url) is None:
        assert redirect_uri_problem(url) is None


@pytest.mark.parametrize("url", [
    "https://example.com/", "https://example.com/username", "https://example.com/users?id=100",
    "https://Example.COM", "https://example.com/about.html"])
@PROPERTY
@given(case=st.sampled_from([str.upper, str.lower, str.title]))
def test_spec_s5_valid_profile_urls_are_accepted_however_the_host_is_written(url, case):
    parts = urllib.parse.urlsplit(url)
    written = url.replace(parts.netloc, case(parts.netloc))
    assert profile_url_problem(written) is None
    assert canonical_url(written) == canonical_url(url)


@pytest.mark.parametrize("url", [
    "example.com", "mailto:user@example.com", "https://example.com/foo/../bar", "https://example.com/#me",
    "https://user:pass@example.com/", "https://example.com:8443/", "https://172.28.92.51/", "https://[1::]/"])
@PROPERTY
@given(case=st.sampled_from([str.upper, str.lower, str.title]))
def test_spec_s5_invalid_profile_urls_are_refused_however_written_and_canonicalised(url, case):
    assert profile_url_problem(case(url)) is not None
    assert profile_url_problem(canonical_url(case(url))) is not None


@PROPERTY
@given(host=st.sampled_from(["127.0.0.1", "[::1]", "localhost"]), port=st.integers(1, 65535),
       path=st.lists(st.sampled_from(["cb", "a.html", "", "~x"]), max_size=3).map(lambda s: "/" + "/".join(s)))
def test_spec_s9_loopback_client_ids_may_have_any_port(host, port, path):
    assert client_id_problem(f"http://{host}:{port}{path}") is None


@PROPERTY
@given(st.ip_addresses().filter(lambda ip: str(ip) not in ("127.0.0.1", "::1")), port)
def test_spec_s9_other_ip_addresses_are_never_client_ids(ip, port_text):
    host = f"[{ip}]" if ip.version == 6 else str(ip)
    assert client_id_problem(f"https://{host}{port_text}/") is not None


VALID_URL_CHARS = "every character of a valid URL is printable: no space, tab, newline or other control"


@PROPERTY
@given(with_noise(st.sampled_from(["https://example.com/", "https://app.example/callback", "http://127.0.0.1:9/"])))
@example("https://example.com/\t")
@example("https://app.example/cb\r\n")
@example("https://exa\nmple.com/")
@example(" https://example.com/")
@example("https://example.com/a b")
def test_urls_with_whitespace_or_control_characters_are_refused(url):
    """Python's urlsplit drops tab, CR and LF anywhere and strips leading blanks, so without a rule of
    their own "https://app.example/cb\\n" would pass as a client_id or redirect_uri."""
    for name, rule in RULES.items():
        if any(ord(c) <= 0x20 or ord(c) == 0x7f for c in url):
            assert rule(url) is not None, (name, VALID_URL_CHARS)


# ---------------------------------------------------------------------------------------------
#  redirect_uri_allowed: where the server may send a person (S29–S33, SEC10–SEC12, SEC18)
# ---------------------------------------------------------------------------------------------

CLIENT_ID = "https://app.example/"
published_uri = st.builds(lambda host, p, q: f"https://{host}{p}{q}", domain.map(str.lower),
                          st.sampled_from(["/callback", "/cb/", "/auth/return", "/"]), st.sampled_from(["", "?x=1"]))
NEAR_MISSES = {
    "trailing slash": lambda u: u[:-1] if u.endswith("/") else u.replace("?", "/?") if "?" in u else u + "/",
    "extra segment": lambda u: u.split("?")[0].rstrip("/") + "/more" + ("?" + u.split("?")[1] if "?" in u else ""),
    "extra query": lambda u: u + ("&" if "?" in u else "?") + "evil=1",
    "path case": lambda u: u.replace("/c", "/C").replace("/a", "/A") if ("/c" in u or "/a" in u) else u + "X",
    "http": lambda u: "http" + u[len("https"):],
    "port": lambda u: u.replace(".example/", ".example:8443/", 1) if ".example/" in u else u + ":1",
    "userinfo": lambda u: u.replace("https://", "https://" + urllib.parse.urlsplit(u).hostname + "@evil.example.") ,
    "percent-encoded": lambda u: u.replace("a", "%61", 1) if "a" in u else u.replace("e", "%65", 1),
    "fragment": lambda u: u + "#x",
}


@PROPERTY
@given(published_uri, st.sampled_from(sorted(NEAR_MISSES)))
def test_spec_sec11_near_misses_of_a_published_redirect_uri_are_refused(uri, miss):
    client = ClientInfo(CLIENT_ID, redirect_uris=(uri,), fetched=True)
    assert redirect_uri_allowed(client, CLIENT_ID, uri) == (True, "")
    variant = NEAR_MISSES[miss](uri)
    hypothesis.assume(variant != uri)
    allowed, reason = redirect_uri_allowed(client, CLIENT_ID, variant)
    assert not allowed and reason


@PROPERTY
@given(st.lists(anything, max_size=3), anything, st.sampled_from([CLIENT_ID, "http://127.0.0.1:9/",
                                                                  "https://app.example:8443/start?x=1"]))
@example([], "https://app.example/callback", CLIENT_ID)  # S29
@example([], "https://app.example:443/callback", CLIENT_ID)
@example(["http://127.0.0.1:8080/cb"], "http://127.0.0.1:51234/cb", "http://127.0.0.1:9/")  # S33
def test_redirect_uri_allowed_only_to_the_apps_own_origin_or_what_it_publishes(published, uri, client_id):
    """Never fails; says why when it refuses; allows only exact published URIs (any port on a loopback IP,
    S33), or with nothing published the client_id's own scheme, host and port (S29); never a fragment."""
    client = ClientInfo(client_id, redirect_uris=tuple(published), fetched=True)
    allowed, reason = redirect_uri_allowed(client, client_id, uri)
    if not allowed:
        assert reason
        return
    assert "#" not in uri
    portless = indieauth._loopback_portless
    if published:
        assert portless(uri) in {portless(p) for p in published}
    else:
        assert indieauth.origin(portless(uri)) == indieauth.origin(portless(client_id))


# ---------------------------------------------------------------------------------------------
#  The app: no 500 for anything generated
# ---------------------------------------------------------------------------------------------

def no_dns(host, port):
    """Resolves nothing, so a generated client_id is never fetched from the internet."""
    return []


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory):
    app = indieauth.make_test_app({"plugins": {"password": {}}}, folder=str(tmp_path_factory.mktemp("fuzz")),
                                  resolver=no_dns)
    with app.storage.database.connection_context():
        app.storage.create_user("owner", "https://owner.example/", role="owner")
    return app


@pytest.fixture
def app(fuzz_app):
    return fuzz_app


VALID_REQUEST = {"response_type": "code", "client_id": indieauth.testing.CLIENT_ID,
                 "redirect_uri": indieauth.testing.REDIRECT_URI, "state": "st4te", "code_challenge": "A" * 43,
                 "code_challenge_method": "S256", "scope": "profile create", "me": "https://owner.example/"}
parameter_value = st.one_of(url_shaped, st.text(max_size=20), st.sampled_from([
    "code", "id", "S256", "plain", "profile email create", "\"bad\\scope", "A" * 42, "http://127.0.0.1:9/",
    "http://127.0.0.1:51234/callback", "http://127.0.0.1:9/callback#x", "urn:ietf:params:oauth:request_uri:x"]))


@st.composite
def authorization_requests(draw):
    """A valid authorization request with each parameter kept, dropped or changed (and maybe a request_uri)."""
    params = {}
    for name in list(VALID_REQUEST) + ["request_uri"]:
        choice = draw(st.sampled_from(["keep", "keep", "keep", "keep", "drop", "change"]))
        if choice == "keep" and name in VALID_REQUEST:
            params[name] = VALID_REQUEST[name]
        elif choice == "change":
            params[name] = draw(parameter_value)
    return params


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(authorization_requests())
def test_the_authorization_endpoint_never_fails_and_redirects_only_to_a_verified_uri(app, params):
    """No 500 for any request; an error goes back (302) only to the request's own, verified redirect_uri."""
    answer = webtest.TestApp(app).get("/auth?" + urllib.parse.urlencode(params), expect_errors=True)
    hypothesis.event(f"status {answer.status_int}")
    assert answer.status_int in (200, 302, 303, 400), answer.text[:500]
    if answer.status_int == 302:
        location = answer.headers["Location"].encode("latin-1").decode("utf-8")  # the header's bytes, as sent
        sent_to, asked = urllib.parse.urlsplit(location), urllib.parse.urlsplit(params["redirect_uri"])
        assert (sent_to.scheme, sent_to.netloc, sent_to.path) == (asked.scheme, asked.netloc, asked.path)
        assert redirect_uri_problem(params["redirect_uri"]) is None
        assert client_id_problem(params["client_id"]) is None


# ---------------------------------------------------------------------------------------------
#  schemathesis: every operation of the published OpenAPI document
# ---------------------------------------------------------------------------------------------

with open(os.path.join(ROOT, "static", "openapi.json"), encoding="utf-8") as f:
    OPERATIONS = [(path, method.upper()) for path, methods in json.load(f)["paths"].items() for method in methods]
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_headers_conformance, checks.response_schema_conformance]
# Answers that once were missing from the document, sent first so that they are always tried.
KNOWN_CASES = {
    ("/token", "POST"): [{"body": {"action": "revoke", "token": "unknown"},
                          "media_type": "application/x-www-form-urlencoded"}],  # the legacy revocation: {}
    ("/token", "GET"): [{}],       # no credentials at all: RFC 6750 §3.1 gives no error code
    ("/userinfo", "GET"): [{}],
    ("/userinfo", "POST"): [{"body": {}, "media_type": "application/x-www-form-urlencoded"}],
}

# Operations whose every form a client can send is valid by the document (one optional string field):
# looking for an invalid request would only exhaust Hypothesis's patience.
NOTHING_INVALID = {("/userinfo", "POST")}


@pytest.fixture(scope="module")
def api_schema(fuzz_app):
    """The OpenAPI document as the server serves it at /openapi.json."""
    return schemathesis.openapi.from_wsgi("/openapi.json", fuzz_app)


@pytest.mark.parametrize("path, method", [
    pytest.param(path, method)
    for path, method in OPERATIONS], ids=[f"{method} {path}" for path, method in OPERATIONS])
def test_every_api_operation_answers_as_documented(app, api_schema, path, method):
    """Generated requests, valid and invalid: never a 5xx, and every status code, content type, header
    and JSON body as static/openapi.json describes it."""
    operation = api_schema[path][method]
    for case in KNOWN_CASES.get((path, method), []):
        operation.Case(**case).call_and_validate(checks=CHECKS)
    modes = [schemathesis.GenerationMode.POSITIVE]
    if (path, method) not in NOTHING_INVALID:
        modes.append(schemathesis.GenerationMode.NEGATIVE)
    for mode in modes:
        @settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(operation.as_strategy(generation_mode=mode))
        def run(case):
            case.call_and_validate(checks=CHECKS)
        try:
            run()
        except hypothesis.errors.Unsatisfiable:  # an operation without parameters has no invalid request
            pass
