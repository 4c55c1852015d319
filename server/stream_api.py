"""Live video over HTTP (docs/video.md): WHIP ingest, WHEP playback and the feed
settings. Offers and answers are passed to the media worker (server/media.py). The HLS origin is
server/hls_origin.py.

Tokens: a session's publish token (WHIP) and watch token (WHEP) are HMACs of its id under the
server's secret, so staff see them at any time without the server storing them."""

from __future__ import annotations

import hmac
import logging
from typing import Any

from aiohttp import web

from moderation.board import Board
from moderation.errors import DomainError, Unauthorized, ValidationError
from moderation.roles import BOARD
from stream.control import MediaError
from stream.feed_policy import FeedPolicy

from .api import json_response, path_id, public_session, read_json
from .auth import bearer, require_staff
from .errors import HTTP_STATUS
from .keys import media_key, settings_key, store_key, watch_key
from .media import NO_PUBLISHER, Media, stream_status
from .security import _Signer

routes = web.RouteTableDef()
log = logging.getLogger(__name__)

SDP = "application/sdp"
MAX_SDP_BYTES = 64 * 1024
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    # If-Match: what a trickle-ICE PATCH carries (RFC 9725 §4.3.1), so a browser gets as far as the 405
    "Access-Control-Allow-Headers": "Authorization, Content-Type, If-Match",
    "Access-Control-Expose-Headers": "Location, Link, Allow",
    "Access-Control-Max-Age": "600",
}
# on the endpoint and the resources alike: a browser preflights PATCH before it may see our 405
PREFLIGHT_METHODS = "POST, DELETE, PATCH, OPTIONS"
RESOURCE_METHODS = "DELETE, OPTIONS"  # Allow: on a PATCH's 405
# the worker's refusals, as HTTP statuses
MEDIA_STATUS = {"bad_sdp": 400, "off": 409, "feed_not_whip": 409, "full": 503, "not_found": 404,
                "unavailable": 503, "timeout": 504, "no_trickle": 405}


class StreamTokens(_Signer):
    purpose = "stream"
    length = 32

    def publish(self, session_id: int) -> str:
        return self._sign(f"publish:{session_id}")

    def watch(self, session_id: int) -> str:
        return self._sign(f"watch:{session_id}")


stream_tokens_key = web.AppKey("stream_tokens", StreamTokens)


def stream_links(request: web.Request, session_id: int) -> dict[str, Any]:
    """What staff see: where to publish and watch, with the tokens."""
    tokens = request.app[stream_tokens_key]
    base = f"{request.scheme}://{request.host}"
    return {
        "whip_url": f"{base}/whip/{session_id}",
        "publish_token": tokens.publish(session_id),
        "whep_url": f"{base}/whep/{session_id}",
        "watch_token": tokens.watch(session_id),
        "hls_url": f"{base}/live/{session_id}/index.m3u8",
    }


def _media(request: web.Request) -> Media:
    media = request.app.get(media_key)
    if media is None:  # `serve --no-media`
        raise MediaError("unavailable", "this server runs without live video (--no-media)")
    return media


def _media_error(err: MediaError) -> web.Response:
    response = json_response({"ok": False, "error": {"code": err.code, "message": err.message}},
                             status=MEDIA_STATUS.get(err.code, 500))
    response.headers.update(CORS_HEADERS)
    return response


def _sdp_response(answer: str, location: str) -> web.Response:
    response = web.Response(status=201, text=answer, content_type=SDP)
    response.headers["Location"] = location
    response.headers.update(CORS_HEADERS)
    return response


async def _read_sdp(request: web.Request) -> str:
    if request.content_type != SDP:
        raise ValidationError("sdp_content_type", field=None)
    raw = await request.content.read(MAX_SDP_BYTES + 1)
    if len(raw) > MAX_SDP_BYTES:
        raise ValidationError("too_large", field=None, limit=MAX_SDP_BYTES)
    try:
        return raw.decode()
    except UnicodeDecodeError:
        raise ValidationError("bad_sdp", field=None) from None


def _token_ok(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given, expected)


def _may_publish(request: web.Request, session_id: int) -> None:
    if not _token_ok(bearer(request), request.app[stream_tokens_key].publish(session_id)):
        raise Unauthorized("unauthorized")


async def _may_watch(request: web.Request, session_id: int) -> None:
    """The watch token, or a staff member (API token, or a signed-in browser with its CSRF token:
    an offer is a state-changing POST that another site could otherwise make in an officer's name)."""
    if _token_ok(bearer(request), request.app[stream_tokens_key].watch(session_id)):
        return
    await require_staff(request)


def _preflight(methods: str) -> web.Response:
    response = web.Response(status=204)
    response.headers.update(CORS_HEADERS)
    response.headers["Access-Control-Allow-Methods"] = methods
    return response


# -- WHIP ----------------------------------------------------------------------------------------

@routes.route("OPTIONS", "/whip/{session_id}")
@routes.route("OPTIONS", "/whip/{session_id}/{resource}")
async def whip_preflight(request: web.Request) -> web.Response:
    return _preflight(PREFLIGHT_METHODS)


@routes.post("/whip/{session_id}")
async def whip_publish(request: web.Request) -> web.Response:
    session_id = path_id(request, "session_id")
    try:
        _may_publish(request, session_id)
    except Unauthorized:
        _refused(request, "whip", session_id, 401, "unauthorized", "missing or wrong publish token")
        raise
    return await _offer(request, "publish", session_id, "whip")


