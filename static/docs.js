// The OAuth tester on /docs: this page plays a public IndieAuth client whose client_id and redirect_uri are
// its own URL. It makes the PKCE pair and state, sends the person to the authorization endpoint, checks
// state and iss when they come back, and exchanges the code with fetch. Server data is only ever put in
// the page with textContent.
(function () {
  "use strict";
  const app = document.getElementById("tester-app");
  if (!app) return;
  const config = app.dataset; // clientId, issuer, authorizationEndpoint, tokenEndpoint
  const STORE = "indieauth-docs-tester"; // sessionStorage: this tab's pending flow, used once
  const $ = (id) => document.getElementById(id);
  let flow = null; // the flow this page load answers: {state, verifier, scope, me}
  let code = null;
  let refreshToken = null;
  app.hidden = false;

  function showError(message) {
    $("tester-error").textContent = message;
    $("tester-error").hidden = false;
  }

  function base64url(bytes) {
    let binary = "";
    bytes.forEach((byte) => { binary += String.fromCharCode(byte); });
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function fromBase64url(text) {
    const padded = text.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(text.length / 4) * 4, "=");
    return new TextDecoder().decode(Uint8Array.from(atob(padded), (c) => c.charCodeAt(0)));
  }

  function randomString(bytes) {
    return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
  }

  async function s256(verifier) {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
    return base64url(new Uint8Array(digest));
  }

  // -- starting a flow
  const startButton = $("tester-start");
  if (!window.crypto || !crypto.subtle) {
    startButton.disabled = true;
    showError("The tester needs the browser's Web Crypto API, which browsers give only to pages served over " +
              "https:// (or from localhost). Open this page over https:// to use it.");
  }

  $("tester-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const scope = Array.from(document.querySelectorAll("#tester-form input[name=scope]:checked"),
                             (box) => box.value).join(" ");
    const me = $("tester-me").value.trim();
    const pending = {state: randomString(16), verifier: randomString(32), scope: scope, me: me};
    const query = new URLSearchParams({
      response_type: "code", client_id: config.clientId, redirect_uri: config.clientId, state: pending.state,
      code_challenge: await s256(pending.verifier), code_challenge_method: "S256"});
    if (scope) query.set("scope", scope);
    if (me) query.set("me", me);
    try {
      sessionStorage.setItem(STORE, JSON.stringify(pending));
    } catch (error) {
      showError("The tester keeps its state and PKCE verifier in this tab's session storage, which the browser refused.");
      return;
    }
    window.location.assign(config.authorizationEndpoint + "?" + query.toString());
  });

  // -- coming back: ?code=…&state=…&iss=… or ?error=…
  function takePendingFlow() {
    try {
      const stored = sessionStorage.getItem(STORE);
      sessionStorage.removeItem(STORE); // a flow is answered once; a reload must not reuse it
      return stored ? JSON.parse(stored) : null;
    } catch (error) {
      return null;
    }
  }

  function answerProblem(params) {
    if (!flow) {
      return "This tab did not start a tester flow (or has already used its answer), so the answer is not " +
             "trusted. Start a flow below.";
    }
    if (params.get("state") !== flow.state) {
      return "The state that came back is not the one this tab sent. The answer may be forged (a CSRF " +
             "attempt), so the code is not exchanged. Start a flow below.";
    }
    if (params.get("iss") !== config.issuer) {
      return "The iss that came back (" + (params.get("iss") || "none") + ") is not this server's issuer (" +
             config.issuer + "). The answer may come from another server (a mix-up attack), so the code is " +
             "not exchanged.";
    }
    return null;
  }

  const params = new URLSearchParams(window.location.search);
  if (params.has("code") || params.has("error")) {
    flow = takePendingFlow();
    // the code must not stay in the address bar, the history or a bookmark
    window.history.replaceState(null, "", window.location.pathname);
    const problem = answerProblem(params);
    if (params.has("error")) {
      const denied = params.get("error") === "access_denied";
      showError((denied ? "You denied the request: " : "The authorization endpoint answered with an error: ") +
                params.get("error") + (params.get("error_description") ? " (" + params.get("error_description") + ")" : "") +
                "." + (problem ? " " + problem : ""));
    } else if (problem) {
      showError(problem);
    } else {
      code = params.get("code");
      $("tester-code").textContent = code;
      $("tester-state").textContent = params.get("state") + " (the one this tab sent)";
      $("tester-iss").textContent = params.get("iss") + " (this server's issuer)";
      $("tester-asked").textContent = flow.scope || "none (the profile URL only)";
      $("tester-return").hidden = false;
      $("tester-return-heading").focus();
    }
    if (!$("tester-error").hidden) $("tester-error").scrollIntoView();
  }

  // -- exchanging the code and refreshing
  function jwtParts(token) {
    const parts = typeof token === "string" ? token.split(".") : [];
    if (parts.length !== 3) return null;
    try {
      return {header: JSON.parse(fromBase64url(parts[0])), payload: JSON.parse(fromBase64url(parts[1]))};
    } catch (error) {
      return null;
    }
  }

  async function post(url, fields, what) {
    $("tester-error").hidden = true;
    let response;
    let body;
    try {
      response = await fetch(url, {
        method: "POST", credentials: "omit", body: new URLSearchParams(fields),
        headers: {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}});
      const text = await response.text();
      try {
        body = JSON.parse(text);
      } catch (error) {
        body = text;
      }
    } catch (error) {
      showError("The request to " + url + " failed: " + error.message);
      return null;
    }
    $("tester-response-heading").textContent = what + ": HTTP " + response.status;
    $("tester-request").textContent = "POST " + url + "\n" +
      Object.entries(fields).map(([name, value]) => name + "=" + value).join("\n");
    $("tester-json").textContent = typeof body === "string" ? body : JSON.stringify(body, null, 2);
    const jwt = jwtParts(body && body.access_token);
    $("tester-jwt").hidden = !jwt;
    $("tester-jwt-header").textContent = jwt ? JSON.stringify(jwt.header, null, 2) : "";
    $("tester-jwt-payload").textContent = jwt ? JSON.stringify(jwt.payload, null, 2) : "";
    refreshToken = (body && body.refresh_token) || refreshToken;
    $("tester-refresh").hidden = !refreshToken;
    $("tester-response").hidden = false;
    $("tester-response-heading").focus();
    if (!response.ok) {
      showError("The server refused: " + (body && body.error ? body.error + (body.error_description ?
                " (" + body.error_description + ")" : "") : "HTTP " + response.status) + ".");
    }
    return response.ok;
  }

  async function redeem(url, what) {
    const fields = {grant_type: "authorization_code", code: code, client_id: config.clientId,
                    redirect_uri: config.clientId, code_verifier: flow.verifier};
    if (await post(url, fields, what)) {
      $("tester-redeem-actions").hidden = true; // a code works once
      $("tester-code-note").textContent = "The code is used up: a code works once. Start a new flow for another.";
    }
  }

  $("tester-exchange").addEventListener("click", () => redeem(config.tokenEndpoint, "Code exchange"));
  $("tester-profile").addEventListener("click", () => redeem(config.authorizationEndpoint, "Profile URL only"));
  $("tester-refresh").addEventListener("click", () => post(config.tokenEndpoint, {
    grant_type: "refresh_token", refresh_token: refreshToken, client_id: config.clientId}, "Refresh"));
})();
