"""The editorial board's work on the store: actions on questions, the live queue, what is on air,
session actions, identity reveals, and the reads the staff screens need.

Each action runs in one write transaction with its audit entry: the version is compared, the move
is checked (moderation/workflow.py), the rows change, the entry is chained, and only after the
commit does the caller announce anything. On SQLite the write lock serialises actions; on
PostgreSQL the rows are locked FOR UPDATE (and the session row for queue and on-air changes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import false, func, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.ext.asyncio import AsyncConnection

from stream.feed_policy import FeedPolicy, FeedRefused
from stream.recording_files import RecordingFiles

from . import attachments, audit, followup, publication
from . import schema as s
from . import workflow as wf
from .errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationError
from .interest import recount_interest
from .questions import PUBLIC_STATES, DeclineReason, QuestionState
from .roles import BOARD, Actor, Role
from .sessions import Session, SessionKind, SessionState

if TYPE_CHECKING:
    from .store import QuestionView, Store

S = QuestionState
CUE_NEXT = 5  # how many queued questions the chair sees coming
SESSION_TARGETS = {"announce": SessionState.ANNOUNCED, "start": SessionState.LIVE, "close": SessionState.CLOSED,
                   "publish": SessionState.PUBLISHED}


@dataclass
class Outcome:
    """What an action changed, read back after the commit, for the caller to announce."""

    question: QuestionView
    others: list[QuestionView] = field(default_factory=list)
    queue_changed: bool = False
    on_air_changed: bool = False

    @property
    def changed(self) -> list[QuestionView]:
        return [self.question, *self.others]


@dataclass
class _Effect:
    ids: list[int]
    queue_changed: bool = False
    on_air_changed: bool = False


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _lock(q: Any, conn: Connection | AsyncConnection) -> Any:
    return q.with_for_update() if conn.dialect.name == "postgresql" else q


def _queue(conn: Connection, session_id: int) -> list[int]:
    return [r.id for r in conn.execute(
        select(s.questions.c.id).where(s.questions.c.session_id == session_id)
        .where(s.questions.c.state == S.QUEUED.value).order_by(s.questions.c.queue_position, s.questions.c.id))]


def _renumber(conn: Connection, order: list[int], skip: int) -> None:
    """Positions 1..n in `order`. Queue order is not part of a question's version (reordering must
    not make everyone's open cards stale): consoles get the whole order in a `queue` event."""
    for position, qid in enumerate(order, 1):
        if qid != skip:
            conn.execute(update(s.questions).where(s.questions.c.id == qid).values(queue_position=position))


def _last_actor(conn: Connection, question_id: int) -> str:
    name = conn.execute(select(s.audit_log.c.actor).where(s.audit_log.c.question_id == question_id)
                        .order_by(s.audit_log.c.id.desc()).limit(1)).scalar()
    return name or "?"


def _before_queue(row: Row[Any], values: dict[str, Any]) -> QuestionState:
    """Where a question leaving the queue (not to air) goes back to."""
    answer = values.get("answer", row.answer)
    return S.PREPARED if answer else S.ROUTED if row.department else S.ACCEPTED


