// omnistock console: the little the pages need beyond htmx. Everything works without it; this only helps.
(function () {
  "use strict";

  // Show only the settings of the chosen allocation policy kind.
  function wirePolicyForms(root) {
    root.querySelectorAll("select[data-policy-kind]").forEach(function (select) {
      var form = select.form;
      function sync() {
        form.querySelectorAll("[data-kinds]").forEach(function (field) {
          var kinds = field.getAttribute("data-kinds").split(" ");
          field.hidden = kinds.indexOf(select.value) < 0;
        });
      }
      select.addEventListener("change", sync);
      sync();
    });
  }

  // SLA countdowns: the server renders the time left; this keeps it ticking between polls.
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-deadline]").forEach(function (el) {
      var left = Math.round((Date.parse(el.getAttribute("data-deadline")) - now) / 1000);
      var sign = left < 0 ? "-" : "";
      var s = Math.abs(left);
      var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
      var text = (h ? h + ":" + String(m).padStart(2, "0") : String(m)) + ":" + String(sec).padStart(2, "0");
      el.textContent = sign + text;
      el.classList.toggle("overdue", left < 0);
      el.classList.toggle("soon", left >= 0 && left < 600);
    });
  }

  function wire(root) { wirePolicyForms(root); }
  document.addEventListener("DOMContentLoaded", function () { wire(document); tick(); setInterval(tick, 1000); });
  document.addEventListener("htmx:afterSwap", function (event) { wire(event.target); tick(); });
})();
