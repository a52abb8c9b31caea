/* The details form's times follow the day chosen: only the times still open that day are listed.
 * Without this file the "Show the times for this day" button asks the server for the same list. */
(function () {
  "use strict";

  function option(value, label) {
    var element = document.createElement("option");
    element.value = value;
    element.textContent = label;
    return element;
  }

  function setup(select) {
    var form = select.form;
    var day = form && form.querySelector("input[name='preferred_date']");
    var times;
    try { times = JSON.parse(select.getAttribute("data-call-times") || "{}"); } catch (error) { return; }
    if (!day) { return; }
    var noTimes = select.getAttribute("data-no-times") || "";

    function list() {
      var chosen = select.value;
      var starts = times[day.value] || [];
      select.replaceChildren(option("", starts.length ? "Choose a time" : noTimes));
      starts.forEach(function (start) { select.appendChild(option(start[0], start[1])); });
      // A time still open on the new day stays chosen; otherwise the patient chooses again.
      select.value = starts.some(function (start) { return start[0] === chosen; }) ? chosen : "";
    }

    form.querySelectorAll("[data-show-times]").forEach(function (button) { button.hidden = true; });
    day.addEventListener("change", list);
    day.addEventListener("input", list);
    // The day may already differ from the one the server listed: the browser restores a form on Back, or the
    // patient typed before this script ran.
    list();
  }

  document.querySelectorAll("select[data-call-times]").forEach(setup);
})();
