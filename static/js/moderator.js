// The editorial board's console (/mod/{session}): live lanes of questions over the /moderator
// Socket.IO namespace (docs/moderation.md is the contract).
//
//   - `join {session_id, since}` on every (re)connect, with the last cursor seen, so a reconnect
//     fetches only what changed; questions are merged by `version` (the higher one wins);
//   - every action is `action {question_id, action, version, ...}` with the card's current version;
//     a `conflict` answer carries the fresh question, which replaces the card;
//   - one click or one key on the focused card per action (the `?` dialog lists the keys);
//   - the live queue reorders by drag and drop and by Alt+↑ / Alt+↓.
// Everything a user typed is put on the page with textContent only: never as HTML.

import { io } from "/static/vendor/socket.io-client/socket.io.esm.min.js";
import { choice, clockTime, csrfToken, dateTime, dayDate, duration, el, fold, loadText, translator, typingIn } from "/static/js/staff.js";
import { senderBlockControl } from "/static/js/blocks.js";

const t = translator(loadText());
const ACK_TIMEOUT_MS = 10000;
const LANES = [
  "on_air", "queued", "late", "received", "accepted", "routed", "prepared",
  "answered_live", "answered_in_writing", "declined", "forwarded",
];
const LANES_KEY = "doithoai.console.hidden-lanes.v1";
const DEFAULT_HIDDEN = ["answered_in_writing", "declined", "forwarded"];
const REASONS = [
  "outside_chair_remit", "outside_city_remit", "will_not_answer", "complaint_or_denunciation", "duplicate", "abusive",
];
const PRE_LIVE = ["accepted", "routed", "prepared"];
const LATE_LANE_STATES = new Set(["received", ...PRE_LIVE]);

// The buttons on a card, in this order, and their keys.
const BUTTONS = [
  ["accept", "a"], ["approve", "p"], ["queue", "q"], ["air", "o"], ["done", "x"], ["requeue", "b"],
  ["unqueue", "u"], ["approve_answer", "w"], ["return_answer", "n"], ["answer", "t"], ["route", "r"],
  ["classify", "c"], ["edit", "e"], ["forward", "f"], ["extend", "g"],
  ["merge", "m"], ["decline", "d"], ["star", "s"], ["reveal", "i"],
];
const KEYS = Object.fromEntries(BUTTONS.map(([action, key]) => [key, action]));
const PRIMARY = new Set(["accept", "approve", "queue", "air", "done"]);
const DIALOG_ACTIONS = new Set(["decline", "edit", "classify", "route", "answer", "merge", "reveal",
  "return_answer", "forward", "extend"]);
// responder: today in Vietnam, "YYYY-MM-DD", to mark a deadline passed (a deadline ends at 24:00 Vietnam time)
const vietnamToday = () => new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Ho_Chi_Minh" }).format(new Date());

const $ = (id) => document.getElementById(id);

