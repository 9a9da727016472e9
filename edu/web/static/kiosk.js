// Feature Coach kiosk: attract mode (a slow loop through the table's features), and back to
// the loop when a customer walks away from a feature page. No controls beyond pause.
(function () {
  "use strict";

  var main = document.querySelector(".kiosk-main");
  if (!main) { return; }

  // -- attract mode ---------------------------------------------------------------------
  var every = parseInt(main.getAttribute("data-attract") || "0", 10);
  var slides = Array.prototype.slice.call(document.querySelectorAll(".slide"));
  var dots = Array.prototype.slice.call(document.querySelectorAll(".dots li"));
  var pause = document.querySelector(".attract-controls .pause");
  var reduced = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  var index = 0;
  var paused = false;
  var timer = null;

  function show(next) {
    slides[index].hidden = true;
    if (dots[index]) { dots[index].className = ""; }
    index = (next + slides.length) % slides.length;
    slides[index].hidden = false;
    if (dots[index]) { dots[index].className = "on"; }
  }

  function schedule() {
    window.clearTimeout(timer);
    if (!paused) {
      timer = window.setTimeout(function () { show(index + 1); schedule(); }, every);
    }
  }

  if (every > 0 && slides.length > 1) {
    if (pause) {
      pause.hidden = false;
      pause.addEventListener("click", function () {
        paused = !paused;
        pause.textContent = pause.getAttribute(paused ? "data-play" : "data-pause");
        schedule();
      });
    }
    paused = reduced;
    if (pause && paused) { pause.textContent = pause.getAttribute("data-play"); }
    schedule();
    // pick up devices added to (or taken off) the table, while nobody is reading
    var idleReload = null;
    var armReload = function () {
      window.clearTimeout(idleReload);
      idleReload = window.setTimeout(function () { window.location.reload(); }, 10 * 60 * 1000);
    };
    ["pointerdown", "keydown", "scroll"].forEach(function (name) {
      window.addEventListener(name, armReload, { passive: true });
    });
    armReload();
  }

  // -- a feature page goes back to the loop when nobody touches it ------------------------
  var home = main.getAttribute("data-idle-home");
  var idle = parseInt(main.getAttribute("data-idle") || "0", 10);
  if (home && idle > 0) {
    var back = null;
    var arm = function () {
      window.clearTimeout(back);
      back = window.setTimeout(function () { window.location.assign(home); }, idle);
    };
    ["pointerdown", "keydown", "scroll", "touchstart"].forEach(function (name) {
      window.addEventListener(name, arm, { passive: true });
    });
    arm();
  }
})();
