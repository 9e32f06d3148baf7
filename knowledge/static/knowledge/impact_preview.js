// "预览影响" on a card or synonym form: post the form as it stands to the preview URL and show the
// server-rendered result above the save buttons. Nothing is saved; the save buttons work as always.
"use strict";
(function () {
  const button = document.getElementById("impact-preview-button");
  const target = document.getElementById("impact-preview");
  if (!button || !target) return;
  button.addEventListener("click", async function () {
    const form = button.closest("form");
    button.disabled = true;
    target.textContent = button.dataset.waiting;
    try {
      const response = await fetch(button.dataset.url, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
      });
      // The server renders the fragment with Django's escaping: shoppers' questions arrive as text.
      target.innerHTML = await response.text();
    } catch (error) {
      target.textContent = String(error);
    } finally {
      button.disabled = false;
    }
  });
})();
