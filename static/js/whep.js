// The low-latency picture (WHEP, docs/video.md) for the chair's confidence monitor and the
// moderator's preview. Non-trickle: the offer is sent once ICE gathering is complete, the answer
// carries all of the server's candidates. No ICE servers: the media worker is reachable directly.
//
//   whepPlay(video, url, token, {onState}) -> Promise<{stop()}>
//
// The promise settles after the first attempt, whether it connected or not; the returned object
// keeps reconnecting with back-off until stop() (or a 401/403, which another try cannot fix).
// onState(state) hears "connecting" | "live" | "retrying" | "off" (409: no stream) | "denied" | "stopped".
//
// Pages load this file as a module of its own: it mounts every element marked
// `data-whep-monitor` that carries `data-whep-url` and `data-watch-token` (see mountMonitor).

const GATHER_TIMEOUT_MS = 2000; // the server is on a host address: gathering takes milliseconds
const DISCONNECTED_GRACE_MS = 3000; // "disconnected" often heals by itself
const BACKOFF_MS = [1000, 2000, 4000, 8000, 15000];

/** Resolves when ICE gathering is complete (WHIP and WHEP here are not trickled), or after a timeout. */
export function waitForIceGathering(pc, timeoutMs = GATHER_TIMEOUT_MS) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener("icegatheringstatechange", check);
      resolve();
    };
    const check = () => {
      if (pc.iceGatheringState === "complete") done();
    };
    // with no ICE servers gathering ends quickly; a stuck gatherer must not stop the picture
    const timer = setTimeout(done, timeoutMs);
    pc.addEventListener("icegatheringstatechange", check);
  });
}

class WhepError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export async function whepPlay(video, url, token, { onState } = {}) {
  let pc = null;
  let resource = null; // absolute URL of this viewer's resource on the server
  let stopped = false;
  let attempt = 0;
  let retryTimer = null;
  let graceTimer = null;
  const report = (state) => {
    if (onState) {
      try {
        onState(state);
      } catch {
        // a page's callback must not stop the picture
      }
    }
  };

  video.muted = true;
  video.autoplay = true;
  video.playsInline = true;
  video.setAttribute("playsinline", "");

  function release() {
    clearTimeout(graceTimer);
    graceTimer = null;
    if (pc) {
      pc.onconnectionstatechange = null;
      pc.ontrack = null;
      pc.close();
      pc = null;
    }
    if (resource) {
      const gone = resource;
      resource = null;
      // keepalive: the DELETE still goes out while the page unloads
      fetch(gone, { method: "DELETE", keepalive: true }).catch(() => {});
    }
  }

  function scheduleRetry() {
    if (stopped) return;
    release();
    const base = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)];
    attempt += 1;
    report("retrying");
    clearTimeout(retryTimer);
    retryTimer = setTimeout(connect, base + Math.random() * 500);
  }

  async function connect() {
    if (stopped) return;
    report("connecting");
    const peer = new RTCPeerConnection({ iceServers: [] });
    pc = peer;
    peer.addTransceiver("video", { direction: "recvonly" });
    peer.addTransceiver("audio", { direction: "recvonly" });
    const stream = new MediaStream();
    peer.ontrack = (event) => {
      stream.addTrack(event.track);
      if (video.srcObject !== stream) video.srcObject = stream;
      video.play().catch(() => {}); // muted autoplay is allowed; nothing to do if it is not
    };
    peer.onconnectionstatechange = () => {
      if (pc !== peer || stopped) return;
      const state = peer.connectionState;
      if (state === "connected") {
        attempt = 0;
        clearTimeout(graceTimer);
        graceTimer = null;
        report("live");
      } else if (state === "failed") {
        scheduleRetry();
      } else if (state === "disconnected") {
        clearTimeout(graceTimer);
        graceTimer = setTimeout(() => {
          if (pc === peer && peer.connectionState !== "connected") scheduleRetry();
        }, DISCONNECTED_GRACE_MS);
      }
    };
    try {
      const offer = await peer.createOffer();
      await peer.setLocalDescription(offer);
      await waitForIceGathering(peer);
      if (pc !== peer) return;
      const response = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/sdp", Authorization: "Bearer " + token },
        body: peer.localDescription.sdp,
      });
      if (response.status !== 201) {
        throw new WhepError(response.status, "WHEP answered " + response.status);
      }
      const location = response.headers.get("Location");
      if (location) resource = new URL(location, new URL(url, document.baseURI)).href;
      const answer = await response.text();
      if (pc !== peer || stopped) {
        if (resource) release();
        return;
      }
      await peer.setRemoteDescription({ type: "answer", sdp: answer });
    } catch (error) {
      if (pc !== peer || stopped) return;
      if (error instanceof WhepError && (error.status === 401 || error.status === 403)) {
        release();
        report("denied");
        return;
      }
      if (error instanceof WhepError && error.status === 409) {
        attempt = BACKOFF_MS.length; // the stream is off: no point in asking often
        report("off");
        release();
        clearTimeout(retryTimer);
        retryTimer = setTimeout(connect, BACKOFF_MS[BACKOFF_MS.length - 1] + Math.random() * 500);
        return;
      }
      scheduleRetry();
    }
  }

  await connect();

  return {
    stop() {
      stopped = true;
      clearTimeout(retryTimer);
      release();
      video.srcObject = null;
      report("stopped");
    },
  };
}

