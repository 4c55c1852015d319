"""The board's JSON API (docs/moderation.md): the same actions as the console, for scripts and the
portal's back end (bearer token) or a signed-in browser (cookie + X-CSRF-Token)."""

from __future__ import annotations

from aiohttp import web

from moderation import audit
from moderation.errors import Conflict, Forbidden, NotFound
from moderation.register import Identities, copy_register, parse_identities
from moderation.roles import BOARD, HEADS, MODERATOR_NAMESPACE, Role
from moderation.sessions import parse_draft
from moderation.text import fold

from .api import json_response, path_id, public_session, read_json, request_lang
from .auth import credential, require_staff
from .errors import error_body
from .keys import feed_key, staff_csrf_key, store_key, watch_key

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


# -- forum (issue 13): creating a session of either kind, as `doithoai session create` does
@routes.post("/api/v1/sessions")
async def create_session(request: web.Request) -> web.Response:
    """A draft session: `{title, chair, start, minutes, fields, kind, rule_set, ...}` (docs/api.md);
    a forum (`kind: "forum"`) takes no start or length. Announced with the session action `announce`."""
    actor = await require_staff(request, HEADS)
    session = await request.app[store_key].create_session(parse_draft(await read_json(request)), actor)
    return json_response({"ok": True, "session": session.staff_dict()}, status=201)
# -- end forum


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
    """The register: `?identities=full&reason=…` (the default; audited) or `?identities=masked`."""
    actor = await require_staff(request, BOARD)
    fmt = request.match_info["fmt"]
    if fmt not in ("csv", "xlsx", "json"):
        raise NotFound("format_not_found", field="format")
    identities = parse_identities(request.query.get("identities", Identities.FULL.value))
    if identities is Identities.FULL:
        _csrf_for_identities(request)
    copy = await copy_register(request.app[store_key], path_id(request, "session_id"), actor, fmt=fmt,
                               identities=identities, reason=request.query.get("reason"))
    headers = {"Content-Disposition": f'attachment; filename="{copy.filename}"', "Cache-Control": "no-store",
               "Content-Type": copy.content_type}
    return web.Response(body=copy.body, headers=headers)


def _csrf_for_identities(request: web.Request) -> None:
    """A link on another site would make a signed-in officer's browser fetch the full register (a GET
    carries the Lax cookie): the file lands on their machine and the audit log records a reason they
    never gave. With the cookie, the full register takes the page's X-CSRF-Token, as a change does."""
    given = credential(request)
    if given is not None and given[0] == "cookie" and not request.app[staff_csrf_key].check(
            given[1] or "", request.headers.get("X-CSRF-Token")):
        raise Forbidden("csrf", field="csrf")


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
