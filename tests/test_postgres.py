"""The store's PostgreSQL path (asyncpg, row locks, Core inserts, run_sync batches) against a real
PostgreSQL server started for the tests: the guarantees of intake hold there too."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from moderation.sessions import SessionState
from tests.conftest import RunningServer, poll_until, valid_payload, wait_for
from tests.postgres import PostgresCluster, cluster


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresCluster]:
    yield from cluster()


@pytest.fixture
async def pg_server(start_server: Any, postgres: PostgresCluster) -> RunningServer:
    server: RunningServer = await start_server(database=postgres.new_database(), rate_limit=False)
    return server


async def submit(client: Any, payload: Any) -> dict[str, Any]:
    result: dict[str, Any] = await client.call("submit_question", payload, namespace="/viewer", timeout=10)
    return result


async def test_intake_idempotency_and_register(pg_server: RunningServer, viewer_client: Any) -> None:
    assert pg_server.store.url.startswith("postgresql+asyncpg://")
    session = await pg_server.new_session(fields=["Đất đai"])
    client = await viewer_client(pg_server.url)
    payload = valid_payload(session.id, field="Đất đai")
    first = await submit(client, payload)
    assert first["ok"]
    burst = await asyncio.gather(*(submit(client, payload) for _ in range(5)))
    assert all(ack == first for ack in burst)
    reused = await submit(client, {**payload, "text": "Nội dung khác hẳn với cùng mã gửi?"})
    assert reused["error"]["field"] == "idempotency_key"
    many = await asyncio.gather(*(submit(client, valid_payload(session.id)) for _ in range(30)))
    assert all(a["ok"] for a in many)
    register = await pg_server.store.register(session.id)
    assert len(register) == 31
    assert sorted(r["number"] for r in register) == list(range(1, 32))
    assert register[0]["asker"]["phone"] == "0912345678" and register[0]["field"] == "Đất đai"


async def test_close_race_is_atomic(pg_server: RunningServer, viewer_client: Any) -> None:
    session = await pg_server.new_session(SessionState.LIVE)
    clients = [await viewer_client(pg_server.url) for _ in range(6)]
    acks: list[dict[str, Any]] = []
    stop = asyncio.Event()

    async def flood(client: Any) -> None:
        while not stop.is_set():
            acks.append(await submit(client, valid_payload(session.id)))

    tasks = [asyncio.create_task(flood(c)) for c in clients]
    await wait_for(lambda: len(acks) > 60, timeout=20)
    await pg_server.store.transition_session(session.id, SessionState.CLOSED)
    refused_before = sum(not a["ok"] for a in acks)
    await wait_for(lambda: sum(not a["ok"] for a in acks) >= refused_before + 12, timeout=20)
    stop.set()
    await asyncio.gather(*tasks)
    ok = [a for a in acks if a["ok"]]
    assert {a["error"]["code"] for a in acks if not a["ok"]} == {"session_closed"}
    register = await pg_server.store.register(session.id)
    assert sorted(r["receipt"] for r in register) == sorted(a["receipt"] for a in ok)


async def test_interest_and_live_question(pg_server: RunningServer, viewer_client: Any) -> None:
    session = await pg_server.new_session()
    client = await viewer_client(pg_server.url)
    ack = await submit(client, valid_payload(session.id))
    events: list[Any] = []
    client.on("question", events.append, namespace="/viewer")
    await client.call("join", {"session_id": session.id}, namespace="/viewer")
    await pg_server.store.apply_action(ack["question_id"], "accept")
    await wait_for(lambda: any(e.get("id") == ack["question_id"] for e in events))
    first = await client.call("mark_interest", {"question_id": ack["question_id"]}, namespace="/viewer")
    again = await client.call("mark_interest", {"question_id": ack["question_id"]}, namespace="/viewer")
    assert (first["count"], first["counted"], again["count"], again["counted"]) == (1, True, 1, False)
    bad = await client.call("mark_interest", {"question_id": 2**70}, namespace="/viewer")
    assert bad["error"]["code"] == "not_found"


async def test_board_workflow_and_audit_chain(pg_server: RunningServer, viewer_client: Any) -> None:
    """Row locks, the queue, merges, concurrent actions and the audit chain's advisory lock on PostgreSQL."""
    from sqlalchemy import text

    from moderation import audit
    from moderation.board import Board
    from moderation.errors import Conflict
    from moderation.roles import Actor, Role

    session = await pg_server.new_session(SessionState.LIVE)
    client = await viewer_client(pg_server.url)
    ids = [(await submit(client, valid_payload(session.id)))["question_id"] for _ in range(4)]
    board, editor = Board(pg_server.store), Actor("bt", Role.EDITOR)
    for qid in ids[:3]:
        await board.act(qid, "accept", 1, {}, editor)
        await board.act(qid, "queue", 2, {}, editor)
    await board.act(ids[2], "reorder", 3, {"position": 0}, editor)
    assert await board.queue(session.id) == [ids[2], ids[0], ids[1]]
    merged = await board.act(ids[3], "merge", 1, {"into": ids[0]}, editor)
    assert merged.others[0].merged_count == 1
    # two moderators race on the same version: exactly one wins, the other gets a conflict
    results = await asyncio.gather(board.act(ids[1], "star", 3, {"starred": True}, editor),
                                   board.act(ids[1], "unqueue", 3, {}, Actor("bt2", Role.EDITOR)),
                                   return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "Outcome"]
    assert any(isinstance(r, Conflict) for r in results)
    await board.act(ids[2], "air", 4, {}, editor)
    done = await board.done_next(session.id, ids[2], Actor("ct", Role.CHAIR))
    assert [q.id for q in done.changed] == [ids[2], ids[0]]
    async with pg_server.store.read_engine.connect() as conn:
        verdict = await conn.run_sync(audit.verify)
    assert verdict.ok and verdict.entries >= 12
    with pytest.raises(Exception, match="append-only"):
        async with pg_server.store.write_engine.begin() as conn:
            await conn.execute(text("DELETE FROM audit_log"))


