"""Load-generator worker for bench/intake.py: K closed-loop Socket.IO submitters in one process.

Client: a minimal Socket.IO v5 / Engine.IO v4 client written directly on aiohttp websockets
(websocket transport only, no polling handshake), not python-socketio's AsyncClient. Measured on
this 2-core machine against the echo server, the AsyncClient costs about 95 us of CPU per emit+ack
(packet objects, a task and an ack callback per call, stdlib json) against 30-40 us here: to drive
~10,000 acks/s it would need a whole core, the core the server under test needs too, so both targets
would partly measure the client. This client does exactly what a browser's socket.io-client does on the
wire for this use:

    GET ws://host:port/socket.io/?EIO=4&transport=websocket    (no Origin header)
    <- 0{"sid":..,"pingInterval":..}          engine.io open
    -> 40/viewer,                              connect the namespace
    <- 40/viewer,{"sid":..}                    (44/viewer,{..} = refused)
    -> 42/viewer,<id>["submit_question",{..}]  emit with ack
    <- 43/viewer,<id>[{..}]                    the ack
    <- 2   -> 3                                engine.io ping/pong

`python bench/sio_load.py --selfcheck URL` checks this client against python-socketio's own client
on a running server (same acks for the same emits).

Protocol with the parent (bench/intake.py): the parent starts this module with one JSON argument;
the worker connects all its submitters, prints `READY <connected>` and waits for `GO <t0>` on stdin,
where t0 is a time.monotonic() instant (CLOCK_MONOTONIC, shared by all processes on Linux). It
submits from t0, counts acks that arrive in [t0+warmup, t0+warmup+seconds), stops emitting at the
end of that window, waits for the acks still due (at most ack_timeout), closes, and prints one JSON
line with its results.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from collections import Counter
from typing import Any

import aiohttp

try:
    import orjson

    def _dumps(obj: Any) -> str:
        return orjson.dumps(obj).decode()

    _loads = orjson.loads
except ImportError:  # pragma: no cover - orjson is a dependency of the venv
    _dumps = json.dumps  # type: ignore[assignment]
    _loads = json.loads  # type: ignore[assignment]

NAMES = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Hoàng Cường", "Phạm Thu Dung", "Hoàng Minh Đức"]
ADDRESSES = [
    "12 Lạch Tray, Ngô Quyền, Hải Phòng",
    "45 Trần Phú, Ba Đình, Hà Nội",
    "7 Lê Lợi, Quận 1, TP. Hồ Chí Minh",
    "88 Điện Biên Phủ, Hải Châu, Đà Nẵng",
]
TEXTS = [
    "Xin hỏi lãnh đạo thành phố: bao giờ tuyến đường Lạch Tray được cải tạo và mở rộng như kế hoạch đã công bố?",
    "Đề nghị cho biết tiến độ giải phóng mặt bằng dự án khu dân cư phía tây và phương án tái định cư cho các hộ dân.",
    "Tôi muốn hỏi về thủ tục cấp giấy chứng nhận quyền sử dụng đất lần đầu, hiện nay mất bao lâu và cần những giấy tờ gì?",
    "Khu vực chúng tôi thường xuyên ngập úng khi mưa lớn; thành phố có kế hoạch nâng cấp hệ thống thoát nước không?",
]


class SioError(Exception):
    pass


class Submitter:
    """One connection, one emit at a time."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, namespace: str) -> None:
        self.ws = ws
        self.prefix = f"42{namespace},"
        self.ack_prefix = f"43{namespace},"
        self.next_id = 0
        self.events = 0  # server-initiated events received (broadcasts), ignored but counted

    @classmethod
    async def connect(
        cls, session: aiohttp.ClientSession, url: str, namespace: str, within: float
    ) -> Submitter:
        ws = await session.ws_connect(
            url, autoping=True, max_msg_size=0, timeout=aiohttp.ClientWSTimeout(ws_close=2)
        )
        try:
            msg = await ws.receive(timeout=within)
            if msg.type != aiohttp.WSMsgType.TEXT or not msg.data.startswith("0"):
                raise SioError(f"expected engine.io open, got {msg.type} {str(msg.data)[:80]!r}")
            await ws.send_str(f"40{namespace},")
            deadline = time.monotonic() + within
            while True:
                msg = await ws.receive(timeout=max(0.01, deadline - time.monotonic()))
                if msg.type != aiohttp.WSMsgType.TEXT:
                    raise SioError(f"namespace connect: {msg.type} {msg.extra!r}")
                data = msg.data
                if data == "2":
                    await ws.send_str("3")
                elif data.startswith(f"40{namespace},"):
                    return cls(ws, namespace)
                elif data.startswith(f"44{namespace},"):
                    raise SioError(f"namespace refused: {data[:200]}")
        except BaseException:
            await ws.close()
            raise

    async def call(self, event: str, payload: Any, within: float) -> Any:
        """Emit with an ack; return the ack's first argument."""
        self.next_id += 1
        ack_id = self.next_id
        ws = self.ws
        await ws.send_str(f"{self.prefix}{ack_id}{_dumps([event, payload])}")
        expected = f"{self.ack_prefix}{ack_id}["
        deadline = time.monotonic() + within
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            msg = await ws.receive(timeout=remaining)
            if msg.type != aiohttp.WSMsgType.TEXT:
                raise SioError(f"connection {msg.type.name.lower()}")
            data = msg.data
            if data.startswith(expected):
                args = _loads(data[len(expected) - 1 :])
                return args[0] if args else None
            if data == "2":
                await ws.send_str("3")
            elif data.startswith("42"):
                self.events += 1
            elif data.startswith("41") or data == "1":
                raise SioError("disconnected by server")
            # anything else (an ack for an emit that already timed out, ...) is ignored

    async def close(self) -> None:
        try:
            await self.ws.close()
        except Exception:  # noqa: BLE001 - best effort at the end of a run
            pass


