"""The HLS origin (server/hls_origin.py, docs/video.md "HTTP") and the live stream's conformance.

The origin's own rules (blocking reload, held parts, names, caching) are tested against a
rendition folder that the test writes itself, in the segmenter's format and write order, so the
test decides when the live edge moves. The conformance of the real stream (RFC 8216, LL-HLS)
is tested end to end on a real server with its media worker: hundreds of reloads checked by
tests/hls_rules.py (the `m3u8` parser plus the RFC's rules), across a worker SIGKILL and a server
restart, and Debian's FFmpeg playing the stream."""

from __future__ import annotations

import asyncio
import os
import re
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from yarl import URL

from server import hls_origin
from server.hls_origin import Edge, origin_key
from tests.conftest import RunningServer, ServerProcess, live_session_with_test_card, wait_for
from tests.hls_rules import PDT_SLACK, Broken, LiveRules, Segment, check_multivariant, read_media
from tests.test_video import Studio, studio  # noqa: F401  (the fixture: a live session with video)

SESSION = 7


class LiveFolder:
    """A rendition's folder as stream/hls/segmenter.py writes it: a part file, the segment when
    whole, then the playlist, each renamed into place. Segments of five 0.2 s parts."""

    def __init__(self, root: Path, rendition: str = "720p", first: int = 10, number: int = 0) -> None:
        self.folder = root / "live" / str(SESSION) / rendition
        self.folder.mkdir(parents=True, exist_ok=True)
        self.first, self.number = first, number
        self.whole: list[list[str]] = []  # parts of each whole segment
        self.open: list[str] = []  # parts of the segment in progress
        self.ended = False
        (self.folder / "init.mp4").write_bytes(b"init")

    @property
    def next_msn(self) -> int:
        return self.first + len(self.whole)

    def _put(self, name: str, data: bytes) -> None:
        tmp = self.folder / f".{name}.tmp"
        tmp.write_bytes(data)
        tmp.rename(self.folder / name)

    def add_part(self) -> str:
        name = f"{self.next_msn}.{len(self.open)}.m4s"
        self._put(name, name.encode())
        self.open.append(name)
        self.write_playlist()
        return name

    def end_segment(self) -> str:
        name = f"{self.next_msn}.m4s"
        self._put(name, name.encode())
        self.whole.append(self.open)
        self.open = []
        self.write_playlist()
        return name

    def add_segments(self, count: int) -> None:
        for _ in range(count):
            for _ in range(5):
                self.add_part()
            self.end_segment()

    def end(self) -> None:
        self.ended = True
        self.write_playlist()

    def write_playlist(self) -> None:
        lines = ["#EXTM3U", "#EXT-X-VERSION:9", "#EXT-X-TARGETDURATION:1",
                 "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.600",
                 "#EXT-X-PART-INF:PART-TARGET=0.200", f"#EXT-X-MEDIA-SEQUENCE:{self.first}",
                 f"#EXT-X-DISCONTINUITY-SEQUENCE:{self.number}", "#EXT-X-INDEPENDENT-SEGMENTS",
                 '#EXT-X-MAP:URI="init.mp4"']
        for index, parts in enumerate(self.whole):
            msn = self.first + index
            lines.append(f"#EXT-X-PROGRAM-DATE-TIME:2026-12-03T10:00:{index:02d}.000Z")
            lines += self._parts(parts)
            lines += [f"#EXTINF:{0.2 * len(parts):.3f},", f"{msn}.m4s"]
        lines += self._parts(self.open)
        if self.ended:
            lines.append("#EXT-X-ENDLIST")
        else:
            lines.append(f'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="{self.next_msn}.{len(self.open)}.m4s"')
        self._put("index.m3u8", ("\n".join(lines) + "\n").encode())

    @staticmethod
    def _parts(parts: list[str]) -> list[str]:
        return [f'#EXT-X-PART:DURATION=0.200,URI="{name}"' + (",INDEPENDENT=YES" if i == 0 else "")
                for i, name in enumerate(parts)]


