"""The public archive: a published session's article and video (/s/{id} once published), the list
(/archive), the JSON (/api/v1/sessions/{id}/publication), the files, the embed player and the
export bundle. Everything answers 404 until the head publishes, and shows only the published
snapshot, never the draft (moderation/publication.py)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import time
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from moderation import publication
from moderation.text import fold
from stream.recording_files import RecordingFiles

from .api import json_response, path_id, request_lang
from .files import FileResponse
from .keys import settings_key, store_key
from .pages import render
from .ui_text import ui

routes = web.RouteTableDef()
SEGMENT = re.compile(r"^[A-Za-z0-9_-]{1,80}\.(ts|m4s|mp4|aac)$")
SEGMENT_TYPES = {"ts": "video/mp2t", "m4s": "video/iso.segment", "mp4": "video/mp4", "aac": "audio/aac"}
IMMUTABLE = "public, max-age=31536000, immutable"  # a segment never changes under its name
SHORT = "public, max-age=60"  # the playlist, the JSON and the pages follow a correction soon
STALE_PART_S = 3600.0  # a bundle being written for longer than this was cut off by a crash


def clock(seconds: float | None) -> str:
    """h:mm:ss, the way the article says "trả lời lúc 0:34:12"."""
    whole = max(0, int(seconds or 0))
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def files_of(request: web.Request, session_id: int) -> RecordingFiles:
    return RecordingFiles.of(request.app[settings_key].recordings_path, session_id)


async def snapshot(request: web.Request, session_id: int) -> dict[str, Any]:
    """The published snapshot, or a 404 as for an unknown session (a draft does not exist here)."""
    async with request.app[store_key].read_engine.connect() as conn:
        found = await conn.run_sync(publication.published, session_id)
    if found is None:
        raise web.HTTPNotFound()
    return found


def urls(session_id: int, article: dict[str, Any]) -> dict[str, Any]:
    base = f"/archive/{session_id}"
    video = bool(article.get("video"))
    return {"page": f"/s/{session_id}", "embed": f"/embed/{session_id}" if video else None,
            "mp4": f"{base}/portal.mp4" if video else None, "hls": f"{base}/vod/index.m3u8" if video else None,
            "chapters_vtt": f"{base}/chapters.vtt" if video else None, "export": f"{base}/export.zip"}


def public_json(session_id: int, found: dict[str, Any], chapters: list[dict[str, Any]]) -> dict[str, Any]:
    article = found["article"]
    items = [{k: v for k, v in item.items() if k != "picture"}
             | {"picture": f"/archive/{session_id}/pictures/{item['question_id']}.jpg" if item.get("picture") else None}
             for item in article["items"]]
    return {"session_id": session_id, "version": found["version"], "published_at": _iso(found["published_at"]),
            "first_published_at": _iso(found["first_published_at"]), "intro": article["intro"], "items": items,
            "video": bool(article.get("video")), "urls": urls(session_id, article),
            "chapters": chapters if article.get("video") else []}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def archive_context(session_id: int, found: dict[str, Any], files: RecordingFiles,
                    picture_base: str | None = None) -> dict[str, Any]:
    """What archive_article.html needs: the same for the public page and the head's review."""
    article = found["article"]
    return {"sid": session_id, "picture_base": picture_base or f"/archive/{session_id}/pictures", "article": article, "intro": article["intro"],
            "time": datetime.fromisoformat(article["intro"]["time"]), "items": article["items"],
            "found": found, "links": urls(session_id, article), "clock": clock,
            "chapters": publication.chapters(files) if article.get("video") else []}


async def archive_page(request: web.Request, session_id: int) -> web.Response | None:
    """/s/{id} once published (server/pages.py hands over); None without a published article."""
    async with request.app[store_key].read_engine.connect() as conn:
        found = await conn.run_sync(publication.published, session_id)
    if found is None:
        return None
    context = archive_context(session_id, found, files_of(request, session_id))
    return render(request, "archive_page.html", review=False, **context)


@routes.get("/archive")
async def archive_list(request: web.Request) -> web.Response:
    """The published sessions; `q` finds words in the title, a field or a question, without diacritics."""
    q = fold(request.query.get("q", "").strip())[:100]
    async with request.app[store_key].read_engine.connect() as conn:
        ids = await conn.run_sync(publication.published_ids)
        found = [(sid, await conn.run_sync(publication.published, sid)) for sid in ids]
    entries = []
    for sid, pub in found:
        if pub is None:
            continue
        article = pub["article"]
        words = " ".join([article["intro"]["topic"], *(i["field"] for i in article["items"]),
                          *(i["text"] for i in article["items"])])
        if q and q not in fold(words):
            continue
        entries.append({"id": sid, "topic": article["intro"]["topic"], "published_at": pub["published_at"],
                        "time": datetime.fromisoformat(article["intro"]["time"]), "count": len(article["items"]),
                        "video": bool(article.get("video"))})
    return render(request, "archive_list.html", entries=entries, q=request.query.get("q", "")[:100])


@routes.get("/api/v1/sessions/{session_id}/publication")
async def publication_api(request: web.Request) -> web.Response:
    session_id = path_id(request, "session_id")
    found = await snapshot(request, session_id)
    response = json_response(public_json(session_id, found, publication.chapters(files_of(request, session_id))))
    response.headers["Cache-Control"] = SHORT
    return response


def _file(path: Path, content_type: str, cache: str) -> web.StreamResponse:
    if not path.is_file():
        raise web.HTTPNotFound()
    # FileResponse answers Range requests (the player seeks in the MP4)
    return FileResponse(path, headers={"Content-Type": content_type, "Cache-Control": cache,
                                           "X-Content-Type-Options": "nosniff",
                                           "Access-Control-Allow-Origin": "*"})


