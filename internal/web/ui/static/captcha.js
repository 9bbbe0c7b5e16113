// Portvakt: mounts the self-hosted ALTCHA widget (static/altcha/, MIT) in
// each [data-captcha] placeholder, in the page's language. The widget is
// the "external" build: its SHA-256 worker is served from /static/altcha/
// (worker-src 'self') and its CSS from a file (style-src 'self').
(function () {
  "use strict";
  var A = globalThis.$altcha;
  if (!A) { return; }
  var worker = function () { return new Worker("/static/altcha/sha.js"); };
  ["SHA-256", "SHA-384", "SHA-512"].forEach(function (alg) { A.algorithms.set(alg, worker); });
  document.querySelectorAll("[data-captcha]").forEach(function (box) {
    var d = box.dataset, lang = (d.lang || "en").toLowerCase();
    A.i18n.set(lang, {
      ariaLinkLabel: "ALTCHA", cancel: d.reload, enterCode: "", enterCodeAria: "", enterCodeFromImage: "",
      error: d.error, expired: d.expired, footer: d.footer, getAudioChallenge: "",
      label: d.label, loading: d.loading, reload: d.reload, verify: d.label,
      verificationRequired: d.required, verified: d.verified, verifying: d.verifying, waitAlert: d.wait
    });
    var w = document.createElement("altcha-widget");
    w.setAttribute("challenge", d.challenge);
    w.setAttribute("name", d.name || "captcha");
    w.setAttribute("language", lang);
    box.appendChild(w);
  });
})();
