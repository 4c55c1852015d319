"""The application factory: builds everything; resources open and close in cleanup_ctx."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections import deque
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import socketio
from aiohttp import web
from socketio import packet

from moderation.accounts import Accounts
from moderation.blocks import SenderBlocks, SenderKey
from moderation.sessions import Session
from moderation.store import Store
from stream import capabilities

from . import api, blocks_api, staff_api
from .answer_pages import setup_answer_pages
from .auth import StaffCsrf
from .board_feed import BoardFeed
from .calendar_pages import setup_calendar_pages
from .config import Settings
from .errors import quiet_malformed_http
from .forum_pages import setup_forum
from .hls_origin import setup_hls_origin
from .intake import Intake
from .keys import (
    accounts_key,
    blocks_key,
    feed_key,
    intake_key,
    media_key,
    settings_key,
    sio_key,
    staff_csrf_key,
    staff_namespaces_key,
    store_key,
    viewer_ids_key,
    watch_key,
)
from .media import Media
from .moderator import ChairNamespace, ModeratorNamespace, StaffNamespace
from .notify_pages import setup_notify
from .officer_intake_pages import setup_officer_intake
from .pages import setup_pages
from .privacy_tasks import setup_privacy
from .publication_pages import setup_publication
from .recording_api import setup_recording
from .report_pages import routes as report_routes
from .security import origin_allowed
from .session_watch import SessionWatch, room
from .socket_limits import GuardedServer, OutboxLimits
from .staff_pages import setup_staff
from .stream_api import setup_stream
from .viewer import ViewerNamespace

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


class Utf8Json:
    """python-socketio's JSON without \\uXXXX escapes: Vietnamese text goes out as UTF-8, about a
    third of the bytes in every broadcast to thousands of viewers."""

    @staticmethod
    def dumps(obj: Any, **kwargs: Any) -> str:
        return json.dumps(obj, ensure_ascii=False, **kwargs)

    loads = staticmethod(api.parse_json)  # no lone surrogates in what any handler reads


class IntakeServer(GuardedServer):
    """python-socketio's server with one fast path: `submit_question`, the event that comes by the
    thousand, is validated and queued for the writer at once, and its ack is sent from the writer's
    reply after COMMIT. python-socketio would start a task for every event, and that task would
    wait for the COMMIT and wake again to send the ack; here the acks a COMMIT settles go out from
    one task. Everything else, and a question whose session must first be read, goes the usual way."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._acks: deque[tuple[str, Any]] = deque()
        self._sending: asyncio.Task[None] | None = None

    async def _handle_event(self, eio_sid: str, namespace: str | None, id: int | None, data: list[Any]) -> None:
        if namespace == "/viewer" and id is not None and data and data[0] == "submit_question":
            viewers = self.namespace_handlers.get("/viewer")
            sid = self.manager.sid_from_eio_sid(eio_sid, namespace)
            if (sid is not None and isinstance(viewers, ViewerNamespace) and self.manager.is_connected(sid, namespace)
                    and viewers.submit_soon(sid, tuple(data[1:]), functools.partial(self._ack, eio_sid, id))):
                return
        await super()._handle_event(eio_sid, namespace, id, data)

    def _ack(self, eio_sid: str, id: int, body: dict[str, Any]) -> None:
        self._acks.append((eio_sid, self.packet_class(packet.ACK, namespace="/viewer", id=id, data=[body])))
        if self._sending is None:
            self._sending = asyncio.create_task(self._send_acks())

    async def _send_acks(self) -> None:
        try:
            while self._acks:
                eio_sid, ack = self._acks.popleft()
                await self._send_packet(eio_sid, ack)  # a client that has gone is skipped by engine.io
        finally:
            self._sending = None
            if self._acks:  # one came in while the last send was finishing
                self._sending = asyncio.create_task(self._send_acks())


def create_app(settings: Settings) -> web.Application:
    settings.ensure_data_dir()
    quiet_malformed_http()
    app = web.Application(middlewares=[api.cors, api.domain_errors], client_max_size=1024 * 1024)
    app[settings_key] = settings
    trusted = settings.trusted_networks()

    def cors_check(origin: str | None, environ: dict[str, object]) -> bool:
        request = environ["aiohttp.request"]
        assert isinstance(request, web.BaseRequest)
        return origin_allowed(request, settings.allowed_origins, trusted)

    sio = IntakeServer(
        async_mode="aiohttp",
        cors_allowed_origins=cors_check,
        # Engine.IO drops a larger frame by closing the connection, which a viewer's outbox would
        # answer by resending forever; up to this size the intake's own 16 KiB limit answers with a
        # too_large ack instead, which the outbox treats as final.
        max_http_buffer_size=256 * 1024,
        # what may wait to be sent to one client before it is dropped (server/socket_limits.py)
        outbox=OutboxLimits(settings.socket_outbox_messages, settings.socket_outbox_bytes),
        logger=False,
        engineio_logger=False,
        json=Utf8Json,
    )
    sio.attach(app)
    app[sio_key] = sio

    app.add_routes(api.routes)
    app.add_routes(staff_api.routes)
    app.add_routes(blocks_api.routes)
    setup_pages(app, settings.secret_key)
    setup_forum(app)  # the standing forum's pages: /forum (and /s/{id} of a forum, through pages.py)
    app[staff_csrf_key] = StaffCsrf(settings.secret_key)
    setup_staff(app)
    setup_officer_intake(app)  # questions received by phone, e-mail, letter or in person
    setup_calendar_pages(app)  # the working-day calendar and the deadline lists
    setup_answer_pages(app)  # the departments' answers, the head's approvals, the answers' files
    app.add_routes(report_routes)  # reports for a period: /staff/reports and /api/v1/staff/reports
    if settings.media:
        capabilities.require()  # a clear message at start-up, not a worker that dies in a loop
    setup_stream(app)
    setup_hls_origin(app)  # /live/...: the HLS playlists and media files
    app.router.add_static("/static/", STATIC_DIR, append_version=True)
    app.cleanup_ctx.append(_store_ctx)
    setup_privacy(app)  # privacy: /q/{receipt}/privacy, /staff/privacy and the daily retention job (after the store)
    setup_notify(app)  # notify: /staff/outbox and the sender loop (after the store opens, before it closes)
    setup_recording(app)  # the recording's status and its finalising/master jobs (after the store opens)
    setup_publication(app)  # the portal publication: the board's draft, the head's publish, the public archive
    # Disconnect Socket.IO clients as shutdown begins: aiohttp would otherwise wait for their open
    # websockets (tens of seconds) before cleanup runs. Queued writes still finish in cleanup.
    app.on_shutdown.append(_disconnect_clients)
    return app


