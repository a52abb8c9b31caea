/* A table wider than a phone's screen scrolls sideways inside its box (the admin's inline groups). A box that
 * scrolls must be reachable by the keyboard: it gets tab focus and a name (its heading) while it overflows. */
(function () {
  "use strict";

  function mark(box) {
    var overflows = box.scrollWidth > box.clientWidth;
    var heading = box.querySelector("h2");
    if (overflows) {
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      if (heading) { box.setAttribute("aria-label", heading.textContent.trim()); }
    } else if (box.getAttribute("role") === "region") {
      box.removeAttribute("tabindex");
      box.removeAttribute("role");
      box.removeAttribute("aria-label");
    }
  }

  function markAll() { document.querySelectorAll(".inline-group").forEach(mark); }

  document.addEventListener("DOMContentLoaded", markAll);
  window.addEventListener("resize", markAll);
})();
