"""Signed webhooks for indieauth: POST a JSON message to your own receivers after token events.

Built only on indieauth's public hooks (`configure`, `track_event`), exactly as a third-party plugin
would be.  Delivery runs on one background thread, so a slow receiver never delays a response.
"""

import atexit
import collections
import datetime
import hashlib
import hmac
import json
import logging
import threading
import time
import urllib.parse

from indieauth import (ConfigError, FetchError, GuardedSession, LoginFailed, Setting, TicketReceived, TokenIssued,
                       TokenRevoked, hookimpl)

__version__ = "0.1.0"
NAME = "webhook"
log = logging.getLogger("indieauth.webhook")

SENT = (TokenIssued, TokenRevoked, LoginFailed, TicketReceived)  # the events this plugin can send, by their `name`
SETTINGS = {
    "urls": Setting("list", [], "Receiver URLs (http:// or https://); each event is POSTed to every one. Required."),
    "secret": Setting("secret", None, "Key of the HMAC-SHA256 signature in X-IndieAuth-Signature. Required."),
    "events": Setting("list", ["token_issued"], "Which events to send: token_issued, token_revoked, login_failed, "
                                                 "ticket_received."),
    "timeout": Setting("duration", 5, "Time allowed for each POST, answer included, e.g. \"5s\"."),
    "retries": Setting("int", 3, "Further attempts after a failed one, 1 s, 2 s, 4 s … apart (0 to 10)."),
}
MAX_RETRIES = 10
QUEUE_SIZE = 1000
ANSWER_MAX_BYTES = 64 * 1024  # a receiver's answer is not used; a longer one is a failed delivery
SIGNATURE_HEADER = "X-IndieAuth-Signature"


# -- configuration

def load_settings(app):
    """The validated `[plugins.webhook]` table, its secret read; ConfigError names the key."""
    values = app.plugin_config(NAME, SETTINGS)
    where = app.config.where(f"plugins.{NAME}")
    if not values["urls"]:
        raise ConfigError(f"{where} urls: give at least one receiver URL, like [\"https://example.com/hook\"]")
    for url in values["urls"]:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"{where} urls: expected http:// or https:// URLs, got {url!r}")
    if not values["events"]:
        raise ConfigError(f"{where} events: name at least one event (or set enabled = false)")
    for event in values["events"]:
        if event not in {kind.name for kind in SENT}:
            raise ConfigError(f"{where} events: unknown event {event!r} "
                              f"(known events: {', '.join(sorted(kind.name for kind in SENT))})")
    if values["timeout"] < 1:
        raise ConfigError(f"{where} timeout: must be at least 1s, got {values['timeout']!r}")
    if not 0 <= values["retries"] <= MAX_RETRIES:
        raise ConfigError(f"{where} retries: expected 0 to {MAX_RETRIES}, got {values['retries']!r}")
    values["secret"] = app.plugin_secret(NAME, "secret", values["secret"], needed="the key that signs each delivery")
    return values


# -- messages

def iso_utc(at):
    """ISO 8601 UTC with a Z, to the second, from a naive-UTC (or aware) datetime."""
    if at.tzinfo is not None:
        at = at.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return at.replace(microsecond=0).isoformat() + "Z"


def payload_for(event, now):
    """The JSON-ready message for an event this plugin sends; `now` stamps events without a time."""
    kind = event.name
    if isinstance(event, TokenIssued):
        return {"event": kind, "message": f"{event.me} has issued an access token to {event.client_id}",
                "me": event.me, "client_id": event.client_id, "scope": event.scope,
                "grant_type": event.grant_type, "jti": event.jti, "time": iso_utc(event.at or now)}
    if isinstance(event, TokenRevoked):
        return {"event": kind, "message": f"{event.me} has revoked a token of {event.client_id}",
                "me": event.me, "client_id": event.client_id, "scope": event.scope, "kind": event.kind,
                "jti": event.jti, "time": iso_utc(event.at or now)}
    if isinstance(event, TicketReceived):  # never the token itself: it is on the person's Tickets page
        return {"event": kind, "message": f"{event.user.me} has received a token for {event.resource} from "
                                          f"{event.issuer}",
                "me": event.user.me, "resource": event.resource, "issuer": event.issuer, "scope": event.scope,
                "time": iso_utc(event.at or now)}
    who = event.username or "(no user name)"
    return {"event": kind, "message": f"Sign-in as {who} with {event.method} failed from {event.address}: "
                                      f"{event.reason}",
            "username": event.username, "method": event.method, "address": event.address,
            "reason": event.reason, "time": iso_utc(now)}


