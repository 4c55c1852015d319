"""Durability: a `doithoai serve` process taking questions from many viewers is killed with SIGKILL.
After a restart on the same data directory every acknowledged question is in the register with its
original receipt, and the viewers' resends (same idempotency keys) create no duplicates."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import socketio

from tests.conftest import ServerProcess, make_session, run_cli, valid_payload, wait_for

CLIENTS = 24
IN_FLIGHT_PER_CLIENT = 8  # concurrent, unacknowledged submissions per connection
ACKS_BEFORE_KILL = 300
LOST_ACKS = 10  # committed questions whose viewers never see the ack


def create_announced_session(data_dir: Path) -> int:
    created = run_cli("session", "create", "--title", "Đối thoại về đất đai", "--chair", "Nguyễn Văn Tùng",
                      "--start", "2030-01-01T09:00:00+07:00", "--minutes", "90", data_dir=data_dir)
    session_id = int(json.loads(created.stdout)["id"])
    run_cli("session", "announce", str(session_id), data_dir=data_dir)
    return session_id


def export_register(data_dir: Path, session_id: int) -> list[dict[str, Any]]:
    out = run_cli("questions", "export", str(session_id), "--format", "jsonl", "--reason", "kiểm tra độ bền",
                  data_dir=data_dir).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def integrity_check(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


def db_counts(db: Path) -> tuple[int, int, int, int]:
    conn = sqlite3.connect(db)
    try:
        questions, distinct = conn.execute("SELECT count(*), count(DISTINCT idempotency_key) FROM questions").fetchone()
        askers = conn.execute("SELECT count(*) FROM askers").fetchone()[0]
        consents = conn.execute("SELECT count(*) FROM consent_records").fetchone()[0]
        return int(questions), int(distinct), int(askers), int(consents)
    finally:
        conn.close()


class Viewers:
    """Real python-socketio clients (websocket transport), closed whatever became of their server."""

    def __init__(self) -> None:
        self.clients: list[socketio.AsyncClient] = []

    async def connect(self, url: str) -> socketio.AsyncClient:
        client = socketio.AsyncClient(reconnection=False)
        self.clients.append(client)
        await client.connect(url, namespaces=["/viewer"], transports=["websocket"], wait_timeout=5)
        return client

    async def close(self) -> None:
        for client in self.clients:
            try:
                await client.disconnect()
            except Exception:  # the server may be gone: still release the client's HTTP session
                pass
            if client.eio.http is not None and not client.eio.http.closed:
                await client.eio.http.close()
        self.clients.clear()


def submit(client: socketio.AsyncClient, payload: dict[str, Any], on_ack: Callable[[Any], None]) -> asyncio.Future[Any]:
    """Emit submit_question; the returned future resolves with the ack (or never, if the server dies)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()

    def callback(*args: Any) -> None:
        ack = args[0] if args else None
        on_ack(ack)  # recorded the moment it arrives, even if nobody awaits it any more
        if not future.done():
            future.set_result(ack)

    task = asyncio.ensure_future(client.emit("submit_question", payload, namespace="/viewer", callback=callback))

    def emitted(t: asyncio.Task[None]) -> None:
        if not t.cancelled() and t.exception() is not None and not future.done():
            future.set_exception(t.exception())  # type: ignore[arg-type]

    task.add_done_callback(emitted)
    return future


def question_payload(session_id: int, key: str) -> dict[str, Any]:
    # The key doubles as a marker in the text, so a duplicate would show in the register's text too.
    return valid_payload(session_id, idempotency_key=key,
                         text=f"Xin hỏi về thủ tục cấp sổ đỏ cho thửa đất của gia đình tôi [{key}]")


