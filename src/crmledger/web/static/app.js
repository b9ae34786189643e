// crmledger web shell: plain ES2020, loaded with `defer`, no inline code (strict CSP).
//
// Contract (see templates/README.md):
//   form[data-quote-form]                   -> quote editor (money is priced by the server):
//     [data-quote-line]    one line row; holds input name=line_key (its ids end in it)
//     [data-add-line]      button: clone the last line, cleared, with a fresh key
//     [data-remove-line]   button inside a line: remove it
//     "quote-lines-changed" is dispatched on the lines so htmx asks for new totals
//   [data-board]                            -> pipeline board: drag .deal-card[draggable]
//     onto a .board-column[data-stage]; a column with data-stage-kind="lost" asks for the
//     reason in dialog#lost-dialog first; the move is an htmx POST to data-move-url
//   <meta name="csrf-token" content="...">  -> header X-CSRF-Token on every htmx request
//   form[data-entry-form]                   -> journal-entry helper:
//     [data-posting-row]   one posting; holds inputs name=account, name=amount, name=commodity
//     [data-add-row]       button: clone the last row, values cleared
//     [data-remove-row]    button inside a row: remove it (the last row is kept)
//     [data-imbalance]     live status: "Balanced" / "Imbalance: 12.50 EUR"
//     [data-form-error]    shown on a blocked submit (role=alert)
//   [data-js-only][hidden]                  -> shown once the script runs
//     data-default-commodity="EUR" on the form: used for a blank commodity
// The server validates everything again; this is only a convenience.
"use strict";

