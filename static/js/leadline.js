// Leadline: small progressive enhancements; every page works without them.
(function () {
  "use strict";

  // "Select all" checkbox for bulk actions in list views.
  document.querySelectorAll("[data-select-all]").forEach(function (box) {
    box.addEventListener("change", function () {
      document.querySelectorAll(box.dataset.selectAll).forEach(function (row) {
        row.checked = box.checked;
      });
      document.dispatchEvent(new Event("ll:selection"));
    });
  });
  function refreshBulk() {
    var count = document.querySelectorAll("input[name=lead_ids]:checked").length;
    document.querySelectorAll("[data-bulk-count]").forEach(function (el) { el.textContent = count; });
    document.querySelectorAll("[data-bulk-action]").forEach(function (btn) { btn.disabled = count === 0; });
  }
  document.addEventListener("change", function (e) {
    if (e.target.name === "lead_ids") { refreshBulk(); }
  });
  document.addEventListener("ll:selection", refreshBulk);
  refreshBulk();

  // Picking an existing account or contact fills the lead form's empty fields.
  function fillEmpty(url, mapping) {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        Object.keys(mapping).forEach(function (key) {
          var input = document.getElementById("id_" + mapping[key]);
          if (input && !input.value && data[key]) {
            input.value = data[key];
            input.dispatchEvent(new Event("input", { bubbles: true }));
          }
        });
      });
  }
  document.querySelectorAll("select[data-fill-url]").forEach(function (select) {
    select.addEventListener("change", function () {
      if (!select.value) { return; }
      var mapping = JSON.parse(select.dataset.fillMap);
      fillEmpty(select.dataset.fillUrl + encodeURIComponent(select.value), mapping);
    });
  });
  // A reason picked from a menu (data-reason on the opener) preselects the dialog's reason;
  // an opener's data-action / data-confirm-text / data-confirm-label point one shared
  // confirmation dialog at the item it was opened for.
  document.addEventListener("show.bs.modal", function (e) {
    var opener = e.relatedTarget;
    if (!opener) { return; }
    var select = e.target.querySelector("select[name=reason]");
    if (opener.dataset.reason && select) { select.value = opener.dataset.reason; }
    var form = e.target.querySelector("form");
    if (opener.dataset.action && form) { form.action = opener.dataset.action; }
    var body = e.target.querySelector("[data-confirm-body]");
    if (body && form) {
      var submit = form.querySelector("button[type=submit]");
      submit.dataset.defaultLabel = submit.dataset.defaultLabel || submit.textContent;
      body.textContent = opener.dataset.confirmText || body.textContent;
      submit.textContent = opener.dataset.confirmLabel || submit.dataset.defaultLabel;
    }
  });
  // A select marked data-autosubmit saves its form when changed (e.g. a stakeholder's role).
  document.addEventListener("change", function (e) {
    if (e.target.matches("select[data-autosubmit]")) { e.target.form.requestSubmit(); }
  });
})();
