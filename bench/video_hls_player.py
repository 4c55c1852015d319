"""Browser players for bench/video.py: glass-to-glass latency in Chromium, read from the picture.

One headless Debian chromium (Playwright, launched as tests/browser.py does) plays the live stream
with a real client, and the picture's age is read from what the <video> element shows: at a steady
rate (`rate` per second) the page draws the element's current picture into a canvas (the stamp
rows, scaled to 1280 px wide whatever the rendition: stream/stamp.py's geometry), takes
`Date.now()` with it, and hands the rows back; this process decodes them with
`stream.stamp.read_stamp` and takes age = that wall time - the stamped capture time. Server,
browser and this process share one clock (one machine), so no clock offset enters.

Players (each in a fresh browser context, one after the other):
    whep     static/js/whep.js's whepPlay on a bench page of the server's origin (the baseline)
    plain    hls.js with its default settings but lowLatencyMode false (a plain HLS player)
    ll       hls.js with its default settings (lowLatencyMode true is hls.js's default)
    session  the session page itself (/s/<id>: static/js/player.js, as viewers get it)
The bench pages are answered by Playwright (page.route) at a path of the server's own origin, so
the vendored hls.js and whep.js load from the server as on its pages, with no CORS in the way.

Protocol with the parent: one JSON argument
    {"base", "session_id", "hls_url", "whep_url", "watch_token", "settle", "rate", "play_timeout"}
prints `READY` once the browser runs, then reads commands on stdin:
    RUN <player> <seconds>   open the player, wait until it plays, `settle` s more, sample for
                             <seconds>, close it, print `RESULT <json>`
    STOP                     close the browser and exit
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
for p in (ROOT, BENCH):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import av  # noqa: E402
import numpy as np  # noqa: E402
from intake import loadavg, machine_cpu, percentile  # noqa: E402
from playwright.async_api import Browser, Page, Request, async_playwright  # noqa: E402

from stream.stamp import BLOCK, WIDTH, age_ms, read_stamp  # noqa: E402
from tests.browser import CHROMIUM, LAUNCH_ARGS  # noqa: E402

PLAYERS = ("whep", "plain", "ll", "session")
BENCH_PATH = "/__bench/player"
PART = re.compile(r"/\d+\.\d+\.m4s(\?|$)")
SEGMENT = re.compile(r"/\d+\.(m4s|ts)(\?|$)")

# The bench page: one <video>, the player chosen by the query, the player object on window for
# its own figures (hls.js's latency estimate and level).
BENCH_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>bench player</title></head>
<body style="margin:0;background:#000">
<video id="bench-video" muted autoplay playsinline style="width:1280px;height:720px"></video>
<script type="module">
const q = new URLSearchParams(location.search);
const video = document.getElementById("bench-video");
const kind = q.get("player");
window.__benchState = "loading";
video.addEventListener("playing", () => { window.__benchState = "playing"; });
if (kind === "whep") {
  const { whepPlay } = await import("/static/js/whep.js");
  window.__whep = await whepPlay(video, q.get("url"), q.get("token"));
} else {
  const Hls = (await import("/static/vendor/hls.js/hls.light.min.mjs")).default;
  const config = kind === "plain" ? { lowLatencyMode: false } : {};
  const hls = new Hls(config);
  window.__hls = hls;
  hls.on(Hls.Events.ERROR, (e, data) => { if (data.fatal) window.__benchState = "error " + data.details; });
  hls.loadSource(q.get("url"));
  hls.attachMedia(video);
  video.play().catch(() => {});
}
</script></body></html>"""

