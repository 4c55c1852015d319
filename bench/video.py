"""Live-video benchmark (docs/video.md): latency, WebRTC fan-out cost, HLS origin, intake under video.

One `doithoai serve --no-rate-limit` on a fresh data dir with one live session; its feed is switched
with the CLI (`doithoai stream source`) between the parts. Every figure is printed next to a
baseline measured in the same run. Clients run in processes of their own (bench/video_viewers.py,
bench/video_intake.py, wrk), never in the server's, so their CPU is not counted as the server's.

1. latency   glass-to-glass, read back from the stamp burnt into every picture (stream/stamp.py):
             WebRTC: one WHEP player (decodes every picture) on the test-pattern feed; and through
             WHIP ingest: feed `whip`, `stream.clients.publish_test_card` publishing (aiortc encodes),
             the server decoding and encoding again, a WHEP player watching. HLS, at the same time as
             the first: poll index.m3u8 every 0.5 s like a player, download each new segment,
             decode it with PyAV and take, for each picture, the time the segment was in hand minus
             the picture's stamp. "segment available" is that age for the segment's first picture
             (the top rendition's; what a player shows is part glass). Goal: WebRTC < 500 ms.
1b. glass    what players show, in Chromium (bench/video_hls_player.py): the picture's age read
             from the stamp on screen for whep.js (the baseline), hls.js with lowLatencyMode false,
             hls.js defaults (LL) and the session page; rounds alternate the order.
             Goals: plain HLS <= 4 s, LL-HLS <= 2 s (p50).
2. fanout    media worker CPU (`python -m stream.worker`, /proc/PID/stat) per WHEP viewer with the
             shared encode, N = 0, 5, 10, 20 viewers (and a busy ~2.5 Mbit/s picture, see
             --busy-viewers), against bench/video_baseline.py: plain aiortc, MediaRelay of one
             local test card, aiortc encoding for every viewer (--baseline-codec). Viewers count
             every picture they receive; one of them decodes and reads the stamps. Also checks the
             720p encode kept real time: pictures per viewer per second, and the HLS segments of
             the window (EXTINF, pictures per segment, gaps in the stamped frame counter = ticks
             the programme skipped). Goal: >= 20x more viewers than the baseline for the same CPU.
2b. ladder   every rendition's segments (EXTINF, pictures, skipped ticks from the stamped frame
             counter) with the main server's ladder and with --ladders on servers of their own,
             test card and busy picture, 0 and --ladder-viewers WHEP viewers. Goal: 25 fps, 0 skipped.
3. origin    requests/s for index.m3u8 and for segments from wrk (-t1, --origin-connections) on
             loopback, against bench/video_origin.py: a bare aiohttp `add_static` serving copies of
             the same files on another port. Runs alternate target by target.
4. intake    "video never stalls the questions": p99 ack latency of paced question intake
             (bench/video_intake.py: --intake-submitters each sending --intake-rate questions/s,
             over the same Socket.IO client as bench/sio_load.py) with the 720p test pattern and
             --intake-viewers WHEP viewers running, against the same load with feed none;
             rounds alternate the order. --intake-mode closed uses bench/sio_load.py's closed-loop
             submitters instead (they saturate the server). Goal: p99 ratio <= 1.5.

    .venv/bin/python bench/video.py                        # everything, ~15 minutes
    .venv/bin/python bench/video.py --parts glass --glass-rounds 3 --glass-players whep,plain,ll,session
    .venv/bin/python bench/video.py --parts latency,origin
    .venv/bin/python bench/video.py --fanout-rounds 2 --intake-rounds 5 --json out.json

The full result also goes to bench/results/video-<time>.json (gitignored).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

from intake import (  # noqa: E402
    CLK_TCK,
    HOST,
    RESULTS,
    ROOT,
    Server,
    default_doithoai,
    free_port,
    healthy,
    loadavg,
    machine_cpu,
    parse_session_id,
    percentile,
    run_cli,
)

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PARTS = ("latency", "glass", "fanout", "ladder", "origin", "intake")


def say(*parts: Any) -> None:
    print(*parts, flush=True)


# --- processes and CPU -----------------------------------------------------------------------


def cpu_of(pid: int | None) -> float | None:
    """utime + stime of a process (all its threads) so far, in seconds."""
    if pid is None:
        return None
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            out += [int(x) for x in Path(f"/proc/{pid}/task/{tid}/children").read_text().split()]
        except OSError:
            pass
    return out


def media_worker_pid(server: Server) -> int | None:
    for pid in children(server.proc.pid):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"stream.worker" in cmd:
            return pid
    return None


class Meter:
    """CPU seconds of some processes and of the whole machine over a window."""

    def __init__(self, pids: dict[str, int | None]) -> None:
        self.pids = pids
        self.cpu0 = {k: cpu_of(p) for k, p in pids.items()}
        self.machine0 = machine_cpu()
        self.t0 = time.monotonic()

    def stop(self) -> dict[str, Any]:
        took = time.monotonic() - self.t0
        out: dict[str, Any] = {"seconds": took}
        for k, p in self.pids.items():
            a, b = self.cpu0[k], cpu_of(p)
            out[k] = (b - a) if a is not None and b is not None else None
        m1 = machine_cpu()
        out["machine"] = (m1[0] - self.machine0[0]) if m1 and self.machine0 else None
        return out


def wait_quiet(limit_s: float, exclude: Sequence[int | None], idle_cores: float = 0.35) -> float:
    """Wait (at most limit_s) until the machine, apart from `exclude` (the servers under test, which
    run an encode all the time), uses less than idle_cores over one second; return the last figure."""
    deadline = time.monotonic() + limit_s
    other = float("nan")
    while True:
        a, ca = machine_cpu(), [cpu_of(p) or 0.0 for p in exclude]
        time.sleep(1.0)
        b, cb = machine_cpu(), [cpu_of(p) or 0.0 for p in exclude]
        if a is None or b is None:
            return other
        other = (b[0] - a[0]) - sum(y - x for x, y in zip(ca, cb, strict=True))
        if other < idle_cores or time.monotonic() >= deadline:
            return other


def median(xs: list[float]) -> float:
    xs = [x for x in xs if x is not None and not (isinstance(x, float) and math.isnan(x))]
    return statistics.median(xs) if xs else float("nan")


def fmt(value: Any, spec: str = ".1f") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return format(value, spec)


# --- the doithoai server ---------------------------------------------------------------------


class Doithoai:
    def __init__(self, exe: str, workdir: Path, ladder: str | None = None) -> None:
        self.exe = exe
        self.ladder = ladder  # the setting video_ladder; None: the server's default
        self.data_dir = workdir / "data"
        self.data_dir.mkdir(parents=True)
        r = self.cli(
            "session",
            "create",
            "--title",
            "Bench video",
            "--chair",
            "Chủ trì",
            "--start",
            "2026-12-01T09:00:00+07:00",
            "--minutes",
            "90",
        )
        self.session_id = parse_session_id(r)
        self.cli("session", "announce", str(self.session_id))
        self.cli("session", "start", str(self.session_id))
        self.cli("stream", "source", str(self.session_id), "--test-pattern")
        self.feed = "test"
        port = free_port()
        log_path = workdir / "doithoai.log"
        with log_path.open("wb") as log:
            env = {**os.environ, **({"DOITHOAI_VIDEO_LADDER": ladder} if ladder else {})}
            proc = subprocess.Popen(
                [exe, "serve", "--host", HOST, "--port", str(port), "--data-dir", str(self.data_dir), "--no-rate-limit"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
            )  # fmt: skip
        self.server = healthy(
            Server("doithoai", proc, port, log_path, session_id=self.session_id, data_dir=self.data_dir)
        )
        self.links = json.loads(
            self.cli("stream", "token", str(self.session_id), "--base-url", self.server.base_url)
        )
        self.live_dir = self.data_dir / "live" / str(self.session_id)

    def cli(self, *args: str) -> str:
        r = run_cli([self.exe, *args, "--data-dir", str(self.data_dir)])
        if r.returncode != 0:
            raise RuntimeError(f"doithoai {' '.join(args)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
        return r.stdout

    @property
    def worker(self) -> int | None:
        return media_worker_pid(self.server)

    async def state(self, http: aiohttp.ClientSession) -> str:
        async with http.get(f"{self.server.base_url}/api/v1/sessions/{self.session_id}/stream") as r:
            return str((await r.json()).get("state"))

    async def wait_state(self, http: aiohttp.ClientSession, wanted: str, within: float = 20) -> None:
        deadline = time.monotonic() + within
        state = "?"
        while time.monotonic() < deadline:
            state = await self.state(http)
            if state == wanted:
                return
            await asyncio.sleep(0.2)
        raise RuntimeError(
            f"stream state still {state!r}, not {wanted!r}, after {within} s:\n{self.server.log_tail()}"
        )

    async def set_feed(self, http: aiohttp.ClientSession, feed: str, url: str | None = None) -> None:
        """Switch the feed with the CLI and wait until the server's worker follows."""
        flag = {
            "test": ["--test-pattern"],
            "whip": ["--whip"],
            "none": ["--none"],
            "url": ["--url", str(url)],
        }[feed]
        await asyncio.to_thread(self.cli, "stream", "source", str(self.session_id), *flag)
        self.feed = feed
        await self.wait_state(http, {"test": "live", "whip": "slate", "none": "off", "url": "live"}[feed])

    def stop(self) -> None:
        self.server.stop("term")


