// Live password rules: as the user types, ask the server which rules the
// password breaks and list them under the field. The server decides (the
// same check runs again on submit); without JavaScript the rules are still
// listed above the field and checked on submit.
(function () {
  "use strict";
  var input = document.getElementById("password");
  var live = document.getElementById("password-live");
  if (!input || !live || !window.fetch) return;
  var form = input.form;
  var timer = null;
  var seq = 0;
  function field(name) {
    var el = form && form.elements[name];
    return el ? el.value : "";
  }
  function check() {
    var mine = ++seq;
    if (input.value === "") { live.textContent = ""; return; }
    fetch("/api/v1/password/check", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify({ password: input.value, email: field("username") || field("email"), name: field("name"), flow: field("flow") })
    }).then(function (r) { return r.json(); }).then(function (res) {
      if (mine !== seq) return;
      live.textContent = "";
      var list = document.createElement("ul");
      (res.errors || []).forEach(function (e) {
        var li = document.createElement("li");
        li.textContent = e.message;
        list.appendChild(li);
      });
      if (res.ok) {
        var p = document.createElement("p");
        p.className = "ok";
        p.textContent = res.message;
        live.appendChild(p);
      } else {
        live.appendChild(list);
      }
    }).catch(function () { /* the server checks again on submit */ });
  }
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(check, 250);
  });
})();
