"""The HLS origin (docs/video.md "HTTP"): each session's multivariant playlist and, per rendition,
its media playlists, initialisation section, segments and parts, served from the media worker's
live folder (stream/hls/__init__.py) so that a CDN or caching proxy can sit in front.

Low-latency HLS (draft-pantos-hls-rfc8216bis §6.2.5.2): a media playlist asked for with `_HLS_msn`
(and `_HLS_part`) is held until it holds that segment (or part), and a part or segment asked for
just ahead of the live edge (the preload hint) is held until it is written. The live edge is read
from the playlist the segmenter writes (its last lines), not from the folder's listing: the
segmenter renames a part into place before the playlist that names it, so a listed part exists.

One watcher per playlist file stats it every POLL_SECONDS, only while some request waits on it, and
parses it again only when it changed; a waiting request costs a future, not a loop."""

from __future__ import annotations

import asyncio
import gzip
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from moderation.errors import NotFound, ValidationError
from stream.hls.rendition import RENDITIONS

from .api import json_response, path_id, request_lang
from .files import FileResponse
from .i18n import message
from .keys import settings_key

routes = web.RouteTableDef()

PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
# video/mp4, not CMAF's video/iso.segment: hls.js reads the bytes whatever the type, Safari and
# FFmpeg take video/mp4, and CDNs' compression and caching rules know it
MEDIA_TYPE = "video/mp4"
SEGMENT = re.compile(r"(\d{1,18})\.m4s")  # names are matched whole (fullmatch: no "\n" after "$")
PART = re.compile(r"(\d{1,18})\.(\d{1,4})\.m4s")
NUMBER = re.compile(r"\d{1,18}")
GZIP_FROM = 256  # bytes: smaller playlists go as they are
POLL_SECONDS = 0.02
MAX_WAITING = 1000  # held requests per session; a flood beyond it gets 503 at once
HOLD_TARGETS = 3  # a held request is answered within three target durations (§6.2.5.2)

PLAYLIST_CACHE = "public, max-age=1"  # players reload every part or segment; a CDN may hold it a second
# a blocking answer contains what its query asked for, whenever it is served: a CDN may keep it
# (keyed on the whole URL, query included) for a few seconds and answer the next viewers with it
BLOCKING_CACHE = "public, max-age=3"
IMMUTABLE = "public, max-age=31536000, immutable"  # numbers go on across restarts: never reused
# init.mp4 keeps its name across worker and server restarts while its bytes may change (another
# ladder, another encoder): kept by caches, but checked with them (ETag/Last-Modified) each time
INIT_CACHE = "public, no-cache"
NO_STORE = "no-store"
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "Age, Date"}


@dataclass(frozen=True)
class Edge:
    """A media playlist's live edge, read from its lines (the interface of stream/hls/segmenter.py)."""

    first: int  # EXT-X-MEDIA-SEQUENCE
    last: int  # the last whole segment (first - 1 when there is none)
    parts: dict[int, int]  # parts listed per segment, the one in progress (last + 1) included
    target: int  # EXT-X-TARGETDURATION
    part_target: float | None  # EXT-X-PART-INF:PART-TARGET
    ended: bool  # EXT-X-ENDLIST: nothing more will come

    @classmethod
    def read(cls, text: str) -> Edge:
        first, target, part_target, ended = 0, 1, None, False
        msn, pending, parts = None, 0, {}
        for line in text.splitlines():
            if line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
                first = int(line.partition(":")[2])
            elif line.startswith("#EXT-X-TARGETDURATION:"):
                target = int(line.partition(":")[2])
            elif line.startswith("#EXT-X-PART-INF:"):
                match = re.search(r"PART-TARGET=([\d.]+)", line)
                part_target = float(match.group(1)) if match else None
            elif line.startswith("#EXT-X-PART:"):
                pending += 1
            elif line.startswith("#EXT-X-ENDLIST"):
                ended = True
            elif line and not line.startswith("#"):  # a segment's URI closes its parts
                msn = first if msn is None else msn + 1
                parts[msn] = pending
                pending = 0
        last = first - 1 if msn is None else msn
        if pending:
            parts[last + 1] = pending
        return cls(first, last, parts, max(target, 1), part_target, ended)

    @property
    def advance_part_limit(self) -> int:
        """How many parts past the last one a client may ask for (§6.2.5.2)."""
        if self.part_target is None or self.part_target >= 1:
            return 3
        return math.ceil(3 / self.part_target)

    def has(self, msn: int, part: int | None = None) -> bool:
        """Whether the playlist holds segment `msn` (whole), or part `part` of it."""
        if part is None:
            return msn <= self.last
        if msn <= self.last:
            listed = self.parts.get(msn, 0)
            # a part past the last one of a whole segment is part 0 of the next (§6.2.5.2);
            # a segment listed without parts is older than the parts window: there, it is enough
            return part < listed or listed == 0 or self.has(msn + 1, 0)
        return msn == self.last + 1 and part < self.parts.get(msn, 0)

    def too_far(self, msn: int, part: int | None) -> str | None:
        """The parameter of a request beyond what the spec lets a client ask for, if any."""
        if msn > self.last + 2:
            return "_HLS_msn"
        if part is not None and msn > self.last:
            have = self.parts.get(self.last + 1, 0) if msn == self.last + 1 else 0
            if part - have >= self.advance_part_limit:
                return "_HLS_part"
        return None


