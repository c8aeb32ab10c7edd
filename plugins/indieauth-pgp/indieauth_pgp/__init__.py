"""Sign in with the PGP key your website links to, as IndieAuth.com once offered.

Your site links its public key with rel="pgpkey"; the server shows a short challenge, you sign it with
`gpg --clearsign` and paste what gpg prints.  The signature is checked with pysequoia (Sequoia-PGP) against
the key fetched from your own site (same origin as your profile URL) through the core's guarded client.
Built only on indieauth's public hooks and app API, exactly as a third-party plugin would be.
"""

import calendar
import datetime
import html.parser
import os
import secrets
import shlex
import threading
import urllib.parse

import bottle
import pysequoia
from pysequoia.packet import PacketPile, Tag

from indieauth import (AuthenticationFailed, Authenticator, ConfigError, FetchBusy, FetchError, Setting,
                       StateRefused, canonical_url, describe_wait, fail, form_value, hookimpl, origin, safe_next)

__version__ = "0.1.0"
NAME = "pgp"
VIEWS = os.path.join(os.path.dirname(__file__), "views")
SETTINGS = {
    "challenge_lifetime": Setting("duration", 300, "How long a challenge may be signed and sent back, e.g. "
                                                   "\"5m\" (1m to 15m)."),
    "key_cache": Setting("duration", 120, "How long a key fetched from a site is used again before it is "
                                          "fetched anew, e.g. \"2m\" (0 to 10m; 0: every time)."),
}
LOGIN, PROOF = "pgp-login", "pgp-proof"  # seal purposes: a challenge to sign in, one to prove a site at sign-up
PROVE = "/login/pgp/prove"
MAX_PAGE_BYTES = 1024 * 1024
MAX_KEY_BYTES = 256 * 1024       # a key with many certifications is large; a page of them is not a key
MAX_PASTE = 32 * 1024            # characters of a pasted signature read
KEPT_KEYS = 256                  # sites whose key each process keeps for `key_cache` seconds
CLOCK_SKEW = datetime.timedelta(minutes=15)  # how far before the challenge a signature may be dated
TYPED_ME = "indieauth_pgp.me"    # request environ: the profile URL typed, to show it again
SPENT = "indieauth_pgp.spent"    # request environ: the challenge sent is spent, show the first step again
BEGIN_SIGNED, END_SIGNATURE = "-----BEGIN PGP SIGNED MESSAGE-----", "-----END PGP SIGNATURE-----"


def checked_settings(app):
    """The [plugins.pgp] table with defaults; ConfigError naming a value out of range."""
    values = app.plugin_config(NAME, SETTINGS)
    for key, low, high in (("challenge_lifetime", 60, 900), ("key_cache", 0, 600)):
        if not low <= values[key] <= high:
            raise ConfigError(f"{app.config.where(f'plugins.{NAME}', key)}: expected {describe_wait(low)} to "
                              f"{describe_wait(high)}, got {app.plugin_config(NAME)[key]!r}")
    return values


# -- the key a site links to

class KeyLinks(html.parser.HTMLParser):
    """(href, rel tokens) of a page's <a> and <link> whose rel holds pgpkey, in page order; its first <base href>."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.base, self.hrefs = None, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        href = (attrs.get("href") or "").strip()
        if tag == "base" and href and self.base is None:
            self.base = href
        elif tag in ("a", "link") and href and "pgpkey" in (attrs.get("rel") or "").lower().split():
            self.hrefs.append((href, (attrs.get("rel") or "").lower().split()))


def pgpkey_links(response):
    """Absolute URLs of the rel="pgpkey" links of a fetched page: its Link header's, then its HTML's; when
    some of them are also rel="authn", only those (RelMeAuth)."""
    parser = KeyLinks()
    parser.feed(response.content.decode("utf-8", "replace"))
    base = urllib.parse.urljoin(response.url, parser.base or "")
    found = [(url, rels) for url, rels in response.links if "pgpkey" in rels]
    found += [(urllib.parse.urljoin(base, href), rels) for href, rels in parser.hrefs]
    authn = [url for url, rels in found if "authn" in rels]
    return authn or [url for url, _ in found]


def public_key(content, url):
    """The one OpenPGP public key in `content` (armoured or binary), as ASCII armour; Refused otherwise."""
    try:
        secret = any(packet.tag in (Tag.SecretKey, Tag.SecretSubkey) for packet in PacketPile.from_bytes(content))
        keys = [] if secret else pysequoia.Cert.split_bytes(content)
    except Exception:  # pysequoia raises RuntimeError (and may raise others) for what is not OpenPGP
        secret, keys = False, []
    if secret:
        raise Refused(f"The file {url} holds a SECRET key, which anyone can now read and sign with. Remove it "
                      f"from your site at once, make a new key, and publish only its public half "
                      f"(gpg --armor --export YOUR-KEY).")
    if not keys:
        raise Refused(f"The file your site links with rel=\"pgpkey\", {url}, is not an OpenPGP public key. "
                      f"Put there what gpg --armor --export YOUR-KEY prints.")
    if len(keys) > 1:
        raise Refused(f"The file {url} holds {len(keys)} keys; it must hold only the one you sign with "
                      f"(gpg --armor --export YOUR-KEY).")
    return str(keys[0])


def grouped(fingerprint):
    """A fingerprint as gpg shows it: upper case, in groups of four."""
    fingerprint = fingerprint.upper()
    return " ".join(fingerprint[i:i + 4] for i in range(0, len(fingerprint), 4))


# -- checking a signed challenge (no Bottle here: values in, a fingerprint out, or Refused)

class Refused(Exception):
    """What is wrong with a key or a pasted signature, in words for the person."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def aware(moment):
    """A naive UTC datetime (app.now()) as an aware one, to compare with pysequoia's."""
    return moment.replace(tzinfo=datetime.timezone.utc) if moment.tzinfo is None else moment