@pytest.mark.slow
async def test_sigkill_loses_no_acknowledged_question_and_resends_make_no_duplicates(
    server_process: Callable[..., ServerProcess],
) -> None:
    first = server_process("--no-rate-limit")
    data_dir = first.data_dir
    db = data_dir / "doithoai.sqlite3"
    session_id = create_announced_session(data_dir)
    first.start()

    payloads: dict[str, dict[str, Any]] = {}  # every key ever sent -> its payload
    acked: dict[str, dict[str, Any]] = {}  # key -> the ok ack received before the kill
    refused: dict[str, Any] = {}
    stop = asyncio.Event()

    def recorder(key: str) -> Callable[[Any], None]:
        def record(ack: Any) -> None:
            if isinstance(ack, dict) and ack.get("ok") is True:
                acked[key] = ack
            else:
                refused[key] = ack

        return record

    async def keep_submitting(client: socketio.AsyncClient, client_no: int, lane: int) -> None:
        n = 0
        while not stop.is_set():
            key = f"kill-{client_no:02d}-{lane}-{n:05d}"
            n += 1
            payloads[key] = question_payload(session_id, key)
            waiter = submit(client, payloads[key], recorder(key))
            stop_wait = asyncio.ensure_future(stop.wait())
            await asyncio.wait([waiter, stop_wait], return_when=asyncio.FIRST_COMPLETED)
            stop_wait.cancel()
            if not waiter.done():  # the server died with this one in flight
                waiter.cancel()
                return
            if waiter.exception() is not None:
                return

    def stored(keys: list[str]) -> bool:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            marks = ",".join("?" * len(keys))
            found = conn.execute(f"SELECT count(*) FROM questions WHERE idempotency_key IN ({marks})", keys)
            return int(found.fetchone()[0]) == len(keys)
        finally:
            conn.close()

    viewers = Viewers()
    try:
        # Questions whose ack is lost (sent without asking for one, as if the connection dropped
        # before it came back): committed, but their viewers will resend them after the restart.
        lost_ack = []
        client = await viewers.connect(first.url)
        for i in range(LOST_ACKS):
            key = f"lost-ack-{i:02d}"
            payloads[key] = question_payload(session_id, key)
            lost_ack.append(key)
            await client.emit("submit_question", payloads[key], namespace="/viewer")
        await wait_for(lambda: stored(lost_ack), timeout=10)

        clients = [await viewers.connect(first.url) for _ in range(CLIENTS)]
        workers = [asyncio.create_task(keep_submitting(c, i, lane))
                   for i, c in enumerate(clients) for lane in range(IN_FLIGHT_PER_CLIENT)]
        await asyncio.sleep(1.0)  # let intake reach its stride, then wait for enough acks
        await wait_for(lambda: len(acked) >= ACKS_BEFORE_KILL, timeout=15)
        first.kill()  # SIGKILL, with submissions in flight
        stop.set()
        await asyncio.gather(*workers)
        await viewers.close()
    finally:
        stop.set()
        await viewers.close()

    assert refused == {}, f"refused before the kill: {list(refused.values())[:3]}"
    acked_before = dict(acked)
    unacked = sorted(set(payloads) - set(acked_before))
    assert len(acked_before) >= ACKS_BEFORE_KILL
    assert unacked, "nothing was in flight when the server was killed"

    # The file survives a SIGKILL intact (WAL recovery) before anything else touches it.
    assert integrity_check(db) == "ok"
    rows = export_register(data_dir, session_id)
    by_key = {row["idempotency_key"]: row for row in rows}
    assert len(by_key) == len(rows), "an idempotency key was stored twice"
    for key, ack in acked_before.items():
        assert key in by_key, f"acknowledged question {key} lost"
        assert by_key[key]["receipt"] == ack["receipt"] and by_key[key]["question_id"] == ack["question_id"]
    # Committed-but-unacknowledged questions may exist (the ack died with the process); nothing else.
    assert set(by_key) <= set(payloads)
    assert set(lost_ack) <= set(by_key)
    sys.stderr.write(f"\nkill test: {len(payloads)} sent, {len(acked_before)} acknowledged, "
                     f"{len(unacked)} unacknowledged at SIGKILL, of which "
                     f"{len(set(unacked) & set(by_key))} committed\n")

    # Restart; reconnecting viewers resend their outbox: everything unacknowledged and, as a client
    # that never saw its ack would, a sample of what was acknowledged.
    second = server_process("--no-rate-limit")
    second.start()
    rng = random.Random(0)
    resend_acked = rng.sample(sorted(acked_before), min(200, len(acked_before)))
    to_resend = unacked + resend_acked
    rng.shuffle(to_resend)
    resend_acks: dict[str, Any] = {}
    viewers = Viewers()
    try:
        clients = [await viewers.connect(second.url) for _ in range(8)]

        async def resend(client: socketio.AsyncClient, keys: list[str]) -> None:
            for key in keys:
                resend_acks[key] = await client.call("submit_question", payloads[key], namespace="/viewer",
                                                      timeout=10)

        await asyncio.gather(*(resend(c, to_resend[i::len(clients)]) for i, c in enumerate(clients)))
    finally:
        await viewers.close()

    bad = {k: v for k, v in resend_acks.items() if not (isinstance(v, dict) and v.get("ok") is True)}
    assert bad == {}, f"resends refused: {list(bad.items())[:3]}"
    for key in resend_acked:
        assert resend_acks[key]["receipt"] == acked_before[key]["receipt"]
        assert resend_acks[key]["question_id"] == acked_before[key]["question_id"]
    for key in unacked:
        if key in by_key:  # committed before the kill, acked only now: the same question
            assert resend_acks[key]["receipt"] == by_key[key]["receipt"]

    final_acks = {**acked_before, **resend_acks}
    assert set(final_acks) == set(payloads)

    rows = export_register(data_dir, session_id)
    second.stop()
    assert len(rows) == len(payloads) == len({r["idempotency_key"] for r in rows})
    by_key = {row["idempotency_key"]: row for row in rows}
    assert set(by_key) == set(payloads)
    for key, ack in final_acks.items():
        row = by_key[key]
        assert row["receipt"] == ack["receipt"] and row["question_id"] == ack["question_id"]
        assert f"[{key}]" in row["text"]
        assert row["asker"]["name"] == "Nguyễn Văn An" and row["asker"]["phone"] == "0912345678"
        assert row["state"] == "received" and row["received_at"]
    markers = [row["text"].rsplit("[", 1)[1].rstrip("]") for row in rows]
    assert len(markers) == len(set(markers))
    assert len({r["receipt"] for r in rows}) == len(rows)
    assert sorted(r["number"] for r in rows) == list(range(1, len(rows) + 1))

    assert integrity_check(db) == "ok"
    questions, distinct, askers, consents = db_counts(db)
    assert questions == distinct == askers == consents == len(payloads)


