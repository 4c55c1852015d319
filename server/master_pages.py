"""The staff page of a broadcast master's conformance report (the board's):
/staff/sessions/{id}/recording/master/{profile}/report: the checks measured on the delivered file
(stream/conformance.py), any loudness fallback, and links to the PDF an engineer signs, the JSON and
the master itself (served by server/recording_pages.py's master_file)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from moderation.roles import BOARD
from stream.recording_files import RecordingFiles

from .api import path_id
from .keys import settings_key, store_key
from .staff_pages import signed_in, staff_render

routes = web.RouteTableDef()
UNITS = {"integrated_lufs": " LUFS", "true_peak_dbtp": " dBTP", "loudness_range_lu": " LU", "frame_rate": " fps",
         "sample_rate": " Hz", "duration_s": " s", "max_momentary_lufs": " LUFS", "max_short_term_lufs": " LUFS"}


def shown(name: str, value: Any) -> str:
    return f"{value}{UNITS.get(name, '')}"


def read_report(files: RecordingFiles, profile: str) -> dict[str, Any] | None:
    path = files.report_json(profile)
    if not path.is_file():
        return None
    found: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return found


@routes.get("/staff/sessions/{session_id}/recording/master/{profile}/report")
async def master_report_page(request: web.Request) -> web.Response:
    actor = await signed_in(request, BOARD)
    session_id = path_id(request, "session_id")
    profile = request.match_info["profile"]
    session = await request.app[store_key].get_session(session_id)
    files = RecordingFiles.of(request.app[settings_key].recordings_path, session_id)
    # only a known profile's name reaches the file system; an unknown one is simply not there
    report = read_report(files, profile) if profile in request.app[settings_key].station_profiles() else None
    base = f"/staff/sessions/{session_id}/recording"
    master_name = None
    if report is not None:
        master_name = str(report["file"]["name"])
    context: dict[str, Any] = {
        "session": session, "profile": profile, "report": report, "shown": shown, "back": base,
        "links": [] if report is None else [
            ("pdf", f"{base}/master/{profile}.report.pdf"),
            ("json", f"{base}/master/{profile}.report.json"),
            ("master", f"{base}/master/{master_name}"),
        ],
    }
    response = staff_render(request, "staff_master_report.html", actor, **context)
    if report is None:
        response.set_status(404)
    return response


def setup_master_pages(app: web.Application) -> None:
    app.add_routes(routes)