def signature_packets(data):
    """The signature packets of a cleartext-signed message; Refused when it cannot be read at all."""
    try:
        packets = list(PacketPile.from_bytes(data))
    except Exception:
        raise Refused(NOT_SIGNED) from None
    return [packet for packet in packets if packet.signature_created is not None]


def key_ids(cert):
    """{fingerprint, key id} of the primary key and every subkey of `cert`, in lower case."""
    found = set()
    for packet in PacketPile.from_bytes(bytes(cert)):
        if packet.fingerprint:
            found.update({packet.fingerprint.lower(), (packet.key_id or "").lower()})
    return found - {""}


def check_signed(pasted, armoured_key, challenge, issued, now):
    """The fingerprint of `armoured_key` when `pasted` is a cleartext signature (gpg --clearsign) by that key
    of exactly `challenge`, dated no earlier than CLOCK_SKEW before `issued`, by a key neither revoked nor
    expired at `now` (so at the time of signing, which lies between them); Refused saying what is wrong."""
    if BEGIN_SIGNED not in pasted or END_SIGNATURE not in pasted:
        raise Refused(NOT_SIGNED)
    cert = pysequoia.Cert.from_bytes(armoured_key.encode())
    shown = grouped(cert.fingerprint)
    if cert.is_revoked:
        raise Refused(f"The key your site links to ({shown}) has been revoked, so it cannot sign you in. "
                      f"Link a key that is in use.")
    if cert.expiration is not None and cert.expiration <= aware(now):
        raise Refused(f"The key your site links to ({shown}) expired on {cert.expiration:%Y-%m-%d}, so it cannot "
                      f"sign you in. Extend it (gpg --quick-set-expire) and publish it again, or link another key.")
    data = pasted.encode("utf-8", "replace")
    packets = signature_packets(data)
    ours, issuers = key_ids(cert), set()
    for packet in packets:
        issuers.update(i.lower() for i in (packet.issuer_fingerprint, packet.issuer_key_id) if i)
    if not packets or (issuers and not issuers & ours):
        signer = next(iter(sorted(issuers, key=len, reverse=True)), "an unknown key")
        raise Refused(f"This was signed with another key ({grouped(signer)}), not the key your site links to "
                      f"({shown}). Sign with that key: add --local-user {cert.fingerprint.upper()} to the command.")
    try:
        result = pysequoia.verify(bytes=data, store=lambda wanted: [cert])
    except Exception:  # pysequoia raises RuntimeError for a bad, tampered or unusable signature
        raise Refused(f"The signature is not valid for the key your site links to ({shown}): the text was "
                      f"changed after it was signed, or the subkey that signed it is revoked or expired. "
                      f"Paste exactly what gpg printed.") from None
    if (result.bytes or b"").decode("utf-8", "replace").rstrip() != challenge:
        raise Refused("The signed text is not this challenge. Sign exactly the challenge shown here, with the "
                      "command shown here, and paste what it prints.")
    dated = min(packet.signature_created for packet in packets)
    if dated < aware(issued) - CLOCK_SKEW:
        raise Refused(f"The signature is dated {dated:%Y-%m-%d %H:%M} UTC, before this challenge was made. "
                      f"Check your computer's clock, then sign a new challenge.")
    return cert.fingerprint


