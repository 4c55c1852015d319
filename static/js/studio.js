// The studio page (/studio/{session}, docs/video.md): publishes this computer's camera and
// microphone to the session over WHIP, and shows the WHIP address and token for OBS.
//
//   - camera and microphone pickers (filled after the permission, when the devices have names),
//     a local preview and a microphone level meter (WebAudio AnalyserNode);
//   - "Phát": POST the SDP offer (non-trickle: after ICE gathering is complete) with the publish token
//     as a Bearer token, H.264 preferred for the video; "Dừng" and leaving the page DELETE the resource;
//   - a dropped connection is retried with back-off while the user has not pressed "Dừng".

import { loadText, translator } from "/static/js/staff.js";
import { waitForIceGathering } from "/static/js/whep.js";

const t = translator(loadText("studio-text"));
const $ = (id) => document.getElementById(id);

const RESOLUTIONS = { 720: [1280, 720], 540: [960, 540], 360: [640, 360] };
const MAX_BITRATE = { 720: 2500000, 540: 1500000, 360: 800000 };
const GATHER_TIMEOUT_MS = 3000;
const DISCONNECTED_GRACE_MS = 3000;
const BACKOFF_MS = [1000, 2000, 4000, 8000, 15000];
const CLIP_DB = -1; // a peak above this is clipping
const SILENT_DB = -60; // the meter's floor

/** Put the H.264 codecs first (constrained baseline 42e01f, packetization-mode 1 first of all). */
export function preferH264(transceiver) {
  if (typeof transceiver.setCodecPreferences !== "function") return false;
  for (const source of [window.RTCRtpReceiver, window.RTCRtpSender]) {
    const caps = source && typeof source.getCapabilities === "function" ? source.getCapabilities("video") : null;
    if (!caps || !caps.codecs) continue;
    const rank = (codec) => {
      if (codec.mimeType.toLowerCase() !== "video/h264") return 9;
      const fmtp = (codec.sdpFmtpLine || "").toLowerCase();
      const baseline = fmtp.includes("profile-level-id=42e01f");
      const mode1 = fmtp.includes("packetization-mode=1");
      return baseline && mode1 ? 0 : mode1 ? 1 : 2;
    };
    const sorted = [...caps.codecs].sort((a, b) => rank(a) - rank(b));
    if (rank(sorted[0]) === 9) return false; // no H.264 in this browser: leave its choice
    try {
      transceiver.setCodecPreferences(sorted);
      return true;
    } catch {
      // older browsers check against the other side's capabilities: try those
    }
  }
  return false;
}

class WhipError extends Error {
  constructor(status) {
    super("WHIP answered " + status);
    this.status = status;
  }
}