class Origin:
    """Requests to the origin of a running server, and what it holds."""

    def __init__(self, server: RunningServer, http: aiohttp.ClientSession) -> None:
        self.server, self.http = server, http
        self.base = f"{server.url}/live/{SESSION}"

    async def get(self, path: str, **query: Any) -> tuple[int, bytes, Any]:
        async with self.http.get(self.base + path, params=query or None) as response:
            return response.status, await response.read(), response.headers

    async def error(self, path: str, **query: Any) -> tuple[int, dict[str, Any]]:
        async with self.http.get(self.base + path, params=query) as response:
            return response.status, await response.json()

    def held(self) -> int:
        return self.server.app[origin_key].held(SESSION)

    async def holding(self, path: str, **query: Any) -> asyncio.Task[tuple[int, bytes, Any]]:
        """A request the origin is holding (waited for until it is held, so the test knows)."""
        before = self.held()
        task = asyncio.create_task(self.get(path, **query))
        await wait_for(lambda: self.held() > before or task.done(), 10)
        assert not task.done(), f"{path} {query} was answered at once: {task.result()[:2]}"
        return task


@pytest.fixture
async def origin(start_server: Callable[..., Awaitable[RunningServer]], http: aiohttp.ClientSession) -> Origin:
    return Origin(await start_server(), http)


@pytest.fixture
def folder(origin: Origin) -> LiveFolder:
    live = LiveFolder(origin.server.settings.data_dir)
    live.add_segments(3)
    live.add_part()
    live.add_part()  # 10, 11, 12 whole; 13.0 and 13.1 written
    return live


def test_the_edge_is_read_from_the_playlist(tmp_path: Path) -> None:
    live = LiveFolder(tmp_path)
    live.add_segments(2)
    live.add_part()
    edge = Edge.read((live.folder / "index.m3u8").read_text())
    assert (edge.first, edge.last, edge.parts, edge.target, edge.part_target) == (10, 11, {10: 5, 11: 5, 12: 1}, 1, 0.2)
    assert edge.advance_part_limit == 15  # three seconds of parts of 0.2 s (§6.2.5.2)
    assert edge.has(11) and not edge.has(12)
    assert edge.has(12, 0) and not edge.has(12, 1)
    assert edge.has(11, 5) is True  # past the last part of 11 is part 0 of 12 (§6.2.5.2), which is there
    assert edge.has(10, 7)
    assert edge.too_far(13, None) is None and edge.too_far(14, None) == "_HLS_msn"
    assert edge.too_far(12, 15) is None and edge.too_far(12, 16) == "_HLS_part"


async def test_playlists_and_files_with_their_types_and_caching(origin: Origin, folder: LiveFolder) -> None:
    (folder.folder.parent / "index.m3u8").write_text("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n720p/index.m3u8\n")
    status, body, headers = await origin.get("/index.m3u8")
    assert status == 200 and body.startswith(b"#EXTM3U")
    assert headers["Content-Type"] == "application/vnd.apple.mpegurl"
    status, body, headers = await origin.get("/720p/index.m3u8")
    assert status == 200 and body == (folder.folder / "index.m3u8").read_bytes()
    assert headers["Content-Type"] == "application/vnd.apple.mpegurl"
    assert headers["Cache-Control"] == "public, max-age=1"
    assert headers["Access-Control-Allow-Origin"] == "*" and "Age" in headers["Access-Control-Expose-Headers"]
    # compressed for a client that takes gzip (aiohttp's, like browsers, asks for it), as it is otherwise
    assert headers["Content-Encoding"] == "gzip" and headers["Vary"] == "Accept-Encoding"
    async with origin.http.get(origin.base + "/720p/index.m3u8", headers={"Accept-Encoding": "identity"}) as r:
        assert "Content-Encoding" not in r.headers and await r.read() == body
    read_media(body.decode())  # the test's folder speaks the format the `m3u8` parser reads

    status, body, headers = await origin.get("/720p/12.m4s")
    assert (status, body, headers["Content-Type"]) == (200, b"12.m4s", "video/mp4")
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert headers["Access-Control-Allow-Origin"] == "*"
    status, body, headers = await origin.get("/720p/13.1.m4s")
    assert (status, body, headers["Cache-Control"]) == (200, b"13.1.m4s", "public, max-age=31536000, immutable")
    status, body, headers = await origin.get("/720p/init.mp4")
    assert (status, body, headers["Content-Type"]) == (200, b"init", "video/mp4")
    assert headers["Cache-Control"] == "public, no-cache" and headers["ETag"]  # the name outlives a restart
    async with origin.http.get(origin.base + "/720p/init.mp4", headers={"If-None-Match": headers["ETag"]}) as r:
        assert r.status == 304  # a cache checks it back cheaply

    (folder.folder / "dvr.m3u8").write_text("#EXTM3U\n")
    status, body, headers = await origin.get("/720p/dvr.m3u8")
    assert (status, body, headers["Cache-Control"]) == (200, b"#EXTM3U\n", "public, max-age=1")
    assert (await origin.get("/480p/index.m3u8"))[0] == 404  # a rendition of the ladder not on air


