// The session page's video slot (docs/video.md): plays the live HLS (the multivariant playlist over
// the ladder, low-latency parts) with the browser's own HLS where there is one (Safari, iOS) and with
// hls.js in low-latency mode elsewhere (loaded only when needed).
//
//   const player = attachPlayer(slot, {hlsUrl, streamUrl, lang});   // preferNative: true/false forces a player
//   player.setState("off" | "live" | "slate");   // from the /viewer socket's stream_state
//
// - starts muted (browsers let only muted video autoplay) with a visible "Bật tiếng" button;
// - a "Trực tiếp" button appears when the viewer is more than BEHIND_S behind the live edge;
// - when the stream is off (state "off", or a 404 playlist) the placeholder shows and the player
//   tries again every few seconds; network and media errors are recovered without a reload.
//
// The slot holds (session.html): <video>, .video-overlay with .video-placeholder and
// [data-player-status], #video-unmute and #video-live buttons; the words are data-text-* on the slot.

const HLS_MODULE = "/static/vendor/hls.js/hls.light.min.mjs";
const BEHIND_S = 6; // show "Trực tiếp" past this many seconds behind the live edge
const RETRY_MS = 4000; // playlist missing or broken: try again after this (plus jitter)
const OFF_POLL_MS = 20000; // stream off and no socket news: ask the API this often (plus jitter)
const STALL_MS = 12000; // no progress for this long while meant to play: start over

let hlsModule = null;

function loadHls() {
  if (!hlsModule) {
    hlsModule = import(HLS_MODULE).then((m) => m.default).catch((error) => {
      hlsModule = null;
      throw error;
    });
  }
  return hlsModule;
}

function jitter(ms) {
  return ms + Math.random() * ms * 0.5;
}

