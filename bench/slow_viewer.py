"""Soak: a viewer that stops reading for minutes while the board keeps changing questions.

Issue 10, item 6b: "A viewer that joins and stops reading, while staff keep changing questions,
makes the server buffer every event for it without bound." server/socket_limits.py bounds what may
wait for one client (socket_outbox_messages, socket_outbox_bytes) and drops the client that passes
it. This script shows what that costs and saves over minutes, with the other viewers' latency beside.

Runs, one after the other, each a fresh `doithoai serve --no-rate-limit` process (bench/fanout.py's
setup: a live session, an editor with an API token, questions sent over the public API, accepted):

  1. reading   --viewers normal viewers, nobody stalls: the reference;
  2. stalled   the same, plus --stalled viewers that join and then never read again (a raw TCP
               socket with a 4 KiB receive buffer, reading paused after the `join` answer; it
               keeps answering engine.io's pings blindly, so only the outbound bound can end it);
  3. unbounded run 2 with the bounds set out of reach (what the code did before the limits).

Drive: for --minutes (5), the editor stars and unstars one public question (whose text is ~1,900
characters, so each `question` event is ~2.6 KB), one action every 1/--rate seconds (20/s; the next
waits for the previous ack). t_send(k) = time.monotonic() just before the emit; a viewer's k-th
`question` event for that id is the k-th action (bench/fanout.py's matching), its arrival
time.monotonic() in the reader (one clock for every process on Linux).

Printed per run: the server's RSS (VmRSS of the serve process) every --sample seconds and its
start/max/end, the normal viewers' delivered/expected and latency p50/p99/max, when each stalled
viewer was dropped (seconds and actions into the drive; the server's log line), and the log's
warnings/errors.

    .venv/bin/python bench/slow_viewer.py                          # 5 min each: ~17 min in all
    .venv/bin/python bench/slow_viewer.py --targets reading,stalled --minutes 3
    .venv/bin/python bench/slow_viewer.py --minutes 0.5 --viewers 10  # a quick look (no drop yet)

The full result also goes to bench/results/slow_viewer-<time>.json (gitignored).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import socket
import statistics
import struct
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

from fanout import accept_all, connect_moderators, log_issues, start_doithoai  # noqa: E402
from fanout_worker import LightClient  # noqa: E402
from intake import HOST, Server, default_doithoai, loadavg, percentile  # noqa: E402
from sio_load import make_payload  # noqa: E402

RESULTS = BENCH / "results"
LONG_TEXT = ("Xin hỏi về quy hoạch sử dụng đất của phường Lạch Tray, Ngô Quyền trong năm tới. " * 23)[:1900]
UNBOUNDED = {"DOITHOAI_SOCKET_OUTBOX_MESSAGES": str(10**12), "DOITHOAI_SOCKET_OUTBOX_BYTES": str(10**15)}


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class StalledViewer:
    """Joins the session, then never reads: reading paused on a socket with a 4 KiB receive buffer.
    Pongs blindly every second; the first pong that fails tells when the server ended it."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.ended_at: float | None = None
        self.task: asyncio.Task[None] | None = None

    @classmethod
    async def join(cls, port: int, session_id: int) -> StalledViewer:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (HOST, port))
        reader, writer = await asyncio.open_connection(sock=sock)
        viewer = cls(reader, writer)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {HOST}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        if b" 101 " not in await reader.readuntil(b"\r\n\r\n"):
            raise RuntimeError("the stalled viewer's websocket was refused")
        await viewer._frame()  # engine.io OPEN
        viewer._send("40/viewer,")
        await viewer._frame()
        viewer._send(f'42/viewer,1["join",{{"session_id":{session_id}}}]')
        while not (await viewer._frame()).startswith("43/viewer,1"):
            pass
        transport = writer.transport
        assert isinstance(transport, asyncio.Transport)
        transport.pause_reading()
        viewer.task = asyncio.create_task(viewer._pong())
        return viewer

    async def _frame(self) -> str:
        head = await self.reader.readexactly(2)
        length = head[1] & 0x7F
        if length == 126:
            length = struct.unpack("!H", await self.reader.readexactly(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", await self.reader.readexactly(8))[0]
        return (await self.reader.readexactly(length)).decode()

    def _send(self, text: str) -> None:
        data, mask = text.encode(), os.urandom(4)
        self.writer.write(
            bytes([0x81, 0x80 | len(data)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        )

    async def _pong(self) -> None:
        try:
            while not self.writer.is_closing():
                self._send("3")
                await self.writer.drain()
                await asyncio.sleep(1)
        except (ConnectionError, OSError):
            pass
        self.ended_at = time.monotonic()

    def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
        self.writer.close()


class Viewer:
    """A normal viewer (bench/fanout_worker.py's light client): arrivals of the target's events."""

    def __init__(self) -> None:
        self.target: int | None = None
        self.arrivals: list[float] = []

    def on_event(self, t: float, name: str, args: list[Any]) -> None:
        if name == "question" and args and isinstance(args[0], dict) and args[0].get("id") == self.target:
            self.arrivals.append(t)


async def seed(http: aiohttp.ClientSession, server: Server, count: int) -> list[int]:
    ids = []
    for n in range(count):
        payload = {**make_payload(server.session_id, f"slow-{time.time_ns()}-{n}", n), "text": LONG_TEXT}
        async with http.post(
            f"{server.base_url}/api/v1/sessions/{server.session_id}/questions", json=payload
        ) as r:
            body = await r.json()
        if not body.get("ok"):
            raise RuntimeError(f"seeding failed: {body}")
        ids.append(int(body["question_id"]))
    return ids


async def run_load(args: argparse.Namespace, server: Server, stalled_count: int) -> dict[str, Any]:
    ws_url = f"ws://{HOST}:{server.port}/socket.io/?EIO=4&transport=websocket"
    async with aiohttp.ClientSession() as http:
        ids = await seed(http, server, 3)
        mods, _, joins = await connect_moderators(http, ws_url, server, 1)
        driver = mods[0]
        accepted = await accept_all(driver, joins[0]["questions"], ids)
        target = ids[0]
        version = accepted[target]["version"]
        viewers = [Viewer() for _ in range(args.viewers)]
        clients = []
        for v in viewers:
            v.target = target
            client = await LightClient.connect(http, ws_url, "/viewer", v.on_event)
            ack = await client.call("join", {"session_id": server.session_id}, within=30)
            if not ack.get("ok"):
                raise RuntimeError(f"viewer join failed: {ack}")
            clients.append(client)
        stalled = [await StalledViewer.join(server.port, server.session_id) for _ in range(stalled_count)]
        pid = server.proc.pid
        samples: list[tuple[float, float]] = []
        sends: list[float] = []
        start = time.monotonic()
        end = start + args.minutes * 60
        next_sample = start
        interval = 1.0 / args.rate
        while time.monotonic() < end:
            now = time.monotonic()
            if now >= next_sample:
                samples.append((now - start, rss_mib(pid)))
                next_sample += args.sample
            t_send = time.monotonic()
            sends.append(t_send)
            ack = await driver.call(
                "action",
                {"question_id": target, "action": "star", "version": version, "starred": len(sends) % 2 == 1},
                within=60,
            )
            if not ack.get("ok"):
                raise RuntimeError(f"action failed: {ack}")
            version = ack["question"]["version"]
            await asyncio.sleep(max(0.0, t_send + interval - time.monotonic()))
        samples.append((time.monotonic() - start, rss_mib(pid)))
        await asyncio.sleep(3)  # what is still on its way
        latencies: list[float] = []
        delivered = 0
        for v in viewers:
            # the k-th event is the k-th action (an event before the first send: the accept's)
            arrivals = [t for t in v.arrivals if t >= sends[0]]
            delivered += min(len(arrivals), len(sends))
            latencies += [(a - s) * 1000 for a, s in zip(arrivals, sends, strict=False)]
        latencies.sort()
        drops = []
        for s in stalled:
            at = None if s.ended_at is None else s.ended_at - start
            drops.append(
                {
                    "ended_s": at,
                    "actions_before": None
                    if s.ended_at is None
                    else sum(1 for t in sends if t <= s.ended_at),
                }
            )
            s.close()
        for client in [*clients, *mods]:
            await client.close()
    rss = [r for _, r in samples]
    return {
        "actions": len(sends),
        "rate": len(sends) / (args.minutes * 60),
        "expected": len(sends) * len(viewers),
        "delivered": delivered,
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "max_ms": latencies[-1] if latencies else float("nan"),
        "mean_ms": statistics.fmean(latencies) if latencies else float("nan"),
        "rss_start_mib": rss[0],
        "rss_max_mib": max(rss),
        "rss_end_mib": rss[-1],
        "rss_samples": samples,
        "stalled": drops,
        "loadavg": loadavg(),
    }


def run_target(target: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    saved = dict(os.environ)
    if target == "unbounded":
        os.environ.update(UNBOUNDED)
    try:
        server = start_doithoai(args.doithoai, workdir / target, moderators=1)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    try:
        result = asyncio.run(run_load(args, server, 0 if target == "reading" else args.stalled))
    finally:
        server.stop()
    issues = log_issues(server)
    result["target"] = target
    result["log"] = issues
    result["dropped_lines"] = [line for line in issues if "Socket.IO client dropped" in line]
    return result


def print_result(r: dict[str, Any]) -> None:
    print(f"\n== {r['target']}: {r['actions']} actions ({r['rate']:.1f}/s), load average {r['loadavg']:.1f}")
    print("   RSS MiB over time: " + "  ".join(f"{t:.0f}s {m:.1f}" for t, m in r["rss_samples"]))
    print(
        f"   RSS start {r['rss_start_mib']:.1f}  max {r['rss_max_mib']:.1f}  end {r['rss_end_mib']:.1f} MiB"
    )
    print(f"   viewers: {r['delivered']}/{r['expected']} delivered, p50 {r['p50_ms']:.1f} ms, "
          f"p99 {r['p99_ms']:.1f} ms, max {r['max_ms']:.1f} ms")  # fmt: skip
    for i, s in enumerate(r["stalled"]):
        if s["ended_s"] is None:
            print(f"   stalled viewer {i + 1}: still connected at the end")
        else:
            print(
                f"   stalled viewer {i + 1}: ended by the server {s['ended_s']:.0f} s in, after {s['actions_before']} actions"
            )
    for line in r["log"]:
        print("   log: " + line.splitlines()[0][:200])


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--targets", default="reading,stalled,unbounded", help="reading,stalled,unbounded")
    parser.add_argument("--minutes", type=float, default=5.0, help="drive length of each run")
    parser.add_argument("--rate", type=float, default=20.0, help="actions per second")
    parser.add_argument("--viewers", type=int, default=50, help="normal viewers, reading everything")
    parser.add_argument("--stalled", type=int, default=1, help="viewers that stop reading")
    parser.add_argument("--sample", type=float, default=15.0, help="seconds between RSS samples")
    parser.add_argument("--doithoai", default=default_doithoai())
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="slow-viewer-") as tmp:
        for target in args.targets.split(","):
            (Path(tmp) / target).mkdir()
            result = run_target(target, args, Path(tmp))
            print_result(result)
            results.append(result)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"slow_viewer-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({"args": vars(args), "results": results}, ensure_ascii=False, indent=1))
    print(f"\nfull result: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
