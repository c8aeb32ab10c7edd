"""What the core's browser tests share besides the kit's Chromium fixtures (browser, page_factory, page,
screenshot from indieauth.testing): the server with its owner, and a real client app."""

import base64
import hashlib
import html
import secrets
import urllib.parse

import pytest
import requests

from conftest import PASSWORD, free_port, serving


@pytest.fixture
def server(make_app):
    """(base URL, app) of the server on its real address, with the owner `owner` / PASSWORD."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = make_app({"server": {"base_url": base + "/"}})
    from indieauth_password import set_password
    set_password(app, app.storage.create_user("owner", "https://owner.example/", role="owner",
                                              name="Olive Owner"), PASSWORD)
    with serving(app, port):
        yield base, app


class ClientApp:
    """A real IndieAuth client on 127.0.0.1: a page with a sign-in link, a callback that checks state
    and iss and redeems the code with PKCE, and a page saying who signed in."""

    def __init__(self, server_base):
        self.server = server_base
        self.pending = {}
        self.result = None

    def __call__(self, environ, start_response):
        path, query = environ["PATH_INFO"], dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", "")))
        base = f"http://{environ['HTTP_HOST']}"
        if path == "/":
            body = '<!doctype html><title>Test client</title><h1>Test client</h1><a id="sign-in" href="/start">Sign in with IndieAuth</a>'
        elif path == "/start":
            state, verifier = secrets.token_urlsafe(16), secrets.token_urlsafe(48)
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            self.pending[state] = verifier
            location = self.server + "/auth?" + urllib.parse.urlencode({
                "response_type": "code", "client_id": base + "/", "redirect_uri": base + "/callback",
                "state": state, "code_challenge": challenge, "code_challenge_method": "S256",
                "scope": "profile create"})
            start_response("302 Found", [("Location", location)])
            return [b""]
        elif path == "/callback":
            verifier = self.pending.pop(query.get("state", ""), None)
            if verifier is None or query.get("iss") != self.server + "/":
                body = "<p id='result'>bad state or iss</p>"
            elif "error" in query:
                body = f"<p id='result'>error: {html.escape(query['error'])}</p>"
            else:
                answer = requests.post(self.server + "/token", timeout=5, data={
                    "grant_type": "authorization_code", "code": query["code"], "client_id": base + "/",
                    "redirect_uri": base + "/callback", "code_verifier": verifier}).json()
                self.result = answer
                body = f"<p id='result'>signed in as {html.escape(answer.get('me', '?'))}</p>"
        else:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [body.encode()]


@pytest.fixture
def client_app(server):
    base, _ = server
    app = ClientApp(base)
    with serving(app) as url:
        app.url = url
        yield app