async def test_a_blocking_reload_waits_for_its_part(origin: Origin, folder: LiveFolder) -> None:
    # what is there already is answered at once
    for query in ({"_HLS_msn": "12"}, {"_HLS_msn": "13", "_HLS_part": "1"}, {"_HLS_msn": "11", "_HLS_part": "9"}):
        status, body, headers = await origin.get("/720p/index.m3u8", **query)
        assert status == 200 and headers["Cache-Control"] == "public, max-age=3"
    # the next part: held until the playlist names it
    waiting = await origin.holding("/720p/index.m3u8", _HLS_msn="13", _HLS_part="2")
    folder.add_part()
    status, body, headers = await waiting
    assert status == 200 and read_media(body.decode()).has(13, 2) and b'URI="13.2.m4s"' in body
    assert headers["Cache-Control"] == "public, max-age=3"  # a CDN may keep it, keyed on the query
    # the segment in progress, whole: held until its last part and EXTINF are in
    waiting = await origin.holding("/720p/index.m3u8", _HLS_msn="13")
    later = await origin.holding("/720p/index.m3u8", _HLS_msn="13", _HLS_part="4")
    folder.add_part()
    folder.add_part()
    assert (await later)[0] == 200  # the watcher has read both new parts...
    assert not waiting.done()  # ...and they do not make the segment whole
    folder.end_segment()
    status, body, _ = await waiting
    assert status == 200 and read_media(body.decode()).last == 13
    # a part past the last one of a whole segment is part 0 of the next (rfc8216bis §6.2.5.2):
    # what hls.js asks for when a segment just ended
    waiting = await origin.holding("/720p/index.m3u8", _HLS_msn="13", _HLS_part="5")
    folder.add_part()
    status, body, _ = await waiting
    assert status == 200 and read_media(body.decode()).has(14, 0)
    assert origin.held() == 0


async def test_many_held_requests_share_one_watcher(origin: Origin, folder: LiveFolder) -> None:
    held = [asyncio.create_task(origin.get("/720p/index.m3u8", _HLS_msn="13", _HLS_part="2")) for _ in range(50)]
    await wait_for(lambda: origin.held() == 50, 10)
    watchers = [t for t in asyncio.all_tasks() if t.get_name().startswith("hls watch")]
    assert len(watchers) == 1  # one stat loop for the playlist, not one per request
    folder.add_part()
    answers = [await task for task in held]
    assert {a[0] for a in answers} == {200} and len({a[1] for a in answers}) == 1
    await wait_for(lambda: not [t for t in asyncio.all_tasks() if t.get_name().startswith("hls watch")], 5)


async def test_blocking_reload_refusals(origin: Origin, folder: LiveFolder) -> None:
    # more than two segments past the last whole one (12): 400 at once (§6.2.5.2)
    status, body = await origin.error("/720p/index.m3u8", _HLS_msn="15")
    assert status == 400 and body["error"]["field"] == "_HLS_msn" and "12" in body["error"]["message"]
    # further than the Advance Part Limit (3 s of parts past the last part, 13.1)
    status, body = await origin.error("/720p/index.m3u8", _HLS_msn="13", _HLS_part="17")
    assert status == 400 and body["error"]["field"] == "_HLS_part"
    status, body = await origin.error("/720p/index.m3u8", _HLS_part="2")
    assert status == 400 and body["error"]["field"] == "_HLS_part" and "_HLS_msn" in body["error"]["message"]
    for name, value in (("_HLS_msn", "abc"), ("_HLS_msn", "-1"), ("_HLS_msn", "1.5"), ("_HLS_msn", "9" * 19),
                        ("_HLS_part", "x")):
        query = {"_HLS_msn": "13", "_HLS_part": "1", name: value}
        status, body = await origin.error("/720p/index.m3u8", **query)
        assert status == 400 and body["error"]["field"] == name, (name, value, body)
        assert name in body["error"]["message"]  # the label names the parameter
    async with origin.http.get(origin.base + "/720p/index.m3u8", params={"_HLS_msn": "x", "lang": "en"}) as r:
        assert (await r.json())["error"]["message"] == "Segment number (_HLS_msn) must be a non-negative integer."
    # two segments ahead is allowed, and held; it does not come within three target durations:
    # 503 (the request may be made again), never cached
    status, raw, headers = await (await origin.holding("/720p/index.m3u8", _HLS_msn="14"))
    assert status == 503 and headers["Cache-Control"] == "no-store" and headers["Retry-After"] == "1"
    assert b"_HLS_msn" in raw
    assert (await origin.get("/9/index.m3u8"))[0] == 404
    assert (await origin.get("/720p/index.m3u8".replace("720p", "360p"), _HLS_msn="1"))[0] == 404  # no stream


