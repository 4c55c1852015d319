"""The notifier: sends what moderation/outbox.py stored in `notifications`, at least once.

One round (`run_once`, also `doithoai notify run-once`):
1. Claim due rows with a lease, and COMMIT before anything is sent: state `sending`, `claimed_until` =
   now + notify_lease_seconds, `attempts` + 1 (so a try that crashed the process counts too). Due
   means `pending`, or `failed` whose `next_attempt_at` has come, or `sending` whose lease expired
   (the sender that claimed it died mid-send: it is claimed again, and sent again).
2. Look up the address at send time: the asker's e-mail or phone from `askers` (so an erased asker
   gets nothing), a department's e-mail from `departments`.
3. Send; then `sent` (only if the row is still ours: same attempts, still `sending`). On a failure:
   `failed` with `last_error` and `next_attempt_at` after an exponential back-off with jitter, capped;
   `dead` after notify_max_attempts tries, or at once when the other side refused for good (a 5xx,
   a 4xx from the gateway) or there is no address.

At least once, shown once: a crash between the send and the COMMIT of `sent` sends the message again.
Each resend carries the same Message-ID (mail) or `ref` (SMS), both derived from the row's dedupe
key, so the mail system and the gateway can recognise the duplicate (tests/test_notify.py).

A channel without settings (no smtp_host/mail_from, no sms_url) is not claimed: its rows stay
`pending`, are counted in the round's result and on /staff/outbox, and go out once it is set up."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.engine import Connection, Row

from moderation import schema as s
from moderation.background import stop_task
from moderation.store import Store
from server.config import Settings

from . import mail, messages, reminders, sms
from .errors import PermanentError, SendError

log = logging.getLogger(__name__)
n = s.notifications
BATCH = 8  # rows claimed and sent together in one round's step
MAX_PER_ROUND = 2000
REMINDER_EVERY = timedelta(minutes=10)


def configured_channels(settings: Settings) -> set[str]:
    channels = {"receipt"}  # shown on the receipt page: nothing to send
    if mail.configured(settings):
        channels.add("email")
    if sms.configured(settings):
        channels.add("sms")
    return channels


def backoff(attempts: int, settings: Settings, rng: Callable[[], float] = random.random) -> timedelta:
    """After the n-th failed try: base * 2^(n-1), capped, times a jitter in [0.5, 1.0) so that rows
    that failed together (a mail server down) do not all come back in the same second."""
    raw = settings.notify_backoff_seconds * 2 ** max(0, attempts - 1)
    capped = min(settings.notify_backoff_max_seconds, raw)
    return timedelta(seconds=capped * (0.5 + rng() / 2))


@dataclass
class Claimed:
    id: int
    audience: str
    channel: str
    kind: str
    params: dict[str, Any]
    dedupe: str
    attempts: int
    session_id: int | None
    address: str | None  # looked up at claim time; None: nowhere to send it


@dataclass
class Round:
    """What one round did, and the rows left waiting for a channel's settings."""

    sent: int = 0
    failed: int = 0
    dead: int = 0
    reclaimed: int = 0  # leases that had expired (a sender died mid-send)
    reminders: int = 0
    unconfigured: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"sent": self.sent, "failed": self.failed, "dead": self.dead, "reclaimed": self.reclaimed,
                "reminders": self.reminders, "waiting_for_settings": self.unconfigured}


def _address(conn: Connection, row: Row[Any]) -> str | None:
    if row.address:
        return str(row.address)
    if row.audience == "department":
        if not row.department:
            return None
        found = conn.execute(select(s.departments.c.email).where(s.departments.c.name == row.department)).scalar()
        return str(found) if found else None
    if row.question_id is None:
        return None
    asker = conn.execute(select(s.askers.c.email, s.askers.c.phone, s.askers.c.erased_at)
                         .where(s.askers.c.question_id == row.question_id)).first()
    if asker is None or asker.erased_at is not None:
        return None
    value = asker.email if row.channel == "email" else asker.phone if row.channel == "sms" else None
    return str(value) if value else None


def params_of(row: Row[Any]) -> dict[str, Any]:
    """The row's params, with the department it goes to (the row names it; the params may not)."""
    params = dict(row.params or {})
    if row.audience == "department" and row.department:
        params.setdefault("department", row.department)
    return params


def _due(now: datetime, channels: set[str]) -> Any:
    return and_(n.c.channel.in_(sorted(channels)), or_(
        and_(n.c.state.in_(("pending", "failed")), or_(n.c.next_attempt_at.is_(None), n.c.next_attempt_at <= now)),
        and_(n.c.state == "sending", n.c.claimed_until < now),
    ))


def any_due(conn: Connection, now: datetime, channels: set[str]) -> bool:
    """A read first, so an idle server's rounds never take the store's write lock (the intake's)."""
    return conn.execute(select(n.c.id).where(_due(now, channels)).limit(1)).first() is not None


def claim(conn: Connection, now: datetime, channels: set[str], lease: timedelta, max_attempts: int,
          limit: int = BATCH) -> tuple[list[Claimed], int]:
    """Claim up to `limit` due rows in the caller's transaction (commit it before sending)."""
    rows = conn.execute(select(n).where(_due(now, channels)).order_by(n.c.id).limit(limit)
                        .with_for_update(skip_locked=True)).all()
    claimed: list[Claimed] = []
    reclaimed = 0
    for row in rows:
        if row.state == "sending":
            reclaimed += 1
            log.warning("notification %d: its lease expired (a sender stopped mid-send); claimed again", row.id)
            if row.attempts >= max_attempts:
                conn.execute(update(n).where(n.c.id == row.id).values(
                    state="dead", claimed_until=None, last_error=row.last_error or "lease expired at every try"))
                continue
        attempts = row.attempts + 1
        conn.execute(update(n).where(n.c.id == row.id).values(state="sending", attempts=attempts,
                                                               claimed_until=now + lease))
        claimed.append(Claimed(row.id, row.audience, row.channel, row.kind, params_of(row), row.dedupe,
                               attempts, row.session_id, _address(conn, row)))
    return claimed, reclaimed


