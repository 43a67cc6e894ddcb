// The opportunity board: drag a card to another stage, or use its "Move to"
// form (the keyboard's way, and the way without this script). The server moves
// the stage through the same gated service as Next stage; a refused move puts
// the card back where it was and says why.
(function () {
  "use strict";
  var board = document.querySelector("[data-testid=board]");
  if (!board) { return; }
  var status = document.getElementById("board-status");
  var errorBox = document.getElementById("board-error");
  var currency = board.dataset.baseCurrency || "";
  var dragged = null;

  function column(el) { return el.closest("[data-testid=board-column]"); }
  function say(text) { status.textContent = text; }
  function showError(text) {
    errorBox.textContent = text;
    errorBox.classList.remove("d-none");
    say(text);
  }
  function clearError() { errorBox.classList.add("d-none"); errorBox.textContent = ""; }

  function adjust(col, count, amount) {
    var countEl = col.querySelector("[data-count]");
    var totalEl = col.querySelector("[data-total]");
    var n = parseInt(countEl.textContent.replace(/[^0-9]/g, ""), 10) + count;
    countEl.textContent = n.toLocaleString("en-US");
    var total = parseFloat(totalEl.dataset.total) + amount;
    totalEl.dataset.total = total.toFixed(2);
    totalEl.textContent = currency + " " + Math.round(total).toLocaleString("en-US");
  }

  // Move `card` to the column of `stageId` on the server; `done(ok)` after.
  function move(card, stageId, done) {
    var form = card.querySelector("form.ll-move-form");
    var token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    var body = new URLSearchParams({ stage: stageId });
    fetch(card.dataset.moveUrl, {
      method: "POST",
      headers: { "X-CSRFToken": token, "Accept": "application/json" },
      credentials: "same-origin",
      body: body,
    })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (data) {
          return { ok: r.ok, data: data };
        });
      })
      .then(function (result) {
        if (result.ok) {
          clearError();
          form.querySelector("select[name=stage]").value = stageId;
          say(result.data.message || "Moved.");
        } else {
          showError(result.data.error || "The opportunity could not be moved.");
        }
        done(result.ok);
      })
      .catch(function () {
        showError("The opportunity could not be moved: the server did not answer.");
        done(false);
      });
  }

  function place(card, target) {
    var list = target.querySelector("[data-drop-zone]");
    list.insertBefore(card, list.firstChild);
  }

  // Move the card now, and back if the server refuses.
  function moveCard(card, target) {
    var from = column(card);
    if (!target || target === from) { return; }
    var next = card.nextSibling;
    var amount = parseFloat(card.dataset.baseRevenue || "0");
    place(card, target);
    adjust(from, -1, -amount);
    adjust(target, 1, amount);
    card.classList.add("ll-card-pending");
    move(card, target.dataset.stage, function (ok) {
      card.classList.remove("ll-card-pending");
      if (ok) { return; }
      from.querySelector("[data-drop-zone]").insertBefore(card, next);
      adjust(target, -1, -amount);
      adjust(from, 1, amount);
      card.classList.add("ll-card-refused");
      setTimeout(function () { card.classList.remove("ll-card-refused"); }, 1500);
    });
  }

  board.addEventListener("dragstart", function (e) {
    var card = e.target.closest && e.target.closest("[data-move-url]");
    if (!card) { return; }
    dragged = card;
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", card.dataset.id);
    card.classList.add("ll-card-dragging");
  });
  board.addEventListener("dragend", function () {
    if (dragged) { dragged.classList.remove("ll-card-dragging"); }
    board.querySelectorAll(".ll-drop-target").forEach(function (el) { el.classList.remove("ll-drop-target"); });
    dragged = null;
  });
  board.addEventListener("dragover", function (e) {
    var target = dragged && column(e.target);
    if (!target) { return; }
    e.preventDefault();
    e.dataTransfer.dropEffect = "move";
    board.querySelectorAll(".ll-drop-target").forEach(function (el) {
      if (el !== target) { el.classList.remove("ll-drop-target"); }
    });
    target.classList.add("ll-drop-target");
  });
  board.addEventListener("drop", function (e) {
    var target = dragged && column(e.target);
    if (!target) { return; }
    e.preventDefault();
    target.classList.remove("ll-drop-target");
    moveCard(dragged, target);
  });

  // The "Move to" form: the same move without a page load.
  board.addEventListener("submit", function (e) {
    var form = e.target.closest("form.ll-move-form");
    if (!form) { return; }
    e.preventDefault();
    var card = form.closest("[data-move-url]");
    var stageId = form.querySelector("select[name=stage]").value;
    var target = board.querySelector("[data-testid=board-column][data-stage='" + stageId + "']");
    moveCard(card, target);
    form.querySelector("select[name=stage]").focus();
  });
})();
