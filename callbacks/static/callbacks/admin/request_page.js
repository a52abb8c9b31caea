/* A request's page on a phone: the long answers (the questionnaire's table of answers) start folded, so the page
 * opens on the work (summary, contact, call log, status); why the priority is what it is stays in view. They are
 * open in the markup, for wide screens and without JavaScript. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    if (!window.matchMedia("(max-width: 900px)").matches) { return; }
    document.querySelectorAll("details[data-fold-narrow]").forEach(function (details) {
      details.removeAttribute("open");
    });
  });
})();
