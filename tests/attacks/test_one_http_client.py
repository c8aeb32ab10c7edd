"""One HTTP client (issue 15): every outbound request of the core and of the first-party plugins goes
through GuardedSession, with its time and size caps, including those to services the operator configured
(webhook receivers, GitHub's base URLs, this server's own base_url)."""

import ast
import glob
import logging
import os

import pytest
import webtest

import indieauth
from .conftest import RawServer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLIENT_LIBRARIES = ("requests", "urllib3", "http.client", "urllib.request", "httpx", "aiohttp")
SOCKET_OPENERS = ("socket", "create_connection")
# The machinery of the one client, where sending is allowed; and what else may name a client library:
# header_links parses a Link header with requests' parser (it sends nothing); testing.free_port binds
# a listening socket to find a free port for tests (it connects nowhere).
MACHINERY = {"GuardedSession", "_Deadline", "_Watched", "_watched_connections", "header_links",
             "testing.free_port"}


def modules():
    """indieauth.py and every module of the first-party plugins' packages."""
    found = [os.path.join(ROOT, "indieauth.py")]
    found += sorted(glob.glob(os.path.join(ROOT, "plugins", "*", "indieauth_*", "**", "*.py"), recursive=True))
    return found


def imported(node):
    """The dotted names an import statement brings in: `from http import client` is http.client."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and not node.level:
        return [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    return []


def is_client_library(name):
    return any(name == library or name.startswith(library + ".") for library in CLIENT_LIBRARIES)


def opens_socket(node):
    """socket.socket(…), socket.create_connection(…), or the bare names after `from socket import …`."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return func.value.id == "socket" and func.attr in SOCKET_OPENERS
    return isinstance(func, ast.Name) and func.id == "create_connection"


def offences(path):
    """(line, what, where) of each import of an HTTP client library or socket opened outside MACHINERY."""
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    found = []

    def visit(node, where):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            where = f"{where}.{node.name}" if where else node.name
        inside = os.path.basename(path) == "indieauth.py" and (
            where.split(".")[0] in MACHINERY or ".".join(where.split(".")[:2]) in MACHINERY)
        if not inside:
            names = [name for name in imported(node) if is_client_library(name)]
            names += ["socket import"] if isinstance(node, ast.ImportFrom) and node.module == "socket" and any(
                alias.name in SOCKET_OPENERS for alias in node.names) else []
            names += [ast.unparse(node.func)] if opens_socket(node) else []
            found.extend((node.lineno, name, where or "<module>") for name in names)
        for child in ast.iter_child_nodes(node):
            visit(child, where)

    visit(tree, "")
    return found


@pytest.mark.parametrize("path", modules(), ids=lambda path: os.path.relpath(path, ROOT))
def test_no_module_sends_outside_the_guarded_client(path):
    """One HTTP client: no module of the core or of a first-party plugin imports an HTTP client library
    (requests, urllib3, http.client, urllib.request, httpx, aiohttp) or opens a socket outside the
    core's GuardedSession machinery.  SMTP (smtplib, in the email plugin) is not HTTP and is allowed."""
    assert offences(path) == []


def test_the_scan_finds_what_it_looks_for(tmp_path):
    """One HTTP client: the scan above is not blind (each way of reaching the network is found)."""
    sample = tmp_path / "indieauth_sample.py"
    sample.write_text("import requests\nfrom http import client\nimport urllib.request as r\nimport socket\n"
                      "def f():\n    import httpx\n    return socket.create_connection(('h', 80))\n"
                      "class GuardedSession:\n    def g(self):\n        socket.socket()\n")
    assert [what for _, what, _ in offences(str(sample))] == [
        "requests", "http.client", "urllib.request", "httpx", "socket.create_connection", "socket.socket"]


# -- operator-configured services keep the caps ------------------------------------------------------

