/* Progressive enhancement of the intake questionnaire. Without this file everything still works:
 * conditional questions come back from the server, and the body-diagram checkboxes are the real fields. */
(function () {
  "use strict";

  function questionValue(block) {
    var type = block.getAttribute("data-type");
    var inputs = block.querySelectorAll("input[name^='q-'], textarea[name^='q-']");
    var values = [];
    inputs.forEach(function (input) {
      if ((input.type === "radio" || input.type === "checkbox") && !input.checked) { return; }
      if (input.value.trim() !== "") { values.push(input.value.trim()); }
    });
    if (!values.length) { return undefined; }
    if (type === "multi_choice" || type === "body_area") { return values; }
    var value = values[0];
    if (type === "yes_no") { return value === "yes" ? true : value === "no" ? false : undefined; }
    if (type === "scale" || type === "integer") {
      return /^-?\d+$/.test(value) ? parseInt(value, 10) : undefined;
    }
    return value;
  }

  function same(a, b) { return a === b; }

  function leafTrue(op, operand, present, value) {
    if (op === "answered") { return present === operand; }
    if (!present) { return false; }
    switch (op) {
      case "equals": return same(value, operand);
      case "in": return operand.some(function (item) { return same(value, item); });
      case "contains": return Array.isArray(value) && value.indexOf(operand) !== -1;
      case "contains_any": return Array.isArray(value) && operand.some(function (item) { return value.indexOf(item) !== -1; });
      case "lt": return typeof value === "number" && value < operand;
      case "lte": return typeof value === "number" && value <= operand;
      case "gt": return typeof value === "number" && value > operand;
      case "gte": return typeof value === "number" && value >= operand;
      default: return false;
    }
  }

  function evaluate(condition, answers) {
    if (condition.all) { return condition.all.every(function (part) { return evaluate(part, answers); }); }
    if (condition.any) { return condition.any.some(function (part) { return evaluate(part, answers); }); }
    if (condition.not) { return !evaluate(condition.not, answers); }
    var subject = condition.question;
    var op = Object.keys(condition).filter(function (key) { return key !== "question" && key !== "score"; })[0];
    var present = Object.prototype.hasOwnProperty.call(answers, subject) && answers[subject] !== undefined;
    return leafTrue(op, condition[op], present, answers[subject]);
  }

  function updateConditionals(form) {
    var answers = {};
    try { answers = JSON.parse(form.getAttribute("data-known") || "{}"); } catch (error) { answers = {}; }
    form.querySelectorAll("[data-question]").forEach(function (block) {
      var raw = block.getAttribute("data-show-if");
      var visible = true;
      if (raw) {
        try { visible = evaluate(JSON.parse(raw), answers); } catch (error) { visible = true; }
        block.hidden = !visible;
        var marker = block.querySelector("input[name='shown']");
        if (marker) { marker.disabled = !visible; }
      }
      if (visible) {
        var value = questionValue(block);
        if (value !== undefined) { answers[block.getAttribute("data-question")] = value; }
      }
    });
  }

  function setupDiagram(diagram) {
    var block = diagram.closest("[data-question]");
    if (!block) { return; }
    var checkbox = function (area) {
      return block.querySelector("input[type='checkbox'][value='" + area + "']");
    };
    var reflect = function () {
      diagram.querySelectorAll("[data-area]").forEach(function (shape) {
        var box = checkbox(shape.getAttribute("data-area"));
        var on = Boolean(box && box.checked);
        shape.classList.toggle("is-selected", on);
        shape.setAttribute("data-selected", on ? "true" : "false");
      });
    };
    diagram.classList.add("is-interactive");
    var hintJs = diagram.querySelector("[data-diagram-hint-js]");
    var hintNoJs = diagram.querySelector("[data-diagram-hint-nojs]");
    if (hintJs) { hintJs.hidden = false; }
    if (hintNoJs) { hintNoJs.hidden = true; }
    diagram.addEventListener("click", function (event) {
      var shape = event.target.closest("[data-area]");
      if (!shape) { return; }
      var box = checkbox(shape.getAttribute("data-area"));
      if (!box) { return; }
      box.checked = !box.checked;
      box.dispatchEvent(new Event("change", { bubbles: true }));
    });
    block.addEventListener("change", reflect);
    reflect();
  }

  // The advice appears the moment an answer calls for it, under that answer (without this script: on the next
  // page). A question is answered "yes" by its own radio ("q-<id>") or, asked again, by "recheck_<id>".
  function chosenYes(form, ids) {
    for (var i = 0; i < ids.length; i++) {
      var yes = form.querySelector("input[name='q-" + ids[i] + "'][value='yes'], input[name='recheck_" + ids[i] + "'][value='yes']");
      if (yes && yes.checked) { return yes; }
    }
    return null;
  }

  function showAdvice(form, attribute, advice, allowed) {
    if (!advice) { return false; }
    var ids = (form.getAttribute(attribute) || "").split(" ").filter(Boolean);
    var yes = allowed && ids.length ? chosenYes(form, ids) : null;
    var wasHidden = advice.hidden;
    advice.hidden = !yes;
    if (yes) {
      // Right under the answer that calls for it, where a patient on a phone is looking.
      var block = yes.closest("[data-question]") || yes.closest("[id^='div_id_']") || yes.closest("fieldset");
      if (block && block.nextElementSibling !== advice) { block.after(advice); }
      if (wasHidden && advice.scrollIntoView) { advice.scrollIntoView({ block: "nearest" }); }
    }
    return Boolean(yes);
  }

  // Emergency first: when an answer calls for emergency care, "see a doctor today" is not shown as well.
  function updateAdvice(form) {
    var emergency = showAdvice(form, "data-emergency-questions", form.querySelector("#emergency-inline"), true);
    showAdvice(form, "data-urgent-questions", form.querySelector("#urgent-inline"), !emergency);
  }

  document.querySelectorAll("form[data-emergency-questions], form[data-urgent-questions]").forEach(function (form) {
    form.addEventListener("change", function () { updateAdvice(form); });
    updateAdvice(form);
  });

  document.querySelectorAll("form[data-questionnaire]").forEach(function (form) {
    form.addEventListener("change", function () { updateConditionals(form); });
    form.addEventListener("input", function () { updateConditionals(form); });
    updateConditionals(form);
    form.querySelectorAll("[data-body-diagram]").forEach(setupDiagram);
  });

  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
