"""What staff and askers see of the outbox: the receipt page's messages, the counts by state and
channel, the rows that failed, and sending one again (audited). Addresses and message bodies are the
head's and the admin's only (`with_personal`): the rest of the board sees kinds, numbers and errors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from moderation import audit, outbox
from moderation import schema as s
from moderation.errors import NotFound, ValidationError
from moderation.roles import Actor
from moderation.store import Store
from server.config import Settings

from . import messages
from .sender import _address, configured_channels, params_of

n = s.notifications
STATES = ("pending", "sending", "sent", "failed", "dead")
CHANNELS = ("receipt", "email", "sms")
PROBLEM_LIMIT = 200


@dataclass(frozen=True)
class Notice:
    kind: str
    at: datetime
    text: str


async def receipt_notices(store: Store, question_id: int, lang: str) -> list[Notice]:
    """The receipt page's messages: the `receipt` rows, oldest first, each once."""
    async with store.read_engine.connect() as conn:
        rows = await conn.run_sync(outbox.receipt_messages, question_id)
    return [Notice(r.kind, r.created_at, messages.line(r.kind, dict(r.params or {}), lang)) for r in rows]


def counts(conn: Connection) -> dict[str, dict[str, int]]:
    """{state: {channel: count}} with every state and channel present."""
    out = {state: dict.fromkeys(CHANNELS, 0) for state in STATES}
    for state, channel, count in conn.execute(select(n.c.state, n.c.channel, func.count())
                                              .group_by(n.c.state, n.c.channel)):
        out.setdefault(state, {})[channel] = int(count)
    return out


def problems(conn: Connection, *, with_personal: bool, settings: Settings) -> list[dict[str, Any]]:
    """Failed and dead rows, newest first; the address and the text only `with_personal`."""
    rows = conn.execute(select(n, s.questions.c.number).join_from(n, s.questions, s.questions.c.id == n.c.question_id,
                                                                  isouter=True)
                        .where(n.c.state.in_(("failed", "dead"))).order_by(n.c.id.desc()).limit(PROBLEM_LIMIT)).all()
    out = []
    for row in rows:
        item: dict[str, Any] = {
            "id": row.id, "state": row.state, "channel": row.channel, "audience": row.audience, "kind": row.kind,
            "session_id": row.session_id, "question_id": row.question_id, "number": row.number,
            "department": row.department if row.audience == "department" else None,
            "attempts": row.attempts, "last_error": row.last_error,
            "next_attempt_at": row.next_attempt_at.isoformat() if row.next_attempt_at else None,
            "created_at": row.created_at.isoformat(),
        }
        if with_personal:
            item["address"] = _address(conn, row)
            item["body"] = _body(row, settings)
        out.append(item)
    return out


def _body(row: Any, settings: Settings) -> str:
    params = params_of(row)
    if row.channel == "sms":
        return messages.sms(row.kind, params, settings.public_url)
    if row.audience == "department":
        mail = messages.department_mail(row.kind, params, settings.public_url)
    else:
        mail = messages.asker_mail(row.kind, params, settings.public_url)
    return f"{mail.subject}\n\n{mail.body}"


def overview(conn: Connection, *, with_personal: bool, settings: Settings) -> dict[str, Any]:
    channels = configured_channels(settings)
    return {
        "counts": counts(conn),
        "unconfigured": [c for c in CHANNELS if c not in channels],
        "problems": problems(conn, with_personal=with_personal, settings=settings),
    }


def retry(conn: Connection, notification_id: int, actor: Actor, now: datetime | None = None) -> dict[str, Any]:
    """A failed or dead row back to pending with its attempts reset; audited (no address, no text)."""
    now = now or datetime.now(UTC)
    row = conn.execute(select(n.c.id, n.c.state, n.c.session_id, n.c.question_id, n.c.channel, n.c.kind,
                              n.c.attempts).where(n.c.id == notification_id)).first()
    if row is None:
        raise NotFound("notify_notification_not_found", field="notification_id")
    if row.state not in ("failed", "dead"):
        raise ValidationError("notify_not_retryable", field="notification_id")
    conn.execute(update(n).where(n.c.id == row.id).values(state="pending", attempts=0, next_attempt_at=now,
                                                           claimed_until=None))
    audit.append(conn, actor, "notification_retry", now, session_id=row.session_id, question_id=row.question_id,
                 notification_id=row.id, channel=row.channel, kind=row.kind, was=row.state, attempts=row.attempts)
    return {"id": row.id, "state": "pending"}
