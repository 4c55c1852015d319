"""Question intake for all three channels (Socket.IO, JSON API, HTML form): limits, validation,
the durable write, and the acknowledgement. An `ok` ack is only ever built from a committed row."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from moderation.blocks import NO_SENDER, Sender, SenderBlocks
from moderation.errors import DomainError, RateLimited, SessionClosed, SessionNotOpen, ValidationError
from moderation.intake import Receipt
from moderation.officer_intake import check_officer, parse_entry, refuse_viewer_channel
from moderation.roles import Actor
from moderation.sessions import Session, SessionState
from moderation.store import Store
from moderation.submission import parse_session_id, parse_submission
from moderation.writer import WriterBusy, WriterClosed

from .config import Settings
from .errors import error_body, internal_error_body
from .ratelimit import RateLimiter
from .session_watch import SessionWatch

if TYPE_CHECKING:
    from .board_feed import BoardFeed

log = logging.getLogger(__name__)


class Intake:
    def __init__(self, settings: Settings, store: Store, watch: SessionWatch, feed: BoardFeed | None = None,
                 blocks: SenderBlocks | None = None) -> None:
        self.store = store
        self.watch = watch
        self.feed = feed
        self.blocks = blocks  # senders the board blocked (moderation/blocks.py)
        on = settings.rate_limit
        self.per_ip = RateLimiter(settings.questions_per_ip_per_minute, settings.questions_per_ip_burst, enabled=on)
        self.per_connection = RateLimiter(
            settings.questions_per_connection_per_minute, settings.questions_per_connection_burst, enabled=on
        )

    def sender(self, viewer_id: str | None, client_ip: str) -> Sender:
        """Who sends, as the block check and the register keep it: keyed hashes of the viewer's
        cookie id (None without a valid cookie) and of the client address."""
        return self.blocks.sender(viewer_id, client_ip) if self.blocks is not None else NO_SENDER

    async def submit(
        self, payload: Any, *, channel: str, client_ip: str, connection: str | None, lang: str,
        sender: Sender = NO_SENDER, officer: Actor | None = None,
    ) -> dict[str, Any]:
        """Return the ack body: {ok: true, receipt, question_id} or {ok: false, error: {...}}.
        `officer`: a board member entering a question received through `channel` (phone, e-mail,
        letter, in person; moderation/officer_intake.py)."""
        try:
            if officer is not None:  # officer intake: the board only, before anything else
                check_officer(officer)
            session_id, session = self._cached_session(payload)
            if session is None:  # one it does not know, or a draft: read the store
                session = await self.watch.get(session_id)
            receipt = await self._enqueue(payload, session, channel, client_ip, connection, sender, officer)
        except Exception as exc:
            return self._failure(exc, channel, lang)
        return self._stored(receipt, session.id, channel)

    def submit_soon(self, payload: Any, reply: Callable[[dict[str, Any]], None], *, channel: str, client_ip: str,
                    connection: str | None, lang: str, sender: Sender = NO_SENDER) -> bool:
        """The Socket.IO path: the same as `submit`, without a coroutine waiting for the COMMIT.

        Validates and queues now; `reply` gets the ack body (at once for a refusal, after COMMIT for a
        stored question). Returns False, having done nothing, when the session must first be read
        from the store: the caller then takes the `submit` path."""
        try:
            session = self._cached_session(payload)[1]
            if session is None:
                return False
            future = self._enqueue(payload, session, channel, client_ip, connection, sender)
        except Exception as exc:
            reply(self._failure(exc, channel, lang))
            return True

        def committed(done: asyncio.Future[Receipt]) -> None:
            try:
                body = self._stored(done.result(), session.id, channel)
            except Exception as exc:
                body = self._failure(exc, channel, lang)
            reply(body)

        future.add_done_callback(committed)
        return True

    def _cached_session(self, payload: Any) -> tuple[int, Session | None]:
        """The payload's session id, and the session from the watch's cache without a coroutine per
        question; None for one it does not know or one still in draft (never trusted from the cache:
        it may be announced)."""
        session_id = parse_session_id(payload.get("session_id") if isinstance(payload, dict) else None)
        session = self.watch.sessions.get(session_id)
        return session_id, None if session is None or session.state is SessionState.DRAFT else session

    def _enqueue(self, payload: Any, session: Session, channel: str, client_ip: str,
                 connection: str | None, sender: Sender, officer: Actor | None = None) -> asyncio.Future[Receipt]:
        if officer is None:  # officer intake: a viewer cannot say how the question reached the board
            refuse_viewer_channel(payload)
        # An officer entering the day's letters is signed in, named on each question and audited:
        # the anonymous limits per address would stop them at the burst (officer intake).
        if officer is None and (self.per_ip.enabled or self.per_connection.enabled):
            for limiter, key in ((self.per_ip, client_ip), (self.per_connection, connection)):
                if key is not None:
                    wait = limiter.take(key)
                    if wait:
                        raise RateLimited("rate_limited", retry_after=wait)
        try:
            if officer is not None:  # officer intake (moderation/officer_intake.py)
                submission = parse_entry(payload, officer, channel, session_fields=session.fields)
            else:
                submission = parse_submission(payload, channel=channel, session_fields=session.fields,
                                              viewer_hash=sender.viewer, address_hash=sender.address)
        except ValidationError:
            # Telling someone to fix a form they can no longer send helps nobody: say why first.
            if session.state is SessionState.DRAFT:
                raise SessionNotOpen("session_not_open", field="session_id") from None
            if session.state in (SessionState.CLOSED, SessionState.PUBLISHED):
                raise SessionClosed("session_closed", field="session_id") from None
            raise
        # A blocked sender: checked here, for every channel, before anything is written. The writer
        # still answers a resend of a question stored before the block with its receipt.
        refusal = self.blocks.refusal(session.id, sender, submission.asker.phone) if self.blocks else None
        if refusal is not None:
            submission = replace(submission, refusal=refusal)
        # The writer checks the session's state again inside its transaction: that check is the one
        # that counts (the cache may be half a second old), and it still returns the receipt of a
        # question resent after the close if it was stored before it.
        return self.store.enqueue_question(submission)

    def _stored(self, receipt: Receipt, session_id: int, channel: str) -> dict[str, Any]:
        if self.feed is not None and not receipt.duplicate:
            self.feed.question_stored(session_id, receipt.question_id)  # committed: tell the board
        if log.isEnabledFor(logging.DEBUG):  # this runs for every question: skip building the call
            log.debug("question %s stored (receipt %s, channel %s, resend=%s)", receipt.question_id,
                      receipt.receipt, channel, receipt.duplicate)
        return receipt.ack()

    @staticmethod
    def _failure(exc: BaseException, channel: str, lang: str) -> dict[str, Any]:
        if isinstance(exc, DomainError):
            return error_body(exc, lang)
        if isinstance(exc, WriterClosed):
            return internal_error_body(lang, "shutting_down")
        if isinstance(exc, WriterBusy):
            return error_body(RateLimited("busy", retry_after=2), lang)
        # Logged without the payload: it holds personal data.
        log.error("intake failed (channel=%s)", channel, exc_info=exc)
        return internal_error_body(lang)
