// Feature Coach store demo (staff side): live board, "show it" without a reload, countdown.
// Every page works without it: the forms post and the board reloads on its own terms.
(function () {
  "use strict";

  function csrfOf(form) {
    var field = form.querySelector('input[name="csrf_token"]');
    return field ? field.value : "";
  }

  function setPill(element, text, tone) {
    if (!element) { return; }
    element.textContent = text;
    element.className = element.className.replace(/\b(good|bad|warn|neutral|accent)\b/g, "").trim() + " " + tone;
  }

  // -- the board: refresh each card from the small JSON endpoint ---------------------------
  var board = document.querySelector("[data-status-url]");
  if (board) {
    var url = board.getAttribute("data-status-url");
    var updated = board.querySelector(".js-updated");
    var announce = board.querySelector(".js-announce");
    var before = {};
    var refresh = function () {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) {
          if (!response.ok) { throw new Error("status " + response.status); }
          return response.json();
        })
        .then(function (state) {
          state.devices.forEach(function (d) {
            var card = board.querySelector('[data-did="' + d.did + '"]');
            if (!card) { return; }
            card.className = card.className.replace(/\bstate-[a-z-]+\b/, "state-" + d.demo);
            setPill(card.querySelector(".js-status"), d.status_text, d.status_tone);
            setPill(card.querySelector(".js-demo"), d.demo_text, d.demo_tone);
            var problem = card.querySelector(".js-problem");
            if (problem) { problem.textContent = d.problem_text; problem.hidden = !d.problem_text; }
            var reset = card.querySelector(".js-last-reset");
            if (reset) { reset.textContent = d.last_reset_text; }
            var form = card.querySelector(".js-reset-form");
            if (form) { form.hidden = !d.can_reset; }
            var key = d.status + "/" + d.demo;
            if (announce && before[d.did] && before[d.did] !== key) {
              announce.textContent = d.name + ": " + d.status_text + ", " + d.demo_text;
            }
            before[d.did] = key;
          });
          var flaggedWrap = board.querySelector(".js-flagged-wrap");
          if (flaggedWrap) { flaggedWrap.hidden = state.flagged === 0; }
          if (updated) { updated.textContent = "· " + new Date().toLocaleTimeString(); }
          window.setTimeout(refresh, 3000);
        })
        .catch(function () { window.setTimeout(refresh, 8000); });
    };
    window.setTimeout(refresh, 1500);
  }

  // -- the guided demo: "show it" through fetch, the result under the step ------------------
  var countdown = document.querySelector(".countdown[data-timeout]");
  var left = countdown ? parseInt(countdown.getAttribute("data-timeout"), 10) : 0;
  var full = countdown ? parseInt(countdown.getAttribute("data-full"), 10) : 0;

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("js-show") || !window.fetch) { return; }
    event.preventDefault();
    var button = form.querySelector("button");
    var step = form.closest(".step");
    var result = step ? step.querySelector(".step-result") : null;
    var label = button.textContent;
    button.setAttribute("aria-busy", "true");
    button.disabled = true;
    button.textContent = button.getAttribute("data-busy");
    fetch(form.action, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRF-Token": csrfOf(form) },
      body: new FormData(form)
    })
      .then(function (response) { return response.json(); })
      .then(function (answer) {
        if (result) {
          result.textContent = answer.message;
          result.className = "step-result " + answer.tone;
        }
        if (answer.status_text) {
          setPill(document.querySelector(".device-title .js-status"), answer.status_text, answer.status_tone);
        }
        if (answer.ok && step) {
          if (!step.classList.contains("is-shown")) {
            step.classList.add("is-shown");
            var counter = document.querySelector(".js-shown-count");
            if (counter) { counter.textContent = String(parseInt(counter.textContent, 10) + 1); }
          }
          button.classList.add("again");
          label = button.getAttribute("data-again");
          button.setAttribute("aria-label", label + ": " + button.getAttribute("data-feature"));
        }
        left = full;
      })
      .catch(function () {
        if (result) {
          result.textContent = form.getAttribute("data-failed");
          result.className = "step-result bad";
        }
      })
      .then(function () {
        button.textContent = label;
        button.disabled = false;
        button.removeAttribute("aria-busy");
      });
  });

  if (countdown && left > 0) {
    var template = countdown.getAttribute("data-template");
    var tick = function () {
      left -= 1;
      if (left <= 0) { window.location.reload(); return; }
      var minutes = Math.floor(left / 60);
      var seconds = left % 60;
      countdown.textContent = template.replace("{time}", minutes + ":" + (seconds < 10 ? "0" : "") + seconds);
      window.setTimeout(tick, 1000);
    };
    tick();
  }
})();