def signature(secret, body):
    """The X-IndieAuth-Signature value: "sha256=" and the hex HMAC-SHA256 of the exact body bytes."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


# -- delivery

Delivery = collections.namedtuple("Delivery", "url body event")


class Sender:
    """One daemon thread POSTing queued messages; `send` never blocks and never raises.

    Each message is tried `1 + retries` times, `backoff`, 2×, 4× … seconds apart; a 2xx answer is
    success, anything else (a redirect too, which is not followed) or a connection error is retried,
    then logged and given up.  At most `queue_size` messages wait; more are dropped and logged."""

    def __init__(self, urls, secret, events=("token_issued",), timeout=5, retries=3, backoff=1.0,
                 queue_size=QUEUE_SIZE, user_agent=f"indieauth-webhook/{__version__}", http=None):
        self.urls, self.secret, self.events = list(urls), secret, frozenset(events)
        self.timeout, self.retries = timeout, retries
        self.backoff, self.queue_size = backoff, queue_size
        # The core's guarded client (`http`, normally app.http), trusting the configured receivers, which
        # may be on loopback or a private network; each POST, answer included, ends after `timeout`.
        self.http = (http or GuardedSession()).trusting(
            *self.urls, timeout=(min(3.05, timeout), timeout), deadline=timeout, max_bytes=ANSWER_MAX_BYTES,
            max_redirects=0, user_agent=user_agent)
        self._waiting = collections.deque()
        self._busy = False
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._thread = None

    def send(self, payload):
        """Queue `payload` for every receiver URL; returns how many deliveries were queued."""
        body = json.dumps(payload).encode("utf-8")
        queued = 0
        with self._changed:
            if self._stop.is_set():
                return 0
            for url in self.urls:
                if len(self._waiting) >= self.queue_size:
                    log.warning("webhook queue full (%d waiting): dropped %s for %s",
                                len(self._waiting), payload["event"], url)
                    continue
                self._waiting.append(Delivery(url, body, payload["event"]))
                queued += 1
            self._changed.notify_all()
            self._start_worker()
        return queued

    def _start_worker(self):
        """Start the worker on first use (and again in a forked child, where it is not running)."""
        if self._thread is None or not self._thread.is_alive():
            if self._thread is None:
                atexit.register(self._at_exit)
            self._thread = threading.Thread(target=self._work, name="indieauth-webhook", daemon=True)
            self._thread.start()

    def flush(self, timeout=None):
        """Wait until nothing is queued or being delivered; False if `timeout` seconds passed first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            while self._waiting or self._busy:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._changed.wait(remaining)
        return True

    def close(self, timeout=None):
        """Stop the worker: deliveries still queued are dropped and logged, retries cut short."""
        with self._changed:
            self._stop.set()
            dropped, self._waiting = len(self._waiting), collections.deque()
            self._changed.notify_all()
        if dropped:
            log.warning("webhook stopping: %d queued deliveries dropped", dropped)
        if self._thread is not None:
            self._thread.join(self.timeout + 1 if timeout is None else timeout)
            atexit.unregister(self._at_exit)

    def _at_exit(self):
        """At interpreter exit (CLI, CGI) give queued deliveries up to `timeout` seconds to go out."""
        if not self.flush(self.timeout):
            log.warning("webhook: exiting with deliveries still queued; they are lost")

    def _work(self):
        while True:
            with self._changed:
                while not self._waiting and not self._stop.is_set():
                    self._changed.wait()
                if self._stop.is_set():
                    return
                item, self._busy = self._waiting.popleft(), True
            try:
                self._deliver(item)
            except Exception:  # never let one bad delivery end the worker
                log.exception("webhook: delivering %s to %s failed unexpectedly", item.event, item.url)
            finally:
                with self._changed:
                    self._busy = False
                    self._changed.notify_all()

    def _deliver(self, item):
        """Try one delivery up to 1 + retries times; True when a receiver answered 2xx."""
        problem = None
        for attempt in range(self.retries + 1):
            if attempt and self._stop.wait(self.backoff * 2 ** (attempt - 1)):
                return False
            problem = self._post(item)
            if problem is None:
                return True
            log.info("webhook: %s to %s failed (attempt %d of %d): %s", item.event, item.url,
                     attempt + 1, self.retries + 1, problem)
        log.warning("webhook: gave up delivering %s to %s after %d attempts: %s", item.event, item.url,
                    self.retries + 1, problem)
        return False

    def _post(self, item):
        """One POST; None on a 2xx answer, otherwise what went wrong.  The answer's body is not read."""
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature(self.secret, item.body)}
        try:
            response = self.http.request("POST", item.url, data=item.body, headers=headers, follow_redirects=False)
        except FetchError as error:
            return str(error)
        return None if 200 <= response.status < 300 else f"HTTP {response.status}"


# -- hooks

@hookimpl
def configure(app):
    settings = load_settings(app)
    app.plugin_state[NAME] = Sender(settings["urls"], settings["secret"], settings["events"], settings["timeout"],
                                    settings["retries"], http=app.http,
                                    user_agent=f"indieauth-webhook/{__version__} (+{app.base_url})")


@hookimpl
def track_event(app, event):
    """Only queues: delivery happens on the worker thread, after the response has gone."""
    sender = app.plugin_state.get(NAME)
    if sender is None or not isinstance(event, SENT) or event.name not in sender.events:
        return
    sender.send(payload_for(event, app.now()))
