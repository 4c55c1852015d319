"""Question intake for all three channels (Socket.IO, JSON API, HTML form): limits, validation,
the durable write, and the acknowledgement. An `ok` ack is only ever built from a committed row."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from moderation.errors import DomainError, RateLimited, SessionClosed, SessionNotOpen, ValidationError
from moderation.intake import Receipt
from moderation.sessions import SessionState
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
    def __init__(self, settings: Settings, store: Store, watch: SessionWatch, feed: BoardFeed | None = None) -> None:
        self.store = store
        self.watch = watch
        self.feed = feed
        on = settings.rate_limit
        self.per_ip = RateLimiter(settings.questions_per_ip_per_minute, settings.questions_per_ip_burst, enabled=on)
        self.per_connection = RateLimiter(
            settings.questions_per_connection_per_minute, settings.questions_per_connection_burst, enabled=on
        )

    async def submit(
        self, payload: Any, *, channel: str, client_ip: str, connection: str | None, lang: str
    ) -> dict[str, Any]:
        """Return the ack body: {ok: true, receipt, question_id} or {ok: false, error: {...}}."""
        try:
            receipt = await self._submit(payload, channel, client_ip, connection)
        except DomainError as err:
            return error_body(err, lang)
        except WriterClosed:
            return internal_error_body(lang, "shutting_down")
        except WriterBusy:
            return error_body(RateLimited("busy", retry_after=2), lang)
        except Exception:
            # Logged without the payload: it holds personal data.
            log.exception("intake failed (channel=%s)", channel)
            return internal_error_body(lang)
        if log.isEnabledFor(logging.DEBUG):  # this runs for every question: skip building the call
            log.debug("question %s stored (receipt %s, channel %s, resend=%s)", receipt.question_id,
                      receipt.receipt, channel, receipt.duplicate)
        return receipt.ack()

    async def _submit(self, payload: Any, channel: str, client_ip: str, connection: str | None) -> Receipt:
        if self.per_ip.enabled or self.per_connection.enabled:
            for limiter, key in ((self.per_ip, client_ip), (self.per_connection, connection)):
                if key is not None:
                    wait = limiter.take(key)
                    if wait:
                        raise RateLimited("rate_limited", retry_after=wait)
        raw_id = payload.get("session_id") if isinstance(payload, dict) else None
        session_id = parse_session_id(raw_id)
        # The watch's cache, read here without a coroutine per question; SessionWatch.get reads the
        # store for a session it does not know or one still in draft (never trusted from the cache).
        session = self.watch.sessions.get(session_id)
        if session is None or session.state is SessionState.DRAFT:
            session = await self.watch.get(session_id)
        try:
            submission = parse_submission(payload, channel=channel, session_fields=session.fields)
        except ValidationError:
            # Telling someone to fix a form they can no longer send helps nobody: say why first.
            if session.state is SessionState.DRAFT:
                raise SessionNotOpen("session_not_open", field="session_id") from None
            if session.state in (SessionState.CLOSED, SessionState.PUBLISHED):
                raise SessionClosed("session_closed", field="session_id") from None
            raise
        # The writer checks the session's state again inside its transaction: that check is the one
        # that counts (the cache may be half a second old), and it still returns the receipt of a
        # question resent after the close if it was stored before it.
        receipt = await self.store.submit_question(submission)
        if self.feed is not None and not receipt.duplicate:
            self.feed.question_stored(submission.session_id, receipt.question_id)  # committed: tell the board
        return receipt
