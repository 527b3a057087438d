// The wizard's checks as you type: the form goes to /check (the server runs the same
// checks as for the terminal), and each field shows its problem; a field still at the
// value it offered follows the new default. When the questions change (another choice
// brings or drops one), the page is asked again. Without JavaScript the buttons do the same.
(function () {
  "use strict";
  var form = document.getElementById("wizard");
  if (!form || !window.fetch || !window.URLSearchParams) { return; }
  var timer = null;
  var sent = 0;

  function fieldKeys() {
    return Array.prototype.map.call(form.querySelectorAll(".field"), function (f) {
      return f.getAttribute("data-key");
    });
  }

  function show(reply) {
    if (reply.order.join("\n") !== fieldKeys().join("\n")) {
      var again = document.createElement("input");
      again.type = "hidden"; again.name = "action"; again.value = "check";
      form.appendChild(again);
      form.submit();
      return;
    }
    Object.keys(reply.fields).forEach(function (key) {
      var box = form.querySelector('.field[data-key="' + key + '"]');
      if (!box) { return; }
      var answer = reply.fields[key];
      var problem = box.querySelector(".problem");
      problem.textContent = answer.problem || "";
      box.classList.toggle("has-problem", !!answer.problem);
      var offered = box.querySelector('input[name="offered.' + key + '"]');
      var text = box.querySelector("input:not([type=hidden]):not([type=radio])");
      if (text && !text.readOnly && offered && text.value === offered.value &&
          answer.offered !== offered.value && document.activeElement !== text) {
        text.value = answer.offered;
      }
      if (offered && text && text.value === answer.offered) { offered.value = answer.offered; }
    });
  }

  function check() {
    var number = ++sent;
    var body = new URLSearchParams(new FormData(form));
    fetch("/check", { method: "POST", body: body, credentials: "same-origin",
                      headers: { "Content-Type": "application/x-www-form-urlencoded" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (reply) { if (reply && number === sent) { show(reply); } })
      .catch(function () { /* the buttons still work */ });
  }

  form.addEventListener("input", function (event) {
    clearTimeout(timer);
    timer = setTimeout(check, event.target.type === "radio" ? 0 : 350);
  });
  form.addEventListener("change", function (event) {
    if (event.target.type === "radio") { check(); }
  });
}());
