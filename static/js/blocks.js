// Blocking senders from the console (docs/moderation.md, "Blocking senders"): a "Block sender"
// control on each question card, its dialog, and the panel listing the blocks that cover this
// session, with "Lift". Everything goes through the staff API with the page's CSRF token:
//   POST /api/v1/questions/{id}/block   {scope, duration, kinds, reason}
//   GET  /api/v1/blocks?session_id=…    POST /api/v1/blocks/{id}/lift {reason}
// The moderator names the question only: the server finds what its sender sent it with, so the
// phone and the address never reach this page. Everything a user typed goes in with textContent.
//
// The console (moderator.js) calls senderBlockControl(q) for each card it draws; nothing else here
// depends on how the console renders its cards or actions.

import { choice, csrfToken, dateTime, el, loadText, translator } from "/static/js/staff.js";

const t = translator(loadText());
const DURATIONS = ["1h", "1d", "30d", "until_lifted"];
const KINDS = [["viewer", true], ["phone", true], ["address", false]]; // [kind, chosen at first]
const REFRESH_MS = 20000;

const panel = document.getElementById("blocks-panel");
const dialog = document.getElementById("block-dialog");
const role = panel ? panel.dataset.role : "";
const sessionId = panel ? Number(panel.dataset.sessionId) : 0;
const mayBlockEverywhere = role === "head" || role === "admin";
let returnFocus = null;
let submitHandler = null;

async function call(method, url, body) {
  let response;
  try {
    response = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    return { ok: false, error: { message: t("msg_offline") } };
  }
  let data = {};
  try {
    data = await response.json();
  } catch {
    // not JSON: the status says enough
  }
  if (!response.ok) return { ok: false, error: data.error || { message: String(response.status) } };
  return { ok: true, ...data };
}

function say(text) {
  const status = document.getElementById("mod-status");
  if (status) status.textContent = text;
}

// ---- the dialog ----

function radios(name, values, checked, label) {
  const set = el("fieldset", "reasons block-choices");
  set.append(el("legend", "", label));
  for (const value of values) {
    set.append(choice("radio", name, value, `blk-${name}-${value}`, t(`blk_${name}_${value}`), value === checked)[0]);
  }
  return set;
}

function reasonField(id, labelKey, hintKey) {
  const wrap = el("div", "field");
  const label = el("label", "", t(labelKey));
  label.htmlFor = id;
  const hint = el("p", "hint", t(hintKey));
  hint.id = id + "-hint";
  const reason = el("textarea");
  reason.id = id;
  reason.rows = 2;
  reason.maxLength = 300;
  reason.required = true;
  reason.setAttribute("aria-describedby", hint.id);
  wrap.append(label, hint, reason);
  return [wrap, reason];
}

function openDialog(title, build, submitLabel, submit, origin) {
  document.getElementById("block-title").textContent = title;
  const body = document.getElementById("block-body");
  body.textContent = "";
  document.getElementById("block-error").textContent = "";
  document.getElementById("block-submit").textContent = submitLabel;
  const focus = build(body);
  submitHandler = submit;
  returnFocus = origin || document.activeElement;
  dialog.showModal();
  if (focus) focus.focus();
}

function fail(error, focusOn) {
  document.getElementById("block-error").textContent = t("blk_failed", { m: error.message || error.code || "—" });
  const target = error.field && focusOn[error.field];
  if (target) target.focus();
}

/** The dialog for "block the sender of question N" (the card's question `q`). */
function openBlock(q, origin) {
  const number = q.number ?? q.id;
  let reason = null;
  openDialog(t("blk_title", { n: number }), (body) => {
    body.append(el("p", "hint", t("blk_intro")));
    const kinds = el("fieldset", "reasons block-choices");
    kinds.append(el("legend", "", t("blk_kinds")));
    let first = null;
    for (const [kind, chosen] of KINDS) {
      const text = el("span", "reason-text");
      text.append(el("span", "", t("blk_kind_" + kind)), el("span", "reason-hint", t("blk_kind_" + kind + "_hint")));
      const [wrap, input] = choice("checkbox", "blk-kind", kind, "blk-kind-" + kind, text, chosen);
      kinds.append(wrap);
      first = first || input;
    }
    body.append(kinds);
    if (mayBlockEverywhere) body.append(radios("scope", ["session", "everywhere"], "session", t("blk_scope")));
    body.append(radios("duration", DURATIONS, "1d", t("blk_duration")));
    const [wrap, area] = reasonField("blk-reason", "blk_reason", "blk_reason_hint");
    reason = area;
    body.append(wrap);
    return first;
  }, t("blk_submit"), async () => {
    const form = document.getElementById("block-form");
    const kinds = [...form.querySelectorAll("input[name=blk-kind]:checked")].map((i) => i.value);
    const scope = form.querySelector("input[name=scope]:checked");
    const duration = form.querySelector("input[name=duration]:checked");
    const result = await call("POST", `/api/v1/questions/${q.id}/block`, {
      kinds,
      scope: scope ? scope.value : "session",
      duration: duration ? duration.value : "1d",
      reason: reason.value.trim(),
    });
    if (!result.ok) {
      fail(result.error, { reason, kinds: document.getElementById("blk-kind-viewer") });
      return false;
    }
    say(t("blk_done", { n: number }));
    refresh();
    return true;
  }, origin);
}

