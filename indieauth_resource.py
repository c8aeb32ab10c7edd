"""Protecting a resource server (an MCP server, a Micropub endpoint, a private feed) with the tokens of an
IndieAuth server: `indieauth_resource`, shipped with indieauth and usable without it.

A module of its own beside the core, as the test kit is: a resource server is another program, often on
another machine, that must not load the authorization server (its Bottle app, its storage, its plugins)
to check a token.  It needs PyJWT, cryptography and requests, and never imports `indieauth`.

- `ResourceProtector(issuer, resource, required_scopes=())` verifies a bearer token: `verify(token)`
  returns a `VerifiedToken` (me, client_id, scope, aud, exp, claims) or raises `Refused` with the HTTP
  status (401 `invalid_token`, 403 `insufficient_scope`) and a ready `WWW-Authenticate` value.  A JWT is
  checked against the issuer's JSON Web Key Set (RFC 9068); with an `introspection_credential` every
  token is introspected instead (RFC 7662), which sees a revocation at once.  From async code:
  `await protector.verify_async(token)` (the same as `await asyncio.to_thread(protector.verify, token)`).
- `protector.metadata()` is the RFC 9728 protected resource metadata, served at
  `protected_resource_metadata_url(resource)`.
- `ProtectedResource(app, protector)` is WSGI middleware: it serves that metadata, answers a request
  without a good token 401 (or 403) with `WWW-Authenticate: Bearer resource_metadata="…"`, and hands
  the app the `VerifiedToken` as `environ["indieauth.token"]`.
"""

import asyncio
import dataclasses
import json
import threading
import time
import urllib.parse

import jwt
import requests

TOKEN_TYPES = ("at+jwt", "application/at+jwt")   # RFC 9068 §2.1
ALGORITHMS = {"OKP": {"EdDSA"}, "EC": {"ES256", "ES384", "ES512"},
              "RSA": {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}}  # never none, never HS*
DEFAULT_ALGORITHM = {("OKP", "Ed25519"): "EdDSA", ("EC", "P-256"): "ES256", ("EC", "P-384"): "ES384",
                     ("EC", "P-521"): "ES512", ("RSA", None): "RS256"}
REFETCH_INTERVAL = 60    # an unknown kid refetches the key set at most once a minute
KEYS_MAX_AGE = 3600      # and the key set is read again at least once an hour
UNQUOTED = str.maketrans("", "", '"\\')


class Refused(Exception):
    """A token this resource server does not accept: `status` (401, 403; 503 when the authorization
    server cannot be asked), `error` (RFC 6750 §3.1) and `description`; `challenge` is the value of the
    WWW-Authenticate header to answer with (None for a 503)."""

    def __init__(self, status, error, description, challenge=None):
        super().__init__(description)
        self.status, self.error, self.description, self.challenge = status, error, description, challenge


@dataclasses.dataclass(frozen=True)
class VerifiedToken:
    """What a verified token says: whose it is (`me`), which app holds it, its scopes and audiences, when
    it expires (seconds since the epoch, or None), and every claim (or introspection member)."""
    me: str
    client_id: str
    scope: tuple
    aud: tuple
    exp: object
    claims: dict


def well_known_url(url, suffix):
    """`suffix` inserted between the host and the path of `url` (RFC 8414 §3.1, RFC 9728 §3.1)."""
    parts = urllib.parse.urlsplit(url)
    path = parts.path.rstrip("/")
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, f"/.well-known/{suffix}{path}", "", ""))


def protected_resource_metadata_url(resource):
    """Where the metadata of `resource` is served: `/.well-known/oauth-protected-resource` followed by
    the resource's path, if it has one (RFC 9728 §3.1)."""
    return well_known_url(resource, "oauth-protected-resource")


def bearer_token(environ):
    """The bearer token of a WSGI request's Authorization header (RFC 6750 §2.1), or None."""
    header = environ.get("HTTP_AUTHORIZATION") or environ.get("REDIRECT_HTTP_AUTHORIZATION", "")
    scheme, _, value = header.partition(" ")
    return (value.strip() or None) if scheme.lower() == "bearer" else None


