"""Listener processes for bench/fanout.py, and the light Socket.IO client both use.

Client: the same minimal Socket.IO v5 / Engine.IO v4 client over aiohttp websockets as
bench/sio_load.py (websocket transport only, no polling handshake, no Origin header), but with one
reader task per connection, so that a connection can listen for server events while it also has
emits with acks in flight (a moderator does both). Wire format:

    <- 0{"sid":..,"pingInterval":..}          engine.io open
    -> 40/viewer,  or  40/moderator,{"token":..}   connect the namespace (auth for staff)
    <- 40/ns,{"sid":..}                        (44/ns,{..} = refused)
    -> 42/ns,<id>["join",{..}]                 emit with ack
    <- 43/ns,<id>[{..}]                        the ack
    <- 42/ns,["question",{..}]                 a server event
    <- 2   -> 3                                engine.io ping/pong

The arrival time of an event is time.monotonic() (CLOCK_MONOTONIC, one clock for every process on
the machine) taken as soon as the frame is handed to the reader task, before it is parsed.

Worker protocol (parent: bench/fanout.py). The parent starts `python bench/fanout_worker.py CFG_JSON`;
the worker raises its RLIMIT_NOFILE soft limit to the hard limit, connects `clients` listeners to
the namespace, has each emit `join {session_id}` and wait for the ack, then prints
`READY <connected> <joined>`. From then on every `question` event about `target_id` is recorded
with its arrival time. The parent writes `GO` (the drive starts: CPU accounting starts), and the
worker prints `ALL` once every listener has received `expect` such events; `STOP` ends the run: the
worker writes its result (JSON) to `result_path`, prints `RESULT`, closes and exits.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
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


def raise_nofile() -> tuple[int, int]:
    """Soft RLIMIT_NOFILE up to the hard limit (2,000 sockets need more than the usual 1,024)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass
    return resource.getrlimit(resource.RLIMIT_NOFILE)


class SioError(Exception):
    pass


# on_event(arrival, event_name, args) — args is the parsed list after the event name
EventSink = Callable[[float, str, list[Any]], None]


