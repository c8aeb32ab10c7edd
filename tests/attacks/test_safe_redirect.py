"""Finding 2 as a property: whatever `next` a sign-in carries, and whatever path `IndieAuth.redirect` is
given, the URL the server sends a browser to is under its own base_url."""

import urllib.parse

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

import indieauth

BASES = ["http://localhost/", "https://auth.example/", "https://auth.example/base/"]

SHAPES = st.sampled_from(["//", "/\\", "\\", "/%2F%2F", "/%2f%5c", "/https:", "/http:", "javascript:", "https://",
                          "/\t/", "/\n/", "/\r\n/", "\u2215\u2215", "\uff0f\uff0f", "/..", "/%2e%2e", "/.%2E/", "@",
                          "evil.example", "/", "?", "#", "%", ":", " "])
ATTACKS = st.lists(st.one_of(SHAPES, st.text(max_size=12)), max_size=8).map("".join)


def stays_under(location, base):
    """Location starts with base_url and keeps its scheme and host, read as a browser reads it: tabs
    and newlines dropped, backslash as slash, dot segments resolved."""
    browser = location.replace("\t", "").replace("\n", "").replace("\r", "").replace("\\", "/")
    dots = browser.replace("%2e", ".").replace("%2E", ".")  # a browser reads %2e%2e as a dot segment too
    resolved = urllib.parse.urljoin(dots, ".")  # resolves /../ the way a browser does
    seen, expected = urllib.parse.urlsplit(browser), urllib.parse.urlsplit(base)
    return (location.startswith(base) and (seen.scheme, seen.netloc) == (expected.scheme, expected.netloc)
            and resolved.startswith(base) and location.isascii() and location.isprintable()
            and " " not in location)


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    return {base: indieauth.make_test_app({"server": {"base_url": base}},
                                          folder=str(tmp_path_factory.mktemp("app")))
            for base in BASES}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.one_of(ATTACKS, st.text()), base=st.sampled_from(BASES))
@example(value="/https://evil.example/phish", base="https://auth.example/")
@example(value="/http://evil.example/phish", base="http://localhost/")
@example(value="/javascript:alert(1)", base="http://localhost/")
@example(value="/%2F%2Fevil.example", base="http://localhost/")
@example(value="/../evil", base="https://auth.example/base/")
def test_safe_next_stays_under_base_url(apps, value, base):
    """Finding 2: open redirect after sign-in (safe_next then the URL redirect builds from it)."""
    path = indieauth.safe_next(value)
    assert path in ("/", value)
    assert stays_under(apps[base].url(path), base), (value, apps[base].url(path))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.one_of(ATTACKS, st.text()), base=st.sampled_from(BASES))
@example(value="https://evil.example/phish", base="https://auth.example/")
@example(value="//evil.example", base="http://localhost/")
def test_the_redirect_url_stays_on_the_origin_whatever_the_path(apps, value, base):
    """Finding 2: open redirect (IndieAuth.url, which redirect uses, never leaves base_url's origin)."""
    location = apps[base].url(value)
    browser = location.replace("\\", "/")
    seen, expected = urllib.parse.urlsplit(browser), urllib.parse.urlsplit(base)
    assert location.startswith(base) and (seen.scheme, seen.netloc) == (expected.scheme, expected.netloc)
    assert location.isascii() and location.isprintable() and " " not in location
