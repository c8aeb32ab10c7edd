"""The email plugin, tested as a third party would: indieauth.testing and webtest, with the kit's real SMTP
server (aiosmtpd on 127.0.0.1) that records what it receives and its real HTTP server for profile pages."""

import contextlib
import datetime
import email.message
import ipaddress
import json
import logging
import re
import socket
import ssl
import threading
import time
import urllib.parse

import pytest
import webtest
from aiosmtpd.smtp import AuthResult, LoginPassword

import indieauth
import indieauth_email as em
from indieauth import testing
from indieauth_password import set_password

ME = "https://ann.example/"
ADDRESS = "ann@example.com"
PASSWORD = "a long enough password"
ADDR = {"REMOTE_ADDR": "192.0.2.10"}


Clock = testing.Clock


free_port = testing.free_port


# -- a real SMTP server ---------------------------------------------------------------------------

class Inbox(testing.SmtpFake):
    """The kit's SMTP fake, reading the email plugin's messages."""

    def last(self):
        """(message, code, link path) of the newest message."""
        message = self.received()[-1]["message"]
        body = message.get_content()
        code = re.search(r"\b(\d{6})\b", body).group(1)
        link = re.search(r"http://localhost(/login/email/link\?\S+)", body).group(1)
        return message, code, link


@pytest.fixture
def inbox():
    with Inbox() as inbox:
        yield inbox


