"""The working-day calendar's admin page (/staff/calendar): a year's public holidays and days off in
lieu from the holidays package with why each day is off, the overrides (the government's day swaps,
local days off) with forms to add and remove them. Administrators only; forms post with the staff
CSRF token as every staff form; the rules and the audit are moderation/calendar_store.py's."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from moderation.calendar import local_date
from moderation.calendar_store import CalendarStore, parse_override_day, parse_year
from moderation.errors import DomainError
from moderation.roles import Actor, Role

from .api import request_lang
from .errors import HTTP_STATUS
from .i18n import message
from .keys import store_key
from .staff_pages import posted_form, signed_in, staff_render

routes = web.RouteTableDef()
ADMINS = frozenset({Role.ADMIN})
DONE = ("add", "remove")


def _this_year() -> int:
    return local_date(datetime.now(UTC)).year


async def _page(request: web.Request, actor: Actor, year: int, status: int = 200, **context: Any) -> web.Response:
    calendar = CalendarStore(request.app[store_key])
    lang = request_lang(request)
    context.setdefault("error", None)
    context.setdefault("error_field", None)
    context.setdefault("form", {"day": "", "kind": "working", "note": ""})
    done = request.query.get("done")
    context.setdefault("done", done if done in DONE else None)
    context.setdefault("done_day", request.query.get("day", ""))
    return staff_render(request, "calendar.html", actor, status=status, year=year,
                        days=await calendar.year(year, lang), overrides=await calendar.overrides(year), **context)


@routes.get("/staff/calendar")
async def calendar_page(request: web.Request) -> web.Response:
    actor = await signed_in(request, ADMINS)
    raw = request.query.get("year")
    if raw is None:
        return await _page(request, actor, _this_year())
    try:
        year = parse_year(raw)
    except DomainError as err:
        text, status = _error(err, request)
        return await _page(request, actor, _this_year(), status, error=text, error_field="year")
    return await _page(request, actor, year)


def _error(err: DomainError, request: web.Request) -> tuple[str, int]:
    return message(err.reason, request_lang(request), err.field, **err.params), HTTP_STATUS.get(err.code, 400)


def _year_of(raw: Any) -> int:
    try:
        return parse_override_day(raw).year
    except DomainError:
        return _this_year()


@routes.post("/staff/calendar/add")
async def add_override(request: web.Request) -> web.Response:
    actor, form = await posted_form(request, ADMINS)
    raw = {k: str(form.get(k, "")) for k in ("day", "kind", "note")}
    try:
        added = await CalendarStore(request.app[store_key]).add(raw["day"], raw["kind"], raw["note"], actor)
    except DomainError as err:
        text, status = _error(err, request)
        return await _page(request, actor, _year_of(raw["day"]), status, error=text, error_field=err.field,
                           form=raw)
    raise web.HTTPSeeOther("/staff/calendar?" + urlencode({"year": added.day.year, "done": "add",
                                                           "day": added.day.strftime("%d/%m/%Y")}))


@routes.post("/staff/calendar/remove")
async def remove_override(request: web.Request) -> web.Response:
    actor, form = await posted_form(request, ADMINS)
    day = str(form.get("day", ""))
    try:
        removed = await CalendarStore(request.app[store_key]).remove(day, actor)
    except DomainError as err:
        text, status = _error(err, request)
        return await _page(request, actor, _year_of(day), status, error=text, error_field=None)
    raise web.HTTPSeeOther("/staff/calendar?" + urlencode({"year": removed.day.year, "done": "remove",
                                                           "day": removed.day.strftime("%d/%m/%Y")}))


def setup_calendar_pages(app: web.Application) -> None:
    from . import deadline_pages

    app.add_routes(routes)
    app.add_routes(deadline_pages.routes)
