"""The `/viewer` Socket.IO namespace: join a session's room, submit questions, mark interest.

python-socketio has no error boundary around handlers: each one here returns an ack body whatever
happens, so a client always learns what became of what it sent."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import socketio
from aiohttp import web

from moderation.blocks import NO_SENDER, Sender
from moderation.consent import Channel
from moderation.errors import DomainError, NotFound, RateLimited, ValidationError
from moderation.questions import QuestionState
from moderation.submission import parse_session_id

from .config import Settings
from .errors import error_body, internal_error_body
from .i18n import lang_of
from .intake import Intake
from .media import stream_status
from .ratelimit import RateLimiter
from .security import VIEWER_COOKIE, ViewerIds, client_ip
from .session_watch import SessionWatch, room

if TYPE_CHECKING:
    from .board_feed import BoardFeed

log = logging.getLogger(__name__)

Handler = Callable[..., Awaitable[dict[str, Any]]]


@dataclass
class Viewer:
    ip: str
    lang: str
    viewer_key: str  # who counts as one for interest marks (see security.ViewerIds)
    sender: Sender = NO_SENDER  # keyed hashes of the cookie id and the address (moderation/blocks.py)


def acked(handler: Handler) -> Handler:
    @functools.wraps(handler)
    async def wrapper(self: ViewerNamespace, sid: str, *args: Any) -> dict[str, Any]:
        lang = self.viewers[sid].lang if sid in self.viewers else "vi"
        try:
            if len(args) != 1:
                raise ValidationError("not_an_object")
            return await handler(self, sid, args[0])
        except DomainError as err:
            return error_body(err, lang)
        except Exception:
            log.exception("viewer handler %s failed", handler.__name__)
            return internal_error_body(lang)

    return wrapper


class ViewerNamespace(socketio.AsyncNamespace):
    def __init__(self, settings: Settings, intake: Intake, watch: SessionWatch, viewer_ids: ViewerIds,
                 feed: BoardFeed) -> None:
        super().__init__("/viewer")
        self.feed = feed
        self.settings = settings
        self.trusted = settings.trusted_networks()
        self.intake = intake
        self.watch = watch
        self.store = intake.store
        self.viewers: dict[str, Viewer] = {}
        self.viewer_ids = viewer_ids
        # the live video's state (server/media.py sets it when the media worker runs)
        self.stream_state: Callable[[int], str] = lambda session_id: "off"
        on = settings.rate_limit
        self.connects = RateLimiter(settings.connections_per_ip_per_minute, settings.connections_per_ip_per_minute,
                                    enabled=on)
        self.interest_limit = RateLimiter(settings.interest_per_connection_per_minute,
                                          settings.interest_per_connection_per_minute // 2, enabled=on)
        # Per address too: reconnecting for a fresh per-connection id must not inflate counts.
        self.interest_per_ip = RateLimiter(settings.interest_per_ip_per_minute,
                                           settings.interest_per_ip_per_minute // 2, enabled=on)

    def submit_soon(self, sid: str, args: tuple[Any, ...], reply: Callable[[dict[str, Any]], None]) -> bool:
        """`submit_question` without a task waiting for each COMMIT (IntakeServer's fast path): the
        ack goes out from the writer's reply. False: take python-socketio's usual path."""
        viewer = self.viewers.get(sid)
        if viewer is None:
            return False
        if len(args) != 1:
            reply(error_body(ValidationError("not_an_object"), viewer.lang))
            return True
        return self.intake.submit_soon(args[0], reply, channel=Channel.SOCKET, client_ip=viewer.ip,
                                       connection=sid, lang=viewer.lang, sender=viewer.sender)

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        try:
            await self._connect(sid, environ, auth)
        except socketio.exceptions.ConnectionRefusedError:
            raise
        except Exception:
            # python-socketio would retry connect() with auth=None and tell the client nothing useful
            log.exception("viewer connect failed")
            raise socketio.exceptions.ConnectionRefusedError({"code": "internal"}) from None

    async def _connect(self, sid: str, environ: dict[str, Any], auth: Any) -> None:
        request: web.Request = environ["aiohttp.request"]
        ip = client_ip(request, self.trusted)
        wait = self.connects.take(ip)
        if wait:
            raise socketio.exceptions.ConnectionRefusedError({"code": "rate_limited", "retry_after": wait})
        lang = auth.get("lang") if isinstance(auth, dict) else None
        viewer_id = self.viewer_ids.verify(request.cookies.get(VIEWER_COOKIE))
        self.viewers[sid] = Viewer(ip=ip, lang=lang_of(lang or request.cookies.get("lang")),
                                   viewer_key=viewer_id or f"conn-{sid}", sender=self.intake.sender(viewer_id, ip))

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        self.viewers.pop(sid, None)
        self.intake.per_connection.forget(sid)
        self.interest_limit.forget(sid)

    @acked
    async def on_join(self, sid: str, data: Any) -> dict[str, Any]:
        """Enter a session's room; the ack carries a fresh snapshot, so a client that reconnects
        after a drop is current again without a reload."""
        session_id = parse_session_id(data.get("session_id") if isinstance(data, dict) else None)
        session = await self.watch.get(session_id)
        if not session.public:
            raise NotFound("session_not_found", field="session_id")
        for joined in list(self.rooms(sid)):
            if joined.startswith("session:"):
                await self.leave_room(sid, joined)
        await self.enter_room(sid, room(session_id))
        questions = await self.store.public_questions(session_id)
        on_air = next((q for q in questions if q.state is QuestionState.ON_AIR), None)
        return {"ok": True, "session": session.public_dict(), "questions": [q.public_dict() for q in questions],
                "on_air": on_air.public_dict() if on_air else None, "stats": await self.watch.stats(session_id),
                "stream": stream_status(session_id, self.stream_state(session_id))}

    @acked
    async def on_submit_question(self, sid: str, data: Any) -> dict[str, Any]:
        viewer = self.viewers[sid]
        return await self.intake.submit(data, channel=Channel.SOCKET, client_ip=viewer.ip, connection=sid,
                                        lang=viewer.lang, sender=viewer.sender)

    @acked
    async def on_mark_interest(self, sid: str, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise ValidationError("not_an_object")
        viewer = self.viewers[sid]
        for limiter, key in ((self.interest_limit, sid), (self.interest_per_ip, viewer.ip)):
            wait = limiter.take(key)
            if wait:
                raise RateLimited("rate_limited", retry_after=wait)
        question_id = data.get("question_id")
        if not isinstance(question_id, int) or isinstance(question_id, bool):
            raise ValidationError("bad_question_id", field="question_id")
        if self.intake.blocks is not None:  # a blocked sender marks nothing (moderation/blocks.py)
            await self.intake.blocks.check_interest(viewer.sender, question_id)
        # A `viewer_key` in the payload is ignored: the server decides who counts as one.
        result = await self.store.mark_interest(question_id, viewer.viewer_key)
        # committed: now tell everyone in the session
        if result.counted:
            body = {"question_id": result.question_id, "count": result.count}
            await self.emit("interest", body, room=room(result.session_id))
            await self.feed.interest_changed(result.session_id, body)
        return {"ok": True, "question_id": result.question_id, "count": result.count, "counted": result.counted}