function start(root) {
  const sessionId = Number(root.dataset.sessionId);
  let role = root.dataset.role;
  let roleActions = new Set();
  const board = $("board");
  const conn = $("conn");
  const statusBox = $("mod-status");
  const alertBox = $("mod-alert");
  const filterForm = $("filters");
  const searchInput = $("flt-search");
  const fieldSelect = $("flt-field");
  const departmentSelect = $("flt-department");
  const stateSelect = $("flt-state");
  const filterCount = $("flt-count");
  const departmentList = $("departments");
  const dialog = $("action-dialog");
  const dialogForm = $("action-form");
  const dialogTitle = $("action-title");
  const dialogBody = $("action-body");
  const dialogError = $("action-error");
  const dialogSubmit = $("action-submit");
  const dialogCancel = $("action-cancel");
  const helpDialog = $("help-dialog");
  const scriptButton = $("approve-script");
  const announceButton = $("session-announce");
  const startButton = $("session-start");
  const closeButton = $("session-close");
  const publishButton = $("session-publish");

  let session = {
    id: sessionId,
    state: root.dataset.state,
    starts_at: root.dataset.startsAt,
    minutes: Number(root.dataset.minutes),
    fields: [...fieldSelect.options].slice(1).map((o) => o.value),
  };
  const questions = new Map(); // id -> staff question
  const cards = new Map(); // id -> <li> holding the card
  const dirty = new Set(); // ids whose card must be redrawn
  const busy = new Set(); // ids with an action in flight
  let queueOrder = [];
  let departments = [];
  let cursor = null;
  let joined = false;
  let online = false;
  let renderQueued = false;
  let advance = null; // where the focus goes when a card leaves its lane by our own action
  const filter = { search: [], field: "", department: "", state: "" };
  const searchCache = new Map(); // id -> [version, folded text]
  const hiddenLanes = new Set(loadHiddenLanes());

  const socket = io("/moderator", {
    withCredentials: true,
    transports: ["websocket"],
    auth: { lang: root.dataset.lang },
    reconnectionDelay: 1000,
    reconnectionDelayMax: 5000,
  });

  // ---- helpers ----

  // The server's state machine decides: each card carries the actions its viewer may take now
  // (`actions`) and those a rule withholds with the reason (`withheld`); the join tells what this
  // role may ever do (`me.actions`, for the keyboard help). Nothing here re-decides them.
  function can(action) {
    return roleActions.has(action);
  }

  function applies(action, q) {
    return Array.isArray(q.actions) && q.actions.includes(action);
  }

  function num(q) {
    return q && q.number !== undefined && q.number !== null ? q.number : q ? q.id : "?";
  }

  function numberOf(id) {
    const q = questions.get(id);
    return q ? num(q) : id;
  }

  function laneOf(q) {
    if (!q || q.state === "merged") return null;
    if (q.late && LATE_LANE_STATES.has(q.state)) return "late";
    return LANES.includes(q.state) ? q.state : null;
  }

  function excerpt(text, max = 80) {
    const flat = String(text || "").replace(/\s+/g, " ").trim();
    return flat.length > max ? flat.slice(0, max - 1) + "…" : flat;
  }

  let statusTimer = null;
  function announce(text) {
    statusBox.textContent = text;
    if (statusTimer) clearTimeout(statusTimer);
    statusTimer = setTimeout(() => (statusBox.textContent = ""), 6000);
  }

  let alertTimer = null;
  function showAlert(text) {
    alertBox.textContent = text;
    if (alertTimer) clearTimeout(alertTimer);
    alertTimer = setTimeout(() => (alertBox.textContent = ""), 12000);
  }

  function loadHiddenLanes() {
    try {
      const raw = window.localStorage.getItem(LANES_KEY);
      const parsed = raw === null ? DEFAULT_HIDDEN : JSON.parse(raw);
      return Array.isArray(parsed) ? parsed.filter((l) => LANES.includes(l)) : DEFAULT_HIDDEN;
    } catch {
      return DEFAULT_HIDDEN;
    }
  }

  function saveHiddenLanes() {
    try {
      window.localStorage.setItem(LANES_KEY, JSON.stringify([...hiddenLanes]));
    } catch {
      // private mode: the choice lasts as long as the page
    }
  }

  // ---- connection ----

  function setConn(state, text, link) {
    root.dataset.conn = state;
    conn.textContent = text;
    if (link) {
      conn.append(" ", link);
    }
  }

  function setOnline(value) {
    online = value;
    const focused = document.activeElement;
    if (!online && focused && focused.tagName === "BUTTON" && focused.closest(".qcard")) {
      focused.closest(".qcard").focus({ preventScroll: true }); // a button about to be disabled would drop it
    }
    for (const button of board.querySelectorAll(".qcard button")) button.disabled = !online;
    if (scriptButton) scriptButton.disabled = !online || Boolean(session.script_approved_at || session.script_approved);
    for (const button of [announceButton, startButton, closeButton, publishButton]) if (button) button.disabled = !online;
    if (!online && dialog.open) dialogSubmit.disabled = true;
    if (online && dialog.open) dialogSubmit.disabled = false;
  }

  socket.on("connect", () => {
    setConn("connecting", t("conn_connecting"));
    join();
  });

  socket.on("disconnect", (reason) => {
    joined = false;
    root.dataset.live = "offline";
    setConn("offline", t("conn_offline"));
    setOnline(false);
    if (reason === "io server disconnect") {
      setTimeout(() => socket.connect(), 1000 + Math.random() * 3000);
    }
  });

  socket.on("connect_error", (err) => {
    const code = err && err.data && err.data.code;
    setOnline(false);
    if (code === "unauthorized" || code === "forbidden") {
      const link = el("a", "", t("conn_relogin"));
      link.href = "/login?next=" + encodeURIComponent(window.location.pathname);
      setConn("refused", t(code === "forbidden" ? "conn_forbidden" : "conn_unauthorized"), code === "unauthorized" ? link : null);
      root.dataset.live = "refused";
      return; // the server refused: retrying would only be refused again
    }
    setConn("offline", t("conn_offline"));
    if (!socket.active) setTimeout(() => socket.connect(), 3000 + Math.random() * 2000);
  });

  window.addEventListener("online", () => {
    if (!socket.connected && root.dataset.conn !== "refused") {
      socket.disconnect();
      socket.connect();
    }
  });

  function newerCursor(value) {
    if (value === undefined || value === null) return;
    // cursors are opaque to the contract; the server's are ISO times (or numbers): never go back
    if (typeof value === typeof cursor && (typeof value === "number" || typeof value === "string") && value < cursor) return;
    cursor = value;
  }

  function join() {
    const payload = { session_id: sessionId };
    if (cursor !== null) payload.since = cursor;
    socket.timeout(ACK_TIMEOUT_MS).emit("join", payload, (err, ack) => {
      if (err) {
        if (socket.connected) setTimeout(join, 2000);
        return;
      }
      if (!ack || !ack.ok) {
        const error = (ack && ack.error) || {};
        setConn("refused", t("msg_error", { m: error.message || error.code || "?" }));
        return;
      }
      if (ack.me && ack.me.role) role = ack.me.role;
      if (ack.me && Array.isArray(ack.me.actions)) roleActions = new Set(ack.me.actions);
      root.dataset.role = role;
      applySession(ack.session);
      if (ack.full !== false) {
        questions.clear();
        searchCache.clear();
        for (const id of cards.keys()) dirty.add(id);
      }
      for (const q of ack.questions || []) upsert(q);
      if (Array.isArray(ack.queue)) queueOrder = ack.queue.slice();
      if (Array.isArray(ack.departments)) setDepartments(ack.departments);
      newerCursor(ack.cursor);
      joined = true;
      root.dataset.live = "joined"; // for styling and for the browser tests: the console is current
      board.setAttribute("aria-busy", "false");
      setConn("online", t("conn_online"));
      setOnline(true);
      applyRoleToHelp();
      for (const id of questions.keys()) dirty.add(id);
      render();
    });
  }

  // ---- server events ----

  socket.on("question", (data) => {
    if (!data) return;
    const q = data.question && typeof data.question === "object" ? data.question : data;
    const known = questions.has(q.id);
    if (upsert(q)) {
      if (!known && joined && q.state === "received") announce(t("msg_new", { n: num(q) }));
      scheduleRender();
    }
    newerCursor(data.cursor);
  });

  // a question routed to another department leaves a responder's board
  socket.on("question_gone", (data) => {
    if (!data || data.session_id !== sessionId || !questions.has(data.id)) return;
    questions.delete(data.id);
    dirty.delete(data.id);
    scheduleRender();
  });

  socket.on("queue", (data) => {
    if (!data || (data.session_id !== undefined && data.session_id !== sessionId) || !Array.isArray(data.order)) return;
    for (const id of [...queueOrder, ...data.order]) dirty.add(id);
    queueOrder = data.order.slice();
    scheduleRender();
  });

  socket.on("interest", (data) => {
    const q = data && questions.get(data.question_id);
    if (!q || typeof data.count !== "number") return;
    if (data.count > (q.interest_count || 0)) {
      questions.set(q.id, { ...q, interest_count: data.count });
      dirty.add(q.id);
      scheduleRender();
    }
  });

  socket.on("session", (data) => {
    const s = data && data.session && typeof data.session === "object" ? data.session : data;
    applySession(s);
  });

  function upsert(q) {
    if (!q || typeof q.id !== "number") return false;
    if (q.session_id !== undefined && q.session_id !== sessionId) return false;
    const old = questions.get(q.id);
    if (old && (old.version || 0) > (q.version || 0)) return false; // an older read: keep ours
    const fresh = old ? { ...q, interest_count: Math.max(old.interest_count || 0, q.interest_count || 0) } : q;
    questions.set(q.id, fresh);
    dirty.add(q.id);
    if (fresh.department && !departments.includes(fresh.department)) setDepartments([...departments, fresh.department]);
    return true;
  }

  function setDepartments(list) {
    departments = [...new Set(list.filter((d) => typeof d === "string" && d))].sort((a, b) => a.localeCompare(b, "vi"));
    departmentList.textContent = "";
    for (const d of departments) {
      const option = el("option");
      option.value = d;
      departmentList.append(option);
    }
    const chosen = departmentSelect.value;
    while (departmentSelect.options.length > 1) departmentSelect.remove(1);
    for (const d of departments) {
      const option = el("option", "", d);
      option.value = d;
      departmentSelect.append(option);
    }
    departmentSelect.value = departments.includes(chosen) ? chosen : "";
  }

  // ---- the session header ----

  function applySession(s) {
    if (!s || (s.id !== undefined && s.id !== sessionId)) return;
    session = { ...session, ...s };
    const badge = $("sess-state");
    badge.textContent = t("sess_" + session.state);
    badge.className = "badge state-" + session.state;
    root.dataset.state = session.state;
    if (s.starts_at) {
      const starts = $("sess-starts");
      starts.dateTime = s.starts_at;
      starts.textContent = dateTime(s.starts_at);
    }
    if (s.minutes) $("sess-minutes").textContent = t("sess_minutes", { n: s.minutes });
    const approved = Boolean(session.script_approved_at || session.script_approved);
    $("sess-script").hidden = !approved;
    if (scriptButton) {
      scriptButton.hidden = approved;
      scriptButton.disabled = !online || approved;
    }
    if (announceButton) announceButton.hidden = session.state !== "draft";
    if (startButton) startButton.hidden = session.state !== "announced";
    if (closeButton) closeButton.hidden = !["announced", "live"].includes(session.state);
    if (publishButton) publishButton.hidden = session.state !== "closed";
    tick();
  }

  function tick() {
    const clock = $("sess-clock");
    const now = Date.now();
    const planned = (Number(session.minutes) || 0) * 60000;
    if (session.state === "live") {
      const startedAt = Date.parse(session.live_at || session.started_at || session.starts_at);
      if (!Number.isFinite(startedAt)) return;
      const elapsed = now - startedAt;
      const rest = planned - elapsed;
      clock.textContent = t("clock_elapsed", { t: duration(elapsed) }) + " · " +
        (rest >= 0 ? t("clock_remaining", { t: duration(rest) }) : t("clock_over", { t: duration(-rest) }));
      clock.classList.toggle("over", rest < 0);
    } else if (session.state === "announced" || session.state === "draft") {
      const ms = Date.parse(session.starts_at) - now;
      if (!(ms > 0)) {
        clock.textContent = "";
        return;
      }
      const days = Math.floor(ms / 86400000);
      const text = days > 0 ? t("clock_days", { d: days, h: Math.floor((ms % 86400000) / 3600000) }) : duration(ms);
      clock.textContent = t("clock_before", { t: text });
    } else {
      clock.textContent = "";
    }
  }
  setInterval(tick, 1000);
  tick();

  // ---- filters ----

  function readFilters() {
    filter.search = fold(searchInput.value).split(" ").filter(Boolean);
    filter.field = fieldSelect.value;
    filter.department = departmentSelect.value;
    filter.state = stateSelect.value;
  }

  function searchText(q) {
    const cached = searchCache.get(q.id);
    if (cached && cached[0] === q.version) return cached[1];
    const asker = q.asker || {};
    const text = fold([
      "#" + num(q), q.text, q.original_text, q.field, q.department, q.public_name, asker.name, asker.area,
      q.receipt, q.answer,
    ].filter(Boolean).join(" "));
    searchCache.set(q.id, [q.version, text]);
    return text;
  }

  function filtering() {
    return Boolean(filter.search.length || filter.field || filter.department || filter.state);
  }

  function matches(q) {
    if (filter.field && q.field !== filter.field) return false;
    if (filter.department && q.department !== filter.department) return false;
    if (filter.state && laneOf(q) !== filter.state) return false;
    if (filter.search.length) {
      const hay = searchText(q);
      return filter.search.every((term) => hay.includes(term));
    }
    return true;
  }

  filterForm.addEventListener("input", () => {
    readFilters();
    render();
  });
  filterForm.addEventListener("change", () => {
    readFilters();
    render();
  });
  filterForm.addEventListener("reset", () => {
    setTimeout(() => {
      readFilters();
      render();
    });
  });
  filterForm.addEventListener("submit", (event) => event.preventDefault());
  searchInput.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && searchInput.value) {
      searchInput.value = "";
      readFilters();
      render();
    } else if (event.key === "Enter" || event.key === "ArrowDown") {
      event.preventDefault();
      const first = board.querySelector(".lane:not([hidden]) .qcard");
      if (first) first.focus();
    }
  });

  // ---- lanes shown or hidden ----

  for (const chip of document.querySelectorAll(".lane-chip")) {
    chip.addEventListener("click", () => {
      const lane = chip.dataset.lane;
      if (hiddenLanes.has(lane)) hiddenLanes.delete(lane);
      else hiddenLanes.add(lane);
      saveHiddenLanes();
      render();
      if (!hiddenLanes.has(lane)) {
        const section = $("lane-" + lane);
        if (section) section.scrollIntoView({ block: "nearest", inline: "nearest" });
      }
    });
  }

  // ---- rendering ----

  function scheduleRender() {
    if (renderQueued) return;
    renderQueued = true;
    requestAnimationFrame(() => {
      renderQueued = false;
      render();
    });
  }

  function sortLane(lane, list) {
    const byNumber = (a, b) => num(a) - num(b);
    const score = (q) => (q.interest_count || 0) + (q.merged_count || 0);
    if (lane === "queued") {
      const index = new Map(queueOrder.map((id, i) => [id, i]));
      const pos = (q) => (index.has(q.id) ? index.get(q.id) : 1e6 + (q.queue_position ?? 0));
      return list.sort((a, b) => pos(a) - pos(b) || byNumber(a, b));
    }
    if (lane === "received" || lane === "late") return list.sort(byNumber);
    if (PRE_LIVE.includes(lane)) {
      return list.sort((a, b) => Number(Boolean(b.starred)) - Number(Boolean(a.starred)) || score(b) - score(a) ||
        byNumber(a, b));
    }
    const when = (q) => Date.parse(q.answered_at || q.aired_at || q.updated_at || q.received_at) || 0;
    return list.sort((a, b) => when(b) - when(a) || byNumber(b, a));
  }

  function render() {
    renderQueued = false;
    const active = document.activeElement;
    const activeCard = active && active.closest ? active.closest(".qcard") : null;
    const activeAction = active && active.dataset ? active.dataset.action : undefined;

    const perLane = new Map(LANES.map((l) => [l, []]));
    const totals = new Map(LANES.map((l) => [l, 0]));
    let shown = 0;
    let total = 0;
    for (const q of questions.values()) {
      const lane = laneOf(q);
      if (!lane) continue;
      total += 1;
      totals.set(lane, totals.get(lane) + 1);
      if (matches(q)) {
        perLane.get(lane).push(q);
        shown += 1;
      }
    }
    // cards of questions gone from the board
    for (const [id, li] of cards) {
      const q = questions.get(id);
      if (!q || !laneOf(q) || !matches(q)) {
        li.remove();
        if (!q || !laneOf(q)) cards.delete(id);
      }
    }
    for (const lane of LANES) {
      const section = $("lane-" + lane);
      const list = $("cards-" + lane);
      const ordered = sortLane(lane, perLane.get(lane));
      let previous = null;
      for (const q of ordered) {
        let li = cards.get(q.id);
        if (!li) {
          li = buildCard(q.id);
          cards.set(q.id, li);
          dirty.add(q.id);
        }
        if (dirty.has(q.id)) {
          fillCard(li.firstChild, q, lane);
          dirty.delete(q.id);
        }
        const wanted = previous ? previous.nextSibling : list.firstChild;
        if (wanted !== li) list.insertBefore(li, wanted);
        previous = li;
      }
      const count = totals.get(lane);
      const visible = ordered.length;
      const countText = filtering() ? `${visible}/${count}` : String(count);
      $("lane-" + lane + "-count").textContent = countText;
      const chip = document.querySelector(`.lane-chip[data-lane="${lane}"]`);
      chip.querySelector(".chip-count").textContent = countText;
      chip.setAttribute("aria-pressed", hiddenLanes.has(lane) ? "false" : "true");
      chip.classList.toggle("has-items", count > 0);
      section.classList.toggle("has-items", count > 0);
      chip.setAttribute("aria-label", t("lane_count", { lane: t("lane_" + lane), n: countText }));
      // the late lane takes room only when there is a late question (or it is asked for)
      section.hidden = hiddenLanes.has(lane) || Boolean(filter.state && filter.state !== lane) ||
        (lane === "late" && count === 0 && filter.state !== "late");
      const empty = $("lane-" + lane + "-empty");
      empty.hidden = visible > 0;
      empty.textContent = !joined ? t("console_loading") : count > 0 ? t("lane_filtered_empty") : t("lane_empty");
    }
    // a forum has no live hour (issue 13): its live lanes take room only when a card was put there
    if (board.classList.contains("board-forum")) {
      const live = totals.get("on_air") + totals.get("queued") > 0;
      board.querySelector(".board-live").hidden = !live;
      board.classList.toggle("board-forum-live", live);
    }
    // cards filtered out stay dirty until they are shown again
    for (const id of dirty) if (!questions.has(id) || !laneOf(questions.get(id))) dirty.delete(id);
    filterCount.textContent = filtering() ? t("msg_shown", { n: shown, total }) : "";

    // keep the focus where the user works
    const focusLost = !document.activeElement || document.activeElement === document.body ||
      (activeCard && advance && Number(activeCard.dataset.id) === advance.id);
    if (dialog.open || helpDialog.open) return; // the focus is in the dialog; it comes back on close
    if (focusLost && advanceFocus()) return;
    if (active && activeCard && document.activeElement !== active) {
      if (activeCard.isConnected) {
        const again = activeAction && activeCard.querySelector(`button[data-action="${activeAction}"]`);
        (again && !again.disabled ? again : activeCard).focus({ preventScroll: true });
      }
    }
  }

  /** After our own action moved a card out of its lane: the focus goes to its neighbour there, so
   *  that "a", "a", "a" accepts one question after another. True if it moved the focus. */
  function advanceFocus() {
    const a = advance;
    if (!a || !a.done) return false;
    advance = null;
    if (!questions.has(a.id) || laneOf(questions.get(a.id)) === a.lane) return false;
    const next = a.neighbours.map((id) => cards.get(id)).find((li) => li && li.isConnected &&
      li.parentElement.dataset.lane === a.lane);
    if (!next) return false;
    next.firstChild.focus();
    return true;
  }

  function buildCard(id) {
    const li = el("li", "card-slot");
    const card = el("article", "qcard");
    card.tabIndex = 0;
    card.id = "qc-" + id;
    card.dataset.id = String(id);
    card.setAttribute("aria-labelledby", "qh-" + id);
    card.setAttribute("aria-describedby", "qt-" + id);
    li.append(card);
    return li;
  }

  function badge(className, text) {
    return el("span", "badge " + className, text);
  }

  function fillCard(card, q, lane) {
    card.textContent = "";
    card.dataset.state = q.state;
    card.dataset.version = String(q.version);
    const flags = Array.isArray(q.flags) ? q.flags.filter(Boolean) : [];
    card.classList.toggle("is-flagged", flags.length > 0);
    card.classList.toggle("is-late", Boolean(q.late));
    card.classList.toggle("is-held", Boolean(q.held));
    card.classList.toggle("is-starred", Boolean(q.starred));
    card.classList.toggle("is-protected", Boolean(q.protected));
    card.classList.toggle("is-busy", busy.has(q.id));
    const draggable = lane === "queued" && applies("reorder", q);
    card.draggable = draggable;
    card.parentElement?.classList.toggle("draggable", draggable);

    // head: number, state, badges, counts
    const head = el("header", "qc-head");
    const title = el("h3", "qc-num", "#" + num(q));
    title.id = "qh-" + q.id;
    title.setAttribute("aria-label", t("card_label", { n: num(q) }));
    head.append(title);
    if (lane !== q.state) head.append(badge("qstate-" + q.state, t("state_name_" + q.state)));
    if (q.late) head.append(badge("b-late", t("q_late")));
    if (q.held) head.append(badge("b-held", t("q_held")));
    if (q.starred) head.append(badge("b-star", "★ " + t("q_starred")));
    if (q.edited) head.append(badge("b-edited", t("q_edited")));
    if (q.protected) head.append(badge("b-protected", "🔒 " + t("q_protected")));
    const counts = el("span", "qc-counts");
    counts.append(el("span", "qc-interest", t("q_interest", { n: q.interest_count || 0 })));
    if (q.merged_count) counts.append(" · ", el("span", "qc-merged", t("q_merged_count", { n: q.merged_count })));
    head.append(counts);
    card.append(head);

    if (flags.length) {
      const warn = el("p", "qc-flags");
      warn.append(el("span", "qc-flag-icon", "⚠"), " ", t("q_flags", { words: flags.join(", ") }));
      card.append(warn);
    }

    const text = el("p", "qc-text", q.text);
    text.id = "qt-" + q.id;
    card.append(text);
    if (q.edited && q.original_text && q.original_text !== q.text) {
      const original = el("div", "qc-original");
      original.append(el("p", "qc-label", t("q_original")), el("p", "qc-original-text", q.original_text));
      card.append(original);
    }

    // asker (masked by the server), field, department, times
    const asker = q.asker || {};
    const who = el("p", "qc-asker");
    if (asker.hidden || (q.protected && !asker.name)) {
      who.classList.add("protected");
      who.append(el("span", "qc-lock", "🔒"), " ", t("q_protected"));
    } else {
      who.append(el("span", "visually-hidden", t("q_asker") + ": "));
      const parts = [asker.name || q.public_name || "—"];
      if (asker.kind === "organization") parts[0] += " (" + t("q_org") + ")";
      if (asker.area) parts.push(asker.area);
      if (asker.phone_last3) parts.push(t("q_phone", { d: asker.phone_last3 }));
      who.append(parts.join(" · "));
    }
    card.append(who);

    const meta = el("p", "qc-meta");
    meta.append(el("span", q.field ? "qc-field" : "qc-field none", q.field || t("q_no_field")));
    if (q.department) meta.append(" · ", el("span", "qc-dept", t("q_department", { d: q.department })));
    if (lane === "queued" && queueOrder.includes(q.id)) {
      meta.append(" · ", el("span", "qc-pos", t("q_queue_pos", { n: queueOrder.indexOf(q.id) + 1 })));
    }
    const when = q.aired_at && ["on_air", "answered_live"].includes(q.state)
      ? t("q_aired_at", { t: clockTime(q.aired_at) }) : t("q_received_at", { t: clockTime(q.received_at) });
    meta.append(" · ", el("span", "qc-time", when));
    card.append(meta);

    if (q.decline_reason && ["declined", "forwarded"].includes(q.state)) {
      const reason = el("p", "qc-reason", t("q_reason", { r: t("rsn_" + q.decline_reason) }));
      if (q.forward_due) reason.append(" · ", t("q_forward_due", { d: dayDate(q.forward_due) }));
      card.append(reason);
    }
    if (q.answer) {
      const answer = el("details", "qc-answer");
      answer.append(el("summary", "", t("q_answer")), el("p", "qc-answer-text", q.answer));
      card.append(answer);
    }
    followUp(card, q);

    // merge suggestions
    const similar = (Array.isArray(q.similar) ? q.similar : []).filter((s) => s && s.id !== q.id &&
      (!questions.has(s.id) || laneOf(questions.get(s.id))));
    if (similar.length) {
      const list = el("ul", "qc-similar");
      for (const s of similar.slice(0, 3)) {
        const item = el("li");
        const percent = Math.round((Number(s.score) || 0) * 100);
        item.append(el("span", "qc-similar-text", t("q_similar", { n: numberOf(s.id), p: percent })));
        if (applies("merge", q)) {
          const button = actionButton("merge", null, t("q_merge_short"));
          button.setAttribute("aria-label", t("q_merge_into", { n: numberOf(s.id) }));
          button.title = t("q_merge_into", { n: numberOf(s.id) });
          button.dataset.into = String(s.id);
          button.classList.add("link-button");
          item.append(" ", button);
        }
        list.append(item);
      }
      card.append(list);
    }

    // "Block sender" (static/js/blocks.js draws it and owns its dialog), above the actions: their
    // keyboard hints appear when the card takes the focus, which must not move it under the pointer
    const sender = senderBlockControl(q);
    if (sender) card.append(sender);

    // actions
    const actions = el("div", "qc-actions");
    actions.setAttribute("role", "group");
    actions.setAttribute("aria-label", t("q_actions", { n: num(q) }));
    for (const [action, key] of BUTTONS) {
      if (!applies(action, q)) continue;
      let label = t("act_" + action);
      if (action === "star" && q.starred) label = t("act_unstar");
      const button = actionButton(action, key, label);
      if (action === "star") button.setAttribute("aria-pressed", q.starred ? "true" : "false");
      if (PRIMARY.has(action)) button.classList.add("act-primary");
      if (action === "decline") button.classList.add("act-danger");
      actions.append(button);
    }
    if (lane === "queued" && applies("reorder", q)) {
      const index = queueOrder.indexOf(q.id);
      const up = actionButton("move-up", null, "↑");
      up.setAttribute("aria-label", t("act_up"));
      up.setAttribute("aria-keyshortcuts", "Alt+ArrowUp");
      up.title = t("act_up") + " (Alt+↑)";
      const down = actionButton("move-down", null, "↓");
      down.setAttribute("aria-label", t("act_down"));
      down.setAttribute("aria-keyshortcuts", "Alt+ArrowDown");
      down.title = t("act_down") + " (Alt+↓)";
      if (index <= 0) up.disabled = true;
      if (index < 0 || index >= queueOrder.length - 1) down.disabled = true;
      up.classList.add("act-move");
      down.classList.add("act-move");
      actions.append(up, down);
    }
    if (actions.childElementCount) card.append(actions);
    // why an action this viewer could take from here is not offered now (e.g. awaiting the head)
    const withheld = q.withheld && typeof q.withheld === "object" ? Object.entries(q.withheld) : [];
    if (withheld.length) {
      const byReason = new Map(); // one line per reason: "Queue, Air: needs the head's approval first"
      for (const [action, reason] of withheld) byReason.set(reason, [...(byReason.get(reason) || []), t("act_" + action)]);
      const why = el("ul", "qc-withheld");
      for (const [reason, names] of byReason) {
        why.append(el("li", "", t("q_withheld", { a: names.join(", "), r: t("why_" + reason) })));
      }
      card.append(why);
    }
  }

  function actionButton(action, key, label) {
    const button = el("button", "act act-" + action);
    button.type = "button";
    button.dataset.action = action;
    button.append(el("span", "act-label", label));
    if (key) {
      const kbd = el("kbd", "", key);
      kbd.setAttribute("aria-hidden", "true");
      button.append(kbd);
      button.setAttribute("aria-keyshortcuts", key);
      button.title = t("q_shortcut", { k: key });
    }
    button.disabled = !online;
    return button;
  }

  function applyRoleToHelp() {
    for (const row of helpDialog.querySelectorAll("tr[data-action]")) {
      row.hidden = !can(row.dataset.action);
    }
  }

  // ---- doing things ----

  function neighboursOf(id) {
    const li = cards.get(id);
    if (!li) return [];
    const out = [];
    for (let n = li.nextElementSibling; n; n = n.nextElementSibling) out.push(Number(n.firstChild.dataset.id));
    for (let n = li.previousElementSibling; n; n = n.previousElementSibling) out.push(Number(n.firstChild.dataset.id));
    return out;
  }

  function setBusy(id, value) {
    if (value) busy.add(id);
    else busy.delete(id);
    const li = cards.get(id);
    if (!li) return;
    // aria-disabled rather than disabled: a disabled button would drop the keyboard focus
    li.firstChild.classList.toggle("is-busy", value);
    li.firstChild.setAttribute("aria-busy", value ? "true" : "false");
    for (const button of li.querySelectorAll("button")) button.setAttribute("aria-disabled", value ? "true" : "false");
  }

  /** Sends one action with the card's current version. Resolves with the server's answer (or null). */
  function sendAction(id, action, params = {}) {
    const q = questions.get(id);
    return new Promise((resolve) => {
      if (!q) {
        resolve(null);
        return;
      }
      if (!socket.connected || !online) {
        showAlert(t("msg_offline"));
        resolve(null);
        return;
      }
      const lane = laneOf(q);
      advance = { id, lane, neighbours: neighboursOf(id), done: false };
      setBusy(id, true);
      const payload = { question_id: id, action, version: q.version, ...params };
      socket.timeout(ACK_TIMEOUT_MS).emit("action", payload, (err, ack) => {
        setBusy(id, false);
        if (err) {
          showAlert(t("msg_timeout"));
          advance = null;
          resolve(null);
          return;
        }
        if (ack && ack.question) upsert(ack.question);
        if (ack && Array.isArray(ack.others)) for (const other of ack.others) upsert(other); // e.g. a merge's target
        if (ack && ack.ok) {
          advance.done = true;
          alertBox.textContent = "";
          announce(t("msg_ok", { n: num(q) }));
        } else {
          advance = null;
          const error = (ack && ack.error) || {};
          const message = error.message || error.code || "?";
          showAlert(error.code === "conflict" ? t("msg_conflict", { n: num(q), m: message }) : t("msg_error", { m: message }));
        }
        dirty.add(id);
        render();
        if (!dialog.open) advance = null; // used by render, or not needed
        resolve(ack || null);
      });
    });
  }

  function perform(id, action, origin) {
    const q = questions.get(id);
    if (!q || busy.has(id)) return; // one action at a time per card: the next needs the new version
    if (action === "move-up" || action === "move-down") {
      moveInQueue(id, action === "move-up" ? -1 : 1);
      return;
    }
    if (action === "merge" && origin && origin.dataset.into) {
      sendAction(id, "merge", { into: Number(origin.dataset.into) });
      return;
    }
    if (!applies(action, q)) return;
    if (DIALOG_ACTIONS.has(action)) {
      openActionDialog(id, action, origin);
      return;
    }
    const params = action === "star" ? { starred: !q.starred } : {};
    sendAction(id, action, params);
  }

  function moveInQueue(id, delta) {
    const index = queueOrder.indexOf(id);
    if (index < 0) return;
    const position = index + delta;
    if (position < 0 || position >= queueOrder.length) return;
    sendAction(id, "reorder", { position });
  }

  board.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button || button.disabled) return;
    const card = button.closest(".qcard");
    if (!card) return;
    perform(Number(card.dataset.id), button.dataset.action, button);
  });

  // ---- keyboard ----

  function visibleCards(lane) {
    return [...$("cards-" + lane).querySelectorAll(".qcard")];
  }

  function visibleLanes() {
    return LANES.filter((lane) => !$("lane-" + lane).hidden && visibleCards(lane).length);
  }

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || dialog.open || helpDialog.open) return;
    if (typingIn(event.target)) return;
    if (event.key === "?" && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      openHelp();
      return;
    }
    if (event.key === "/" && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      searchInput.focus();
      searchInput.select();
      return;
    }
    const card = event.target.closest ? event.target.closest(".qcard") : null;
    if (!card) return;
    const id = Number(card.dataset.id);
    const lane = card.parentElement.parentElement.dataset.lane;
    if (event.altKey && !event.ctrlKey && !event.metaKey && (event.key === "ArrowUp" || event.key === "ArrowDown")) {
      event.preventDefault();
      const q = questions.get(id);
      if (lane === "queued" && q && applies("reorder", q)) moveInQueue(id, event.key === "ArrowUp" ? -1 : 1);
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const inLane = visibleCards(lane);
    const at = inLane.indexOf(card);
    if (event.key === "ArrowDown" || event.key === "j") {
      event.preventDefault();
      if (inLane[at + 1]) inLane[at + 1].focus();
      return;
    }
    if (event.key === "ArrowUp" || event.key === "k") {
      event.preventDefault();
      if (inLane[at - 1]) inLane[at - 1].focus();
      return;
    }
    if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
      const lanes = visibleLanes();
      const here = lanes.indexOf(lane);
      const target = lanes[here + (event.key === "ArrowLeft" ? -1 : 1)];
      if (target) {
        event.preventDefault();
        const list = visibleCards(target);
        list[Math.min(Math.max(at, 0), list.length - 1)].focus();
      }
      return;
    }
    const action = KEYS[event.key.toLowerCase()];
    if (!action || event.shiftKey) return;
    event.preventDefault();
    if (!online) {
      showAlert(t("msg_offline"));
      return;
    }
    const button = card.querySelector(`.qc-actions button[data-action="${action}"]`);
    if (button && !button.disabled) perform(id, action, button);
  });

  // ---- drag and drop in the live queue ----

  const queueList = $("cards-queued");
  let dragId = null;

  function dropIndex(clientY) {
    const others = [...queueList.children].filter((li) => Number(li.firstChild.dataset.id) !== dragId);
    for (const li of others) {
      const box = li.getBoundingClientRect();
      if (clientY < box.top + box.height / 2) return { before: li, others };
    }
    return { before: null, others };
  }

  function clearDropMarks() {
    for (const li of queueList.querySelectorAll(".drop-before")) li.classList.remove("drop-before");
    queueList.classList.remove("drop-end");
  }

  queueList.addEventListener("dragstart", (event) => {
    const card = event.target.closest && event.target.closest(".qcard");
    if (!card || !card.draggable || !online) {
      event.preventDefault();
      return;
    }
    dragId = Number(card.dataset.id);
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", "#" + numberOf(dragId));
    card.classList.add("dragging");
  });

  queueList.addEventListener("dragover", (event) => {
    if (dragId === null) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    clearDropMarks();
    const { before } = dropIndex(event.clientY);
    if (before) before.classList.add("drop-before");
    else queueList.classList.add("drop-end");
  });

  queueList.addEventListener("dragleave", (event) => {
    if (!queueList.contains(event.relatedTarget)) clearDropMarks();
  });

  queueList.addEventListener("drop", (event) => {
    if (dragId === null) return;
    event.preventDefault();
    const { before, others } = dropIndex(event.clientY);
    const order = queueOrder.filter((id) => id !== dragId);
    let position;
    if (before) {
      position = order.indexOf(Number(before.firstChild.dataset.id));
    } else {
      const last = others[others.length - 1];
      position = last ? order.indexOf(Number(last.firstChild.dataset.id)) + 1 : 0;
    }
    const id = dragId;
    clearDropMarks();
    if (position >= 0 && position !== queueOrder.indexOf(id)) sendAction(id, "reorder", { position });
  });

  queueList.addEventListener("dragend", () => {
    clearDropMarks();
    for (const card of queueList.querySelectorAll(".dragging")) card.classList.remove("dragging");
    dragId = null;
  });

  // ---- dialogs ----

  let dialogSubmitHandler = null;
  let returnFocus = null;

  function field(labelText, control, hintText) {
    const wrap = el("div", "field");
    const label = el("label", "", labelText);
    label.htmlFor = control.id;
    wrap.append(label);
    if (hintText) {
      const hint = el("p", "hint", hintText);
      hint.id = control.id + "-hint";
      control.setAttribute("aria-describedby", hint.id);
      wrap.append(hint);
    }
    wrap.append(control);
    return wrap;
  }

  function openDialog({ title, build, submit, submitLabel = t("dlg_confirm"), danger = false, origin }) {
    dialogTitle.textContent = title;
    dialogBody.textContent = "";
    dialogError.textContent = "";
    dialogSubmit.hidden = false;
    dialogSubmit.disabled = !online;
    dialogSubmit.textContent = submitLabel;
    dialogSubmit.classList.toggle("danger", danger);
    dialogCancel.textContent = t("dlg_cancel");
    const focusTarget = build(dialogBody);
    dialogSubmitHandler = submit;
    returnFocus = origin || document.activeElement;
    dialog.showModal();
    if (focusTarget) focusTarget.focus();
  }

  function closeDialog() {
    if (dialog.open) dialog.close();
  }

  dialog.addEventListener("close", () => {
    dialogBody.textContent = ""; // an identity revealed in it does not stay in the page
    dialogError.textContent = "";
    dialogSubmitHandler = null;
    const back = returnFocus;
    returnFocus = null;
    if (advanceFocus()) return;
    const visible = (node) => node && node.isConnected && !node.disabled && node.getClientRects().length > 0;
    if (visible(back)) back.focus();
    else if (back && back.closest) {
      const card = back.closest(".qcard");
      if (visible(card)) card.focus();
    }
  });

  dialogCancel.addEventListener("click", closeDialog);

  dialogForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!dialogSubmitHandler || dialogSubmit.disabled) return;
    dialogError.textContent = "";
    dialogSubmit.disabled = true;
    try {
      const close = await dialogSubmitHandler();
      if (close) closeDialog();
    } finally {
      dialogSubmit.disabled = !online;
    }
  });

  function required(control) {
    const empty = !String(control.value || "").trim();
    control.setAttribute("aria-invalid", empty ? "true" : "false");
    if (empty) {
      dialogError.textContent = t("dlg_required");
      control.focus();
    }
    return !empty;
  }

  /** Runs an action from a dialog: closes on success; on failure keeps it open with the reason. */
  async function dialogAction(id, action, params) {
    const ack = await sendAction(id, action, params);
    if (ack && ack.ok) return true;
    if (ack && ack.error) {
      const error = ack.error;
      dialogError.textContent = error.code === "conflict"
        ? t("msg_conflict", { n: numberOf(id), m: error.message || "" }) : t("msg_error", { m: error.message || error.code });
    } else {
      dialogError.textContent = socket.connected ? t("msg_timeout") : t("msg_offline");
    }
    return false;
  }

  // responder: the follow-up on a card: its deadline (overdue or done), where it was sent on, the
  // answer submitted to the head or returned with the head's note, its files
  function followUp(card, q) {
    const parts = [];
    if (q.due_on) {
      const due = el("span", "qc-due", t("q_rsp_due", { d: dayDate(q.due_on) }));
      due.dataset.due = q.due_on;
      if (q.due_done_at) due.append(" · ", t("q_rsp_due_done", { d: dayDate(q.due_done_at) }));
      else if (vietnamToday() > q.due_on) {
        due.classList.add("overdue");
        due.append(" · ", el("strong", "", t("q_rsp_overdue")));
      }
      parts.push(due);
    }
    if (q.forwarded_to) parts.push(el("span", "qc-forwarded", t("q_rsp_forwarded", { u: q.forwarded_to })));
    if (q.answer_submitted_at && q.state === "prepared") {
      parts.push(el("span", "qc-submitted", t("q_rsp_submitted", { by: q.answer_by || "" })));
    }
    if (q.attachments) parts.push(el("span", "qc-files", t("q_rsp_files", { n: q.attachments })));
    if (parts.length) {
      const line = el("p", "qc-follow");
      parts.forEach((part, i) => line.append(...(i ? [" · ", part] : [part])));
      card.append(line);
    }
    if (q.answer_return_note && ["accepted", "routed"].includes(q.state)) {
      card.append(el("p", "qc-returned", t("q_rsp_returned", { r: q.answer_return_note })));
    }
  }

  function openActionDialog(id, action, origin) {
    const q = questions.get(id);
    const n = num(q);
    const originCard = origin && origin.closest ? origin.closest(".qcard") : null;
    const back = originCard || cards.get(id)?.firstChild;
    if (action === "decline") {
      openDialog({
        title: t("dlg_decline", { n }),
        danger: true,
        origin: back,
        build(body) {
          const set = el("fieldset", "reasons");
          set.append(el("legend", "", t("dlg_reason")));
          let first = null;
          for (const reason of REASONS) {
            const text = el("span", "reason-text");
            text.append(el("strong", "", t("rsn_" + reason)), el("span", "reason-hint", t("rsn_" + reason + "_hint")));
            const [label, input] = choice("radio", "reason", reason, "reason-" + reason, text);
            set.append(label);
            if (!first) first = input;
          }
          // the reason in words, for the asker's receipt page (required for will_not_answer)
          const noteLabel = el("label", "", t("dlg_note"));
          noteLabel.htmlFor = "dlg-note";
          const note = el("textarea");
          note.id = "dlg-note";
          note.rows = 3;
          note.maxLength = 2000;
          const hint = el("p", "hint", t("dlg_note_hint"));
          hint.id = "dlg-note-hint";
          note.setAttribute("aria-describedby", "dlg-note-hint");
          body.append(set, noteLabel, note, hint);
          return first;
        },
        submit() {
          const note = dialogForm.querySelector("#dlg-note").value.trim();
          const chosen = dialogForm.querySelector("input[name=reason]:checked");
          if (!chosen) {
            dialogError.textContent = t("dlg_required");
            dialogForm.querySelector("input[name=reason]").focus();
            return false;
          }
          return dialogAction(id, "decline", note ? { reason: chosen.value, note } : { reason: chosen.value });
        },
      });
    } else if (action === "edit" || action === "answer") {
      const isEdit = action === "edit";
      const area = el("textarea");
      area.id = "dlg-text";
      area.rows = isEdit ? 6 : 10;
      area.maxLength = isEdit ? 2000 : 20000;
      area.value = isEdit ? q.text || "" : q.answer || "";
      openDialog({
        title: t(isEdit ? "dlg_edit" : "dlg_answer", { n }),
        origin: back,
        build(body) {
          if (!isEdit) {
            const quoted = el("blockquote", "dialog-quote", q.text);
            body.append(quoted);
          }
          body.append(field(t(isEdit ? "dlg_edit_label" : "dlg_answer_label"), area, isEdit ? t("dlg_edit_hint") : null));
          if (isEdit && q.edited && q.original_text) {
            const original = el("div", "qc-original");
            original.append(el("p", "qc-label", t("q_original")), el("p", "qc-original-text", q.original_text));
            body.append(original);
          }
          return area;
        },
        submit() {
          if (!required(area)) return false;
          return dialogAction(id, action, isEdit ? { text: area.value.trim() } : { answer: area.value.trim() });
        },
      });
    } else if (action === "classify") {
      const select = el("select");
      select.id = "dlg-field";
      const none = el("option", "", t("dlg_no_field"));
      none.value = "";
      select.append(none);
      for (const f of session.fields || []) {
        const option = el("option", "", f);
        option.value = f;
        select.append(option);
      }
      select.value = q.field && (session.fields || []).includes(q.field) ? q.field : "";
      openDialog({
        title: t("dlg_classify", { n }),
        origin: back,
        build(body) {
          body.append(el("blockquote", "dialog-quote", q.text), field(t("dlg_field"), select));
          return select;
        },
        submit() {
          return dialogAction(id, "classify", { field: select.value || null });
        },
      });
    } else if (action === "route") {
      const input = el("input");
      input.id = "dlg-department";
      input.type = "text";
      input.autocomplete = "off";
      input.setAttribute("list", "departments");
      input.maxLength = 200;
      input.value = q.department || "";
      openDialog({
        title: t("dlg_route", { n }),
        origin: back,
        build(body) {
          body.append(el("blockquote", "dialog-quote", q.text),
            field(t("dlg_department"), input, t("dlg_department_hint")));
          return input;
        },
        submit() {
          if (!required(input)) return false;
          return dialogAction(id, "route", { department: input.value.trim() });
        },
      });
    } else if (action === "merge") {
      const select = el("select");
      select.id = "dlg-into";
      const similar = new Map((q.similar || []).map((s) => [s.id, s.score]));
      const targets = [...questions.values()].filter((o) => o.id !== id && laneOf(o))
        .sort((a, b) => (similar.get(b.id) || 0) - (similar.get(a.id) || 0) || num(a) - num(b));
      for (const o of targets) {
        const score = similar.get(o.id);
        let label = "#" + num(o) + " · " + excerpt(o.text);
        if (score) label += " (" + t("dlg_merge_similar", { p: Math.round(score * 100) }) + ")";
        const option = el("option", "", label);
        option.value = String(o.id);
        select.append(option);
      }
      openDialog({
        title: t("dlg_merge", { n }),
        origin: back,
        build(body) {
          body.append(el("blockquote", "dialog-quote", q.text));
          if (!targets.length) {
            body.append(el("p", "empty", t("dlg_merge_none")));
            dialogSubmit.hidden = true;
            return dialogCancel;
          }
          body.append(field(t("dlg_merge_label"), select, t("dlg_merge_hint")));
          return select;
        },
        submit() {
          return dialogAction(id, "merge", { into: Number(select.value) });
        },
      });
    } else if (action === "reveal") {
      openReveal(id, back);
    } else if (action === "return_answer") {
      // responder: the head returns a submitted answer to the department, with a note it will see
      const note = el("textarea");
      note.id = "dlg-return-note";
      note.rows = 4;
      note.maxLength = 2000;
      openDialog({
        title: t("dlg_rsp_return", { n }),
        origin: back,
        build(body) {
          body.append(el("blockquote", "dialog-quote", q.answer || ""), field(t("dlg_rsp_return_note"), note));
          return note;
        },
        submit() {
          if (!required(note)) return false;
          return dialogAction(id, "return_answer", { note: note.value.trim() });
        },
      });
    } else if (action === "forward") {
      const unit = el("input");
      unit.id = "dlg-unit";
      unit.type = "text";
      unit.autocomplete = "off";
      unit.maxLength = 200;
      openDialog({
        title: t("dlg_rsp_forward", { n }),
        origin: back,
        build(body) {
          body.append(el("blockquote", "dialog-quote", q.text), field(t("dlg_rsp_unit"), unit, t("dlg_rsp_unit_hint")));
          return unit;
        },
        submit() {
          if (!required(unit)) return false;
          return dialogAction(id, "forward", { unit: unit.value.trim() });
        },
      });
    } else if (action === "extend") {
      const day = el("input");
      day.id = "dlg-due";
      day.type = "date";
      if (q.due_on) {
        const next = new Date(q.due_on + "T00:00:00Z");
        next.setUTCDate(next.getUTCDate() + 1);
        day.min = next.toISOString().slice(0, 10);
        day.value = day.min;
      }
      const reason = el("textarea");
      reason.id = "dlg-extend-note";
      reason.rows = 3;
      reason.maxLength = 2000;
      openDialog({
        title: t("dlg_rsp_extend", { n }),
        origin: back,
        build(body) {
          body.append(el("blockquote", "dialog-quote", q.text),
            field(t("dlg_rsp_due", { d: dayDate(q.due_on) }), day), field(t("dlg_rsp_reason"), reason));
          return day;
        },
        submit() {
          if (!required(day) || !required(reason)) return false;
          return dialogAction(id, "extend", { due: day.value, note: reason.value.trim() });
        },
      });
    }
  }

  function openReveal(id, back) {
    const q = questions.get(id);
    const n = num(q);
    const reason = el("textarea");
    reason.id = "dlg-reveal-reason";
    reason.rows = 3;
    reason.maxLength = 500;
    openDialog({
      title: t("dlg_reveal", { n }),
      origin: back,
      build(body) {
        body.append(field(t("dlg_reveal_reason"), reason, t("dlg_reveal_hint")));
        return reason;
      },
      submit() {
        if (!required(reason)) return false;
        if (!socket.connected) {
          dialogError.textContent = t("msg_offline");
          return false;
        }
        return new Promise((resolve) => {
          socket.timeout(ACK_TIMEOUT_MS).emit("reveal", { question_id: id, reason: reason.value.trim() }, (err, ack) => {
            if (err || !ack) {
              dialogError.textContent = t("msg_timeout");
              resolve(false);
              return;
            }
            if (!ack.ok) {
              const error = ack.error || {};
              dialogError.textContent = t("msg_error", { m: error.message || error.code || "?" });
              resolve(false);
              return;
            }
            showIdentity(n, ack.identity || {});
            resolve(false); // stays open, now showing the identity
          });
        });
      },
    });
  }

  function showIdentity(n, identity) {
    dialogTitle.textContent = t("dlg_identity", { n });
    dialogBody.textContent = "";
    const list = el("dl", "identity");
    const rows = [
      ["id_kind", identity.kind === "organization" ? t("id_organization") : t("id_person")],
      ["id_name", identity.name], ["id_address", identity.address], ["id_phone", identity.phone],
    ];
    for (const [key, value] of rows) {
      list.append(el("dt", "", t(key)), el("dd", "", value || "—"));
    }
    dialogBody.append(list, el("p", "note", t("dlg_identity_note")));
    dialogSubmit.hidden = true;
    dialogCancel.textContent = t("dlg_close");
    dialogCancel.focus();
  }

  function openHelp() {
    if (dialog.open) return;
    helpDialog.showModal();
    $("help-close").focus();
  }

  $("help-open").addEventListener("click", openHelp);

  // The head's session controls: announce, approve the script, start, close, publish. Each asks for
  // confirmation.
  const SESSION_CONTROLS = [
    [announceButton, "announce", "dlg_announce", "dlg_announce_text", "session_announce", "msg_announced"],
    [scriptButton, "approve_script", "dlg_script", "dlg_script_text", "approve_script", "msg_script"],
    [startButton, "start", "dlg_start", "dlg_start_text", "session_start", "msg_started"],
    [closeButton, "close", "dlg_session_close", "dlg_session_close_text", "session_close", "msg_closed"],
    [publishButton, "publish", "dlg_publish", "dlg_publish_text", "session_publish", "msg_published"],
  ];
  for (const [button, action, title, text, label, done] of SESSION_CONTROLS) {
    if (!button) continue;
    button.addEventListener("click", () => {
      openDialog({
        title: t(title),
        origin: button,
        danger: action === "close",
        submitLabel: t(label),
        build(body) {
          body.append(el("p", "", t(text)));
          return dialogSubmit;
        },
        submit() {
          return new Promise((resolve) => {
            socket.timeout(ACK_TIMEOUT_MS).emit("session_action", { session_id: sessionId, action },
              (err, ack) => {
                if (err || !ack) {
                  dialogError.textContent = t("msg_timeout");
                  resolve(false);
                } else if (!ack.ok) {
                  const error = ack.error || {};
                  dialogError.textContent = t("msg_error", { m: error.message || error.code || "?" });
                  resolve(false);
                } else {
                  applySession(ack.session);
                  announce(t(done));
                  resolve(true);
                }
              });
          });
        },
      });
    });
  }

  // ---- the register (sổ ghi chép) ----
  // The masked copy is a plain link: it shows no more than the console does, so it needs no reason.
  // The copy with identities takes a stated reason and is fetched here, with the page's CSRF token
  // (the server asks for it), so that a refusal shows in the dialog; the server audits it before
  // sending it (docs/moderation.md, "The register").
  const registerButton = $("register-open");
  if (registerButton) registerButton.addEventListener("click", () => openRegister(registerButton));

  function openRegister(origin) {
    const base = origin.dataset.url;
    const reason = el("textarea");
    reason.id = "dlg-register-reason";
    reason.rows = 3;
    reason.maxLength = 300;
    openDialog({
      title: t("dlg_reg_title"),
      origin,
      submitLabel: t("dlg_reg_submit"),
      build(body) {
        const masked = el("section", "register-masked");
        const maskedTitle = el("h3", "", t("dlg_reg_masked"));
        maskedTitle.id = "register-masked-title";
        masked.setAttribute("aria-labelledby", maskedTitle.id);
        const links = el("ul", "register-links");
        let first = null;
        for (const fmt of ["xlsx", "csv"]) {
          const link = el("a", "", t("dlg_reg_masked_" + fmt));
          link.id = "register-masked-" + fmt;
          link.href = `${base}.${fmt}?identities=masked`;
          link.download = "";
          const item = el("li");
          item.append(link);
          links.append(item);
          if (!first) first = link;
        }
        masked.append(maskedTitle, links);

        const full = el("section", "register-full");
        const fullTitle = el("h3", "", t("dlg_reg_full"));
        fullTitle.id = "register-full-title";
        full.setAttribute("aria-labelledby", fullTitle.id);
        const formats = el("fieldset", "reasons");
        formats.append(el("legend", "", t("dlg_reg_format")));
        for (const [fmt, label] of [["xlsx", "XLSX (Excel)"], ["csv", "CSV"]]) {
          formats.append(choice("radio", "register-format", fmt, "register-format-" + fmt, label, fmt === "xlsx")[0]);
        }
        full.append(fullTitle, formats, field(t("dlg_reg_reason"), reason, t("dlg_reg_hint")));
        body.append(masked, full);
        return first;
      },
      submit() {
        if (!required(reason)) return false;
        const chosen = dialogForm.querySelector("input[name=register-format]:checked");
        return downloadRegister(`${base}.${chosen ? chosen.value : "xlsx"}`, reason.value.trim());
      },
    });
  }

  async function downloadRegister(url, reason) {
    const query = new URLSearchParams({ identities: "full", reason });
    let response;
    try {
      response = await fetch(`${url}?${query}`, { credentials: "same-origin", headers: { "X-CSRF-Token": csrfToken() } });
    } catch {
      dialogError.textContent = t("msg_offline");
      return false;
    }
    if (!response.ok) {
      let error = {};
      try {
        error = (await response.json()).error || {};
      } catch {
        // not JSON: the status says enough
      }
      dialogError.textContent = t("msg_error", { m: error.message || error.code || String(response.status) });
      if (error.field === "reason") $("dlg-register-reason").focus();
      return false;
    }
    const blob = await response.blob();
    const named = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
    const link = el("a");
    link.href = URL.createObjectURL(blob);
    link.download = named ? named[1] : url.split("/").pop();
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60000); // the download has its own copy by then
    announce(t("msg_reg_done"));
    return true;
  }

  render();
}

const root = document.getElementById("console");
if (root) start(root);
