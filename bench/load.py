"""The Python side of the load: a load generator for when wrk is absent, the authorization-code flow,
and the slow client_id site with the clients that keep it busy.

Every client is its own process (so the client's GIL never limits the server), with one keep-alive
connection, running its job in a loop until a shared deadline.  A job is one request, or one whole
flow: GET /auth -> consent page -> consent POST -> code -> POST /token, with PKCE.
"""

import base64
import hashlib
import http.client
import json
import multiprocessing
import re
import secrets
import select
import socket
import threading
import time
import urllib.parse

CLIENT_ID = "http://127.0.0.1:9/"            # a loopback client: the server never fetches it
REDIRECT_URI = "http://127.0.0.1:9/callback"
CSRF_RE = re.compile(rb'name="csrf_token" value="([^"]+)"')


class FlowError(Exception):
    """A step of the flow did not answer as a real server must."""


class Browser:
    """One keep-alive connection with a cookie jar: as much of a browser (or an app) as the flow needs."""

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.cookies = {}
        self.connection = None

    def request(self, method, path, form=None, headers=None):
        """(status, headers, body); reconnects once when the server closed the kept-alive connection."""
        body = urllib.parse.urlencode(form, doseq=True) if form is not None else None
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                self.connection.request(method, path, body=body, headers=sent)
                response = self.connection.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.connection.close()
                self.connection = None
                if attempt == 2:
                    raise
        if response.will_close:
            self.connection.close()
            self.connection = None
        for value in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            if "max-age=0" in value.lower():
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, response.headers, data


def expect(status, wanted, what, body=b""):
    if status != wanted:
        raise FlowError(f"{what}: HTTP {status}, expected {wanted}: {body[:200]!r}")


def sign_in(browser, username, password):
    """The password form, as a person fills it in; leaves the session cookie in the jar."""
    status, _, page = browser.request("GET", "/login")
    expect(status, 200, "GET /login", page)
    csrf = CSRF_RE.search(page).group(1).decode()
    status, _, body = browser.request("POST", "/login/password", {"csrf_token": csrf, "next": "/",
                                                                  "username": username, "password": password})
    expect(status, 303, "POST /login/password", body)


def pkce_pair():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def flow(browser, scope="profile create"):
    """One complete authorization-code flow for a signed-in browser; returns the token response."""
    verifier, challenge = pkce_pair()
    state = secrets.token_hex(8)
    query = urllib.parse.urlencode({"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI,
                                    "state": state, "code_challenge": challenge, "code_challenge_method": "S256",
                                    "scope": scope})
    status, headers, body = browser.request("GET", "/auth?" + query)
    expect(status, 303, "GET /auth", body)
    consent = urllib.parse.urlsplit(headers["Location"]).path
    status, _, page = browser.request("GET", consent)
    expect(status, 200, "GET consent page", page)
    csrf = CSRF_RE.search(page).group(1).decode()
    status, headers, body = browser.request("POST", consent, {"csrf_token": csrf, "scope": scope.split(),
                                                              "action": "approve"})
    expect(status, 303, "POST consent", body)
    answer = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(headers["Location"]).query))
    if answer.get("state") != state or not answer.get("code"):
        raise FlowError(f"consent redirect without the code or with another state: {headers['Location']}")
    status, _, body = browser.request("POST", "/token", {"grant_type": "authorization_code", "code": answer["code"],
                                                         "client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI,
                                                         "code_verifier": verifier})
    expect(status, 200, "POST /token", body)
    tokens = json.loads(body)
    if not tokens.get("access_token") or not tokens.get("refresh_token"):
        raise FlowError(f"token response without tokens: {body[:200]!r}")
    return tokens


def _worker(job, host, port, ready, go, window, results):
    """One client process: sign in when the job needs it, say so, then run the job in a loop inside
    the time window the parent sets once every client is ready."""
    browser = Browser(host, port)
    latencies, errors, first_error = [], 0, ""
    try:
        if job["kind"] == "flow":
            sign_in(browser, job["username"], job["password"])
    except Exception as exc:  # noqa: BLE001 - reported, not raised, so the parent can say what went wrong
        first_error, errors = f"sign-in: {exc}", 1
    ready.put(True)
    go.wait()
    stop_at = window[1] if not first_error else 0  # a client that could not sign in does nothing
    time.sleep(max(0.0, window[0] - time.time()))
    while time.time() < stop_at:
        began = time.perf_counter()
        try:
            if job["kind"] == "flow":
                flow(browser, job.get("scope", "profile create"))
            else:
                status, _, body = browser.request(job["method"], job["path"], job.get("form"), job.get("headers"))
                expect(status, job.get("status", 200), f"{job['method']} {job['path']}", body)
            latencies.append(time.perf_counter() - began)
        except Exception as exc:  # noqa: BLE001
            errors += 1
            first_error = first_error or f"{type(exc).__name__}: {exc}"
            browser.connection = None
    results.put({"latencies": latencies, "errors": errors, "first_error": first_error})


