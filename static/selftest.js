// The Authorization check of /selftest, made by the browser: its request passes through the same web server in
// front as apps' requests do, and the server never asks itself (with one worker thread it would wait for itself).
// Without JavaScript the page shows the same check as a curl command.
var check = document.getElementById("authorization-check");
if (check) {
  var show = function (answer, detail) {
    var shown = check.querySelector('[data-answer="' + answer + '"]');
    shown.hidden = false;
    if (detail) { shown.querySelector(".detail").textContent = detail; }
    check.querySelectorAll(".by-hand").forEach(function (part) { part.hidden = answer !== "unreachable"; });
    check.querySelector(".fix").hidden = answer !== "missing";
  };
  fetch(check.dataset.echo, {headers: {"Authorization": check.dataset.authorization}, cache: "no-store"})
    .then(function (response) {
      if (!response.ok) { throw new Error("it answered " + response.status + " " + response.statusText); }
      return response.json();
    })
    .then(function (body) { show(["passed", "renamed"].indexOf(body.authorization) >= 0 ? body.authorization : "missing"); })
    .catch(function (error) { show("unreachable", error.message); });
}
