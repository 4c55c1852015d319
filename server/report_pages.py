"""Reports for a period (Hải Phòng Điều 22): the staff page with its charts, and the same report as
JSON, CSV, XLSX or PDF from the API. The editorial board's (editor, head, admin): the rule is in
reports/figures.py build_report, which every surface (this page, the API, the CLI) goes through."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from moderation.calendar import local_date
from moderation.errors import ValidationError
from moderation.roles import BOARD
from reports.charts import charts, svg
from reports.figures import Report, build_report, half_year, parse_period
from reports.pdf import to_pdf
from reports.tables import Translate, day, shown, tables, to_csv, to_json, to_xlsx

from .api import request_lang
from .auth import require_staff
from .i18n import message
from .keys import store_key
from .staff_pages import signed_in, staff_render
from .ui_text import ui

routes = web.RouteTableDef()
FORMATS = {
    "json": "application/json; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def translator(lang: str) -> Translate:
    return lambda key, **params: ui(key, lang, **params)


def render_report(report: Report, fmt: str, lang: str) -> bytes:
    """The report as a file in `fmt` (the CLI writes the same bytes)."""
    t = translator(lang)
    if fmt == "csv":
        return to_csv(report, t)
    if fmt == "xlsx":
        return to_xlsx(report, t)
    if fmt == "pdf":
        return to_pdf(report, t)
    if fmt == "json":
        return to_json(report)
    raise ValidationError("rpt_bad_format", field="format")


def parse_format(raw: Any) -> str:
    if raw not in FORMATS:
        raise ValidationError("rpt_bad_format", field="format")
    return str(raw)


@routes.get("/api/v1/staff/reports")
async def report_api(request: web.Request) -> web.Response:
    """`?from=YYYY-MM-DD&to=YYYY-MM-DD&format=json|csv|xlsx|pdf` (json by default); both days included."""
    actor = await require_staff(request, BOARD)
    fmt = parse_format(request.query.get("format", "json"))
    report = await build_report(request.app[store_key], actor, request.query.get("from"), request.query.get("to"))
    # openpyxl and fpdf2 are pure Python: rendered off the event loop
    body = await asyncio.to_thread(render_report, report, fmt, request_lang(request))
    headers = {"Content-Type": FORMATS[fmt], "Cache-Control": "no-store"}
    if fmt != "json":
        headers["Content-Disposition"] = f'attachment; filename="{report.slug}.{fmt}"'
    return web.Response(body=body, headers=headers)


def presets(today: date) -> list[tuple[str, date, date]]:
    y = today.year
    return [("rpt_first_half", date(y, 1, 1), date(y, 6, 30)), ("rpt_second_half", date(y, 7, 1), date(y, 12, 31)),
            ("rpt_year", date(y, 1, 1), date(y, 12, 31)),
            ("rpt_year", date(y - 1, 1, 1), date(y - 1, 12, 31))]


@routes.get("/staff/reports")
async def report_page(request: web.Request) -> web.Response:
    """`?from=&to=`: the report with charts and download links; the current six months by default."""
    actor = await signed_in(request, BOARD)
    lang = request_lang(request)
    t = translator(lang)
    today = local_date(datetime.now(UTC))
    raw_from, raw_to = request.query.get("from"), request.query.get("to")
    if not raw_from and not raw_to:
        start, end = half_year(today)
        raw_from, raw_to = start.isoformat(), end.isoformat()
    error: dict[str, str] | None = None
    report = None
    status = 200
    try:
        parse_period(raw_from, raw_to)  # the form's own error, naming the field, before the read
        report = await build_report(request.app[store_key], actor, raw_from, raw_to)
    except ValidationError as err:
        error = {"field": err.field or "", "message": message(err.reason, lang, err.field, **err.params)}
        status = 400
    context: dict[str, Any] = {"raw_from": raw_from or "", "raw_to": raw_to or "", "error": error,
                               "presets": [(t(key, y=a.year), a.isoformat(), b.isoformat())
                                           for key, a, b in presets(today)]}
    if report is not None:
        query = {"from": report.start.isoformat(), "to": report.end.isoformat()}
        context.update(
            report=report, period=t("rpt_period", a=day(report.start), b=day(report.end)),
            tables={found.key: found for found in tables(report, t)},
            charts=[(found, svg(found, t)) for found in charts(report, t)],
            shown=lambda cell: shown(cell, t),
            downloads=[(fmt, f"/api/v1/staff/reports?{urlencode({**query, 'format': fmt})}")
                       for fmt in ("pdf", "xlsx", "csv", "json")],
        )
    response = staff_render(request, "reports.html", actor, **context)
    response.set_status(status)
    return response
