"""Recording benchmark (docs/recording.md): what recording costs the live hour, and how fast a
session is finalised and mastered afterwards. Every figure is printed next to its baseline from
the same run.

1. cost      recording on against off (and on with --recording-fsync), rounds alternating the
             order: one `doithoai serve --no-rate-limit` per condition with one live session on the
             720p test pattern, paced question intake from bench/video_intake.py's clients (p99 ack
             latency), the media worker's CPU, and the encode's real time read from the DVR
             segments' burnt-in frame counter (ticks skipped). Goal: p99 and encode within 1.1x.
2. finalize  a 120-minute programme built quickly from a real recording (a few seconds of the
             recorder's own output, its fragments repeated with moving timestamps), then timed:
             the portal MP4 remux (stream/finalize.py remux_portal) ÷ programme duration, goal
             ≤ 1/100; the broadcast master with the video kept (stream/master.py, two-pass
             loudnorm) ÷ duration, goal ≤ 1/50; the master with a 1080p re-encode on a shorter
             programme (--hd-minutes) ÷ its duration, reported. Baseline: copying the file (cp)
             and reading it through the demuxer (`ffmpeg -c copy -f null`), same run.

    .venv/bin/python bench/recording.py                       # everything, ~15 minutes
    .venv/bin/python bench/recording.py --parts finalize --minutes 30
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import aiohttp
import av

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
for path in (str(BENCH), str(ROOT)):
    if path not in sys.path:
        sys.path.insert(0, path)

from intake import RESULTS, default_doithoai  # noqa: E402
from video import Doithoai, hls_window_check, intake_load, say  # noqa: E402

from stream.recording_files import RecordingFiles  # noqa: E402

CONDITIONS = {"off": {"DOITHOAI_RECORDING": "0"}, "on": {"DOITHOAI_RECORDING": "1"},
              "fsync": {"DOITHOAI_RECORDING": "1", "DOITHOAI_RECORDING_FSYNC": "1"}}


# --- part 1: what recording costs the live hour ------------------------------------------------


async def one_condition(args: argparse.Namespace, workdir: Path, name: str, rnd: int) -> dict[str, Any]:
    saved = {k: os.environ.get(k) for k in ("DOITHOAI_RECORDING", "DOITHOAI_RECORDING_FSYNC")}
    os.environ.update(CONDITIONS[name])
    try:
        d = Doithoai(args.doithoai, workdir / f"{name}-{rnd}")
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    try:
        async with aiohttp.ClientSession() as http:
            await d.wait_state(http, "live", 30)
            if name != "off":  # the recorder has started its run
                index = d.data_dir / "recordings" / str(d.session_id) / "programme.idx"
                deadline = time.monotonic() + 30
                while not index.exists() and time.monotonic() < deadline:  # noqa: ASYNC110 - a file, not an event
                    await asyncio.sleep(0.2)
                assert index.exists(), "the recording did not start"
            await asyncio.sleep(1.0)
            w0 = time.time() + 0.2 + args.intake_warmup
            res = await intake_load(d, args, workdir, f"{name}{rnd}", [])
            w1 = time.time()
            res["encode"] = await hls_window_check(http, d, w0, w1, stamped=True)
    finally:
        d.stop()
    res["condition"] = name
    if name != "off":
        size = (d.data_dir / "recordings" / str(d.session_id) / "programme.ts").stat().st_size
        res["recording_mb"] = size / 1e6
    shutil.rmtree(d.data_dir, ignore_errors=True)
    return res


async def part_cost(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    names = ["off", "on", "fsync"]
    for rnd in range(args.rounds):
        order = names if rnd % 2 == 0 else list(reversed(names))
        for name in order:
            res = await one_condition(args, workdir, name, rnd)
            res["round"] = rnd + 1
            rows.append(res)
            enc = res["encode"]
            say(f"  round {rnd + 1} {name:<5}: p50 {res['p50']:.1f}  p99 {res['p99']:.1f} ms  "
                f"{res['qps']:.0f} q/s  errors {res['errors']}  media worker {res['worker_cores']:.2f} cores  "
                f"segments {enc['segments']}  skipped ticks {enc['skipped_ticks']}")
    by = {n: [r for r in rows if r["condition"] == n] for n in names}

    def ratio(name: str, key: str) -> float | None:
        pairs = [(r[key], o[key]) for r, o in zip(by[name], by["off"], strict=True) if o[key]]
        return statistics.median(a / b for a, b in pairs) if pairs else None

    summary: dict[str, Any] = {n: {"p99": statistics.median(r["p99"] for r in by[n]),
                   "worker_cores": statistics.median(r["worker_cores"] for r in by[n]),
                   "skipped_ticks": sum(r["encode"]["skipped_ticks"] or 0 for r in by[n])} for n in names}
    summary["p99_ratio_on"] = ratio("on", "p99")
    summary["p99_ratio_fsync"] = ratio("fsync", "p99")
    summary["worker_ratio_on"] = ratio("on", "worker_cores")
    summary["worker_ratio_fsync"] = ratio("fsync", "worker_cores")
    return {"rows": rows, "summary": summary}


# --- part 2: finalising a long session ---------------------------------------------------------


def record_seconds(directory: Path, seconds: float) -> Path:
    """A few seconds of the real recorder's output (the programme's test card, as recorded live)."""
    from stream.programme import Picture, Programme
    from stream.recorder import Recorder, RecordingSettings
    from stream.relay import Relay

    async def run() -> None:
        loop = asyncio.get_running_loop()
        programme = Programme(1, directory / "live", Picture(), Relay(), loop, lambda state: None)
        programme.recorder = Recorder(1, RecordingSettings(directory / "rec", start_free=0, warn_free=0,
                                                           floor_free=0), lambda *a: None)
        programme.record = True
        programme.start()
        await asyncio.sleep(seconds)
        await programme.stop()

    asyncio.run(run())
    return directory / "rec" / "1" / "programme.ts"


def lengthen(sample: Path, out: Path, minutes: float) -> float:
    """`sample`'s packets repeated with moving timestamps until the programme lasts `minutes`."""
    with av.open(str(sample)) as src:
        packets = [(p.stream.type, bytes(p), p.pts, p.is_keyframe, p.time_base)
                   for p in src.demux() if p.pts is not None and p.size]
        vt, at = src.streams.video[0], src.streams.audio[0]
        first = min(pts * tb for _, _, pts, _, tb in packets)
        # whole GOPs only: start at the first keyframe, stop before the last one
        keys = [i for i, p in enumerate(packets) if p[0] == "video" and p[3]]
        packets = packets[keys[0]:keys[-1]]
        # one loop's length: from its first frame to the frame after its last (by time, not by count:
        # the sample may have skipped ticks on a busy machine, and a loop must not overlap the next)
        times = [pts * tb for kind, _, pts, _, tb in packets if kind == "video"]
        span = Fraction(max(times) - min(times)) + Fraction(1, 25)
        with av.open(str(out), "w", format="mpegts") as dst:
            ov = dst.add_stream_from_template(vt)
            oa = dst.add_stream_from_template(at)
            loops = int(minutes * 60 / span) + 1
            for n in range(loops):
                shift = n * span
                for kind, data, pts, key, tb in packets:
                    packet = av.Packet(data)
                    packet.time_base = Fraction(1, 90000)
                    packet.pts = packet.dts = round((pts * tb - first + shift) * 90000)
                    packet.is_keyframe = key
                    packet.stream = ov if kind == "video" else oa
                    dst.mux(packet)
    return float(loops * span)