# Installed into the page once it plays: every 1000/rate ms, the stamp rows of the picture shown
# now, as limited-range luma (what stream/stamp.py reads), base64.
SAMPLER = """([selector, rate, width, rows]) => {
  const video = document.querySelector(selector);
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = rows;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  window.__stalls = 0;
  video.addEventListener("waiting", () => { window.__stalls += 1; });
  window.__samples = [];
  window.__sampler = setInterval(() => {
    const vw = video.videoWidth;
    if (video.readyState < 2 || !vw) return;
    const at = Date.now();
    ctx.drawImage(video, 0, 0, vw, (vw * rows) / width, 0, 0, width, rows);
    const px = ctx.getImageData(0, 0, width, rows).data;
    let s = "";
    for (let j = 0; j < px.length; j += 4) {
      // RGB (full range) back to limited-range luma: black 16, white 235
      s += String.fromCharCode(Math.round(16 + ((0.299 * px[j] + 0.587 * px[j + 1] + 0.114 * px[j + 2]) * 219) / 255));
    }
    const hls = window.__hls;
    window.__samples.push({
      at, w: vw, h: video.videoHeight, t: video.currentTime, paused: video.paused,
      hls_latency: hls && Number.isFinite(hls.latency) ? hls.latency : null,
      hls_target: hls && Number.isFinite(hls.targetLatency) ? hls.targetLatency : null,
      rate: video.playbackRate, y: btoa(s),
    });
  }, 1000 / rate);
}"""


def say(*parts: Any) -> None:
    print(*parts, file=sys.stderr, flush=True)


def decode(sample: dict[str, Any]) -> tuple[int, int, bool] | None:
    """(age ms, frame counter, slate) of one sample, None when the picture carries no stamp."""
    rows = np.frombuffer(base64.b64decode(sample["y"]), dtype=np.uint8).reshape(BLOCK, WIDTH)
    stamp = read_stamp(av.VideoFrame.from_ndarray(np.ascontiguousarray(rows), format="gray"))
    if stamp is None:
        return None
    return age_ms(stamp, int(sample["at"])), stamp.frame, stamp.slate


async def screenshot_age(page: Page, selector: str) -> float | None:
    """The age of the picture in a screenshot of the element's stamp rows (what the compositor put
    on screen), against the middle of the time the screenshot took: a cross-check of the canvas."""
    box = await page.locator(selector).bounding_box()
    if not box:
        return None
    rows = box["width"] * BLOCK / WIDTH
    before = time.time() * 1000
    png = await page.screenshot(clip={"x": box["x"], "y": box["y"], "width": box["width"], "height": rows})
    at = (before + time.time() * 1000) / 2
    with av.open(io.BytesIO(png), "r", format="png_pipe") as container:
        shot = next(container.decode(video=0)).to_ndarray(format="gray")
    # nearest pixels onto the stamp's own 1280 x 20 grid
    ys = np.minimum((np.arange(BLOCK) * shot.shape[0] / BLOCK).astype(int), shot.shape[0] - 1)
    xs = np.minimum((np.arange(WIDTH) * shot.shape[1] / WIDTH).astype(int), shot.shape[1] - 1)
    grid = np.ascontiguousarray(shot[ys][:, xs])
    stamp = read_stamp(av.VideoFrame.from_ndarray(grid, format="gray"))
    return None if stamp is None or stamp.slate else age_ms(stamp, int(at))


class Requests:
    """What the player asked the server for: LL-HLS shows as _HLS_msn reloads and part loads."""

    def __init__(self) -> None:
        self.blocking = 0
        self.parts = 0
        self.segments = 0
        self.playlists: dict[str, int] = {}

    def __call__(self, request: Request) -> None:
        url = request.url
        path = url.split("?", 1)[0]
        if "_HLS_msn=" in url:
            self.blocking += 1
        if PART.search(url):
            self.parts += 1
        elif SEGMENT.search(url):
            self.segments += 1
        if path.endswith(".m3u8"):
            self.playlists[path.rsplit("/live/", 1)[-1]] = self.playlists.get(path.rsplit("/live/", 1)[-1], 0) + 1

    def summary(self) -> dict[str, Any]:
        return {"blocking_reloads": self.blocking, "parts": self.parts, "segments": self.segments,
                "playlists": self.playlists}


