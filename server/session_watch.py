"""Keeps this node's view of sessions current and tells viewers when a session or one of its public
questions changes.

A session may be announced, started or closed by the CLI or by another node, straight in the store.
Polling `updated_at` twice a second is cheap (a handful of rows) and works on SQLite and PostgreSQL
alike. Intake never trusts this cache to accept a question: the writer checks the session's state
inside its own transaction. The cache only refuses early what can never reopen (closed sessions)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import socketio

from moderation.background import stop_task
from moderation.board import Board
from moderation.sessions import Session, SessionState
from moderation.store import QuestionView, Store

log = logging.getLogger(__name__)
STATS_EVERY = 4  # polls: the public counts are pushed at most every two seconds
STATS_MAX_AGE = 2.0  # seconds a page or a join may be served cached counts


def room(session_id: int) -> str:
    return f"session:{session_id}"


class SessionWatch:
    def __init__(self, store: Store, sio: socketio.AsyncServer, poll_seconds: float) -> None:
        self.store = store
        self.board = Board(store)
        self.sio = sio
        self.poll_seconds = poll_seconds
        self.sessions: dict[int, Session] = {}
        self._since: datetime | None = None
        self._questions_since: datetime | None = None
        self._question_versions: dict[int, int] = {}
        self._task: asyncio.Task[None] | None = None
        self._stats: dict[int, dict[str, Any]] = {}
        self._stats_read: dict[int, float] = {}  # loop time of each session's last count
        # Held by this node's actions from before their commit until their versions are noted
        # (BoardFeed.act), and by the poller while it compares versions: no double announcement.
        self.announcing = asyncio.Lock()
        # set by the app: tells the staff screens of questions changed by the CLI or another node
        self.on_changed_elsewhere: Callable[[list[QuestionView]], Awaitable[None]] | None = None
        self.on_session_changed: Callable[[Session], Awaitable[None]] | None = None

    def seen(self, question_id: int, version: int) -> None:
        """This node already announced this version (see BoardFeed): the poller skips it."""
        if self._question_versions.get(question_id, 0) < version:
            self._question_versions[question_id] = version

    async def stats(self, session_id: int) -> dict[str, Any]:
        """The transparency counts, at most STATS_MAX_AGE old (a thousand joins, one GROUP BY)."""
        now = asyncio.get_running_loop().time()
        if session_id not in self._stats or now - self._stats_read.get(session_id, 0.0) > STATS_MAX_AGE:
            self._stats[session_id] = await self.board.stats(session_id)
            self._stats_read[session_id] = now
        return self._stats[session_id]

    async def start(self) -> None:
        await self.refresh()
        self._task = asyncio.create_task(self._poll(), name="session-watch")

    async def stop(self) -> None:
        await stop_task(self._task)

    async def get(self, session_id: int) -> Session:
        session = self.sessions.get(session_id)
        # A draft may be announced at any moment (by the CLI, another node): never trust a cached one.
        if session is None or session.state is SessionState.DRAFT:
            session = await self.store.get_session(session_id)  # raises NotFound
            self.sessions[session_id] = session
        return session

    async def refresh(self) -> list[Session]:
        changed = await self.store.sessions_changed_since(self._since)
        fresh: list[Session] = []
        for session in changed:
            old = self.sessions.get(session.id)
            if old is None or old.updated_at != session.updated_at:
                fresh.append(session)
            self.sessions[session.id] = session
            if session.updated_at and (self._since is None or session.updated_at > self._since):
                # re-read a small window: two writers' clocks may differ slightly
                self._since = session.updated_at - timedelta(seconds=2)
        return fresh

    async def announce_sessions(self) -> None:
        """Re-read changed sessions and tell viewers and staff; also called right after a staff
        session action, so nobody waits for the next poll."""
        for session in await self.refresh():
            await self.sio.emit("session_state", session.public_dict(), room=room(session.id), namespace="/viewer")
            if self.on_session_changed:
                await self.on_session_changed(session)

    async def changed_questions(self) -> list[QuestionView]:
        now = datetime.now(UTC)
        since = self._questions_since or now - timedelta(seconds=5)
        self._questions_since = now - timedelta(seconds=2)
        fresh = []
        for question in await self.store.questions_changed_since(since):
            if self._question_versions.get(question.id, 0) < question.version:
                self._question_versions[question.id] = question.version
                fresh.append(question)
        return fresh

    async def _poll(self) -> None:
        tick = 0
        while True:
            await asyncio.sleep(self.poll_seconds)
            tick += 1
            try:
                await self.announce_sessions()
                async with self.announcing:
                    changed = await self.changed_questions()
                for question in changed:
                    # Only what the public may see: a question leaving the public list is announced
                    # by its id alone.
                    body = question.public_dict() if question.public else {"id": question.id, "public": False}
                    await self.sio.emit("question", body, room=room(question.session_id), namespace="/viewer")
                if changed and self.on_changed_elsewhere:
                    await self.on_changed_elsewhere(changed)
                if tick % STATS_EVERY == 0:
                    await self._refresh_stats()
            except Exception:
                log.exception("session poll failed; retrying")

    async def _refresh_stats(self) -> None:
        """The public counts (received, accepted, answered, declined by reason) for watched sessions."""
        watched = self.sio.manager.rooms.get("/viewer", {})
        for name, members in list(watched.items()):
            if not (isinstance(name, str) and name.startswith("session:") and members):
                continue
            session_id = int(name.split(":", 1)[1])
            before = self._stats.get(session_id)
            self._stats_read.pop(session_id, None)  # count again now
            stats = await self.stats(session_id)
            if stats != before:
                await self.sio.emit("stats", stats, room=name, namespace="/viewer")