async def test_writer_process_killed_mid_load_is_restarted(start_server: Any, viewer_client: Any) -> None:
    """The SQLite writer runs in a process of its own; if it dies, the server starts another and
    nothing that was acknowledged is lost (what was in flight is answered with an error or, when it
    had been committed, found again by its idempotency key)."""
    server = await start_server(rate_limit=False)
    session = await make_session(server.store)
    clients = [await viewer_client(server.url) for _ in range(8)]
    acks: list[dict[str, Any]] = []
    stop = asyncio.Event()

    async def flood(client: Any) -> None:
        while not stop.is_set():
            acks.append(await client.call("submit_question", valid_payload(session.id), namespace="/viewer",
                                          timeout=20))

    tasks = [asyncio.create_task(flood(c)) for c in clients]
    await wait_for(lambda: len(acks) > 100, timeout=20)
    process = server.store.writer._process
    assert process is not None and process.alive()
    old_pid = process.pid
    assert old_pid is not None
    os.kill(old_pid, signal.SIGKILL)
    before = len(acks)
    await wait_for(lambda: sum(a["ok"] for a in acks[before:]) > 100, timeout=20)
    stop.set()
    await asyncio.gather(*tasks)
    assert process.alive() and process.pid != old_pid
    stored = {r["receipt"] for r in await server.store.register(session.id)}
    assert {a["receipt"] for a in acks if a["ok"]} <= stored
    assert {a["error"]["code"] for a in acks if not a["ok"]} <= {"internal"}


async def test_writer_process_dying_while_idle_is_noticed(start_server: Any, viewer_client: Any) -> None:
    server = await start_server()
    session = await make_session(server.store)
    client = await viewer_client(server.url)
    assert (await client.call("submit_question", valid_payload(session.id), namespace="/viewer"))["ok"]
    process = server.store.writer._process
    assert process is not None
    old_pid = process.pid
    assert old_pid is not None
    os.kill(old_pid, signal.SIGKILL)
    # noticed at once (its socket closes), but not restarted until there is something to write:
    # a writer that dies at start-up must not be restarted in a loop
    await wait_for(lambda: not process.started, timeout=10)
    ack = await client.call("submit_question", valid_payload(session.id), namespace="/viewer", timeout=10)
    assert ack["ok"]
    assert process.alive() and process.pid != old_pid
    assert len(await server.store.register(session.id)) == 2