class SlowSmtp:
    """A real TCP server on 127.0.0.1 standing for a slow mail server: it takes each connection and says
    nothing until `answer(reply)` (one SMTP reply, then it hangs up) or `forward(port)` (from then on each
    connection is passed on to the SMTP server on `port`); `connections` counts what it took."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.port = self.listener.getsockname()[1]
        self.released, self.stopped = threading.Event(), threading.Event()
        self.reply, self.target, self.taken = None, None, []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def connections(self):
        return len(self.taken)

    def _accept(self):
        while not self.stopped.is_set():
            try:
                conn, _ = self.listener.accept()
            except (TimeoutError, OSError):
                continue
            self.taken.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()
        self.listener.close()

    def _serve(self, conn):
        self.released.wait()
        with contextlib.suppress(OSError):
            if self.target is None or self.stopped.is_set():
                conn.sendall(f"{self.reply}\r\n".encode() if self.reply else b"")
                conn.close()
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self._pipe, args=(upstream, conn), daemon=True).start()
            self._pipe(conn, upstream)

    @staticmethod
    def _pipe(source, sink):
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
            sink.shutdown(socket.SHUT_WR)

    def answer(self, reply):
        self.reply = reply
        self.released.set()

    def forward(self, port):
        self.target = port
        self.released.set()

    def hold(self):
        """Say nothing again to the connections taken from now on."""
        self.reply, self.target = None, None
        self.released.clear()

    def stop(self):
        self.stopped.set()
        self.released.set()
        for conn in self.taken:
            with contextlib.suppress(OSError):
                conn.close()


@pytest.fixture
def slow_smtp():
    server = SlowSmtp()
    yield server
    server.stop()


# -- apps and people ------------------------------------------------------------------------------

@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def make_app(tmp_path, clock, inbox):
    """make_app(email={...overrides}, **other config tables): the email plugin talking to `inbox`."""
    def make(email=None, resolver=None, **tables):
        settings = {"host": "127.0.0.1", "port": inbox.port, "security": "none",
                    "from_address": "IndieAuth <auth@example.com>"}
        settings.update(email or {})
        config = {"plugins": {**tables.pop("plugins", {}), "email": settings}, **tables}
        return testing.make_app(config, folder=str(tmp_path), clock=clock, resolver=resolver)
    return make


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def ann(app):
    return app.storage.create_user("ann", ME, role="owner", email=ADDRESS)


@pytest.fixture
def web(app):
    return webtest.TestApp(app, extra_environ=ADDR)


def send_code(web, username="ann", next_url=None, status=303):
    """Ask for a code on the login page as a person would; returns the response."""
    form = web.get("/login" + (f"?next={urllib.parse.quote(next_url)}" if next_url else "")).forms["email-send"]
    form["username"] = username
    return form.submit(status=status)


def enter_code(page, code, status=303):
    """Type `code` into the code form of `page`; returns the response."""
    form = page.forms["email-code"]
    form["code"] = code
    return form.submit(status=status)


def signed_in(web):
    return "Signed in as" in web.get("/").text


def code_page(web, inbox):
    """Send a code for ann; (the page to enter it, the code, the link path)."""
    page = send_code(web).follow()
    _, code, link = inbox.last()
    return page, code, link


def alert(response):
    return response.html.select_one("[role=alert]").text


# -- the whole sign-in ----------------------------------------------------------------------------

def test_sign_in_with_a_code_through_an_authorization_request(web, ann, inbox):
    consent_url, verifier = testing.start_authorization(web)
    login = web.get(consent_url, status=303).follow()
    form = login.forms["email-send"]
    form["username"] = "ann"
    page = form.submit(status=303).follow()
    _, code, _ = inbox.last()
    assert enter_code(page, code).headers["Location"].endswith(consent_url)
    tokens = testing.redeem(web, testing.approve(web, consent_url), verifier)
    assert tokens["me"] == ME and tokens["access_token"]


def test_sign_in_with_the_one_click_link_through_an_authorization_request(web, ann, inbox):
    consent_url, verifier = testing.start_authorization(web)
    send_code(web, next_url=consent_url)
    _, _, link = inbox.last()
    confirm = web.get(link)
    assert confirm.forms["email-link"].submit(status=303).headers["Location"].endswith(consent_url)
    tokens = testing.redeem(web, testing.approve(web, consent_url), verifier)
    assert tokens["me"] == ME


def test_opening_the_link_uses_nothing_up(app, web, ann, inbox):
    _, _, link = code_page(web, inbox)
    previewer = webtest.TestApp(app, extra_environ=ADDR)
    for _ in range(3):  # a link previewer, a virus scanner, the person
        assert "Press the button to sign in as" in previewer.get(link).text
    assert not signed_in(previewer)
    web.get(link).forms["email-link"].submit(status=303)
    assert signed_in(web)


def test_the_email_holds_the_code_the_link_and_who_signs_in(web, ann, inbox):
    send_code(web)
    received = inbox.received()[0]
    message, code, link = inbox.last()
    assert received["rcpt_tos"] == [ADDRESS] and message["To"] == ADDRESS
    assert message["From"] == "IndieAuth <auth@example.com>" and message["Subject"] == "Your sign-in code"
    assert message["Auto-Submitted"] == "auto-generated" and message["Message-ID"].endswith("@example.com>")
    body = message.get_content()
    assert f"Your sign-in code is {code}" in body and ME in body and "10 minutes" in body
    assert "user=ann" in link and "token=" in link


def test_the_page_says_where_the_code_went_and_what_to_do_if_it_does_not_come(web, ann, inbox):
    page, _, _ = code_page(web, inbox)
    assert "a•••@example.com" in page.html.select_one("#email-sent").text
    help_text = page.html.select_one("#email-help").text
    assert "spam" in help_text and "another way to sign in" in help_text
    assert page.forms["email-resend"].action == "/login/email/send"


def test_the_code_and_link_are_stored_only_as_hashes(app, web, ann, inbox):
    _, code, link = code_page(web, inbox)
    token = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)["token"][0]
    with app.storage.bound(), app.storage.database.connection_context():
        stored = indieauth.Credential.get(indieauth.Credential.method == "email").data
    assert code not in stored and token not in stored and ADDRESS not in stored
    assert indieauth.token_hash(token) in stored


def test_the_login_form_has_labels_and_autocomplete(web, ann, inbox):
    web.app.storage.create_user("bob", "https://bob.example/")  # with one user there is no user name field
    login = web.get("/login").html
    assert login.select_one("#email-username")["autocomplete"] == "username"
    assert login.select_one("label[for=email-username]")
    page, _, _ = code_page(web, inbox)
    field = page.html.select_one("#email-code-input")
    assert field["autocomplete"] == "one-time-code" and field["inputmode"] == "numeric"
    assert page.html.select_one("label[for=email-code-input]")


def test_sending_without_the_csrf_token_is_refused(web, ann, inbox):
    web.post("/login/email/send", {"username": "ann"}, status=403)
    assert inbox.messages == []


# -- wrong, expired, replayed and guessed codes -----------------------------------------------------

def test_a_wrong_code_is_refused_and_the_right_one_still_works(web, ann, inbox):
    page, code, _ = code_page(web, inbox)
    wrong = f"{(int(code) + 1) % 10 ** 6:06d}"
    refused = enter_code(page, wrong, status=400)
    assert "The code is not right. You have 4 tries left." in alert(refused)
    assert refused.html.select_one("#email-code-input")["aria-describedby"] == "email-error"
    enter_code(refused, code)
    assert signed_in(web)


@pytest.mark.parametrize("typed", ["12345", "1234567", "abcdef", ""])
def test_a_code_that_is_not_six_digits_costs_no_try(app, web, ann, inbox, typed):
    page, code, _ = code_page(web, inbox)
    assert "6-digit code" in alert(enter_code(page, typed, status=400))
    assert app.storage.get_credential(ann, "email")["pending"]["tries"] == 0


def test_spaces_and_dashes_in_the_code_are_ignored(web, ann, inbox):
    page, code, _ = code_page(web, inbox)
    enter_code(page, f" {code[:3]}-{code[3:]} ")
    assert signed_in(web)


@pytest.mark.parametrize("seconds, works", [(599, True), (601, False)])
def test_the_code_works_for_ten_minutes(web, ann, inbox, clock, seconds, works):
    page, code, _ = code_page(web, inbox)
    clock.advance(seconds=seconds)
    response = enter_code(page, code, status=303 if works else 400)
    assert works or "This code has expired" in alert(response)
    assert signed_in(web) is works


def test_the_link_expires_with_the_code(web, ann, inbox, clock):
    _, _, link = code_page(web, inbox)
    clock.advance(minutes=10, seconds=1)
    page = web.get(link, status=400)
    assert "This link has expired" in alert(page) and not page.forms


def test_a_used_code_cannot_be_used_again(app, web, ann, inbox):
    page, code, _ = code_page(web, inbox)
    enter_code(page, code)
    again = webtest.TestApp(app, extra_environ=ADDR)
    csrf = again.get("/login").forms["email-send"]["csrf_token"].value
    replay = again.post("/login/email", {"csrf_token": csrf, "username": "ann", "code": code, "step": "code"},
                        status=400)
    assert "This code has been used already" in alert(replay)
    assert not signed_in(again)


def test_a_used_link_cannot_be_used_again(app, web, ann, inbox):
    _, _, link = code_page(web, inbox)
    form = web.get(link).forms["email-link"]
    form.submit(status=303)
    again = webtest.TestApp(app, extra_environ=ADDR)
    replay = again.get(link, status=400)
    assert "This link has been used already" in alert(replay)
    assert form.submit(status=400) and not signed_in(again)


def test_the_link_and_the_code_are_one_single_use(web, ann, inbox):
    page, code, link = code_page(web, inbox)
    enter_code(page, code)
    assert "used already" in alert(web.get(link, status=400))


def test_a_link_with_a_wrong_token_is_refused(web, ann, inbox):
    _, _, link = code_page(web, inbox)
    forged = re.sub(r"token=[^&]+", "token=" + "A" * 43, link)
    assert "not right" in alert(web.get(forged, status=400))


def test_five_wrong_tries_void_the_code_and_its_link(make_app, inbox):
    app = make_app(security={"account_failures": 100})  # the throttle is tested on its own below
    app.storage.create_user("ann", ME, email=ADDRESS)
    web = webtest.TestApp(app, extra_environ=ADDR)
    page, code, link = code_page(web, inbox)
    wrong = f"{(int(code) + 1) % 10 ** 6:06d}"
    for left in (4, 3, 2, 1):
        page = enter_code(page, wrong, status=400)
        assert f"You have {left} tr" in alert(page)
    page = enter_code(page, wrong, status=400)
    assert "no longer works" in alert(page) and "email-code" not in page.forms  # back to "send a new code"
    csrf = web.get("/login").forms["email-send"]["csrf_token"].value
    refused = web.post("/login/email", {"csrf_token": csrf, "username": "ann", "code": code, "step": "code"},
                       status=400)
    assert "no longer works" in alert(refused)
    assert "no longer works" in alert(web.get(link, status=400))
    assert not signed_in(web)


def test_failed_codes_are_throttled_like_passwords(make_app, inbox):
    app = make_app(security={"account_failures": 3})
    app.storage.create_user("ann", ME, email=ADDRESS)
    web = webtest.TestApp(app, extra_environ=ADDR)
    page, code, _ = code_page(web, inbox)
    for _ in range(3):
        page = enter_code(page, f"{(int(code) + 1) % 10 ** 6:06d}", status=400)
    throttled = enter_code(page, code, status=429)
    assert "Too many failed attempts. You can try again in" in alert(throttled)
    assert int(throttled.headers["Retry-After"]) > 0
    assert not signed_in(web)


def test_a_new_code_replaces_the_old_one(web, ann, inbox, clock):
    page, old, _ = code_page(web, inbox)
    clock.advance(seconds=61)
    page.forms["email-resend"].submit(status=303)
    assert len(inbox.received(2)) == 2
    _, new, _ = inbox.last()
    if new != old:  # one time in a million they are the same
        assert "not right" in alert(enter_code(page, old, status=400))
    enter_code(page, new)
    assert signed_in(web)


def test_a_new_code_can_be_sent_only_after_a_minute(web, ann, inbox, clock):
    page, code, _ = code_page(web, inbox)
    refused = page.forms["email-resend"].submit(status=429)
    assert "A code was sent less than a minute ago" in alert(refused) and refused.headers["Retry-After"] == "60"
    assert len(inbox.messages) == 1
    enter_code(refused, code)  # the code form is still there, and the first code still works
    assert signed_in(web)


def test_at_most_five_codes_an_hour(web, ann, inbox, clock):
    for _ in range(5):
        send_code(web)
        clock.advance(seconds=61)
    refused = send_code(web, status=429)
    assert "5 codes have been sent to this account in the last hour" in alert(refused)
    assert len(inbox.messages) == 5
    clock.advance(minutes=56)
    send_code(web)


# -- who gets a code ------------------------------------------------------------------------------

def test_an_unknown_user_gets_no_code(web, ann, inbox):
    response = send_code(web, username="bob", status=400)
    assert "No code was sent: there is no user named 'bob' with an email address" in alert(response)
    assert inbox.messages == []


def test_a_user_without_an_address_gets_no_code(app, web, inbox):
    app.storage.create_user("bob", "https://bob.example/")
    app.plugin_state["email"].found["https://bob.example/"] = (None, datetime.datetime.max)  # would be fetched
    app.http.resolver = lambda host, port: ["203.0.113.1"]  # a documentation address: refused, never fetched
    response = send_code(web, username="bob", status=400)
    assert "there is no user named 'bob' with an email address" in alert(response)
    assert inbox.messages == []


@pytest.fixture
def profile_server():
    """start(html, link_header=None) -> a FakeServer (real HTTP on 127.0.0.1) answering with one profile page."""
    with contextlib.ExitStack() as stack:
        def start(html, link_header=None):
            server = stack.enter_context(testing.FakeServer())
            return server.route("/*", (200, {"Link": link_header} if link_header else {}, html))
        yield start


def app_fetching_profiles(make_app):
    return make_app(resolver=lambda host, port: ["127.0.0.1"], security={"fetch_allow": ["127.0.0.1/32"]})


@pytest.mark.parametrize("html, link_header", [
    ('<a rel="me" href="https://github.com/ann">GitHub</a> <a rel="me" href="mailto:ann@example.org?subject=hi">mail</a>',
     None),
    ('<link rel="me authn" href="mailto:ann%40example.org">', None),
    ("<p>nothing here</p>", "<mailto:ann@example.org>; rel=\"me\""),
])
def test_a_mailto_rel_me_on_the_profile_page_is_used_when_there_is_no_email(make_app, inbox, profile_server, html,
                                                                            link_header):
    server = profile_server(f"<!doctype html><html><body>{html}</body></html>", link_header)
    app = app_fetching_profiles(make_app)
    app.storage.create_user("ann", f"http://ann.example:{server.port}/")
    web = webtest.TestApp(app, extra_environ=ADDR)
    page = send_code(web).follow()
    assert "a•••@example.org" in page.html.select_one("#email-sent").text
    assert inbox.received()[0]["rcpt_tos"] == ["ann@example.org"]
    enter_code(page, inbox.last()[1])
    assert signed_in(web)


def test_the_email_field_wins_over_a_mailto_rel_me(make_app, inbox, profile_server):
    server = profile_server('<a rel="me" href="mailto:other@example.org">mail</a>')
    app = app_fetching_profiles(make_app)
    app.storage.create_user("ann", f"http://ann.example:{server.port}/", email=ADDRESS)
    send_code(webtest.TestApp(app, extra_environ=ADDR))
    assert inbox.received()[0]["rcpt_tos"] == [ADDRESS]


@pytest.mark.parametrize("href", ["mailto:", "mailto:ann@example.org%0d%0aBcc:eve@example.net",
                                  "mailto:not an address", "https://ann.example/contact"])
def test_a_rel_me_that_is_not_one_plain_address_is_not_used(make_app, inbox, profile_server, href):
    server = profile_server(f'<a rel="me" href="{href}">mail</a>')
    app = app_fetching_profiles(make_app)
    app.storage.create_user("ann", f"http://ann.example:{server.port}/")
    assert "with an email address" in alert(send_code(webtest.TestApp(app, extra_environ=ADDR), status=400))
    assert inbox.messages == []


def test_profile_pages_are_fetched_through_the_ssrf_guard(app, web, inbox, profile_server):
    server = profile_server('<a rel="me" href="mailto:ann@example.org">mail</a>')  # on loopback: refused
    app.storage.create_user("ann", f"http://127.0.0.1:{server.port}/")
    assert "with an email address" in alert(send_code(web, status=400))
    assert inbox.messages == []


# -- the mail server ------------------------------------------------------------------------------

@pytest.fixture
def warnings():
    """WARNING records of the "indieauth.email" logger (a handler of its own: the core's CLI may have
    stopped "indieauth" records from reaching pytest's caplog)."""
    records = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append
    logger = logging.getLogger("indieauth.email")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def test_a_mail_server_that_is_down_is_a_clear_message_not_a_500(make_app, warnings):
    app = make_app(email={"port": free_port()})  # nothing listens there
    app.storage.create_user("ann", ME, email=ADDRESS)
    web = webtest.TestApp(app, extra_environ=ADDR)
    response = send_code(web, status=502)
    assert alert(response) == ("The code could not be sent: the mail server refused the connection. "
                               "Try again, or use another way to sign in.")
    assert "email-send" in response.forms  # no code form: no code is waiting
    assert any("could not be sent" in r.getMessage() and "ConnectionRefusedError" in r.getMessage()
               for r in warnings)
    assert app.storage.get_credential(app.storage.get_user(username="ann"), "email") in (None, {})


def eventually(check, timeout=10):
    """check()'s first true value, polling with a deadline: for what a fetcher thread does after a response."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, "it did not happen in time"
        time.sleep(0.02)
    return value


def events(app, kind):
    return [json.loads(event.data) for event in app.storage.events() if event.kind == kind]


def timed_send(web):
    """Ask for a code for ann; (the response, the seconds the send request took)."""
    form = web.get("/login").forms["email-send"]
    form["username"] = "ann"
    started = time.monotonic()
    response = form.submit(status="*")
    return response, time.monotonic() - started


@pytest.mark.parametrize("answer, reason", [(None, "the mail server did not answer in time"),
                                            ("554 5.3.2 not now", "the mail server answered 554")])
def test_a_slow_mail_server_does_not_hold_the_page_and_its_refusal_is_shown_later(make_app, slow_smtp, warnings,
                                                                                 answer, reason):
    app = make_app(email={"port": slow_smtp.port, "timeout": "3s"})
    ann = app.storage.create_user("ann", ME, email=ADDRESS)
    web = webtest.TestApp(app, extra_environ=ADDR)
    response, seconds = timed_send(web)
    assert response.status_int == 303 and em.SEND_WAIT <= seconds < em.SEND_WAIT + 1
    page = response.follow()
    assert "is on its way to a•••@example.com" in page.html.select_one("#email-sent").text
    assert "email-code" in page.forms and not page.html.select_one("[role=alert]")
    if answer:
        slow_smtp.answer(answer)  # else the 3 s timeout passes
    failed = eventually(lambda: events(app, "email_code_failed"))
    assert failed == [{"to": "a•••@example.com", "reason": reason, "address": ADDR["REMOTE_ADDR"]}]
    reloaded = web.get(page.request.url)
    assert alert(reloaded) == f"The code could not be sent: {reason}. Try again, or use another way to sign in."
    assert "email-send" in reloaded.forms and "email-code" not in reloaded.forms  # no code is waiting
    assert "pending" not in app.storage.get_credential(ann, "email") and not events(app, "email_code_sent")
    assert any(f"could not be sent after its page was shown: {reason}" in r.getMessage() for r in warnings)
    assert slow_smtp.connections == 1


def test_a_slow_mail_server_that_takes_the_email_in_the_end(make_app, slow_smtp, inbox):
    app = make_app(email={"port": slow_smtp.port})
    app.storage.create_user("ann", ME, email=ADDRESS)
    web = webtest.TestApp(app, extra_environ=ADDR)
    response, seconds = timed_send(web)
    assert response.status_int == 303 and seconds < em.SEND_WAIT + 1
    page = response.follow()
    assert "is on its way" in page.text and not events(app, "email_code_sent")
    slow_smtp.forward(inbox.port)
    _, code, _ = inbox.last()
    assert eventually(lambda: events(app, "email_code_sent")) == [{"to": "a•••@example.com",
                                                                   "address": ADDR["REMOTE_ADDR"]}]
    reloaded = web.get(page.request.url)
    assert "We sent a 10-minute sign-in code to a•••@example.com" in reloaded.html.select_one("#email-sent").text
    enter_code(reloaded, code)
    assert signed_in(web)


def test_when_a_new_code_is_refused_later_the_one_sent_before_still_works(make_app, slow_smtp, inbox, clock):
    app = make_app(email={"port": slow_smtp.port})
    app.storage.create_user("ann", ME, email=ADDRESS)
    web = webtest.TestApp(app, extra_environ=ADDR)
    slow_smtp.forward(inbox.port)
    page, code, _ = code_page(web, inbox)
    eventually(lambda: events(app, "email_code_sent"))  # within SEND_WAIT or, on a slow machine, after
    clock.advance(seconds=61)
    slow_smtp.hold()
    page = page.forms["email-resend"].submit(status=303).follow()
    assert "is on its way" in page.text
    slow_smtp.answer("554 5.3.2 not now")
    eventually(lambda: events(app, "email_code_failed"))
    reloaded = web.get(page.request.url)
    assert alert(reloaded).startswith("The code could not be sent: the mail server answered 554.")
    assert "We sent a 10-minute sign-in code" in reloaded.text  # the first one, put back
    enter_code(reloaded, code)
    assert signed_in(web)


def test_the_send_limit_holds_while_an_email_is_on_its_way(make_app, slow_smtp, inbox):
    app = make_app(email={"port": slow_smtp.port})
    app.storage.create_user("ann", ME, email=ADDRESS)
    web = webtest.TestApp(app, extra_environ=ADDR)
    page = timed_send(web)[0].follow()
    refused = page.forms["email-resend"].submit(status=429)  # refused before any email is queued
    assert "A code was sent less than a minute ago" in alert(refused) and "is on its way" in refused.text
    send_code(web, status=429)
    slow_smtp.forward(inbox.port)
    eventually(lambda: events(app, "email_code_sent"))
    assert slow_smtp.connections == 1 and len(inbox.messages) == 1


def test_when_the_fetchers_are_full_no_code_is_sent_or_stored(app, web, ann, inbox):
    app.fetchers = indieauth.Fetchers(size=1, queue=1)
    started, release = threading.Event(), threading.Event()
    app.fetchers.submit("busy", lambda: (started.set(), release.wait(10)))
    started.wait(5)
    app.fetchers.submit("waiting", lambda: None)  # the one place in the queue
    try:
        response = send_code(web, status=503)
    finally:
        release.set()
    assert alert(response) == ("No code was sent: the server is busy sending other emails. Try again in a "
                               "moment.")
    assert response.headers["Retry-After"] == "1" and "email-send" in response.forms
    assert app.storage.get_credential(ann, "email") in (None, {}) and inbox.messages == []


def test_a_mail_server_that_never_answers_did_not_answer_in_time(slow_smtp, warnings):
    mailer = em.Mailer("127.0.0.1", slow_smtp.port, "none", timeout=1)
    with pytest.raises(em.SendError, match="^the mail server did not answer in time$"):
        mailer.send(email.message.EmailMessage())  # smtplib reports the stall as a closed connection
    assert slow_smtp.connections == 1 and warnings


def test_a_custom_template(make_app, inbox, tmp_path):
    (tmp_path / "mail.txt").write_text("Hi {me}! Code {code}, or {link} ({minutes} min). {{braces}} Grüße\n")
    app = make_app(email={"template": "mail.txt", "subject": "Sign in to ann.example"})
    app.storage.create_user("ann", ME, email=ADDRESS)
    send_code(webtest.TestApp(app, extra_environ=ADDR))
    message, code, link = inbox.last()
    assert message.get_content().replace("\r\n", "\n") == f"Hi {ME}! Code {code}, or http://localhost{link} (10 min). {{braces}} Grüße\n"
    assert message["Subject"] == "Sign in to ann.example"


def make_certificates(folder):
    """A CA (ca.pem) and a certificate for 127.0.0.1 signed by it (server.pem, server.key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    server = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
              .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
              .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                             critical=False)
              .sign(ca_key, hashes.SHA256()))
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "server.pem").write_bytes(server.public_bytes(serialization.Encoding.PEM))
    (folder / "server.key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                          serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))


@pytest.fixture
def tls_inbox(tmp_path):
    """An SMTP server that requires STARTTLS and AUTH as mailer / mail password."""
    make_certificates(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tmp_path / "server.pem", tmp_path / "server.key")

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"mailer", b"mail password")
        return AuthResult(success=ok, handled=False)

    with Inbox(tls_context=context, require_starttls=True, auth_required=True, authenticator=authenticator) as inbox:
        yield inbox


