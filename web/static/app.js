// Small progressive enhancement; every page works without it. No inline scripts anywhere (CSP).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // Filter forms apply a changed choice at once.
  for (const form of document.querySelectorAll("form.filters")) {
    for (const field of form.querySelectorAll("select, input[type=checkbox]")) {
      field.addEventListener("change", () => form.requestSubmit());
    }
  }
});