def _refused(request: web.Request, kind: str, session_id: int, status: int, code: str, message: str) -> None:
    """A refused offer: one line in the log (no token, no address), and for WHIP the reason on the
    console, where the studio looks when its publish does not go live."""
    who = "WHIP publish" if kind == "whip" else "WHEP viewer"
    log.warning("session %s: %s refused (%s %s): %s", session_id, who, status, code, message)
    media = request.app.get(media_key)
    if kind == "whip" and media is not None:
        media.publisher_changed(session_id, "refused", f"{status} {code}: {message}")


@routes.delete("/whip/{session_id}/{resource}")
async def whip_stop(request: web.Request) -> web.Response:
    session_id = path_id(request, "session_id")
    _may_publish(request, session_id)
    return await _hang_up(request, "unpublish", session_id)


async def _offer(request: web.Request, op: str, session_id: int, kind: str) -> web.Response:
    """The offer to the worker, its answer back with the new resource's URL (WHIP and WHEP alike)."""
    try:
        sdp = await _read_sdp(request)
    except DomainError as err:
        _refused(request, kind, session_id, HTTP_STATUS.get(err.code, 400), err.code,
                 f"the offer is not an SDP body ({err.reason})")
        raise
    try:
        reply = await _media(request).request(op, session=session_id, sdp=sdp)
    except MediaError as err:
        _refused(request, kind, session_id, MEDIA_STATUS.get(err.code, 500), err.code, err.message)
        return _media_error(err)
    return _sdp_response(reply["sdp"], f"/{kind}/{session_id}/{reply['resource']}")


async def _hang_up(request: web.Request, op: str, session_id: int) -> web.Response:
    try:
        await _media(request).request(op, session=session_id, resource=request.match_info["resource"])
    except MediaError as err:
        return _media_error(err)
    return web.Response(status=200, headers=CORS_HEADERS)


@routes.patch("/whip/{session_id}/{resource}")
@routes.patch("/whep/{session_id}/{resource}")
async def no_trickle(request: web.Request) -> web.Response:
    """Trickle ICE and ICE restarts are not offered (RFC 9725 §4.3.1 lets a server answer 405): our
    answer carries every candidate we have, and the encoders we serve put theirs in the offer. A
    client whose network changed publishes again (a new POST replaces the old publisher)."""
    response = _media_error(MediaError("no_trickle", "trickle ICE is not offered: put every candidate in the offer"))
    response.headers["Allow"] = RESOURCE_METHODS
    return response


# -- WHEP ----------------------------------------------------------------------------------------

@routes.route("OPTIONS", "/whep/{session_id}")
@routes.route("OPTIONS", "/whep/{session_id}/{resource}")
async def whep_preflight(request: web.Request) -> web.Response:
    return _preflight(PREFLIGHT_METHODS)


@routes.post("/whep/{session_id}")
async def whep_watch(request: web.Request) -> web.Response:
    session_id = path_id(request, "session_id")
    try:
        await _may_watch(request, session_id)
    except DomainError as err:
        _refused(request, "whep", session_id, HTTP_STATUS.get(err.code, 400), err.code,
                 f"no watch token or staff sign-in accepted ({err.reason})")
        raise
    return await _offer(request, "watch", session_id, "whep")


@routes.delete("/whep/{session_id}/{resource}")
async def whep_stop(request: web.Request) -> web.Response:
    # the resource id (128 random bits) is the viewer's own secret: no token needed to hang up
    return await _hang_up(request, "unwatch", path_id(request, "session_id"))


# -- state and feed settings ---------------------------------------------------------------------

def stream_state(request: web.Request, session_id: int) -> dict[str, Any]:
    media = request.app.get(media_key)
    return stream_status(session_id, media.state(session_id) if media else "off")


@routes.get("/api/v1/sessions/{session_id}/stream")
async def public_stream(request: web.Request) -> web.Response:
    session = await public_session(request)
    return json_response(stream_state(request, session.id))


async def _staff_stream(request: web.Request, session_id: int) -> dict[str, Any]:
    session = await request.app[watch_key].get(session_id)
    media = request.app.get(media_key)
    recording = media.recording(session_id) if media else {"state": "off", "message": ""}
    publisher = media.publisher(session_id) if media else dict(NO_PUBLISHER)
    return {**stream_state(request, session_id), **stream_links(request, session_id),
            "feed": session.feed, "url": session.feed_url, "recording": recording, "publisher": publisher}


@routes.get("/api/v1/staff/sessions/{session_id}/stream")
async def staff_stream(request: web.Request) -> web.Response:
    await require_staff(request, BOARD)
    return json_response(await _staff_stream(request, path_id(request, "session_id")))


@routes.put("/api/v1/staff/sessions/{session_id}/stream")
async def set_feed(request: web.Request) -> web.Response:
    actor = await require_staff(request, BOARD)
    session_id = path_id(request, "session_id")
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ValidationError("not_an_object")
    await Board(request.app[store_key]).set_feed(session_id, body.get("feed"), body.get("url"), actor,
                                                 request.app[feed_policy_key])
    await request.app[watch_key].announce_sessions()  # the media worker follows at once
    return json_response(await _staff_stream(request, session_id))


feed_policy_key = web.AppKey("feed_policy", FeedPolicy)


def setup_stream(app: web.Application) -> None:
    app[feed_policy_key] = FeedPolicy(app[settings_key].feed_allowed_networks)
    app[stream_tokens_key] = StreamTokens(app[settings_key].secret_key)
    app.add_routes(routes)