def timed(fn: Any, *a: Any) -> float:
    started = time.perf_counter()
    fn(*a)
    return time.perf_counter() - started


def staged(fn: Any, files: Any, profile: Any) -> tuple[float, dict[str, float]]:
    """The whole call's time and each step's (from the progress callback's step names)."""
    marks: list[tuple[str, float]] = []
    started = time.perf_counter()

    def progress(_fraction: float, step: str) -> None:
        if not marks or marks[-1][0] != step:
            marks.append((step, time.perf_counter()))

    fn(files, profile, progress)
    ended = time.perf_counter()
    ends = [at for _, at in marks[1:]] + [ended]
    return ended - started, {step: end - at for (step, at), end in zip(marks, ends, strict=True) if step != "done"}


def measuring_pass(programme: Path) -> dict[str, Any]:
    """The master's pass 1 as committed (loudnorm in linear mode at unity gain) against loudnorm run
    bare (dynamic mode: the whole normalisation done and thrown away), same run: time and what each
    measured."""
    from stream.master import DEFAULT_PROFILE, _loudnorm_json, measure_loudnorm

    started = time.perf_counter()
    linear = measure_loudnorm(programme, DEFAULT_PROFILE, 0.0, lambda *_: None, 0.0)
    linear_s = time.perf_counter() - started
    started = time.perf_counter()
    bare = subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-i", str(programme), "-vn", "-af",
                           "loudnorm=I=-23:TP=-2:LRA=15:print_format=json", "-f", "null", "-"],
                          capture_output=True, text=True, check=True)
    dynamic_s = time.perf_counter() - started
    dynamic = _loudnorm_json(bare.stderr)
    say(f"  pass 1: linear at unity {linear_s:.1f} s (I {linear['input_i']}, TP {linear['input_tp']}, "
        f"LRA {linear['input_lra']}); bare/dynamic (baseline) {dynamic_s:.1f} s (I {dynamic['input_i']}, "
        f"TP {dynamic['input_tp']}, LRA {dynamic['input_lra']}): x{dynamic_s / linear_s:.1f}")
    return {"pass1_linear_s": linear_s, "pass1_dynamic_s": dynamic_s,
            "pass1_i_difference_lu": abs(float(linear["input_i"]) - float(dynamic["input_i"]))}