class Version:
    """One version of a playlist file: its bytes, and (made when first asked for) its edge and
    its gzip encoding, so a thousand viewers reloading it cost one parse and one compression."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self._edge: Edge | None = None
        self._gzip: bytes | None = None

    @property
    def edge(self) -> Edge:
        if self._edge is None:
            self._edge = Edge.read(self.body.decode("utf-8", "replace"))
        return self._edge

    @property
    def gzip(self) -> bytes:
        if self._gzip is None:
            self._gzip = gzip.compress(self.body, compresslevel=6, mtime=0)
        return self._gzip


class PlaylistFile:
    """A playlist file, read again only when its stat changed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stat: tuple[int, int, int, int] | None = None
        self._version = Version(b"")

    def current(self) -> Version:
        """The playlist as it is now (FileNotFoundError: none yet)."""
        stat = self.path.stat()
        # renamed into place each time: a new inode, but inode numbers are reused, so all four
        key = (stat.st_ino, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_size)
        if key != self._stat:
            self._version, self._stat = Version(self.path.read_bytes()), key
        return self._version


class PlaylistWatch(PlaylistFile):
    """A live media playlist, and the requests waiting for its edge to move."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._waiting: list[tuple[Callable[[Edge], bool], asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    async def until(self, ready: Callable[[Edge], bool], timeout: float) -> bool:  # noqa: ASYNC109
        """Wait until `ready(edge)` or the playlist ends; False after `timeout` seconds."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (ready, future)
        self._waiting.append(entry)
        if self._task is None:
            self._task = asyncio.create_task(self._watch(), name=f"hls watch {self.path}")
        try:
            async with asyncio.timeout(timeout):
                await future
            return True
        except TimeoutError:
            return False
        finally:
            self._waiting.remove(entry)

    async def _watch(self) -> None:
        try:
            while self._waiting:
                await asyncio.sleep(POLL_SECONDS)
                try:
                    edge = self.current().edge
                except FileNotFoundError:
                    continue  # between runs of the worker: it comes back
                for ready, future in self._waiting:
                    if not future.done() and (edge.ended or ready(edge)):
                        future.set_result(None)
        finally:
            self._task = None

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()