class LightClient:
    """One Socket.IO connection to one namespace, a reader task, emits with acks as futures."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, namespace: str, on_event: EventSink) -> None:
        self.ws = ws
        self.namespace = namespace
        self.emit_prefix = f"42{namespace},"
        self.on_event = on_event
        self.next_id = 0
        self.pending: dict[int, asyncio.Future[Any]] = {}
        self.closed_reason: str | None = None
        self.reader: asyncio.Task[None] | None = None

    @classmethod
    async def connect(
        cls,
        session: aiohttp.ClientSession,
        url: str,
        namespace: str,
        on_event: EventSink,
        auth: dict[str, Any] | None = None,
        within: float = 10.0,
    ) -> LightClient:
        ws = await session.ws_connect(
            url, autoping=True, max_msg_size=0, timeout=aiohttp.ClientWSTimeout(ws_close=2)
        )
        try:
            msg = await ws.receive(timeout=within)
            if msg.type != aiohttp.WSMsgType.TEXT or not msg.data.startswith("0"):
                raise SioError(f"expected engine.io open, got {msg.type} {str(msg.data)[:80]!r}")
            await ws.send_str(f"40{namespace}," + (_dumps(auth) if auth is not None else ""))
            deadline = time.monotonic() + within
            while True:
                msg = await ws.receive(timeout=max(0.01, deadline - time.monotonic()))
                if msg.type != aiohttp.WSMsgType.TEXT:
                    raise SioError(f"namespace connect: {msg.type} {msg.extra!r}")
                data = msg.data
                if data == "2":
                    await ws.send_str("3")
                elif data.startswith(f"40{namespace},"):
                    break
                elif data.startswith(f"44{namespace},"):
                    raise SioError(f"namespace refused: {data[:200]}")
        except BaseException:
            await ws.close()
            raise
        client = cls(ws, namespace, on_event)
        client.reader = asyncio.create_task(client._read())
        return client

    async def _read(self) -> None:
        ws = self.ws
        mono = time.monotonic
        ev = self.emit_prefix
        ev_len = len(ev)
        ack = f"43{self.namespace},"
        ack_len = len(ack)
        text = aiohttp.WSMsgType.TEXT
        try:
            while True:
                msg = await ws.receive()
                t = mono()
                if msg.type != text:
                    self.closed_reason = f"websocket {msg.type.name.lower()}"
                    break
                data = msg.data
                if data.startswith(ev):
                    try:
                        args = _loads(data[ev_len:])
                    except ValueError:
                        continue
                    if args and isinstance(args[0], str):
                        self.on_event(t, args[0], args[1:])
                elif data.startswith(ack):
                    rest = data[ack_len:]
                    cut = rest.find("[")
                    try:
                        fut = self.pending.pop(int(rest[:cut]), None)
                    except ValueError:
                        continue
                    if fut is not None and not fut.done():
                        args = _loads(rest[cut:])
                        fut.set_result(args[0] if args else None)
                elif data == "2":
                    await ws.send_str("3")
                elif data == "1" or data.startswith(f"41{self.namespace}"):
                    self.closed_reason = "disconnected by server"
                    break
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - recorded; the run reports it
            self.closed_reason = f"{type(exc).__name__}: {exc}"
        finally:
            for fut in self.pending.values():
                if not fut.done():
                    fut.set_exception(SioError(self.closed_reason or "closed"))
            self.pending.clear()

    async def emit(self, event: str, payload: Any) -> asyncio.Future[Any]:
        """Send an emit with an ack; return the future of the ack's first argument."""
        if self.closed_reason is not None:
            raise SioError(self.closed_reason)
        self.next_id += 1
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = fut
        await self.ws.send_str(f"{self.emit_prefix}{self.next_id}{_dumps([event, payload])}")
        return fut

    async def call(self, event: str, payload: Any, within: float = 10.0) -> Any:
        return await asyncio.wait_for(await self.emit(event, payload), timeout=within)

    async def close(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
        try:
            await self.ws.close()
        except Exception:  # noqa: BLE001 - best effort at the end of a run
            pass


class Listener:
    """What one viewer records: arrival times of `question` events about the target, and the rest."""

    __slots__ = ("target_id", "arrivals", "other", "client", "expect", "done_cb")

    def __init__(self, target_id: Any, expect: int, done_cb: Callable[[], None]) -> None:
        self.target_id = target_id
        self.arrivals: list[float] = []
        self.other: Counter[str] = Counter()
        self.client: LightClient | None = None
        self.expect = expect
        self.done_cb = done_cb

    def on_event(self, t: float, name: str, args: list[Any]) -> None:
        if name == "question" and args and isinstance(args[0], dict):
            body = args[0]
            # viewers get the public dict; staff get {question: {...}, cursor}
            inner = body.get("question")
            q = inner if isinstance(inner, dict) else body
            if q.get("id") == self.target_id:
                self.arrivals.append(t)
                if len(self.arrivals) == self.expect:
                    self.done_cb()
                return
            self.other["question(other id)"] += 1
        else:
            self.other[name] += 1


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def write_result(path: str, result: dict[str, Any]) -> None:
    Path(path).write_text(json.dumps(result))


async def run_worker(cfg: dict[str, Any]) -> None:
    raise_nofile()
    url: str = cfg["url"]
    namespace: str = cfg.get("namespace", "/viewer")
    count: int = cfg["clients"]
    session_id = cfg["session_id"]
    target_id = cfg["target_id"]
    expect: int = cfg["expect"]
    auth = cfg.get("auth")

    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    session = aiohttp.ClientSession(connector=connector)
    connect_errors: Counter[str] = Counter()
    join_errors: Counter[str] = Counter()
    gate = asyncio.Semaphore(cfg.get("connect_concurrency", 25))
    complete = 0
    all_done = asyncio.Event()
    target_in_snapshot = 0

    def one_done() -> None:
        nonlocal complete
        complete += 1
        if complete == len(listeners):
            all_done.set()

    listeners: list[Listener] = []

    async def open_one() -> Listener | None:
        nonlocal target_in_snapshot
        listener = Listener(target_id, expect, one_done)
        async with gate:
            try:
                client = await LightClient.connect(session, url, namespace, listener.on_event, auth=auth)
            except Exception as exc:  # noqa: BLE001 - counted and reported
                connect_errors[f"{type(exc).__name__}: {str(exc)[:120]}"] += 1
                return None
            listener.client = client
            try:
                ack = await client.call("join", {"session_id": session_id}, within=30.0)
            except Exception as exc:  # noqa: BLE001 - counted and reported
                join_errors[f"{type(exc).__name__}: {str(exc)[:120]}"] += 1
                return listener
        if not (isinstance(ack, dict) and ack.get("ok") is True):
            code = ack.get("error", {}).get("code") if isinstance(ack, dict) else None
            join_errors[str(code or repr(ack)[:80])] += 1
        elif any(isinstance(q, dict) and q.get("id") == target_id for q in ack.get("questions") or []):
            target_in_snapshot += 1
        return listener

    opened = await asyncio.gather(*(open_one() for _ in range(count)))
    listeners = [x for x in opened if x is not None]
    joined = len(listeners) - sum(join_errors.values())
    # arrivals before GO (none expected: the target was accepted before the listeners joined)
    print(f"READY {len(listeners)} {joined}", flush=True)

    loop = asyncio.get_running_loop()
    stdin_lines: asyncio.Queue[str] = asyncio.Queue()

    def read_stdin() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(stdin_lines.put_nowait, line.strip())
        loop.call_soon_threadsafe(stdin_lines.put_nowait, "STOP")

    threading.Thread(target=read_stdin, daemon=True).start()
    before_go: list[int] = []
    cpu_go = cpu_end = cpu_seconds()
    t_go = time.monotonic()
    all_task: asyncio.Task[Any] | None = None

    async def announce_all() -> None:
        await all_done.wait()
        print("ALL", flush=True)

    while True:
        cmd = await stdin_lines.get()
        if cmd == "GO":
            cpu_go = cpu_seconds()
            t_go = time.monotonic()
            before_go = [len(x.arrivals) for x in listeners]
            for x in listeners:
                x.arrivals.clear()
                x.other.clear()
            if not listeners:
                all_done.set()
            all_task = asyncio.create_task(announce_all())
        elif cmd == "STOP":
            cpu_end = cpu_seconds()
            break
    if all_task is not None:
        all_task.cancel()

    other: Counter[str] = Counter()
    for x in listeners:
        other.update(x.other)
    closed = Counter(x.client.closed_reason for x in listeners if x.client and x.client.closed_reason)
    result = {
        "clients": count,
        "connected": len(listeners),
        "joined": joined,
        "target_in_snapshot": target_in_snapshot,
        "connect_errors": dict(connect_errors),
        "join_errors": dict(join_errors),
        "arrivals": [x.arrivals for x in listeners],
        "arrivals_before_go": sum(before_go),
        "other_events": dict(other),
        "closed_early": dict(closed),
        "cpu_s": cpu_end - cpu_go,
        "wall_s": time.monotonic() - t_go,
    }
    write_result(cfg["result_path"], result)
    print("RESULT", flush=True)
    await asyncio.gather(*(x.client.close() for x in listeners if x.client), return_exceptions=True)
    await session.close()


def main() -> int:
    cfg = json.loads(sys.argv[1])
    asyncio.run(run_worker(cfg))
    return 0


if __name__ == "__main__":
    sys.exit(main())