async def _disconnect_clients(app: web.Application) -> None:
    await app[sio_key].shutdown()


async def _store_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[settings_key]
    store = await Store.open(settings.database_url, warm=True)
    sio = app[sio_key]
    watch = SessionWatch(store, sio, settings.session_poll_seconds)
    feed = BoardFeed(store, sio, watch)
    watch.on_changed_elsewhere = feed.changed_elsewhere
    media = _media(settings, sio) if settings.media else None

    async def session_changed(session: Session) -> None:
        await feed.session_changed(session)
        if media is not None:
            await media.session_changed(session)

    watch.on_session_changed = session_changed
    await watch.start()
    if media is not None:
        app[media_key] = media
        await media.start()
        for session in list(watch.sessions.values()):
            await media.session_changed(session)
    blocks = SenderBlocks(store, SenderKey(settings.secret_key), settings.session_poll_seconds)
    await blocks.start()
    intake = Intake(settings, store, watch, feed, blocks)
    viewers = ViewerNamespace(settings, intake, watch, app[viewer_ids_key], feed)
    if media is not None:
        viewers.stream_state = media.state
    sio.register_namespace(viewers)
    accounts = Accounts(store)
    staff_namespaces: list[StaffNamespace] = [ModeratorNamespace(feed, accounts), ChairNamespace(feed, accounts)]
    for namespace in staff_namespaces:
        sio.register_namespace(namespace)
    app[store_key], app[watch_key], app[intake_key], app[feed_key] = store, watch, intake, feed
    app[accounts_key], app[staff_namespaces_key] = accounts, staff_namespaces
    app[blocks_key] = blocks
    sweeper = asyncio.create_task(_sweep_staff_sockets(staff_namespaces, settings.staff_recheck_seconds),
                                  name="staff-socket-sweep")
    log.info("store ready at %s", _safe_url(settings.database_url))
    yield
    sweeper.cancel()
    if media is not None:
        await media.stop()
    await watch.stop()
    await blocks.stop()
    await feed.close()
    await store.close()  # writes what is queued first


async def _sweep_staff_sockets(namespaces: list[StaffNamespace], every: float) -> None:
    """Close staff sockets whose sign-in ended elsewhere: expired, signed out on another node,
    revoked or disabled from the command line (StaffNamespace.sweep)."""
    while True:
        await asyncio.sleep(every)
        await StaffNamespace.sweep_all(namespaces)


def _media(settings: Settings, sio: socketio.AsyncServer) -> Media:
    async def announce(session_id: int, state: str) -> None:
        await sio.emit("stream_state", {"session_id": session_id, "state": state}, room=room(session_id),
                       namespace="/viewer")

    args = ["--width", str(settings.video_width), "--height", str(settings.video_height),
            "--bitrate", str(settings.video_bitrate), "--dvr-segments", str(settings.hls_dvr_minutes * 60),
            "--ladder", settings.video_ladder, "--nice", str(settings.media_worker_nice),
            "--log-level", settings.log_level, "--max-viewers", str(settings.whep_max_viewers),
            "--connect-seconds", str(settings.whep_connect_seconds),
            *(["--ice-public-ip", settings.ice_public_ip] if settings.ice_public_ip else []),
            *(["--ice-stun", settings.ice_stun_url] if settings.ice_stun_url else []),
            *(arg for url in settings.ice_turn_urls for arg in ("--ice-turn", url)),
            *(["--ice-turn-username", settings.ice_turn_username] if settings.ice_turn_username else []),
            *([] if settings.ice_loopback else ["--no-ice-loopback"]),
            *(arg for entry in settings.feed_allowed_networks for arg in ("--feed-allow", entry))]
    if settings.recording:
        args += ["--recordings", str(settings.recordings_path.resolve()),
                 "--recording-start-mb", str(settings.recording_start_free_mb),
                 "--recording-warn-mb", str(settings.recording_warn_free_mb),
                 "--recording-floor-mb", str(settings.recording_floor_free_mb)]
        if settings.recording_fsync:
            args.append("--recording-fsync")
    # the TURN credential by environment: a command line is visible to every user of the machine
    return Media(settings.data_dir, args, announce, {"DOITHOAI_ICE_TURN_CREDENTIAL": settings.ice_turn_credential})


def _safe_url(url: str) -> str:
    """Database URLs may carry a password; never log it."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