def mark_sent(conn: Connection, item: Claimed, now: datetime) -> bool:
    done = conn.execute(update(n).where(n.c.id == item.id, n.c.state == "sending", n.c.attempts == item.attempts)
                        .values(state="sent", sent_at=now, claimed_until=None, next_attempt_at=None))
    return bool(done.rowcount)


def mark_failed(conn: Connection, item: Claimed, now: datetime, error: str, permanent: bool, settings: Settings,
                rng: Callable[[], float]) -> str:
    state = "dead" if permanent or item.attempts >= settings.notify_max_attempts else "failed"
    retry_at = None if state == "dead" else now + backoff(item.attempts, settings, rng)
    conn.execute(update(n).where(n.c.id == item.id, n.c.state == "sending", n.c.attempts == item.attempts)
                 .values(state=state, last_error=error[:500], next_attempt_at=retry_at, claimed_until=None))
    return state


def waiting(conn: Connection, channels: set[str]) -> dict[str, int]:
    rows = conn.execute(select(n.c.channel, func.count()).where(n.c.state.in_(("pending", "failed")),
                                                                n.c.channel.not_in(sorted(channels)))
                        .group_by(n.c.channel)).all()
    return {str(channel): int(count) for channel, count in rows}


class Sender:
    def __init__(self, store: Store, settings: Settings, *, clock: Callable[[], datetime] | None = None,
                 rng: Callable[[], float] = random.random) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock or (lambda: datetime.now(UTC))
        self.rng = rng
        self._http: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._reminded_at: datetime | None = None

    async def run_once(self, *, remind: bool = True) -> Round:
        """One round: the reminders due today, then every due row that a configured channel can send."""
        result = Round()
        if remind:
            result.reminders = await reminders.enqueue_due(self.store, self.settings, self.clock())
        channels = configured_channels(self.settings)
        lease = timedelta(seconds=self.settings.notify_lease_seconds)
        handled = 0
        while handled < MAX_PER_ROUND:
            now = self.clock()
            async with self.store.read_engine.connect() as read:
                if not await read.run_sync(any_due, now, channels):
                    break
            async with self.store.write_engine.begin() as conn:  # committed before anything is sent
                batch, reclaimed = await conn.run_sync(claim, now, channels, lease, self.settings.notify_max_attempts)
            result.reclaimed += reclaimed
            if not batch:
                break
            handled += len(batch)
            for state in await asyncio.gather(*(self._deliver(item) for item in batch)):
                if state == "sent":
                    result.sent += 1
                elif state == "dead":
                    result.dead += 1
                elif state == "failed":
                    result.failed += 1
        async with self.store.read_engine.connect() as conn:
            result.unconfigured = await conn.run_sync(waiting, channels)
        return result

    async def _deliver(self, item: Claimed) -> str:
        error: str | None = None
        permanent = False
        try:
            await self._send(item)
        except PermanentError as err:
            error, permanent = str(err), True
        except SendError as err:
            error = str(err)
        except Exception as err:  # a bug must not stop the others; the row says what happened
            log.exception("notification %d: unexpected error", item.id)
            error = f"internal: {type(err).__name__}"
        now = self.clock()
        async with self.store.write_engine.begin() as conn:
            if error is None:
                ours = await conn.run_sync(mark_sent, item, now)
                log.info("notification %d (%s, %s) sent", item.id, item.channel, item.kind)
                return "sent" if ours else "lost_lease"
            state: str = await conn.run_sync(mark_failed, item, now, error, permanent, self.settings, self.rng)
        log.warning("notification %d (%s, %s): %s; now %s", item.id, item.channel, item.kind, error, state)
        return state

    async def _send(self, item: Claimed) -> None:
        if item.channel == "receipt":
            return  # the receipt page shows it
        if not item.address:
            raise PermanentError("no address: the department has no e-mail (doithoai department set)"
                                 if item.audience == "department" else "no address: none given, or erased")
        public_url = self.settings.public_url
        if item.channel == "email":
            if item.audience == "department":
                letter = messages.department_mail(item.kind, item.params, public_url)
            else:
                letter = messages.asker_mail(item.kind, item.params, public_url)
            await mail.send(self.settings, item.address, letter, item.dedupe)
        elif item.channel == "sms":
            if self._http is None or self._http.closed:
                self._http = aiohttp.ClientSession()
            await sms.send(self.settings, item.address, messages.sms(item.kind, item.params, public_url),
                           item.dedupe, http=self._http)
        else:
            raise PermanentError(f"unknown channel {item.channel}")

    # -- the loop in the server --------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="notify-sender")

    async def stop(self) -> None:
        await stop_task(self._task)
        self._task = None
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def _loop(self) -> None:
        while True:
            try:
                now = self.clock()
                remind = self._reminded_at is None or now - self._reminded_at >= REMINDER_EVERY
                result = await self.run_once(remind=remind)
                if remind:
                    self._reminded_at = now
                if result.sent or result.failed or result.dead or result.reclaimed:
                    log.info("notifications: %s", result.as_dict())
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("notification round failed; trying again")
            await asyncio.sleep(self.settings.notify_poll_seconds)
