"""End to end with the official MCP Python SDK (issue 20): its OAuth client connects to an MCP server
(the SDK's MCPServer, once FastMCP) on 127.0.0.1 that verifies our tokens with `indieauth_resource`,
audience checked, once through the JSON Web Key Set and once through introspection.  The client is sent
to a real indieauth server on another port, identifies itself by a Client ID Metadata Document (served
by a FakeServer under a test name the server's resolver sends to 127.0.0.1), a person signs in with a
password and allows it (requests and the pages' own forms), and the tool call returns the person's `me`."""

import asyncio
import contextlib
import os
import threading
import time
import urllib.parse

import pytest
import requests

import indieauth
from conftest import PASSWORD, free_port, serving
from indieauth_resource import Refused, ResourceProtector

if not os.environ.get("CI"):  # under CI it must be there: the test extra installs it
    pytest.importorskip("mcp", reason="the MCP SDK comes with the test extra (mcp==2.3.0)")

ME = "https://owner.example/"


def resolver(host, port):
    return ["127.0.0.1"]  # app.test, the MCP client's site: this machine


@pytest.fixture
def issuer(tmp_path):
    """A real indieauth server on 127.0.0.1 that may fetch the client's document from app.test."""
    from indieauth_password import set_password
    port = free_port()
    app = indieauth.make_test_app({"server": {"base_url": f"http://127.0.0.1:{port}/"},
                                   "security": {"fetch_allow": ["127.0.0.1/32"]}, "plugins": {"password": {}}},
                                  folder=str(tmp_path), resolver=resolver)
    set_password(app, app.storage.create_user("owner", ME, role="owner"), PASSWORD)
    with serving(app, port):
        yield app
    app.close()


@pytest.fixture
def client_site(fake_http):
    """The MCP client's Client ID Metadata Document, at http://app.test:PORT/client.json."""
    client_id = fake_http.url_for("/client.json", host="app.test")
    fake_http.route("/client.json", {"client_id": client_id, "client_name": "Notes assistant",
                                     "client_uri": fake_http.url_for("/", host="app.test"),
                                     "redirect_uris": [fake_http.url_for("/callback", host="app.test")],
                                     "token_endpoint_auth_method": "none"})
    return fake_http


class IndieAuthTokenVerifier:
    """The MCP SDK's TokenVerifier on indieauth_resource (the recipe of docs/api.md)."""

    def __init__(self, protector):
        self.protector = protector

    async def verify_token(self, token):
        from mcp.server.auth.provider import AccessToken
        try:
            found = await self.protector.verify_async(token)
        except Refused:
            return None
        return AccessToken(token=token, client_id=found.client_id, scopes=list(found.scope), expires_at=found.exp,
                           resource=self.protector.resource, subject=found.me, claims=found.claims)


@contextlib.contextmanager
def mcp_server(issuer_url, introspect_at=None):
    """An MCP server with a tool `whoami`, auth on, on a real port (uvicorn in a thread); yields its URL.
    With `introspect_at` (the indieauth app), it introspects with a credential bound to its URL."""
    import uvicorn
    from mcp.server.auth.middleware.auth_context import get_access_token
    from mcp.server.auth.settings import AuthSettings
    from mcp.server.mcpserver import MCPServer
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    credential = introspect_at and introspect_at.storage.add_resource_server("notes", resources=url)
    protector = ResourceProtector(issuer_url, url, introspection_credential=credential)
    server = MCPServer("notes", token_verifier=IndieAuthTokenVerifier(protector),
                       auth=AuthSettings(issuer_url=issuer_url, resource_server_url=url, required_scopes=["read"],
                                         validate_token_resource=True))

    @server.tool()
    def whoami() -> str:
        """Whose token called this tool."""
        return get_access_token().subject

    web = uvicorn.Server(uvicorn.Config(server.streamable_http_app(), host="127.0.0.1", port=port,
                                        log_level="warning", lifespan="on"))
    thread = threading.Thread(target=web.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not web.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield url
    finally:
        web.should_exit = True
        thread.join(timeout=10)


class Person:
    """Someone at a browser without JavaScript: follows the app's link, signs in with the password and
    allows the app, through the pages' own forms; what the app gets back is `location`."""

    def __init__(self):
        self.browser = requests.Session()
        self.location = None
        self.pages = []

    def submit(self, page, form_id, **values):
        from bs4 import BeautifulSoup
        form = BeautifulSoup(page.text, "html.parser").find("form", id=form_id)
        assert form is not None, f"no form {form_id} on {page.url}"
        data = [(field["name"], field.get("value", "")) for field in form.find_all("input")
                if field.get("name") and (field.get("type") != "checkbox" or field.has_attr("checked"))
                and field["name"] not in values]
        data += list(values.items())
        return self.browser.post(urllib.parse.urljoin(page.url, form.get("action") or page.url), data=data,
                                 allow_redirects=False, timeout=10)

    def allow(self, authorization_url):
        page = self.browser.get(authorization_url, timeout=10)  # /auth → the consent page → sign-in first
        self.pages.append(page.text)
        if 'id="password-login"' in page.text:
            signed_in = self.submit(page, "password-login", username="owner", password=PASSWORD)
            assert signed_in.status_code == 303, signed_in.text
            page = self.browser.get(urllib.parse.urljoin(page.url, signed_in.headers["Location"]), timeout=10)
            self.pages.append(page.text)
        answer = self.submit(page, "consent", action="approve")
        assert answer.status_code == 303, answer.text
        self.location = answer.headers["Location"]


class Memory:
    """The SDK client's TokenStorage, in memory."""

    def __init__(self):
        self.tokens = self.client_info = None

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens):
        self.tokens = tokens

    async def get_client_info(self):
        return self.client_info

    async def set_client_info(self, client_info):
        self.client_info = client_info