async def test_an_ended_playlist_is_answered_at_once(origin: Origin, folder: LiveFolder) -> None:
    waiting = await origin.holding("/720p/index.m3u8", _HLS_msn="14")
    folder.end()
    status, body, _ = await waiting
    assert status == 200 and read_media(body.decode()).ended
    status, body, _ = await origin.get("/720p/index.m3u8", _HLS_msn="14")
    assert status == 200 and b"#EXT-X-ENDLIST" in body
    assert (await origin.get("/720p/13.2.m4s"))[0] == 404  # nothing more will be written


async def test_the_hinted_part_is_held_until_written(origin: Origin, folder: LiveFolder) -> None:
    part = await origin.holding("/720p/13.2.m4s")  # the preload hint
    segment = await origin.holding("/720p/13.m4s")  # the segment in progress
    folder.add_part()
    status, body, headers = await part
    assert (status, body, headers["Content-Type"]) == (200, b"13.2.m4s", "video/mp4")
    assert not segment.done()
    folder.add_part()
    folder.add_part()
    folder.end_segment()
    assert (await segment)[:2] == (200, b"13.m4s")
    # a part the segment ended before (its hint pointed past the end) is answered 404 once it ended
    waiting = await origin.holding("/720p/14.3.m4s")
    folder.add_part()
    folder.add_part()
    folder.end_segment()  # 14 has two parts
    assert (await waiting)[0] == 404
    # what is behind the edge and missing is gone: 404 at once; far ahead: 404 at once
    (folder.folder / "10.0.m4s").unlink()
    for name in ("10.0.m4s", "99.m4s", "15.40.m4s", "1.m4s"):
        assert (await origin.get(f"/720p/{name}"))[0] == 404, name
    assert origin.held() == 0


async def test_too_many_held_requests_are_refused(origin: Origin, folder: LiveFolder,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hls_origin, "MAX_WAITING", 2)
    first = await origin.holding("/720p/index.m3u8", _HLS_msn="13", _HLS_part="2")
    second = await origin.holding("/720p/13.2.m4s")
    status, body = await origin.error("/720p/index.m3u8", _HLS_msn="13", _HLS_part="2")
    assert status == 503 and body["error"]["code"] == "unavailable"
    status, body = await origin.error("/720p/13.3.m4s")
    assert status == 503
    folder.add_part()
    assert (await first)[0] == 200 and (await second)[0] == 200


async def test_no_path_leaves_the_live_folder(origin: Origin, folder: LiveFolder) -> None:
    data = origin.server.settings.data_dir
    (data / "secret.m4s").write_bytes(b"secret")
    (data / "live" / "secret.m3u8").write_bytes(b"secret")
    (folder.folder / "state.json").write_text("{}")
    escapes = [
        "/720p/..%2F..%2F..%2Fsecret.m4s", "/720p/%2e%2e/%2e%2e/%2e%2e/secret.m4s", "/..%2F..%2Fsecret.m3u8",
        "/720p/..%5C..%5Csecret.m4s", "/720p/.%2E/index.m3u8", "/%2E%2E/index.m3u8", "/720p/13.1.m4s%00", "/720p/12.m4s%0A", "/720p/index.m3u8%0A",
        "/720p/state.json", "/720p/.index.m3u8.tmp", "/720p/index.m3u8.tmp", "/720p/0x10.m4s", "/720p/1.2.3.m4s",
        "/720p/+12.m4s", "/720p/12.m4s.tmp", "/1080p/index.m3u8", "/..%2F720p/index.m3u8", "/720p%2F..%2F720p/12.m4s",
    ]
    for path in escapes:
        async with origin.http.get(URL(origin.base + path, encoded=True)) as response:
            raw = await response.read()
            assert response.status in (400, 404), (path, response.status)
            assert b"secret" not in raw and b"{}" != raw, path
    status, body = await origin.error("/1080p/index.m3u8")
    assert status == 404 and body["error"]["field"] == "rendition" and "720p" in body["error"]["message"]
    async with origin.http.get(f"{origin.server.url}/live/abc/720p/index.m3u8") as response:
        assert response.status == 404


