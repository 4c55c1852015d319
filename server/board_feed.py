"""Tells every screen what changed, after it was committed: the board's consoles (masked staff
views, per audience), the chair's cue, the public page and the overlay.

Rooms: `mod:{session}` (editors, admins), `head:{session}` (the head, who alone sees protected
identities), `dept:{session}:{department}` (responders), `chair:{session}`, and the public
`session:{session}` on /viewer. New questions reach the consoles in small batches (one read per
50 ms, not one per question), so the busy hour's intake costs the consoles one query per tick."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import socketio

from moderation.abuse import flags as abuse_flags
from moderation.board import Board, Outcome
from moderation.duplicates import DuplicateIndex
from moderation.questions import QuestionState
from moderation.roles import Actor, Role
from moderation.sessions import Session
from moderation.store import QuestionView, Store
from moderation.views import cue_view, staff_view

from .session_watch import SessionWatch, room

log = logging.getLogger(__name__)
NEW_QUESTION_TICK = 0.05
# Not suggested as duplicates: already folded, or out of the dialogue.
_NOT_INDEXED = frozenset({QuestionState.MERGED, QuestionState.DECLINED, QuestionState.FORWARDED})


class Suggestions:
    """Merge suggestions per question, kept current as questions arrive: one index search per new
    (or edited) question, none when a console renders thousands of cards."""

    LIMIT = 5

    def __init__(self) -> None:
        self.index = DuplicateIndex(limit=self.LIMIT)
        self.found: dict[int, list[tuple[int, float]]] = {}

    def add(self, question_id: int, text: str) -> None:
        matches = self.index.add(question_id, text)  # re-indexes an edited question
        self.found[question_id] = matches
        for other, score in matches:  # and the earlier question now suggests this one
            theirs = [m for m in self.found.setdefault(other, []) if m[0] != question_id]
            theirs.append((question_id, score))
            theirs.sort(key=lambda m: (-m[1], m[0]))
            self.found[other] = theirs[: self.LIMIT]

    def remove(self, question_id: int) -> None:
        self.index.remove(question_id)
        self.found.pop(question_id, None)

    def similar(self, question_id: int) -> list[tuple[int, float]]:
        return [m for m in self.found.get(question_id, []) if m[0] in self.found]


def _cue_body(session_id: int, now: QuestionView | None, upcoming: list[QuestionView]) -> dict[str, Any]:
    return {"session_id": session_id, "now": cue_view(now) if now else None, "next": [cue_view(q) for q in upcoming]}


def mod_room(session_id: int) -> str:
    return f"mod:{session_id}"


def head_room(session_id: int) -> str:
    return f"head:{session_id}"


def dept_room(session_id: int, department: str) -> str:
    return f"dept:{session_id}:{department}"


def chair_room(session_id: int) -> str:
    return f"chair:{session_id}"


def staff_room(session_id: int, actor: Actor) -> str:
    if actor.role is Role.HEAD:
        return head_room(session_id)
    if actor.role is Role.RESPONDER:
        return dept_room(session_id, actor.department or "")
    return mod_room(session_id)


class BoardFeed:
    def __init__(self, store: Store, sio: socketio.AsyncServer, watch: SessionWatch) -> None:
        self.store = store
        self.board = Board(store)
        self.sio = sio
        self.watch = watch
        self.indexes: dict[int, Suggestions] = {}
        self._index_locks: dict[int, asyncio.Lock] = {}
        self._new: dict[int, list[int]] = {}
        self._flusher: asyncio.Task[None] | None = None

    # -- views ----------------------------------------------------------------------------------

    async def duplicate_index(self, session_id: int) -> Suggestions:
        """Built from the store the first time a console opens the session, then kept current."""
        index = self.indexes.get(session_id)
        if index is not None:
            return index
        async with self._index_locks.setdefault(session_id, asyncio.Lock()):
            if session_id not in self.indexes:
                index = Suggestions()
                for n, q in enumerate(await self.board.questions(session_id=session_id)):
                    if q.state not in _NOT_INDEXED:
                        index.add(q.id, q.shown_text)
                    if n % 200 == 199:
                        await asyncio.sleep(0)  # ~0.3 ms each: let intake and the other consoles run
                self.indexes[session_id] = index
        return self.indexes[session_id]

    def staff_dict(self, question: QuestionView, session: Session, viewer: Actor | Role) -> dict[str, Any]:
        """The card for a user, or for every member of a room (`viewer` a role: the editors' and
        admins' room, the head's, or the question's own department)."""
        if isinstance(viewer, Role):
            viewer = Actor(viewer.value, viewer, department=question.department)
        index = self.indexes.get(question.session_id)
        similar = index.similar(question.id) if index is not None and question.state not in _NOT_INDEXED else []
        return staff_view(question, session, viewer, flags=abuse_flags(question.shown_text), similar=similar)

    async def cue(self, session_id: int) -> dict[str, Any]:
        return _cue_body(session_id, *await self.board.cue(session_id))

    async def fresh(self, question_id: int, actor: Actor) -> dict[str, Any]:
        """A question as it is now, for a client whose action met a newer version (a conflict)."""
        question = (await self.board.questions(ids=[question_id]))[0]
        if actor.role is Role.CHAIR:
            return cue_view(question)
        return self.staff_dict(question, await self.watch.get(question.session_id), actor)

    # -- acting -----------------------------------------------------------------------------------

    async def act(self, question_id: int, action: Any, version: Any, params: dict[str, Any], actor: Actor) -> Outcome:
        """Carry out an action; the caller announces it with `published` once it has answered."""
        # Until this node has noted the new versions as its own to announce, the poller must not
        # look, or it would announce them a second time as changed elsewhere.
        async with self.watch.announcing:
            outcome = await self.board.act(question_id, action, version, params, actor)
            self._note(outcome)
        return outcome

    async def done_next(self, session_id: int, question_id: Any, actor: Actor) -> Outcome:
        async with self.watch.announcing:
            outcome = await self.board.done_next(session_id, question_id, actor)
            self._note(outcome)
        return outcome

    async def perform(self, question_id: int, action: Any, version: Any, params: dict[str, Any],
                      actor: Actor) -> dict[str, Any]:
        """An action from a console or the API: carried out, announced, answered (the ok body)."""
        outcome = await self.act(question_id, action, version, params, actor)
        await self.published(outcome)
        if actor.role is Role.CHAIR:
            # the chair's screen needs the cue, never the staff card (district, phone digits, receipt)
            return {"ok": True, "cue": await self.cue(outcome.question.session_id)}
        session = await self.watch.get(outcome.question.session_id)
        return {"ok": True, "question": self.staff_dict(outcome.question, session, actor),
                "others": [self.staff_dict(q, session, actor) for q in outcome.others]}

    async def session_action(self, session_id: int, action: Any, actor: Actor) -> Session:
        session = await self.board.session_action(session_id, action, actor)
        await self.watch.announce_sessions()  # viewers and every console, not only the caller
        return session

    def _note(self, outcome: Outcome) -> None:
        for question in outcome.changed:
            self.watch.seen(question.id, question.version)

    # -- announcing -----------------------------------------------------------------------------

    def _occupied(self, namespace: str, name: str) -> bool:
        return bool(self.sio.manager.rooms.get(namespace, {}).get(name))

    async def _to_staff(self, question: QuestionView, session: Session) -> None:
        cursor = question.updated_at.isoformat() if question.updated_at else None
        sid = question.session_id
        targets = [(mod_room(sid), Role.EDITOR), (head_room(sid), Role.HEAD)]
        if question.department:
            targets.append((dept_room(sid, question.department), Role.RESPONDER))
        for name, role in targets:
            if self._occupied("/moderator", name):
                await self.sio.emit("question", {"question": self.staff_dict(question, session, role),
                                                 "cursor": cursor}, room=name, namespace="/moderator")
        if question.department:
            # Routed elsewhere (here, from the CLI or on another node): whichever department had it
            # drops it from its board. The other responders' boards hear only the id, and ignore it.
            prefix, own = f"dept:{sid}:", dept_room(sid, question.department)
            for name, members in list(self.sio.manager.rooms.get("/moderator", {}).items()):
                if members and isinstance(name, str) and name.startswith(prefix) and name != own:
                    await self.sio.emit("question_gone", {"session_id": sid, "id": question.id}, room=name,
                                        namespace="/moderator")

    async def _to_public(self, question: QuestionView) -> None:
        # Only what the public may see: a question leaving the public list is announced by id alone.
        body = question.public_dict() if question.public else {"id": question.id, "public": False}
        await self.sio.emit("question", body, room=room(question.session_id), namespace="/viewer")

    async def published(self, outcome: Outcome) -> None:
        """After a committed action: every audience hears of it."""
        session = await self.watch.get(outcome.question.session_id)
        index = self.indexes.get(session.id)
        for question in outcome.changed:
            if index is not None and question.state in _NOT_INDEXED:
                index.remove(question.id)
            elif index is not None and question.display_text is not None:
                index.add(question.id, question.shown_text)  # edited: suggest by the new text
            await self._to_staff(question, session)
            await self._to_public(question)
        # An edit or an answer to what is on air or queued changes the overlay and the chair's notes too.
        on_air = outcome.on_air_changed or any(q.state is QuestionState.ON_AIR for q in outcome.changed)
        cued = on_air or outcome.queue_changed or any(q.state is QuestionState.QUEUED for q in outcome.changed)
        if outcome.queue_changed:
            await self.queue_changed(session.id)
        if cued:
            await self._cued(session.id, overlay=on_air)

    async def queue_changed(self, session_id: int) -> None:
        body = {"session_id": session_id, "order": await self.board.queue(session_id)}
        for name in (mod_room(session_id), head_room(session_id)):
            await self.sio.emit("queue", body, room=name, namespace="/moderator")

    async def _cued(self, session_id: int, *, overlay: bool = True) -> None:
        """The chair's cue and (with `overlay`) the overlay's on-air question, from one read."""
        now, upcoming = await self.board.cue(session_id)
        await self.sio.emit("cue", _cue_body(session_id, now, upcoming), room=chair_room(session_id), namespace="/chair")
        if overlay:
            await self.sio.emit("on_air", {"session_id": session_id, "question": now.public_dict() if now else None},
                                room=room(session_id), namespace="/viewer")

    async def interest_changed(self, session_id: int, body: dict[str, Any]) -> None:
        for name in (mod_room(session_id), head_room(session_id)):
            if self._occupied("/moderator", name):
                await self.sio.emit("interest", body, room=name, namespace="/moderator")

    async def session_changed(self, session: Session) -> None:
        body = session.staff_dict()
        for name in (mod_room(session.id), head_room(session.id)):
            await self.sio.emit("session", body, room=name, namespace="/moderator")
        await self.sio.emit("session", body, room=chair_room(session.id), namespace="/chair")

    async def changed_elsewhere(self, questions: list[QuestionView]) -> None:
        """Questions the poller found changed by the CLI or another node: consoles, cue, overlay."""
        fresh = await self.board.questions(ids=[q.id for q in questions])
        sessions = {q.session_id for q in fresh}
        for question in fresh:
            await self._to_staff(question, await self.watch.get(question.session_id))
        for session_id in sessions:
            await self.queue_changed(session_id)
            await self._cued(session_id)

    # -- new questions --------------------------------------------------------------------------

    def question_stored(self, session_id: int, question_id: int) -> None:
        """Called by intake after the commit; the consoles hear of it within NEW_QUESTION_TICK."""
        self._new.setdefault(session_id, []).append(question_id)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_new(), name="board-feed-new")

    async def _flush_new(self) -> None:
        await asyncio.sleep(NEW_QUESTION_TICK)
        batches, self._new = self._new, {}
        for session_id, ids in batches.items():
            try:
                index = self.indexes.get(session_id)
                watched = any(self._occupied("/moderator", r) for r in (mod_room(session_id), head_room(session_id)))
                if index is None and not watched:
                    continue  # nobody screens this session yet; the first join reads the store
                index = await self.duplicate_index(session_id)  # waits for a build in progress
                session = await self.watch.get(session_id)
                for question in await self.board.questions(ids=ids):
                    if index is not None:
                        index.add(question.id, question.shown_text)
                    await self._to_staff(question, session)
            except Exception:
                log.exception("announcing new questions to the consoles failed")

    async def close(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