NOT_SIGNED = (f"What you pasted is not a signed message. Paste everything gpg --clearsign printed, from "
              f"{BEGIN_SIGNED} to {END_SIGNATURE}.")
STATE_REFUSED = {
    "missing": "This challenge cannot be used. Get a new one.",
    "unknown": "This challenge is not one this server gave. Get a new one.",
    "other_browser": "This challenge was given to another browser (or cookies are blocked for this site), so it "
                     "cannot be used here. Get a new one in this browser.",
    "used": "This challenge has been used already; each one signs in once. Get a new one.",
    "expired": "This challenge has expired. Get a new one, and send the signature back within a few minutes.",
}


def typed_profile(typed):
    """The profile URL a person typed, in canonical form; `example.com` is https://example.com/."""
    typed = typed.strip()
    return canonical_url(typed if "://" in typed else "https://" + typed)


def epoch_seconds(moment):
    return calendar.timegm(moment.timetuple())


# -- the authenticator

class PgpAuthenticator(Authenticator):
    """A challenge, then its signature.  The first step (a profile URL, or the user an earlier factor found)
    fetches the site's key and gives a challenge; the page shows it until the second step sends it back
    signed.  The challenge is single-use state on the server (app.save_callback_state), bound to this
    browser, with a sealed copy of its text in the page (app.seal), so the page can show it again."""

    name = NAME
    label = "PGP key"
    proves_sites = True  # a site's own key proves the site at sign-up, before there is a user

    def __init__(self, app, settings):
        self.app, self.settings = app, settings
        self.keys, self.lock = {}, threading.Lock()  # profile URL -> (good until, key URL, armoured key)

    def supports(self, user):
        """Anyone whose site links a key with rel="pgpkey"; that is only known by trying."""
        return True

    # -- the login page
    def start(self, request, context):
        sent, user = form_value("challenge") or request.query.get("challenge", ""), context["user"]
        sealed = self.app.unseal(LOGIN, sent[:4096]) if sent else None
        if not isinstance(sealed, dict) or (user is not None and sealed.get("user") != user.id):
            sealed = None
        pending = None if request.environ.get(SPENT) else sealed
        error = context["error"] or (STATE_REFUSED["expired"] if sent and sealed is None else None)
        me = request.environ.get(TYPED_ME) or form_value("me") or (sealed or {}).get("me") or context["me"]
        return self.app.render("pgp_login.tpl", **dict(context, error=error, me=me, sealed=sent,
                                                          **self.shown(pending)))

    def shown(self, pending):
        """What the templates show of a challenge: its text, the command that signs it, the key expected."""
        if not pending:
            return {"challenge": None}
        return {"challenge": pending["text"], "command": f"echo {shlex.quote(pending['text'])} | gpg --clearsign",
                "fingerprint": grouped(pending["fingerprint"]), "key_url": pending["key_url"],
                "lifetime": describe_wait(self.settings["challenge_lifetime"])}

    def finish(self, request):
        """The first step sends the browser to its challenge (never returns); the second returns the user whose
        site's key signed it."""
        if not form_value("challenge"):
            self.send_challenge(request)
        pending, fingerprint = self.answered(LOGIN, lambda sealed: self.sealed_user(sealed).username)
        user = self.app.storage.get_user(user_id=pending["user"])
        partial = self.app.partial_user()
        if pending["second"] and getattr(partial, "id", None) != user.id:
            raise AuthenticationFailed(f"The first step of this sign-in has expired (the steps must follow each other "
                                       f"within {describe_wait(self.app.config['auth']['step_lifetime'])}). Start "
                                       f"again from the sign-in page.", username=user.username)
        self.app.throttle.succeeded(user.username)
        self.app.storage.set_credential(user, NAME, {"fingerprint": fingerprint, "key_url": pending["key_url"]})
        self.app.storage.touch_credential(user, NAME)
        return user

    def sealed_user(self, sealed):
        """The user a sealed sign-in challenge was made for; AuthenticationFailed when it has gone."""
        user = self.app.storage.get_user(user_id=sealed.get("user")) if isinstance(sealed.get("user"), int) else None
        if user is None or user.disabled_at is not None:
            raise AuthenticationFailed("This account cannot sign in any more. Ask the site's administrator.", 403)
        return user

    def send_challenge(self, request):
        """Find the user (the one an earlier factor found, or the profile URL typed), fetch the key their site
        links to, and send the browser to a new challenge; AuthenticationFailed saying what to fix."""
        partial = self.app.partial_user()
        user = partial or self.typed_user(request)
        self.app.throttle.check(user.username, self.app.client_address())
        next_url = safe_next(form_value("next"))
        sealed = self.new_challenge(LOGIN, user.me, {"user": user.id, "second": partial is not None}, next_url,
                                    user.username)
        self.app.redirect(f"/login/{NAME}?" + urllib.parse.urlencode({"next": next_url, "challenge": sealed}))

    def typed_user(self, request):
        """The user whose profile URL the form names; AuthenticationFailed (a failure of the address) if none."""
        typed = form_value("me").strip()[:512]
        request.environ[TYPED_ME] = typed
        if not typed:
            raise AuthenticationFailed("Enter your profile URL (your website's address), like https://example.com/.")
        me = typed_profile(typed)
        found = self.app.storage.get_user(me=me)
        if found is None:
            address = self.app.client_address()
            self.app.throttle.check("", address)
            self.app.throttle.failed("", address)
            raise AuthenticationFailed(f"There is no account here with the profile URL {me}. Check it for typing "
                                       f"mistakes: it must be your website's address as registered here.")
        return found

    # -- challenges: made, shown, answered
    def new_challenge(self, purpose, me, fields, next_url, username=""):
        """A challenge for `me`, kept on the server for this browser (single use), and its sealed copy for
        the page; the key is fetched first, so a site without one is told before anything is signed."""
        key_url, key = self.site_key(me, username)
        lifetime = self.settings["challenge_lifetime"]
        verb = "Sign in" if purpose == LOGIN else "Prove my site"
        text = f"{verb} to {self.app.base_url} as {me}: {secrets.token_urlsafe(15)}"
        fields = dict(fields, me=me, text=text, next=next_url if len(next_url) <= 1000 else "/", key_url=key_url,
                      fingerprint=pysequoia.Cert.from_bytes(key.encode()).fingerprint,
                      issued=epoch_seconds(self.app.now()))
        state = self.app.save_callback_state(NAME, dict(fields, purpose=purpose), lifetime)
        return self.app.seal(purpose, dict(fields, state=state), lifetime)

    def answered(self, purpose, username_of):
        """(pending challenge, fingerprint) once the pasted signature answers the challenge sent back, which is
        then used up; AuthenticationFailed otherwise.  A wrong signature counts as a failed attempt (of the
        user `username_of(sealed)`), and leaves the challenge to be signed again."""
        sealed = self.app.unseal(purpose, form_value("challenge")[:4096])
        if not isinstance(sealed, dict):
            bottle.request.environ[SPENT] = True
            raise AuthenticationFailed(STATE_REFUSED["expired"])
        username, address = username_of(sealed), self.app.client_address()
        self.app.throttle.check(username, address)
        pasted = form_value("signature")[:MAX_PASTE]
        if not pasted.strip():
            raise AuthenticationFailed("Paste the signed challenge: everything the command printed.", username=username)
        _, key = self.site_key(sealed["me"], username)
        issued = datetime.datetime.fromtimestamp(sealed["issued"], datetime.timezone.utc)
        try:
            fingerprint = check_signed(pasted, key, sealed["text"], issued, self.app.now())
        except Refused as refused:
            self.app.throttle.failed(username, address)
            raise AuthenticationFailed(refused.message, username=username) from None
        try:
            pending = self.app.take_callback_state(NAME, sealed["state"])
        except StateRefused as refused:
            bottle.request.environ[SPENT] = True
            raise AuthenticationFailed(STATE_REFUSED[refused.reason], username=username) from None
        if pending.get("purpose") != purpose or pending.get("text") != sealed["text"]:
            bottle.request.environ[SPENT] = True
            raise AuthenticationFailed(STATE_REFUSED["unknown"], username=username)
        return pending, fingerprint

    # -- the key: fetched from the site itself, kept a short while
    def site_key(self, me, username=""):
        """(key URL, armoured public key) that the page `me` links with rel="pgpkey", on the same origin as
        `me`; kept by this process for `key_cache` seconds.  AuthenticationFailed saying what to fix."""
        now = self.app.now()
        with self.lock:
            kept = self.keys.get(me)
            if kept and kept[0] > now:
                return kept[1], kept[2]
        try:
            key_url, key = self.fetch_key(me, username)
        except Refused as refused:
            raise AuthenticationFailed(refused.message, 400, username=username) from None
        with self.lock:
            if len(self.keys) >= KEPT_KEYS:
                self.keys.pop(next(iter(self.keys)))
            self.keys[me] = (now + datetime.timedelta(seconds=self.settings["key_cache"]), key_url, key)
        return key_url, key

    def fetch_key(self, me, username):
        """The page `me`, then the key it links to.  Both must be on the origin of `me` (scheme, host and port),
        redirects included: only the site's owner can change what is there."""
        page = self.fetch(me, "text/html", MAX_PAGE_BYTES, f"Your site {me}", username)
        links = pgpkey_links(page)
        if not links:
            raise Refused(f"Your site {me} does not link a PGP key. Publish your public key (gpg --armor --export "
                          f"YOUR-KEY > key.asc) on your site and link it from this page: "
                          f"<link rel=\"pgpkey\" href=\"/key.asc\">.")
        key_url = links[0]
        if origin(key_url) != origin(me):
            scheme, host, port = origin(me)
            raise Refused(f"Your site links its key at {key_url}, which is not on your site "
                          f"({scheme}://{host}:{port}). The key must be on your site itself, so that only you can change it: put the key file "
                          f"there and link it, e.g. <link rel=\"pgpkey\" href=\"/key.asc\">.")
        answer = self.fetch(key_url, "application/pgp-keys, text/plain;q=0.9, */*;q=0.5", MAX_KEY_BYTES,
                            f"Your key {key_url}", username)
        return key_url, public_key(answer.content, key_url)

    def fetch(self, url, accept, max_bytes, what, username):
        """A 200 answer for `url` through app.http, redirects only within its origin; AuthenticationFailed."""
        try:
            response = self.app.http.get(url, accept=accept, max_bytes=max_bytes, follow_redirects="same-origin")
        except FetchBusy:
            raise AuthenticationFailed(f"{what} could not be read right now: this server is already reading as many "
                                       f"pages as it allows. Try again in a moment.", 503, 1, username) from None
        except FetchError as error:
            raise AuthenticationFailed(f"{what} could not be read ({error}). Check that it is online and on your "
                                       f"own site, then try again.", 502, username=username) from None
        if response.status != 200:
            raise AuthenticationFailed(f"{what} answered HTTP {response.status}. Check that it is online, then try "
                                       f"again.", 502, username=username)
        return response

    # -- proving a site at sign-up (the hosting plugin's invites)
    def prove_site(self, me, next_url):
        """Sign-up with one's own site: a challenge to sign with the key `me` links to, on a page of its own;
        once it comes back signed, app.site_proven.  There is no user yet, so only the address is throttled."""
        self.app.throttle.check("", self.app.client_address())
        sealed = self.new_challenge(PROOF, me, {}, safe_next(next_url))
        self.app.redirect(PROVE + "?" + urllib.parse.urlencode({"challenge": sealed}))

    def prove_page(self, error=None, status=200):
        """GET /login/pgp/prove: the challenge to sign, and the box for the signature."""
        sent = form_value("challenge") or bottle.request.query.get("challenge", "")
        if not sent:
            fail(404, "There is no challenge here: prove your site from your invite.")
        sealed = self.app.unseal(PROOF, sent[:4096])
        sealed = sealed if isinstance(sealed, dict) else {}
        pending = None if bottle.request.environ.get(SPENT) else sealed
        bottle.response.status = status
        return self.app.render("pgp_prove.tpl", title="Prove your site", csrf_token=self.app.csrf_token(),
                               error=error or (None if pending else STATE_REFUSED["expired"]), sealed=sent,
                               me=sealed.get("me", ""), back=safe_next(sealed["next"]) if sealed else None,
                               **self.shown(pending))

    def prove_post(self):
        """POST /login/pgp/prove: the site is proven when the signature answers its challenge."""
        self.app.check_csrf()
        try:
            pending, _ = self.answered(PROOF, lambda sealed: "")
        except AuthenticationFailed as failure:
            sealed = self.app.unseal(PROOF, form_value("challenge")[:4096])
            self.app.storage.log_event("site_proof_failed", me=sealed.get("me") if isinstance(sealed, dict) else None,
                                       method=NAME, address=self.app.client_address(), reason=failure.message[:300])
            if failure.retry_after:
                bottle.response.set_header("Retry-After", str(failure.retry_after))
            return self.prove_page(failure.message, failure.status)
        return self.app.site_proven(pending["me"], NAME, pending["next"])


# -- hooks

@hookimpl
def configure(app):
    app.add_template_path(VIEWS)
    app.plugin_state[NAME] = PgpAuthenticator(app, checked_settings(app))


@hookimpl
def register_authenticators(app):
    return [app.plugin_state[NAME]]


@hookimpl
def register_routes(app):
    auth = app.plugin_state[NAME]
    return [("GET", PROVE, lambda: auth.prove_page()), ("POST", PROVE, auth.prove_post)]
