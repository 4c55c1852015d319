// Helpers shared by the staff screens (console, chair, overlay), and the staff home's small layer.
// Every text that came from a user is put on the page with textContent: never as HTML.

const VIETNAM_OFFSET_MIN = 7 * 60; // times are shown in Vietnam time wherever the screen is

/** The page's strings: a JSON data block rendered by the server (a CSP forbids inline scripts). */
export function loadText(id = "staff-text") {
  const block = document.getElementById(id);
  try {
    return JSON.parse(block ? block.textContent : "{}");
  } catch {
    return {};
  }
}

export function translator(table) {
  return function t(key, params = {}) {
    const template = Object.prototype.hasOwnProperty.call(table, key) ? table[key] : key;
    return template.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
  };
}

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

/** One choice of a dialog's fieldset: a radio or checkbox inside its label, followed by `text`
 *  (a node or a string). Returns the label and the input. */
export function choice(type, name, value, id, text, checked = false) {
  const label = el("label", "radio reason");
  const input = el("input");
  input.type = type;
  input.name = name;
  input.value = value;
  input.id = id;
  input.checked = checked;
  label.append(input, typeof text === "string" ? el("span", "", " " + text) : text);
  return [label, input];
}

/** Case- and diacritic-insensitive form: "Đất đai" and "dat dai" fold to the same string. */
export function fold(text) {
  return String(text || "")
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[đĐ]/g, "d")
    .toLowerCase()
    .replace(/\s+/g, " ")
    .trim();
}

function vietnamParts(date) {
  const shifted = new Date(date.getTime() + VIETNAM_OFFSET_MIN * 60000);
  return {
    y: shifted.getUTCFullYear(),
    mo: shifted.getUTCMonth() + 1,
    d: shifted.getUTCDate(),
    h: shifted.getUTCHours(),
    mi: shifted.getUTCMinutes(),
  };
}

const pad = (n) => String(n).padStart(2, "0");

/** "09:05" today (Vietnam time), "09:05 03/12" on another day. */
export function clockTime(iso, now = new Date()) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const p = vietnamParts(date);
  const today = vietnamParts(now);
  const time = `${pad(p.h)}:${pad(p.mi)}`;
  return p.y === today.y && p.mo === today.mo && p.d === today.d ? time : `${time} ${pad(p.d)}/${pad(p.mo)}`;
}

export function dayDate(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const p = vietnamParts(date);
  return `${pad(p.d)}/${pad(p.mo)}/${p.y}`;
}

/** "09:05 15/12/2026" (Vietnam time), as the pages' `local` filter writes it. */
export function dateTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const p = vietnamParts(date);
  return `${pad(p.h)}:${pad(p.mi)} ${pad(p.d)}/${pad(p.mo)}/${p.y}`;
}

/** 754000 ms -> "12:34"; an hour or more -> "1:02:03". */
export function duration(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${pad(m)}:${pad(s)}`;
}

export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

/** True while the user types somewhere: single-key shortcuts must not fire then. */
export function typingIn(target) {
  if (!target || !(target instanceof Element)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag === "INPUT") {
    const type = (target.getAttribute("type") || "text").toLowerCase();
    return !["button", "submit", "reset", "checkbox", "radio"].includes(type);
  }
  return false;
}

// -- the staff home: mark the preparation deadlines that have passed ------------------------------

function markPastDeadlines() {
  const now = Date.now();
  for (const row of document.querySelectorAll("tr.deadline[data-due]")) {
    const due = Date.parse(row.dataset.due);
    const past = Number.isFinite(due) && due < now;
    row.classList.toggle("past", past);
    const label = row.querySelector(".deadline-past");
    if (label) label.hidden = !past;
  }
}

if (document.body && document.body.classList.contains("staff-home")) markPastDeadlines();
