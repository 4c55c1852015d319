// The session page's live layer (progressive enhancement: without this script the form posts and
// the page reads). It connects to the /viewer Socket.IO namespace and:
//   - keeps the session state, the public questions and their interest counts current;
//   - sends questions over the socket, through an outbox kept in localStorage, so a question typed
//     on a phone that loses its connection is sent when the connection comes back (the server
//     deduplicates by idempotency key, so a resend never makes a second question);
//   - lets a viewer mark a question "Quan tâm" once.
// Everything a user typed is put on the page with textContent only: never as HTML.

import { io } from "/static/vendor/socket.io-client/socket.io.esm.min.js";

const ACK_TIMEOUT_MS = 10000;
const OUTBOX_KEY = "doithoai.outbox.v1";
const SENT_KEY = "doithoai.sent.v1";
const MARKED_KEY = "doithoai.interest.v1";
const VIEWER_KEY = "doithoai.viewer_key";
// Errors that will not change by sending the same question again: the outbox drops the question
// (a sender the board blocked stays blocked however often it tries).
const DEFINITIVE = new Set(["validation", "session_closed", "too_large", "not_found", "session_not_open", "sender_blocked"]);
const STATES_WITH_INTAKE = new Set(["announced", "live"]);

// -- small helpers ------------------------------------------------------------------------------

function loadText() {
  const block = document.getElementById("viewer-text");
  try {
    return JSON.parse(block ? block.textContent : "{}");
  } catch {
    return {};
  }
}

const TEXT = loadText();