def _apply(conn: Connection, row: Row[Any], session: Row[Any], action: str, params: dict[str, Any], actor: Actor,
           now: datetime, *, checked_as: Actor | None = None) -> _Effect:
    """Check one action on a locked row against the state machine, then carry it out; returns what
    changed. Nothing is written before every check has passed. `checked_as`: whose rules apply,
    when they are not the actor's own (the chair's "done, next" airs what the board queued)."""
    f = wf.facts(row, session)
    move = wf.check_action(action, checked_as or actor, f)
    state = f.state
    held = wf.holds(move, actor, f)  # waits for the head before the public reads it
    effect = _Effect([row.id])
    values: dict[str, Any] = {}
    queue = _queue(conn, row.session_id) if state is S.QUEUED or action in ("queue", "requeue") else []

    def leave_queue() -> None:
        if state is S.QUEUED:
            _renumber(conn, [q for q in queue if q != row.id], row.id)
            values["queue_position"] = None
            effect.queue_changed = True

    if action == "accept":
        values.update(state=S.ACCEPTED.value, decline_reason=None, decline_note=None, forward_due=None,
                      confirmed_by=actor.name, held=held)
    elif action == "decline":
        reason = wf.decline_reason(params)
        values.update(decline_reason=reason.value, decline_note=wf.decline_note(params, reason), held=False)
        leave_queue()
        if reason is DeclineReason.OUTSIDE_CHAIR_REMIT:
            values["state"] = S.FORWARDED.value  # its deadline: moderation/followup.py
        else:
            values.update(state=S.DECLINED.value)
            if reason is DeclineReason.COMPLAINT_OR_DENUNCIATION:
                values["protected"] = True  # formal channel; identity hidden from all but the head
    elif action == "edit":
        text = wf.edited_text(params)
        values["display_text"] = None if text == row.text else text
    elif action == "classify":
        values["field"] = wf.field_of(params, list(session.fields))
    elif action == "route":
        values.update(department=wf.department(params), state=S.ROUTED.value)
    elif action == "draft_answer":
        values.update(answer=wf.answer_text(params), answer_by=actor.name)
    elif action == "answer":
        values.update(answer=wf.answer_text(params), answer_by=actor.name, answer_submitted_at=now,
                      answer_return_note=None)
        if state is not S.QUEUED:
            values["state"] = S.PREPARED.value
    elif action == "approve_answer":
        values.update(state=S.ANSWERED_IN_WRITING.value, answered_at=now)
    elif action == "return_answer":
        values.update(state=(S.ROUTED if row.department else S.ACCEPTED).value,
                      answer_return_note=wf.return_note(params), answer_submitted_at=None)
    elif action == "forward":
        values.update(forwarded_at=now, forwarded_to=wf.unit_name(params))
    elif action == "extend":
        new, note = wf.extension(params, row.due_on)
        values.update(due_on=new, due_note=note, due_extended_from=row.due_on)
    elif action == "merge":
        effect.ids += _merge(conn, row, wf.question_ref(params, "into"), now)
        values.update(state=S.MERGED.value, merged_into=effect.ids[1])
    elif action == "star":
        values["starred"] = wf.flag(params, "starred")
    elif action == "queue":
        values.update(state=S.QUEUED.value, queue_position=len(queue) + 1)
        effect.queue_changed = True
    elif action == "unqueue":
        leave_queue()
        values["state"] = _before_queue(row, values).value
    elif action == "reorder":
        order = [q for q in queue if q != row.id]
        order.insert(min(wf.position(params), len(order)), row.id)
        _renumber(conn, order, row.id)
        values["queue_position"] = order.index(row.id) + 1
        effect.queue_changed = True
    elif action == "air":
        on_air = conn.execute(select(s.questions.c.number).where(s.questions.c.session_id == row.session_id)
                              .where(s.questions.c.state == S.ON_AIR.value)).first()
        if on_air is not None:
            raise InvalidTransition("another_on_air", field="action", number=on_air.number)
        leave_queue()
        values.update(state=S.ON_AIR.value, aired_at=now, answered_at=None)
        effect.on_air_changed = True
    elif action == "done":
        values.update(state=S.ANSWERED_LIVE.value, answered_at=now)
        effect.on_air_changed = True
    elif action == "requeue":
        _renumber(conn, [row.id, *queue], row.id)
        values.update(state=S.QUEUED.value, queue_position=1, aired_at=None)
        effect.queue_changed = effect.on_air_changed = True
    elif action == "approve":
        values["held"] = False
    if held and action in ("edit", "answer", "classify"):
        # changed by someone other than the head: held again, and out of the live queue until approved
        values["held"] = True
        if state is S.QUEUED:
            leave_queue()
            values["state"] = _before_queue(row, values).value
    followup.on_action(conn, row, session, action, values, now)
    values.update(version=row.version + 1, updated_at=now)
    conn.execute(update(s.questions).where(s.questions.c.id == row.id).values(**values))
    if action == "merge":
        recount_interest(conn, [effect.ids[1]])
    changed = {k: v for k, v in values.items() if k not in ("version", "updated_at")}
    audit.append(conn, actor, action, now, session_id=row.session_id, question_id=row.id,
                 before={k: _jsonable(row._mapping[k]) for k in changed} | {"version": row.version},
                 after={k: _jsonable(v) for k, v in changed.items()} | {"version": row.version + 1},
                 params={k: v for k, v in params.items() if k in ("reason", "note", "into", "position", "starred", "unit",
                                                                "due")})
    return effect


def _merge(conn: Connection, row: Row[Any], into: int, now: datetime) -> list[int]:
    """Fold `row` into the representative question `into`: its askers (and those already folded
    into it) and its interest are counted there."""
    target = conn.execute(_lock(select(s.questions).where(s.questions.c.id == into), conn)).first()
    if (target is None or target.session_id != row.session_id or target.id == row.id
            or S(target.state) in (S.MERGED, S.DECLINED, S.FORWARDED)):
        raise InvalidTransition("bad_merge_target", field="into")
    children = [r.id for r in conn.execute(select(s.questions.c.id).where(s.questions.c.merged_into == row.id))]
    if children:
        conn.execute(update(s.questions).where(s.questions.c.id.in_(children)).values(merged_into=target.id))
    conn.execute(update(s.questions).where(s.questions.c.id == target.id).values(
        merged_count=target.merged_count + 1 + row.merged_count, version=target.version + 1, updated_at=now))
    return [target.id]


