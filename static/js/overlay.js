// The broadcast overlay (/overlay/{session}): a lower third with the question on air and the asker's
// public name, sliding in when a question goes on air and out when it leaves. It uses only the
// public /viewer namespace (`join` ack `on_air`, event `on_air {session_id, question}`), so it needs
// no sign-in and sees nothing the public cannot. Text goes in with textContent only.

import { io } from "/static/vendor/socket.io-client/socket.io.esm.min.js";
import { loadText, translator } from "/static/js/staff.js";

const t = translator(loadText());
const ACK_TIMEOUT_MS = 10000;
const IN_MS = 640; // the CSS transitions (plus the label's delay)
const OUT_MS = 420;
const FIT_LEVELS = 5; // .fit-0 (48 px, 3 lines) … .fit-4 (33 px, 4 lines)

function start(root) {
  const sessionId = Number(root.dataset.sessionId);
  const text = document.getElementById("lt-text");
  const name = document.getElementById("lt-name");
  const field = document.getElementById("lt-field");
  let wanted = null; // the question that should be on screen (null: nothing)
  let shown = null; // the question on screen
  let animating = false;
  let fontsReady = false;

  const socket = io("/viewer", {
    transports: ["websocket"],
    auth: { lang: root.dataset.lang },
    reconnectionDelay: 1000,
    reconnectionDelayMax: 5000,
  });

  socket.on("connect", join);
  socket.on("disconnect", (reason) => {
    root.dataset.live = "offline"; // nothing is drawn about it: this picture is on air
    if (reason === "io server disconnect") setTimeout(() => socket.connect(), 1000 + Math.random() * 3000);
  });
  socket.on("connect_error", () => {
    if (!socket.active) setTimeout(() => socket.connect(), 3000 + Math.random() * 2000);
  });

  function join() {
    socket.timeout(ACK_TIMEOUT_MS).emit("join", { session_id: sessionId }, (err, ack) => {
      if (err) {
        if (socket.connected) setTimeout(join, 2000);
        return;
      }
      if (!ack || !ack.ok) return;
      root.dataset.live = "joined";
      show(ack.on_air || null);
    });
  }

  socket.on("on_air", (data) => {
    if (!data || (data.session_id !== undefined && data.session_id !== sessionId)) return;
    show(data.question || null);
  });

  function show(question) {
    wanted = question && typeof question === "object" && question.text ? question : null;
    step();
  }

  function fill(q) {
    text.textContent = q.text;
    name.textContent = q.public_name || t("overlay_anonymous");
    field.textContent = q.field || "";
    fit();
  }

  /** The largest size at which the whole question fits; at the smallest, four lines and an ellipsis. */
  function fit() {
    for (let level = 0; level < FIT_LEVELS; level += 1) {
      for (let other = 1; other < FIT_LEVELS; other += 1) text.classList.toggle("fit-" + other, other === level);
      if (text.scrollHeight <= text.clientHeight + 1) return level;
    }
    return FIT_LEVELS - 1;
  }

  function step() {
    if (animating || !fontsReady) return;
    if (shown && (!wanted || wanted.id !== shown.id)) {
      // out first, then the next one (if any) comes in
      animating = true;
      root.classList.remove("shown");
      root.dataset.shown = "";
      setTimeout(() => {
        animating = false;
        shown = null;
        step();
      }, OUT_MS);
      return;
    }
    if (shown && wanted) {
      if (wanted.text !== shown.text || wanted.public_name !== shown.public_name || wanted.field !== shown.field) {
        fill(wanted); // edited while on air: change in place
      }
      shown = wanted;
      return;
    }
    if (!shown && wanted) {
      shown = wanted;
      fill(wanted);
      void root.offsetWidth; // start the transition from the hidden state
      animating = true;
      root.classList.add("shown");
      root.dataset.shown = String(wanted.id);
      setTimeout(() => {
        animating = false;
        step();
      }, IN_MS);
    }
  }

  // measure only with the real font: Noto's metrics decide the line breaks
  const ready = document.fonts && document.fonts.load
    ? Promise.all([document.fonts.load('700 48px "Noto Sans Vi"', "Đ"), document.fonts.load('400 30px "Noto Sans Vi"', "Đ")])
    : Promise.resolve();
  ready.catch(() => undefined).then(() => {
    fontsReady = true;
    step();
  });
}

const root = document.getElementById("overlay");
if (root) start(root);