class Origin:
    """The watchers of every live playlist, and the count of held requests per session."""

    def __init__(self, live: Path) -> None:
        self.live = live
        self._watches: dict[Path, PlaylistWatch] = {}
        self._files: dict[Path, PlaylistFile] = {}
        self._held: dict[int, int] = {}

    def folder(self, session_id: int, rendition: str | None = None) -> Path:
        # both parts come from fixed sets (a number, a name in RENDITIONS): never outside `live`
        base = self.live / str(session_id)
        return base if rendition is None else base / RENDITIONS[rendition].name

    def watch(self, session_id: int, rendition: str) -> PlaylistWatch:
        path = self.folder(session_id, rendition) / "index.m3u8"
        watch = self._watches.get(path)
        if watch is None:
            watch = self._watches[path] = PlaylistWatch(path)
        return watch

    def playlist(self, path: Path) -> Version:
        """A playlist that nobody waits on (multivariant, DVR), from its cache."""
        file = self._files.get(path)
        if file is None:
            file = self._files[path] = PlaylistFile(path)
        return file.current()

    def held(self, session_id: int) -> int:
        return self._held.get(session_id, 0)

    async def hold(self, session_id: int, watch: PlaylistWatch, ready: Callable[[Edge], bool],
                   timeout: float) -> bool:  # noqa: ASYNC109
        if self.held(session_id) >= MAX_WAITING:
            raise Busy()
        self._held[session_id] = self.held(session_id) + 1
        try:
            return await watch.until(ready, timeout)
        finally:
            self._held[session_id] -= 1
            if not self._held[session_id]:
                del self._held[session_id]

    def close(self) -> None:
        for watch in self._watches.values():
            watch.stop()


class Busy(Exception):
    """Too many requests of one session held at once."""


origin_key = web.AppKey("hls_origin", Origin)


def _refusal(request: web.Request, status: int, reason: str, field: str | None = None,
             **params: Any) -> web.Response:
    """The 503s of the origin (not domain errors: the stream is fine, the moment is not)."""
    body = {"ok": False, "error": {"code": "unavailable", "field": field,
                                   "message": message(reason, request_lang(request), field, **params)}}
    response = json_response(body, status=status)
    response.headers.update({**CORS, "Cache-Control": NO_STORE, "Retry-After": "1"})
    return response


def _rendition(request: web.Request) -> str:
    name = request.match_info["rendition"]
    if name not in RENDITIONS:
        raise NotFound("hls_no_rendition", field="rendition", names=", ".join(RENDITIONS))
    return name


def _playlist(request: web.Request, version: Version, cache: str) -> web.Response:
    # compressed once per version for every client that asks for gzip (browsers; FFmpeg does not): a
    # live playlist of 2.2 kB goes out as about 0.4 kB, five times a second to every LL-HLS viewer
    headers = {**CORS, "Cache-Control": cache, "Vary": "Accept-Encoding"}
    body = version.body
    if len(body) > GZIP_FROM and "gzip" in request.headers.get("Accept-Encoding", ""):
        body, headers["Content-Encoding"] = version.gzip, "gzip"
    return web.Response(body=body, content_type=PLAYLIST_TYPE, headers=headers)


def _file(path: Path, cache: str) -> web.StreamResponse:
    if not path.is_file():
        raise NotFound("stream_not_found", field="segment")
    return _media_response(path, cache)


def _media_response(path: Path, cache: str) -> web.StreamResponse:
    """A file known to be there (init, segment, part)."""
    return FileResponse(path, headers={**CORS, "Content-Type": MEDIA_TYPE, "Cache-Control": cache})


def _number(request: web.Request, name: str) -> int | None:
    value = request.query.get(name)
    if value is None:
        return None
    if not NUMBER.fullmatch(value):
        raise ValidationError("hls_bad_directive", field=name)
    return int(value)


@routes.get("/live/{session_id}/index.m3u8")
async def multivariant(request: web.Request) -> web.Response:
    origin = request.app[origin_key]
    try:
        return _playlist(request, origin.playlist(origin.folder(path_id(request, "session_id")) / "index.m3u8"),
                         PLAYLIST_CACHE)
    except FileNotFoundError:
        raise NotFound("stream_not_found", field="session_id") from None