class Misbehaving(RawServer):
    """A TCP server on 127.0.0.1 that answers by path: /slow… a byte every half second (never long enough
    apart for a read timeout), /huge… a 200 with an endless
    body, anything else (the user's own page) an HTML page with a rel=me link to `/MODE/alice`."""

    def __init__(self):
        super().__init__()
        self.url = f"http://127.0.0.1:{self.port}"
        self.paths = []

    def answer(self, connection, request):
        path = request.split(b" ")[1].decode()
        self.paths.append(path)
        if path.startswith("/slow"):
            for byte in b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + b"x" * 1000:
                if self.stopping.wait(0.5):
                    return
                connection.sendall(bytes([byte]))
        elif path.startswith("/redirect"):
            connection.sendall(b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.2:%d/page-x/\r\n"
                               b"Content-Length: 0\r\nConnection: close\r\n\r\n" % self.port)
        elif path.startswith("/huge"):
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n")
            while not self.stopping.is_set():
                connection.sendall(b" " * 65536)
        else:
            mode = path.strip("/").removeprefix("page-")
            page = f'<a rel="me" href="{self.url}/{mode}/alice">GitHub</a>'.encode()
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n"
                               b"Content-Length: %d\r\n\r\n%s" % (len(page), page))


@pytest.fixture
def misbehaving():
    server = Misbehaving()
    yield server
    server.stop()


@pytest.fixture
def webhook_warnings():
    records = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append
    logger = logging.getLogger("indieauth.webhook")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def test_a_slow_webhook_receiver_is_cut_off_by_the_deadline(tmp_path, misbehaving, webhook_warnings):
    """One HTTP client: a webhook receiver (an operator-configured URL, on loopback here) that answers a
    byte a second is cut off after `timeout`, like any guarded fetch; it cannot hold the sender forever."""
    table = {"urls": [misbehaving.url + "/slow/hook"], "secret": "s" * 32, "timeout": "1s", "retries": 0}
    app = indieauth.make_test_app({"plugins": {"webhook": table}}, folder=str(tmp_path))
    try:
        app.event(indieauth.TokenIssued(None, "https://me.example/", "https://app.example/", "create",
                                        "authorization_code", "0123456789abcdef", None), None)
        assert app.plugin_state["webhook"].flush(6)
    finally:
        app.plugin_state["webhook"].close(1)
    assert misbehaving.paths == ["/slow/hook"]
    assert "timed out after 1 s" in webhook_warnings[0].getMessage()


@pytest.mark.parametrize("mode, problem", [("slow", "timed out after 1 s"), ("huge", "larger than")])
def test_github_base_urls_are_cut_off_by_the_time_and_size_caps(tmp_path, misbehaving, mode, problem):
    """One HTTP client: GitHub's configured base URLs (a fake GitHub on loopback, dripping or endless)
    are reached through the guarded client with its deadline and size cap: the sign-in ends with a page
    saying GitHub could not be reached, never a hang or an unbounded read."""
    settings = {"client_id": "x", "client_secret": "y", "github_url": f"{misbehaving.url}/{mode}",
                "api_url": f"{misbehaving.url}/{mode}/api", "timeout": "1s"}
    app = indieauth.make_test_app({"plugins": {"github": settings}, "security": {"fetch_allow": ["127.0.0.0/8"]}},
                                  folder=str(tmp_path), resolver=lambda host, port: ["127.0.0.1"])
    me = app.storage.create_user("alice", f"http://alice.test:{misbehaving.port}/page-{mode}/").me
    web = webtest.TestApp(app)
    form = web.get("/login").forms["github-login"]
    form["me"] = me
    message = form.submit(status=502).html.select_one("#github-error").text
    assert "could not be reached" in message and problem in message
    assert misbehaving.paths == [f"/page-{mode}/", f"/{mode}/api/users/alice", f"/{mode}/alice"]


def test_a_trusted_origin_cannot_lend_its_trust_to_a_redirect(misbehaving):
    """One HTTP client: `trusting(url)` lets the server reach that one configured origin on loopback; a
    redirect from it to any other loopback or private address is refused like any user-supplied URL."""
    http = indieauth.GuardedSession().trusting(misbehaving.url + "/")
    assert http.get(misbehaving.url + "/page-x/").status == 200
    with pytest.raises(indieauth.FetchError, match="loopback address"):
        http.get(misbehaving.url + "/redirect")
    with pytest.raises(indieauth.FetchError, match="loopback address"):
        indieauth.GuardedSession().get(misbehaving.url + "/page-x/")
    assert misbehaving.paths == ["/page-x/", "/redirect"]
