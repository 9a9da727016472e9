// Feature Coach: a little progressive enhancement. Every page works without it.
(function () {
  "use strict";

  // Ask before a destructive form is sent (remove a device, remove a person).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  // Follow a running scan: update the bar and the words, reload when it ends.
  var box = document.querySelector(".scan-status");
  var section = document.querySelector("[data-status-url]");
  if (!box || !section) {
    return;
  }
  var phase = box.getAttribute("data-phase");
  if (phase !== "looking" && phase !== "reading") {
    return;
  }
  var url = section.getAttribute("data-status-url");
  function tick() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (state) {
        if (!state.running) {
          window.location.reload();
          return;
        }
        var bar = box.querySelector("progress");
        if (bar) { bar.value = state.percent; }
        var text = box.querySelector(".scan-text");
        if (text) {
          text.textContent = state.phase === "looking"
            ? box.getAttribute("data-looking")
            : box.getAttribute("data-reading").replace("{done}", state.done).replace("{total}", state.total);
        }
        window.setTimeout(tick, 600);
      })
      .catch(function () { window.setTimeout(tick, 2000); });
  }
  window.setTimeout(tick, 400);
})();
