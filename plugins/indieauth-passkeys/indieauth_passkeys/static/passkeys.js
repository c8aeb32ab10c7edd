// Passkeys (WebAuthn) for the indieauth passkeys plugin: the one part of signing in that needs JavaScript.
// Asks the server for options (a POST with the page's csrf_token in the X-CSRF-Token header), lets the
// browser create or use a passkey, and sends its answer back: sign-in through the login form itself,
// registration as JSON.  On the sign-in page the browser also offers passkeys in the user name field's
// autofill (a "conditional" request).
(function () {
  "use strict";

  function toBytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    var binary = atob(base64 + "===".slice((base64.length + 3) % 4));
    return Uint8Array.from(binary, function (c) { return c.charCodeAt(0); });
  }

  function toText(buffer) {
    var binary = String.fromCharCode.apply(null, new Uint8Array(buffer));
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function post(url, form, extra) {
    var fields = new URLSearchParams();
    Object.keys(extra || {}).forEach(function (key) { fields.append(key, extra[key]); });
    return fetch(url, {method: "POST", body: fields, credentials: "same-origin",
                       headers: {"Accept": "application/json", "X-CSRF-Token": form.elements.csrf_token.value}})
      .then(function (response) {
        return response.json().catch(function () { return {error: "The server's answer could not be read. Try again."}; })
          .then(function (body) {
            if (!response.ok || body.error) { throw new Error(body.error || "The server refused. Try again."); }
            return body;
          });
      });
  }

  function descriptors(list) {
    return (list || []).map(function (item) { return Object.assign({}, item, {id: toBytes(item.id)}); });
  }

  function creationOptions(options) {
    return Object.assign({}, options, {challenge: toBytes(options.challenge),
      user: Object.assign({}, options.user, {id: toBytes(options.user.id)}),
      excludeCredentials: descriptors(options.excludeCredentials)});
  }

  function requestOptions(options) {
    var result = Object.assign({}, options, {challenge: toBytes(options.challenge)});
    if (options.allowCredentials) { result.allowCredentials = descriptors(options.allowCredentials); }
    return result;
  }

  function answer(credential) {
    var response = credential.response, json = {id: credential.id, rawId: toText(credential.rawId),
      type: credential.type, authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: credential.getClientExtensionResults(), response: {
        clientDataJSON: toText(response.clientDataJSON)}};
    if (response.attestationObject) {
      json.response.attestationObject = toText(response.attestationObject);
      json.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      json.response.authenticatorData = toText(response.authenticatorData);
      json.response.signature = toText(response.signature);
      json.response.userHandle = response.userHandle ? toText(response.userHandle) : null;
    }
    return JSON.stringify(json);
  }

  function explain(error) {
    if (error.name === "NotAllowedError") {
      return "No passkey was used (it was cancelled or took too long). Try again, or use another way.";
    }
    if (error.name === "InvalidStateError") { return "This passkey is registered here already."; }
    if (error.name === "SecurityError") { return "This browser refused passkeys for this site's address."; }
    return error.message || "Something went wrong with the passkey. Try again.";
  }

  function show(box, message) {
    box.textContent = message;
    box.hidden = false;
  }

  function setUp(form, button, box, run, failed) {
    if (!form) { return; }
    if (!window.PublicKeyCredential || !navigator.credentials) {
      show(box, "This browser does not support passkeys. Use another way, or another browser.");
      return;
    }
    button.parentElement.hidden = false;  // a wrapper: the stylesheet's display for buttons beats [hidden]
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      button.disabled = true;
      run(form).catch(function (error) {
        show(box, explain(error));
        button.disabled = false;
        if (failed) { failed(); }
      });
    });
  }

  function signIn(form, credential) {
    form.elements.credential.value = answer(credential);
    form.submit();  // the core checks the CSRF token, verifies and goes on to the next step
  }

  // -- passkeys in the autofill of the user name fields (the password form's, and any other)

  var autofill = null;  // the conditional request waiting for a passkey to be picked: {controller, ready, timer}

  function userNameFields() {
    return Array.prototype.slice.call(document.querySelectorAll('input[autocomplete~="username" i]'));
  }

  function markForPasskeys(field) {  // "webauthn" comes last: autocomplete="username webauthn"
    var tokens = field.getAttribute("autocomplete").trim().split(/\s+/);
    if (tokens[tokens.length - 1].toLowerCase() !== "webauthn") {
      field.setAttribute("autocomplete", tokens.concat("webauthn").join(" "));
    }
  }

  function stopAutofill() {
    // Resolves once the conditional request is aborted and its options have arrived, so that its challenge
    // cookie cannot land after the one the caller asks for next.
    var current = autofill;
    autofill = null;
    if (!current) { return Promise.resolve(); }
    clearTimeout(current.timer);
    current.controller.abort();
    return current.ready.catch(function () {});
  }

  function offerInAutofill(form, button) {
    var current = {controller: new AbortController(), ready: post(form.dataset.options, form), timer: null};
    autofill = current;
    current.ready
      .then(function (options) {
        if (autofill !== current) { throw new DOMException("stopped", "AbortError"); }
        // a conditional request never times out but its challenge does: ask for a new one before then
        current.timer = setTimeout(function () {
          stopAutofill().then(function () { if (!button.disabled) { offerInAutofill(form, button); } });
        }, (options.timeout || 300000) * 0.8);
        return navigator.credentials.get({mediation: "conditional", signal: current.controller.signal,
                                          publicKey: requestOptions(options)});
      })
      .then(function (credential) {
        clearTimeout(current.timer);
        autofill = null;
        button.disabled = true;
        signIn(form, credential);
      })
      .catch(function () {
        // aborted for the button or a new challenge, or refused: the button and other ways still work
        if (autofill === current) { clearTimeout(current.timer); autofill = null; }
      });
  }

  function startAutofill(form, button) {
    if (!form.hasAttribute("data-autofill") || !window.PublicKeyCredential) { return; }  // a first step only
    var fields = userNameFields();
    if (!fields.length) { return; }
    fields.forEach(markForPasskeys);
    if (!PublicKeyCredential.isConditionalMediationAvailable) { return; }
    PublicKeyCredential.isConditionalMediationAvailable().then(function (available) {
      if (available && !autofill && !button.disabled) { offerInAutofill(form, button); }  // not during the button's
    }, function () {});
  }

  var login = document.getElementById("passkeys-login");
  var loginButton = document.getElementById("passkeys-sign-in");
  setUp(login, loginButton, document.getElementById("passkeys-error"),
    function (form) {
      return stopAutofill()
        .then(function () { return post(form.dataset.options, form); })
        .then(function (options) { return navigator.credentials.get({publicKey: requestOptions(options)}); })
        .then(function (credential) { signIn(form, credential); });
    },
    function () { startAutofill(login, loginButton); });
  if (login) { startAutofill(login, loginButton); }

  var add = document.getElementById("passkeys-add");
  setUp(add, document.getElementById("passkeys-add-button"), document.getElementById("passkeys-add-error"),
    function (form) {
      return post(form.dataset.options, form)
        .then(function (options) { return navigator.credentials.create({publicKey: creationOptions(options)}); })
        .then(function (credential) {
          return post(form.action, form, {credential: answer(credential), name: form.elements.namedItem("name").value});
        })
        .then(function (body) { window.location.assign(body.redirect); });
    });
}());
