// The staff recording page (server/recording_pages.py): the jobs' progress, polled from the API every 2 s.
const page = document.getElementById("rec-page");
const texts = JSON.parse(document.getElementById("rec-text").textContent);
const table = document.getElementById("rec-jobs");
const none = document.getElementById("rec-no-jobs");
const announce = document.getElementById("rec-announce");
const url = `/api/v1/staff/sessions/${page.dataset.sessionId}/recording`;
// what each job's state was: a screen reader hears a job change state, not every progress step
const states = new Map([...table.tBodies[0].rows].map((tr) => [tr.dataset.jobId, tr.dataset.state]));

function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 3600)}:${String(Math.floor(s / 60) % 60).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

function row(job) {
  const tr = document.createElement("tr");
  tr.className = "rec-job";
  tr.dataset.jobId = job.id;
  tr.dataset.state = job.state;
  const kind = document.createElement("td");
  kind.textContent = (texts[`rec_kind_${job.kind}`] || job.kind) + (job.profile ? ` (${job.profile})` : "");
  const state = document.createElement("td");
  state.className = "rec-job-state";
  state.textContent = (texts[`rec_state_${job.state}`] || job.state) + (job.state === "running" && job.step ? ` · ${job.step}` : "");
  if (job.message) {
    const why = document.createElement("span");
    why.className = "hint";
    why.textContent = job.message;
    state.append(document.createElement("br"), why);
  }
  const progress = document.createElement("td");
  const bar = document.createElement("progress");
  bar.max = 1;
  bar.value = job.progress;
  const pct = document.createElement("span");
  pct.className = "rec-job-pct";
  pct.textContent = ` ${Math.round(job.progress * 100)}%`;
  const eta = document.createElement("span");
  eta.className = "rec-job-eta";
  if (job.state === "running" && job.eta_seconds !== null) eta.textContent = ` ${texts.rec_eta.replace("{t}", clock(job.eta_seconds))}`;
  progress.append(bar, pct, eta);
  tr.append(kind, state, progress);
  return tr;
}

async function poll() {
  try {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (response.ok) {
      const status = await response.json();
      table.tBodies[0].replaceChildren(...status.jobs.map(row));
      const changed = status.jobs.filter((job) => states.get(String(job.id)) !== job.state);
      for (const job of status.jobs) states.set(String(job.id), job.state);
      if (changed.length) {
        announce.textContent = changed.map((job) => `${texts[`rec_kind_${job.kind}`] || job.kind}: ${texts[`rec_state_${job.state}`] || job.state}`).join(". ");
      }
      table.hidden = status.jobs.length === 0;
      none.hidden = status.jobs.length > 0;
    }
  } catch {
    // the next poll tries again
  }
  setTimeout(poll, 2000);
}
setTimeout(poll, 2000);