def test_the_rules_catch_what_they_are_for() -> None:
    """The checker fails on the faults the issue saw: a renumbered segment, a target duration
    copied from elsewhere (window under three of them), a discontinuity number rewritten."""
    def playlist(sequence: int, names: list[str], target: int = 1, number: int = 0, breaks: tuple[str, ...] = ()) -> str:
        lines = ["#EXTM3U", "#EXT-X-VERSION:9", f"#EXT-X-TARGETDURATION:{target}", f"#EXT-X-MEDIA-SEQUENCE:{sequence}",
                 f"#EXT-X-DISCONTINUITY-SEQUENCE:{number}", '#EXT-X-MAP:URI="init.mp4"']
        for i, name in enumerate(names):
            if name in breaks:
                lines.append("#EXT-X-DISCONTINUITY")
            second = sequence + i + 5 * sum(b <= name for b in breaks)  # a break of 5 s
            lines += [f"#EXT-X-PROGRAM-DATE-TIME:2026-12-03T10:00:{second:02d}.000Z", "#EXTINF:1.000,", name]
        return "\n".join(lines) + "\n"

    def seeded() -> LiveRules:
        rules = LiveRules("720p")
        rules.reload(playlist(1, ["a", "b", "c", "d"]))
        rules.reload(playlist(2, ["b", "c", "d", "e"], breaks=("e",)))
        return rules

    assert seeded().breaks == {5}
    with pytest.raises(Broken, match="renumbered"):
        seeded().reload(playlist(3, ["b", "c", "d", "e"], breaks=("e",)))
    with pytest.raises(Broken, match="under three target durations"):
        seeded().reload(playlist(3, ["c", "d", "e", "f"], target=3, breaks=("e",)))
    with pytest.raises(Broken, match="changed"):
        seeded().reload(playlist(3, ["c", "d", "e", "f"], number=1, breaks=("e",)))
    with pytest.raises(Broken, match="more than the target duration"):
        LiveRules("y").reload(playlist(1, ["a"]).replace("#EXTINF:1.000", "#EXTINF:1.600"))
    with pytest.raises(Broken, match="went back"):
        seeded().reload(playlist(1, ["a", "b", "c", "d"]))


# -- the real stream, end to end --------------------------------------------------------------------

FFMPEG = Path("/usr/bin/ffmpeg")  # Debian's, not PyAV's: a player that was not written here


class Follower:
    """A player at the live edge of one rendition, as LL-HLS clients do it: a plain reload to start,
    then blocking reloads for the next part, fetching the preload hint alongside (Safari does) and
    each new part; every answer checked by the rules."""

    def __init__(self, http: aiohttp.ClientSession, url: Callable[[], str], rules: LiveRules) -> None:
        self.http, self.url, self.rules = http, url, rules
        self.blocking = 0
        self.hints: dict[str, int] = {}  # preload hint → the status it was answered with
        self.fetched: set[str] = set()

    async def _get(self, path: str, **query: str) -> tuple[int, bytes, Any]:
        async with self.http.get(f"{self.url()}/{path}", params=query or None) as response:
            return response.status, await response.read(), response.headers

    async def follow(self, reloads: int) -> None:
        status, body, _ = await self._get("index.m3u8")
        assert status == 200
        now = self.rules.reload(body.decode(), "follower")
        while self.blocking < reloads:
            msn, part = now.last + 1, len(now.in_progress)
            hint = now.preload_hint
            asked = self._get("index.m3u8", _HLS_msn=str(msn), _HLS_part=str(part))
            if hint is not None and hint not in self.hints:
                (status, body, headers), (hint_status, hint_body, hint_headers) = await asyncio.gather(
                    asked, self._get(hint))
                self.hints[hint] = hint_status
                assert hint_status in (200, 404), (hint, hint_status)
                if hint_status == 200:
                    assert hint_headers["Content-Type"] == "video/mp4" and hint_body
                self.fetched.add(hint)
            else:
                status, body, headers = await asked
            assert status == 200, (msn, part, status, body[:300])
            assert headers["Cache-Control"] == "public, max-age=3"
            now = self.rules.reload(body.decode(), "follower")
            self.blocking += 1
            assert now.has(msn, part) or now.has(msn), f"asked for {msn}.{part}, got up to {now.last}.{now.in_progress}"
            for uri in now.in_progress:
                if uri not in self.fetched:
                    status, data, headers = await self._get(uri)
                    assert status == 200 and data and headers["Cache-Control"].endswith("immutable"), uri
                    self.fetched.add(uri)

    def check_hints(self) -> None:
        """A hint is answered once written; 404 only when its segment ended before it."""
        for hint, status in self.hints.items():
            assert (status == 200) == (hint in self.rules.uris), (hint, status)