def _act(conn: Connection, question_id: int, action: str, version: int, params: dict[str, Any],
         actor: Actor) -> _Effect:
    now = datetime.now(UTC)  # under the write lock: pollers look back only seconds
    row = conn.execute(_lock(select(s.questions).where(s.questions.c.id == question_id), conn)).first()
    if row is None:
        raise NotFound("question_not_found", field="question_id")
    session = conn.execute(_lock(select(s.sessions).where(s.sessions.c.id == row.session_id), conn)).one()
    wf.check_action(action, actor, wf.facts(row, session))  # a refusal is not a conflict: say why first
    if row.version != version:
        raise Conflict("stale_version_conflict", field="version", current=row.version,
                       by=_last_actor(conn, row.id))
    return _apply(conn, row, session, action, params, actor, now)


def _done_next(conn: Connection, session_id: int, question_id: int, actor: Actor) -> _Effect:
    """The chair's one control: the question on air is answered, the first in the queue goes on."""
    now = datetime.now(UTC)
    session = conn.execute(_lock(select(s.sessions).where(s.sessions.c.id == session_id), conn)).first()
    if session is None:
        raise NotFound("session_not_found", field="session_id")
    row = conn.execute(_lock(select(s.questions).where(s.questions.c.id == question_id), conn)).first()
    if row is None or row.session_id != session_id or S(row.state) is not S.ON_AIR:
        raise InvalidTransition("not_on_air", field="question_id")
    effect = _apply(conn, row, session, "done", {}, actor, now)
    queue = _queue(conn, session_id)
    if queue:
        # The board put it in the queue, so the board's rules decide whether it may go on air.
        nxt = conn.execute(_lock(select(s.questions).where(s.questions.c.id == queue[0]), conn)).one()
        effect.ids += _apply(conn, nxt, session, "air", {}, actor, now, checked_as=_board_for(actor)).ids
        effect.queue_changed = True
    return effect


def _board_for(actor: Actor) -> Actor:
    return actor if actor.role in BOARD else Actor(actor.name, Role.EDITOR, actor.user_id)


def end_live(conn: Connection, session_id: int, actor: Actor, now: datetime) -> None:
    """At the close, inside its transaction: what is on air was being answered, so it is answered
    live (the published page must not say "being answered" forever); the live queue is put back
    where each question was, for the follow-up after the session. Each change is audited."""
    rows = conn.execute(_lock(select(s.questions).where(s.questions.c.session_id == session_id)
                              .where(s.questions.c.state.in_([S.ON_AIR.value, S.QUEUED.value])), conn)).all()
    for row in rows:
        if row.state == S.ON_AIR.value:
            action, values = "done", {"state": S.ANSWERED_LIVE.value, "answered_at": now}
        else:
            action, values = "unqueue", {"state": _before_queue(row, {}).value, "queue_position": None}
        conn.execute(update(s.questions).where(s.questions.c.id == row.id).values(
            **values, version=row.version + 1, updated_at=now))
        audit.append(conn, actor, action, now, session_id=session_id, question_id=row.id, by="session_close",
                     before={k: _jsonable(row._mapping[k]) for k in values} | {"version": row.version},
                     after={k: _jsonable(v) for k, v in values.items()} | {"version": row.version + 1})


async def _locked_session(conn: AsyncConnection, session_id: int) -> Row[Any]:
    """The session's row, locked for the change about to be made (PostgreSQL), or NotFound."""
    row = (await conn.execute(_lock(select(s.sessions).where(s.sessions.c.id == session_id), conn))).first()
    if row is None:
        raise NotFound("session_not_found", field="session_id")
    return row


