"""The staff Socket.IO namespaces: `/moderator` (the board's console, responders) and `/chair`
(the chair's screen). Both authenticate in connect (cookie or API token) and refuse otherwise, and
check that credential again at every action and every few seconds (`sweep`): a socket whose
sign-in ended (signed out, expired, token revoked, account disabled, role taken away) is
disconnected, and its page's reconnect is refused with `unauthorized`.

Every handler answers with an ack body whatever happens; an action is announced to the other
screens only after its transaction committed (BoardFeed.published)."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import socketio
from aiohttp import web

from moderation import workflow as wf
from moderation.accounts import Accounts
from moderation.errors import Conflict, DomainError, Unauthorized, ValidationError
from moderation.roles import CHAIR_NAMESPACE, MODERATOR_NAMESPACE, Actor, Role
from moderation.submission import parse_session_id

from .auth import Credential, actor_for, credential
from .board_feed import BoardFeed, chair_room, staff_room
from .errors import error_body, internal_error_body
from .i18n import lang_of

log = logging.getLogger(__name__)
CATCH_UP_SLACK = timedelta(seconds=2)  # a transaction stamped just before the cursor may commit after it

Handler = Callable[..., Awaitable[dict[str, Any]]]


def acked(handler: Handler) -> Handler:
    @functools.wraps(handler)
    async def wrapper(self: StaffNamespace, sid: str, *args: Any) -> dict[str, Any]:
        connected = self.staff.get(sid)
        lang = connected.lang if connected else "vi"
        actor: Actor | None = None
        try:
            # The sign-in behind the socket, checked again: nothing is done for a socket whose
            # sign-in has ended, and it is disconnected right after this answer (its rooms carry
            # askers' identities); the page's reconnect is then refused and offers to sign in.
            actor = await self.signed_in(sid)
            if actor is None:
                if connected is not None:
                    asyncio.get_running_loop().create_task(self._end(sid))  # after the ack, queued first
                raise Unauthorized("unauthorized")
            if len(args) != 1 or not isinstance(args[0], dict):
                raise ValidationError("not_an_object")
            return await handler(self, sid, actor, args[0])
        except Conflict as err:
            body = error_body(err, lang)
            try:  # the fresh state, so the console shows what the other moderator did
                assert actor is not None  # a conflict comes only from a signed-in action
                body["question"] = await self.feed.fresh(args[0]["question_id"], actor)
            except Exception:
                log.exception("reading the fresh state after a conflict failed")
            return body
        except DomainError as err:
            return error_body(err, lang)
        except Exception:
            log.exception("staff handler %s failed", handler.__name__)
            return internal_error_body(lang, "internal_staff")

    return wrapper


@dataclass(frozen=True)
class StaffSocket:
    actor: Actor  # who it connected as: its rooms were chosen by the role and department
    lang: str
    credential: Credential  # what it connected with, checked again while it stays


class StaffNamespace(socketio.AsyncNamespace):
    roles: frozenset[Role] = frozenset()

    def __init__(self, namespace: str, feed: BoardFeed, accounts: Accounts) -> None:
        super().__init__(namespace)
        self.feed = feed
        self.accounts = accounts
        self.staff: dict[str, StaffSocket] = {}

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        request: web.Request = environ["aiohttp.request"]
        given = credential(request, auth)
        try:
            actor = await actor_for(self.accounts, given)
        except Exception:
            log.exception("staff connect failed")
            raise socketio.exceptions.ConnectionRefusedError({"code": "internal"}) from None
        if actor is None:
            raise socketio.exceptions.ConnectionRefusedError({"code": "unauthorized"})
        if actor.role not in self.roles:
            raise socketio.exceptions.ConnectionRefusedError({"code": "forbidden"})
        lang = auth.get("lang") if isinstance(auth, dict) else None
        assert given is not None
        self.staff[sid] = StaffSocket(actor, lang_of(lang or request.cookies.get("lang")), given)

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        self.staff.pop(sid, None)

    async def signed_in(self, sid: str) -> Actor | None:
        """Who the socket's credential stands for now; None once it has ended, or when the account's
        role or department is no longer the one it connected with (its rooms were chosen by them:
        the head's carry protected identities, a department's its questions)."""
        connected = self.staff.get(sid)
        if connected is None:
            return None
        actor = await actor_for(self.accounts, connected.credential)
        if actor is None or sid not in self.staff:  # ended, or the socket went meanwhile
            return None
        if (actor.role, actor.department) != (connected.actor.role, connected.actor.department):
            return None
        return actor

    async def sweep(self) -> int:
        """Disconnect every socket whose sign-in has ended; returns how many."""
        ended = 0
        for sid in list(self.staff):
            if sid in self.staff and await self.signed_in(sid) is None:
                await self._end(sid)
                ended += 1
        return ended

    @staticmethod
    async def sweep_all(namespaces: list[StaffNamespace]) -> None:
        """`sweep` each namespace; one whose store read fails is tried again at the next sweep."""
        for namespace in namespaces:
            try:
                await namespace.sweep()
            except Exception:
                log.exception("checking staff sign-ins on %s failed", namespace.namespace)

    async def _end(self, sid: str) -> None:
        ended = self.staff.pop(sid, None)
        if ended is None:
            return  # already ended, or gone
        log.info("%s: closing %s's socket, its sign-in has ended", self.namespace, ended.actor.name)
        await self.disconnect(sid)

    async def _enter(self, sid: str, name: str) -> None:
        for joined in list(self.rooms(sid)):
            if joined != sid:
                await self.leave_room(sid, joined)
        await self.enter_room(sid, name)


class ModeratorNamespace(StaffNamespace):
    roles = MODERATOR_NAMESPACE

    def __init__(self, feed: BoardFeed, accounts: Accounts) -> None:
        super().__init__("/moderator", feed, accounts)

    @acked
    async def on_join(self, sid: str, actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
        """Snapshot, or with `since` only what changed since: a console that reconnects after a drop
        catches up without a reload and misses nothing (it merges by version)."""
        session_id = parse_session_id(data.get("session_id"))
        session = await self.feed.watch.get(session_id)
        since = _parse_cursor(data.get("since"))
        if actor.role is Role.RESPONDER:
            # A department's board is small, and a catch-up cannot say what was routed away from it
            # meanwhile: a responder always gets the whole board.
            since = None
        cursor = datetime.now(UTC).isoformat()  # taken before the read: nothing falls between
        await self._enter(sid, staff_room(session_id, actor))
        await self.feed.duplicate_index(session_id)
        questions = await self.feed.board.questions(
            session_id=session_id, since=since - CATCH_UP_SLACK if since else None,
            department=actor.department if actor.role is Role.RESPONDER else None)
        return {
            "ok": True,
            "session": session.staff_dict(),
            "me": {**actor.public(), "actions": wf.role_actions(actor.role),
                   "session_actions": wf.session_actions(actor.role)},
            "questions": [self.feed.staff_dict(q, session, actor) for q in questions],
            "queue": await self.feed.board.queue(session_id),
            "departments": await self.feed.board.departments(session_id),
            "cursor": cursor,
            "full": since is None,
        }

    @acked
    async def on_action(self, sid: str, actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
        question_id = data.get("question_id")
        if not isinstance(question_id, int) or isinstance(question_id, bool):
            raise ValidationError("bad_question_id", field="question_id")
        params = {k: v for k, v in data.items() if k not in ("question_id", "action", "version")}
        return await self.feed.perform(question_id, data.get("action"), data.get("version"), params, actor)

    @acked
    async def on_session_action(self, sid: str, actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
        session = await self.feed.session_action(parse_session_id(data.get("session_id")), data.get("action"), actor)
        return {"ok": True, "session": session.staff_dict()}

    @acked
    async def on_reveal(self, sid: str, actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
        question_id = data.get("question_id")
        if not isinstance(question_id, int) or isinstance(question_id, bool):
            raise ValidationError("bad_question_id", field="question_id")
        return {"ok": True, "identity": await self.feed.board.reveal(question_id, data.get("reason"), actor)}


class ChairNamespace(StaffNamespace):
    roles = CHAIR_NAMESPACE

    def __init__(self, feed: BoardFeed, accounts: Accounts) -> None:
        super().__init__("/chair", feed, accounts)

    @acked
    async def on_join(self, sid: str, actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
        session_id = parse_session_id(data.get("session_id"))
        session = await self.feed.watch.get(session_id)
        await self._enter(sid, chair_room(session_id))
        return {"ok": True, "session": session.staff_dict(), "cue": await self.feed.cue(session_id),
                "server_time": datetime.now(UTC).isoformat()}

    @acked
    async def on_done_next(self, sid: str, actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
        session_id = parse_session_id(data.get("session_id"))
        outcome = await self.feed.done_next(session_id, data.get("question_id"), actor)
        await self.feed.published(outcome)
        return {"ok": True, "cue": await self.feed.cue(session_id)}


def _parse_cursor(raw: Any) -> datetime | None:
    if raw is None:
        return None
    try:
        cursor = datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        cursor = None
    if cursor is None or cursor.tzinfo is None:
        raise ValidationError("bad_cursor", field="since")
    return cursor

