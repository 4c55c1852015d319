"""The publication on the portal (Điều 5.2, 10.2): the board's draft of the article, the head's
publish of it, and the snapshot the public reads.

The draft lives in `publications.draft` (JSON): an introduction and one item per question answered
live or in writing, in its public wording, with the asker as the public page names them (never a
phone or an address). `prepare` builds it from the session and refreshes it, keeping what editors
wrote; `edit` changes what editors write; `publish` (the head's, the rule is
moderation/workflow.py SESSION_ACTIONS) copies it to `published`, in the caller's transaction,
with its audit entry. Everything here runs on a sync Connection (`conn.run_sync`)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import false, insert, select, update
from sqlalchemy.engine import Connection

from stream.recording_files import RecordingFiles

from . import audit
from . import schema as s
from . import workflow as wf
from .errors import Forbidden, InvalidTransition, NotFound, ValidationError
from .questions import QuestionState
from .roles import BOARD, Actor
from .sessions import SessionState
from .text import clean_text

S = QuestionState
ANSWERED = (S.ANSWERED_LIVE.value, S.ANSWERED_IN_WRITING.value)
INTRO_MAX = 4000  # characters of the editor's introduction
SUMMARY_MAX = 3000  # characters of an editor's summary of a live answer


def _chapters(files: RecordingFiles | None) -> dict[int, dict[str, Any]]:
    """chapters.json by question (stream/finalize.py writes it); nothing when it is not there."""
    if files is None or not files.chapters_json.is_file():
        return {}
    try:
        found = json.loads(files.chapters_json.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {int(c["question_id"]): c for c in found if isinstance(c, dict) and "question_id" in c}


def chapters(files: RecordingFiles | None) -> list[dict[str, Any]]:
    """The chapters in order, as the public sees them (title and times only)."""
    return sorted(({"question_id": qid, "title": str(c.get("title", "")), "start_s": float(c.get("start_s", 0)),
                    "end_s": float(c.get("end_s", 0))} for qid, c in _chapters(files).items()),
                  key=lambda c: c["start_s"])


def _row(conn: Connection, session_id: int) -> Any:
    return conn.execute(select(s.publications).where(s.publications.c.session_id == session_id)).first()


def _session_row(conn: Connection, session_id: int, lock: bool = False) -> Any:
    q = select(s.sessions).where(s.sessions.c.id == session_id)
    if lock and conn.dialect.name == "postgresql":
        q = q.with_for_update()
    row = conn.execute(q).first()
    if row is None:
        raise NotFound("session_not_found", field="session_id")
    return row


def build(conn: Connection, session_id: int, files: RecordingFiles | None,
          old: dict[str, Any] | None = None) -> dict[str, Any]:
    """The draft from the session as it is now, keeping the editors' words from `old`."""
    session = _session_row(conn, session_id)
    old = old or {}
    old_items = {int(i["question_id"]): i for i in old.get("items", [])}
    marks = _chapters(files)
    video = files is not None and files.portal_mp4.is_file()
    if files is None and "video" in old:
        video = bool(old["video"])  # refreshed without the recordings at hand: keep what was found
    rows = conn.execute(select(s.questions).where(s.questions.c.session_id == session_id)
                        .where(s.questions.c.state.in_(ANSWERED)).where(s.questions.c.held == false())
                        .where(s.questions.c.protected == false())  # the formal channel's, never the article's
                        .order_by(s.questions.c.answered_at, s.questions.c.id)).all()
    items = []
    for q in rows:
        mark = marks.get(q.id)
        kept = old_items.get(q.id, {})
        live = q.state == S.ANSWERED_LIVE.value
        picture = files is not None and files.picture(q.id).is_file()
        if files is None:
            picture = bool(kept.get("picture", False))
        items.append({
            "question_id": q.id, "number": q.number, "state": q.state,
            "text": q.display_text or q.text, "asker": q.public_name or "", "field": q.field or "",
            "answer": "" if live else (q.answer or ""),
            "summary": str(kept.get("summary", "")) if live else "",
            "start_s": float(mark["start_s"]) if live and video and mark else None,
            "picture": picture,
        })
    intro = old.get("intro", {})
    return {
        "intro": {"topic": session.title, "chair": session.chair_name, "position": session.chair_position,
                  "time": session.starts_at.isoformat(), "place": session.place, "text": str(intro.get("text", ""))},
        "items": items, "video": video,
        "recording_failed": _recording_failed(conn, session_id, files, video),
    }


def _recording_failed(conn: Connection, session_id: int, files: RecordingFiles | None, video: bool) -> bool:
    """The finalising job failed (its last run), or the recording is there without its portal MP4."""
    last = conn.execute(select(s.recording_jobs.c.state).where(s.recording_jobs.c.session_id == session_id)
                        .where(s.recording_jobs.c.kind == "finalize").order_by(s.recording_jobs.c.id.desc())
                        .limit(1)).scalar()
    if last == "failed":
        return True
    return bool(files is not None and files.video.is_file() and not video and last not in ("queued", "running"))


