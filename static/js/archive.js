// The archive's player: hls.js where the browser has no HLS of its own, native HLS on Safari, the
// MP4 otherwise (the <source> already in the page). Chapter and "answered at" links seek the video.
const HLS_MODULE = "/static/vendor/hls.js/hls.light.min.mjs";
const video = document.getElementById("archive-player");

function startAt() {
  const m = /^#t=(\d+(?:\.\d+)?)$/.exec(window.location.hash);
  return m ? Number(m[1]) : null;
}

function seek(seconds) {
  const go = () => {
    video.currentTime = seconds;
    video.play().catch(() => {}); // a browser may refuse to play before a gesture: the seek stays
  };
  if (video.readyState >= 1) go();
  else video.addEventListener("loadedmetadata", go, { once: true });
}

async function attach() {
  const hls = video.dataset.hlsUrl;
  if (!hls) return;
  if (video.canPlayType("application/vnd.apple.mpegurl")) {
    video.src = hls; // Safari, iOS
    return;
  }
  try {
    const Hls = (await import(HLS_MODULE)).default;
    if (!Hls.isSupported()) return; // the MP4 <source> plays
    const player = new Hls();
    player.on(Hls.Events.ERROR, (_event, data) => {
      if (data.fatal) { // back to the MP4
        player.destroy();
        video.src = video.dataset.mp4Url;
      }
    });
    player.loadSource(hls);
    player.attachMedia(video);
  } catch {
    // no hls.js: the MP4 <source> plays
  }
}

if (video) {
  attach().then(() => {
    const t = startAt();
    if (t !== null) seek(t);
  });
  document.addEventListener("click", (event) => {
    const link = event.target.closest(".archive-seek");
    if (!link) return;
    event.preventDefault();
    history.replaceState(null, "", link.getAttribute("href"));
    video.scrollIntoView({ block: "nearest" });
    seek(Number(link.dataset.start));
  });
}
