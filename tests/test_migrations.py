"""Migrations on a store that already holds questions: 0004 rebuilds the questions table on SQLite
(receipts derived from idempotency keys), and nothing that refers to a question may be lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from moderation.errors import ValidationError
from moderation.receipts import receipts_for
from moderation.sessions import SessionState
from moderation.store import Store, sqlite_url
from moderation.submission import parse_submission
from tests.conftest import make_session, valid_payload


async def _rows(store: Store, sql: str) -> list[Any]:
    async with store.read_engine.connect() as conn:
        return list((await conn.exec_driver_sql(sql)).fetchall())


async def _store_at_0003_with_a_question(url: str, payload: dict[str, Any]) -> None:
    """A question written as the 0003 writer wrote it: a random receipt, the key in a unique index."""
    store = await Store.open(url, migrate=False)
    try:
        await store.migrate("0003")
        submission = parse_submission(payload, channel="socketio")
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        start = (datetime.now(UTC) + timedelta(days=15)).strftime("%Y-%m-%d %H:%M:%S.%f")
        async with store.write_engine.begin() as conn:
            await conn.exec_driver_sql(
                "INSERT INTO sessions (id, title, description, chair_name, chair_position, place, starts_at, minutes,"
                " fields, state, created_at, announced_at, updated_at)"
                " VALUES (1, 'Phiên cũ', '', 'Chủ trì', '', '', ?, 90, '[\"Đất đai\"]', 'announced', ?, ?, ?)",
                (start, now, now, now))
            await conn.exec_driver_sql(
                "INSERT INTO questions (id, session_id, number, receipt, idempotency_key, content_hash, channel,"
                " text, state, asker_kind, public_name, received_at, interest_count, version, updated_at)"
                " VALUES (7, 1, 1, 'AAAA-BBBB-CCCC', ?, ?, 'socketio', ?, 'received', 'person', '', ?, 0, 1, ?)",
                (payload["idempotency_key"], submission.content_hash, submission.text, now, now))
            await conn.exec_driver_sql(
                "INSERT INTO askers VALUES (7, 'person', 'Nguyễn Văn An', '12 Lạch Tray', '0912345678', 'full')")
            await conn.exec_driver_sql("INSERT INTO consent_records VALUES (7, 'v1', ?, 'socketio')", (now,))
    finally:
        await store.close()


async def test_0004_keeps_every_question_and_the_old_receipts(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    old = valid_payload(1, field="Đất đai")
    await _store_at_0003_with_a_question(url, old)

    store = await Store.open(url)  # migrates to head
    try:
        # the table rebuild cascaded nothing away, and SQLite checks references again afterwards
        assert await _rows(store, "SELECT question_id, phone FROM askers") == [(7, "0912345678")]
        assert await _rows(store, "SELECT question_id FROM consent_records") == [(7,)]
        assert await _rows(store, "PRAGMA foreign_key_check") == []
        assert await _rows(store, "PRAGMA foreign_keys") == [(1,)]
        [(table_sql,)] = await _rows(store, "SELECT sql FROM sqlite_master WHERE name = 'questions'")
        assert "uq_questions_number" in table_sql and "uq_questions_idempotency" not in table_sql
        unique = [row[1] for row in await _rows(store, "PRAGMA index_list(questions)") if row[2]]
        assert len(unique) == 2  # the receipt and the register number; no (session, key) index
        [(receipt_key,)] = await _rows(store, "SELECT receipt_key FROM sessions")
        assert len(receipt_key) == 32

        # a resend of the question stored before 0004 gets its old (random) receipt back
        again = await store.submit_question(parse_submission(old, channel="socketio"))
        assert (again.question_id, again.receipt, again.duplicate) == (7, "AAAA-BBBB-CCCC", True)
        other = dict(old, text="Một câu hỏi khác với cùng mã gửi?")
        with pytest.raises(ValidationError) as refused:
            await store.submit_question(parse_submission(other, channel="socketio"))
        assert refused.value.field == "idempotency_key"
        # a new question in the same session gets the receipt derived from its key
        new = valid_payload(1)
        stored = await store.submit_question(parse_submission(new, channel="socketio"))
        assert stored.receipt == receipts_for(receipt_key, [new["idempotency_key"]])[0]
        assert [q["number"] for q in await store.register(1)] == [1, 2]
    finally:
        await store.close()


async def test_receipts_differ_between_sessions_for_the_same_key(tmp_path: Path) -> None:
    store = await Store.open(sqlite_url(tmp_path))
    try:
        one, two = await make_session(store), await make_session(store, SessionState.LIVE)
        key = "k-the-same-key-in-two-sessions"
        a = await store.submit_question(parse_submission(valid_payload(one.id, idempotency_key=key), channel="api"))
        b = await store.submit_question(parse_submission(valid_payload(two.id, idempotency_key=key), channel="api"))
        assert a.receipt != b.receipt and a.question_id != b.question_id and not (a.duplicate or b.duplicate)
        # a resend to the first session is still found (by the receipt it would get)
        again = await store.submit_question(parse_submission(valid_payload(one.id, idempotency_key=key),
                                                             channel="api"))
        assert (again.receipt, again.duplicate) == (a.receipt, True)
    finally:
        await store.close()


async def test_the_migrations_build_exactly_the_schema(tmp_path: Path) -> None:
    """Every table and column of moderation/schema.py, as the migrations make them (alembic's own
    comparison, on SQLite): a column added to one and not the other fails here."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from moderation import schema

    store = await Store.open(sqlite_url(tmp_path))
    try:
        async with store.write_engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), schema.metadata))
    finally:
        await store.close()
    # SQLite cannot tell a server default's type apart; only tables, columns and indexes are compared
    missing = [d for d in diff if isinstance(d, tuple) and d[0] in ("add_table", "remove_table", "add_column",
                                                                     "remove_column", "add_index", "remove_index")]
    assert missing == []
