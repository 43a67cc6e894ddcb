// Leadline: small progressive enhancements; every page works without them.
(function () {
  "use strict";

  // "Select all" checkbox for bulk actions in list views.
  document.querySelectorAll("[data-select-all]").forEach(function (box) {
    box.addEventListener("change", function () {
      document.querySelectorAll(box.dataset.selectAll).forEach(function (row) {
        row.checked = box.checked;
      });
      if (!box.checked && allMatching) { allMatching.value = ""; }
      document.dispatchEvent(new Event("ll:selection"));
    });
  });
  // When a whole page is selected and the list has more pages, the rep may
  // choose every open lead of the list instead (a background job does it).
  var allMatching = document.querySelector("[data-all-matching]");
  var matchingBar = document.querySelector("[data-select-matching-bar]");
  function refreshBulk() {
    var boxes = document.querySelectorAll("input[name=lead_ids]");
    var count = document.querySelectorAll("input[name=lead_ids]:checked").length;
    var every = allMatching && allMatching.value === "1";
    document.querySelectorAll("[data-bulk-count]").forEach(function (el) { el.textContent = every ? "all" : count; });
    // Focusable while nothing is ticked (aria-disabled, not disabled), so that a
    // keyboard or screen-reader user finds the action and hears why it waits.
    document.querySelectorAll("[data-bulk-action]").forEach(function (btn) {
      btn.setAttribute("aria-disabled", count === 0 && !every ? "true" : "false");
    });
    var status = document.querySelector("[data-bulk-status]");
    if (status && (count || every || status.dataset.touched)) {
      status.dataset.touched = "1";
      status.textContent = every ? "Every open lead of this list is selected."
        : count === 0 ? "No lead selected." : count === 1 ? "1 lead selected." : count + " leads selected.";
    }
    if (matchingBar) {
      var wholePage = boxes.length > 0 && count === boxes.length;
      matchingBar.classList.toggle("d-none", !wholePage && !every);
      matchingBar.querySelector("[data-page-selected]").classList.toggle("d-none", every);
      matchingBar.querySelector("[data-select-matching]").classList.toggle("d-none", every);
      matchingBar.querySelector("[data-matching-selected]").classList.toggle("d-none", !every);
    }
  }
  function setMatching(on) {
    if (!allMatching) { return; }
    allMatching.value = on ? "1" : "";
    if (!on) {
      document.querySelectorAll("input[name=lead_ids], [data-select-all]").forEach(function (box) { box.checked = false; });
    }
    refreshBulk();
  }
  document.addEventListener("click", function (e) {
    if (e.target.closest("[data-select-matching]")) { setMatching(true); }
    if (e.target.closest("[data-clear-matching]")) { setMatching(false); }
  });
  document.addEventListener("change", function (e) {
    if (e.target.name === "lead_ids") {
      if (allMatching && !e.target.checked) { allMatching.value = ""; }
      refreshBulk();
    }
  });
  document.addEventListener("ll:selection", refreshBulk);
  // A bulk action with nothing ticked says so instead of opening its dialog.
  document.addEventListener("click", function (e) {
    var btn = e.target.closest("[data-bulk-action][aria-disabled=true]");
    if (!btn) { return; }
    e.preventDefault();
    e.stopPropagation();
    var status = document.querySelector("[data-bulk-status]");
    if (status) {
      status.dataset.touched = "1";
      status.textContent = "Tick one or more leads first.";
    }
  }, true);
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
  // A dialog opened from a menu item: the item is hidden once the menu closes, so
  // closing the dialog (Escape, Cancel) would drop focus to the page; it goes back
  // to the menu's button instead (the Disqualify button for its reasons).
  var menuOpeners = new WeakMap();
  document.addEventListener("show.bs.modal", function (e) {
    var opener = e.relatedTarget;
    var menu = opener && opener.closest(".dropdown, .btn-group");
    var toggle = menu && menu.querySelector("[data-bs-toggle=dropdown]");
    if (toggle && opener.closest(".dropdown-menu")) { menuOpeners.set(e.target, toggle); }
  });
  document.addEventListener("hidden.bs.modal", function (e) {
    var toggle = menuOpeners.get(e.target);
    if (toggle && toggle.isConnected) {
      menuOpeners.delete(e.target);
      toggle.focus();
    }
  });
  // After an action the page says what happened (a message): focus goes there,
  // so a screen reader reads it and the keyboard starts from it.
  var firstMessage = document.querySelector("#messages .alert");
  if (firstMessage) {
    firstMessage.setAttribute("tabindex", "-1");
    firstMessage.focus({ preventScroll: false });
  }
  // A select marked data-autosubmit saves its form when changed (e.g. a stakeholder's role).
  document.addEventListener("change", function (e) {
    if (e.target.matches("select[data-autosubmit]")) { e.target.form.requestSubmit(); }
  });
})();
