% rebase('base.tpl', title=title, links=[], scripts=['/static/copy.js', '/static/docs.js'])
<%
import html
# One line per URL in the metadata document; a URL this page does not know yet still gets a row.
purpose = {
    "issuer": "This server's identifier: the iss parameter on every redirect back to an app, and the iss claim of its access tokens. Compare it.",
    "authorization_endpoint": "Where an app sends the person to sign in and approve (GET). A POST redeems a code for the profile URL only.",
    "token_endpoint": "An app exchanges a code or a refresh token for tokens here (POST); a GET with Authorization: Bearer verifies an access token.",
    "introspection_endpoint": "RFC 7662: a resource server with a credential from this server asks whether a token is live.",
    "revocation_endpoint": "RFC 7009: an app revokes a token it no longer needs (at sign-out, say).",
    "userinfo_endpoint": "The person's profile (name, url, photo; email only with the email scope) for an access token with the profile scope.",
    "jwks_uri": "The public keys that sign JWT access tokens, so a resource server can verify them itself.",
    "pushed_authorization_request_endpoint": "RFC 9126: an app POSTs its authorization request first and sends the person with the request_uri it gets back.",
    "service_documentation": "This page: the endpoints, how to use them, and an OAuth tester.",
    "device_authorization_endpoint": "RFC 8628: an app on a device without a browser (a command-line client, a TV) gets a code here for the person to type at /device.",
    "ticket_endpoint": "Ticketing for IndieAuth: another server POSTs ticket, resource, subject and iss here to give one of this server's users access (202 Accepted).",
}
def breakable(url):
    """`url` escaped, with a line-break opportunity after each slash, so narrow screens need not scroll."""
    return "/<wbr>".join(html.escape(part) for part in url.split("/"))
end
urls = [(key, value) for key, value in metadata.items()
        if isinstance(value, str) and value.startswith(("https://", "http://"))]
token_endpoint = metadata["token_endpoint"]
head_lines = "\n".join(f'<link rel="{rel}" href="{href}">' for rel, href in links)
exchange_curl = "\n".join([
    f"curl {token_endpoint} \\",
    '  -H "Accept: application/json" \\',
    "  --data-urlencode grant_type=authorization_code \\",
    "  --data-urlencode code=THE_CODE_FROM_THE_REDIRECT \\",
    "  --data-urlencode client_id=https://app.example/ \\",
    "  --data-urlencode redirect_uri=https://app.example/callback \\",
    "  --data-urlencode code_verifier=THE_CODE_VERIFIER_YOU_KEPT"])
verify_curl = f'curl {token_endpoint} -H "Authorization: Bearer THE_ACCESS_TOKEN"'
device_endpoint = metadata.get("device_authorization_endpoint", "")
device_start_curl = "\n".join([
    f"curl {device_endpoint} \\",
    "  --data-urlencode client_id=https://app.example/ \\",
    '  --data-urlencode "scope=create media"'])
device_answer = "\n".join([
    "{",
    '  "device_code": "GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS",',
    '  "user_code": "WDJB-MJHT",',
    f'  "verification_uri": "{device_endpoint.rsplit("/", 1)[0]}/device",',
    f'  "verification_uri_complete": "{device_endpoint.rsplit("/", 1)[0]}/device?user_code=WDJB-MJHT",',
    '  "expires_in": 600,',
    '  "interval": 5',
    "}"])
device_poll_curl = "\n".join([
    f"curl {token_endpoint} \\",
    "  --data-urlencode grant_type=urn:ietf:params:oauth:grant-type:device_code \\",
    "  --data-urlencode device_code=THE_DEVICE_CODE \\",
    "  --data-urlencode client_id=https://app.example/"])
sign_in_snippet = "\n".join([
    '<form action="/indieauth/start" method="get">',
    '  <label for="indieauth-url">Your website</label>',
    '  <input id="indieauth-url" name="me" type="url" required',
    '         placeholder="https://you.example/" autocomplete="url">',
    '  <button type="submit">Sign in with your domain</button>',
    '</form>'])
protect_snippet = "\n".join([
    "from indieauth_resource import ProtectedResource, ResourceProtector",
    "",
    f'protector = ResourceProtector("{metadata["issuer"]}",',
    '                              "https://notes.example.com/mcp",  # your server, exactly',
    '                              required_scopes=["read"])',
    "application = ProtectedResource(your_wsgi_app, protector)  # environ[\"indieauth.token\"].me"])