(() => {
  // ---- CSRF for htmx -------------------------------------------------------------

  const csrfToken = () => {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") || "" : "";
  };

  document.addEventListener("htmx:configRequest", (evt) => {
    const token = csrfToken();
    if (token && evt.detail && evt.detail.headers) {
      evt.detail.headers["X-CSRF-Token"] = token;
    }
  });

  // ---- Exact decimals (BigInt scaled by 10^decimals, never floats) ----------------

  const DECIMAL_RE = /^([+-]?)(\d*)(?:\.(\d*))?$/;

  // "12.50" -> {units: 1250n, scale: 2}; "" -> null; not a number -> undefined.
  const parseDecimal = (raw) => {
    const text = raw.trim().replace(/[\s_]/g, "");
    if (text === "") return null;
    const m = DECIMAL_RE.exec(text);
    if (!m) return undefined;
    const [, sign, whole, frac = ""] = m;
    if (whole === "" && frac === "") return undefined; // "-", ".", "+."
    if (frac.length > 18) return undefined;
    let units = BigInt((whole || "0") + frac);
    if (sign === "-") units = -units;
    return { units, scale: frac.length };
  };

  const pow10 = (n) => 10n ** BigInt(n);

  const formatDecimal = (units, scale) => {
    const negative = units < 0n;
    let digits = (negative ? -units : units).toString();
    if (scale > 0) {
      digits = digits.padStart(scale + 1, "0");
      digits = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
    }
    return (negative ? "-" : "") + digits;
  };

  // ---- Journal-entry form ----------------------------------------------------------

  const rowsOf = (form) => Array.from(form.querySelectorAll("[data-posting-row]"));
  const fieldOf = (row, name) => row.querySelector(`[name="${name}"]`);
  const valueOf = (row, name) => {
    const el = fieldOf(row, name);
    return el ? String(el.value || "") : "";
  };

  const submitButtons = (form) =>
    Array.from(form.querySelectorAll('button[type="submit"], button:not([type]), input[type="submit"]'))
      .filter((b) => !b.hasAttribute("data-add-row") && !b.hasAttribute("data-remove-row"));

  // Examine the form: {balanced, imbalances[], problems[], count, invalid}
  const analyse = (form) => {
    const fallback = (form.dataset.defaultCommodity || "").trim().toUpperCase();
    const totals = new Map(); // commodity -> [{units, scale}]
    const problems = [];
    let count = 0;
    let invalid = 0;

    rowsOf(form).forEach((row, index) => {
      const n = index + 1;
      const account = valueOf(row, "account").trim();
      const amountEl = fieldOf(row, "amount");
      const rawAmount = valueOf(row, "amount");
      const commodity = (valueOf(row, "commodity").trim() || fallback).toUpperCase();
      const amount = parseDecimal(rawAmount);

      if (amountEl) {
        if (amount === undefined) amountEl.setAttribute("aria-invalid", "true");
        else amountEl.removeAttribute("aria-invalid");
      }
      if (amount === undefined) {
        invalid += 1;
        problems.push(`Row ${n}: "${rawAmount.trim()}" is not a number.`);
        return;
      }
      if (account === "" && amount === null) return; // blank row: ignored
      if (account === "") problems.push(`Row ${n}: choose an account.`);
      if (amount === null) {
        problems.push(`Row ${n}: enter an amount.`);
        return;
      }
      if (commodity === "") problems.push(`Row ${n}: enter a commodity.`);
      count += 1;
      if (!totals.has(commodity)) totals.set(commodity, []);
      totals.get(commodity).push(amount);
    });

    const imbalances = [];
    for (const [commodity, amounts] of totals) {
      const scale = Math.max(...amounts.map((a) => a.scale));
      const sum = amounts.reduce((acc, a) => acc + a.units * pow10(scale - a.scale), 0n);
      if (sum !== 0n) imbalances.push(`${formatDecimal(sum, scale)} ${commodity}`.trim());
    }
    if (count < 2) problems.push("An entry needs at least two postings.");

    return { balanced: imbalances.length === 0, imbalances, problems, count, invalid };
  };

  const setFormError = (form, text) => {
    const box = form.querySelector("[data-form-error]");
    if (!box) return;
    if (!box.hasAttribute("role")) box.setAttribute("role", "alert");
    box.textContent = text;
    box.hidden = text === "";
  };

  const update = (form) => {
    const result = analyse(form);
    const status = form.querySelector("[data-imbalance]");
    if (status) {
      if (!status.hasAttribute("aria-live")) status.setAttribute("aria-live", "polite");
      let text;
      if (!result.balanced) text = `Imbalance: ${result.imbalances.join(", ")}`;
      else if (result.invalid > 0) text = `Balanced so far; ${result.invalid} amount${result.invalid > 1 ? "s are" : " is"} not a number`;
      else if (result.count < 2) text = "Enter at least two postings";
      else text = "Balanced";
      status.textContent = text;
      status.classList.toggle("is-balanced", text === "Balanced");
      status.classList.toggle("is-unbalanced", !result.balanced);
    }
    const ok = result.balanced && result.problems.length === 0;
    submitButtons(form).forEach((b) => { b.disabled = !ok; });
    if (ok) setFormError(form, "");
    return { ...result, ok };
  };

  let cloneSeq = 0;

  // Clear a cloned row and keep its ids (and label/aria references) unique.
  const resetRow = (row) => {
    cloneSeq += 1;
    const suffix = `-r${Date.now().toString(36)}${cloneSeq}`;
    const renamed = new Map();
    row.querySelectorAll("[id]").forEach((el) => {
      const fresh = el.id + suffix;
      renamed.set(el.id, fresh);
      el.id = fresh;
    });
    const remap = (value) => value.split(/\s+/).map((id) => renamed.get(id) || id).join(" ");
    row.querySelectorAll("[for], [aria-describedby], [aria-labelledby]").forEach((el) => {
      for (const attr of ["for", "aria-describedby", "aria-labelledby"]) {
        if (el.hasAttribute(attr)) el.setAttribute(attr, remap(el.getAttribute(attr)));
      }
    });
    row.querySelectorAll("input, select, textarea").forEach((el) => {
      el.removeAttribute("aria-invalid");
      if (el.tagName === "SELECT") {
        el.selectedIndex = Array.from(el.options).findIndex((o) => o.value === "");
        if (el.selectedIndex < 0) el.selectedIndex = 0;
      } else if (!["hidden", "checkbox", "radio", "button", "submit"].includes(el.type)) {
        el.value = "";
        el.removeAttribute("value");
      }
    });
    row.querySelectorAll(".error").forEach((el) => { el.textContent = ""; });
    row.querySelectorAll("output").forEach((el) => { el.textContent = ""; });
    return suffix;
  };

  const addRow = (form) => {
    const rows = rowsOf(form);
    const last = rows[rows.length - 1];
    if (!last) return;
    const clone = last.cloneNode(true);
    resetRow(clone);
    last.after(clone);
    const first = clone.querySelector("input:not([type=hidden]), select, textarea");
    if (first) first.focus();
    update(form);
  };

  const removeRow = (form, row) => {
    if (rowsOf(form).length <= 1) return;
    const rows = rowsOf(form);
    const next = rows[rows.indexOf(row) - 1] || rows[rows.indexOf(row) + 1];
    row.remove();
    const focusTarget = next && next.querySelector("input:not([type=hidden]), select");
    if (focusTarget) focusTarget.focus();
    update(form);
  };

  const entryFormOf = (el) => (el && el.closest ? el.closest("form[data-entry-form]") : null);

  document.addEventListener("input", (evt) => {
    const form = entryFormOf(evt.target);
    if (form) update(form);
  });
  document.addEventListener("change", (evt) => {
    const form = entryFormOf(evt.target);
    if (form) update(form);
  });

  document.addEventListener("click", (evt) => {
    const target = evt.target instanceof Element ? evt.target : null;
    if (!target) return;
    const add = target.closest("[data-add-row]");
    const remove = target.closest("[data-remove-row]");
    const form = entryFormOf(add || remove);
    if (!form) return;
    evt.preventDefault();
    if (add) addRow(form);
    else removeRow(form, remove.closest("[data-posting-row]"));
  });

  // Capture phase: runs before htmx's own submit listener on the form, so a blocked
  // submit never becomes an htmx request either.
  document.addEventListener("submit", (evt) => {
    const form = evt.target instanceof HTMLFormElement && evt.target.matches("[data-entry-form]")
      ? evt.target : null;
    if (!form) return;
    const result = update(form);
    if (result.ok) return;
    evt.preventDefault();
    evt.stopPropagation();
    const lines = [...result.problems];
    if (!result.balanced) lines.unshift(`The entry does not balance: ${result.imbalances.join(", ")}.`);
    setFormError(form, lines.join(" "));
    const bad = form.querySelector('[aria-invalid="true"]');
    if (bad) bad.focus();
  }, true);

  // ---- Quote editor: rows only; every total comes from the server ---------------------

  const quoteFormOf = (el) => (el && el.closest ? el.closest("form[data-quote-form]") : null);
  const linesChanged = (form) => {
    const lines = form.querySelector("[data-quote-lines]");
    if (lines) lines.dispatchEvent(new CustomEvent("quote-lines-changed", { bubbles: true }));
  };

  const addLine = (form) => {
    const rows = Array.from(form.querySelectorAll("[data-quote-line]"));
    const last = rows[rows.length - 1];
    if (!last) return;
    const clone = last.cloneNode(true);
    const suffix = resetRow(clone);
    const key = clone.querySelector('input[name="line_key"]');
    if (key) key.value = `${key.value}${suffix}`.slice(0, 40);
    last.after(clone);
    if (window.htmx) window.htmx.process(clone);
    const first = clone.querySelector("select, input:not([type=hidden])");
    if (first) first.focus();
  };

  const removeLine = (form, row) => {
    const rows = Array.from(form.querySelectorAll("[data-quote-line]"));
    if (rows.length <= 1) {
      resetRow(row);
    } else {
      const next = rows[rows.indexOf(row) + 1] || rows[rows.indexOf(row) - 1];
      row.remove();
      const focusTarget = next && next.querySelector("select, input:not([type=hidden])");
      if (focusTarget) focusTarget.focus();
    }
    linesChanged(form);
  };

  document.addEventListener("click", (evt) => {
    const target = evt.target instanceof Element ? evt.target : null;
    const add = target && target.closest("[data-add-line]");
    const remove = target && target.closest("[data-remove-line]");
    const form = quoteFormOf(add || remove);
    if (!form) return;
    evt.preventDefault();
    if (add) addLine(form);
    else removeLine(form, remove.closest("[data-quote-line]"));
  });

  // A line filled from its product (swapped in by htmx): ask for the new totals.
  document.addEventListener("htmx:load", (evt) => {
    const row = evt.target instanceof Element && evt.target.matches("[data-quote-line]") ? evt.target : null;
    const form = quoteFormOf(row);
    if (form) linesChanged(form);
  });

  // ---- Pipeline board: drag a card to another stage ---------------------------------

  let dragged = null;
  let pendingLoss = null;
  const columnOf = (el) => (el instanceof Element ? el.closest("[data-board] .board-column[data-stage]") : null);
  const clearTargets = () => {
    document.querySelectorAll(".board-column.is-drop-target").forEach((c) => c.classList.remove("is-drop-target"));
  };

  const moveDeal = (card, column, reason) => {
    const list = column.querySelector(".deal-cards");
    if (list) list.prepend(card); // shown at once; the board the server sends back replaces it
    card.classList.add("is-moving");
    if (!window.htmx) return;
    window.htmx.ajax("POST", card.dataset.moveUrl, {
      target: "#board",
      swap: "outerHTML",
      values: { to_stage: column.dataset.stage, version: card.dataset.version || "", reason },
    });
  };

  const askReason = (card, column) => {
    const dialog = document.getElementById("lost-dialog");
    if (!dialog || typeof dialog.showModal !== "function") return;
    pendingLoss = { card, column };
    const label = dialog.querySelector("[data-lost-deal]");
    if (label) label.textContent = `${card.dataset.title || "This deal"} → ${column.dataset.stageName || column.dataset.stage}`;
    const error = dialog.querySelector("[data-lost-error]");
    if (error) error.textContent = "";
    const reason = dialog.querySelector('textarea[name="reason"]');
    if (reason) { reason.value = ""; reason.removeAttribute("aria-invalid"); }
    dialog.showModal();
    if (reason) reason.focus();
  };

  document.addEventListener("dragstart", (evt) => {
    const card = evt.target instanceof Element ? evt.target.closest('.deal-card[draggable="true"]') : null;
    if (!card) return;
    dragged = card;
    card.classList.add("is-dragging");
    if (evt.dataTransfer) {
      evt.dataTransfer.effectAllowed = "move";
      evt.dataTransfer.setData("text/plain", card.dataset.dealId || "");
    }
  });
  document.addEventListener("dragend", () => {
    if (dragged) dragged.classList.remove("is-dragging");
    dragged = null;
    clearTargets();
  });
  document.addEventListener("dragover", (evt) => {
    const column = columnOf(evt.target);
    if (!dragged || !column || column.dataset.stage === dragged.dataset.stage) return;
    evt.preventDefault();
    if (evt.dataTransfer) evt.dataTransfer.dropEffect = "move";
    if (!column.classList.contains("is-drop-target")) {
      clearTargets();
      column.classList.add("is-drop-target");
    }
  });
  document.addEventListener("drop", (evt) => {
    const column = columnOf(evt.target);
    const card = dragged;
    clearTargets();
    if (!card || !column || column.dataset.stage === card.dataset.stage) return;
    evt.preventDefault();
    if (column.dataset.stageKind === "lost") askReason(card, column);
    else moveDeal(card, column, "");
  });

  document.addEventListener("submit", (evt) => {
    const form = evt.target instanceof HTMLFormElement && evt.target.matches("[data-lost-form]") ? evt.target : null;
    if (!form) return;
    evt.preventDefault();
    const reason = form.querySelector('textarea[name="reason"]');
    const text = reason ? reason.value.trim() : "";
    if (!text) {
      const error = form.querySelector("[data-lost-error]");
      if (error) error.textContent = "Say why the deal was lost.";
      if (reason) { reason.setAttribute("aria-invalid", "true"); reason.focus(); }
      return;
    }
    const dialog = form.closest("dialog");
    if (dialog) dialog.close();
    if (pendingLoss) moveDeal(pendingLoss.card, pendingLoss.column, text);
    pendingLoss = null;
  });
  document.addEventListener("click", (evt) => {
    const cancel = evt.target instanceof Element ? evt.target.closest("[data-dialog-cancel]") : null;
    const dialog = cancel && cancel.closest("dialog");
    if (!dialog) return;
    pendingLoss = null;
    dialog.close();
  });

  const init = (root) => {
    const scope = root && root.querySelectorAll ? root : document;
    // Controls that only work with script (e.g. "remove posting") start hidden.
    scope.querySelectorAll("[data-js-only][hidden]").forEach((el) => { el.hidden = false; });
    const forms = Array.from(scope.querySelectorAll("form[data-entry-form]"));
    if (scope.matches && scope.matches("form[data-entry-form]")) forms.push(scope);
    forms.forEach(update);
  };

  // On a phone the nav is one scrolling row: bring the current section into view.
  const revealCurrentNav = () => {
    const link = document.querySelector('.main-nav a[aria-current="page"]');
    const row = link && link.closest("ul");
    if (!row || row.scrollWidth <= row.clientWidth) return;
    const delta = link.getBoundingClientRect().left - row.getBoundingClientRect().left;
    row.scrollLeft += delta - (row.clientWidth - link.offsetWidth) / 2;
  };

  revealCurrentNav();
  // `defer`: the document is parsed by now. htmx:load covers swapped-in content.
  init(document);
  document.addEventListener("htmx:load", (evt) => init(evt.target));
})();