class Board:
    def __init__(self, store: Store, recordings: Path | None = None) -> None:
        self.store = store
        self.recordings = recordings  # settings.recordings_path: what the publication shows (publish)

    async def act(self, question_id: int, action: str, version: Any, params: dict[str, Any],
                  actor: Actor) -> Outcome:
        """Raises a DomainError (Conflict on a stale version) with nothing written."""
        version = wf.parse_version(version)
        async with self.store.write_engine.begin() as conn:
            effect = await conn.run_sync(_act, question_id, action, version, params, actor)
        return await self._outcome(effect)

    async def done_next(self, session_id: int, question_id: Any, actor: Actor) -> Outcome:
        if not isinstance(question_id, int) or isinstance(question_id, bool):
            raise InvalidTransition("not_on_air", field="question_id")
        async with self.store.write_engine.begin() as conn:
            effect = await conn.run_sync(_done_next, session_id, question_id, actor)
        return await self._outcome(effect)

    async def _outcome(self, effect: _Effect) -> Outcome:
        fresh = {q.id: q for q in await self.questions(ids=effect.ids)}
        return Outcome(fresh[effect.ids[0]], [fresh[i] for i in effect.ids[1:]], effect.queue_changed,
                       effect.on_air_changed)

    async def session_action(self, session_id: int, action: Any, actor: Actor) -> Session:
        """Every surface's way to move a session (console, API, CLI): the roles are checked here, the
        states in the store's transition, which also ends what was on air or queued at the close."""
        action = wf.check_session_action(action, actor)
        if action == "publish":  # with the article's snapshot, in one transaction (moderation/publication.py)
            async with self.store.write_engine.begin() as conn:
                files = RecordingFiles.of(self.recordings, session_id) if self.recordings else None
                await conn.run_sync(publication.publish, session_id, actor, datetime.now(UTC), files)
            return await self.store.get_session(session_id)
        if action in SESSION_TARGETS:
            return await self.store.transition_session(session_id, SESSION_TARGETS[action], actor)
        if action == "notice":
            return await self._notice(session_id, actor)
        async with self.store.write_engine.begin() as conn:
            now = datetime.now(UTC)
            row = await _locked_session(conn, session_id)
            if row.kind == SessionKind.FORUM.value:  # forum: no script, so no late questions (issue 13)
                raise InvalidTransition("forum_no_script", field="action")
            if row.script_approved_at is not None:
                raise InvalidTransition("script_already_approved", field="action",
                                        at=row.script_approved_at.isoformat(timespec="minutes"))
            await conn.execute(update(s.sessions).where(s.sessions.c.id == session_id).values(
                script_approved_at=now, script_approved_by=actor.name, updated_at=now))
            await conn.run_sync(audit.append, actor, action, now, session_id=session_id)
        return await self.store.get_session(session_id)

    async def _notice(self, session_id: int, actor: Actor) -> Session:
        """Hà Nam: the conclusions notice is issued (once, after the close); the units' clock starts."""
        async with self.store.write_engine.begin() as conn:
            now = datetime.now(UTC)
            row = await _locked_session(conn, session_id)
            if row.rule_set != "ha_nam" or row.state not in (SessionState.CLOSED.value, SessionState.PUBLISHED.value):
                raise InvalidTransition("notice_not_applicable", field="action", rule_set=row.rule_set)
            if row.notice_at is not None:
                raise InvalidTransition("notice_already_issued", field="action",
                                        at=row.notice_at.isoformat(timespec="minutes"))
            await conn.execute(update(s.sessions).where(s.sessions.c.id == session_id).values(
                notice_at=now, updated_at=now))
            moved = await conn.run_sync(followup.at_notice, session_id, actor, now)
            await conn.run_sync(audit.append, actor, "notice", now, session_id=session_id, questions=moved)
        return await self.store.get_session(session_id)

    async def set_feed(self, session_id: int, feed: Any, url: Any, actor: Actor, policy: FeedPolicy) -> Session:
        """Choose the session's programme feed (docs/video.md); audited without the URL, which may
        carry the station's credentials. A pull URL is resolved now against `policy`, so the editor
        hears at once that it is refused; the media worker checks again before it connects."""
        if actor.role not in BOARD:
            raise Forbidden("forbidden_action", field="feed", action="feed", role=actor.role.value)
        feed, url = wf.check_feed(feed, url)
        if url is not None:
            try:
                await policy.check(url)
            except FeedRefused as refused:
                raise ValidationError(refused.reason, field="url", **refused.params) from None
        async with self.store.write_engine.begin() as conn:
            row = await _locked_session(conn, session_id)
            if row.state in (SessionState.CLOSED.value, SessionState.PUBLISHED.value):
                raise InvalidTransition("session_over", field="feed", current=row.state)
            if row.kind == SessionKind.FORUM.value and feed is not None:  # forum: no video (issue 13)
                raise InvalidTransition("forum_no_video", field="feed")
            now = datetime.now(UTC)
            await conn.execute(update(s.sessions).where(s.sessions.c.id == session_id).values(
                feed=feed, feed_url=url, updated_at=now))
            await conn.run_sync(audit.append, actor, "feed", now, session_id=session_id, feed=feed or "none")
        return await self.store.get_session(session_id)

    async def reveal(self, question_id: int, reason: Any, actor: Actor) -> dict[str, str]:
        """The asker's full identity, for a stated reason; the reveal is audited before it is shown."""
        if actor.role not in BOARD:
            raise Forbidden("forbidden_action", field="action", action="reveal", role=actor.role.value)
        reason = wf.reveal_reason(reason)
        async with self.store.write_engine.begin() as conn:
            found = await self.questions(ids=[question_id], conn=conn)
            if not found:
                raise NotFound("question_not_found", field="question_id")
            question = found[0]
            session = await self.store.get_session(question.session_id)
            if not wf.may_reveal(actor, wf.facts(question, session)):
                raise Forbidden("protected_identity", field="question_id")
            await conn.run_sync(audit.append, actor, "reveal", datetime.now(UTC), session_id=question.session_id,
                                question_id=question_id, reason=reason)
        assert question.asker is not None
        return question.asker.full()

    # -- reads --------------------------------------------------------------------------------

    async def questions(self, *, session_id: int | None = None, ids: list[int] | None = None,
                        since: datetime | None = None, department: str | None = None,
                        conn: Any = None) -> list[QuestionView]:
        """Questions with their askers (staff reads; masking is the view's job)."""
        from .store import _question

        q = (select(s.questions, s.askers.c.name, s.askers.c.address, s.askers.c.phone, s.askers.c.name_shown,
                    s.askers.c.email)
             .join(s.askers, s.askers.c.question_id == s.questions.c.id).order_by(s.questions.c.id))
        if session_id is not None:
            q = q.where(s.questions.c.session_id == session_id)
        if ids is not None:
            q = q.where(s.questions.c.id.in_(ids))
        if since is not None:
            q = q.where(s.questions.c.updated_at >= since)
        if department is not None:
            q = q.where(s.questions.c.department == department)
        if conn is not None:
            return await attachments.load(conn, [_question(r) for r in await conn.execute(q)])
        async with self.store.read_engine.connect() as read:
            return await attachments.load(read, [_question(r) for r in await read.execute(q)])

    async def queue(self, session_id: int) -> list[int]:
        async with self.store.read_engine.connect() as conn:
            return await conn.run_sync(_queue, session_id)

    async def cue(self, session_id: int) -> tuple[QuestionView | None, list[QuestionView]]:
        """What is on air and what comes next (no identity is read)."""
        from .store import _question

        async with self.store.read_engine.connect() as conn:
            rows = await conn.execute(
                select(s.questions).where(s.questions.c.session_id == session_id)
                .where(s.questions.c.state.in_([S.ON_AIR.value, S.QUEUED.value]))
                .order_by(s.questions.c.queue_position, s.questions.c.id))
            found = [_question(r) for r in rows]
        now = next((q for q in found if q.state is S.ON_AIR), None)
        return now, [q for q in found if q.state is S.QUEUED][:CUE_NEXT]

    async def stats(self, session_id: int) -> dict[str, Any]:
        """The transparency counts on the public session page."""
        async with self.store.read_engine.connect() as conn:
            rows = (await conn.execute(
                select(s.questions.c.state, s.questions.c.decline_reason, s.questions.c.held, func.count())
                .where(s.questions.c.session_id == session_id)
                .group_by(s.questions.c.state, s.questions.c.decline_reason, s.questions.c.held))).all()
        out: dict[str, Any] = {"session_id": session_id, "received": 0, "accepted": 0, "answered_live": 0,
                               "answered_in_writing": 0, "forwarded": 0, "merged": 0, "declined": {}}
        for state, reason, held, n in rows:
            out["received"] += n
            st = S(state)
            if st in PUBLIC_STATES and not held:
                out["accepted"] += n
            if st in (S.ANSWERED_LIVE, S.ANSWERED_IN_WRITING, S.FORWARDED, S.MERGED):
                out[st.value] += n
            elif st is S.DECLINED:
                out["declined"][reason or "other"] = out["declined"].get(reason or "other", 0) + n
        return out

    async def departments(self, session_id: int) -> list[str]:
        """Routing suggestions: responders' departments and those already used in this session."""
        async with self.store.read_engine.connect() as conn:
            users = await conn.execute(select(s.users.c.department).where(s.users.c.role == Role.RESPONDER.value)
                                       .where(s.users.c.disabled == false()))
            used = await conn.execute(select(s.questions.c.department).where(s.questions.c.session_id == session_id)
                                      .where(s.questions.c.department.is_not(None)).distinct())
            return sorted({d for (d,) in [*users, *used] if d})