class ResourceProtector:
    """Verifies the access tokens that `issuer` (exactly as its metadata says, trailing slash included)
    issued for `resource` (this server's URL, as clients send it as RFC 8707's `resource`).  The key set
    and endpoints are read from the issuer's metadata unless given.  Thread-safe; share one per resource."""

    def __init__(self, issuer, resource, required_scopes=(), jwks_uri=None, introspection_endpoint=None,
                 introspection_credential=None, leeway=30, timeout=5, session=None, clock=time.time):
        self.issuer, self.resource, self.required_scopes = issuer, resource, tuple(required_scopes)
        self.jwks_uri, self.introspection_endpoint = jwks_uri, introspection_endpoint
        self.introspection_credential, self.leeway, self.timeout = introspection_credential, leeway, timeout
        self.session, self.clock = session or requests.Session(), clock
        self.metadata_url = protected_resource_metadata_url(resource)
        self.lock, self.keys, self.keys_read_at = threading.Lock(), {}, None

    def metadata(self):
        """This resource's protected resource metadata (RFC 9728 §2)."""
        body = {"resource": self.resource, "authorization_servers": [self.issuer],
                "bearer_methods_supported": ["header"]}
        if self.required_scopes:
            body["scopes_supported"] = list(self.required_scopes)
        return body

    def challenge(self, error=None, description=None):
        """The WWW-Authenticate value: no error for a request without a token (RFC 6750 §3.1), and always
        where this resource's metadata is (RFC 9728 §5.1)."""
        params = []
        if error:
            params += [("error", error), ("error_description", description or "")]
        if error == "insufficient_scope":
            params.append(("scope", " ".join(self.required_scopes)))
        params.append(("resource_metadata", self.metadata_url))
        # RFC 6750 §3: quoted strings, so a value loses any quote or backslash rather than break the header
        return "Bearer " + ", ".join(f'{name}="{value.translate(UNQUOTED)}"' for name, value in params)

    def refuse(self, description, error="invalid_token", status=401):
        return Refused(status, error, description, self.challenge(error, description))

    def verify(self, token):
        """The VerifiedToken of `token`, or Refused: 401 for a token that is not good here, 403 for one
        without the required scopes, 503 when the authorization server cannot be reached."""
        if not token:
            raise Refused(401, None, "No access token.", self.challenge())
        claims = self._introspected(token) if self.introspection_credential else self._decoded(token)
        return self._checked(claims)

    async def verify_async(self, token):
        """`verify` on a worker thread, for ASGI apps (it may fetch keys or introspect)."""
        return await asyncio.to_thread(self.verify, token)

    # -- the two ways of reading a token, and the rules both answers meet

    def _decoded(self, token):
        """The claims of a JWT signed by one of the issuer's published keys; the algorithm is the key's."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise self.refuse("The access token is not a JWT.") from None
        # RFC 9068 §4: the type must be at+jwt, so that no other JWT of the issuer passes for a token
        if str(header.get("typ", "")).lower() not in TOKEN_TYPES:
            raise self.refuse("The token is not a JWT access token (typ at+jwt).")
        jwk = self._key(header.get("kid")) if isinstance(header.get("kid"), str) else None
        if jwk is None:
            raise self.refuse("The token is not signed by a key of its issuer.")
        algorithm = key_algorithm(jwk)
        # the algorithm comes from the key, never from the token (so never none, never HMAC)
        if algorithm is None or header.get("alg") != algorithm:
            raise self.refuse("The token is not signed with its key's algorithm.")
        try:
            return jwt.decode(token, jwt.PyJWK(jwk, algorithm).key, algorithms=[algorithm], leeway=self.leeway,
                              options={"require": ["exp", "iss"], "verify_aud": False, "verify_iss": False})
        except jwt.ExpiredSignatureError:
            raise self.refuse("The access token has expired.") from None
        except jwt.ImmatureSignatureError:
            raise self.refuse("The access token is not valid yet.") from None
        except jwt.PyJWTError:
            raise self.refuse("The access token's signature or claims are not valid.") from None

    def _introspected(self, token):
        """The issuer's introspection answer (RFC 7662) for an active token."""
        answer = self._fetch("POST", self._endpoint("introspection_endpoint"), data={"token": token},
                             headers={"Authorization": f"Bearer {self.introspection_credential}"})
        if answer.get("active") is not True:
            raise self.refuse("The access token is not valid, has expired or was revoked.")
        return answer

    def _checked(self, claims):
        """The VerifiedToken once every rule holds for `claims` (a JWT's or an introspection answer)."""
        # RFC 9068 §4: iss identical to the issuer's identifier (https://a.example and https://a.example/ differ)
        if claims.get("iss", self.issuer) != self.issuer:
            raise self.refuse("The token was issued by another server.")
        # RFC 9068 §4, RFC 8707: the token must have been issued for this resource (one of its audiences)
        audiences = claims.get("aud")
        audiences = (audiences,) if isinstance(audiences, str) else tuple(
            audience for audience in audiences if isinstance(audience, str)) if isinstance(audiences, list) else ()
        if self.resource not in audiences:
            raise self.refuse("The token was issued for another resource.")
        # RFC 7662 §2.2: an introspection answer's exp too (a JWT's was checked when decoded)
        exp = claims.get("exp")
        if isinstance(exp, (int, float)) and exp + self.leeway <= self.clock():
            raise self.refuse("The access token has expired.")
        scope = tuple(str(claims.get("scope") or "").split())
        missing = [name for name in self.required_scopes if name not in scope]
        if missing:
            raise self.refuse(f"The token needs the scope {' '.join(missing)}.", "insufficient_scope", 403)
        return VerifiedToken(me=claims.get("me") or claims.get("sub"), client_id=claims.get("client_id"),
                             scope=scope, aud=audiences, exp=exp, claims=dict(claims))

    # -- what is read from the issuer

    def _key(self, kid):
        """The published key `kid`: the key set is read again for an unknown one, once a minute at most."""
        with self.lock:
            now = self.clock()
            stale = self.keys_read_at is None or now - self.keys_read_at >= KEYS_MAX_AGE
            if stale or (kid not in self.keys and now - self.keys_read_at >= REFETCH_INTERVAL):
                self.keys_read_at = now
                keys = self._fetch("GET", self._endpoint("jwks_uri")).get("keys")
                self.keys = {k.get("kid"): k for k in keys if isinstance(k, dict)} if isinstance(keys, list) else {}
            return self.keys.get(kid)

    def _endpoint(self, name):
        """`jwks_uri` or `introspection_endpoint`: as given, else from the issuer's metadata (RFC 8414),
        whose `issuer` must be exactly ours (§3.3)."""
        if getattr(self, name) is None:
            for url in (well_known_url(self.issuer, "oauth-authorization-server"),
                        self.issuer.rstrip("/") + "/.well-known/oauth-authorization-server"):
                try:
                    found = self._fetch("GET", url)
                except Refused:
                    continue
                if found.get("issuer") == self.issuer and isinstance(found.get(name), str):
                    setattr(self, name, found[name])
                    break
            else:
                raise Refused(503, "temporarily_unavailable", f"No {name} found in the metadata of {self.issuer}")
        return getattr(self, name)

    def _fetch(self, method, url, **kwargs):
        """The JSON object at `url`; Refused (503) when the server cannot be reached or answers otherwise."""
        try:
            response = self.session.request(method, url, timeout=self.timeout, allow_redirects=False,
                                            headers={"Accept": "application/json", **kwargs.pop("headers", {})},
                                            **kwargs)
            body = response.json() if response.status_code == 200 else None
        except (requests.RequestException, ValueError):
            body = None
        if not isinstance(body, dict):
            raise Refused(503, "temporarily_unavailable", f"The authorization server did not answer {url}.")
        return body


