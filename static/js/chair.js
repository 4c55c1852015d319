// The chair's screen (/chair/{session}): the question on air with its prepared answer as notes, the
// next few in the live queue, the session's clock against its planned length, and one big control,
// "Xong, câu tiếp theo" (`done_next`), over the /chair Socket.IO namespace (docs/moderation.md).
// Cue questions never carry a phone or an address. Text goes in with textContent only.

import { io } from "/static/vendor/socket.io-client/socket.io.esm.min.js";
import { el, loadText, translator } from "/static/js/staff.js";

const t = translator(loadText());
const ACK_TIMEOUT_MS = 10000;
const NEXT_SHOWN = 3;
const LONG_TEXT = 280;

const $ = (id) => document.getElementById(id);

/** Minutes and seconds, minutes not wrapped at an hour: a 90-minute session reads 90:00. */
function mmss(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  return `${String(Math.floor(total / 60)).padStart(2, "0")}:${String(total % 60).padStart(2, "0")}`;
}

function parseTime(value) {
  if (typeof value === "number") return value < 1e12 ? value * 1000 : value;
  const parsed = Date.parse(value);
  return Number.isFinite(parsed) ? parsed : null;
}

function start(root) {
  const sessionId = Number(root.dataset.sessionId);
  const conn = $("chair-conn");
  const button = $("done-next");
  const message = $("chair-message");
  const announcer = $("chair-announce");
  let session = {
    id: sessionId,
    state: root.dataset.state,
    starts_at: root.dataset.startsAt,
    minutes: Number(root.dataset.minutes),
  };
  let cue = { now: null, next: [] };
  let clockOffset = 0; // server time minus this device's time
  let pending = false;
  let cooldownUntil = 0;
  let online = false;

  const socket = io("/chair", {
    withCredentials: true,
    transports: ["websocket"],
    auth: { lang: root.dataset.lang },
    reconnectionDelay: 1000,
    reconnectionDelayMax: 5000,
  });

  function setConn(state, text, link) {
    root.dataset.conn = state;
    conn.textContent = text;
    if (link) conn.append(" ", link);
  }

  function say(text, error = false) {
    message.textContent = text;
    message.classList.toggle("error", error);
  }

  socket.on("connect", () => {
    setConn("connecting", t("conn_connecting"));
    join();
  });

  socket.on("disconnect", (reason) => {
    online = false;
    root.dataset.live = "offline";
    setConn("offline", t("conn_offline"));
    updateButton();
    if (reason === "io server disconnect") setTimeout(() => socket.connect(), 1000 + Math.random() * 3000);
  });

  socket.on("connect_error", (err) => {
    const code = err && err.data && err.data.code;
    online = false;
    updateButton();
    if (code === "unauthorized" || code === "forbidden") {
      const link = el("a", "", t("conn_relogin"));
      link.href = "/login?next=" + encodeURIComponent(window.location.pathname);
      setConn("refused", t(code === "forbidden" ? "conn_forbidden" : "conn_unauthorized"), code === "unauthorized" ? link : null);
      root.dataset.live = "refused";
      return;
    }
    setConn("offline", t("conn_offline"));
    if (!socket.active) setTimeout(() => socket.connect(), 3000 + Math.random() * 2000);
  });

  function join() {
    socket.timeout(ACK_TIMEOUT_MS).emit("join", { session_id: sessionId }, (err, ack) => {
      if (err) {
        if (socket.connected) setTimeout(join, 2000);
        return;
      }
      if (!ack || !ack.ok) {
        const error = (ack && ack.error) || {};
        setConn("refused", t("msg_error", { m: error.message || error.code || "?" }));
        return;
      }
      const serverNow = parseTime(ack.server_time);
      if (serverNow !== null) clockOffset = serverNow - Date.now();
      if (ack.session) session = { ...session, ...ack.session };
      online = true;
      setConn("online", t("conn_online"));
      applyCue(ack.cue || {});
      root.dataset.live = "joined";
      tick();
    });
  }

  socket.on("cue", (data) => {
    if (!data || (data.session_id !== undefined && data.session_id !== sessionId)) return;
    applyCue(data);
  });

  socket.on("session", (data) => {
    const s = data && data.session && typeof data.session === "object" ? data.session : data;
    if (s && (s.id === undefined || s.id === sessionId)) {
      session = { ...session, ...s };
      tick();
    }
  });

  // ---- the cue ----

  function applyCue(data) {
    const before = cue.now ? cue.now.id : null;
    cue = { now: data.now || null, next: Array.isArray(data.next) ? data.next : [] };
    renderNow();
    renderNext();
    updateButton();
    const now = cue.now;
    if (now && now.id !== before) {
      announcer.textContent = t("chair_announce", { n: now.number ?? now.id, text: now.text });
    }
    tick();
  }

  function askerLine(q) {
    const line = document.createDocumentFragment();
    line.append(t("chair_asker") + ": ", el("strong", "", q.public_name || t("chair_anonymous")));
    if (q.field) line.append(" · " + q.field);
    const extra = [];
    if (q.interest_count) extra.push(t("chair_interest", { n: q.interest_count }));
    if (q.merged_count) extra.push(t("chair_merged", { n: q.merged_count }));
    if (extra.length) line.append(" · " + extra.join(" · "));
    return line;
  }

  function renderNow() {
    const q = cue.now;
    const section = $("now");
    const text = $("now-text");
    const meta = $("now-meta");
    const notes = $("now-notes");
    const answer = $("now-answer");
    section.dataset.questionId = q ? String(q.id) : "";
    $("now-num").textContent = q ? "#" + (q.number ?? q.id) : "";
    $("now-empty").hidden = Boolean(q);
    text.hidden = meta.hidden = notes.hidden = !q;
    if (!q) {
      text.textContent = meta.textContent = answer.textContent = "";
      return;
    }
    text.textContent = q.text || "";
    text.classList.toggle("long", (q.text || "").length > LONG_TEXT);
    meta.textContent = "";
    meta.append(askerLine(q));
    answer.textContent = q.answer || t("chair_no_notes");
    answer.classList.toggle("none", !q.answer);
  }

  function renderNext() {
    const list = $("next-list");
    list.textContent = "";
    for (const q of cue.next.slice(0, NEXT_SHOWN)) {
      const item = el("li");
      item.dataset.questionId = String(q.id);
      item.append(el("p", "chair-next-text", q.text || ""));
      const meta = el("p", "chair-next-meta");
      meta.append("#" + (q.number ?? q.id) + " · ", askerLine(q));
      item.append(meta);
      list.append(item);
    }
    $("next-empty").hidden = cue.next.length > 0;
  }

  function updateButton() {
    button.textContent = cue.next.length ? t("chair_done_next") : t("chair_done_last");
    if (pending) button.textContent = t("chair_sending");
    button.disabled = !online || !cue.now || pending || Date.now() < cooldownUntil;
  }

  button.addEventListener("click", () => {
    const now = cue.now;
    if (!now || pending || !online || Date.now() < cooldownUntil) return;
    pending = true;
    say("");
    updateButton();
    socket.timeout(ACK_TIMEOUT_MS).emit("done_next", { session_id: sessionId, question_id: now.id }, (err, ack) => {
      pending = false;
      // a short pause, so that a double tap does not also close the next question
      cooldownUntil = Date.now() + 1200;
      setTimeout(updateButton, 1300);
      if (err || !ack) {
        say(t("msg_timeout"), true);
      } else if (!ack.ok) {
        const error = ack.error || {};
        say(t("msg_error", { m: error.message || error.code || "?" }), true);
      } else if (ack.cue) {
        applyCue(ack.cue);
      }
      updateButton();
    });
  });

  // ---- clocks ----

  function tick() {
    const now = Date.now() + clockOffset;
    const planned = (Number(session.minutes) || 0) * 60000;
    const startedAt = parseTime(session.live_at || session.started_at || session.starts_at);
    const elapsed = startedAt === null ? 0 : Math.max(0, now - startedAt);
    $("clock-elapsed").textContent = mmss(elapsed);
    const rest = planned - elapsed;
    const remaining = $("clock-remaining");
    $("clock-remaining-label").textContent = rest >= 0 ? t("chair_remaining") : t("chair_over");
    remaining.textContent = mmss(Math.abs(rest));
    remaining.classList.toggle("over", rest < 0);
    const aired = cue.now ? parseTime(cue.now.aired_at) : null;
    $("clock-question").textContent = aired === null ? "–" : mmss(now - aired);
  }
  setInterval(tick, 1000);
  tick();
}

const root = document.getElementById("chair");
if (root) start(root);
