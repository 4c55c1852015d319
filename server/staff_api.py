"""The board's JSON API (docs/moderation.md): the same actions as the console, for scripts and the
portal's back end (bearer token) or a signed-in browser (cookie + X-CSRF-Token)."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from moderation import audit
from moderation.errors import Conflict, NotFound
from moderation.register import to_csv, to_xlsx
from moderation.roles import BOARD, HEADS, MODERATOR_NAMESPACE, Role
from moderation.text import fold

from .api import json_response, path_id, public_session, read_json, request_lang
from .auth import require_staff
from .errors import error_body
from .keys import feed_key, store_key, watch_key

routes = web.RouteTableDef()


@routes.get("/api/v1/me")
async def me(request: web.Request) -> web.Response:
    return json_response((await require_staff(request)).public())


@routes.post("/api/v1/questions/{question_id}/actions")
async def question_action(request: web.Request) -> web.Response:
    actor = await require_staff(request)
    question_id = path_id(request, "question_id")
    body = await read_json(request)
    if not isinstance(body, dict):
        body = {}
    feed = request.app[feed_key]
    params = {k: v for k, v in body.items() if k not in ("action", "version")}
    try:
        return json_response(await feed.perform(question_id, body.get("action"), body.get("version"), params, actor))
    except Conflict as err:
        # the fresh state, so the caller sees what the other moderator did
        conflict = error_body(err, request_lang(request))
        conflict["question"] = await feed.fresh(question_id, actor)
        return json_response(conflict, status=409)


@routes.post("/api/v1/questions/{question_id}/reveal")
async def reveal(request: web.Request) -> web.Response:
    actor = await require_staff(request, BOARD)
    body = await read_json(request)
    reason = body.get("reason") if isinstance(body, dict) else None
    identity = await request.app[feed_key].board.reveal(path_id(request, "question_id"), reason, actor)
    return json_response({"ok": True, "identity": identity})


@routes.post("/api/v1/sessions/{session_id}/actions")
async def session_action(request: web.Request) -> web.Response:
    actor = await require_staff(request)
    body = await read_json(request)
    session = await request.app[feed_key].session_action(path_id(request, "session_id"),
                                                         body.get("action") if isinstance(body, dict) else None, actor)
    return json_response({"ok": True, "session": session.staff_dict()})


@routes.get("/api/v1/sessions/{session_id}/board")
async def board(request: web.Request) -> web.Response:
    """The console's lists for a script: every question (masked), filtered by state, field,
    department, and a search that ignores diacritics (`q=dat dai` finds "đất đai")."""
    actor = await require_staff(request, MODERATOR_NAMESPACE)
    feed = request.app[feed_key]
    session = await request.app[watch_key].get(path_id(request, "session_id"))
    await feed.duplicate_index(session.id)
    questions = await feed.board.questions(session_id=session.id,
                                           department=actor.department if actor.role is Role.RESPONDER else None)
    state, field, dept, text = (request.query.get(k) for k in ("state", "field", "department", "q"))
    needle = fold(text) if text else None
    picked = [q for q in questions
              if (not state or q.state.value == state) and (not field or q.field == field)
              and (not dept or q.department == dept)
              and (needle is None or needle in fold(q.shown_text) or needle in fold(q.text))]
    return json_response({"session": session.staff_dict(),
                          "questions": [feed.staff_dict(q, session, actor) for q in picked],
                          "queue": await feed.board.queue(session.id)})


@routes.get("/api/v1/sessions/{session_id}/stats")
async def stats(request: web.Request) -> web.Response:
    session = await public_session(request)
    return json_response(await request.app[feed_key].board.stats(session.id))


@routes.get("/api/v1/sessions/{session_id}/register.{fmt}")
async def register(request: web.Request) -> web.StreamResponse:
    actor = await require_staff(request, BOARD)
    fmt = request.match_info["fmt"]
    if fmt not in ("csv", "xlsx", "json"):
        raise NotFound("format_not_found", field="format")
    session = await request.app[watch_key].get(path_id(request, "session_id"))
    rows = await request.app[store_key].register(session.id, sees_protected=actor.sees_protected)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    name = f"so-ghi-chep-phien-{session.id}-{stamp}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    if fmt == "json":
        return json_response({"session": session.staff_dict(), "register": rows})
    if fmt == "csv":
        return web.Response(text=to_csv(rows), content_type="text/csv", charset="utf-8", headers=headers)
    return web.Response(body=to_xlsx(rows, session.title), headers=headers,
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@routes.get("/api/v1/audit")
async def audit_entries(request: web.Request) -> web.Response:
    await require_staff(request, HEADS)
    raw = request.query.get("session_id")
    session_id = int(raw) if raw and raw.isdigit() else None
    async with request.app[store_key].read_engine.connect() as conn:
        found = await conn.run_sync(audit.entries, session_id=session_id)
    return json_response({"entries": found})


@routes.get("/api/v1/audit/verify")
async def audit_verify(request: web.Request) -> web.Response:
    await require_staff(request, HEADS)
    async with request.app[store_key].read_engine.connect() as conn:
        verdict = await conn.run_sync(audit.verify)
    return json_response(verdict.as_dict())
