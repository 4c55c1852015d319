"""Paced question intake for bench/video.py ("video never stalls the questions").

bench/sio_load.py's submitters are closed-loop: each sends its next question as soon as the last
ack arrives, so they saturate the server and their latency measures throughput, not stalls. Here
each of K submitters (the same minimal Socket.IO client, `sio_load.Submitter`, and the same payloads)
sends one question every 1/rate seconds on a fixed schedule (random phase), a fixed offered load
well below capacity: any extra latency is time the server's event loop did not get to the
question. A send whose slot came while the previous ack was still awaited goes out at once, and its
latency is counted from its slot (no coordinated omission); `late_sends` says how often that
happened.

Protocol with the parent: exactly bench/sio_load.py's (one JSON argument with url, namespace,
submitters, rate, warmup, seconds, ack_timeout, session_id, key_prefix; `READY <n>`; `GO <t0>` on
stdin; `RESULT <json>` with latencies_ms of the ok acks whose slot fell inside the window).
"""

from __future__ import annotations

import asyncio
import json
import random
import resource
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

from sio_load import Submitter, make_payload  # noqa: E402


async def run_worker(cfg: dict[str, Any]) -> dict[str, Any]:
    url: str = cfg["url"]
    namespace: str = cfg.get("namespace", "/viewer")
    rate: float = float(cfg["rate"])
    ack_timeout: float = cfg.get("ack_timeout", 10.0)
    connector = aiohttp.TCPConnector(limit=0)
    session = aiohttp.ClientSession(connector=connector)
    gate = asyncio.Semaphore(25)
    connect_errors: Counter[str] = Counter()

    async def open_one() -> Submitter | None:
        async with gate:
            try:
                return await Submitter.connect(session, url, namespace, within=10.0)
            except Exception as exc:  # noqa: BLE001 - counted and reported
                connect_errors[f"{type(exc).__name__}: {str(exc)[:120]}"] += 1
                return None

    subs = [s for s in await asyncio.gather(*(open_one() for _ in range(cfg["submitters"]))) if s is not None]
    print(f"READY {len(subs)}", flush=True)
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    parts = line.split()
    if not parts or parts[0] != "GO":
        return {"aborted": True}
    t0 = float(parts[1])
    t_measure = t0 + cfg["warmup"]
    t_end = t_measure + cfg["seconds"]
    interval = 1.0 / rate
    latencies: list[float] = []
    ok = errors_in_window = late = 0
    errors: Counter[str] = Counter()
    cpu_marks: dict[str, float] = {}

    def cpu() -> float:
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime

    async def sampler() -> None:
        await asyncio.sleep(max(0.0, t_measure - time.monotonic()))
        cpu_marks["start"] = cpu()
        await asyncio.sleep(max(0.0, t_end - time.monotonic()))
        cpu_marks["end"] = cpu()

    async def one(index: int, sub: Submitter) -> None:
        nonlocal ok, errors_in_window, late
        slot = t0 + random.random() * interval
        n = 0
        while slot < t_end:
            now = time.monotonic()
            if slot > now:
                await asyncio.sleep(slot - now)
            elif now - slot > 0.001:
                late += 1
            payload = make_payload(cfg["session_id"], f"{cfg['key_prefix']}-{index}-{n}", index * 7919 + n)
            n += 1
            try:
                ack = await sub.call("submit_question", payload, ack_timeout)
            except Exception as exc:  # noqa: BLE001 - a timeout or a dead connection
                errors[type(exc).__name__] += 1
                if t_measure <= slot < t_end:
                    errors_in_window += 1
                if not isinstance(exc, TimeoutError):
                    return
                slot += interval
                continue
            done = time.monotonic()
            if t_measure <= slot < t_end:
                if isinstance(ack, dict) and ack.get("ok") is True:
                    ok += 1
                    latencies.append((done - slot) * 1000.0)
                else:
                    errors_in_window += 1
                    code = ack.get("error", {}).get("code") if isinstance(ack, dict) else None
                    errors[str(code or repr(ack)[:60])] += 1
            slot += interval

    task = asyncio.create_task(sampler())
    await asyncio.gather(*(one(i, s) for i, s in enumerate(subs)))
    await task
    await asyncio.gather(*(s.close() for s in subs))
    await session.close()
    return {
        "connected": len(subs),
        "connect_errors": dict(connect_errors),
        "window_ok": ok,
        "window_errors": errors_in_window,
        "latencies_ms": latencies,
        "errors": dict(errors),
        "late_sends": late,
        "cpu_s": cpu_marks.get("end", 0.0) - cpu_marks.get("start", 0.0),
    }


def main() -> int:
    cfg = json.loads(sys.argv[1])
    result = asyncio.run(run_worker(cfg))
    sys.stdout.write("RESULT " + json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