async def test_interest_counts_each_question_for_itself(pg_server: RunningServer, viewer_client: Any) -> None:
    from tests.test_promises import interest_counts

    # the correlated recount on PostgreSQL's planner too (issue 10.1: q2 showed 2, not 1)
    assert list((await interest_counts(pg_server, viewer_client)).values()) == [3, 1, 0]


async def test_follow_up_deadlines_and_outbox(pg_server: RunningServer, viewer_client: Any) -> None:
    """The close's deadlines (Date columns, the override table read in the transaction) and the outbox
    rows, on PostgreSQL."""
    from datetime import UTC, datetime

    from sqlalchemy import select

    from moderation import schema as s
    from moderation.calendar import Calendar, local_date

    session = await pg_server.new_session(SessionState.LIVE)
    client = await viewer_client(pg_server.url)
    first = await submit(client, valid_payload(session.id))
    second = await submit(client, valid_payload(session.id))
    await pg_server.store.apply_action(first["question_id"], "accept")
    await pg_server.store.apply_action(second["question_id"], "decline", reason="outside_chair_remit")
    async with pg_server.store.write_engine.begin() as conn:
        await conn.execute(s.calendar_overrides.insert().values(day=datetime(2031, 1, 2).date(), working=False,
                                                                note="thử", created_by="admin",
                                                                created_at=datetime.now(UTC)))
    closed = await pg_server.store.transition_session(session.id, SessionState.CLOSED)
    assert closed.closed_at is not None
    day, cal = local_date(closed.closed_at), Calendar()
    q1 = await pg_server.store.get_question(first["question_id"])
    q2 = await pg_server.store.get_question(second["question_id"])
    assert (q1.due_rule, q1.due_on) == ("hai_phong.written_answer", cal.after_days(day, 15))
    assert (q2.due_rule, q2.due_on) == ("hai_phong.forward", cal.after_days(day, 3))
    async with pg_server.store.read_engine.connect() as conn:
        kinds = [r.kind for r in await conn.execute(
            select(s.notifications.c.kind).where(s.notifications.c.channel == "receipt")
            .order_by(s.notifications.c.id))]
    assert kinds == ["will_forward", "follow_up"]


async def test_two_nodes_closing_at_once_queue_one_finalize(postgres: PostgresCluster, tmp_path: Path) -> None:
    """Two nodes find the same closed session with a recording at the same moment: the one that
    writes second waits for the first's transaction and then adds no second finalize job."""
    from sqlalchemy import func, insert, select, text

    from moderation import schema as s
    from moderation.store import Store
    from server.recording_jobs import RecordingJobs, now
    from tests.test_recording_finalize import closed_session_with_recording

    store = await Store.open(postgres.new_database())
    try:
        recordings = tmp_path / "recordings"
        session_id = await closed_session_with_recording(store, recordings)
        # the first node, inside its write: the session's row locked and its job inserted, not yet committed
        async with store.write_engine.connect() as first:
            await first.begin()
            await first.execute(select(s.sessions.c.id).where(s.sessions.c.id == session_id)
                                .with_for_update(key_share=True))  # as queue_closed_sessions locks it
            await first.execute(insert(s.recording_jobs).values(
                session_id=session_id, kind="finalize", state="queued", progress=0.0, attempts=0, created_at=now()))
            second = asyncio.create_task(RecordingJobs(store, recordings).queue_closed_sessions())

            async def second_waits_for_the_lock() -> bool:
                async with store.read_engine.connect() as conn:
                    return bool((await conn.execute(text(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"))).scalar_one())

            await poll_until(second_waits_for_the_lock, timeout=20)
            assert not second.done()
            await first.commit()
        assert await asyncio.wait_for(second, 20) == []
        async with store.read_engine.connect() as conn:
            count = (await conn.execute(select(func.count()).select_from(s.recording_jobs).where(
                s.recording_jobs.c.session_id == session_id, s.recording_jobs.c.kind == "finalize"))).scalar_one()
        assert count == 1
    finally:
        await store.close()