default_scopes = {"profile", "create"}
%>
<h1>For developers</h1>
<p>This server is an <a href="https://indieauth.spec.indieweb.org/">IndieAuth</a> authorization server:
OAuth 2.0 with the person's own URL as their identity. Apps need no registration; their <code>client_id</code>
is their own URL. Below: the endpoints, how a site and an app use them, a form to copy, and a tester
that runs the whole flow from this page.</p>
<nav aria-label="On this page">
  <ul>
    <li><a href="#endpoints">Endpoints</a></li>
    <li><a href="#sign-in">Signing in with your own domain</a></li>
    <li><a href="#app-flow">How an app signs people in</a></li>
    <li><a href="#device-flow">Apps on devices without a browser</a></li>
    <li><a href="#tickets">Tickets: giving someone access without being asked</a></li>
    <li><a href="#protect">Protecting your MCP server (or Micropub endpoint)</a></li>
    <li><a href="#button">A “Sign in with your domain” form for your app</a></li>
    <li><a href="#tester">OAuth tester</a></li>
  </ul>
</nav>

<h2 id="endpoints">Endpoints</h2>
<p>From the <a href="/.well-known/oauth-authorization-server">server metadata</a>
(<code>/.well-known/oauth-authorization-server</code>, RFC 8414), which is what apps read:</p>
<dl id="endpoint-list">
  % for key, value in urls:
  <div id="endpoint-{{key}}">
    <dt><strong><code>{{key}}</code></strong><br><code>{{!breakable(value)}}</code></dt>
    <dd>{{purpose.get(key, "See the metadata document and the OpenAPI description.")}}</dd>
  </div>
  % end
</dl>
<dl class="facts">
  <dt>Scopes</dt><dd>{{" ".join(metadata.get("scopes_supported", []))}}</dd>
  <dt>PKCE</dt><dd><code>{{" ".join(metadata.get("code_challenge_methods_supported", []))}}</code> only; always use it</dd>
  <dt>Grant types</dt><dd>{{", ".join(metadata.get("grant_types_supported", []))}}</dd>
  <dt>Pushed requests</dt><dd>{{"required: every authorization request goes through the PAR endpoint first" if metadata.get("require_pushed_authorization_requests") else "accepted, not required"}}</dd>
</dl>
<p>More to read and to try:</p>
<ul>
  <li><a href="/.well-known/oauth-authorization-server"><code>/.well-known/oauth-authorization-server</code></a>: the metadata above, as JSON</li>
  <li><a href="/openapi.json"><code>/openapi.json</code></a>: every endpoint, its parameters and answers (OpenAPI 3.1)</li>
  <li><a href="/.well-known/jwks.json"><code>/.well-known/jwks.json</code></a>: the token signing keys (JWKS)</li>
  <li><a href="/tokens/new"><code>/tokens/new</code></a>: a testing token for your app without running the flow (you sign in first)</li>
</ul>

<h2 id="sign-in">Signing in with your own domain</h2>
<p>To sign in to apps as your own domain, say <code>https://you.example/</code>, with this server doing the
proving, put these lines in the <code>&lt;head&gt;</code> of that page. Apps read
<code>indieauth-metadata</code>; <code>authorization_endpoint</code> and <code>token_endpoint</code> are for older
apps, and <code>ticket_endpoint</code> lets other people's servers send you <a href="#tickets">tickets</a>.</p>
% if pgp:
<p>To sign in with your PGP key, link the public key (ASCII-armoured, on the same site) from that page too,
for example <code>&lt;link rel="pgpkey" href="/key.asc"&gt;</code>: at sign-in you sign a short challenge with
<code>gpg --clearsign</code> and paste the result.</p>
% end
<label for="head-links">Lines for your page's <code>&lt;head&gt;</code></label>
<textarea id="head-links" class="token" rows="{{len(links) + 1}}" wrap="off" readonly>{{head_lines}}</textarea>
<button type="button" class="secondary" data-copy="head-links" hidden>Copy the lines</button>