def make_payload(session_id: int, key: str, n: int) -> dict[str, Any]:
    return {
        "session_id": session_id,
        "idempotency_key": key,
        "asker": {
            "kind": "person",
            "name": NAMES[n % len(NAMES)],
            "address": ADDRESSES[n % len(ADDRESSES)],
            "phone": f"09{12345678 + n % 1000:08d}",
        },
        "field": None,
        "text": f"{TEXTS[n % len(TEXTS)]} (câu {n})",
        "consent": True,
    }


async def run_worker(cfg: dict[str, Any]) -> dict[str, Any]:
    url: str = cfg["url"]
    namespace: str = cfg.get("namespace", "/viewer")
    submitters: int = cfg["submitters"]
    ack_timeout: float = cfg.get("ack_timeout", 10.0)
    max_per_submitter: int = cfg.get("max_per_submitter", 1_000_000)
    key_prefix: str = cfg["key_prefix"]
    session_id: int = cfg["session_id"]

    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    session = aiohttp.ClientSession(connector=connector)
    connect_errors: Counter[str] = Counter()
    gate = asyncio.Semaphore(cfg.get("connect_concurrency", 25))

    async def open_one() -> Submitter | None:
        async with gate:
            try:
                return await Submitter.connect(session, url, namespace, within=10.0)
            except Exception as exc:  # noqa: BLE001 - counted and reported
                connect_errors[f"{type(exc).__name__}: {str(exc)[:120]}"] += 1
                return None

    subs = [s for s in await asyncio.gather(*(open_one() for _ in range(submitters))) if s is not None]

    loop = asyncio.get_running_loop()
    print(f"READY {len(subs)}", flush=True)
    line = await loop.run_in_executor(None, sys.stdin.readline)
    parts = line.split()
    if not parts or parts[0] != "GO":
        for s in subs:
            await s.close()
        await session.close()
        return {"aborted": True}
    t0 = float(parts[1])
    t_measure = t0 + cfg["warmup"]
    t_end = t_measure + cfg["seconds"]
    await asyncio.sleep(max(0.0, t0 - time.monotonic()))

    latencies: list[float] = []  # ms, ok acks that arrived inside the window
    ok_ids: list[Any] = []  # every ok ack (warm-up and drain too): for the durability check
    window_ok = 0
    window_errors = 0
    errors: Counter[str] = Counter()
    in_flight_lost = 0  # emits whose fate we do not know (timeout / dropped connection)
    cpu_marks: dict[str, float] = {}

    def cpu() -> float:
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime

    async def cpu_sampler() -> None:
        await asyncio.sleep(max(0.0, t_measure - time.monotonic()))
        cpu_marks["start"] = cpu()
        await asyncio.sleep(max(0.0, t_end - time.monotonic()))
        cpu_marks["end"] = cpu()

    async def loop_one(index: int, sub: Submitter) -> None:
        nonlocal window_ok, window_errors, in_flight_lost
        perf = time.perf_counter
        mono = time.monotonic
        for n in range(max_per_submitter):
            if mono() >= t_end:
                return
            key = f"{key_prefix}-{index}-{n}"
            payload = make_payload(session_id, key, index * 7919 + n)
            t_send = perf()
            try:
                ack = await sub.call("submit_question", payload, ack_timeout)
            except TimeoutError:
                errors["timeout"] += 1
                in_flight_lost += 1
                if t_measure <= mono() < t_end:
                    window_errors += 1
                continue
            except Exception as exc:  # noqa: BLE001 - a dead connection ends this submitter
                errors[f"conn:{str(exc)[:80]}"] += 1
                in_flight_lost += 1
                if t_measure <= mono() < t_end:
                    window_errors += 1
                return
            elapsed = perf() - t_send
            now = mono()
            in_window = t_measure <= now < t_end
            if isinstance(ack, dict) and ack.get("ok") is True:
                ok_ids.append(ack.get("question_id"))
                if in_window:
                    window_ok += 1
                    latencies.append(elapsed * 1000.0)
            else:
                code = ack.get("error", {}).get("code") if isinstance(ack, dict) else None
                errors[str(code or repr(ack)[:60])] += 1
                if in_window:
                    window_errors += 1

    sampler = asyncio.create_task(cpu_sampler())
    await asyncio.gather(*(loop_one(i, s) for i, s in enumerate(subs)))
    await sampler
    events = sum(s.events for s in subs)
    await asyncio.gather(*(s.close() for s in subs))
    await session.close()
    return {
        "connected": len(subs),
        "connect_errors": dict(connect_errors),
        "window_ok": window_ok,
        "window_errors": window_errors,
        "latencies_ms": latencies,
        "ok_total": len(ok_ids),
        "ok_ids": ok_ids,
        "errors": dict(errors),
        "in_flight_lost": in_flight_lost,
        "events_received": events,
        "cpu_s": cpu_marks.get("end", 0.0) - cpu_marks.get("start", 0.0),
    }


