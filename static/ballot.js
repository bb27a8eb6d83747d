// Enhances the ballot page; without it the page works the same through its "Update the total" and
// "Show" buttons. Live totals are written into the summary (an aria-live region), the filters apply
// as soon as they change, and the texts come from the page (already in the voter's language).
(function () {
  "use strict";
  var form = document.getElementById("ballot");
  if (!form) { return; }
  var summary = document.getElementById("ballot-summary");
  var budget = parseInt(form.getAttribute("data-budget"), 10) || 0;
  var currency = form.getAttribute("data-currency") || "CAD";
  var locale = form.getAttribute("data-locale") || "en-CA";
  var points = parseInt(form.getAttribute("data-points"), 10) || 0;
  var money = new Intl.NumberFormat(locale, { style: "currency", currency: currency });
  var templates = summary ? summary.getAttribute("data-live") : null;

  function formatMoney(cents) { return money.format(cents / 100); }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, name) { return values[name]; });
  }

  function update() {
    if (!summary || !templates) { return; }
    var texts = JSON.parse(templates);
    var text = "";
    if (form.classList.contains("ballot-knapsack")) {
      var total = 0;
      form.querySelectorAll("input[name=project]").forEach(function (box) {
        if (box.checked && box.type === "checkbox") { total += parseInt(box.getAttribute("data-cost"), 10) || 0; }
        if (box.type === "hidden") { total += parseInt(box.getAttribute("data-cost"), 10) || 0; }
      });
      text = fill(total > budget ? texts.over : texts.total,
                  { total: formatMoney(total), budget: formatMoney(budget), left: formatMoney(Math.abs(budget - total)) });
    } else if (form.classList.contains("ballot-cumulative")) {
      var given = 0;
      form.querySelectorAll("input.ballot-points").forEach(function (input) {
        var value = parseInt(input.value, 10);
        if (value > 0) { given += value; }
      });
      text = fill(texts.points, { given: given, total: points });
    } else if (form.classList.contains("ballot-ranked")) {
      var ranked = 0;
      form.querySelectorAll("select.ballot-rank").forEach(function (select) { if (select.value) { ranked += 1; } });
      text = fill(ranked === 1 ? texts.one : texts.many, { num: ranked });
    } else {
      var chosen = form.querySelectorAll("input[name=project]:checked").length;
      text = fill(chosen === 1 ? texts.one : texts.many, { num: chosen });
    }
    summary.firstElementChild.textContent = text;
  }

  function filter() {
    var category = form.querySelector("#show-category");
    var district = form.querySelector("#show-district");
    form.querySelectorAll(".ballot-project").forEach(function (item) {
      var show = (!category || !category.value || item.getAttribute("data-category") === category.value) &&
                 (!district || !district.value || item.getAttribute("data-district") === district.value);
      item.hidden = !show;
    });
  }

  form.addEventListener("change", function (event) {
    if (event.target.id === "show-category" || event.target.id === "show-district") { filter(); } else { update(); }
  });
  form.addEventListener("input", function (event) {
    if (event.target.classList.contains("ballot-points")) { update(); }
  });
  // With live totals and filters, the buttons that only recompute them are not needed.
  form.querySelectorAll(".ballot-update, .ballot-filters button").forEach(function (button) { button.hidden = true; });
})();