def test_starttls_and_a_password_from_a_file(make_app, tls_inbox, tmp_path):
    (tmp_path / "smtp-password").write_text("mail password\n")
    app = make_app(email={"port": tls_inbox.port, "security": "starttls", "ca_file": "ca.pem",
                          "username": "mailer", "password": {"file": "smtp-password"}})
    app.storage.create_user("ann", ME, email=ADDRESS)
    web = webtest.TestApp(app, extra_environ=ADDR)
    page = send_code(web).follow()
    received = tls_inbox.received()[0]
    assert received["tls"] and received["authenticated"]
    enter_code(page, tls_inbox.last()[1])
    assert signed_in(web)


def test_a_mail_server_certificate_that_cannot_be_verified_is_refused(make_app, tls_inbox, warnings):
    app = make_app(email={"port": tls_inbox.port, "security": "starttls", "username": "mailer",
                          "password": "mail password"})  # no ca_file: the test CA is not trusted
    app.storage.create_user("ann", ME, email=ADDRESS)
    response = send_code(webtest.TestApp(app, extra_environ=ADDR), status=502)
    assert "the mail server's certificate could not be verified" in alert(response)
    assert tls_inbox.messages == [] and warnings


def test_a_wrong_smtp_password_is_a_clear_message(make_app, tls_inbox, tmp_path):
    app = make_app(email={"port": tls_inbox.port, "security": "starttls", "ca_file": "ca.pem",
                          "username": "mailer", "password": "wrong"})
    app.storage.create_user("ann", ME, email=ADDRESS)
    response = send_code(webtest.TestApp(app, extra_environ=ADDR), status=502)
    assert "did not accept this server's user name and password" in alert(response)


