"""The follow-up deadline lists: the staff page /staff/deadlines (overdue, due soon, not yet due, done
on time, done late; filtered by session and department) and GET /api/v1/staff/deadlines (the same as
JSON). The board sees every unit's; a responder their own department's only. Which question stands
where is decided in moderation/due_lists.py, for both."""

from __future__ import annotations

from aiohttp import web

from moderation.due_lists import DueLists, Status
from moderation.errors import DomainError
from moderation.roles import MODERATOR_NAMESPACE, Role

from .api import json_response, request_lang
from .auth import require_staff
from .errors import HTTP_STATUS
from .i18n import message
from .keys import store_key
from .staff_pages import signed_in, staff_render

routes = web.RouteTableDef()
SECTIONS = (Status.OVERDUE, Status.DUE_SOON, Status.PENDING, Status.MISSED, Status.MET)


def _query(request: web.Request) -> dict[str, str | None]:
    return {k: request.query.get(k) for k in ("session", "department", "status", "as_of", "soon")}


@routes.get("/api/v1/staff/deadlines")
async def deadlines_api(request: web.Request) -> web.Response:
    actor = await require_staff(request, MODERATOR_NAMESPACE)
    report = await DueLists(request.app[store_key]).report(actor, **_query(request))
    return json_response(report.as_dict())


@routes.get("/staff/deadlines")
async def deadlines_page(request: web.Request) -> web.Response:
    actor = await signed_in(request, MODERATOR_NAMESPACE)
    lists = DueLists(request.app[store_key])
    asked = _query(request)
    error, status = None, 200
    try:
        report = await lists.report(actor, **asked)
    except DomainError as err:
        error = message(err.reason, request_lang(request), err.field, **err.params)
        status = HTTP_STATUS.get(err.code, 400)
        asked = {k: None for k in asked}
        report = await lists.report(actor)
    # the units and sessions that have deadlines, for the filters (within the caller's scope)
    scope = report if not report.department or actor.role is Role.RESPONDER else await lists.report(
        actor, session=report.session_id, as_of=report.as_of)
    sessions = await request.app[store_key].list_sessions()
    with_deadlines = {sid for sid, _title, _c in scope.by_session}
    return staff_render(
        request, "deadlines.html", actor, status=status, report=report, error=error, asked=asked,
        sections=SECTIONS, units=[u for u, _c in scope.by_department],
        sessions=[x for x in sessions if x.id in with_deadlines or x.id == report.session_id],
        responder=actor.role is Role.RESPONDER,
    )
