"""The departments' side (/staff/answers): a responder's list of what was routed to their department
across sessions, with each deadline, the head's return note and the answer form (save a draft, submit
it to the head, attach a PDF reply letter); the board sees every department, with a filter; the
head's approvals (`?pending=1`): the submitted answers with their files, to approve or return with a
note. Works without JavaScript: every control is a form posting the staff CSRF token.

Every change goes through the state table (moderation/workflow.py) by BoardFeed.perform, as the
console's and the API's do (one transaction, audited, announced); attachments through
moderation/attachments.py, whose rule is the table's `draft_answer`. The public download of an
approved answer's file is `/a/{attachment_id}/{filename}`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from aiohttp import BodyPartReader, web

from moderation import deadlines
from moderation.attachments import MAX_BYTES, Attachments, path_of, receive
from moderation.calendar import local_date
from moderation.errors import DomainError, Forbidden, NotFound, ValidationError
from moderation.questions import QuestionState
from moderation.roles import BOARD, Actor, Role
from moderation.store import QuestionView

from .api import path_id, request_lang
from .auth import STAFF_COOKIE
from .errors import HTTP_STATUS
from .files import FileResponse
from .i18n import message
from .keys import feed_key, settings_key, staff_csrf_key, store_key, watch_key
from .staff_pages import signed_in, staff_render

routes = web.RouteTableDef()
WORKERS = BOARD | {Role.RESPONDER}
S = QuestionState
OPEN = (S.ACCEPTED, S.ROUTED, S.PREPARED)
# what the page's buttons do: the state table's action and the form fields it takes
OPS: dict[str, tuple[str, ...]] = {"draft_answer": ("answer",), "answer": ("answer",), "approve_answer": (),
                                   "return_answer": ("note",)}
DONE = (*OPS, "attach", "detach")
CHUNK = 64 * 1024


def _attachments(request: web.Request) -> Attachments:
    return Attachments(request.app[store_key], request.app[settings_key].data_dir)


def _check_csrf(request: web.Request, given: Any) -> None:
    if not request.app[staff_csrf_key].check(request.cookies.get(STAFF_COOKIE, ""), given):
        raise web.HTTPForbidden(text=message("csrf", request_lang(request)))


def _listed(q: QuestionView) -> bool:
    """On the departments' list: routed, or being answered, or answered in writing (the record)."""
    if q.protected or q.state not in (*OPEN, S.ANSWERED_IN_WRITING):
        return False
    return q.department is not None or q.answer is not None or q.due_on is not None


def _filters(request: web.Request, actor: Actor) -> dict[str, Any]:
    department = request.query.get("department") or None
    if actor.role is Role.RESPONDER:
        department = actor.department or ""
    return {"department": department, "pending": request.query.get("pending") == "1"}


def _query(filters: dict[str, Any], actor: Actor) -> str:
    given = {"pending": "1"} if filters["pending"] else {}
    if filters["department"] and actor.role is not Role.RESPONDER:
        given["department"] = filters["department"]
    return urlencode(given)


