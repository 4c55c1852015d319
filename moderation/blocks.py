"""Blocking a sender: the editorial board stops an abusive asker from sending more.

A moderator blocks "the sender of question N"; the store looks up what that question was sent
with (the viewer's cookie id, the client address, the asker's phone) and keeps only keyed hashes of
them, so neither the moderator nor the blocks table ever holds the phone or the address in clear.
A block covers one session or every session, for a set time or until lifted; it is audited, and
lifting it is too.

Every intake channel (Socket.IO, the JSON API, the HTML form) and interest marks ask the one
`SenderBlocks` of their node before anything is written. It keeps the blocks in memory and reads
them again when the table changes (a block added from the CLI or another node), so the intake hot
path pays a few dictionary look-ups. Nothing already acknowledged is touched: the blocked sender's
earlier questions stay, and a resend of one of them still gets its receipt (moderation/intake.py).

Roles: editors, the head and admins block a sender for a session and lift such blocks; blocking
everywhere (every session, present and future) and lifting such a block is for the head and admins,
as is blocking the sender of a complaint moved to the formal channel (only the head sees who that is).
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection, Row

from . import audit
from . import schema as s
from .background import stop_task
from .errors import DomainError, Forbidden, InvalidTransition, NotFound, ValidationError
from .roles import BOARD, HEADS, Actor
from .text import clean_line

log = logging.getLogger(__name__)

VIETNAM = timezone(timedelta(hours=7), "ICT")
KINDS = ("viewer", "address", "phone")  # the viewer's cookie id, the client address, the asker's phone
# What a block covers unless the moderator chooses: the address only when asked for, since many
# people share one (a mobile carrier's NAT, an office).
DEFAULT_KINDS = ("viewer", "phone")
DURATIONS: dict[str, timedelta | None] = {
    "1h": timedelta(hours=1),
    "1d": timedelta(days=1),
    "30d": timedelta(days=30),
    "until_lifted": None,
}
MIN_REASON, MAX_REASON = 5, 300

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


class Scope(enum.StrEnum):
    SESSION = "session"  # the session of the question it was chosen from
    EVERYWHERE = "everywhere"  # every session


class SenderBlocked(DomainError):
    code = "sender_blocked"


# -- hashing --------------------------------------------------------------------------------------


class SenderKey:
    """Keyed hashes of what identifies a sender: 128 bits of BLAKE2b under a key derived from the
    server's secret (`secret_key`). Unkeyed, a phone number's hash could be found by trying every
    number (10^9 of them); keyed, only whoever holds the secret can. Every node and the CLI share
    the secret, so they compute the same hashes."""

    def __init__(self, secret: str) -> None:
        key = hashlib.sha256(f"sender-block:{secret}".encode()).digest()
        self._mac = hashlib.blake2b(key=key, digest_size=16)

    def _hash(self, kind: str, value: str) -> str:
        mac = self._mac.copy()  # cheaper than keying a new hash each time
        mac.update(f"{kind}\x1f{value}".encode())
        return mac.hexdigest()

    def sender(self, viewer_id: str | None, address: str | None) -> Sender:
        """`viewer_id`: the signed cookie's id (never a per-connection stand-in); `address`: the
        client address as server.security.client_ip keys it (an IPv6 client by its /64)."""
        return Sender(viewer=self._hash("viewer", viewer_id) if viewer_id else None,
                      address=self._hash("address", address) if address else None)

    def phone(self, phone: str) -> str:
        """`phone` as moderation.asker.normalize_phone gives it (0XXXXXXXXX)."""
        return self._hash("phone", phone)


@dataclass(frozen=True, slots=True)
class Sender:
    """Who sends, as hashes: worked out once per connection (Socket.IO) or request (HTTP)."""

    viewer: str | None = None
    address: str | None = None


NO_SENDER = Sender()


# -- a block ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    id: int
    session_id: int | None  # None: every session
    question_id: int | None  # the question the sender was chosen from
    question_number: int | None
    viewer: str | None
    address: str | None
    phone: str | None
    reason: str
    created_at: datetime
    created_by: str
    expires_at: datetime | None  # None: until lifted
    lifted_at: datetime | None = None
    lifted_by: str | None = None
    lift_reason: str | None = None

    @property
    def scope(self) -> Scope:
        return Scope.EVERYWHERE if self.session_id is None else Scope.SESSION

    @property
    def kinds(self) -> list[str]:
        return [kind for kind in KINDS if getattr(self, kind)]

    def active(self, now: datetime) -> bool:
        return self.lifted_at is None and (self.expires_at is None or now < self.expires_at)

    def covers(self, session_id: int | None, now: datetime) -> bool:
        """In force for a question sent to `session_id` (None: whichever session, for a mark)."""
        return self.active(now) and (self.session_id is None or session_id is None or self.session_id == session_id)

    def refusal(self) -> SenderBlocked:
        """What the sender is told: that they are blocked, and until when; never the reason."""
        if self.expires_at is None:
            return SenderBlocked("sender_blocked")
        return SenderBlocked("sender_blocked_until", until=self.expires_at.astimezone(VIETNAM).strftime("%H:%M %d/%m/%Y"))

    def staff_dict(self, now: datetime) -> dict[str, Any]:
        """For the console, the API and the CLI: which kinds are blocked, never the hashes."""
        return {
            "id": self.id,
            "scope": self.scope.value,
            "session_id": self.session_id,
            "question_id": self.question_id,
            "question_number": self.question_number,
            "kinds": self.kinds,
            "reason": self.reason,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "active": self.active(now),
            "lifted_at": self.lifted_at.isoformat() if self.lifted_at else None,
            "lifted_by": self.lifted_by,
            "lift_reason": self.lift_reason,
        }


def _block(row: Row[Any]) -> Block:
    m = row._mapping
    return Block(id=m["id"], session_id=m["session_id"], question_id=m["question_id"],
                 question_number=m.get("number"), viewer=m["viewer_hash"], address=m["address_hash"],
                 phone=m["phone_hash"], reason=m["reason"], created_at=m["created_at"], created_by=m["created_by"],
                 expires_at=m["expires_at"], lifted_at=m["lifted_at"], lifted_by=m["lifted_by"],
                 lift_reason=m["lift_reason"])


class BlockList:
    """The blocks not lifted, indexed by each hash they cover: what intake checks against."""

    def __init__(self, blocks: list[Block]) -> None:
        self._by: dict[str, list[Block]] = {}
        self.phones = False  # whether any block covers a phone: if not, intake hashes none
        for block in blocks:
            if block.lifted_at is not None:
                continue
            for kind in block.kinds:
                self._by.setdefault(f"{kind}:{getattr(block, kind)}", []).append(block)
            self.phones = self.phones or block.phone is not None

    def __bool__(self) -> bool:
        return bool(self._by)

    def find(self, session_id: int | None, now: datetime, *, viewer: str | None = None, address: str | None = None,
             phone: str | None = None) -> Block | None:
        """The block in force for these hashes in this session (the one lasting longest), if any."""
        found: list[Block] = []
        for kind, value in (("viewer", viewer), ("address", address), ("phone", phone)):
            if value is not None:
                found += [b for b in self._by.get(f"{kind}:{value}", ()) if b.covers(session_id, now)]
        if not found:
            return None
        return max(found, key=lambda b: (b.expires_at is None, b.expires_at or now))


# -- what a moderator asks for ------------------------------------------------------------------


@dataclass(frozen=True)
class BlockRequest:
    scope: Scope
    duration: str
    kinds: tuple[str, ...]
    reason: str


def block_request(params: dict[str, Any], actor: Actor) -> BlockRequest:
    """Checks a block's parameters and the actor's right to it, before anything is read or written."""
    if actor.role not in BOARD:
        raise Forbidden("forbidden_action", field="action", action="block", role=actor.role.value)
    try:
        scope = Scope(params.get("scope") or Scope.SESSION)
    except (ValueError, TypeError):
        raise ValidationError("bad_block_scope", field="scope") from None
    if scope is Scope.EVERYWHERE and actor.role not in HEADS:
        raise Forbidden("block_everywhere_needs_head", field="scope")
    duration = params.get("duration")
    if not isinstance(duration, str) or duration not in DURATIONS:
        raise ValidationError("bad_block_duration", field="duration", durations=", ".join(DURATIONS))
    raw_kinds = params.get("kinds", list(DEFAULT_KINDS))
    if (not isinstance(raw_kinds, list) or not raw_kinds
            or not all(isinstance(k, str) and k in KINDS for k in raw_kinds)):
        raise ValidationError("bad_block_kinds", field="kinds", kinds=", ".join(KINDS))
    return BlockRequest(scope, duration, tuple(k for k in KINDS if k in raw_kinds), block_reason(params.get("reason")))


def block_reason(raw: Any) -> str:
    reason = clean_line(raw) if isinstance(raw, str) else ""
    if not MIN_REASON <= len(reason) <= MAX_REASON:
        raise ValidationError("block_reason_required", field="reason", min=MIN_REASON, max=MAX_REASON)
    return reason


# -- the store side (each inside the caller's transaction) ----------------------------------------


def _locked(q: Any, conn: Connection) -> Any:
    # the block's row only: PostgreSQL refuses FOR UPDATE on the outer join's nullable side
    return q.with_for_update(of=s.sender_blocks) if conn.dialect.name == "postgresql" else q


def add_block(conn: Connection, key: SenderKey, actor: Actor, question_id: int, request: BlockRequest,
              now: datetime) -> Block:
    """Block the sender of `question_id`: its stored hashes (and its asker's phone, hashed here)."""
    q, a = s.questions.c, s.askers.c
    row = conn.execute(
        select(q.id, q.session_id, q.number, q.protected, a.viewer_hash, a.address_hash, a.phone)
        .join_from(s.questions, s.askers, a.question_id == q.id, isouter=True).where(q.id == question_id)
    ).first()
    if row is None:
        raise NotFound("question_not_found", field="question_id")
    if row.protected and not actor.sees_protected:
        raise Forbidden("protected_identity", field="question_id")
    available = {"viewer": row.viewer_hash, "address": row.address_hash,
                 "phone": key.phone(row.phone) if row.phone else None}
    chosen = {kind: available[kind] for kind in request.kinds if available[kind]}
    if not chosen:
        # e.g. sent through the API without a cookie and only the cookie chosen, or erased at the
        # end of the retention period
        raise ValidationError("nothing_to_block", field="kinds")
    lasts = DURATIONS[request.duration]
    values = {
        "session_id": row.session_id if request.scope is Scope.SESSION else None,
        "question_id": row.id,
        "viewer_hash": chosen.get("viewer"),
        "address_hash": chosen.get("address"),
        "phone_hash": chosen.get("phone"),
        "reason": request.reason,
        "created_at": now,
        "created_by": actor.name,
        "expires_at": now + lasts if lasts is not None else None,
    }
    block_id = conn.execute(insert(s.sender_blocks).returning(s.sender_blocks.c.id), values).scalar_one()
    block = Block(id=block_id, question_number=row.number, viewer=values["viewer_hash"],
                  address=values["address_hash"], phone=values["phone_hash"], lifted_at=None,
                  **{k: values[k] for k in ("session_id", "question_id", "reason", "created_at", "created_by",
                                            "expires_at")})
    audit.append(conn, actor, "sender_block", now, session_id=row.session_id, question_id=row.id,
                 block_id=block_id, scope=request.scope.value, kinds=block.kinds, duration=request.duration,
                 expires_at=block.expires_at, reason=request.reason)
    return block


def lift_block(conn: Connection, actor: Actor, block_id: int, reason: str, now: datetime) -> Block:
    if actor.role not in BOARD:
        raise Forbidden("forbidden_action", field="action", action="lift", role=actor.role.value)
    row = conn.execute(_locked(_select_blocks().where(s.sender_blocks.c.id == block_id), conn)).first()
    if row is None:
        raise NotFound("block_not_found", field="block_id")
    block = _block(row)
    if block.scope is Scope.EVERYWHERE and actor.role not in HEADS:
        raise Forbidden("block_everywhere_needs_head", field="block_id")
    if block.lifted_at is not None:
        raise InvalidTransition("block_already_lifted", field="block_id", by=block.lifted_by or "")
    conn.execute(update(s.sender_blocks).where(s.sender_blocks.c.id == block_id)
                 .values(lifted_at=now, lifted_by=actor.name, lift_reason=reason))
    audit.append(conn, actor, "sender_unblock", now, session_id=block.session_id, question_id=block.question_id,
                 block_id=block_id, reason=reason)
    return replace(block, lifted_at=now, lifted_by=actor.name, lift_reason=reason)


def _select_blocks() -> Any:
    b, q = s.sender_blocks.c, s.questions.c
    return (select(s.sender_blocks, q.number)
            .join_from(s.sender_blocks, s.questions, q.id == b.question_id, isouter=True))


def read_blocks(conn: Connection, *, session_id: int | None = None, now: datetime | None = None) -> list[Block]:
    """Newest first. With `session_id`, the blocks that cover that session (its own and the ones
    everywhere); with `now`, only those in force then."""
    b = s.sender_blocks.c
    q = _select_blocks().order_by(b.id.desc())
    if session_id is not None:
        q = q.where((b.session_id == session_id) | b.session_id.is_(None))
    if now is not None:
        q = q.where(b.lifted_at.is_(None)).where(b.expires_at.is_(None) | (b.expires_at > now))
    return [_block(row) for row in conn.execute(q)]


def generation(conn: Connection) -> tuple[int, int]:
    """Changes whenever a block is added or lifted, whatever the clocks of the nodes say: rows are
    never deleted, so (rows, lifted rows) only grows."""
    b = s.sender_blocks.c
    row = conn.execute(select(func.count(), func.count(b.lifted_at)).select_from(s.sender_blocks)).one()
    return int(row[0]), int(row[1])


# -- one node's view ----------------------------------------------------------------------------


class SenderBlocks:
    """The blocks as this node's intake checks them: in memory, read again when the table changes
    (looked at every `poll_seconds`, and at once after a block made on this node)."""

    def __init__(self, store: Any, key: SenderKey, poll_seconds: float = 0.5, clock: Clock = utcnow) -> None:
        self.store = store  # moderation.store.Store
        self.key = key
        self.poll_seconds = poll_seconds
        self.clock = clock
        self.list = BlockList([])
        self._generation: tuple[int, int] | None = None
        self._task: asyncio.Task[None] | None = None

    # -- checks (intake's hot path: no I/O) --

    def sender(self, viewer_id: str | None, address: str | None) -> Sender:
        return self.key.sender(viewer_id, address)

    def refusal(self, session_id: int, sender: Sender, phone: str | None = None) -> SenderBlocked | None:
        """Why a question from `sender` (with this phone) to `session_id` is refused, or None."""
        blocks = self.list
        if not blocks:
            return None
        phone_hash = self.key.phone(phone) if phone and blocks.phones else None
        found = blocks.find(session_id, self.clock(), viewer=sender.viewer, address=sender.address, phone=phone_hash)
        return found.refusal() if found is not None else None

    async def check_interest(self, sender: Sender, question_id: int) -> None:
        """Raise SenderBlocked for an interest mark by a blocked viewer (cookie or address). Only a
        sender with a block somewhere pays for reading which session the question is in."""
        blocks = self.list
        if not blocks:
            return
        now = self.clock()
        if blocks.find(None, now, viewer=sender.viewer, address=sender.address) is None:
            return
        try:
            session_id = (await self.store.get_question(question_id)).session_id
        except NotFound:
            return  # the mark itself answers not_found
        found = blocks.find(session_id, now, viewer=sender.viewer, address=sender.address)
        if found is not None:
            raise found.refusal()

    # -- keeping current --

    async def refresh(self) -> bool:
        """Read the blocks again if the table changed; True if it did."""
        async with self.store.read_engine.connect() as conn:
            now_generation = await conn.run_sync(generation)
            if now_generation == self._generation:
                return False
            blocks = await conn.run_sync(lambda c: read_blocks(c, now=self.clock()))
        self.list = BlockList(blocks)
        self._generation = now_generation
        return True

    async def start(self) -> None:
        await self.refresh()
        self._task = asyncio.create_task(self._poll(), name="sender-blocks")

    async def stop(self) -> None:
        await stop_task(self._task)

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.poll_seconds)
            try:
                await self.refresh()
            except Exception:
                log.exception("reading sender blocks failed; retrying")

    # -- staff --

    async def block(self, question_id: int, params: dict[str, Any], actor: Actor) -> Block:
        request = block_request(params, actor)
        async with self.store.write_engine.begin() as conn:
            block = await conn.run_sync(lambda c: add_block(c, self.key, actor, question_id, request, self.clock()))
        await self.refresh()  # in force on this node from now on, not at the next poll
        return block

    async def lift(self, block_id: int, reason: Any, actor: Actor) -> Block:
        checked = block_reason(reason)
        async with self.store.write_engine.begin() as conn:
            block = await conn.run_sync(lambda c: lift_block(c, actor, block_id, checked, self.clock()))
        await self.refresh()
        return block

    async def listing(self, actor: Actor, *, session_id: int | None = None, ended: bool = False) -> list[Block]:
        if actor.role not in BOARD:
            raise Forbidden("forbidden_action", field="action", action="blocks", role=actor.role.value)
        now = None if ended else self.clock()
        async with self.store.read_engine.connect() as conn:
            return await conn.run_sync(lambda c: read_blocks(c, session_id=session_id, now=now))
