// The console's feed chooser (docs/video.md): test pattern, the studio over WHIP, a pull URL, or no
// video. Reads and saves through /api/v1/staff/sessions/{id}/stream with the page's CSRF token; the
// media worker follows the saved choice at once.

import { csrfToken, loadText, translator } from "/static/js/staff.js";

const REFRESH_MS = 5000;
const form = document.getElementById("feed-form");
if (form) {
  const t = translator(loadText());
  const url = document.getElementById("feed-url");
  const status = document.getElementById("feed-status");
  const whip = document.getElementById("feed-whip");
  const api = `/api/v1/staff/sessions/${form.dataset.sessionId}/stream`;

  const show = (body) => {
    const feed = body.feed || "none";
    form.querySelector(`input[name="feed"][value="${feed}"]`).checked = true;
    url.value = body.url || "";
    sync();
    return body;
  };
  const sync = () => {
    const feed = form.elements.feed.value;
    url.disabled = feed !== "url";
    url.required = feed === "url";
    whip.hidden = feed !== "whip";
  };
  // the recorder's trouble (a nearly full disk, a failed or refused recording), said above the monitor
  const warning = document.getElementById("recording-warning");
  const showRecording = (recording) => {
    if (!warning) return;
    const bad = ["low_disk", "failed", "refused"].includes(recording.state);
    const text = bad ? t("feed_recording_" + recording.state, { message: recording.message || "—" }) : "";
    if (warning.textContent !== text) warning.textContent = text;
    warning.hidden = !bad;
  };
  // the studio's publisher (WHIP): why its publish did not go live, under the URL and token it used
  const publisherLine = document.createElement("dd");
  publisherLine.id = "feed-publisher";
  publisherLine.setAttribute("role", "status");
  whip.append(publisherLine);
  const showPublisher = (publisher) => {
    const state = ["none", "connecting", "connected", "ended", "failed", "refused"].includes(publisher.state)
      ? publisher.state : "none";
    const message = publisher.last_error || "—";
    let text = t("feed_publisher_" + state, { message });
    if (publisher.last_error && !["failed", "refused"].includes(state)) {
      const at = publisher.error_at ? new Date(publisher.error_at * 1000).toLocaleTimeString() : "—";
      text += " " + t("feed_publisher_last_error", { time: at, message });
    }
    if (publisherLine.textContent !== text) publisherLine.textContent = text;
    publisherLine.classList.toggle("alert", ["failed", "refused"].includes(state));
  };
  const stateText = (state) => t("feed_state_" + (["live", "slate"].includes(state) ? state : "off"));

  form.addEventListener("change", sync);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const feed = form.elements.feed.value;
    const response = await fetch(api, {
      method: "PUT",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
      body: JSON.stringify({ feed: feed === "none" ? null : feed, url: feed === "url" ? url.value : null }),
    }).catch(() => null);
    const body = response ? await response.json().catch(() => ({})) : {};
    if (response && response.ok) {
      show(body);
      status.textContent = t("feed_saved", { state: stateText(body.state) });
    } else {
      status.textContent = t("feed_failed", { message: (body.error && body.error.message) || "—" });
      if (body.error && body.error.field === "url") url.focus();
    }
  });

  // Someone else (another editor, the CLI) may change the feed, and the picture may drop: look
  // again every few seconds, without touching a choice this user has started to make.
  let dirty = false;
  form.addEventListener("input", () => (dirty = true));
  const refresh = () =>
    fetch(api, { headers: { Accept: "application/json" } })
      .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
      .then((body) => {
        if (!dirty) show(body);
        status.textContent = stateText(body.state);
        showRecording(body.recording || {});
        showPublisher(body.publisher || {});
        form.closest("details").hidden = false;
        return true;
      });
  refresh()
    .then(() => setInterval(() => refresh().catch(() => {}), REFRESH_MS))
    .catch(() => {}); // not allowed (a responder) or no store: the chooser stays hidden
  form.addEventListener("submit", () => (dirty = false));
}