def prepare(conn: Connection, session_id: int, actor: Actor, now: datetime,
            files: RecordingFiles | None) -> dict[str, Any]:
    """Create the draft, or refresh it from the session (the editors' intro and summaries kept)."""
    row = _row(conn, session_id)
    draft = build(conn, session_id, files, row.draft if row is not None else None)
    if row is None:
        conn.execute(insert(s.publications).values(session_id=session_id, draft=draft, draft_updated_at=now,
                                                   draft_updated_by=actor.name, version=0))
    elif draft != row.draft:
        conn.execute(update(s.publications).where(s.publications.c.session_id == session_id)
                     .values(draft=draft))  # a refresh is no one's edit: the editor's stamp stays
    return draft


def _text(value: Any, field: str, limit: int, **which: Any) -> str:
    """`which` names the question a summary is of (the form marks that one)."""
    if not isinstance(value, str):
        raise ValidationError("pub_bad_text", field=field, **which)
    value = clean_text(value)
    if len(value) > limit:
        raise ValidationError("pub_too_long", field=field, max=limit, **which)
    return value


def edit(conn: Connection, session_id: int, changes: dict[str, Any], actor: Actor, now: datetime,
         files: RecordingFiles | None) -> dict[str, Any]:
    """The editors' words: `intro` (text) and `summaries` {question_id: text} for live answers."""
    if actor.role not in BOARD:
        raise Forbidden("forbidden_action", field="action", action="publication_edit", role=actor.role.value)
    draft = prepare(conn, session_id, actor, now, files)
    if "intro" in changes:
        draft["intro"]["text"] = _text(changes["intro"], "intro", INTRO_MAX)
    summaries = changes.get("summaries", {})
    if not isinstance(summaries, dict):
        raise ValidationError("pub_bad_text", field="summaries")
    live = {i["question_id"]: i for i in draft["items"] if i["state"] == S.ANSWERED_LIVE.value}
    for key, value in summaries.items():
        try:
            qid = int(key)
        except (TypeError, ValueError):
            raise ValidationError("pub_not_live", field="summary", question=str(key)[:20]) from None
        if qid not in live:
            raise ValidationError("pub_not_live", field="summary", question=qid)
        live[qid]["summary"] = _text(value, "summary", SUMMARY_MAX, question=qid)
    conn.execute(update(s.publications).where(s.publications.c.session_id == session_id)
                 .values(draft=draft, draft_updated_at=now, draft_updated_by=actor.name))
    audit.append(conn, actor, "publication_edit", now, session_id=session_id,
                 fields=sorted(["intro"] if "intro" in changes else []) + [f"summary_{k}" for k in summaries])
    return draft


def publish(conn: Connection, session_id: int, actor: Actor, now: datetime,
            files: RecordingFiles | None = None) -> int:
    """The head publishes the draft as it is (prepared first when there is none): the first time
    from CLOSED (the session becomes PUBLISHED), later as a correction (version + 1). Returns the
    version now public."""
    wf.check_session_action("publish", actor)  # the one rule: the head's
    session = _session_row(conn, session_id, lock=True)
    state = SessionState(session.state)
    if state not in (SessionState.CLOSED, SessionState.PUBLISHED):
        raise InvalidTransition("session_transition", field="state", current=state.value,
                                target=SessionState.PUBLISHED.value)
    row = _row(conn, session_id)
    draft = prepare(conn, session_id, actor, now, files) if row is None or files is not None else row.draft
    version = (row.version if row is not None else 0) + 1
    first = row.first_published_at if row is not None and row.first_published_at else now
    conn.execute(update(s.publications).where(s.publications.c.session_id == session_id).values(
        published=draft, published_at=now, published_by=actor.name, first_published_at=first, version=version))
    values: dict[str, Any] = {"published_at": now, "updated_at": now}
    if state is SessionState.CLOSED:
        values["state"] = SessionState.PUBLISHED.value
    conn.execute(update(s.sessions).where(s.sessions.c.id == session_id).values(**values))
    audit.append(conn, actor, "session_published" if state is SessionState.CLOSED else "publication_correction",
                 now, session_id=session_id, before=state.value, after=SessionState.PUBLISHED.value, version=version,
                 items=len(draft["items"]), video=bool(draft["video"]))
    return version


def published(conn: Connection, session_id: int) -> dict[str, Any] | None:
    """What the public may see: the snapshot with its dates, or None before the head's publish."""
    row = _row(conn, session_id)
    if row is None or row.published is None:
        return None
    return {"article": row.published, "version": row.version, "published_at": row.published_at,
            "first_published_at": row.first_published_at, "published_by": row.published_by}


def draft(conn: Connection, session_id: int) -> dict[str, Any] | None:
    row = _row(conn, session_id)
    if row is None:
        return None
    return {"article": row.draft, "version": row.version, "published_at": row.published_at,
            "first_published_at": row.first_published_at, "draft_updated_at": row.draft_updated_at,
            "draft_updated_by": row.draft_updated_by}


def published_ids(conn: Connection) -> list[int]:
    return [r.session_id for r in conn.execute(
        select(s.publications.c.session_id).where(s.publications.c.published.is_not(None))
        .order_by(s.publications.c.published_at.desc()))]


def recordings_of(path: Path, session_id: int) -> RecordingFiles:
    return RecordingFiles.of(path, session_id)