def start_helper(name: str, workdir: Path, argv: list[str]) -> Server:
    """A baseline server of bench/ (video_baseline.py, video_origin.py) on a free port, healthy."""
    port = free_port()
    log_path = workdir / f"{name}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, str(BENCH / argv[0]), *argv[1:], "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    return healthy(Server(name, proc, port, log_path))


# --- client processes ------------------------------------------------------------------------


class Proc:
    """A client process speaking the READY / GO / RESULT line protocol on stdin and stdout."""

    def __init__(self, proc: asyncio.subprocess.Process, name: str) -> None:
        self.proc = proc
        self.name = name

    @classmethod
    async def start(cls, script: str, cfg: dict[str, Any], name: str, log: Path) -> Proc:
        with log.open("ab") as err:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, str(BENCH / script), json.dumps(cfg),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=err,
                limit=256 * 1024 * 1024,  # sio_load.py's RESULT line carries every acknowledged id
            )  # fmt: skip
        return cls(proc, name)

    async def line(self, prefix: str, within: float) -> str:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + within
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RuntimeError(f"{self.name}: no {prefix} within {within} s")
            raw = await asyncio.wait_for(self.proc.stdout.readline(), remaining)
            if not raw:
                raise RuntimeError(f"{self.name}: exited ({await self.proc.wait()}) before {prefix}")
            text = raw.decode(errors="replace").strip()
            if text.startswith(prefix):
                return text[len(prefix) :].strip()

    async def send(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((text + "\n").encode())
        await self.proc.stdin.drain()

    async def result(self, within: float) -> dict[str, Any]:
        return json.loads(await self.line("RESULT", within))

    async def stop(self) -> None:
        if self.proc.returncode is None:
            try:
                await self.send("STOP")
                self.proc.stdin.close()  # type: ignore[union-attr]
                await asyncio.wait_for(self.proc.wait(), 20)
            except (TimeoutError, ConnectionError, BrokenPipeError):
                self.proc.kill()
                await self.proc.wait()

    @property
    def pid(self) -> int:
        return self.proc.pid


async def start_viewers(
    url: str, token: str, n: int, decode: int, workdir: Path, per_process: int = 10, publish: bool = False
) -> tuple[list[Proc], list[str]]:
    """N viewers over ceil(N / per_process) processes (the first decodes `decode` of them)."""
    procs: list[Proc] = []
    shares = [1] if publish else [min(per_process, n - i) for i in range(0, n, per_process)]
    for i, share in enumerate(shares):
        cfg = {
            "url": url,
            "token": token,
            "viewers": share,
            "decode": decode if i == 0 else 0,
            "publish": publish,
            "ready_timeout": 20,
        }
        procs.append(
            await Proc.start(
                "video_viewers.py",
                cfg,
                f"{'publisher' if publish else 'viewers'}-{i}",
                workdir / "viewers.log",
            )
        )
    readies = await asyncio.gather(*(p.line("READY", 60) for p in procs))
    return procs, readies


async def viewer_window(
    procs: list[Proc], seconds: float, pids: dict[str, int | None]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """GO to every viewer process; CPU of `pids` (and of the viewers) over the same window."""
    t0 = time.monotonic() + 0.3
    for p in procs:
        await p.send(f"GO {t0!r} {seconds!r}")
    await asyncio.sleep(max(0.0, t0 - time.monotonic()))
    meter = Meter({**pids, **{f"viewer{i}": p.pid for i, p in enumerate(procs)}})
    await asyncio.sleep(max(0.0, t0 + seconds - time.monotonic()))
    cpu = meter.stop()
    results = await asyncio.gather(*(p.result(30) for p in procs))
    cpu["viewers"] = sum(cpu.pop(f"viewer{i}") or 0.0 for i in range(len(procs)))
    return cpu, list(results)


def merge_viewers(results: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    frames = [f for r in results for f in r.get("frames", [])]
    kbits = [k for r in results for k in r.get("kbit_s", [])]
    delays = sorted(d for r in results for d in r.get("delays_ms", []))
    return {
        "viewers": sum(r.get("connected", 0) for r in results),
        "fps_min": min(frames) / seconds if frames else None,
        "fps_median": median(frames) / seconds if frames else None,
        "kbit_s_median": median(kbits) if kbits else None,
        "delay_p50": percentile(delays, 50) if delays else None,
        "delay_p95": percentile(delays, 95) if delays else None,
        "delay_max": delays[-1] if delays else None,
        "stamped": len(delays),
        "unstamped": sum(r.get("unstamped", 0) for r in results),
        "slate": sum(r.get("slate", 0) for r in results),
        "errors": [e for r in results for e in r.get("errors", [])],
    }


# --- HLS -------------------------------------------------------------------------------------


def parse_playlist(text: str) -> list[tuple[str, float, str | None]]:
    """(uri, EXTINF seconds, PROGRAM-DATE-TIME) of each segment."""
    out = []
    duration, pdt = 0.0, None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("#EXTINF:"):
            duration = float(line[8:].split(",")[0])
        elif line.startswith("#EXT-X-PROGRAM-DATE-TIME:"):
            pdt = line.split(":", 1)[1]
        elif line and not line.startswith("#"):
            out.append((line, duration, pdt))
            duration, pdt = 0.0, None
    return out


def parse_variants(text: str) -> list[tuple[str, dict[str, str]]]:
    """(URI, attributes) of each EXT-X-STREAM-INF of a multivariant playlist; [] for a media playlist."""
    out: list[tuple[str, dict[str, str]]] = []
    attrs: dict[str, str] | None = None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("#EXT-X-STREAM-INF:"):
            attrs = dict(
                (m.group(1), m.group(2).strip('"'))
                for m in re.finditer(r'([A-Z0-9-]+)=("[^"]*"|[^,]*)', line.split(":", 1)[1])
            )
        elif line and not line.startswith("#") and attrs is not None:
            out.append((line, attrs))
            attrs = None
    return out


class Rendition:
    """Where one rendition's files are: /live/<s>/<name>/ in the ladder's layout (fMP4 with an init
    section), /live/<s>/ for the single MPEG-TS playlist before it."""

    def __init__(self, base: str, session_id: int, name: str | None, init: bytes | None) -> None:
        self.name = name or "single"
        self.url = f"{base}/live/{session_id}/" + (f"{name}/" if name else "")
        self.init = init

    async def playlist(self, http: aiohttp.ClientSession, which: str = "index.m3u8") -> str:
        async with http.get(self.url + which) as r:
            r.raise_for_status()
            return await r.text()

    async def get(self, http: aiohttp.ClientSession, uri: str) -> bytes:
        async with http.get(self.url + uri) as r:
            r.raise_for_status()
            return await r.read()


async def renditions(http: aiohttp.ClientSession, base: str, session_id: int) -> list[Rendition]:
    """The stream's renditions, the top one first (its multivariant playlist's order)."""
    async with http.get(f"{base}/live/{session_id}/index.m3u8") as r:
        r.raise_for_status()
        variants = parse_variants(await r.text())
    if not variants:
        return [Rendition(base, session_id, None, None)]
    out = []
    for uri, _ in variants:
        name = uri.split("/", 1)[0]
        rendition = Rendition(base, session_id, name, None)
        rendition.init = await rendition.get(http, "init.mp4")
        out.append(rendition)
    return out


def decode_segment(data: bytes, init: bytes | None = None) -> list[tuple[int, int, bool] | None]:
    """(stamp time ms, stamp frame counter, slate) of each picture of a segment: MPEG-TS, or fMP4
    after its init section. A rendition below 1280 wide is scaled up to read its stamp."""
    import av

    from stream.stamp import WIDTH, read_stamp

    out: list[tuple[int, int, bool] | None] = []
    fmt_name = "mp4" if init is not None else "mpegts"
    with av.open(io.BytesIO((init or b"") + data), "r", format=fmt_name) as container:
        if not container.streams.video:
            return out
        for frame in container.decode(video=0):
            if frame.width != WIDTH:
                frame = frame.reformat(width=WIDTH, height=round(frame.height * WIDTH / frame.width), format="gray")
            s = read_stamp(frame)
            out.append((s.time_ms, s.frame, s.slate) if s else None)
    return out


async def hls_latency(
    http: aiohttp.ClientSession, base: str, session_id: int, seconds: float
) -> dict[str, Any]:
    """Poll the top rendition's live playlist every 0.5 s; age of each picture of each new whole
    segment when it was in hand (how fresh segments are, not what a player shows: part glass)."""
    from stream.stamp import Stamp, age_ms

    top = (await renditions(http, base, session_id))[0]
    seen: set[str] = set()
    first_poll = True
    segments: list[dict[str, Any]] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        polled = time.monotonic()
        listed = parse_playlist(await top.playlist(http))
        for uri, extinf, _ in listed:
            if uri in seen:
                continue
            seen.add(uri)
            if first_poll:  # already there before we started: its availability time is unknown
                continue
            data = await top.get(http, uri)
            in_hand = int(time.time() * 1000)
            pictures = await asyncio.to_thread(decode_segment, data, top.init)
            stamps = [p for p in pictures if p is not None and not p[2]]
            ages = [age_ms(Stamp(t, n, False), in_hand) for t, n, _ in stamps]
            segments.append(
                {
                    "uri": uri,
                    "bytes": len(data),
                    "extinf": extinf,
                    "pictures": len(pictures),
                    "first_age_ms": ages[0] if ages else None,
                    "ages_ms": ages,
                    "frame_gaps": sum(
                        1 for a, b in zip(stamps, stamps[1:], strict=False) if b[1] - a[1] != 1
                    ),
                }
            )
        first_poll = False
        await asyncio.sleep(max(0.0, polled + 0.5 - time.monotonic()))
    firsts = sorted(s["first_age_ms"] for s in segments if s["first_age_ms"] is not None)
    all_ages = sorted(a for s in segments for a in s["ages_ms"])
    return {
        "rendition": top.name,
        "segments": len(segments),
        "segment_bytes_median": median([s["bytes"] for s in segments]),
        "extinf": sorted({s["extinf"] for s in segments}),
        "pictures_per_segment": sorted({s["pictures"] for s in segments}),
        "available_p50": percentile(firsts, 50) if firsts else None,
        "available_p95": percentile(firsts, 95) if firsts else None,
        "picture_age_p50": percentile(all_ages, 50) if all_ages else None,
    }


def program_date_time(pdt: str) -> float:
    return datetime.fromisoformat(pdt.replace("Z", "+00:00").replace("+0000", "+00:00")).timestamp()


async def rendition_window_check(
    http: aiohttp.ClientSession, rendition: Rendition, w0: float, w1: float, stamped: bool
) -> dict[str, Any]:
    """One rendition's DVR segments whose first picture falls in [w0, w1] (unix s): EXTINF,
    pictures and, on a stamped feed, gaps in the programme's frame counter (ticks skipped because
    the encode was late)."""
    listed = parse_playlist(await rendition.playlist(http, "dvr.m3u8"))
    chosen = []
    for uri, extinf, pdt in listed:
        if pdt is None:
            continue
        at = program_date_time(pdt)
        if w0 <= at and at + extinf <= w1 + 0.05:
            chosen.append((uri, extinf))
    pictures, gaps, skipped, sizes, unstamped = [], 0, 0, [], 0
    last: int | None = None
    for uri, _ in chosen:
        data = await rendition.get(http, uri)
        sizes.append(len(data))
        decoded = await asyncio.to_thread(decode_segment, data, rendition.init)
        pictures.append(len(decoded))
        if stamped:
            for p in decoded:
                if p is None:
                    unstamped += 1
                    continue
                if last is not None and p[1] != (last + 1) % 65536:
                    gaps += 1
                    skipped += (p[1] - last - 1) % 65536
                last = p[1]
    extinfs = [e for _, e in chosen]
    video = any(pictures)
    return {
        "rendition": rendition.name,
        "segments": len(chosen),
        "extinf_min": min(extinfs, default=None),
        "extinf_max": max(extinfs, default=None),
        "pictures_min": min(pictures, default=None) if video else None,
        "pictures_max": max(pictures, default=None) if video else None,
        "fps": sum(pictures) / sum(extinfs) if video and extinfs else None,
        "segments_per_s": len(chosen) / (w1 - w0) if w1 > w0 else None,
        "frame_gaps": gaps if stamped and video else None,
        "skipped_ticks": skipped if stamped and video else None,
        "unstamped": unstamped if stamped and video else None,
        "kbit_s": 8 * sum(sizes) / 1000 / sum(extinfs) if extinfs else None,
    }


async def hls_window_check(
    http: aiohttp.ClientSession, d: Doithoai, w0: float, w1: float, stamped: bool
) -> dict[str, Any]:
    """The top rendition's segments of the window (the programme's own encode)."""
    top = (await renditions(http, d.server.base_url, d.session_id))[0]
    return await rendition_window_check(http, top, w0, w1, stamped)


# --- part 1: latency -------------------------------------------------------------------------


async def part_latency(
    d: Doithoai, args: argparse.Namespace, workdir: Path, http: aiohttp.ClientSession
) -> dict[str, Any]:
    out: dict[str, Any] = {"rounds": []}
    links = d.links
    for rnd in range(args.latency_rounds):
        row: dict[str, Any] = {}
        await d.set_feed(http, "test")
        await asyncio.to_thread(
            wait_quiet, args.wait_quiet, [d.server.proc.pid, *children(d.server.proc.pid)]
        )
        procs, ready = await start_viewers(links["whep_url"], links["watch_token"], 1, 1, workdir)
        try:
            await asyncio.sleep(1.0)
            (cpu, results), hls = await asyncio.gather(
                viewer_window(procs, args.latency_seconds, {}),
                hls_latency(http, d.server.base_url, d.session_id, args.latency_seconds + 1.5),
            )
        finally:
            for p in procs:
                await p.stop()
        row["webrtc"] = {**merge_viewers(results, args.latency_seconds), "codec": ready[0].split()[-1]}
        row["hls"] = hls
        # through WHIP: publisher (aiortc encode) -> server decode + encode -> WHEP player
        await d.set_feed(http, "whip")
        publisher, pready = await start_viewers(
            links["whip_url"], links["publish_token"], 1, 0, workdir, publish=True
        )
        try:
            await d.wait_state(http, "live")
            procs, _ = await start_viewers(links["whep_url"], links["watch_token"], 1, 1, workdir)
            try:
                await asyncio.sleep(1.5)  # let the publisher's rate control settle
                _, results = await viewer_window(procs, args.latency_seconds, {})
            finally:
                for p in procs:
                    await p.stop()
        finally:
            for p in publisher:
                await p.stop()
        row["whip"] = {
            **merge_viewers(results, args.latency_seconds),
            "publisher_codec": pready[0].split()[-1],
        }
        await d.set_feed(http, "test")
        out["rounds"].append(row)
        w, h, wh = row["webrtc"], row["hls"], row["whip"]
        say(
            f"  latency round {rnd + 1}: WebRTC p50 {fmt(w['delay_p50'], '.0f')} / p95 {fmt(w['delay_p95'], '.0f')} ms "
            f"({w['stamped']} pictures, {fmt(w['fps_median'])} fps); via WHIP p50 {fmt(wh['delay_p50'], '.0f')} / "
            f"p95 {fmt(wh['delay_p95'], '.0f')} ms ({wh['stamped']} pictures, publisher {wh['publisher_codec']}); "
            f"HLS available p50 {fmt(h['available_p50'], '.0f')} / p95 {fmt(h['available_p95'], '.0f')} ms "
            f"({h['segments']} segments of {h['pictures_per_segment']} pictures, EXTINF {h['extinf']})"
        )
    rs = out["rounds"]
    out["summary"] = {
        "webrtc_p50": median([r["webrtc"]["delay_p50"] for r in rs]),
        "webrtc_p95": median([r["webrtc"]["delay_p95"] for r in rs]),
        "whip_p50": median([r["whip"]["delay_p50"] for r in rs]),
        "whip_p95": median([r["whip"]["delay_p95"] for r in rs]),
        "hls_available_p50": median([r["hls"]["available_p50"] for r in rs]),
        "hls_available_p95": median([r["hls"]["available_p95"] for r in rs]),
        "hls_picture_age_p50": median([r["hls"]["picture_age_p50"] for r in rs]),
    }
    return out


# --- part 1b: glass-to-glass in Chromium ----------------------------------------------------


GLASS_GOALS_MS = {"plain": 4000, "ll": 2000, "session": 2000}
GLASS_LABELS = {  # how each player reads in the summary: "<label>, on screen p50 / p90 (ms)"
    "whep": "Chromium WebRTC (whep.js)",
    "plain": "Chromium hls.js defaults, lowLatency off",
    "ll": "Chromium hls.js defaults (LL on)",
    "session": "Chromium session page (player.js, LL)",
}


async def part_glass(
    d: Doithoai, args: argparse.Namespace, workdir: Path, http: aiohttp.ClientSession
) -> dict[str, Any]:
    """The picture's age on screen in Chromium (bench/video_hls_player.py), player by player in
    one browser, rounds alternating the order; the WHEP player is the same run's baseline."""
    await d.set_feed(http, "test")
    links = d.links
    base = d.server.base_url
    cfg = {
        "base": base,
        "session_id": d.session_id,
        "hls_url": f"{base}/live/{d.session_id}/index.m3u8",
        "whep_url": links["whep_url"],
        "watch_token": links["watch_token"],
        "settle": args.glass_settle,
        "rate": args.glass_rate,
        "play_timeout": 60,
    }
    players = [p.strip() for p in args.glass_players.split(",") if p.strip()]
    browser = await Proc.start("video_hls_player.py", cfg, "browser", workdir / "browser.log")
    rows: list[dict[str, Any]] = []
    try:
        await browser.line("READY", 60)
        for rnd in range(args.glass_rounds):
            for player in players if rnd % 2 == 0 else players[::-1]:
                quiet = await asyncio.to_thread(
                    wait_quiet, args.wait_quiet, [d.server.proc.pid, *children(d.server.proc.pid)]
                )
                meter = Meter({"server": d.server.proc.pid, "worker": d.worker})
                await browser.send(f"RUN {player} {args.glass_seconds!r}")
                res = await browser.result(60 + args.glass_settle + args.glass_seconds + 60)
                cpu = meter.stop()
                res.update(
                    round=rnd + 1,
                    quiet_before=quiet,
                    server_cores=(cpu["server"] or 0) / cpu["seconds"],
                    worker_cores=(cpu["worker"] or 0) / cpu["seconds"],
                )
                rows.append(res)
                if "error" in res:
                    say(f"  glass round {rnd + 1} {player:<8}: FAILED {res['error']}")
                    continue
                rq = res["requests"]
                say(
                    f"  glass round {rnd + 1} {player:<8}: p50 {fmt(res['p50'], '.0f')} / p90 {fmt(res['p90'], '.0f')} ms "
                    f"(min {fmt(res['min'], '.0f')}, max {fmt(res['max'], '.0f')}; {res['stamped']} of {res['samples']} samples stamped, "
                    f"{res['slate']} slate; screenshots {[fmt(a, '.0f') for a in res['screenshot_ages']]}) "
                    f"{','.join(res['sizes'])}; hls.js latency {fmt(res['hls_latency_p50'], '.0f')} ms, "
                    f"target {fmt(res['target_latency'], '.2f')} s, rates {res['playback_rates']}, stalls {res['stalls']}; "
                    f"requests: {rq['blocking_reloads']} blocking reloads, {rq['parts']} parts, {rq['segments']} segments, "
                    f"playlists {rq['playlists']}; machine {fmt(res['machine_cores'], '.2f')} cores busy, load {res['load'][0]:.2f}, "
                    f"worker {res['worker_cores']:.2f}"
                )
    finally:
        await browser.stop()
    summary: dict[str, Any] = {}
    for player in players:
        ok = [r for r in rows if r["player"] == player and r.get("p50") is not None]
        summary[player] = {
            "p50": median([r["p50"] for r in ok]),
            "p90": median([r["p90"] for r in ok]),
            "rounds": len(ok),
            "sizes": sorted({s for r in ok for s in r["sizes"]}),
            "screenshot_p50": median([a for r in ok for a in r["screenshot_ages"] if a is not None]),
            "machine_cores": median([r["machine_cores"] for r in ok]),
            "load": median([r["load"][0] for r in ok]),
        }
    return {"rows": rows, "summary": summary}


# --- part 2: fan-out -------------------------------------------------------------------------


def make_busy_file(path: Path, seconds: int = 4) -> None:
    """A 720p25 file whose picture never repeats (random 16x16 blocks under the test card's top
    rows): whatever its bitrate, the programme's encoder spends its full ~2.5 Mbit/s on it."""
    import av
    import numpy as np

    from stream.testcard import TestCard, plane_views

    rng = np.random.default_rng(1)
    card = TestCard()
    with av.open(str(path), "w", format="mpegts") as out:
        s = out.add_stream(
            "libx264", rate=25, options={"preset": "ultrafast", "crf": "26", "x264-params": "keyint=25"}
        )
        s.width, s.height, s.pix_fmt = 1280, 720, "yuv420p"
        for n in range(seconds * 25):
            f = card.video_frame(n, time.time())
            y = plane_views(f)[0]
            blocks = rng.integers(16, 235, (45, 80), dtype=np.uint8)
            y[80:720] = np.kron(blocks, np.ones((16, 16), np.uint8))[80:720]
            f.pts = n
            for p in s.encode(f):
                out.mux(p)
        for p in s.encode(None):
            out.mux(p)


_busy_servers: list[Server] = []  # the busy file's HTTP server, stopped at the end of run_all


async def busy_feed(workdir: Path) -> str:
    """The busy picture as a pull URL: a feed may not be a file:// (stream/feed_policy.py), so the
    file is served over HTTP on loopback (bench/video_origin.py), which the bench's servers allow."""
    folder = workdir / "busy"
    if not _busy_servers:
        folder.mkdir(exist_ok=True)
        await asyncio.to_thread(make_busy_file, folder / "busy.ts")
        _busy_servers.append(
            await asyncio.to_thread(start_helper, "busyfile", workdir, ["video_origin.py", "serve", "--dir", str(folder)])
        )
    return f"{_busy_servers[0].base_url}/live/busy.ts"


async def fanout_point(
    target: str,
    n: int,
    url: str,
    token: str,
    pid_of: Any,
    args: argparse.Namespace,
    workdir: Path,
    http: aiohttp.ClientSession,
    d: Doithoai | None,
    stamped: bool,
) -> dict[str, Any]:
    procs: list[Proc] = []
    exclude = [pid_of(), *(children(d.server.proc.pid) + [d.server.proc.pid] if d else [])]
    quiet_before = await asyncio.to_thread(wait_quiet, args.wait_quiet, exclude)
    if n:
        procs, _ = await start_viewers(url, token, n, 1 if stamped else 0, workdir)
    try:
        await asyncio.sleep(args.settle)
        w0 = time.time()
        cpu, results = await viewer_window(procs, args.fanout_seconds, {"server": pid_of()})
        w1 = time.time()
    finally:
        for p in procs:
            await p.stop()
    row = {
        "target": target,
        "n": n,
        "cpu": cpu,
        "cores": (cpu["server"] or 0.0) / cpu["seconds"],
        "quiet_before": quiet_before,
        **merge_viewers(results, args.fanout_seconds),
    }
    row["other"] = (
        max(0.0, (cpu["machine"] or 0.0) - (cpu["server"] or 0.0) - cpu["viewers"]) / cpu["seconds"]
    )
    if d is not None:
        await asyncio.sleep(1.2)  # the segment in progress at the end of the window
        row["hls"] = await hls_window_check(http, d, w0, w1, stamped)
    return row


def per_viewer(rows: list[dict[str, Any]]) -> dict[int, float]:
    """Extra cores per viewer at each N: (cores(N) - cores(0)) / N, medians over rounds."""
    by: dict[int, list[float]] = {}
    for r in rows:
        by.setdefault(r["n"], []).append(r["cores"])
    base = median(by.get(0, [0.0]))
    return {n: (median(v) - base) / n for n, v in sorted(by.items()) if n}


def slope(rows: list[dict[str, Any]]) -> float | None:
    """Least-squares cores per viewer over every (N, cores) point."""
    pts = [(r["n"], r["cores"]) for r in rows]
    if len({n for n, _ in pts}) < 2:
        return None
    mx = statistics.fmean(n for n, _ in pts)
    my = statistics.fmean(c for _, c in pts)
    return sum((n - mx) * (c - my) for n, c in pts) / sum((n - mx) ** 2 for n, _ in pts)


def print_fanout_row(r: dict[str, Any]) -> None:
    h = r.get("hls") or {}
    say(
        f"  {r['target']:<9} {r['n']:>3} viewers: {r['cores']:.3f} cores  viewers' procs {r['cpu']['viewers'] / r['cpu']['seconds']:.2f}  "
        f"other {r['other']:.2f} | fps min/med {fmt(r['fps_min'])}/{fmt(r['fps_median'])}  {fmt(r['kbit_s_median'], '.0f')} kbit/s  "
        f"probe p50/p95 {fmt(r['delay_p50'], '.0f')}/{fmt(r['delay_p95'], '.0f')} ms"
        + (
            f" | HLS {h['segments']} seg, EXTINF {fmt(h['extinf_min'], '.2f')}-{fmt(h['extinf_max'], '.2f')}, "
            f"{h['pictures_min']}-{h['pictures_max']} pictures, skipped ticks {h['skipped_ticks']}, "
            f"{fmt(h['kbit_s'], '.0f')} kbit/s"
            if h
            else ""
        )
    )


async def part_fanout(
    d: Doithoai, args: argparse.Namespace, workdir: Path, http: aiohttp.ClientSession
) -> dict[str, Any]:
    links = d.links
    counts = [int(x) for x in args.fanout_viewers.split(",") if x.strip()]
    busy_counts = [int(x) for x in args.busy_viewers.split(",") if x.strip()]
    base_counts = [int(x) for x in args.baseline_viewers.split(",") if x.strip()]
    ours: list[dict[str, Any]] = []
    busy: list[dict[str, Any]] = []
    base: list[dict[str, Any]] = []
    base_server: Server | None = None
    try:
        base_server = await asyncio.to_thread(
            start_helper, "baseline", workdir, ["video_baseline.py", "--codec", args.baseline_codec]
        )
        base_url = f"{base_server.base_url}/whep"
        base_pid = base_server.proc.pid
        for rnd in range(args.fanout_rounds):
            await d.set_feed(http, "test")
            for n in counts:
                row = await fanout_point(
                    "doithoai",
                    n,
                    links["whep_url"],
                    links["watch_token"],
                    lambda: d.worker,
                    args,
                    workdir,
                    http,
                    d,
                    True,
                )
                row["round"] = rnd + 1
                ours.append(row)
                print_fanout_row(row)
            for n in [0, *base_counts] if 0 not in base_counts else base_counts:
                row = await fanout_point(
                    "aiortc",
                    n,
                    base_url,
                    "-",
                    lambda: base_pid,
                    args,
                    workdir,
                    http,
                    None,
                    True,
                )
                row["round"] = rnd + 1
                base.append(row)
                print_fanout_row(row)
            if busy_counts:
                source = await busy_feed(workdir)
                await d.set_feed(http, "none")  # a fresh programme: x264's rate control starts from zero
                await d.set_feed(http, "url", source)
                await asyncio.sleep(4.0)  # x264 ABR settles to the target in ~3 s from a fresh start
                for n in busy_counts:
                    row = await fanout_point(
                        "busy",
                        n,
                        links["whep_url"],
                        links["watch_token"],
                        lambda: d.worker,
                        args,
                        workdir,
                        http,
                        d,
                        False,
                    )
                    row["round"] = rnd + 1
                    busy.append(row)
                    print_fanout_row(row)
                await d.set_feed(http, "none")
                await d.set_feed(http, "test")
    finally:
        if base_server is not None:
            base_server.stop("term")
    ours_pv, base_pv, busy_pv = per_viewer(ours), per_viewer(base), per_viewer(busy)
    top = max(ours_pv) if ours_pv else None
    ours_cost = ours_pv.get(top) if top else None
    base_cost = median(list(base_pv.values())) if base_pv else None
    top_rows = [r for r in ours if r["n"] == top]
    return {
        "doithoai": ours,
        "aiortc": base,
        "busy": busy,
        "per_viewer": {"doithoai": ours_pv, "aiortc": base_pv, "busy": busy_pv},
        "slope": {"doithoai": slope(ours), "aiortc": slope(base), "busy": slope(busy)},
        "summary": {
            "doithoai_per_viewer": ours_cost,
            "aiortc_per_viewer": base_cost,
            "ratio": base_cost / ours_cost if base_cost and ours_cost and ours_cost > 0 else None,
            "busy_per_viewer": busy_pv.get(max(busy_pv)) if busy_pv else None,
            "busy_ratio": base_cost / busy_pv[max(busy_pv)]
            if busy_pv and base_cost and busy_pv[max(busy_pv)] > 0
            else None,
            "top_n": top,
            "top_fps_min": min((r["fps_min"] or 0 for r in top_rows), default=None),
            "top_skipped_ticks": sum((r.get("hls") or {}).get("skipped_ticks") or 0 for r in top_rows),
            "top_extinf": [(r.get("hls") or {}).get("extinf_min") for r in top_rows]
            + [(r.get("hls") or {}).get("extinf_max") for r in top_rows],
            "baseline_codec": args.baseline_codec,
        },
    }


# --- part 2b: the ladder's encode ------------------------------------------------------------


async def ladder_window(
    d: Doithoai, args: argparse.Namespace, workdir: Path, http: aiohttp.ClientSession, n: int,
    stamped: bool,
) -> dict[str, Any]:
    quiet = await asyncio.to_thread(
        wait_quiet, args.wait_quiet, [d.server.proc.pid, *children(d.server.proc.pid)]
    )
    procs: list[Proc] = []
    if n:
        procs, _ = await start_viewers(d.links["whep_url"], d.links["watch_token"], n, 0, workdir)
    try:
        await asyncio.sleep(args.settle)
        w0 = time.time()
        cpu, results = await viewer_window(procs, args.ladder_seconds, {"worker": d.worker})
        w1 = time.time()
    finally:
        for p in procs:
            await p.stop()
    await asyncio.sleep(1.5)  # the segment in progress at the end of the window
    checks = [
        await rendition_window_check(http, r, w0, w1, stamped)
        for r in await renditions(http, d.server.base_url, d.session_id)
    ]
    return {
        "ladder": d.ladder or "default",
        "n": n,
        "quiet_before": quiet,
        "worker_cores": (cpu["worker"] or 0) / cpu["seconds"],
        "machine_cores": (cpu["machine"] or 0) / cpu["seconds"],
        "load": loadavg(),
        "viewer_fps_min": merge_viewers(results, args.ladder_seconds)["fps_min"] if procs else None,
        "renditions": checks,
    }


async def part_ladder(
    d: Doithoai, args: argparse.Namespace, workdir: Path, http: aiohttp.ClientSession
) -> dict[str, Any]:
    """The ladder's encodes keep real time: per rendition, the segments of a window (EXTINF,
    pictures, gaps in the stamped frame counter = ticks the programme skipped), with the main
    server's ladder and then each of --ladders on a server of its own (the main one's feed off
    meanwhile, so only one programme encodes), with 0 and --ladder-viewers WHEP viewers."""
    counts = sorted({0, args.ladder_viewers})
    feeds = [f.strip() for f in args.ladder_feeds.split(",") if f.strip()]
    rows: list[dict[str, Any]] = []
    specs = [x.strip() for x in args.ladders.split(";") if x.strip()]
    for i, spec in enumerate([None, *specs]):
        server = d
        if spec is not None:
            await d.set_feed(http, "none")
            server = await asyncio.to_thread(Doithoai, args.doithoai, workdir / f"ladder-{i}", spec)
        try:
            await server.wait_state(http, "live", 30)
            await asyncio.sleep(3.0)  # every rendition's encoder has started
            for feed, n in [(f, n) for f in feeds for n in counts]:
                if feed == "busy":
                    source = await busy_feed(workdir)
                    if n == counts[0]:  # a fresh programme: x264's rate control starts from zero
                        await server.set_feed(http, "none")
                        await server.set_feed(http, "url", source)
                        await asyncio.sleep(4.0)
                row = await ladder_window(server, args, workdir, http, n, stamped=feed == "test")
                row["feed"] = feed
                rows.append(row)
                say(
                    f"  ladder {row['ladder']:<22} {feed:<4} {n:>2} viewers: worker {row['worker_cores']:.2f} cores, machine "
                    f"{row['machine_cores']:.2f}, load {row['load']:.2f}"
                    + (f", WHEP min fps {fmt(row['viewer_fps_min'])}" if n else "")
                )
                for c in row["renditions"]:
                    say(
                        f"      {c['rendition']:<6} {c['segments']} segments, EXTINF {fmt(c['extinf_min'], '.3f')}-{fmt(c['extinf_max'], '.3f')}, "
                        f"pictures {c['pictures_min']}-{c['pictures_max']}, {fmt(c['fps'], '.2f')} fps, skipped ticks "
                        f"{c['skipped_ticks']}, unstamped {c['unstamped']}, {fmt(c['kbit_s'], '.0f')} kbit/s"
                    )
        finally:
            if server is not d:
                server.stop()
            await d.set_feed(http, "none")  # the main one: a fresh test card (after a busy file)
            await d.set_feed(http, "test")
    summary = {}
    for row in rows:
        video = [c for c in row["renditions"] if c["fps"] is not None]
        summary[f"{row['ladder']} / {row['feed']} / {row['n']}"] = {
            "renditions": [c["rendition"] for c in row["renditions"]],
            "fps_min": min((c["fps"] for c in video), default=None),
            "skipped_ticks": sum(c["skipped_ticks"] or 0 for c in video) if row["feed"] == "test" else None,
            "pictures_min": min((c["pictures_min"] for c in video), default=None),
            "extinf": sorted({c["extinf_min"] for c in video} | {c["extinf_max"] for c in video}),
            "segments": min((c["segments"] for c in row["renditions"]), default=0),
            "worker_cores": row["worker_cores"],
        }
    return {"rows": rows, "summary": summary}


# --- part 3: HLS origin ----------------------------------------------------------------------


def run_wrk(url: str, seconds: float, connections: int) -> dict[str, Any]:
    if shutil.which("wrk"):
        r = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "5s", "--latency", url],
            capture_output=True,
            text=True,
            timeout=seconds + 30,
        )
        text = r.stdout
        rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
        non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
        p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\b", text, re.M)
        p99_ms = None
        if p99:
            p99_ms = float(p99.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
        return {
            "tool": "wrk",
            "rps": float(rps.group(1)) if rps else None,
            "errors": int(non2xx.group(1)) if non2xx else 0,
            "p99_ms": p99_ms,
        }
    r = subprocess.run(
        [
            sys.executable,
            str(BENCH / "video_origin.py"),
            "load",
            "--url",
            url,
            "--connections",
            str(connections),
            "--seconds",
            str(seconds),
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    res = json.loads(r.stdout.strip().splitlines()[-1])
    return {"tool": "aiohttp", "rps": res["rps"], "errors": res["errors"], "p99_ms": None}


async def part_origin(
    d: Doithoai, args: argparse.Namespace, workdir: Path, http: aiohttp.ClientSession
) -> dict[str, Any]:
    await d.set_feed(http, "test")
    await asyncio.sleep(3)
    base = d.server.base_url
    sid = d.session_id
    top = (await renditions(http, base, sid))[0]
    rel = "" if top.name == "single" else f"{top.name}/"  # the top rendition's folder in the session's
    listed = parse_playlist(await top.playlist(http))
    small = rel + listed[-2][0]
    resources = {"index.m3u8": "index.m3u8"}
    if rel:
        resources[f"{rel}index.m3u8"] = f"{rel}index.m3u8"
    resources["segment"] = small
    # the biggest segment on disk (a busy picture's, from the fan-out part) when there is one
    # a typical one of those: the median of the segments more than twice the test card's
    small_size = (d.live_dir / small).stat().st_size
    big = sorted(
        (p for p in (d.live_dir / rel).iterdir()
         if re.fullmatch(r"\d+\.(ts|m4s)", p.name) and p.stat().st_size > 2 * small_size),
        key=lambda p: p.stat().st_size,
    )
    if big:
        resources["big segment"] = rel + big[len(big) // 2].name
    static = workdir / "static"
    for name in resources.values():  # copies of the files as they are now (playlists move on)
        copy = static / str(sid) / name
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(d.live_dir / name, copy)
    sizes = {k: (static / str(sid) / v).stat().st_size for k, v in resources.items()}
    origin = await asyncio.to_thread(
        start_helper, "static", workdir, ["video_origin.py", "serve", "--dir", str(static)]
    )
    rows: list[dict[str, Any]] = []
    try:
        for rnd in range(args.origin_rounds):
            for label, name in resources.items():
                order = [("doithoai", "live"), ("static", "live")]
                if label.endswith("index.m3u8"):  # aiohttp's floor: the same bytes from memory, no file system
                    order.append(("memory", "mem"))
                if rnd % 2:
                    order.reverse()
                for target, prefix in order:
                    srv = d.server if target == "doithoai" else origin
                    url = f"{srv.base_url}/{prefix}/{sid}/{name}"
                    await asyncio.to_thread(
                        wait_quiet,
                        args.wait_quiet,
                        [d.server.proc.pid, *children(d.server.proc.pid), origin.proc.pid],
                    )
                    meter = Meter({"server": srv.proc.pid, "worker": d.worker})
                    res = await asyncio.to_thread(run_wrk, url, args.origin_seconds, args.origin_connections)
                    cpu = meter.stop()
                    row = {
                        "round": rnd + 1,
                        "resource": label,
                        "target": target,
                        "bytes": sizes[label],
                        **res,
                        "server_cores": (cpu["server"] or 0) / cpu["seconds"],
                        "worker_cores": (cpu["worker"] or 0) / cpu["seconds"],
                    }
                    rows.append(row)
                    say(
                        f"  origin round {rnd + 1}: {label:<11} ({sizes[label]:>7} B) {target:<8} {fmt(row['rps'], '.0f'):>7} req/s "
                        f"p99 {fmt(row['p99_ms'])} ms, errors {row['errors']}, server {row['server_cores']:.2f} cores, "
                        f"media worker {row['worker_cores']:.2f}"
                    )
    finally:
        origin.stop("term")
    summary = {}
    for label in resources:
        ours = [r["rps"] for r in rows if r["resource"] == label and r["target"] == "doithoai"]
        theirs = [r["rps"] for r in rows if r["resource"] == label and r["target"] == "static"]
        memory = [r["rps"] for r in rows if r["resource"] == label and r["target"] == "memory"]
        ratios = [a / b for a, b in zip(ours, theirs, strict=True) if a and b]
        summary[label] = {
            "bytes": sizes[label],
            "doithoai_rps": median(ours),
            "static_rps": median(theirs),
            "memory_rps": median(memory) if memory else None,
            "ratios": ratios,
            "ratio": median(ratios),
        }
    return {"rows": rows, "summary": summary, "connections": args.origin_connections}


# --- part 4: intake under video --------------------------------------------------------------


async def intake_load(
    d: Doithoai, args: argparse.Namespace, workdir: Path, tag: str, viewers: list[Proc]
) -> dict[str, Any]:
    ws_url = f"ws://{HOST}:{d.server.port}/socket.io/?EIO=4&transport=websocket"
    nproc = 2
    shares = [
        args.intake_submitters // nproc + (1 if i < args.intake_submitters % nproc else 0)
        for i in range(nproc)
    ]
    procs: list[Proc] = []
    script = "video_intake.py" if args.intake_mode == "paced" else "sio_load.py"
    for i, share in enumerate(shares):
        cfg = {
            "url": ws_url,
            "namespace": "/viewer",
            "submitters": share,
            "rate": args.intake_rate,
            "warmup": args.intake_warmup,
            "seconds": args.intake_seconds,
            "ack_timeout": 10.0,
            "max_per_submitter": 1_000_000,
            "session_id": d.session_id,
            "key_prefix": f"v-{tag}-{i}",
        }
        procs.append(await Proc.start(script, cfg, f"intake-{i}", workdir / "intake.log"))
    try:
        await asyncio.gather(*(p.line("READY", 60) for p in procs))
        exclude = [d.server.proc.pid, *children(d.server.proc.pid), *(v.pid for v in viewers)]
        quiet_before = await asyncio.to_thread(wait_quiet, args.wait_quiet, exclude)
        t0 = time.monotonic() + 0.2
        for p in procs:
            await p.send(f"GO {t0!r}")
        await asyncio.sleep(max(0.0, t0 + args.intake_warmup - time.monotonic()))
        worker = d.worker
        meter = Meter(
            {
                "server": d.server.proc.pid,
                "worker": worker,
                **{f"c{pid}": pid for pid in children(d.server.proc.pid) if pid != worker},
                **{f"v{i}": v.pid for i, v in enumerate(viewers)},
                **{f"g{i}": p.pid for i, p in enumerate(procs)},
            }
        )
        await asyncio.sleep(max(0.0, t0 + args.intake_warmup + args.intake_seconds - time.monotonic()))
        cpu = meter.stop()
        known = sum(v or 0.0 for k, v in cpu.items() if k not in ("seconds", "machine"))
        other = max(0.0, (cpu["machine"] or 0.0) - known)
        results = await asyncio.gather(*(p.result(60) for p in procs))
    finally:
        for p in procs:
            if p.proc.returncode is None:
                try:
                    await asyncio.wait_for(p.proc.wait(), 10)
                except TimeoutError:
                    p.proc.kill()
                    await p.proc.wait()
    lat = sorted(x for r in results for x in r["latencies_ms"])
    return {
        "qps": sum(r["window_ok"] for r in results) / args.intake_seconds,
        "p50": percentile(lat, 50),
        "p99": percentile(lat, 99),
        "max": lat[-1] if lat else None,
        "errors": sum(r.get("window_errors", 0) for r in results),
        "late_sends": sum(r.get("late_sends", 0) for r in results),
        "quiet_before": quiet_before,
        "other_cores": other / cpu["seconds"],
        "server_cores": (cpu["server"] or 0) / cpu["seconds"],
        "worker_cores": (cpu["worker"] or 0) / cpu["seconds"],
    }


async def part_intake(
    d: Doithoai, args: argparse.Namespace, workdir: Path, http: aiohttp.ClientSession
) -> dict[str, Any]:
    links = d.links
    rows: list[dict[str, Any]] = []
    for rnd in range(args.intake_rounds):
        order = ["none", "video"] if rnd % 2 == 0 else ["video", "none"]
        for cond in order:
            viewers: list[Proc] = []
            if cond == "none":
                await d.set_feed(http, "none")
            else:
                await d.set_feed(http, "test")
                if args.intake_viewers:
                    viewers, _ = await start_viewers(
                        links["whep_url"], links["watch_token"], args.intake_viewers, 0, workdir
                    )
            try:
                await asyncio.sleep(1.0)
                res = await intake_load(d, args, workdir, f"{rnd}{cond}", viewers)
            finally:
                for p in viewers:
                    await p.stop()
            res.update(round=rnd + 1, condition=cond)
            rows.append(res)
            say(
                f"  intake round {rnd + 1} {cond:<5}: {res['qps']:.0f} q/s  p50 {res['p50']:.1f}  p99 {res['p99']:.1f}  "
                f"max {fmt(res['max'])} ms  errors {res['errors']}  late sends {res['late_sends']}  "
                f"server {res['server_cores']:.2f} cores, media worker {res['worker_cores']:.2f}, rest of machine {res['other_cores']:.2f}"
            )
    await d.set_feed(http, "test")
    by = {c: [r for r in rows if r["condition"] == c] for c in ("none", "video")}
    ratios = [v["p99"] / n["p99"] for n, v in zip(by["none"], by["video"], strict=True) if n["p99"]]
    return {
        "rows": rows,
        "summary": {
            "none_p99": median([r["p99"] for r in by["none"]]),
            "video_p99": median([r["p99"] for r in by["video"]]),
            "none_p50": median([r["p50"] for r in by["none"]]),
            "video_p50": median([r["p50"] for r in by["video"]]),
            "none_qps": median([r["qps"] for r in by["none"]]),
            "video_qps": median([r["qps"] for r in by["video"]]),
            "ratios": ratios,
            "ratio": median(ratios),
        },
    }


# --- report ----------------------------------------------------------------------------------


def verdict(ok: bool | None) -> str:
    return "-" if ok is None else ("MET" if ok else "NOT MET")


def print_summary(res: dict[str, Any], args: argparse.Namespace) -> None:
    say("\nsummary (medians over rounds)")
    say(f"{'figure':<58} {'doithoai':>14} {'baseline':>14} {'ratio':>8}  goal")
    say("-" * 110)
    lat = (res.get("latency") or {}).get("summary")
    if lat:
        say(
            f"{'WebRTC glass-to-glass, test pattern, p50 / p95 (ms)':<58} {fmt(lat['webrtc_p50'], '.0f'):>6} / {fmt(lat['webrtc_p95'], '.0f'):<5} "
            f"{'':>14} {'':>8}  < 500 ms: {verdict(lat['webrtc_p95'] < 500)}"
        )
        say(
            f"{'WebRTC via WHIP ingest (publish+decode+encode) p50 / p95':<58} {fmt(lat['whip_p50'], '.0f'):>6} / {fmt(lat['whip_p95'], '.0f'):<5} "
            f"{'':>14} {'':>8}  < 500 ms: {verdict(lat['whip_p95'] < 500)}"
        )
        say(
            f"{'HLS segment available (first picture) p50 / p95 (ms)':<58} {fmt(lat['hls_available_p50'], '.0f'):>6} / {fmt(lat['hls_available_p95'], '.0f'):<5}"
        )
    glass = (res.get("glass") or {}).get("summary")
    if glass:
        whep = (glass.get("whep") or {}).get("p50")
        for player, g in glass.items():
            goal = GLASS_GOALS_MS.get(player)
            ratio = g["p50"] / whep if whep and player != "whep" else None
            say(
                f"{(GLASS_LABELS[player] + ', p50 / p90 (ms)'):<58} {fmt(g['p50'], '.0f'):>6} / {fmt(g['p90'], '.0f'):<5} "
                f"{(fmt(whep, '.0f') + ' (WHEP)') if ratio else '':>14} {fmt(ratio, '.0f') + 'x' if ratio else '':>8}  "
                + (f"<= {goal / 1000:g} s: {verdict(g['p50'] <= goal if g['p50'] == g['p50'] else None)}" if goal else "baseline")
                + f"  [screenshots {fmt(g['screenshot_p50'], '.0f')} ms; {','.join(g['sizes'])}; machine {fmt(g['machine_cores'], '.2f')} cores, load {fmt(g['load'], '.2f')}]"
            )
    fan = (res.get("fanout") or {}).get("summary")
    if fan:
        say(
            f"{'WebRTC cores per viewer (at N=' + str(fan['top_n']) + ' / aiortc ' + fan['baseline_codec'] + ' per viewer)':<58} "
            f"{fmt(fan['doithoai_per_viewer'], '.4f'):>14} {fmt(fan['aiortc_per_viewer'], '.4f'):>14} "
            f"{fmt(fan['ratio'], '.0f'):>7}x  >= 20x: {verdict(fan['ratio'] >= 20 if fan['ratio'] else None)}"
        )
        if fan.get("busy_per_viewer") is not None:
            say(
                f"{'  same, busy picture at ~2.5 Mbit/s':<58} {fmt(fan['busy_per_viewer'], '.4f'):>14} "
                f"{fmt(fan['aiortc_per_viewer'], '.4f'):>14} {fmt(fan['busy_ratio'], '.0f'):>7}x  >= 20x: "
                f"{verdict(fan['busy_ratio'] >= 20 if fan['busy_ratio'] else None)}"
            )
        say(
            f"{'720p kept real time at N=' + str(fan['top_n']) + ': min fps per viewer, skipped ticks':<58} "
            f"{fmt(fan['top_fps_min']):>8}, {fan['top_skipped_ticks']:<4}  EXTINF {sorted({x for x in fan['top_extinf'] if x is not None})}"
        )
    lad = (res.get("ladder") or {}).get("summary")
    if lad:
        for key, g in lad.items():
            ok = g["fps_min"] is not None and g["fps_min"] >= 24.9 and not g["skipped_ticks"]
            say(
                f"{'ladder ' + key + ' viewers: min fps, skipped ticks':<58} {fmt(g['fps_min'], '.2f'):>8}, {fmt(g['skipped_ticks'], 'd'):<5}"
                f"{'':>14} {'':>8}  25 fps, 0 skipped: {verdict(ok)}  [{','.join(g['renditions'])}; "
                f"min {g['pictures_min']} pictures/segment, EXTINF {g['extinf']}, worker {g['worker_cores']:.2f} cores]"
            )
    org = (res.get("origin") or {}).get("summary")
    if org:
        for label, s in org.items():
            say(
                f"{'HLS origin req/s, ' + label + ' (' + str(s['bytes']) + ' B) vs add_static':<58} {fmt(s['doithoai_rps'], '.0f'):>14} "
                f"{fmt(s['static_rps'], '.0f'):>14} {fmt(s['ratio'], '.2f'):>8}"
            )
            if s.get("memory_rps"):
                say(
                    f"{'  same bytes from memory (aiohttp floor)':<58} {fmt(s['doithoai_rps'], '.0f'):>14} "
                    f"{fmt(s['memory_rps'], '.0f'):>14} {fmt(s['doithoai_rps'] / s['memory_rps'], '.2f'):>8}"
                )
    it = (res.get("intake") or {}).get("summary")
    if it:
        say(
            f"{'intake p99 with video+' + str(args.intake_viewers) + ' viewers / feed none (ms)':<58} {fmt(it['video_p99']):>14} "
            f"{fmt(it['none_p99']):>14} {fmt(it['ratio'], '.2f'):>8}  <= 1.5: {verdict(it['ratio'] <= 1.5 if it['ratio'] == it['ratio'] else None)}"
        )


async def run_all(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    res: dict[str, Any] = {}
    d = Doithoai(args.doithoai, workdir, ladder=args.ladder)
    try:
        async with aiohttp.ClientSession() as http:
            await d.wait_state(http, "live", 30)
            say(f"doithoai on {d.server.base_url}, session {d.session_id}, media worker pid {d.worker}")
            if args.renice_worker:  # an experiment: does a lower priority for the encode help intake?
                worker = d.worker
                if worker is None:
                    raise SystemExit("--renice-worker: the server runs no media worker")
                os.setpriority(os.PRIO_PROCESS, worker, args.renice_worker)
                say(f"media worker reniced to {args.renice_worker}")
            for part in parts:
                started = time.monotonic()
                say(f"\n== {part}")
                fn = {
                    "latency": part_latency,
                    "glass": part_glass,
                    "ladder": part_ladder,
                    "fanout": part_fanout,
                    "origin": part_origin,
                    "intake": part_intake,
                }[part]
                res[part] = await fn(d, args, workdir, http)
                res[part]["took_s"] = time.monotonic() - started
    finally:
        d.stop()
        for helper in _busy_servers:
            helper.stop("term")
        log = d.server.log_tail(400)
        issues = [ln for ln in log.splitlines() if " ERROR " in ln or " WARNING " in ln or "Traceback" in ln]
        res["server_log_issues"] = issues[-30:]
    return res


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--parts", default=",".join(PARTS), help="comma list of " + ", ".join(PARTS))
    parser.add_argument("--doithoai", default=default_doithoai())
    parser.add_argument("--latency-rounds", type=int, default=1)
    parser.add_argument("--latency-seconds", type=float, default=10.0)
    parser.add_argument("--glass-players", default="whep,plain,session",
                        help="comma list of bench/video_hls_player.py's players: whep, plain, ll, session")
    parser.add_argument("--glass-rounds", type=int, default=1)
    parser.add_argument("--glass-seconds", type=float, default=20.0)
    parser.add_argument("--glass-settle", type=float, default=6.0,
                        help="seconds of playing before sampling (hls.js finds its distance to the edge)")
    parser.add_argument("--glass-rate", type=float, default=5.0, help="pictures read per second")
    parser.add_argument("--fanout-rounds", type=int, default=1)
    parser.add_argument("--fanout-seconds", type=float, default=6.0)
    parser.add_argument("--fanout-viewers", default="0,5,10,20")
    parser.add_argument(
        "--busy-viewers", default="0,20", help="N for the busy ~2.5 Mbit/s picture ('' to skip)"
    )
    parser.add_argument("--baseline-viewers", default="1,2,4")
    parser.add_argument("--baseline-codec", choices=["h264", "vp8"], default="h264")
    parser.add_argument(
        "--settle", type=float, default=1.5, help="seconds between connecting viewers and the window"
    )
    parser.add_argument("--ladder", help="the main server's video_ladder (default: the server's default)")
    parser.add_argument("--ladders", default="720p,480p,360p,audio",
                        help="';'-separated ladders measured on servers of their own in part ladder")
    parser.add_argument("--ladder-viewers", type=int, default=10)
    parser.add_argument("--ladder-feeds", default="test,busy",
                        help="test (stamped: skipped ticks read) and busy (the ~2.5 Mbit/s picture)")
    parser.add_argument("--ladder-seconds", type=float, default=8.0)
    parser.add_argument("--origin-rounds", type=int, default=2)
    parser.add_argument("--origin-seconds", type=float, default=3.0)
    parser.add_argument("--origin-connections", type=int, default=50)
    parser.add_argument("--intake-rounds", type=int, default=3)
    parser.add_argument("--intake-mode", choices=["paced", "closed"], default="paced")
    parser.add_argument("--intake-submitters", type=int, default=100)
    parser.add_argument("--intake-rate", type=float, default=5.0, help="questions/s per paced submitter")
    parser.add_argument("--intake-warmup", type=float, default=2.0)
    parser.add_argument("--intake-seconds", type=float, default=10.0)
    parser.add_argument("--intake-viewers", type=int, default=10)
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=10.0,
        help="before each measured window, wait up to this long for the rest of the machine to idle",
    )
    parser.add_argument(
        "--renice-worker", type=int, default=0, help="experiment: nice value for the media worker"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work dir (data, logs)")
    parser.add_argument("--json", type=Path, help="also write the full result here")
    args = parser.parse_args()
    unknown = {p.strip() for p in args.parts.split(",") if p.strip()} - set(PARTS)
    if unknown:
        parser.error(f"unknown parts: {sorted(unknown)}")

    # the busy picture's pull from loopback (busy_feed): for the servers and the CLI that sets feeds
    os.environ.setdefault("DOITHOAI_FEED_ALLOWED_NETWORKS", "127.0.0.0/8")
    workdir = Path(tempfile.mkdtemp(prefix="doithoai-video-"))
    say(
        f"{os.cpu_count()} CPUs, load {loadavg():.2f}; workdir {workdir}; wrk: {shutil.which('wrk') or 'not installed (aiohttp load)'}"
    )
    started = time.monotonic()
    try:
        res = asyncio.run(run_all(args, workdir))
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    res["took_s"] = time.monotonic() - started
    print_summary(res, args)
    if res.get("server_log_issues"):
        say("\nserver log warnings/errors (last ones):")
        for ln in res["server_log_issues"][-10:]:
            say("  " + ln[:240])
    say(f"\ntook {res['took_s']:.0f} s")
    doc = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "cpus": os.cpu_count(),
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "result": res,
    }
    out = RESULTS / f"video-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(doc, indent=2, ensure_ascii=False, default=str)
    out.write_text(text)
    if args.json:
        args.json.write_text(text)
    say(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