<h2 id="app-flow">How an app signs people in</h2>
<ol>
  <li>Ask for the person's URL (the form <a href="#button">below</a> does that), fetch it, find
    <code>&lt;link rel="indieauth-metadata"&gt;</code> (or the same HTTP <code>Link</code> header) and read
    <code>authorization_endpoint</code> and <code>token_endpoint</code> from that metadata.</li>
  <li>Make a random <code>state</code> and a PKCE <code>code_verifier</code> (43–128 characters), and keep
    both in the person's session. The <code>code_challenge</code> is the verifier's SHA-256,
    base64url-encoded without padding.</li>
  <li>Send the browser to the authorization endpoint with <code>response_type=code</code>,
    <code>client_id</code> (your app's URL), <code>redirect_uri</code>, <code>state</code>,
    <code>code_challenge</code>, <code>code_challenge_method=S256</code>, <code>scope</code> and
    <code>me</code>. A <code>redirect_uri</code> on another host than the <code>client_id</code> must be
    published: <code>redirect_uris</code> in your client metadata document, or
    <code>&lt;link rel="redirect_uri"&gt;</code> on the <code>client_id</code> page.</li>
  <li>The person signs in here and approves. They come back to your <code>redirect_uri</code> with
    <code>code</code>, <code>state</code> and <code>iss</code>: check that <code>state</code> is the one
    you kept and that <code>iss</code> is <code>{{metadata["issuer"]}}</code>.</li>
  <li>Within 10 minutes, exchange the code (it works once) at the token endpoint. A code granted without
    any scope is redeemed the same way at the authorization endpoint, for the profile URL alone.</li>
  <li>The answer's <code>me</code> is who signed in. When it differs from the URL that was typed, run
    discovery on it and believe it only if it names this same server; then use the
    <code>access_token</code> as a Bearer token and the <code>refresh_token</code> to renew it.</li>
</ol>
<label for="exchange-curl">Exchanging the code (step 5)</label>
<textarea id="exchange-curl" class="token" rows="8" wrap="off" readonly>{{exchange_curl}}</textarea>
<button type="button" class="secondary" data-copy="exchange-curl" hidden>Copy command</button>
<p>The answer is JSON: <code>access_token</code>, <code>token_type</code> (Bearer), <code>scope</code>,
<code>expires_in</code>, <code>refresh_token</code>, <code>me</code>, and <code>profile</code> when the
<code>profile</code> scope was granted. An error is JSON too, with <code>error</code> and
<code>error_description</code>.</p>
<label for="verify-curl">Verifying an access token</label>
<textarea id="verify-curl" class="token" rows="2" wrap="off" readonly>{{verify_curl}}</textarea>
<button type="button" class="secondary" data-copy="verify-curl" hidden>Copy command</button>
<p>It answers <code>{"me", "client_id", "scope", "aud"}</code> for a live token and <code>401</code> for anything
else. A resource server that holds a credential uses the introspection endpoint instead; one that
verifies JWTs itself uses the keys at <code>jwks_uri</code>, but then does not see revocations.</p>
<p>An app that signs in for one particular resource server (an MCP server, say) adds a
<code>resource</code> parameter (RFC 8707), such as <code>https://notes.example.com/mcp</code>, to the
authorization request: the consent
screen names that server, and the token's <code>aud</code> is that URI instead of the person's profile URL, so
another server that checks its audience refuses it. A malformed <code>resource</code>, or one at the token
endpoint that the authorization request did not name, is <code>invalid_target</code>.</p>

<h2 id="device-flow">Apps on devices without a browser</h2>
<p>A command-line Micropub client, an e-reader or a TV cannot receive a redirect. It uses the device
authorization grant (RFC 8628) instead: it shows the person a short code, the person types it here on their
phone or computer, signs in and approves, and the app picks its tokens up at the token endpoint.</p>
<ol>
  <li>The app POSTs its <code>client_id</code> (its URL, as above; a registered app authenticates as at the token
    endpoint) and the <code>scope</code> it needs (at least one) to the device authorization endpoint.</li>
  <li>It shows the <code>user_code</code> and the <code>verification_uri</code> (or a QR code of
    <code>verification_uri_complete</code>, which fills the code in), and tells the person to compare the code.</li>
  <li>It polls the token endpoint every <code>interval</code> seconds. Until the person answers it gets
    <code>authorization_pending</code>; polling sooner gets <code>slow_down</code>, and from then on the
    interval is 5 seconds longer. <code>access_denied</code> means the person said no,
    <code>expired_token</code> that nobody answered within <code>expires_in</code> seconds: start again.</li>
  <li>Once approved, the answer is the normal token response above, with <code>me</code>. The
    <code>device_code</code> works once.</li>
</ol>
<label for="device-start-curl">Starting (step 1)</label>
<textarea id="device-start-curl" class="token" rows="4" wrap="off" readonly>{{device_start_curl}}</textarea>
<button type="button" class="secondary" data-copy="device-start-curl" hidden>Copy command</button>
<label for="device-answer">Its answer</label>
<textarea id="device-answer" class="token" rows="9" wrap="off" readonly>{{device_answer}}</textarea>
<button type="button" class="secondary" data-copy="device-answer" hidden>Copy the answer</button>
<label for="device-poll-curl">Polling (step 3)</label>
<textarea id="device-poll-curl" class="token" rows="5" wrap="off" readonly>{{device_poll_curl}}</textarea>
<button type="button" class="secondary" data-copy="device-poll-curl" hidden>Copy command</button>

<h2 id="tickets">Tickets: giving someone access without being asked</h2>
<p>Ticketing for IndieAuth lets a person give someone else access to something private (posts only
friends may read, a private feed) before they ask. On the <a href="/tickets">Tickets</a> page (or with
<code>indieauth ticket send --subject URL --resource URL</code>) the person names the friend's site and the
resource. This server finds the friend's <code>ticket_endpoint</code> (through their site's
<code>indieauth-metadata</code>, or a <code>rel="ticket_endpoint"</code> link) and POSTs it a ticket:</p>
<label for="ticket-post">What a ticket endpoint receives (form-encoded)</label>
<textarea id="ticket-post" class="token" rows="4" wrap="off" readonly>ticket=THE_TICKET
resource=https://you.example/private/
subject=https://friend.example/
iss={{metadata["issuer"]}}</textarea>
<button type="button" class="secondary" data-copy="ticket-post" hidden>Copy the example</button>
<p>The friend's server redeems it here within {{ticket_minutes}} minutes, once:</p>
<label for="ticket-curl">Redeeming a ticket</label>
<textarea id="ticket-curl" class="token" rows="3" wrap="off" readonly>curl {{token_endpoint}} -d grant_type=ticket -d ticket=THE_TICKET</textarea>
<button type="button" class="secondary" data-copy="ticket-curl" hidden>Copy command</button>
<p>The answer is an access token whose <code>me</code> is the friend's URL and whose JWT <code>aud</code> is the
resource, with no refresh token; a used or expired ticket gets <code>invalid_grant</code>. A resource server
verifying it (GET on the token endpoint, or introspection) sees <code>resource</code> too. The other way round,
tickets sent to people on this server arrive at <code>ticket_endpoint</code>; the server redeems them at the
sender's token endpoint and keeps the tokens, encrypted, on the person's Tickets page, to copy into a reader.</p>