function t(key, params = {}) {
  const template = Object.prototype.hasOwnProperty.call(TEXT, key) ? TEXT[key] : key;
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function jsonStorage(area) {
  return {
    get(key, fallback) {
      try {
        const raw = window[area].getItem(key);
        return raw === null ? fallback : JSON.parse(raw);
      } catch {
        return fallback;
      }
    },
    set(key, value) {
      try {
        window[area].setItem(key, JSON.stringify(value));
        return true;
      } catch {
        return false; // private mode or full: the page still works, only without persistence
      }
    },
  };
}

// The outbox, interest marks and the viewer key outlive the tab. The receipts shown under the form
// last only as long as the tab: a phone or a kiosk at a bridge point may be shared, and a receipt
// opens its question's text.
const storage = jsonStorage("localStorage");
const tabStorage = jsonStorage("sessionStorage");

function randomId() {
  if (window.crypto && typeof window.crypto.randomUUID === "function") {
    return window.crypto.randomUUID();
  }
  // crypto.randomUUID needs a secure context; getRandomValues does not.
  const bytes = window.crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function newQuestionKey() {
  return "web-" + randomId();
}

function viewerKey() {
  let key = storage.get(VIEWER_KEY, null);
  if (typeof key !== "string" || key.length < 8 || key.length > 80) {
    key = "v-" + randomId();
    storage.set(VIEWER_KEY, key);
  }
  return key;
}

function excerpt(text, max = 140) {
  const flat = String(text || "").replace(/\s+/g, " ").trim();
  return flat.length > max ? flat.slice(0, max - 1) + "…" : flat;
}

// -- the page ------------------------------------------------------------------------------------

function start(root) {
  const sessionId = Number(root.dataset.sessionId);
  const lang = root.dataset.lang === "en" ? "en" : "vi";
  const $ = (id) => document.getElementById(id);

  const badge = $("session-state");
  const countdown = $("countdown");
  const connStatus = $("conn-status");
  const list = $("questions");
  const noQuestions = $("no-questions");
  const interestHelp = $("interest-help");
  const form = $("ask-form");
  const formAlert = $("form-alert");
  const result = $("ask-result");
  const intakeNotice = $("intake-notice");
  const outboxSection = $("outbox");
  const outboxList = $("outbox-list");
  const sentSection = $("sent-history");
  const sentList = $("sent-list");
  const sendButton = $("send-button");

  let session = {
    id: sessionId,
    state: root.dataset.state,
    starts_at: root.dataset.startsAt,
    intake_open: STATES_WITH_INTAKE.has(root.dataset.state),
  };
  const questions = new Map(); // id -> public question dict
  const items = new Map(); // id -> <li>
  let listIsOurs = false; // false while the list is still the server-rendered one
  const marked = new Set(storage.get(MARKED_KEY, []).filter(Number.isInteger));
  const interestPending = new Set();
  const myViewerKey = viewerKey();

  // outbox state for this page view
  const inflight = new Set(); // idempotency keys being sent now
  const outcomes = new Map(); // key -> {status, message, receipt, payload, retryAt}
  const retryTimers = new Map();
  let formKey = newQuestionKey();
  let formSubmitting = false;
  let resultKey = null; // the queued question the box above the form speaks of

  let everConnected = false;
  let connectFailures = 0;
  let connBackTimer = null;

  const socket = io("/viewer", {
    transports: ["websocket"],
    auth: { lang },
    reconnectionDelay: 1000,
    reconnectionDelayMax: 5000,
  });

  // ---- connection ----

  function setConn(text) {
    connStatus.textContent = text;
  }

  socket.on("connect", () => {
    connectFailures = 0;
    if (connBackTimer) clearTimeout(connBackTimer);
    if (everConnected || connStatus.textContent) {
      setConn(t("connection_back"));
      connBackTimer = setTimeout(() => setConn(""), 4000);
    }
    everConnected = true;
    join();
    if (form) flushOutbox();
  });

  socket.on("disconnect", (reason) => {
    root.dataset.live = "offline";
    setConn(t("connection_lost"));
    if (form) renderOutbox();
    if (reason === "io server disconnect") {
      // The server let us go (a restart, a deploy): it does not reconnect by itself. Spread the
      // reconnects of thousands of viewers over a few seconds.
      setTimeout(() => socket.connect(), 1000 + Math.random() * 4000);
    }
  });

  socket.on("connect_error", (err) => {
    connectFailures += 1;
    setConn(t("connection_lost"));
    if (websocketsUnreachable()) root.dataset.live = "unreachable";
    if (!socket.active) {
      // refused by the server (e.g. too many connections from this address): retry later
      const wait = (err && err.data && Number(err.data.retry_after)) || 5;
      setTimeout(() => socket.connect(), wait * 1000 + Math.random() * 2000);
    }
  });

  window.addEventListener("online", () => {
    // The phone has a network again: try now rather than at the end of the back-off.
    if (!socket.connected) {
      socket.disconnect();
      socket.connect();
    }
  });

  // The socket has never connected on this page although the device is online: perhaps a network
  // (an office proxy) that lets pages through but not websockets. Then the form posts the ordinary way.
  function websocketsUnreachable() {
    return !everConnected && !socket.connected && connectFailures >= 2 && navigator.onLine !== false;
  }

  function join() {
    socket.timeout(ACK_TIMEOUT_MS).emit("join", { session_id: sessionId }, (err, ack) => {
      if (err) {
        if (socket.connected) setTimeout(join, 2000);
        return;
      }
      if (!ack || !ack.ok) return;
      applySession(ack.session);
      replaceQuestions(ack.questions || []);
      applyStats(ack.stats);
      onAirBox.hidden = !ack.on_air;
      onAirText.textContent = ack.on_air ? ack.on_air.text : "";
      applyStreamState(ack.stream);
      root.dataset.live = "joined"; // for styling and for the browser tests: the page is current
    });
  }

  // ---- session state and countdown ----

  let countdownTimer = null;

  function applySession(data) {
    if (!data || data.id !== sessionId) return;
    session = data;
    root.dataset.state = data.state;
    badge.textContent = t("state_" + data.state);
    badge.className = "badge state-" + data.state;
    updateCountdown();
    if (!data.intake_open) closeIntake(data.state);
  }

  function updateCountdown() {
    const state = session.state;
    if (state === "announced") {
      const ms = Date.parse(session.starts_at) - Date.now();
      countdown.hidden = false;
      countdown.classList.remove("closed");
      if (!(ms > 0)) {
        countdown.textContent = t("starting_soon");
      } else {
        countdown.textContent = "";
        countdown.append(t("countdown_label") + " ", el("strong", "", formatDuration(ms)));
      }
      if (!countdownTimer) countdownTimer = setInterval(updateCountdown, 1000);
      return;
    }
    if (countdownTimer) {
      clearInterval(countdownTimer);
      countdownTimer = null;
    }
    if (state === "live") {
      countdown.hidden = true; // the badge says "Đang diễn ra"
      countdown.textContent = "";
    } else {
      countdown.hidden = false;
      countdown.classList.add("closed");
      countdown.textContent = t("intake_closed");
    }
  }

  function formatDuration(ms) {
    const total = Math.floor(ms / 1000);
    const d = Math.floor(total / 86400);
    const h = Math.floor((total % 86400) / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = total % 60;
    if (d > 0) return t("countdown_days", { d, h, m });
    return [h, m, s].map((n) => String(n).padStart(2, "0")).join(":");
  }

  function closeIntake(state) {
    if (!form || form.dataset.closed) return;
    form.dataset.closed = "1";
    for (const control of form.elements) control.disabled = true;
    form.classList.add("closed");
    if (intakeNotice) {
      intakeNotice.textContent = state === "closed" || state === "published" ? t("intake_closed") : t("intake_not_open");
      intakeNotice.hidden = false;
    }
  }

  updateCountdown();

  // ---- public questions ----

  function replaceQuestions(fresh) {
    questions.clear();
    for (const q of fresh) questions.set(q.id, q);
    renderQuestions();
  }

  function upsertQuestion(q) {
    const old = questions.get(q.id);
    // interest counts only grow: never let an older read undo a newer count
    const count = Math.max(old ? old.interest_count : 0, q.interest_count || 0);
    questions.set(q.id, { ...q, interest_count: count });
  }

  function sortedQuestions() {
    return [...questions.values()].sort((a, b) => b.interest_count - a.interest_count || a.id - b.id);
  }

  function renderQuestions() {
    if (!listIsOurs) {
      list.textContent = ""; // drop the server-rendered items: ours have the interest buttons
      listIsOurs = true;
      if (interestHelp) interestHelp.hidden = false;
    }
    const active = document.activeElement;
    for (const [id, li] of items) {
      if (!questions.has(id)) {
        li.remove();
        items.delete(id);
      }
    }
    let previous = null;
    for (const q of sortedQuestions()) {
      let li = items.get(q.id);
      if (!li) {
        li = buildQuestion(q.id);
        items.set(q.id, li);
      }
      fillQuestion(li, q);
      const wanted = previous ? previous.nextSibling : list.firstChild;
      if (wanted !== li) list.insertBefore(li, wanted);
      previous = li;
    }
    if (active && active !== document.activeElement && list.contains(active)) {
      active.focus({ preventScroll: true }); // moving a node blurs it
    }
    noQuestions.hidden = questions.size > 0;
  }

  function buildQuestion(id) {
    const li = el("li", "question");
    li.dataset.questionId = String(id);
    const text = el("p", "q-text");
    text.lang = "vi"; // what citizens write is Vietnamese, whatever the page's language
    const meta = el("p", "q-meta");
    const foot = el("div", "q-foot");
    const answer = el("p", "q-answer");
    answer.hidden = true;
    const state = el("span", "badge");
    const button = el("button", "interest-btn");
    button.type = "button";
    button.dataset.questionId = String(id);
    button.append(el("span", "interest-label", t("interest")), el("span", "count"));
    foot.append(state, button);
    li.append(text, meta, answer, foot);
    return li;
  }

  function fillQuestion(li, q) {
    const [text, meta, answer, foot] = li.children;
    text.textContent = q.text;
    answer.hidden = !q.answer;
    answer.textContent = "";
    if (q.answer) {
      const written = el("span", null, q.answer);
      written.lang = "vi";
      answer.append(el("strong", null, t("written_answer") + ": "), written);
      for (const file of Array.isArray(q.attachments) ? q.attachments : []) { // responder: the answer's files
        const link = el("a", "q-file", file.filename);
        link.href = file.url;
        answer.append(" · ", link);
      }
    }
    li.classList.toggle("on-air", q.state === "on_air");
    meta.textContent = "";
    const asker = el("span", "q-asker", q.public_name || t("anonymous"));
    if (q.public_name) asker.lang = "vi";
    meta.append(asker);
    if (q.field) {
      const field = el("span", "q-field", q.field);
      field.lang = "vi";
      meta.append(" · ", field);
    }
    const [state, button] = foot.children;
    state.className = "badge qstate-" + q.state;
    state.textContent = t("badge_" + q.state);
    const pressed = marked.has(q.id);
    button.setAttribute("aria-pressed", pressed ? "true" : "false");
    button.querySelector(".count").textContent = String(q.interest_count);
    button.title = t("interest_count", { n: q.interest_count });
  }

  list.addEventListener("click", (event) => {
    const button = event.target.closest(".interest-btn");
    if (button) markInterest(Number(button.dataset.questionId));
  });

  function markInterest(id) {
    if (marked.has(id) || interestPending.has(id) || !socket.connected) return;
    interestPending.add(id);
    socket
      .timeout(ACK_TIMEOUT_MS)
      .emit("mark_interest", { question_id: id, viewer_key: myViewerKey }, (err, ack) => {
        interestPending.delete(id);
        if (err || !ack) return; // nothing is known to have changed: pressing again is safe
        if (ack.ok) {
          marked.add(id);
          storage.set(MARKED_KEY, [...marked].slice(-2000));
          const q = questions.get(id);
          if (q) upsertQuestion({ ...q, interest_count: ack.count });
          renderQuestions();
        } else if (ack.error && ack.error.code === "not_found") {
          questions.delete(id); // no longer public
          renderQuestions();
        }
      });
  }

  socket.on("session_state", applySession);

  socket.on("question", (q) => {
    if (!q || typeof q.id !== "number") return;
    if (q.public === false) {
      questions.delete(q.id);
    } else {
      upsertQuestion(q);
    }
    if (listIsOurs) renderQuestions();
  });

  // what the chair is answering now, and the transparency counts
  const onAirBox = $("on-air-now");
  const onAirText = $("on-air-text");
  socket.on("on_air", (data) => {
    if (!data || data.session_id !== sessionId) return;
    onAirBox.hidden = !data.question;
    onAirText.textContent = data.question ? data.question.text : "";
  });

  function applyStats(stats) {
    if (!stats || stats.session_id !== sessionId) return;
    for (const node of document.querySelectorAll("#stats [data-stat]")) {
      const [key, reason] = node.dataset.stat.split(".");
      const value = reason ? (stats.declined || {})[reason] || 0 : stats[key];
      if (typeof value === "number") node.textContent = String(value);
    }
  }
  socket.on("stats", applyStats);

  socket.on("interest", (data) => {
    const q = data && questions.get(data.question_id);
    if (!q) return;
    upsertQuestion({ ...q, interest_count: data.count });
    renderQuestions();
  });

  // ---- the live video (static/js/player.js, docs/video.md) ----
  // Loaded on its own: a video problem never stops the questions. It asks the stream API itself
  // at first; the socket's stream_state (and the join answer's `stream`) then keep it current.

  const videoSlot = $("video");
  let player = null;
  let pendingStreamState = null;
  function applyStreamState(stream) {
    if (!stream || (stream.session_id !== undefined && stream.session_id !== sessionId)) return;
    if (player) player.setState(stream.state);
    else pendingStreamState = stream.state;
  }
  if (videoSlot && videoSlot.querySelector("video")) {
    import("/static/js/player.js")
      .then(({ attachPlayer }) => {
        player = attachPlayer(videoSlot, { lang });
        if (pendingStreamState) player.setState(pendingStreamState);
      })
      .catch(() => {}); // the placeholder stays
  }
  socket.on("stream_state", applyStreamState);

  // ---- the question form ----

  if (!form) return;

  const keyInput = form.elements.namedItem("idempotency_key");
  if (keyInput) keyInput.value = formKey;

  function readForm() {
    const data = new FormData(form);
    const value = (name) => {
      const v = data.get(name);
      return typeof v === "string" ? v : "";
    };
    return {
      session_id: sessionId,
      idempotency_key: formKey,
      asker: {
        kind: value("kind") || "person",
        name: value("name"),
        address: value("address"),
        phone: value("phone"),
        email: value("email"), // optional: only to tell the asker what became of the question
        name_shown: value("name_shown") || "short",
      },
      field: value("field") || null,
      text: value("text"),
      // the version of the consent text this page showed, recorded with the question
      consent: { accepted: data.get("consent") === "on", version: value("consent_version") },
    };
  }

  function clearForm() {
    for (const control of form.elements) {
      if (control.type === "hidden" || control.type === "submit") continue;
      if (control.type === "radio") control.checked = control.value === "person";
      else if (control.type === "checkbox") control.checked = false;
      else if (control.tagName === "SELECT") control.value = control.name === "name_shown" ? "short" : "";
      else control.value = "";
    }
    formKey = newQuestionKey();
    if (keyInput) keyInput.value = formKey;
  }

  function fillForm(payload) {
    const asker = payload.asker || {};
    for (const control of form.elements) {
      if (control.type === "radio") control.checked = control.value === (asker.kind || "person");
      else if (control.name === "consent") control.checked = payload.consent === true || payload.consent?.accepted === true;
      else if (control.name in asker) control.value = asker[control.name] || "";
      else if (control.name === "field") control.value = payload.field || "";
      else if (control.name === "text") control.value = payload.text || "";
    }
    formKey = payload.idempotency_key;
    if (keyInput) keyInput.value = formKey;
  }

  function setBusy(busy) {
    formSubmitting = busy;
    form.setAttribute("aria-busy", busy ? "true" : "false");
    sendButton.disabled = busy;
    sendButton.textContent = busy ? t("sending") : t("send");
  }

  function clearErrors() {
    formAlert.textContent = "";
    for (const container of form.querySelectorAll(".invalid")) {
      container.classList.remove("invalid");
      for (const error of container.querySelectorAll(".field-error")) {
        for (const control of describedControls(container)) removeDescribedBy(control, error.id);
        error.remove();
      }
      for (const control of describedControls(container)) control.removeAttribute("aria-invalid");
    }
  }

  function describedControls(container) {
    return container.querySelectorAll("input:not([type=hidden]), select, textarea");
  }

  function removeDescribedBy(control, id) {
    const ids = (control.getAttribute("aria-describedby") || "").split(/\s+/).filter((x) => x && x !== id);
    if (ids.length) control.setAttribute("aria-describedby", ids.join(" "));
    else control.removeAttribute("aria-describedby");
  }

  function addDescribedBy(control, id) {
    const ids = (control.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
    if (!ids.includes(id)) ids.push(id);
    control.setAttribute("aria-describedby", ids.join(" "));
  }

  function showErrors(error) {
    clearErrors();
    const problems = error.problems && error.problems.length ? error.problems : [error];
    const general = [];
    let first = null;
    for (const problem of problems) {
      const container = problem.field ? form.querySelector(`[data-field="${CSS.escape(problem.field)}"]`) : null;
      if (!container) {
        if (problem.message && !general.includes(problem.message)) general.push(problem.message);
        continue;
      }
      if (container.classList.contains("invalid")) continue; // one message per field
      container.classList.add("invalid");
      const id = "e-" + problem.field.replace(/^asker\./, "");
      const message = el("p", "field-error", problem.message);
      message.id = id;
      container.append(message);
      const controls = describedControls(container);
      for (const control of controls) {
        control.setAttribute("aria-invalid", "true");
        addDescribedBy(control, id);
      }
      if (!first && controls.length) first = controls[0];
    }
    formAlert.textContent = general.length ? general.join(" ") : t("form_errors");
    if (first) first.focus();
    else formAlert.scrollIntoView({ block: "center" });
  }

  function showReceipt(receipt, takeFocus = true) {
    result.textContent = "";
    result.className = "result success";
    const link = el("a", "", t("sent_view"));
    link.href = "/q/" + encodeURIComponent(receipt);
    const linkLine = el("p");
    linkLine.append(link);
    result.append(
      el("h3", "", t("sent_title")),
      el("p", "receipt-label", t("receipt_code")),
      el("p", "receipt-code code", receipt),
      el("p", "", t("sent_keep")),
      linkLine,
    );
    result.hidden = false;
    resultKey = null;
    if (takeFocus) {
      result.focus();
      result.scrollIntoView({ block: "start" });
    }
  }

  function showQueued(message, key) {
    result.textContent = "";
    result.className = "result queued";
    result.append(el("p", "", message));
    result.hidden = false;
    resultKey = key;
    result.focus();
  }

  form.addEventListener("submit", (event) => {
    if (form.dataset.closed) {
      event.preventDefault();
      return;
    }
    if (websocketsUnreachable()) {
      return; // the browser posts the form, with the same idempotency key
    }
    event.preventDefault();
    if (formSubmitting) return;
    clearErrors();
    result.hidden = true;
    resultKey = null;
    const item = { key: formKey, payload: readForm(), created: Date.now() };
    outboxPut(item); // before sending: a question typed is never lost to a dropped connection
    if (!socket.connected) {
      clearForm();
      setOutcome(item.key, { status: "pending", message: t("outbox_pending") });
      showQueued(t("outbox_saved"), item.key);
      return;
    }
    setBusy(true);
    send(item, true);
  });

  // ---- the outbox ----

  function outboxItems() {
    const raw = storage.get(OUTBOX_KEY, []);
    return Array.isArray(raw) ? raw.filter((i) => i && typeof i.key === "string" && i.payload) : [];
  }

  function outboxPut(item) {
    const all = outboxItems().filter((i) => i.key !== item.key);
    all.push(item);
    storage.set(OUTBOX_KEY, all);
  }

  function outboxRemove(key) {
    storage.set(OUTBOX_KEY, outboxItems().filter((i) => i.key !== key));
  }

  function setOutcome(key, outcome) {
    outcomes.set(key, { ...(outcomes.get(key) || {}), ...outcome });
    renderOutbox();
  }

  function flushOutbox() {
    const now = Date.now();
    for (const item of outboxItems()) {
      if (inflight.has(item.key)) continue;
      const outcome = outcomes.get(item.key);
      if (outcome && outcome.retryAt && outcome.retryAt > now) continue; // its timer sends it
      send(item, false);
    }
    renderOutbox();
  }

  function scheduleRetry(item, seconds) {
    clearTimeout(retryTimers.get(item.key));
    retryTimers.set(
      item.key,
      setTimeout(() => {
        retryTimers.delete(item.key);
        const o = outcomes.get(item.key);
        if (o) o.retryAt = 0;
        if (socket.connected && outboxItems().some((i) => i.key === item.key)) send(item, false);
      }, seconds * 1000),
    );
  }

  function send(item, fromForm) {
    inflight.add(item.key);
    if (!fromForm) setOutcome(item.key, { status: "sending", message: t("outbox_sending"), payload: item.payload });
    socket.timeout(ACK_TIMEOUT_MS).emit("submit_question", item.payload, (err, ack) => {
      inflight.delete(item.key);
      if (fromForm) setBusy(false);
      if (err || !ack || typeof ack !== "object") {
        // timed out or the connection dropped: we do not know whether it was stored. Keep it;
        // the resend on reconnect carries the same key, so it cannot become two questions.
        setOutcome(item.key, { status: "pending", message: t("outbox_pending"), payload: item.payload });
        if (fromForm) {
          clearForm();
          showQueued(t("outbox_saved"), item.key);
        }
        if (socket.connected) scheduleRetry(item, 5);
        return;
      }
      if (ack.ok) {
        outboxRemove(item.key);
        rememberReceipt(ack.receipt, item.payload.session_id);
        if (fromForm || item.key === resultKey) {
          // the question of the form, or the one the box above it says is waiting: its receipt
          // takes the box (the focus moves only when the viewer has just pressed "send")
          outcomes.delete(item.key);
          renderOutbox();
          if (fromForm) clearForm();
          showReceipt(ack.receipt, fromForm);
        } else {
          setOutcome(item.key, { status: "sent", receipt: ack.receipt, payload: item.payload });
        }
        return;
      }
      const error = ack.error || {};
      if (DEFINITIVE.has(error.code)) {
        outboxRemove(item.key);
        if (error.code === "session_closed" && item.payload.session_id === sessionId) closeIntake("closed");
        if (fromForm) {
          outcomes.delete(item.key);
          renderOutbox();
          showErrors(error);
        } else {
          if (item.key === resultKey) result.hidden = true; // the outbox says what became of it
          setOutcome(item.key, { status: "failed", message: error.message || error.code, payload: item.payload,
                                 editable: error.code === "validation" });
        }
        return;
      }
      // rate_limited, internal (a restart), anything new: keep it and try again later
      const wait = Math.max(1, Math.ceil(Number(error.retry_after) || 5));
      const message = (error.message ? error.message + " " : "") + t("outbox_retry_in", { n: wait });
      setOutcome(item.key, { status: "pending", message, payload: item.payload, retryAt: Date.now() + wait * 1000 });
      scheduleRetry(item, wait);
      if (fromForm) {
        clearForm();
        showQueued(message, item.key);
      }
    });
  }

  function renderOutbox() {
    const stored = outboxItems();
    const keys = new Set(stored.map((i) => i.key));
    const rows = stored.map((i) => ({ key: i.key, payload: i.payload, ...(outcomes.get(i.key) || {}) }));
    for (const [key, outcome] of outcomes) {
      if (!keys.has(key) && (outcome.status === "sent" || outcome.status === "failed")) rows.push({ key, ...outcome });
    }
    outboxList.textContent = "";
    for (const row of rows) {
      const status = row.status || "pending";
      const li = el("li", "outbox-item status-" + status);
      li.dataset.key = row.key;
      li.append(el("p", "ob-text", excerpt(row.payload && row.payload.text)));
      const line = el("p", "ob-status");
      if (status === "sent") {
        line.append(t("outbox_sent") + " ");
        const link = el("a", "code", row.receipt);
        link.href = "/q/" + encodeURIComponent(row.receipt);
        line.append(link);
      } else if (status === "failed") {
        line.textContent = t("outbox_failed") + " " + (row.message || "");
      } else {
        line.textContent = row.message || t("outbox_pending");
      }
      li.append(line);
      if (status === "failed" && row.editable && row.payload) {
        const edit = el("button", "secondary small", t("outbox_edit"));
        edit.type = "button";
        edit.addEventListener("click", () => {
          outcomes.delete(row.key);
          fillForm(row.payload);
          renderOutbox();
          form.querySelector("input:not([type=hidden]), textarea, select").focus();
          form.scrollIntoView({ block: "start" });
        });
        li.append(edit);
      }
      if (status === "pending" && !socket.connected) {
        const discard = el("button", "secondary small", t("outbox_discard"));
        discard.type = "button";
        discard.addEventListener("click", () => {
          outboxRemove(row.key);
          outcomes.delete(row.key);
          renderOutbox();
        });
        li.append(discard);
      }
      outboxList.append(li);
    }
    outboxSection.hidden = rows.length === 0;
  }

  window.addEventListener("storage", (event) => {
    if (event.key === OUTBOX_KEY) renderOutbox();
  });

  // ---- receipts sent from this device ----

  function sentReceipts() {
    const raw = tabStorage.get(SENT_KEY, []);
    return Array.isArray(raw) ? raw.filter((r) => r && typeof r.receipt === "string") : [];
  }

  function rememberReceipt(receipt, forSession) {
    const all = sentReceipts().filter((r) => r.receipt !== receipt);
    all.push({ receipt, session_id: forSession, at: Date.now() });
    tabStorage.set(SENT_KEY, all.slice(-50));
    renderSent();
  }

  function renderSent() {
    const mine = sentReceipts().filter((r) => r.session_id === sessionId);
    sentList.textContent = "";
    for (const r of mine.reverse()) {
      const li = el("li");
      const link = el("a", "code", r.receipt);
      link.href = "/q/" + encodeURIComponent(r.receipt);
      li.append(link);
      sentList.append(li);
    }
    sentSection.hidden = mine.length === 0;
  }

  renderOutbox();
  renderSent();
}

const sessionRoot = document.getElementById("session");
if (sessionRoot) {
  start(sessionRoot);
}