async def selfcheck(base: str, session_id: int, namespace: str = "/viewer") -> int:
    """Emit the same payload shape through python-socketio's AsyncClient and through this client."""
    import socketio

    results: dict[str, Any] = {}
    client = socketio.AsyncClient()
    await client.connect(base, namespaces=[namespace], transports=["websocket"])
    results["python-socketio"] = await client.call(
        "submit_question",
        make_payload(session_id, f"selfcheck-a-{time.time_ns()}", 1),
        namespace=namespace,
        timeout=10,
    )
    await client.disconnect()
    ws_url = base.replace("http://", "ws://").rstrip("/") + "/socket.io/?EIO=4&transport=websocket"
    async with aiohttp.ClientSession() as session:
        sub = await Submitter.connect(session, ws_url, namespace, within=10)
        results["minimal"] = await sub.call(
            "submit_question", make_payload(session_id, f"selfcheck-b-{time.time_ns()}", 2), within=10
        )
        await sub.close()
    print(json.dumps(results, ensure_ascii=False, indent=2))
    same_shape = all(isinstance(r, dict) for r in results.values()) and (
        set(results["python-socketio"]) == set(results["minimal"])
    )
    print("selfcheck:", "OK (same ack shape)" if same_shape else "MISMATCH")
    return 0 if same_shape else 1


def main() -> int:
    if len(sys.argv) >= 3 and sys.argv[1] == "--selfcheck":
        sid = int(sys.argv[3]) if len(sys.argv) > 3 else 1
        return asyncio.run(selfcheck(sys.argv[2], sid))
    cfg = json.loads(sys.argv[1])
    result = asyncio.run(run_worker(cfg))
    sys.stdout.write("RESULT " + json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