async def plain_reloads(http: aiohttp.ClientSession, url: Callable[[], str], rules: LiveRules,
                        stop: asyncio.Event, *, tolerate: bool = False) -> int:
    """Plain reloads as an RFC 8216 player makes them (here every 50 ms, many per part), until `stop`.
    `tolerate`: a server being restarted answers nothing, or 404/503, for a while."""
    count = 0
    while not stop.is_set():
        try:
            async with http.get(f"{url()}/index.m3u8") as response:
                status, body = response.status, await response.read()
        except aiohttp.ClientError:
            if not tolerate:
                raise
            status, body = 0, b""
        if status == 200:
            rules.reload(body.decode(), "plain")
            count += 1
        else:
            assert tolerate, (status, body[:300])
        await asyncio.sleep(0.05)  # pacing, not a wait for a condition
    return count


async def renditions(http: aiohttp.ClientSession, base: str, session_id: int) -> list[str]:
    """The ladder's rendition names, from the multivariant playlist once it is there (checked)."""
    url = f"{base}/live/{session_id}/index.m3u8"
    for _ in range(300):
        async with http.get(url) as response:
            if response.status == 200:
                variants = check_multivariant((await response.read()).decode())
                return [v.uri.removesuffix("/index.m3u8") for v in variants]
        await asyncio.sleep(0.1)
    raise AssertionError("no multivariant playlist in 30 s")


async def segments_at_least(http: aiohttp.ClientSession, url: str, count: int, timeout: float = 60) -> int:  # noqa: ASYNC109
    """Wait until the media playlist at `url` has `count` whole segments; its last one."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        try:
            async with http.get(url) as response:
                if response.status == 200:
                    now = read_media((await response.read()).decode())
                    if len(now.segments) >= count:
                        return now.last
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError(f"{url}: fewer than {count} segments in {timeout} s")


@pytest.mark.slow
async def test_the_live_stream_conforms_at_every_reload(studio: Studio) -> None:  # noqa: F811
    """(a) Each rendition's live playlist, reloaded hundreds of times (plain, and blocking at the
    edge with the preload hint fetched alongside): RFC 8216 and LL-HLS rules at every reload,
    every listed part served; the DVR playlist agrees with what the live one said."""
    await studio.set_feed("test")
    await studio.wait_state("live")
    base = studio.server.url
    names = await renditions(studio.http, base, studio.id)
    assert names[0] == "720p" and "audio" in names
    urls = {name: f"{base}/live/{studio.id}/{name}" for name in names}
    for name in names:
        await segments_at_least(studio.http, f"{urls[name]}/index.m3u8", 3)
    rules = {name: LiveRules(name) for name in names}
    followers = {name: Follower(studio.http, lambda n=name: urls[n], rules[name]) for name in names}  # type: ignore[misc]
    stop = asyncio.Event()
    pollers = [asyncio.create_task(plain_reloads(studio.http, lambda n=name: urls[n], rules[name], stop))  # type: ignore[misc]
               for name in names]
    try:
        await asyncio.gather(*(f.follow(50) for f in followers.values()))  # 50 parts: ~10 s of stream
    finally:
        stop.set()
    plain = [await p for p in pollers]
    for name in names:
        follower = followers[name]
        follower.check_hints()
        assert sum(s == 200 for s in follower.hints.values()) >= len(follower.hints) // 2  # hints mostly come true
        async with studio.http.get(f"{urls[name]}/dvr.m3u8") as response:
            rules[name].reload((await response.read()).decode(), "dvr")  # the same segments, said the same
        async with studio.http.get(f"{urls[name]}/init.mp4") as response:
            assert response.status == 200 and (await response.read())[4:8] == b"ftyp"
    # one run, one timeline: a discontinuity only where the programme skipped ticks (a machine too
    # busy for it drops at least half a second, 12 ticks, at a time), on the same segment in every
    # rendition (up to the last segment they all have)
    skipped = await studio.late_ticks()
    common = min(max(rules[name].segments) for name in names)
    breaks = {name: {msn for msn in rules[name].breaks if msn <= common} for name in names}
    assert len(breaks[names[0]]) <= skipped // 12, (breaks, skipped)
    assert all(found == breaks[names[0]] for found in breaks.values()), breaks
    assert sum(r.reloads for r in rules.values()) >= 300 and min(plain) >= 50

    # blocking reload on the real stream: three segments ahead is refused at once
    async with studio.http.get(f"{urls['720p']}/index.m3u8") as response:
        now = read_media((await response.read()).decode())
    async with studio.http.get(f"{urls['720p']}/index.m3u8", params={"_HLS_msn": str(now.last + 3)}) as response:
        assert response.status == 400 and (await response.json())["error"]["field"] == "_HLS_msn"


# FFmpeg 5.1's HLS demuxer makes new EXT-X-MAP records at every reload of a live playlist and
# tells the current one from them by address (libavformat/hls.c, update_init_section), so after
# each reload it reads init.mp4 again and hands it to its MP4 demuxer once more, which skips the
# second moov with this warning. Any live fMP4 stream gets it, whatever the origin serves; the
# pictures are not touched (their count is checked).
FFMPEG_OWN = re.compile(r"^\[mov,mp4,m4a,3gp,3g2,mj2 @ 0x[0-9a-f]+\] Found duplicated MOOV Atom\. Skipped it$")


def ffmpeg_warnings(stderr: str) -> list[str]:
    """FFmpeg's warnings, bar its own re-reading of the initialisation section (above)."""
    kept: list[str] = []
    skipped = False  # the line before was FFmpeg's own: its "Last message repeated" goes too
    for line in stderr.splitlines():
        if FFMPEG_OWN.match(line) or (skipped and re.fullmatch(r"\s*Last message repeated \d+ times", line)):
            skipped = True
            continue
        skipped = False
        kept.append(line)
    return kept