def run(job, host, port, clients, duration, on_start=None):
    """Run `job` from `clients` processes for `duration` seconds; returns the summary dict.

    `job` is {"kind": "request", "method", "path", "form", "headers", "status"} or
    {"kind": "flow", "username", "password"}.  Signing in happens before the window and is not counted;
    `on_start()` is called once every client is ready, just before the window opens."""
    context = multiprocessing.get_context("fork")
    ready, results, go = context.Queue(), context.Queue(), context.Event()
    window = context.Array("d", 2)
    workers = [context.Process(target=_worker, args=(job, host, port, ready, go, window, results), daemon=True)
               for _ in range(clients)]
    for worker in workers:
        worker.start()
    for _ in workers:
        ready.get(timeout=120)
    if on_start:
        on_start()
    window[0] = time.time() + 0.05
    window[1] = window[0] + duration
    go.set()
    parts = [results.get(timeout=duration + 120) for _ in workers]
    for worker in workers:
        worker.join(timeout=5)
    latencies = sorted(x for part in parts for x in part["latencies"])
    errors = sum(part["errors"] for part in parts)
    return summarize(latencies, errors, duration, next((p["first_error"] for p in parts if p["first_error"]), ""))


def percentile(ordered, fraction):
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def summarize(latencies, errors, duration, first_error=""):
    """The same shape as the wrk summary: completed jobs per second and latency percentiles in ms."""
    return {"count": len(latencies), "errors": errors, "rate": len(latencies) / duration,
            "p50_ms": percentile(latencies, 0.50) * 1000 if latencies else None,
            "p99_ms": percentile(latencies, 0.99) * 1000 if latencies else None,
            "first_error": first_error, "generator": "python"}


# ---------------------------------------------------------------------------------------------
#  Slow client fetches: a client_id site that answers a byte a second, and clients that keep it busy
# ---------------------------------------------------------------------------------------------


class SlowSite:
    """A TCP server on 127.0.0.1 that reads a request and then answers one byte a second, as a client_id
    host on a bad connection would.  It keeps count of the connections open at once: the peak, and the
    average over a window (`window_start()` … `window_end()`)."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.open = self.peak = self.total = 0
        self.area, self.since, self.window = 0.0, time.monotonic(), None
        threading.Thread(target=self._accept, daemon=True).start()

    def _count(self, change):
        with self.lock:
            now = time.monotonic()
            self.area += self.open * (now - self.since)
            self.since, self.open = now, self.open + change
            self.total += max(0, change)
            if self.window is not None:
                self.peak = max(self.peak, self.open)

    def window_start(self):
        self._count(0)
        with self.lock:
            self.area, self.peak, self.window = 0.0, self.open, time.monotonic()

    def window_end(self):
        """(peak, average) of the connections open at once since window_start()."""
        self._count(0)
        with self.lock:
            seconds = time.monotonic() - self.window
            self.window = None
            return self.peak, self.area / seconds if seconds else 0.0

    def _accept(self):
        while not self.stopping.is_set():
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection):
        self._count(+1)
        try:
            connection.settimeout(5)
            connection.recv(65536)  # the request: its content does not matter
            for byte in b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + b"x" * 1000:
                # a second between bytes, unless the server gives up on the fetch and closes its end
                if select.select([connection], [], [], 1)[0] and not connection.recv(65536):
                    return
                if self.stopping.is_set():
                    return
                connection.sendall(bytes([byte]))
        except OSError:
            return  # the connection was reset
        finally:
            connection.close()
            self._count(-1)

    def stop(self):
        self.stopping.set()
        self.listener.close()


def hang_on_auth(host, port, client_ids, stop, pace=1.0):
    """Loop GET /auth with a fresh client_id from the iterator `client_ids`, whose page the server must
    fetch, until `stop` is set; a request answered within `pace` seconds (the server refused or
    skipped the fetch) waits out the rest, so this stays a slow-fetch load and never becomes a flood
    of /auth requests.  Returns the (status, seconds) of each request."""
    answers = []
    browser = Browser(host, port)
    while not stop.is_set():
        client_id = next(client_ids)
        verifier, challenge = pkce_pair()
        query = urllib.parse.urlencode({"response_type": "code", "client_id": client_id, "state": "s",
                                        # another origin than the client_id: only its page can publish it
                                        "redirect_uri": "https://elsewhere.example/callback",
                                        "code_challenge": challenge, "code_challenge_method": "S256",
                                        "scope": "profile"})
        began = time.monotonic()
        try:
            status = browser.request("GET", "/auth?" + query)[0]
        except OSError:
            status, browser.connection = None, None
        answers.append((status, time.monotonic() - began))
        stop.wait(max(0.0, pace - (time.monotonic() - began)))
    return answers
