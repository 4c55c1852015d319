"""The portal publication: the board prepares the article, the head reviews and publishes it, the
public reads the archive. See docs/recording.md ("Publication").

/staff/sessions/{id}/publication: the draft form (editors, head): the introduction, a summary per
live answer, a picture per question. /staff/sessions/{id}/publication/review: the public archive
template with the draft, and the head's Publish button (through moderation/publication.py, the
same path as the API's and the CLI's `publish`)."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from PIL import Image, UnidentifiedImageError

from moderation import publication
from moderation.errors import DomainError, Forbidden
from moderation.roles import BOARD, Role

from .api import path_id, request_lang
from .archive_pages import archive_context, files_of, setup_archive
from .files import FileResponse
from .i18n import message
from .keys import feed_key, settings_key, store_key
from .staff_pages import posted_form, signed_in, staff_render

routes = web.RouteTableDef()
PICTURE_MAX = 5 * 1024 * 1024  # bytes of an uploaded picture
PICTURE_SIZE = (1280, 720)  # at most, as the frames taken from the video


async def _prepared(request: web.Request, session_id: int, actor: Any) -> dict[str, Any]:
    files = files_of(request, session_id)
    async with request.app[store_key].write_engine.begin() as conn:
        await conn.run_sync(publication.prepare, session_id, actor, datetime.now(UTC), files)
        found = await conn.run_sync(publication.draft, session_id)
    assert found is not None
    return found


@routes.get("/staff/sessions/{session_id}/publication")
async def draft_page(request: web.Request) -> web.Response:
    actor = await signed_in(request, BOARD)
    session_id = path_id(request, "session_id")
    session = await request.app[store_key].get_session(session_id)
    found = await _prepared(request, session_id, actor)
    return staff_render(request, "publication_draft.html", actor, session=session, found=found,
                        article=found["article"], error=None, saved=request.query.get("saved") == "1")


@routes.post("/staff/sessions/{session_id}/publication")
async def save_draft(request: web.Request) -> web.Response:
    actor, form = await posted_form(request, BOARD, same_origin=True)
    session_id = path_id(request, "session_id")
    files = files_of(request, session_id)
    changes: dict[str, Any] = {"intro": str(form.get("intro", "")), "summaries": {
        key.removeprefix("summary_"): str(value) for key, value in form.items() if key.startswith("summary_")}}
    try:
        for key, upload in form.items():
            if key.startswith("picture_") and isinstance(upload, web.FileField) and upload.filename:
                _save_picture(files.uploaded_picture(_qid(key.removeprefix("picture_"))), upload.file.read())
        async with request.app[store_key].write_engine.begin() as conn:
            await conn.run_sync(publication.edit, session_id, changes, actor, datetime.now(UTC), files)
    except DomainError as err:
        session = await request.app[store_key].get_session(session_id)
        found = await _prepared(request, session_id, actor)
        text = message(err.reason, request_lang(request), err.field, **err.params)
        return staff_render(request, "publication_draft.html", actor, session=session, found=found,
                            article=found["article"], saved=False,
                            error={"field": err.field, "question": str(err.params.get("question", "")), "text": text})
    raise web.HTTPSeeOther(f"/staff/sessions/{session_id}/publication?saved=1")


def _qid(raw: str) -> int:
    if not raw.isdigit():
        raise publication.ValidationError("pub_bad_picture", field="picture", question=raw[:20])
    return int(raw)


def _save_picture(path: Any, data: bytes) -> None:
    """JPEG or PNG by its content (not its name), at most PICTURE_MAX, saved as a JPEG."""
    which = path.name.split('.')[0]  # the question whose picture it is: the form marks that one
    if len(data) > PICTURE_MAX:
        raise publication.ValidationError("pub_picture_too_large", field="picture", question=which,
                                          max=PICTURE_MAX // (1024 * 1024))
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in ("JPEG", "PNG"):
                raise publication.ValidationError("pub_bad_picture", field="picture", question=which)
            image.thumbnail(PICTURE_SIZE)
            picture = image.convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise publication.ValidationError("pub_bad_picture", field="picture", question=which) from None
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    picture.save(partial, "JPEG", quality=88)
    partial.replace(path)


@routes.get("/staff/sessions/{session_id}/publication/review")
async def review_page(request: web.Request) -> web.Response:
    actor = await signed_in(request, BOARD)
    session_id = path_id(request, "session_id")
    session = await request.app[store_key].get_session(session_id)
    found = await _prepared(request, session_id, actor)
    context = archive_context(session_id, found, files_of(request, session_id),
                              picture_base=f"/staff/sessions/{session_id}/publication/pictures")
    return staff_render(request, "archive_page.html", actor, review=True, session=session,
                        may_publish=actor.role is Role.HEAD, **context)


@routes.get("/staff/sessions/{session_id}/publication/pictures/{question_id}.jpg")
async def draft_picture(request: web.Request) -> web.StreamResponse:
    """The draft's pictures, to the board (the public's are the archive's, once published)."""
    await signed_in(request, BOARD)
    path = files_of(request, path_id(request, "session_id")).picture(path_id(request, "question_id"))
    if not path.is_file():
        raise web.HTTPNotFound()
    return FileResponse(path, headers={"Content-Type": "image/jpeg", "Cache-Control": "private, no-store"})


@routes.post("/staff/sessions/{session_id}/publication/publish")
async def publish(request: web.Request) -> web.Response:
    """The head's button: the same session action as the API's and the CLI's."""
    actor, _ = await posted_form(request, BOARD, same_origin=True)
    session_id = path_id(request, "session_id")
    try:
        await request.app[feed_key].session_action(session_id, "publish", actor)
    except Forbidden as err:  # an editor's or an admin's press: refused as the API refuses it
        raise web.HTTPForbidden(text=message(err.reason, request_lang(request), err.field, **err.params)) from err
    raise web.HTTPSeeOther(f"/s/{session_id}")


async def _board_sees_recordings(app: web.Application) -> None:
    # the API's and the console's publish (server/board_feed.py's Board) find the article's video here
    app[feed_key].board.recordings = app[settings_key].recordings_path


def setup_publication(app: web.Application) -> None:
    """The staff pages, the public archive and its files."""
    app.add_routes(routes)
    setup_archive(app)
    app.on_startup.append(_board_sees_recordings)