<h2 id="protect">Protecting your MCP server (or Micropub endpoint)</h2>
<p>An MCP server or a Micropub endpoint of yours accepts tokens this server issued for it. The module
<code>indieauth_resource</code>, installed with indieauth (it does not load this server), verifies them,
serves the resource metadata MCP clients read first (RFC 9728) and answers <code>401</code> with
<code>WWW-Authenticate: Bearer resource_metadata="…"</code>. MCP clients identify themselves by the URL of
their client metadata document (<code>client_id_<wbr>metadata_<wbr>document_<wbr>supported</code>), as IndieAuth apps do.
Get these right:</p>
<ul id="protect-settings">
  <li><strong>The issuer, exactly</strong>: <code>{{metadata["issuer"]}}</code>, trailing slash included. It is
  compared as a string: without the slash every token is refused.</li>
  <li><strong>The resource</strong>: your server's own URL as clients reach it. Clients send it as
  <code>resource</code>, it becomes the token's <code>aud</code>, and a token for another server is refused.
  Apps that send no <code>resource</code> get tokens whose <code>aud</code> is the person's URL.</li>
  <li><strong><code>required_scopes</code></strong>: listed in your metadata so clients ask for them; a token
  without them gets <code>403 insufficient_scope</code>.</li>
  <li><strong>To introspect</strong> (a revocation counts at once): a credential bound to your server,
  <code>indieauth resource-server add notes</code> <code>--resource https://notes.example.com/mcp</code>, given as
  <code>introspection_credential</code>.</li>
</ul>
<label for="protect-snippet">A WSGI app behind it (Python)</label>
<textarea id="protect-snippet" class="token" rows="7" wrap="off" readonly>{{protect_snippet}}</textarea>
<button type="button" class="secondary" data-copy="protect-snippet" hidden>Copy the code</button>
<p>The recipe for the MCP Python SDK, with its token verifier, is in this server's documentation
(<code>docs/api.md</code>, “Protecting your MCP server”).</p>

