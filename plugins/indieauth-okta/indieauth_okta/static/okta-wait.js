// The Okta wait page, with JavaScript: ask the server every 2 seconds whether the push has been
// answered, and reload the page when it has (the page itself then finishes the sign-in or says what
// went wrong).  Without JavaScript, a <noscript> meta refresh reloads the page instead.
(function () {
  "use strict";
  var box = document.getElementById("okta-wait");
  if (!box || !window.fetch) {
    return;
  }
  var statusUrl = box.getAttribute("data-status");

  function check() {
    fetch(statusUrl, {headers: {"Accept": "application/json"}, credentials: "same-origin", cache: "no-store"})
      .then(function (response) { return response.json(); })
      .then(function (answer) {
        if (answer.status === "waiting") {
          window.setTimeout(check, 2000);
        } else {
          window.location.reload();
        }
      })
      .catch(function () { window.setTimeout(check, 5000); });
  }

  window.setTimeout(check, 2000);
}());
