"""The recording after the close, for staff: its status, its finalising and master jobs
(GET /api/v1/staff/sessions/{id}/recording and the job runner). See docs/recording.md."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp import web

from moderation.roles import BOARD
from moderation.store import Store
from stream import chapters as chapter_files
from stream.recording_files import RecordingFiles
from stream.recording_index import load

from .api import json_response, path_id, read_json
from .auth import require_staff
from .keys import media_key, settings_key, store_key
from .recording_jobs import RecordingJobs

routes = web.RouteTableDef()
jobs_key = web.AppKey("recording_jobs", RecordingJobs)
# public job fields (the row's `result` is in the status's paths, not repeated per job)
JOB_FIELDS = ("id", "kind", "profile", "state", "progress", "eta_seconds", "step", "message", "attempts",
              "created_at", "finished_at")


def _path(path: Path) -> str | None:
    return str(path) if path.exists() else None


def _masters(files: RecordingFiles) -> tuple[dict[str, str] | None, dict[str, dict[str, str | None]] | None]:
    """The masters made so far by profile, and their conformance reports (stream/master.py names them)."""
    if not files.masters.is_dir():
        return None, None
    masters: dict[str, str] = {}
    reports: dict[str, dict[str, str | None]] = {}
    for path in sorted(files.masters.iterdir()):
        name = path.name
        if ".tmp" in name or not path.is_file():
            continue
        if ".report." in name:
            profile = name.split(".report.", 1)[0]
            reports.setdefault(profile, {"json": None, "pdf": None})[name.rsplit(".", 1)[-1]] = str(path)
        elif path.suffix in (".mp4", ".mov", ".mxf"):
            masters[path.stem] = str(path)
    return masters or None, reports or None


async def status(store: Store, recordings: Path, session_id: int, live: dict[str, Any] | None = None,
                 jobs: RecordingJobs | None = None) -> dict[str, Any]:
    """The recording's state for staff and the CLI: what is on disk (null until made), the jobs, the
    recorder's live state when the media runs (`live`: None when it does not)."""
    await store.get_session(session_id)  # NotFound for a session that is not there
    files = RecordingFiles.of(recordings, session_id)
    rec = load(files.directory)
    runner = jobs or RecordingJobs(store, recordings, auto_finalize=False)
    masters, reports = _masters(files)
    return {
        "session_id": session_id,
        "recording": str(files.video) if rec.exists else None,
        "duration_s": round(rec.duration_s, 3),
        "closed": rec.closed,
        "runs": rec.runs,
        "gaps": [g.as_dict() for g in rec.gaps],
        "chapters": [c.as_dict() for c in chapter_files.read(files)],
        "chapters_json": _path(files.chapters_json),
        "chapters_vtt": _path(files.chapters_vtt),
        "portal_mp4": _path(files.portal_mp4),
        "hls_vod": _path(files.vod_playlist),
        "master": masters,
        "report": reports,
        "jobs": [{k: job[k] for k in JOB_FIELDS} for job in await runner.jobs(session_id)],
        "live": live if live is not None else {"state": "off", "message": ""},
    }


async def recording_status(app: web.Application, session_id: int) -> dict[str, Any]:
    """GET /api/v1/staff/sessions/{id}/recording's body (the staff page shows the same)."""
    media = app.get(media_key)
    live = media.recording(session_id) if media is not None else None
    return await status(app[store_key], app[settings_key].recordings_path, session_id, live, app[jobs_key])


def page_path(session_id: int) -> str:
    return f"/staff/sessions/{session_id}/recording"


@routes.get("/api/v1/staff/sessions/{session_id}/recording")
async def get_recording(request: web.Request) -> web.Response:
    await require_staff(request, BOARD)
    return json_response(await recording_status(request.app, path_id(request, "session_id")))


async def _body(request: web.Request) -> tuple[dict[str, Any], bool]:
    """The request's fields, and whether it came from the staff page's form (answered with a 303 back):
    the form's CSRF token is in the form; a JSON call sends it as X-CSRF-Token (or uses an API token)."""
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = {k: str(v) for k, v in (await request.post()).items()}
        await require_staff(request, BOARD, form_token=form.get("csrf"))
        return form, True
    await require_staff(request, BOARD)
    if request.can_read_body:
        body = await read_json(request)
        return (body if isinstance(body, dict) else {}), False
    return {}, False


async def _enqueue(request: web.Request, kind: str) -> web.Response:
    body, from_form = await _body(request)
    session_id = path_id(request, "session_id")
    await request.app[store_key].get_session(session_id)
    profile = body.get("profile") if kind == "master" else None
    jobs = request.app[jobs_key]
    job_id = await jobs.enqueue(session_id, kind, str(profile) if profile else None)
    if from_form:
        raise web.HTTPSeeOther(page_path(session_id))
    job = await jobs.job(job_id)
    return json_response({"ok": True, "job": {k: job[k] for k in JOB_FIELDS}}, status=202)


@routes.post("/api/v1/staff/sessions/{session_id}/recording/finalize")
async def post_finalize(request: web.Request) -> web.Response:
    """Finalise again (the chapters after an edit, a recording that changed): 202 with the job."""
    return await _enqueue(request, "finalize")


@routes.post("/api/v1/staff/sessions/{session_id}/recording/master")
async def post_master(request: web.Request) -> web.Response:
    """`{"profile": NAME}` (a station profile, server/config.py; the default one when absent): 202 with the job."""
    return await _enqueue(request, "master")


async def _jobs_ctx(app: web.Application) -> AsyncIterator[None]:
    jobs = RecordingJobs.of(app[store_key], app[settings_key])
    app[jobs_key] = jobs
    jobs.start()
    yield
    await jobs.stop()


def setup_recording(app: web.Application) -> None:
    """Routes and the job runner (after the store opens, before it closes)."""
    from .recording_pages import routes as page_routes  # the staff page, which reads the status above

    app.add_routes(routes)
    app.add_routes(page_routes)
    app.cleanup_ctx.append(_jobs_ctx)
    __import__("server.master_pages").master_pages.setup_master_pages(app)  # the master's report page (helper B)

