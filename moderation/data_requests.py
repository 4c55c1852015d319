"""An asker's request to see or erase their data (Law 91/2025/QH15; Decree 356/2025/NĐ-CP: answered
within 2 working days), tracked in `data_requests`.

- The asker asks from the receipt page, proving the question is theirs with the phone number they
  gave with it (compared normalised). A wrong number, or a question whose identity is already
  erased, gets one and the same refusal: nothing tells which it was, nor anything of the asker.
  (The page rate-limits the attempts, server/privacy_pages.py.)
- Staff on the board enter a request received by phone, letter or in person (`doithoai privacy
  request`), audited.
- The last day is 2 working days after the day it was received (the calendar with the store's
  overrides, moderation/calendar_store.py), ending at 24:00 Vietnam time.
- The head (or an admin) closes it: an access request by looking at the data to send (audited
  like a reveal) and marking it done; an erasure request by erasing that question's asker at once
  (moderation/retention.py erase_askers, the retention job's own code) in the same transaction;
  either may be refused, with a reason the asker reads on the receipt page.

One open request per question and kind: asking again while it is open answers with the same one."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from . import audit, calendar_store
from . import schema as s
from .asker import ERASED_ON_REQUEST, normalize_phone
from .calendar import local_date
from .errors import Forbidden, InvalidTransition, NotFound, ValidationError
from .receipts import normalize_receipt
from .retention import erase_askers
from .roles import BOARD, HEADS, Actor
from .text import clean_line

if TYPE_CHECKING:
    from .store import Store

WORKING_DAYS = 2  # Decree 356/2025/NĐ-CP
NOTE_MIN, NOTE_MAX = 5, 300


class Kind(enum.StrEnum):
    ACCESS = "access"
    ERASURE = "erasure"


class State(enum.StrEnum):
    OPEN = "open"
    DONE = "done"
    REFUSED = "refused"


OUTCOMES = ("done", "refused")


@dataclass(frozen=True)
class DataRequest:
    id: int
    question_id: int | None
    kind: str
    channel: str  # receipt | staff
    received_at: datetime
    due_on: date
    entered_by: str | None
    state: str
    done_at: datetime | None
    done_by: str | None
    note: str | None
    receipt: str | None = None
    number: int | None = None
    session_id: int | None = None
    session_title: str | None = None

    def overdue(self, today: date) -> bool:
        return self.state == State.OPEN and today > self.due_on

    def public_dict(self) -> dict[str, Any]:
        """What the receipt page shows: the request's own facts, never the asker's."""
        return {"id": self.id, "kind": self.kind, "state": self.state, "received_at": self.received_at.isoformat(),
                "due_on": self.due_on.isoformat(), "done_at": self.done_at.isoformat() if self.done_at else None,
                "note": self.note if self.state == State.REFUSED else None}

    def staff_dict(self, today: date) -> dict[str, Any]:
        return {**self.public_dict(), "question_id": self.question_id, "channel": self.channel,
                "entered_by": self.entered_by, "done_by": self.done_by, "note": self.note, "receipt": self.receipt,
                "number": self.number, "session_id": self.session_id, "overdue": self.overdue(today)}


def _row(r: Any) -> DataRequest:
    m = r._mapping
    return DataRequest(m["id"], m["question_id"], m["kind"], m["channel"], m["received_at"], m["due_on"],
                       m["entered_by"], m["state"], m["done_at"], m["done_by"], m["note"], m.get("receipt"),
                       m.get("number"), m.get("session_id"), m.get("title"))


def parse_kind(raw: Any) -> Kind:
    try:
        return Kind(raw)
    except ValueError:
        raise ValidationError("privacy_bad_kind", field="request_kind") from None


def parse_note(raw: Any) -> str:
    note = clean_line(raw) if isinstance(raw, str) else ""
    if not NOTE_MIN <= len(note) <= NOTE_MAX:
        raise ValidationError("privacy_note_required", field="request_note", min=NOTE_MIN, max=NOTE_MAX)
    return note


def due_on(conn: Connection, received_at: datetime) -> date:
    return calendar_store.load(conn).after_working_days(local_date(received_at), WORKING_DAYS)


def _listing_query() -> Any:
    r, q = s.data_requests, s.questions
    return (select(r, q.c.receipt, q.c.number, q.c.session_id, s.sessions.c.title)
            .outerjoin(q, q.c.id == r.c.question_id).outerjoin(s.sessions, s.sessions.c.id == q.c.session_id))


def _get(conn: Connection, request_id: int) -> DataRequest:
    q = _listing_query().where(s.data_requests.c.id == request_id)
    if conn.dialect.name == "postgresql":
        q = q.with_for_update(of=s.data_requests)
    row = conn.execute(q).first()
    if row is None:
        raise NotFound("privacy_request_not_found", field="request_id")
    return _row(row)


def _question_id(conn: Connection, raw_receipt: Any) -> int:
    receipt = normalize_receipt(raw_receipt) if isinstance(raw_receipt, str) else None
    found = None if receipt is None else conn.execute(
        select(s.questions.c.id).where(s.questions.c.receipt == receipt)).scalar()
    if found is None:
        raise NotFound("receipt_not_found", field="receipt")
    return int(found)


def _open(conn: Connection, question_id: int, kind: Kind, channel: str, now: datetime,
          entered_by: str | None) -> tuple[DataRequest, bool]:
    """The open request of this kind for the question, or a new one; (request, created)."""
    existing = conn.execute(select(s.data_requests.c.id).where(s.data_requests.c.question_id == question_id)
                            .where(s.data_requests.c.kind == kind.value)
                            .where(s.data_requests.c.state == State.OPEN.value)).scalar()
    if existing is not None:
        return _get(conn, existing), False
    new_id = conn.execute(insert(s.data_requests).returning(s.data_requests.c.id), {
        "question_id": question_id, "kind": kind.value, "channel": channel, "received_at": now,
        "due_on": due_on(conn, now), "entered_by": entered_by, "state": State.OPEN.value}).scalar_one()
    return _get(conn, new_id), True


def _ask(conn: Connection, raw_receipt: Any, kind: Kind, phone: str, now: datetime) -> DataRequest:
    question_id = _question_id(conn, raw_receipt)
    stored = conn.execute(select(s.askers.c.phone, s.askers.c.erased_at)
                          .where(s.askers.c.question_id == question_id)).first()
    if stored is None or stored.erased_at is not None or not stored.phone or stored.phone != phone:
        raise ValidationError("privacy_not_yours", field="request_phone")
    return _open(conn, question_id, kind, "receipt", now, None)[0]


def _enter(conn: Connection, raw_receipt: Any, kind: Kind, actor: Actor, now: datetime) -> DataRequest:
    question_id = _question_id(conn, raw_receipt)
    found, created = _open(conn, question_id, kind, "staff", now, actor.name)
    if created:
        session_id = conn.execute(select(s.questions.c.session_id).where(s.questions.c.id == question_id)).scalar()
        audit.append(conn, actor, "privacy_request", now, session_id=session_id, question_id=question_id,
                     request_id=found.id, kind=kind.value, channel="staff", due_on=found.due_on.isoformat())
    return found


def _identity(conn: Connection, question_id: int) -> dict[str, Any]:
    """Everything the store keeps about the asker of one question: what an access request is sent."""
    q, a, c = s.questions, s.askers, s.consent_records
    row = conn.execute(select(q.c.receipt, q.c.number, q.c.text, q.c.received_at, q.c.channel, q.c.state,
                              q.c.public_name, q.c.field, s.sessions.c.title, a.c.kind, a.c.name, a.c.address,
                              a.c.phone, a.c.email, a.c.name_shown, a.c.erased_at, c.c.consent_version,
                              c.c.accepted_at, c.c.channel.label("consent_channel"), c.c.officer)
                       .join(a, a.c.question_id == q.c.id).join(s.sessions, s.sessions.c.id == q.c.session_id)
                       .outerjoin(c, c.c.question_id == q.c.id).where(q.c.id == question_id)).first()
    if row is None:
        raise NotFound("question_not_found", field="question_id")
    return {
        "asker": {"kind": row.kind, "name": row.name, "address": row.address, "phone": row.phone,
                  "email": row.email, "name_shown": row.name_shown, "public_name": row.public_name,
                  "erased_at": row.erased_at.isoformat() if row.erased_at else None},
        "question": {"receipt": row.receipt, "number": row.number, "session_title": row.title, "field": row.field,
                     "text": row.text, "received_at": row.received_at.isoformat(), "channel": row.channel,
                     "state": row.state},
        "consent": {"version": row.consent_version,
                    "accepted_at": row.accepted_at.isoformat() if row.accepted_at else None,
                    "channel": row.consent_channel, "officer": row.officer},
    }


def _show(conn: Connection, request_id: int, actor: Actor, now: datetime) -> tuple[DataRequest, dict[str, Any]]:
    found = _get(conn, request_id)
    if found.kind != Kind.ACCESS or found.state != State.OPEN or found.question_id is None:
        raise InvalidTransition("privacy_not_open_access", field="request_id")
    data = _identity(conn, found.question_id)
    audit.append(conn, actor, "privacy_access_shown", now, session_id=found.session_id,
                 question_id=found.question_id, request_id=found.id)
    return found, data


def _close(conn: Connection, request_id: int, outcome: str, note: str | None, actor: Actor,
           now: datetime, confirmed: bool) -> DataRequest:
    found = _get(conn, request_id)
    if found.state != State.OPEN:
        raise InvalidTransition("privacy_request_closed", field="request_id")
    if outcome == "done" and found.kind == Kind.ERASURE and not confirmed:
        raise ValidationError("privacy_confirm_erasure", field="request_confirmed")
    erased = 0
    if outcome == "done" and found.kind == Kind.ERASURE and found.question_id is not None:
        erased = erase_askers(conn, [found.question_id], ERASED_ON_REQUEST, now)
    state = State.DONE if outcome == "done" else State.REFUSED
    conn.execute(update(s.data_requests).where(s.data_requests.c.id == request_id).values(
        state=state.value, done_at=now, done_by=actor.name, note=note))
    detail: dict[str, Any] = {"request_id": request_id, "kind": found.kind, "outcome": state.value}
    if found.kind == Kind.ERASURE:
        detail["askers_erased"] = erased
    if note:
        detail["note"] = note  # the board's own reason, written for the asker
    audit.append(conn, actor, "privacy_request_closed", now, session_id=found.session_id,
                 question_id=found.question_id, **detail)
    return _get(conn, request_id)


class DataRequests:
    """Every surface (receipt page, staff page, CLI) goes through these checks before any write."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def ask(self, receipt: Any, kind: Any, phone: Any) -> DataRequest:
        """The asker, from the receipt page: the phone they gave proves the question is theirs."""
        chosen = parse_kind(kind)
        raw = clean_line(phone) if isinstance(phone, str) else ""
        if not raw:
            raise ValidationError("required_phone", field="request_phone")
        normalised = normalize_phone(raw)
        if normalised is None:
            raise ValidationError("bad_phone", field="request_phone")
        async with self.store.write_engine.begin() as conn:
            return await conn.run_sync(_ask, receipt, chosen, normalised, datetime.now(UTC))

    async def enter(self, receipt: Any, kind: Any, actor: Actor) -> DataRequest:
        """A board member enters a request received by phone, letter or in person (audited)."""
        if actor.role not in BOARD:
            raise Forbidden("forbidden_action", field="action", action="privacy_request", role=actor.role.value)
        chosen = parse_kind(kind)
        async with self.store.write_engine.begin() as conn:
            return await conn.run_sync(_enter, receipt, chosen, actor, datetime.now(UTC))

    async def for_question(self, question_id: int) -> tuple[list[DataRequest], bool]:
        """The receipt page's: the question's requests, newest first, and whether its asker is erased."""
        async with self.store.read_engine.connect() as conn:
            rows = await conn.execute(select(s.data_requests).where(s.data_requests.c.question_id == question_id)
                                      .order_by(s.data_requests.c.id.desc()))
            found = [_row(r) for r in rows]
            erased = (await conn.execute(select(s.askers.c.erased_at)
                                         .where(s.askers.c.question_id == question_id))).scalar()
        return found, erased is not None

    async def listing(self, actor: Actor, *, closed: bool = False, limit: int = 200) -> list[DataRequest]:
        """Open requests, the earliest due first (`closed`: the latest closed ones as well)."""
        self._head(actor, "privacy_list")
        q = _listing_query()
        if not closed:
            q = q.where(s.data_requests.c.state == State.OPEN.value)
        q = q.order_by((s.data_requests.c.state != State.OPEN.value), s.data_requests.c.due_on,
                       s.data_requests.c.id).limit(limit)
        async with self.store.read_engine.connect() as conn:
            return [_row(r) for r in await conn.execute(q)]

    async def show(self, request_id: int, actor: Actor) -> tuple[DataRequest, dict[str, Any]]:
        """An open access request's data, for the head to send: audited before it is shown."""
        self._head(actor, "privacy_show")
        async with self.store.write_engine.begin() as conn:
            return await conn.run_sync(_show, request_id, actor, datetime.now(UTC))

    async def close(self, request_id: int, outcome: Any, note: Any, actor: Actor, *,
                    confirmed: bool = False) -> DataRequest:
        """done (an erasure request: its asker erased now, which cannot be undone, so only when
        `confirmed`) or refused (a reason the asker reads)."""
        self._head(actor, "privacy_close")
        if outcome not in OUTCOMES:
            raise ValidationError("privacy_bad_outcome", field="request_outcome")
        stated = parse_note(note) if outcome == "refused" else (parse_note(note) if note else None)
        async with self.store.write_engine.begin() as conn:
            return await conn.run_sync(_close, request_id, outcome, stated, actor, datetime.now(UTC), confirmed)

    @staticmethod
    def _head(actor: Actor, action: str) -> None:
        if actor.role not in HEADS:
            raise Forbidden("forbidden_action", field="action", action=action, role=actor.role.value)
