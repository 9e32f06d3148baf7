/* The Content-Security-Policy (config/csp.py) blocks inline event handlers. django-import-export's
   export page has one, on its "select all" box: the same handler, bound from this file instead. */
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  if (typeof onSelectToggleChange !== "function") return;
  document.querySelectorAll("input.select-toggle[onchange]").forEach(function (box) {
    box.addEventListener("change", onSelectToggleChange);
  });
});