export function attachPlayer(slot, { hlsUrl, streamUrl, lang, preferNative } = {}) {
  hlsUrl = hlsUrl || slot.dataset.hlsUrl;
  streamUrl = streamUrl || slot.dataset.streamUrl;
  const video = slot.querySelector("video");
  const overlay = slot.querySelector(".video-overlay");
  const status = slot.querySelector("[data-player-status]");
  const unmute = slot.querySelector("#video-unmute");
  const goLive = slot.querySelector("#video-live");
  const text = (key) => slot.dataset["text" + key.charAt(0).toUpperCase() + key.slice(1)] || "";
  if (lang) slot.dataset.lang = lang;

  // The browser's own HLS on Safari and iOS (every iOS browser is WebKit), and wherever there is no
  // Media Source Extensions for hls.js. Chrome now also answers "maybe" for HLS, but its own player
  // keeps no live seekable range (no "Trực tiếp" button) and no latency control: hls.js there.
  const canNative = !!video && video.canPlayType("application/vnd.apple.mpegurl") !== "";
  const hasMse = typeof window.MediaSource === "function" || typeof window.ManagedMediaSource === "function";
  const native = typeof preferNative === "boolean" ? preferNative && canNative
    : canNative && (!hasMse || /Apple/.test(navigator.vendor || ""));
  let serverState = null; // what the server last said: null (not known yet), "off", "live", "slate"
  let hls = null;
  let playing = false; // frames have been shown since the last (re)start
  let wanted = false; // the player should be playing the playlist now
  let retryTimer = null;
  let pollTimer = null;
  let stallTimer = null;
  let lastMediaErrorAt = 0;
  let generation = 0; // bumps on every start/stop: late callbacks of an old attempt do nothing

  if (!video) return { setState() {}, destroy() {} };

  video.muted = true;
  video.autoplay = true;
  video.playsInline = true;

  function show(phase, message) {
    // phase: "off" (placeholder), "loading", "reconnecting", "playing", "unsupported"
    slot.dataset.player = phase;
    overlay.hidden = phase === "playing";
    video.hidden = phase === "off" || phase === "unsupported";
    if (status) status.textContent = message || "";
    updateButtons();
  }

  // seconds between what the viewer sees and the newest picture in the playlist
  function behindSeconds() {
    if (!playing) return 0;
    if (hls) return Number.isFinite(hls.latency) ? Math.max(0, hls.latency) : 0; // hls.js keeps no seekable range
    if (video.seekable.length === 0) return 0;
    const edge = video.seekable.end(video.seekable.length - 1);
    return Math.max(0, edge - video.currentTime);
  }

  function liveTarget() {
    if (hls) return Number.isFinite(hls.liveSyncPosition) ? hls.liveSyncPosition : null;
    if (video.seekable.length === 0) return null;
    const edge = video.seekable.end(video.seekable.length - 1);
    return Math.max(video.seekable.start(video.seekable.length - 1), edge - 3);
  }

  // A button that goes while it has the keyboard focus (pressed, or the viewer caught up) hands the
  // focus to the video: hidden, it would leave the focus on nothing (the page itself).
  function showButton(button, shown) {
    if (!shown && document.activeElement === button && !video.hidden) video.focus({ preventScroll: true });
    button.hidden = !shown;
  }

  function updateButtons() {
    const live = slot.dataset.player === "playing";
    if (unmute) showButton(unmute, live && (video.muted || video.volume === 0));
    if (goLive) {
      const behind = live ? behindSeconds() : 0;
      showButton(goLive, behind > BEHIND_S);
      if (!goLive.hidden) goLive.title = text("behind").replace("{n}", String(Math.round(behind)));
    }
  }

  // ---- starting and stopping ----

  function clearTimers() {
    clearTimeout(retryTimer);
    clearTimeout(stallTimer);
    retryTimer = stallTimer = null;
  }

  function teardown() {
    generation += 1;
    clearTimers();
    playing = false;
    if (hls) {
      hls.destroy();
      hls = null;
    }
    if (native && video.getAttribute("src")) {
      video.removeAttribute("src");
      video.load();
    }
  }

  function stop() {
    wanted = false;
    teardown();
    show("off", text("waiting"));
  }

  function retryLater(ms = RETRY_MS) {
    if (!wanted) return;
    const hadPicture = playing || slot.dataset.player === "reconnecting";
    teardown();
    if (hadPicture) show("reconnecting", text("reconnecting"));
    else show("off", serverState === "live" || serverState === "slate" ? text("starting") : text("waiting"));
    const mine = generation;
    retryTimer = setTimeout(() => {
      if (mine === generation && wanted) begin(true);
    }, jitter(ms));
  }

  function watchStall() {
    clearTimeout(stallTimer);
    const mine = generation;
    let last = video.currentTime;
    const check = () => {
      if (mine !== generation || !wanted) return;
      if (!video.paused && video.currentTime === last) {
        retryLater(500); // stuck: a fresh start finds the live edge again
        return;
      }
      last = video.currentTime;
      stallTimer = setTimeout(check, STALL_MS);
    };
    stallTimer = setTimeout(check, STALL_MS);
  }

  function begin(retry = false) {
    teardown();
    wanted = true;
    const mine = generation;
    if (!retry) show("loading", text("loading")); // a retry keeps the placeholder or the notice up
    if (native) {
      video.src = hlsUrl;
      video.play().catch(() => {});
      watchStall();
      return;
    }
    loadHls()
      .then((Hls) => {
        if (mine !== generation || !wanted) return;
        if (!Hls.isSupported()) {
          wanted = false;
          show("unsupported", text("unsupported"));
          return;
        }
        hls = new Hls({
          enableWorker: false, // its worker starts from a blob: URL, which the page's CSP forbids
          // LL-HLS: parts of ~200 ms and blocking playlist reloads (_HLS_msn/_HLS_part). No
          // liveSyncDuration(Count) here: set, it would override the playlist's PART-HOLD-BACK, which
          // is how far behind the edge the server says a player can safely sit (without parts, hls.js
          // falls back to 3 target durations). Which rendition of the ladder: hls.js's ABR decides.
          lowLatencyMode: true,
          // no liveMaxLatencyDurationCount: falling behind (a pause) is the viewer's choice; the
          // "Trực tiếp" button offers the jump. A little late after a stall: catch up at 1.1×.
          maxLiveSyncPlaybackRate: 1.1,
          backBufferLength: 30,
          maxBufferLength: 10,
          manifestLoadPolicy: {
            default: {
              maxTimeToFirstByteMs: 8000,
              maxLoadTimeMs: 10000,
              timeoutRetry: { maxNumRetry: 1, retryDelayMs: 0, maxRetryDelayMs: 0 },
              errorRetry: { maxNumRetry: 0, retryDelayMs: 1000, maxRetryDelayMs: 4000 },
            },
          },
        });
        hls.on(Hls.Events.ERROR, (event, data) => {
          if (mine !== generation) return;
          // for diagnostics (and the browser tests): which error, and was it fatal
          slot.dispatchEvent(new CustomEvent("player-error", { detail: { details: data.details, fatal: !!data.fatal } }));
          if (!data.fatal) return;
          if (data.type === Hls.ErrorTypes.MEDIA_ERROR) {
            const now = Date.now();
            if (now - lastMediaErrorAt > 5000) {
              lastMediaErrorAt = now;
              hls.recoverMediaError();
            } else {
              retryLater(1000); // twice in a row: start over
            }
            return;
          }
          if (data.type === Hls.ErrorTypes.NETWORK_ERROR && playing && data.details !== Hls.ErrorDetails.MANIFEST_LOAD_ERROR) {
            // segments or the playlist refresh failed mid-stream: resume loading where we are
            show("reconnecting", text("reconnecting"));
            const live = hls;
            retryTimer = setTimeout(() => {
              if (mine === generation && live === hls) live.startLoad();
            }, jitter(2000));
            return;
          }
          retryLater(); // no playlist (404: not broadcasting yet) or anything else fatal
        });
        hls.on(Hls.Events.FRAG_BUFFERED, () => {
          if (mine === generation && slot.dataset.player === "reconnecting" && playing) show("playing");
        });
        hls.loadSource(hlsUrl);
        hls.attachMedia(video);
        video.play().catch(() => {});
        watchStall();
      })
      .catch(() => {
        if (mine === generation) retryLater(); // the hls.js file did not load: try again
      });
  }

  // ---- the video element ----

  video.addEventListener("playing", () => {
    if (!wanted) return;
    playing = true;
    show("playing");
  });
  setInterval(updateButtons, 1000); // also while paused, when no timeupdate comes
  video.addEventListener("volumechange", updateButtons);
  video.addEventListener("pause", updateButtons);
  video.addEventListener("error", () => {
    if (native && wanted) retryLater(); // Safari: the playlist is missing or broke
  });
  video.addEventListener("loadedmetadata", () => {
    if (native && wanted) video.play().catch(() => {});
  });

  if (unmute) {
    unmute.addEventListener("click", () => {
      video.muted = false;
      if (video.volume === 0) video.volume = 1;
      video.play().catch(() => {});
      updateButtons(); // the button goes, the focus stays in the player
    });
  }
  if (goLive) {
    goLive.addEventListener("click", () => {
      const target = liveTarget();
      if (target === null) return;
      video.currentTime = target;
      video.play().catch(() => {});
      updateButtons();
    });
  }

  // ---- what the server says ----

  function setState(state) {
    if (state !== "off" && state !== "live" && state !== "slate") return;
    const was = serverState;
    serverState = state;
    if (state === "off") {
      clearTimeout(pollTimer);
      pollTimer = setTimeout(poll, jitter(OFF_POLL_MS));
      if (wanted || was === null) stop();
      return;
    }
    clearTimeout(pollTimer);
    // live or the slate: both are a picture. Start unless already playing or about to.
    if (!wanted) begin();
    else if (!playing && slot.dataset.player === "off") begin(); // news: try now, not at the timer
  }

  function poll() {
    clearTimeout(pollTimer);
    if (!streamUrl) return;
    fetch(streamUrl, { headers: { Accept: "application/json" }, cache: "no-store" })
      .then((response) => (response.ok ? response.json() : Promise.reject(new Error(String(response.status)))))
      .then((data) => setState(data && data.state))
      .catch(() => {
        // the API is not there (yet): try the playlist itself; a 404 shows the placeholder
        if (serverState === null && !wanted) begin();
        else if (serverState === "off") pollTimer = setTimeout(poll, jitter(OFF_POLL_MS));
      });
  }

  show("off", text("waiting"));
  poll();

  return {
    setState,
    /** Seconds behind the live edge now (0 when not playing). */
    behind: behindSeconds,
    destroy() {
      clearTimeout(pollTimer);
      stop();
    },
  };
}