# -- a second factor ------------------------------------------------------------------------------

@pytest.fixture
def two_factor_app(make_app):
    app = make_app(plugins={"password": {}}, auth={"methods": ["password+email"]})
    set_password(app, app.storage.create_user("ann", ME, email=ADDRESS), PASSWORD)
    return app


def sign_in_with_password(web, next_url="/"):
    form = web.get("/login?next=" + urllib.parse.quote(next_url)).forms["password-login"]
    form["username"], form["password"] = "ann", PASSWORD
    return form.submit(status=303)


def test_password_then_a_code_by_email_through_an_authorization_request(two_factor_app, inbox):
    web = webtest.TestApp(two_factor_app, extra_environ=ADDR)
    consent_url, verifier = testing.start_authorization(web)
    step = sign_in_with_password(web, consent_url).follow()
    assert "One more step" in step.text and "a•••@example.com" in step.text
    assert "email-username" not in step.text  # the first factor already said who this is
    page = step.forms["email-send"].submit(status=303).follow()
    assert enter_code(page, inbox.last()[1]).headers["Location"].endswith(consent_url)
    login = next(e for e in two_factor_app.storage.events() if e.kind == "login")
    assert '"method": "password+email"' in login.data
    assert testing.redeem(web, testing.approve(web, consent_url), verifier)["me"] == ME