async def _video_files(request: web.Request) -> RecordingFiles:
    session_id = path_id(request, "session_id")
    found = await snapshot(request, session_id)
    if not found["article"].get("video"):
        raise web.HTTPNotFound()  # published as the article alone
    return files_of(request, session_id)


@routes.get("/archive/{session_id}/portal.mp4")
async def portal_mp4(request: web.Request) -> web.StreamResponse:
    return _file((await _video_files(request)).portal_mp4, "video/mp4", SHORT)


@routes.get("/archive/{session_id}/chapters.vtt")
async def chapters_vtt(request: web.Request) -> web.StreamResponse:
    return _file((await _video_files(request)).chapters_vtt, "text/vtt; charset=utf-8", SHORT)


@routes.get("/archive/{session_id}/vod/{name}")
async def vod_file(request: web.Request) -> web.StreamResponse:
    files = await _video_files(request)
    name = request.match_info["name"]
    if name == "index.m3u8":
        return _file(files.vod_playlist, "application/vnd.apple.mpegurl", SHORT)
    match = SEGMENT.match(name)
    if match is None:
        raise web.HTTPNotFound()
    return _file(files.vod_dir / name, SEGMENT_TYPES[match.group(1)], IMMUTABLE)


@routes.get("/archive/{session_id}/pictures/{question_id}.jpg")
async def picture(request: web.Request) -> web.StreamResponse:
    session_id = path_id(request, "session_id")
    found = await snapshot(request, session_id)
    qid = path_id(request, "question_id")
    # only a question the published article shows, and only if it showed a picture
    if not any(i["question_id"] == qid and i.get("picture") for i in found["article"]["items"]):
        raise web.HTTPNotFound()
    return _file(files_of(request, session_id).picture(qid), "image/jpeg", SHORT)


@routes.get("/embed/{session_id}")
async def embed(request: web.Request) -> web.Response:
    """A player alone, for another site's iframe: the one page that may be framed anywhere."""
    session_id = path_id(request, "session_id")
    found = await snapshot(request, session_id)
    if not found["article"].get("video"):
        raise web.HTTPNotFound()
    context = archive_context(session_id, found, files_of(request, session_id))
    response = render(request, "archive_embed.html", **context)
    response.headers["Content-Security-Policy"] = response.headers["Content-Security-Policy"].replace(
        "frame-ancestors 'self'", "frame-ancestors *")
    response.headers.pop("X-Frame-Options", None)
    return response


@routes.get("/archive/{session_id}/export.zip")
async def export_zip(request: web.Request) -> web.StreamResponse:
    """index.html + pictures + portal.mp4 + chapters.vtt + publication.json, for a CMS to import.
    Made once per published version (the video is large: on disk, off the event loop)."""
    session_id = path_id(request, "session_id")
    found = await snapshot(request, session_id)
    files = files_of(request, session_id)
    lang = request_lang(request)
    context = archive_context(session_id, found, files)
    data = public_json(session_id, found, context["chapters"])
    html = _export_html(request, lang, context)
    bundle = files.directory / f"export-v{found['version']}-{lang}.zip"
    if not bundle.is_file():
        await asyncio.to_thread(_write_bundle, bundle, html, data, found["article"], files)
    return FileResponse(bundle, headers={
        "Content-Type": "application/zip", "Cache-Control": SHORT, "X-Content-Type-Options": "nosniff",
        "Content-Disposition": f'attachment; filename="doithoai-{session_id}-v{found["version"]}.zip"'})


def _write_bundle(bundle: Path, html: str, data: dict[str, Any], article: dict[str, Any],
                  files: RecordingFiles) -> None:
    bundle.parent.mkdir(parents=True, exist_ok=True)
    partial = bundle.with_name(f"{bundle.name}.{secrets.token_hex(4)}.part")  # two requests at once: each its own
    try:
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as out:
            out.writestr("index.html", html)
            out.writestr("publication.json", json.dumps(data, ensure_ascii=False, indent=2))
            for item in article["items"]:
                path = files.picture(item["question_id"])
                if item.get("picture") and path.is_file():
                    out.write(path, f"pictures/{item['question_id']}.jpg")
            if article.get("video"):
                for path, name in ((files.portal_mp4, "portal.mp4"), (files.chapters_vtt, "chapters.vtt")):
                    if path.is_file():
                        out.write(path, name, compress_type=zipfile.ZIP_STORED)  # video does not deflate
        partial.replace(bundle)
    finally:
        partial.unlink(missing_ok=True)
    _drop_old_bundles(bundle)


def _bundle_version(bundle: Path) -> int:
    """export-v3-vi.zip: 3 (0 for a name not of that form)."""
    number = bundle.name.split("-", 2)[1][1:]
    return int(number) if number.isdigit() else 0


def _drop_old_bundles(current: Path) -> None:
    """Each bundle holds the whole video: once a new version's is made, the older versions' go (a
    download already under way keeps its open file; a request still on the old version while the
    new one is published only rebuilds its own), and so do pieces a crash left half-written."""
    version = _bundle_version(current)
    for old in current.parent.glob("export-v*-*.zip"):
        if (_bundle_version(old) or version) < version:
            old.unlink(missing_ok=True)
    for piece in current.parent.glob("export-v*.zip.*.part"):
        with contextlib.suppress(FileNotFoundError):
            if time.time() - piece.stat().st_mtime > STALE_PART_S:
                piece.unlink()


def _export_html(request: web.Request, lang: str, context: dict[str, Any]) -> str:
    from .keys import jinja_key

    return str(request.app[jinja_key].get_template("archive_export.html").render(
        lang=lang, t=lambda key, **kw: ui(key, lang, **kw), **context))


def setup_archive(app: web.Application) -> None:
    app.add_routes(routes)