function start(root) {
  const whipUrl = root.dataset.whipUrl ? new URL(root.dataset.whipUrl, location.href).href : "";
  const token = root.dataset.publishToken || "";
  const preview = $("studio-preview");
  const previewEmpty = $("studio-preview-empty");
  const onAir = $("studio-onair");
  const enableButton = $("studio-enable");
  const cameraSelect = $("studio-camera");
  const micSelect = $("studio-mic");
  const resolutionSelect = $("studio-resolution");
  const publishButton = $("studio-publish");
  const stopButton = $("studio-stop");
  const stateLine = $("studio-state");
  const errorLine = $("studio-error");
  const meter = $("studio-level");
  const meterText = $("studio-level-text");

  let media = null; // the MediaStream from the camera and microphone
  let pc = null;
  let resource = null; // the WHIP resource (absolute URL) while publishing
  let wantLive = false; // the user pressed "Phát" and not "Dừng"
  let attempt = 0;
  let retryTimer = null;
  let graceTimer = null;
  let audio = null; // {context, analyser, source, buffer}
  let opening = null;

  // ---- state and messages ----

  function setState(state, params) {
    root.dataset.state = state;
    stateLine.textContent = t("studio_state_" + state, params);
    const live = state === "live";
    onAir.hidden = !live;
    publishButton.disabled = !media || wantLive || !whipUrl;
    stopButton.disabled = !wantLive;
  }

  function showError(text) {
    errorLine.textContent = text || "";
  }

  // ---- devices ----

  function constraints() {
    const [width, height] = RESOLUTIONS[resolutionSelect.value] || RESOLUTIONS[720];
    const video = cameraSelect.value ? { deviceId: { exact: cameraSelect.value } } : {};
    const audioC = micSelect.value ? { deviceId: { exact: micSelect.value } } : {};
    return {
      video: { ...video, width: { ideal: width }, height: { ideal: height }, frameRate: { ideal: 25, max: 30 } },
      audio: { ...audioC, echoCancellation: true, noiseSuppression: true, autoGainControl: true,
               sampleRate: { ideal: 48000 }, channelCount: { ideal: 2 } },
    };
  }

  async function fillDevices() {
    const devices = await navigator.mediaDevices.enumerateDevices();
    const fill = (select, kind, none) => {
      const current = media && media.getTracks().find((tr) => tr.kind === (kind === "videoinput" ? "video" : "audio"));
      const currentId = current && current.getSettings ? current.getSettings().deviceId : select.value;
      const list = devices.filter((d) => d.kind === kind && d.deviceId);
      select.textContent = "";
      if (!list.length) {
        select.append(new Option(none, ""));
        select.disabled = true;
        return;
      }
      list.forEach((d, i) => select.append(new Option(d.label || t("studio_device_n", { n: i + 1 }), d.deviceId)));
      if (currentId && list.some((d) => d.deviceId === currentId)) select.value = currentId;
      select.disabled = false;
    };
    fill(cameraSelect, "videoinput", t("studio_no_camera"));
    fill(micSelect, "audioinput", t("studio_no_mic"));
  }

  async function openDevices() {
    if (opening) return opening;
    opening = (async () => {
      showError("");
      if (!window.isSecureContext || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
        showError(t("studio_err_insecure"));
        return;
      }
      setState("devices");
      let fresh;
      try {
        fresh = await navigator.mediaDevices.getUserMedia(constraints());
      } catch (error) {
        const denied = error && (error.name === "NotAllowedError" || error.name === "SecurityError");
        showError(denied ? t("studio_err_permission") : t("studio_err_device", { n: error ? error.name || error.message : "?" }));
        setState(media ? root.dataset.state : "idle"); // a failed switch keeps the devices already open
        return;
      }
      const old = media;
      media = fresh;
      preview.srcObject = media;
      preview.play().catch(() => {});
      previewEmpty.hidden = true;
      enableButton.hidden = true;
      startMeter(media);
      await replaceSending();
      if (old) for (const track of old.getTracks()) track.stop();
      await fillDevices();
      if (!wantLive) setState(root.dataset.state === "stopped" ? "stopped" : "ready");
      else setState(root.dataset.state);
    })().finally(() => {
      opening = null;
    });
    return opening;
  }

  /** While publishing, a new camera or microphone replaces the old one without renegotiating. */
  async function replaceSending() {
    if (!pc) return;
    for (const sender of pc.getSenders()) {
      const kind = sender.track ? sender.track.kind : null;
      const track = media.getTracks().find((tr) => tr.kind === kind);
      if (track) await sender.replaceTrack(track).catch(() => {});
    }
    applyBitrate();
  }

  for (const select of [cameraSelect, micSelect, resolutionSelect]) {
    select.addEventListener("change", () => {
      if (media) openDevices();
    });
  }
  enableButton.addEventListener("click", () => openDevices());
  if (navigator.mediaDevices && navigator.mediaDevices.addEventListener) {
    navigator.mediaDevices.addEventListener("devicechange", () => {
      if (media) fillDevices().catch(() => {});
    });
  }

  // ---- the level meter ----

  function startMeter(stream) {
    const track = stream.getAudioTracks()[0];
    if (!track) {
      meter.value = 0;
      meterText.textContent = t("studio_level_silent");
      return;
    }
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    if (!audio) {
      const context = new Context();
      const analyser = context.createAnalyser();
      analyser.fftSize = 2048;
      audio = { context, analyser, source: null, buffer: new Float32Array(analyser.fftSize) };
      requestAnimationFrame(drawMeter);
      setInterval(speakMeter, 250);
    }
    if (audio.source) audio.source.disconnect();
    audio.source = audio.context.createMediaStreamSource(new MediaStream([track]));
    audio.source.connect(audio.analyser); // not to the speakers: no feedback
    if (audio.context.state === "suspended") audio.context.resume().catch(() => {});
  }

  let levelDb = -Infinity;
  let peakDb = -Infinity;
  let peakHoldUntil = 0;

  function drawMeter() {
    requestAnimationFrame(drawMeter);
    if (!audio) return;
    audio.analyser.getFloatTimeDomainData(audio.buffer);
    let sum = 0;
    let peak = 0;
    for (const sample of audio.buffer) {
      sum += sample * sample;
      peak = Math.max(peak, Math.abs(sample));
    }
    const rms = Math.sqrt(sum / audio.buffer.length);
    const db = rms > 0 ? 20 * Math.log10(rms) : -Infinity;
    levelDb = Math.max(db, levelDb - 1.5); // falls gently, rises at once
    const p = peak > 0 ? 20 * Math.log10(peak) : -Infinity;
    const now = performance.now();
    if (p >= peakDb || now > peakHoldUntil) {
      peakDb = p;
      peakHoldUntil = now + 1500;
    }
    meter.value = Math.max(0, Math.min(100, ((Math.max(levelDb, SILENT_DB) - SILENT_DB) / -SILENT_DB) * 100));
  }

  function speakMeter() {
    // the words under the meter: 4 times a second is plenty (the meter itself is not a live region)
    let text;
    if (!(levelDb > SILENT_DB)) text = t("studio_level_silent");
    else if (peakDb > CLIP_DB) text = t("studio_level_clip", { n: Math.round(peakDb) });
    else text = t("studio_level_db", { n: Math.round(levelDb) });
    if (meterText.textContent !== text) meterText.textContent = text;
    root.dataset.level = peakDb > CLIP_DB ? "clip" : levelDb > SILENT_DB ? "signal" : "silent";
  }

  // ---- WHIP ----

  function applyBitrate() {
    if (!pc) return;
    const max = MAX_BITRATE[resolutionSelect.value] || MAX_BITRATE[720];
    for (const sender of pc.getSenders()) {
      if (!sender.track || sender.track.kind !== "video") continue;
      const params = sender.getParameters();
      if (!params.encodings || !params.encodings.length) params.encodings = [{}];
      params.encodings[0].maxBitrate = max;
      params.degradationPreference = "maintain-framerate";
      sender.setParameters(params).catch(() => {});
    }
  }

  function release() {
    clearTimeout(graceTimer);
    graceTimer = null;
    if (pc) {
      pc.onconnectionstatechange = null;
      pc.close();
      pc = null;
    }
    if (resource) {
      const gone = resource;
      resource = null;
      fetch(gone, { method: "DELETE", headers: { Authorization: "Bearer " + token }, keepalive: true }).catch(() => {});
    }
  }

  function retry() {
    if (!wantLive) return;
    release();
    const wait = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)] + Math.random() * 500;
    attempt += 1;
    setState("retrying");
    clearTimeout(retryTimer);
    retryTimer = setTimeout(publish, wait);
  }

  async function publish() {
    if (!wantLive || !media) return;
    setState("connecting");
    showError("");
    const peer = new RTCPeerConnection({ iceServers: [] });
    pc = peer;
    const video = media.getVideoTracks()[0];
    const sound = media.getAudioTracks()[0];
    if (video) {
      if ("contentHint" in video) video.contentHint = "motion";
      preferH264(peer.addTransceiver(video, { direction: "sendonly", streams: [media] }));
    }
    if (sound) peer.addTransceiver(sound, { direction: "sendonly", streams: [media] });
    peer.onconnectionstatechange = () => {
      if (pc !== peer) return;
      const state = peer.connectionState;
      if (state === "connected") {
        attempt = 0;
        clearTimeout(graceTimer);
        applyBitrate();
        setState("live");
      } else if (state === "failed") {
        retry();
      } else if (state === "disconnected") {
        clearTimeout(graceTimer);
        graceTimer = setTimeout(() => {
          if (pc === peer && peer.connectionState !== "connected") retry();
        }, DISCONNECTED_GRACE_MS);
      }
    };
    try {
      await peer.setLocalDescription(await peer.createOffer());
      await waitForIceGathering(peer, GATHER_TIMEOUT_MS);
      if (pc !== peer) return;
      const response = await fetch(whipUrl, {
        method: "POST",
        headers: { "Content-Type": "application/sdp", Authorization: "Bearer " + token },
        body: peer.localDescription.sdp,
      });
      if (response.status !== 201) throw new WhipError(response.status);
      const location = response.headers.get("Location");
      if (location) resource = new URL(location, whipUrl).href;
      const answer = await response.text();
      if (pc !== peer) {
        release();
        return;
      }
      await peer.setRemoteDescription({ type: "answer", sdp: answer });
    } catch (error) {
      if (pc !== peer) return;
      const status = error instanceof WhipError ? error.status : 0;
      if (status === 401 || status === 403 || status === 409) {
        // another try cannot fix a refused token, nor a session that already has a source
        wantLive = false;
        release();
        setState(status === 409 ? "busy" : "denied");
        return;
      }
      if (status) showError(t("studio_state_error", { n: status }));
      retry();
    }
  }

  publishButton.addEventListener("click", () => {
    if (!media || wantLive) return;
    wantLive = true;
    attempt = 0;
    publish();
  });

  stopButton.addEventListener("click", () => {
    wantLive = false;
    clearTimeout(retryTimer);
    release();
    setState("stopped");
    publishButton.focus();
  });

  window.addEventListener("beforeunload", (event) => {
    if (!wantLive) return;
    event.preventDefault();
    event.returnValue = t("studio_leave_warning"); // older browsers want a value
  });
  window.addEventListener("pagehide", () => {
    wantLive = false;
    clearTimeout(retryTimer);
    release(); // keepalive DELETE: the outputs go to the slate at once
  });

  // ---- OBS: the address and the token ----

  const copyStatus = $("studio-copy-status");
  const urlInput = $("studio-obs-url");
  if (urlInput && whipUrl) urlInput.value = whipUrl; // OBS needs the full address
  for (const button of document.querySelectorAll("[data-copy]")) {
    button.addEventListener("click", async () => {
      const input = $(button.dataset.copy);
      if (!input) return;
      let ok = false;
      try {
        await navigator.clipboard.writeText(input.value);
        ok = true;
      } catch {
        // no clipboard API (plain http): select the text so that Ctrl+C copies it
        const wasPassword = input.type === "password";
        if (wasPassword) input.type = "text";
        input.select();
        try {
          ok = document.execCommand("copy");
        } catch {
          ok = false;
        }
        if (wasPassword) input.type = "password";
      }
      if (ok) {
        button.textContent = t("studio_copied");
        if (copyStatus) copyStatus.textContent = t("studio_copied");
        setTimeout(() => {
          button.textContent = t("studio_copy");
          if (copyStatus) copyStatus.textContent = "";
        }, 2000);
      }
    });
  }
  const showToken = $("studio-token-show");
  const tokenInput = $("studio-obs-token");
  if (showToken && tokenInput) {
    showToken.addEventListener("click", () => {
      const show = tokenInput.type === "password";
      tokenInput.type = show ? "text" : "password";
      showToken.setAttribute("aria-pressed", show ? "true" : "false");
      showToken.textContent = show ? t("studio_hide") : t("studio_show");
    });
  }

  // ---- start ----

  // An audio context made without a click (permission given earlier) starts suspended.
  document.addEventListener("click", () => {
    if (audio && audio.context.state === "suspended") audio.context.resume().catch(() => {});
  });

  setState("idle");
  if (!whipUrl) publishButton.disabled = true;
  // Permission already given on an earlier visit: open the devices at once (no prompt appears).
  if (navigator.permissions && navigator.permissions.query) {
    Promise.all([
      navigator.permissions.query({ name: "camera" }),
      navigator.permissions.query({ name: "microphone" }),
    ])
      .then(([cam, mic]) => {
        if (cam.state === "granted" && mic.state === "granted") openDevices();
      })
      .catch(() => {}); // Firefox knows no "camera" permission name: the button does it
  }
}

const root = document.getElementById("studio");
if (root) start(root);
