// WebAuthn ceremonies for Portvakt's pages: register a security key or
// passkey, use one as the second step, sign in with a passkey (a button,
// and autofill in the email field). This is the only place the product
// needs JavaScript, because the browser API exists only there. The server
// sends the options as JSON and checks everything; this file only carries
// bytes between the server and navigator.credentials.
//
// Elements opt in with data attributes:
//   form[data-webauthn="register"|"factor"|"passkey"] — on submit, run the
//     ceremony: POST the form to data-options (JSON back: {flow, options}),
//     call the browser, then put the JSON result into the form's
//     input[name=response] (and flow into input[name=flow]) and submit it.
//   input[autocomplete~="webauthn"] — conditional UI (passkey autofill).
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !navigator.credentials) {
    document.querySelectorAll("[data-webauthn-unsupported]").forEach(function (el) { el.hidden = false; });
    document.querySelectorAll("form[data-webauthn]").forEach(function (f) {
      var b = f.querySelector("button"); if (b) b.disabled = true;
    });
    return;
  }

  function b64urlToBuf(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function bufToB64url(buf) {
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function creationOptions(o) {
    if (PublicKeyCredential.parseCreationOptionsFromJSON) return PublicKeyCredential.parseCreationOptionsFromJSON(o);
    o.challenge = b64urlToBuf(o.challenge);
    o.user.id = b64urlToBuf(o.user.id);
    (o.excludeCredentials || []).forEach(function (c) { c.id = b64urlToBuf(c.id); });
    return o;
  }
  function requestOptions(o) {
    if (PublicKeyCredential.parseRequestOptionsFromJSON) return PublicKeyCredential.parseRequestOptionsFromJSON(o);
    o.challenge = b64urlToBuf(o.challenge);
    (o.allowCredentials || []).forEach(function (c) { c.id = b64urlToBuf(c.id); });
    return o;
  }
  function toJSON(cred) {
    if (cred.toJSON) return cred.toJSON();
    var r = cred.response, out = { id: cred.id, rawId: bufToB64url(cred.rawId), type: cred.type, clientExtensionResults: cred.getClientExtensionResults(), response: { clientDataJSON: bufToB64url(r.clientDataJSON) } };
    if (r.attestationObject) {
      out.response.attestationObject = bufToB64url(r.attestationObject);
      if (r.getTransports) out.response.transports = r.getTransports();
    } else {
      out.response.authenticatorData = bufToB64url(r.authenticatorData);
      out.response.signature = bufToB64url(r.signature);
      if (r.userHandle) out.response.userHandle = bufToB64url(r.userHandle);
    }
    if (cred.authenticatorAttachment) out.authenticatorAttachment = cred.authenticatorAttachment;
    return out;
  }
  function fetchOptions(form) {
    var body = new URLSearchParams(new FormData(form));
    return fetch(form.dataset.options, { method: "POST", credentials: "same-origin", body: body, headers: { "Accept": "application/json" } })
      .then(function (r) {
        return r.json().then(function (j) { if (!r.ok) throw new Error(j.detail || j.title || "error"); return j; });
      });
  }
  function show(form, msg) {
    var el = form.querySelector("[data-webauthn-error]");
    if (el) { el.textContent = msg; el.hidden = false; }
  }
  function finish(form, flow, cred) {
    form.querySelector("input[name=response]").value = JSON.stringify(toJSON(cred));
    var f = form.querySelector("input[name=flow]"); if (f && flow) f.value = flow;
    form.dataset.done = "1";
    form.submit();
  }

  // The passkey autofill's request, waiting in the background until the
  // user picks a passkey in the email field. A browser runs one request at
  // a time and refuses a second while one is pending, so a button's
  // ceremony first withdraws the autofill's (see stopAutofill).
  var autofill = { stopped: false, abort: null };
  function stopAutofill() {
    autofill.stopped = true;
    if (autofill.abort) { autofill.abort.abort(); autofill.abort = null; }
  }

  document.querySelectorAll("form[data-webauthn]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      if (form.dataset.done) return;
      ev.preventDefault();
      stopAutofill();
      var kind = form.dataset.webauthn;
      fetchOptions(form).then(function (res) {
        if (kind === "register") return navigator.credentials.create({ publicKey: creationOptions(res.options.publicKey || res.options) }).then(function (c) { finish(form, res.flow, c); });
        return navigator.credentials.get({ publicKey: requestOptions(res.options.publicKey || res.options) }).then(function (c) { finish(form, res.flow, c); });
      }).catch(function (e) {
        show(form, form.dataset.cancelled || (e && e.message) || "");
      });
    });
  });

  // Passkey autofill: offered in the email field of the sign-in page.
  var auto = document.querySelector("input[autocomplete~=webauthn]");
  var pform = document.querySelector("form[data-webauthn=passkey]");
  if (auto && pform && PublicKeyCredential.isConditionalMediationAvailable) {
    PublicKeyCredential.isConditionalMediationAvailable().then(function (ok) {
      if (!ok || autofill.stopped) return;
      fetchOptions(pform).then(function (res) {
        if (autofill.stopped) return;
        autofill.abort = window.AbortController ? new AbortController() : null;
        return navigator.credentials.get({ mediation: "conditional", signal: autofill.abort ? autofill.abort.signal : undefined, publicKey: requestOptions(res.options.publicKey || res.options) })
          .then(function (c) { if (!autofill.stopped) finish(pform, res.flow, c); });
      }).catch(function () { /* the user signs in another way */ });
    });
  }
})();