async def open_player(browser: Browser, cfg: dict[str, Any], player: str) -> tuple[Page, str, Requests]:
    context = await browser.new_context(viewport={"width": 1280, "height": 800}, device_scale_factor=1)
    page = await context.new_page()
    requests = Requests()
    page.on("request", requests)
    base = cfg["base"]
    if player == "session":
        await page.goto(f"{base}/s/{cfg['session_id']}")
        return page, "#video-player", requests
    await page.route(f"{base}{BENCH_PATH}*", lambda route: route.fulfill(
        status=200, content_type="text/html; charset=utf-8", body=BENCH_PAGE))
    from urllib.parse import urlencode

    if player == "whep":
        query = {"player": "whep", "url": cfg["whep_url"], "token": cfg["watch_token"]}
    else:
        query = {"player": player, "url": cfg["hls_url"]}
    await page.goto(f"{base}{BENCH_PATH}?{urlencode(query)}")
    return page, "#bench-video", requests


async def run(browser: Browser, cfg: dict[str, Any], player: str, seconds: float) -> dict[str, Any]:
    page, selector, requests = await open_player(browser, cfg, player)
    try:
        opened = time.monotonic()
        await page.wait_for_function(
            f"() => {{ const v = document.querySelector({selector!r}); return v && !v.paused && v.readyState >= 3 && v.currentTime > 0.5; }}",
            timeout=cfg["play_timeout"] * 1000)
        first_picture_s = time.monotonic() - opened
        await asyncio.sleep(cfg["settle"])
        await page.evaluate(SAMPLER, [selector, cfg["rate"], WIDTH, BLOCK])
        cpu0, t0, load0 = machine_cpu(), time.monotonic(), loadavg()
        raw: list[dict[str, Any]] = []
        end = t0 + seconds
        while time.monotonic() < end:  # collect as it goes: the page holds only a few seconds
            await asyncio.sleep(min(2.0, max(0.0, end - time.monotonic())))
            raw += await page.evaluate("() => window.__samples.splice(0)")
        cpu1, took = machine_cpu(), time.monotonic() - t0
        stalls = await page.evaluate("() => window.__stalls")
        shots = [await screenshot_age(page, selector) for _ in range(cfg.get("screenshots", 5))]
    finally:
        await page.context.close()
    decoded = [(s, decode(s)) for s in raw]
    ages: list[float] = sorted(d[0] for _, d in decoded if d is not None and not d[2])
    sizes = sorted({f"{s['w']}x{s['h']}" for s in raw})
    hls_lat = [s["hls_latency"] * 1000 for s in raw if s.get("hls_latency") is not None]
    return {
        "player": player,
        "samples": len(raw),
        "stamped": len(ages),
        "unstamped": sum(1 for _, d in decoded if d is None),
        "slate": sum(1 for _, d in decoded if d is not None and d[2]),
        "p50": percentile(ages, 50) if ages else None,
        "p90": percentile(ages, 90) if ages else None,
        "min": ages[0] if ages else None,
        "max": ages[-1] if ages else None,
        "sizes": sizes,
        "screenshot_ages": shots,  # the cross-check: the same stamp read off the page's pixels
        "hls_latency_p50": percentile(sorted(hls_lat), 50) if hls_lat else None,
        "target_latency": raw[-1].get("hls_target") if raw else None,
        "playback_rates": sorted({s["rate"] for s in raw}),
        "stalls": stalls,
        "first_picture_s": first_picture_s,
        "requests": requests.summary(),
        "seconds": took,
        "machine_cores": (cpu1[0] - cpu0[0]) / took if cpu0 and cpu1 else None,
        "load": [load0, loadavg()],
    }


async def main(cfg: dict[str, Any]) -> None:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=[*LAUNCH_ARGS, "--autoplay-policy=no-user-gesture-required"])
        try:
            print("READY", flush=True)
            loop = asyncio.get_running_loop()
            while True:
                line = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
                if not line or line == "STOP":
                    return
                cmd, player, seconds = line.split()
                if cmd != "RUN" or player not in PLAYERS:
                    raise SystemExit(f"unknown command {line!r}")
                try:
                    res = await run(browser, cfg, player, float(seconds))
                except Exception as e:  # the parent prints it and goes on with the next player
                    say(f"{player}: {type(e).__name__}: {e}")
                    res = {"player": player, "error": f"{type(e).__name__}: {e}"}
                print("RESULT " + json.dumps(res), flush=True)
        finally:
            await browser.close()


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