def part_finalize(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from stream.finalize import remux_portal  # helper modules: stream/finalize.py, stream/master.py
    from stream.master import DEFAULT_PROFILE, make_master, profile_named

    sample = record_seconds(workdir / "sample", args.sample_seconds)
    res: dict[str, Any] = {}
    for label, minutes in (("long", args.minutes), ("hd", args.hd_minutes)):
        files = RecordingFiles(workdir / f"rec-{label}")
        files.directory.mkdir(parents=True)
        duration = lengthen(sample, files.video, minutes)
        size = files.video.stat().st_size
        say(f"  {label}: a {duration / 60:.1f}-minute programme, {size / 1e9:.2f} GB")
        row: dict[str, Any] = {"duration_s": duration, "bytes": size}
        row["copy_s"] = timed(shutil.copyfile, files.video, workdir / "copy.ts")
        os.unlink(workdir / "copy.ts")
        row["demux_s"] = timed(subprocess.run, ["ffmpeg", "-nostdin", "-v", "error", "-i", str(files.video),
                                                "-c", "copy", "-f", "null", "-"])
        if label == "long":
            row["remux_s"] = timed(remux_portal, files.video, files.portal_mp4, None, lambda *_: None)
            row.update(measuring_pass(files.video))
            row["master_keep_s"], stages = staged(make_master, files, DEFAULT_PROFILE)
            row.update({f"master_{stage}_s": took for stage, took in stages.items()})
        else:
            row["master_hd_s"] = timed(make_master, files, profile_named("hd1080"), lambda *_: None)
        for key in [k for k in row if k.endswith("_s") and k != "duration_s"]:
            row[key.replace("_s", "_ratio")] = row[key] / duration
        say("  " + "  ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()))
        res[label] = row
        shutil.rmtree(files.directory, ignore_errors=True)
    return res


def print_summary(res: dict[str, Any]) -> None:
    say("\n== summary")
    if "cost" in res:
        s = res["cost"]["summary"]
        say(f"  intake p99: off {s['off']['p99']:.1f} ms, on {s['on']['p99']:.1f} ms (x{s['p99_ratio_on']:.2f}), "
            f"fsync {s['fsync']['p99']:.1f} ms (x{s['p99_ratio_fsync']:.2f}); goal within 1.1x")
        say(f"  media worker: off {s['off']['worker_cores']:.2f}, on {s['on']['worker_cores']:.2f} "
            f"(x{s['worker_ratio_on']:.2f}), fsync {s['fsync']['worker_cores']:.2f} cores; skipped ticks "
            f"off {s['off']['skipped_ticks']}, on {s['on']['skipped_ticks']}, fsync {s['fsync']['skipped_ticks']}")
    if "finalize" in res:
        long, hd = res["finalize"]["long"], res["finalize"]["hd"]
        say(f"  {long['duration_s'] / 60:.0f} min programme: remux {long['remux_s']:.1f} s = 1/"
            f"{1 / long['remux_ratio']:.0f} of its duration (goal ≤ 1/100); master, video kept "
            f"{long['master_keep_s']:.1f} s = 1/{1 / long['master_keep_ratio']:.0f} (goal ≤ 1/50); baseline: "
            f"cp {long['copy_s']:.1f} s, demux {long['demux_s']:.1f} s")
        steps = ", ".join(f"{k[7:-2]} {v:.1f} s" for k, v in long.items()
                          if k.startswith("master_") and k.endswith("_s") and k != "master_keep_s")
        say(f"  the master's steps: {steps}; pass 1 as committed {long['pass1_linear_s']:.1f} s against "
            f"{long['pass1_dynamic_s']:.1f} s bare (x{long['pass1_dynamic_s'] / long['pass1_linear_s']:.1f}), "
            f"integrated loudness {long['pass1_i_difference_lu']:.2f} LU apart")
        say(f"  {hd['duration_s'] / 60:.0f} min programme: master with a 1080p re-encode {hd['master_hd_s']:.1f} s "
            f"= {hd['master_hd_ratio']:.2f}x its duration")


async def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    res: dict[str, Any] = {}
    for part in [p.strip() for p in args.parts.split(",") if p.strip()]:
        say(f"\n== {part}")
        if part == "cost":
            res["cost"] = await part_cost(args, workdir)
        elif part == "finalize":
            res["finalize"] = await asyncio.to_thread(part_finalize, args, workdir)
        else:
            raise SystemExit(f"unknown part {part!r}: cost, finalize")
    return res


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", default="cost,finalize")
    parser.add_argument("--doithoai", default=default_doithoai())
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--intake-mode", choices=["paced", "closed"], default="paced")
    parser.add_argument("--intake-submitters", type=int, default=100)
    parser.add_argument("--intake-rate", type=float, default=5.0)
    parser.add_argument("--intake-warmup", type=float, default=2.0)
    parser.add_argument("--intake-seconds", type=float, default=10.0)
    parser.add_argument("--wait-quiet", type=float, default=5.0)
    parser.add_argument("--minutes", type=float, default=120.0, help="the long programme for remux and master")
    parser.add_argument("--hd-minutes", type=float, default=3.0, help="the programme for the 1080p master")
    parser.add_argument("--sample-seconds", type=float, default=8.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-recording-") as tmp:
        res = asyncio.run(run(args, Path(tmp)))
    print_summary(res)
    RESULTS.mkdir(exist_ok=True)
    out = args.json or RESULTS / f"recording-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(res, indent=2, default=str))
    say(f"\nresults in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