// ---- the monitor on the chair's and the moderator's pages ----------------------------------------
//
// <div data-whep-monitor data-whep-url="/whep/7" data-watch-token="…" data-stream-url="/api/v1/sessions/7/stream"
//      data-text-connecting="…" data-text-live="…" data-text-retrying="…" data-text-off="…"
//      data-text-denied="…" data-text-stopped="…" data-text-unsupported="…">
//   <video muted playsinline></video>
//   <p data-whep-status role="status"></p>
// </div>
// With data-stream-url the monitor first asks whether there is a stream at all, and connects only
// while there is one (no failing WHEP requests while the programme is off). Inside a <details>,
// the picture plays only while the details are open (a closed preview costs no bandwidth) and the
// open/closed choice is remembered on this device.

const STATE_POLL_MS = 10000;

export function mountMonitor(root) {
  const url = root.dataset.whepUrl;
  const token = root.dataset.watchToken;
  const stateUrl = root.dataset.streamUrl;
  const video = root.querySelector("video");
  const status = root.querySelector("[data-whep-status]");
  if (!url || !token || !video) return null;
  const say = (state) => {
    root.dataset.whepState = state;
    const text = root.dataset["text" + state.charAt(0).toUpperCase() + state.slice(1)];
    if (status && text !== undefined) status.textContent = text;
  };
  if (typeof RTCPeerConnection !== "function") {
    say("unsupported");
    return null;
  }
  const details = root.closest("details");
  const visible = () => !details || details.open;
  let player = null;
  let starting = null;
  let pollTimer = null;

  const play = () => {
    if (player || starting) return;
    starting = whepPlay(video, url, token, { onState: say }).then((p) => {
      player = p;
      starting = null;
      if (!visible()) stop();
    });
  };
  const stop = (state = "stopped") => {
    if (player) {
      player.stop();
      player = null;
    }
    say(state);
  };

  // Is there a programme to watch? The public stream API says; without it, WHEP itself decides.
  const check = () => {
    clearTimeout(pollTimer);
    if (!visible()) return;
    if (!stateUrl) {
      play();
      return;
    }
    fetch(stateUrl, { headers: { Accept: "application/json" }, cache: "no-store" })
      .then((response) => (response.ok ? response.json() : null))
      .then((data) => {
        if (!visible()) return;
        const state = data && data.state;
        if (state === "off") {
          if (player || starting) {
            if (player) stop("off");
          } else {
            say("off");
          }
        } else {
          play(); // live, slate, or not known: try
        }
      })
      .catch(() => play())
      .finally(() => {
        if (visible()) pollTimer = setTimeout(check, STATE_POLL_MS + Math.random() * 2000);
      });
  };

  if (details) {
    const key = "doithoai.whep-open." + (details.id || "preview");
    try {
      const saved = window.localStorage.getItem(key);
      if (saved !== null) details.open = saved === "1";
    } catch {
      // private mode: the template's default stands
    }
    details.addEventListener("toggle", () => {
      try {
        window.localStorage.setItem(key, details.open ? "1" : "0");
      } catch {
        // nothing to remember it in
      }
      if (details.open) check();
      else {
        clearTimeout(pollTimer);
        stop();
      }
    });
    if (!details.open) say("stopped");
  }
  check();
  window.addEventListener("pagehide", () => {
    clearTimeout(pollTimer);
    stop();
  });
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) check(); // back from the back-forward cache
  });
  return { stop };
}

for (const node of document.querySelectorAll("[data-whep-monitor]")) mountMonitor(node);