@routes.get("/live/{session_id}/{rendition}/index.m3u8")
async def media_playlist(request: web.Request) -> web.Response:
    session_id, rendition = path_id(request, "session_id"), _rendition(request)
    msn, part = _number(request, "_HLS_msn"), _number(request, "_HLS_part")
    if part is not None and msn is None:
        raise ValidationError("hls_part_without_msn", field="_HLS_part")
    origin = request.app[origin_key]
    watch = origin.watch(session_id, rendition)
    try:
        version = watch.current()
    except FileNotFoundError:
        raise NotFound("stream_not_found", field="session_id") from None
    if msn is None:
        return _playlist(request, version, PLAYLIST_CACHE)
    edge = version.edge
    if not edge.ended and not edge.has(msn, part):
        # the parameter that asks too far ahead, if any; each named where it is raised, so that
        # tests/test_cli.py's scan of raise sites finds its label
        beyond = edge.too_far(msn, part)
        if beyond == "_HLS_msn":
            raise ValidationError("hls_too_far", field="_HLS_msn", last=edge.last)
        if beyond == "_HLS_part":
            raise ValidationError("hls_too_far", field="_HLS_part", last=edge.last)
        try:
            if not await origin.hold(session_id, watch, lambda e: e.has(msn, part), HOLD_TARGETS * edge.target):
                return _refusal(request, 503, "hls_not_yet", "_HLS_msn")
        except Busy:
            return _refusal(request, 503, "hls_busy")
        try:
            version = watch.current()
        except FileNotFoundError:
            raise NotFound("stream_not_found", field="session_id") from None
    return _playlist(request, version, BLOCKING_CACHE)


@routes.get("/live/{session_id}/{rendition}/dvr.m3u8")
async def dvr_playlist(request: web.Request) -> web.Response:
    origin = request.app[origin_key]
    path = origin.folder(path_id(request, "session_id"), _rendition(request)) / "dvr.m3u8"
    try:
        return _playlist(request, origin.playlist(path), PLAYLIST_CACHE)
    except FileNotFoundError:
        raise NotFound("stream_not_found", field="session_id") from None


@routes.get("/live/{session_id}/{rendition}/init.mp4")
async def init_section(request: web.Request) -> web.StreamResponse:
    folder = request.app[origin_key].folder(path_id(request, "session_id"), _rendition(request))
    return _file(folder / "init.mp4", INIT_CACHE)


@routes.get("/live/{session_id}/{rendition}/{name}")
async def media_file(request: web.Request) -> web.StreamResponse:
    """A segment `<msn>.m4s` or a part `<msn>.<part>.m4s`; one just ahead of the edge is held
    until the segmenter has written it (players fetch the preload hint before it exists)."""
    session_id, rendition = path_id(request, "session_id"), _rendition(request)
    name = request.match_info["name"]
    whole, piece = SEGMENT.fullmatch(name), PART.fullmatch(name)
    if whole:
        msn, part = int(whole.group(1)), None
    elif piece:
        msn, part = int(piece.group(1)), int(piece.group(2))
    else:
        raise NotFound("stream_not_found", field="segment")
    origin = request.app[origin_key]
    path = origin.folder(session_id, rendition) / name
    if path.is_file():
        return _media_response(path, IMMUTABLE)
    watch = origin.watch(session_id, rendition)
    try:
        edge = watch.current().edge
    except FileNotFoundError:
        raise NotFound("stream_not_found", field="segment") from None

    def written(e: Edge) -> bool:
        if part is None:
            return e.has(msn)
        # listed, or never to be: its segment ended before it (the hint pointed past the end)
        return (msn == e.last + 1 and part < e.parts.get(msn, 0)) or msn <= e.last

    # only what comes next is waited for; what is behind the edge and missing is gone
    if edge.ended or written(edge) or edge.too_far(msn, part) is not None:
        raise NotFound("stream_not_found", field="segment")
    try:
        await origin.hold(session_id, watch, written, HOLD_TARGETS * edge.target)
    except Busy:
        return _refusal(request, 503, "hls_busy")
    return _file(path, IMMUTABLE)


async def _close_origin(app: web.Application) -> None:
    app[origin_key].close()


def setup_hls_origin(app: web.Application) -> None:
    app[origin_key] = Origin(app[settings_key].data_dir / "live")
    app.on_shutdown.append(_close_origin)
    app.add_routes(routes)