def test_the_code_alone_is_not_enough_when_a_password_comes_first(two_factor_app, inbox):
    web = webtest.TestApp(two_factor_app, extra_environ=ADDR)
    csrf = web.get("/login").forms["password-login"]["csrf_token"].value
    web.post("/login/email/send", {"csrf_token": csrf, "username": "ann"}, status=404)
    assert inbox.messages == []


def test_a_second_factor_link_works_only_in_the_browser_that_began(two_factor_app, inbox):
    web = webtest.TestApp(two_factor_app, extra_environ=ADDR)
    sign_in_with_password(web).follow().forms["email-send"].submit(status=303)
    _, _, link = inbox.last()
    elsewhere = webtest.TestApp(two_factor_app, extra_environ=ADDR)
    refused = elsewhere.get(link).forms["email-link"].submit(status=400)
    assert "began in another browser" in alert(refused) and not signed_in(elsewhere)
    web.get(link).forms["email-link"].submit(status=303)
    assert signed_in(web)


def test_email_is_a_second_factor_only_for_users_with_an_address(two_factor_app, inbox):
    set_password(two_factor_app, two_factor_app.storage.create_user("bob", "https://bob.example/"), PASSWORD)
    two_factor_app.plugin_state["email"].found["https://bob.example/"] = (None, datetime.datetime.max)
    web = webtest.TestApp(two_factor_app, extra_environ=ADDR)
    form = web.get("/login").forms["password-login"]
    form["username"], form["password"] = "bob", PASSWORD
    assert "none is set up" in form.submit(status=403).text