def test_only_ffmpegs_own_warning_is_let_through() -> None:
    own = "[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55d0c0ffee00] Found duplicated MOOV Atom. Skipped it"
    assert ffmpeg_warnings(f"{own}\n    Last message repeated 26 times\n") == []
    other = "[hls @ 0x55d0c0ffee00] Media sequence changed unexpectedly: 12 -> 10"
    assert ffmpeg_warnings(f"{own}\n{other}\n    Last message repeated 2 times\n") == [
        other, "    Last message repeated 2 times"]


@pytest.mark.slow
@pytest.mark.skipif(not FFMPEG.exists(), reason="Debian's ffmpeg is not installed (make system-packages)")
async def test_debian_ffmpeg_plays_the_live_stream(studio: Studio) -> None:  # noqa: F811
    """(c) FFmpeg 5.1 (it knows no LL-HLS: the same playlist as plain HLS) plays the multivariant
    URL for 30 s of media without a warning; it must follow the live edge to get them."""
    await studio.set_feed("test")
    await studio.wait_state("live")
    base = studio.server.url
    late = await studio.late_ticks()  # before FFmpeg's first reload: it starts well behind the live edge
    await renditions(studio.http, base, studio.id)
    live = f"{base}/live/{studio.id}/720p/index.m3u8"
    started = await segments_at_least(studio.http, live, 3)
    proc = await asyncio.create_subprocess_exec(
        str(FFMPEG), "-nostdin", "-nostats", "-v", "warning", "-i", f"{base}/live/{studio.id}/index.m3u8",
        "-t", "30", "-map", "0:v:0", "-map", "0:a:0", "-f", "null", "-", "-progress", "pipe:1",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, stderr.decode()
    assert ffmpeg_warnings(stderr.decode()) == []  # not one warning
    progress = dict(line.split("=", 1) for line in stdout.decode().splitlines() if "=" in line)
    frames = int(progress["frame"])
    # 30 s of media time: on a machine so busy that the programme skipped ticks, those pictures were
    # never made (and the playlist says so with a discontinuity), so they are not asked for
    skipped = await studio.late_ticks() - late
    assert 30 * 25 - 5 - skipped <= frames <= 30 * 25 + 5, (frames, skipped)
    ended = await segments_at_least(studio.http, live, 3)
    assert ended - started >= 25  # 30 s of media from a window of a dozen: it followed the live edge


def gap(before: Segment, after: Segment) -> float:
    """Seconds between the end of one segment and the start of the next, by their dates."""
    assert before.date is not None and after.date is not None
    return (after.date - before.date).total_seconds() - before.duration


def media_worker(server: ServerProcess) -> int:
    """The pid of the server's media worker (a child process running stream.worker)."""
    assert server.proc is not None
    children = Path(f"/proc/{server.proc.pid}/task/{server.proc.pid}/children").read_text().split()
    for pid in children:
        if b"stream.worker" in Path(f"/proc/{pid}/cmdline").read_bytes():
            return int(pid)
    raise AssertionError(f"no media worker among {children}")


@pytest.mark.slow
@pytest.mark.parametrize("restart", ["kill", "stop"])
async def test_breaks_keep_every_number_and_say_so_once(server_process: Callable[..., ServerProcess],
                                                        tmp_path: Path, http: aiohttp.ClientSession,
                                                        restart: str) -> None:
    """(b) The media worker SIGKILLed (the server starts another) and then the whole server killed
    (or stopped) and started again on the same data: reloads go on across both breaks, every rule
    holds, no segment is renumbered or changed, and each break is told by exactly one
    discontinuity, at the first segment after it."""
    data_dir = tmp_path / "data"
    data_dir.mkdir(exist_ok=True)
    session_id = await live_session_with_test_card(data_dir)
    env = {"DOITHOAI_MEDIA": "1"}
    servers = [server_process(env=env)]
    servers[0].start()
    names = await renditions(http, servers[0].url, session_id)

    def url(name: str) -> Callable[[], str]:
        return lambda: f"{servers[-1].url}/live/{session_id}/{name}"

    rules = {name: LiveRules(name) for name in names}
    for name in names:
        await segments_at_least(http, f"{url(name)()}/index.m3u8", 3)
    stop = asyncio.Event()
    pollers = [asyncio.create_task(plain_reloads(http, url(name), rules[name], stop, tolerate=True)) for name in names]
    try:
        async def progressed(segments: int) -> dict[str, int]:
            """Every rendition `segments` past where it is now (whole segments, as the rules saw them)."""
            start = {name: max(rules[name].segments, default=0) for name in names}
            await wait_for(lambda: any(p.done() for p in pollers) or all(
                max(rules[n].segments, default=0) >= start[n] + segments for n in names), 60)
            for poller in pollers:
                if poller.done():
                    poller.result()  # a rule broken: its message, now
            return start

        await progressed(3)
        before_kill = {name: max(rules[name].segments) for name in names}
        os.kill(media_worker(servers[0]), signal.SIGKILL)
        await progressed(4)
        first_breaks = {name: set(rules[name].breaks) for name in names}

        before_restart = {name: max(rules[name].segments) for name in names}
        if restart == "kill":
            servers[0].kill()  # the server, its writer and its worker at once, as an OOM killer would
        else:
            servers[0].stop()  # SIGTERM, as `systemctl restart` does
        servers.append(server_process(env=env))
        servers[-1].start()
        await progressed(4)
    finally:
        stop.set()
        ended = await asyncio.gather(*pollers, return_exceptions=True)  # none left unread
    counts = [result for result in ended if isinstance(result, int)]
    for result in ended:
        if isinstance(result, BaseException):
            raise result
    assert min(counts) >= 100  # hundreds of reloads over the three renditions, across both breaks

    for name in names:
        seen = rules[name].segments
        assert len(first_breaks[name]) == 1, (name, first_breaks[name])  # the worker's restart: one
        (worker_break,) = first_breaks[name]
        server_breaks = rules[name].breaks - first_breaks[name]
        assert len(server_breaks) == 1, (name, server_breaks)  # the server's restart: one more
        (server_break,) = server_breaks
        # each where the picture broke: just after the last segment seen before the kill (the one
        # in progress may have been finished before it), and with a stretch of time no media covers
        for broke, last_before in ((worker_break, before_kill[name]), (server_break, before_restart[name])):
            assert last_before < broke <= last_before + 2, (name, broke, last_before)
            assert gap(seen[broke - 1], seen[broke]) > PDT_SLACK, (name, broke)
        assert sorted(seen) == list(range(min(seen), max(seen) + 1))  # no number skipped or reused
        numbers = [seen[m].number for m in sorted(seen)]
        assert numbers == sorted(numbers) and numbers[-1] - numbers[0] == 2
        async with http.get(f"{url(name)()}/dvr.m3u8") as response:
            assert response.status == 200
            dvr = rules[name].reload((await response.read()).decode(), "dvr")  # says the same of each segment
        assert {s.msn for s in dvr.segments if s.discontinuity} == {worker_break, server_break}
