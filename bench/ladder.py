"""The ladder's cost (docs/benchmarks.md "The ladder"): the real programme (stream/programme.py) at
real time, with the top rendition only (the baseline) and with each ladder asked for, on the test
card (a near-still picture) and on a busy one (random 16×16 blocks, a new picture every tick, fed
as a source would: every encoder spends its whole rate), every output written as live (the top's packets, the smaller renditions' encodes, every
rendition's segmenter and playlists; the WebRTC relay with no viewer). Printed side by side: CPU
seconds per second of programme (this process, all its threads), its ratio to the baseline of the
same run, and the ticks skipped (the encode fell more than half a second behind). Rounds
alternate the order, so a neighbour's load falls on every ladder alike.

    .venv/bin/python bench/ladder.py                                  # 60 s each, one round, ~6 min
    .venv/bin/python bench/ladder.py --seconds 30 --rounds 3 --pictures busy --ladders 720p 720p,360p,audio
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from stream.hls.rendition import parse_ladder  # noqa: E402
from stream.programme import Picture, Programme  # noqa: E402
from stream.relay import Relay  # noqa: E402

LADDERS = ["720p", "720p,480p,360p,audio", "720p,360p,audio"]
PICTURES = ["card", "busy"]
BUSY_FRAMES = 50  # two seconds of pictures that never repeat within the GOP


def busy_frames() -> list[av.VideoFrame]:
    rng = np.random.default_rng(1)
    frames = []
    for _ in range(BUSY_FRAMES):
        blocks = rng.integers(0, 256, (720 // 16, 1280 // 16, 3), dtype=np.uint8)
        rgb = blocks.repeat(16, axis=0).repeat(16, axis=1)
        frames.append(av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p"))
    return frames


async def feed_pictures(programme: Programme, frames: list[av.VideoFrame]) -> None:
    """A source at 25 fps, as a pull or WHIP one writes its decoded pictures."""
    start, n = time.monotonic(), 0
    while True:
        programme.feed.put_picture(frames[n % len(frames)])
        n += 1
        await asyncio.sleep(max(0.0, start + n / 25 - time.monotonic()))


async def one_run(ladder: str, seconds: float, folder: Path, busy: list[av.VideoFrame] | None) -> dict[str, float]:
    loop = asyncio.get_running_loop()
    programme = Programme(1, folder, Picture(ladder=parse_ladder(ladder)), Relay(), loop, lambda state: None)
    source = None
    if busy is not None:
        programme.mode = "feed"
        source = asyncio.create_task(feed_pictures(programme, busy))
    programme.start()
    # counted from the first tick: opening the encoders is not the programme's steady cost
    while programme.frames == 0:  # noqa: ASYNC110 (the encode thread counts; no event to wait on)
        await asyncio.sleep(0.01)
    cpu, wall, frames, late = time.process_time(), time.monotonic(), programme.frames, programme.late_ticks
    await asyncio.sleep(seconds)
    cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    frames, late = programme.frames - frames, programme.late_ticks - late
    await programme.stop()
    if source is not None:
        source.cancel()
    return {"cpu": cpu / wall, "fps": frames / wall, "skipped": late, "failures": programme.failures}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="programme seconds per run")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--ladders", nargs="+", default=LADDERS, help="the first is the baseline")
    parser.add_argument("--pictures", nargs="+", default=PICTURES, choices=PICTURES)
    args = parser.parse_args()
    results: dict[tuple[str, str], list[dict[str, float]]] = {
        (picture, ladder): [] for picture in args.pictures for ladder in args.ladders}
    frames = busy_frames() if "busy" in args.pictures else []
    with tempfile.TemporaryDirectory(prefix="bench-ladder-") as tmp:
        for rnd in range(args.rounds):
            order = args.ladders if rnd % 2 == 0 else list(reversed(args.ladders))
            for picture in args.pictures:
                for ladder in order:
                    result = await one_run(ladder, args.seconds, Path(tmp) / f"{rnd}-{picture}-{ladder}",
                                           frames if picture == "busy" else None)
                    results[picture, ladder].append(result)
                    print(f"round {rnd + 1} {picture} {ladder:24} {result['cpu']:.2f} CPU s/s  "
                          f"{result['fps']:.2f} fps  skipped {result['skipped']:.0f}", flush=True)
    print(f"\n{args.rounds} round(s) of {args.seconds:.0f} s, {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.2f} at the end; medians")
    print(f"{'picture':8} {'ladder':24} {'CPU s per s':>12} {'× baseline':>11} {'fps':>6} {'skipped ticks':>14}")
    for (picture, ladder), rows in results.items():
        base = statistics.median(r["cpu"] for r in results[picture, args.ladders[0]])
        cpu = statistics.median(r["cpu"] for r in rows)
        failed = "  (the encode failed and started again!)" if any(r["failures"] for r in rows) else ""
        print(f"{picture:8} {ladder:24} {cpu:12.2f} {cpu / base:11.2f} "
              f"{statistics.median(r['fps'] for r in rows):6.2f} {sum(r['skipped'] for r in rows):14.0f}{failed}")


if __name__ == "__main__":
    asyncio.run(main())