<h2 id="button">A “Sign in with your domain” form for your app</h2>
<p>Put this on your app's sign-in page. It only asks for the person's URL and sends it to your app
(here to <code>/indieauth/start</code>: change <code>action</code> to your own route). Everything else is your
app's work on its server: discovery, <code>client_id</code>, <code>redirect_uri</code>, <code>state</code> and
PKCE, as in the steps above. Send <code>me</code> on as a hint, never as proof.</p>
<label for="sign-in-snippet">HTML for your app's sign-in page</label>
<textarea id="sign-in-snippet" class="token" rows="7" wrap="off" readonly>{{sign_in_snippet}}</textarea>
<button type="button" class="secondary" data-copy="sign-in-snippet" hidden>Copy the form</button>

<h2 id="tester">OAuth tester</h2>
<p>Run the whole flow with this page as the app: its <code>client_id</code> and <code>redirect_uri</code>
are both <code>{{tester_client_id}}</code>. You sign in, see the consent screen and come back here with a
code, which the tester exchanges for tokens in your browser. The tokens are real: revoke them on
<a href="/tokens">your tokens page</a> when you are done.</p>
<noscript><p class="warning" id="tester-noscript">The tester needs JavaScript: it makes the PKCE pair and
exchanges the code in your browser. Everything else on this page works without it, and the
<code>curl</code> commands above do the same steps by hand.</p></noscript>
<div id="tester-app" hidden data-client-id="{{tester_client_id}}" data-issuer="{{metadata['issuer']}}"
     data-authorization-endpoint="{{metadata['authorization_endpoint']}}"
     data-token-endpoint="{{token_endpoint}}">
  <p class="error" id="tester-error" role="alert" hidden></p>
  <section class="method" id="tester-return" aria-labelledby="tester-return-heading" hidden>
    <h3 id="tester-return-heading" tabindex="-1">Back from the authorization endpoint</h3>
    <dl class="facts">
      <dt>code</dt><dd><code id="tester-code"></code></dd>
      <dt>state</dt><dd id="tester-state"></dd>
      <dt>iss</dt><dd id="tester-iss"></dd>
      <dt>Scopes asked for</dt><dd id="tester-asked"></dd>
    </dl>
    <p class="muted" id="tester-code-note">A code works once, for 10 minutes. One granted without any scope
    can only be redeemed for the profile URL, at the authorization endpoint.</p>
    <div class="actions" id="tester-redeem-actions">
      <button type="button" id="tester-exchange">Exchange the code at the token endpoint</button>
      <button type="button" class="secondary" id="tester-profile">Redeem it for the profile URL only</button>
    </div>
  </section>
  <section class="method" id="tester-response" aria-labelledby="tester-response-heading" hidden>
    <h3 id="tester-response-heading" tabindex="-1">The answer</h3>
    <h4>Request</h4>
    <pre class="snippet"><code id="tester-request"></code></pre>
    <h4>Response</h4>
    <pre class="snippet"><code id="tester-json"></code></pre>
    <div id="tester-jwt" hidden>
      <p class="muted" id="tester-jwt-note">The access token is a JWT: below, its header and payload decoded from
      base64url. Its signature is <strong>not</strong> verified here; a resource server verifies it with the
      keys at <a href="/.well-known/jwks.json">the JWKS</a>, or asks the token endpoint.</p>
      <h4>Access token header</h4>
      <pre class="snippet"><code id="tester-jwt-header"></code></pre>
      <h4>Access token payload</h4>
      <pre class="snippet"><code id="tester-jwt-payload"></code></pre>
    </div>
    <button type="button" class="secondary" id="tester-refresh" hidden>Refresh: use the refresh token</button>
  </section>
  <form id="tester-form" aria-labelledby="tester-form-heading">
    <h3 id="tester-form-heading">Start a flow</h3>
    <fieldset>
      <legend>Scopes to ask for</legend>
      % for name in scopes:
      <div class="check">
        <input type="checkbox" name="scope" value="{{name}}" id="tester-scope-{{name}}"{{!' checked' if name in default_scopes else ''}}>
        <label for="tester-scope-{{name}}"><code>{{name}}</code></label>
      </div>
      % end
    </fieldset>
    <label for="tester-me">Your profile URL, as a hint (<code>me</code>, optional)</label>
    <input type="url" id="tester-me" name="me" autocomplete="url" placeholder="https://you.example/">
    <div class="actions"><button type="submit" id="tester-start">Start: go to the authorization endpoint</button></div>
  </form>
</div>