def key_algorithm(jwk):
    """The signature algorithm of a published public key: its `alg`, or its type's usual one; None for a
    key of no asymmetric type (an `oct` key, which would let anyone who read it sign)."""
    allowed = ALGORITHMS.get(jwk.get("kty"), set())
    if "alg" in jwk:
        return jwk["alg"] if jwk["alg"] in allowed else None
    return DEFAULT_ALGORITHM.get((jwk.get("kty"), jwk.get("crv"))) if allowed else None


class ProtectedResource:
    """WSGI middleware: every request to `app` needs a token `protector` accepts, which the app finds in
    `environ["indieauth.token"]`; the resource's metadata is served at its well-known path.  Wrap the
    whole site (the well-known path is at the host's root)."""

    def __init__(self, app, protector):
        self.app, self.protector = app, protector
        self.metadata_path = urllib.parse.urlsplit(protector.metadata_url).path

    def __call__(self, environ, start_response):
        path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
        if path == self.metadata_path:
            return self.answer(start_response, 200, self.protector.metadata(),
                               [("Access-Control-Allow-Origin", "*"), ("Cache-Control", "public, max-age=3600")])
        try:
            environ["indieauth.token"] = self.protector.verify(bearer_token(environ))
        except Refused as refused:
            headers = [("WWW-Authenticate", refused.challenge)] if refused.challenge else [("Retry-After", "5")]
            body = {"error": refused.error or "invalid_token", "error_description": refused.description}
            return self.answer(start_response, refused.status, body, headers)
        return self.app(environ, start_response)

    @staticmethod
    def answer(start_response, status, body, headers):
        data = json.dumps(body).encode()
        reason = {200: "OK", 401: "Unauthorized", 403: "Forbidden", 503: "Service Unavailable"}[status]
        start_response(f"{status} {reason}", [("Content-Type", "application/json"),
                                              ("Content-Length", str(len(data))), *headers])
        return [data]