async def call_whoami(server_url, client_id, person):
    """The SDK's OAuth client calling the tool `whoami`: the text it returns."""
    import httpx2
    from mcp.client import Client
    from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared.auth import OAuthClientMetadata

    async def redirect(authorization_url):
        await asyncio.to_thread(person.allow, authorization_url)

    async def callback():
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(person.location).query))
        return AuthorizationCodeResult(code=query["code"], state=query.get("state"), iss=query.get("iss"))

    redirect_uri = urllib.parse.urljoin(client_id, "/callback")
    provider = OAuthClientProvider(server_url, OAuthClientMetadata(redirect_uris=[redirect_uri],
                                                                   token_endpoint_auth_method="none"),
                                   Memory(), redirect, callback,
                                   client_metadata_url="https://app.test/client.json")
    # The SDK takes only an https client_id URL (CIMD requires it); the document here is served over
    # plain HTTP by a FakeServer, so the URL the SDK sends is set after it checked the https one.
    provider.context.client_metadata_url = client_id
    async with httpx2.AsyncClient(auth=provider, timeout=20) as http:
        async with Client(streamable_http_client(server_url, http_client=http)) as client:
            result = await client.call_tool("whoami", {})
    return result, provider


@pytest.mark.parametrize("way", ["jwks", "introspection"])
def test_the_mcp_sdk_client_gets_a_token_here_and_the_tool_returns_me(issuer, client_site, way):
    client_id = client_site.url_for("/client.json", host="app.test")
    with mcp_server(issuer.issuer, introspect_at=issuer if way == "introspection" else None) as server_url:
        person = Person()
        result, provider = asyncio.run(call_whoami(server_url, client_id, person))
        token = provider.context.current_tokens.access_token
        requests.post(issuer.url("revoke"), data={"token": token, "client_id": client_id}, timeout=10)
        after = requests.post(server_url, json={}, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    # introspection sees a revocation at once; a JWT verified with the keys stays good until it expires
    assert (after.status_code == 401) == (way == "introspection"), after.status_code
    assert not result.is_error, result
    assert [block.text for block in result.content] == [ME]
    # it found client_id_metadata_document_supported in our metadata, so it identified itself by its
    # document, which the server fetched; the person saw the app's name from it
    assert provider.context.oauth_metadata.client_id_metadata_document_supported is True
    assert any(r.path == "/client.json" for r in client_site.requests)
    assert any("Notes assistant" in page for page in person.pages)
    # the token was issued for this MCP server: RFC 8707's resource, carried into the JWT's aud
    import jwt
    assert jwt.decode(provider.context.current_tokens.access_token,
                      options={"verify_signature": False})["aud"] == server_url


def test_an_mcp_server_configured_without_the_issuers_trailing_slash_stops_the_client(issuer, client_site):
    # the issuer is an exact string: the SDK compares the metadata's issuer with the one the MCP server names
    from mcp.client.auth import OAuthFlowError
    client_id = client_site.url_for("/client.json", host="app.test")
    with mcp_server(issuer.issuer.rstrip("/")) as server_url:
        with pytest.raises(BaseException) as raised:
            asyncio.run(call_whoami(server_url, client_id, Person()))
    assert any(isinstance(error, OAuthFlowError) and "issuer mismatch" in str(error)
               for error in grouped(raised.value)), raised.value


def grouped(error):
    """`error` and every exception it groups (the SDK's task groups raise ExceptionGroups)."""
    yield error
    for inner in getattr(error, "exceptions", ()):
        yield from grouped(inner)