# -- configuration --------------------------------------------------------------------------------

@pytest.mark.parametrize("settings, message", [
    ({"host": ""}, r"\[plugins.email\] host: required"),
    ({"from_address": ""}, r"\[plugins.email\] from_address: required"),
    ({"from_address": "not an address"}, r"\[plugins.email\] from_address: expected an address"),
    ({"host": "smtp.example.com", "security": "none"}, r"\[plugins.email\] security: \"none\" .* not 'smtp.example.com'"),
    ({"security": "ssl"}, r"\[plugins.email\] security: expected one of starttls, tls, none"),
    ({"port": 70000}, r"\[plugins.email\] port: expected 1 to 65535"),
    ({"port": "submission"}, r"\[plugins.email\] port: expected a whole number"),
    ({"subject": "two\nlines"}, r"\[plugins.email\] subject: expected one line"),
    ({"template": "missing.txt"}, r"\[plugins.email\] template: cannot read .*missing.txt"),
    ({"username": "mailer"}, r"\[plugins.email\] password: required when a username is set"),
    ({"password": "secret"}, r"\[plugins.email\] username: required when a password is set"),
    ({"username": "mailer", "password": {"env": "INDIEAUTH_EMAIL_TEST_UNSET"}},
     r"\[plugins.email\] password: environment variable INDIEAUTH_EMAIL_TEST_UNSET is not set"),
    ({"username": "mailer", "password": {"file": "nope.key"}}, r"\[plugins.email\] password: cannot read"),
    ({"ca_file": "nope.pem"}, r"\[plugins.email\] ca_file: cannot use"),
    ({"timeout": "0s"}, r"\[plugins.email\] timeout: must be at least 1s"),
    ({"hots": "x"}, r"\[plugins.email\] unknown key 'hots'"),
])
def test_bad_settings_stop_start_up_naming_the_key(make_app, settings, message):
    with pytest.raises(indieauth.ConfigError, match=message):
        make_app(email=settings)


