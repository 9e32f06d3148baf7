/* The Content-Security-Policy (config/csp.py) blocks inline event handlers, so every handler the admin
   pages need is bound from this file:
   - a <select data-submit-on-change> (the shop switcher, the follow-up page's shop) submits its form;
   - django-import-export's export page has one inline handler, on its "select all" box: the same
     handler, bound again here. */
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("select[data-submit-on-change]").forEach(function (select) {
    select.addEventListener("change", function () {
      select.form.submit();
    });
  });
  if (typeof onSelectToggleChange !== "function") return;
  document.querySelectorAll("input.select-toggle[onchange]").forEach(function (box) {
    box.addEventListener("change", onSelectToggleChange);
  });
});