async def _page(request: web.Request, actor: Actor, status: int = 200, *, errors: dict[int, str] | None = None,
                typed: dict[int, dict[str, str]] | None = None) -> web.Response:
    feed, watch = request.app[feed_key], request.app[watch_key]
    filters = _filters(request, actor)
    if actor.role is Role.RESPONDER:
        # their own department only; a responder without one has nothing to answer
        found = [q for q in await feed.board.questions(department=filters["department"]) if _listed(q)
                 ] if actor.department else []
        departments = [actor.department] if actor.department else []
    else:
        found = [q for q in await feed.board.questions() if _listed(q)]
        departments = sorted({q.department for q in found if q.department})
        if filters["department"]:
            found = [q for q in found if q.department == filters["department"]]
    pending = [q for q in found if q.state is S.PREPARED and q.answer_submitted_at is not None]
    shown = pending if filters["pending"] else found
    today = local_date(datetime.now(UTC))
    sessions: dict[int, Any] = {}
    items = []
    for q in shown:
        if q.session_id not in sessions:
            sessions[q.session_id] = await watch.get(q.session_id)
        session = sessions[q.session_id]
        due = deadlines.stored(q)
        items.append({
            "q": q, "session": session, "card": feed.staff_dict(q, session, actor), "due": due,
            "overdue": due is not None and q.due_done_at is None and today > due.on,
            "met": deadlines.met(q), "files": q.attachments,
        })
    # the nearest deadline first; what is done (answered in writing) after what is open
    items.sort(key=lambda i: (i["q"].state is S.ANSWERED_IN_WRITING, i["due"] is None,
                              i["due"].on if i["due"] else today, i["q"].session_id, i["q"].number))
    done = request.query.get("done")
    listed = {i["q"].id for i in items}
    stray = [text for qid, text in (errors or {}).items() if qid not in listed]  # a question not on this list
    return staff_render(request, "answers.html", actor, status=status, items=items, filters=filters,
                        departments=departments, pending_count=len(pending), query=_query(filters, actor),
                        done=done if done in DONE else None, errors=errors or {}, typed=typed or {},
                        max_mb=MAX_BYTES // (1024 * 1024), is_board=actor.role in BOARD, stray=stray)


def _error(err: DomainError, request: web.Request) -> tuple[str, int]:
    return message(err.reason, request_lang(request), err.field, **err.params), HTTP_STATUS.get(err.code, 400)


def _back(request: web.Request, question_id: int, done: str, query: Any) -> web.HTTPSeeOther:
    given = {k: v for k, v in (("pending", "1" if query.get("pending") == "1" else ""),
                               ("department", str(query.get("department") or ""))) if v}
    return web.HTTPSeeOther(f"/staff/answers?{urlencode({**given, 'done': done})}#q-{question_id}")


@routes.get("/staff/answers")
async def answers_page(request: web.Request) -> web.Response:
    actor = await signed_in(request, WORKERS)
    return await _page(request, actor)


@routes.post("/staff/answers/{question_id}")
async def answer_action(request: web.Request) -> web.Response:
    """A draft, a submission, the head's approval or return: the state table's actions, by the form."""
    actor = await signed_in(request, WORKERS)
    form = await request.post()
    _check_csrf(request, form.get("csrf"))
    question_id = path_id(request, "question_id")
    op = str(form.get("op", ""))
    raw_version = str(form.get("version", ""))
    version: Any = int(raw_version) if raw_version.isdigit() else (raw_version or None)
    params = {key: str(form.get(key, "")) for key in OPS.get(op, ())}
    try:
        if op not in OPS:
            raise ValidationError("bad_action", field="action", action=op[:40])
        await request.app[feed_key].perform(question_id, op, version, params, actor)
    except DomainError as err:
        text, status = _error(err, request)
        return await _page(request, actor, status, errors={question_id: text}, typed={question_id: params})
    raise _back(request, question_id, op, request.query)


async def _chunks(part: BodyPartReader) -> Any:
    while True:
        chunk = await part.read_chunk(CHUNK)
        if not chunk:
            return
        yield chunk


@routes.post("/staff/answers/{question_id}/files")
async def upload(request: web.Request) -> web.Response:
    """A PDF reply letter (multipart: `csrf` first, then `file`), at most MAX_BYTES."""
    actor = await signed_in(request, WORKERS)
    question_id = path_id(request, "question_id")
    attachments = _attachments(request)
    csrf_seen = False
    try:
        if not request.content_type.startswith("multipart/"):
            _check_csrf(request, (await request.post()).get("csrf"))
            raise ValidationError("rsp_file_missing", field="file")
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                continue
            if part.name == "csrf":
                _check_csrf(request, (await part.read(decode=True))[:200].decode("utf-8", "replace"))
                csrf_seen = True
            elif part.name == "file":
                if not csrf_seen:
                    _check_csrf(request, request.headers.get("X-CSRF-Token"))
                await attachments.check(question_id, actor)  # refused before the file is read
                if not part.filename:
                    raise ValidationError("rsp_file_missing", field="file")
                received = await receive(request.app[settings_key].data_dir, part.filename, _chunks(part))
                await attachments.add(question_id, received, actor)
                raise _back(request, question_id, "attach", request.query)
        raise ValidationError("rsp_file_missing", field="file")
    except DomainError as err:
        text, status = _error(err, request)
        await _drain(request)  # so that the browser reads the answer rather than a reset connection
        response = await _page(request, actor, status, errors={question_id: text})
        response.force_close()
        return response


async def _drain(request: web.Request) -> None:
    """Read and drop what is left of a refused upload, up to a bound; past it the connection closes."""
    left = 4 * MAX_BYTES
    while left > 0 and (chunk := await request.content.read(min(CHUNK, left))):
        left -= len(chunk)


@routes.post("/staff/answers/{question_id}/files/{attachment_id}/remove")
async def remove(request: web.Request) -> web.Response:
    actor = await signed_in(request, WORKERS)
    form = await request.post()
    _check_csrf(request, form.get("csrf"))
    question_id = path_id(request, "question_id")
    try:
        await _attachments(request).remove(question_id, path_id(request, "attachment_id"), actor)
    except DomainError as err:
        text, status = _error(err, request)
        return await _page(request, actor, status, errors={question_id: text})
    raise _back(request, question_id, "detach", request.query)


def _file_response(path: Any, filename: str, cache: str) -> FileResponse:
    """A stored PDF, shown in the browser's viewer: its type is stated and never sniffed (its bytes
    were checked to begin with %PDF- at the upload), its name is ASCII."""
    return FileResponse(path, headers={
        "Content-Type": "application/pdf", "Content-Disposition": f'inline; filename="{filename}"',
        "X-Content-Type-Options": "nosniff", "Cache-Control": cache, "Referrer-Policy": "same-origin"})


@routes.get("/staff/answers/files/{attachment_id}/{name}")
async def staff_file(request: web.Request) -> web.StreamResponse:
    """A draft's file, for whoever may see the question: the board, or its own department."""
    actor = await signed_in(request, WORKERS)
    attachments = _attachments(request)
    found = await attachments.get(path_id(request, "attachment_id"))
    if found.filename != request.match_info["name"]:
        raise NotFound("rsp_attachment_not_found", field="attachment_id")
    question = await request.app[store_key].get_question(found.question_id)
    if actor.role is Role.RESPONDER and (question.department is None or question.department != actor.department):
        raise Forbidden("forbidden_department", field="question_id")
    return _file_response(path_of(attachments.root, found.sha256), found.filename, "private, no-store")


@routes.get("/a/{attachment_id}/{name}")
async def public_file(request: web.Request) -> web.StreamResponse:
    """An approved written answer's file; 404 before the head approved it, or for a protected matter."""
    found, path = await _attachments(request).public(path_id(request, "attachment_id"), request.match_info["name"])
    return _file_response(path, found.filename, "public, max-age=300")


def setup_answer_pages(app: web.Application) -> None:
    app.add_routes(routes)