@pytest.mark.parametrize("text, message", [
    ("Code {code} for {user}", r"template: .* unknown placeholder \{user\}"),
    ("Code {code.__class__}", r"template: .* unknown placeholder"),
    ("Code {code", r"template: .*literal brace"),
    ("Hello {me}", r"template: .* must contain \{code\} or \{link\}"),
])
def test_a_bad_template_stops_start_up_naming_the_key(make_app, tmp_path, text, message):
    (tmp_path / "mail.txt").write_text(text)
    with pytest.raises(indieauth.ConfigError, match=message):
        make_app(email={"template": "mail.txt"})


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "[::1]"])
def test_no_encryption_is_allowed_for_a_mail_server_on_this_machine(make_app, host):
    make_app(email={"host": host, "security": "none"})


@pytest.mark.parametrize("security, port", [("starttls", 587), ("tls", 465)])
def test_the_default_port_follows_security(tmp_path, security, port):
    app = testing.make_app({"plugins": {"email": {"host": "smtp.example.com", "security": security,
                                                  "from_address": "auth@example.com"}}}, folder=str(tmp_path))
    assert app.plugin_state["email"].settings["port"] == port


# -- small parts ----------------------------------------------------------------------------------

@pytest.mark.parametrize("address, masked", [("ann@example.com", "a•••@example.com"), ("a@b.example", "a•••@b.example")])
def test_mask(address, masked):
    assert em.mask(address) == masked


@pytest.mark.parametrize("value, address", [
    ("mailto:ann@example.org", "ann@example.org"),
    ("mailto:ann%40example.org?subject=Hello", "ann@example.org"),
    ("mailto:ann@example.org,bob@example.org", "ann@example.org"),
    ("mailto:ann@example.org%0ABcc:eve@example.net", None),
    ("mailto:<ann@example.org>", None),
    ("mailto:", None),
])
def test_address_from_mailto(value, address):
    assert em.address_from_mailto(value) == address


def test_on_a_one_user_server_sending_a_code_needs_no_user_name(web, ann, inbox):
    login = web.get("/login")
    field = login.html.select_one("#email-username")
    assert field.has_attr("hidden") and field["value"] == ann.username
    login.forms["email-send"].submit(status=303)
    assert inbox.last()[1]  # the code went to ann
