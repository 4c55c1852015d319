"""The staff page of a session's recording: /staff/sessions/{id}/recording (the board's): the live
recorder's state, the recording's length and gaps, its chapters, the jobs with their progress (a
small script polls the API every 2 s), buttons to finalise again and to make a master, and the
files made, served here to staff only (the public's copies are the publication's)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from aiohttp import web

from moderation.roles import BOARD
from stream.recording_files import RecordingFiles

from .api import path_id, request_lang
from .config import Settings
from .files import FileResponse
from .keys import settings_key, store_key
from .recording_api import recording_status
from .staff_pages import signed_in, staff_render
from .staff_text import STAFF_UI

routes = web.RouteTableDef()
WARNINGS = ("low_disk", "failed", "refused")
# what staff may download here, by name: never a path from the request
FILES = {"portal.mp4": "video/mp4", "chapters.vtt": "text/vtt; charset=utf-8",
         "chapters.json": "application/json; charset=utf-8", "programme.ts": "video/mp2t"}
MASTER_NAME = re.compile(r"^[a-z0-9_-]{1,40}(\.report)?\.(mp4|mov|mxf|json|pdf)$")
MASTER_TYPES = {"mp4": "video/mp4", "mov": "video/quicktime", "mxf": "application/mxf",
                "json": "application/json; charset=utf-8", "pdf": "application/pdf"}


def clock(seconds: float | None) -> str:
    """h:mm:ss for a time into the recording."""
    if seconds is None:
        return ""
    whole = max(0, int(seconds))
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def _profiles(settings: Settings) -> list[tuple[str, str]]:
    """The station profiles for the master's form, the default one first."""
    profiles = settings.station_profiles()
    first = settings.master_profile
    return [(first, profiles[first].label)] + [(n, p.label) for n, p in profiles.items() if n != first]


def _texts(lang: str) -> dict[str, str]:
    i = 1 if lang == "en" else 0
    return {key: pair[i] for key, pair in STAFF_UI.items() if key.startswith(("rec_state_", "rec_eta", "rec_kind_"))}


@routes.get("/staff/sessions/{session_id}/recording")
async def recording_page(request: web.Request) -> web.Response:
    actor = await signed_in(request, BOARD)
    session_id = path_id(request, "session_id")
    session = await request.app[store_key].get_session(session_id)
    found = await recording_status(request.app, session_id)
    lang = request_lang(request)
    context: dict[str, Any] = {"session": session, "rec": found, "clock": clock, "warnings": WARNINGS,
                               "profiles": _profiles(request.app[settings_key]), "rec_texts": _texts(lang)}
    return staff_render(request, "staff_recording.html", actor, **context)


@routes.get("/staff/sessions/{session_id}/recording/files/{name}")
async def recording_file(request: web.Request) -> web.StreamResponse:
    """The files of the recording, to staff (by a name of FILES, or master/<profile>.*)."""
    await signed_in(request, BOARD)
    session_id = path_id(request, "session_id")
    files = RecordingFiles.of(request.app[settings_key].recordings_path, session_id)
    name = request.match_info["name"]
    if name not in FILES:
        raise web.HTTPNotFound()
    return _serve(files.directory / name, FILES[name])


@routes.get("/staff/sessions/{session_id}/recording/master/{name}")
async def master_file(request: web.Request) -> web.StreamResponse:
    """A broadcast master or its conformance report (stream/master.py's names), to staff."""
    await signed_in(request, BOARD)
    files = RecordingFiles.of(request.app[settings_key].recordings_path, path_id(request, "session_id"))
    name = request.match_info["name"]
    if not MASTER_NAME.match(name):
        raise web.HTTPNotFound()
    return _serve(files.masters / name, MASTER_TYPES[name.rsplit(".", 1)[-1]])


def _serve(path: Path, content_type: str) -> web.StreamResponse:
    if not path.is_file():
        raise web.HTTPNotFound()
    return FileResponse(path, headers={"Content-Type": content_type, "Cache-Control": "private, no-store",
                                           "X-Content-Type-Options": "nosniff",
                                           "Content-Disposition": f'attachment; filename="{path.name}"'})
