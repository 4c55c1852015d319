"""The audit log: every staff action (who, what, before/after, when), append-only and hash-chained.

Each entry's hash is SHA-256 over the previous entry's hash and the entry's canonical JSON, so
changing, removing or reordering any row breaks the chain from there on; `doithoai audit verify`
walks it. The database refuses UPDATE and DELETE on the table (triggers, migration 0002). An entry
is written in the same transaction as the change it records: no change without its entry."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from . import schema as s
from .roles import Actor

GENESIS = "0" * 64
# Serialises appends on PostgreSQL (SQLite's single write lock already does): two transactions
# must not both chain onto the same last entry.
_PG_LOCK_KEY = 7_242_001


def canonical(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def chain_hash(prev_hash: str, record: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical(record)).encode()).hexdigest()


def _record(at: datetime, actor: str, role: str, action: str, session_id: int | None, question_id: int | None,
            detail: dict[str, Any]) -> dict[str, Any]:
    return {"at": at.isoformat(), "actor": actor, "role": role, "action": action, "session_id": session_id,
            "question_id": question_id, "detail": detail}


def append(conn: Connection, actor: Actor, action: str, now: datetime, *, session_id: int | None = None,
           question_id: int | None = None, **detail: Any) -> None:
    """Add one entry inside the caller's transaction. `detail` must be JSON (no personal data)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY})")
    prev = conn.execute(select(s.audit_log.c.hash).order_by(s.audit_log.c.id.desc()).limit(1)).scalar()
    prev = prev or GENESIS
    detail = json.loads(canonical(detail))  # exactly what the JSON column will hand back
    record = _record(now, actor.name, actor.role.value, action, session_id, question_id, detail)
    conn.execute(
        insert(s.audit_log),
        {"at": now, "actor": actor.name, "role": actor.role.value, "action": action, "session_id": session_id,
         "question_id": question_id, "detail": detail, "prev_hash": prev, "hash": chain_hash(prev, record)},
    )


@dataclass
class Verdict:
    ok: bool
    entries: int
    bad_id: int | None = None
    problem: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "entries": self.entries, "bad_id": self.bad_id, "problem": self.problem}


def verify(conn: Connection) -> Verdict:
    """Walk the chain in order; the first entry whose link or content does not match is reported."""
    prev = GENESIS
    count = 0
    for row in conn.execute(select(s.audit_log).order_by(s.audit_log.c.id)):
        count += 1
        if row.prev_hash != prev:
            return Verdict(False, count, row.id, "link")  # a row before it was removed or reordered
        record = _record(row.at, row.actor, row.role, row.action, row.session_id, row.question_id, row.detail)
        if chain_hash(prev, record) != row.hash:
            return Verdict(False, count, row.id, "content")  # the row itself was changed
        prev = row.hash
    return Verdict(True, count)


def entries(conn: Connection, *, session_id: int | None = None, limit: int = 200) -> list[dict[str, Any]]:
    q = select(s.audit_log).order_by(s.audit_log.c.id.desc()).limit(limit)
    if session_id is not None:
        q = q.where(s.audit_log.c.session_id == session_id)
    return [
        {"id": r.id, "at": r.at.isoformat(), "actor": r.actor, "role": r.role, "action": r.action,
         "session_id": r.session_id, "question_id": r.question_id, "detail": r.detail, "hash": r.hash}
        for r in conn.execute(q)
    ]
