"""The outbox for staff (/staff/outbox and GET /api/v1/staff/outbox): counts by state and channel,
the failed and dead rows with their error, and a button to send one again (the board's roles). The
address and the message itself are shown to the head and the admin only (notify/status.py).

`setup_notify(app)` adds these routes and runs the sender loop (notify/sender.py) while the server
runs, after the store is open and stopped before it closes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from moderation.errors import DomainError
from moderation.roles import BOARD, HEADS, Actor
from notify import status
from notify.sender import Sender

from .api import json_response, path_id, request_lang
from .auth import require_staff
from .errors import HTTP_STATUS
from .i18n import message
from .keys import settings_key, store_key
from .staff_pages import posted_form, signed_in, staff_render

routes = web.RouteTableDef()
sender_key: web.AppKey[Sender] = web.AppKey("notify_sender", Sender)


async def _overview(request: web.Request, actor: Actor) -> dict[str, Any]:
    async with request.app[store_key].read_engine.connect() as conn:
        found: dict[str, Any] = await conn.run_sync(
            lambda c: status.overview(c, with_personal=actor.role in HEADS, settings=request.app[settings_key]))
    return found


@routes.get("/staff/outbox")
async def outbox_page(request: web.Request) -> web.Response:
    actor = await signed_in(request, BOARD)
    return staff_render(request, "notify_outbox.html", actor, outbox=await _overview(request, actor),
                        done=request.query.get("retried"), error=None, states=status.STATES,
                        channels=status.CHANNELS)


@routes.post("/staff/outbox/{notification_id}/retry")
async def outbox_retry_form(request: web.Request) -> web.Response:
    actor, form = await posted_form(request, BOARD)
    notification_id = path_id(request, "notification_id")
    try:
        await _retry(request, notification_id, actor)
    except DomainError as err:
        response = staff_render(request, "notify_outbox.html", actor, outbox=await _overview(request, actor),
                                done=None, states=status.STATES, channels=status.CHANNELS,
                                error=message(err.reason, request_lang(request), err.field, **err.params))
        response.set_status(HTTP_STATUS.get(err.code, 400))
        return response
    raise web.HTTPSeeOther(f"/staff/outbox?retried={notification_id}")


async def _retry(request: web.Request, notification_id: int, actor: Actor) -> dict[str, Any]:
    async with request.app[store_key].write_engine.begin() as conn:
        done: dict[str, Any] = await conn.run_sync(status.retry, notification_id, actor)
    return done


@routes.get("/api/v1/staff/outbox")
async def outbox_api(request: web.Request) -> web.Response:
    actor = await require_staff(request, BOARD)
    return json_response(await _overview(request, actor))


@routes.post("/api/v1/staff/outbox/{notification_id}/retry")
async def outbox_retry_api(request: web.Request) -> web.Response:
    actor = await require_staff(request, BOARD)
    return json_response({"ok": True, **await _retry(request, path_id(request, "notification_id"), actor)})


async def _sender_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[settings_key]
    sender = Sender(app[store_key], settings)
    app[sender_key] = sender
    if settings.notify:
        sender.start()
    yield
    await sender.stop()


def setup_notify(app: web.Application) -> None:
    """Routes, and the sender loop (after the store's cleanup_ctx, so it starts after and stops before it)."""
    app.add_routes(routes)
    app.cleanup_ctx.append(_sender_ctx)
