// Progressive enhancement only: every page works without this script.
(function () {
  "use strict";
  // The event form shows only the fields of the chosen kind of event.
  var form = document.getElementById("event-form");
  if (form) {
    var perKind = JSON.parse(form.getAttribute("data-fields"));
    var kind = document.getElementById("kind");
    var show = function () {
      var wanted = perKind[kind.value] || [];
      form.querySelectorAll("[data-field]").forEach(function (el) {
        el.hidden = wanted.indexOf(el.getAttribute("data-field")) < 0;
      });
    };
    kind.addEventListener("change", show);
    show();
  }
  // Move focus to an error summary so screen readers announce it.
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
  // Ask before actions that cannot be undone.
  document.querySelectorAll("[data-confirm]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      if (!window.confirm(button.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });
})();