function openLift(block, origin) {
  let reason = null;
  openDialog(t("blk_lift_title", { n: block.question_number ?? "—" }), (body) => {
    body.append(el("p", "dialog-quote", describe(block)));
    const [wrap, area] = reasonField("blk-lift-reason", "blk_lift_reason", "blk_reason_hint");
    reason = area;
    body.append(wrap);
    return area;
  }, t("blk_lift"), async () => {
    const result = await call("POST", `/api/v1/blocks/${block.id}/lift`, { reason: reason.value.trim() });
    if (!result.ok) {
      fail(result.error, { reason });
      return false;
    }
    say(t("blk_lifted", { n: block.question_number ?? "—" }));
    refresh();
    return true;
  }, origin);
}

if (dialog) {
  const form = document.getElementById("block-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!submitHandler) return;
    const reason = form.querySelector("textarea");
    if (reason && reason.value.trim().length < 5) {
      document.getElementById("block-error").textContent = t("blk_reason_short");
      reason.focus();
      return;
    }
    const button = document.getElementById("block-submit");
    button.disabled = true;
    try {
      if (await submitHandler()) dialog.close();
    } finally {
      button.disabled = false;
    }
  });
  document.getElementById("block-cancel").addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => {
    document.getElementById("block-body").textContent = "";
    submitHandler = null;
    const back = returnFocus;
    returnFocus = null;
    if (back && back.isConnected) back.focus();
  });
}

// ---- the panel ----

function describe(block) {
  const kinds = block.kinds.map((k) => t("blk_kind_" + k)).join(", ");
  const until = block.expires_at ? t("blk_until", { t: dateTime(block.expires_at) }) : t("blk_until_lifted");
  const scope = block.scope === "everywhere" ? t("blk_scope_everywhere") : t("blk_scope_session");
  return t("blk_row", { n: block.question_number ?? "—", kinds, until, scope, by: block.created_by });
}

function show(blocks) {
  const list = document.getElementById("blocks-list");
  const count = document.getElementById("blocks-count");
  count.textContent = String(blocks.length);
  list.textContent = "";
  document.getElementById("blocks-empty").hidden = blocks.length > 0;
  for (const block of blocks) {
    const item = el("li", "block-row");
    item.append(el("p", "block-what", describe(block)));
    item.append(el("p", "block-reason", t("blk_reason_shown", { r: block.reason })));
    if (block.scope === "session" || mayBlockEverywhere) {
      const lift = el("button", "small secondary", t("blk_lift"));
      lift.type = "button";
      lift.addEventListener("click", () => openLift(block, lift));
      item.append(lift);
    }
    list.append(item);
  }
}

let refreshing = null;
function refresh() {
  if (!panel) return Promise.resolve();
  refreshing =
    refreshing ||
    call("GET", `/api/v1/blocks?session_id=${sessionId}`)
      .then((result) => {
        if (result.ok) show(result.blocks);
      })
      .finally(() => {
        refreshing = null;
      });
  return refreshing;
}

if (panel) {
  refresh();
  // a block made elsewhere (another moderator, the CLI) shows here too; one expiring leaves
  setInterval(() => {
    if (!document.hidden) refresh();
  }, REFRESH_MS);
}

/**
 * The "Block sender" control for one question card, or null when this user may not block its
 * sender (a role without the right, or a complaint whose asker only the head may know).
 */
export function senderBlockControl(q) {
  if (!panel || !dialog || !q) return null;
  if (q.protected && role !== "head") return null;
  const wrap = el("div", "qc-sender");
  const button = el("button", "act-block", t("blk_button"));
  button.type = "button";
  button.setAttribute("aria-haspopup", "dialog");
  button.setAttribute("aria-label", t("blk_button_label", { n: q.number ?? q.id }));
  button.addEventListener("click", (event) => {
    event.stopPropagation(); // the card's own click handling stays out of it
    openBlock(q, button);
  });
  wrap.append(button);
  return wrap;
}
