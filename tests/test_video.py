"""Live video end to end (docs/video.md): a real server with its media worker process, real aiortc
WHIP publishers and WHEP players, HLS playlists parsed and segments probed with PyAV."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import time
from collections import deque
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import av
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from aiortc.mediastreams import MediaStreamError

from moderation.accounts import Accounts
from moderation.sessions import SessionState
from server.keys import media_key
from server.stream_api import StreamTokens
from stream.clients import play, publish_test_card
from stream.hls.rendition import DEFAULT_LADDER, parse_ladder
from stream.stamp import read_stamp
from stream.testcard import TestCard
from tests.conftest import RunningServer, valid_payload, wait_for

pytestmark = pytest.mark.slow


class Studio:
    """A live session with video, and an editor's API token to choose its feed."""

    def __init__(self, server: RunningServer, http: aiohttp.ClientSession, session_id: int, api_token: str) -> None:
        self.server, self.http, self.id, self.api_token = server, http, session_id, api_token
        tokens = StreamTokens(server.settings.secret_key)
        self.publish_token, self.watch_token = tokens.publish(session_id), tokens.watch(session_id)
        self.whip = f"{server.url}/whip/{session_id}"
        self.whep = f"{server.url}/whep/{session_id}"

    @classmethod
    async def open(cls, server: RunningServer, http: aiohttp.ClientSession) -> Studio:
        """A new live session on `server` (started with video) and an editor to choose its feed."""
        session = await server.new_session(SessionState.LIVE)
        accounts = Accounts(server.store)
        await accounts.add_user("bientap", "editor", "mật khẩu đủ dài 123")
        return cls(server, http, session.id, (await accounts.issue_token("bientap", "tests"))["token"])

    async def set_feed(self, feed: str | None, url: str | None = None) -> tuple[int, dict[str, Any]]:
        async with self.http.put(f"{self.server.url}/api/v1/staff/sessions/{self.id}/stream",
                                 json={"feed": feed, "url": url},
                                 headers={"Authorization": f"Bearer {self.api_token}"}) as response:
            return response.status, await response.json()

    def state(self) -> str:
        return self.server.app[media_key].state(self.id)

    async def late_ticks(self) -> int:
        """Ticks the programme has skipped so far: an overloaded machine drops them (stream/programme.py)."""
        status = await self.server.app[media_key].request("status")
        return int(status["sessions"][str(self.id)]["late_ticks"])

    async def wait_state(self, state: str, timeout: float = 20) -> None:  # noqa: ASYNC109
        await wait_for(lambda: self.state() == state, timeout)

    async def get(self, path: str) -> tuple[int, bytes, Any]:
        async with self.http.get(self.server.url + path) as response:
            return response.status, await response.read(), response.headers


@pytest.fixture
async def studio(start_server: Callable[..., Awaitable[RunningServer]], http: aiohttp.ClientSession) -> Studio:
    # the tests' own pull sources (a clip, another session's HLS) are served from this machine
    return await Studio.open(await start_server(media=True, feed_allowed_networks=["127.0.0.1/32"]), http)


@pytest.fixture
async def recording_studio(start_server: Callable[..., Awaitable[RunningServer]], http: aiohttp.ClientSession
                           ) -> Studio:
    """The studio for tests that time the recording against the clock (a frame, a second): one video
    rendition and the worker not niced, so that renditions they never look at and the test's own
    clients do not take the CPU the programme's timing needs on a busy machine."""
    return await Studio.open(await start_server(media=True, feed_allowed_networks=["127.0.0.1/32"],
                                                video_ladder="720p,audio", media_worker_nice=0), http)


def parse_playlist(text: str) -> tuple[dict[str, str], list[tuple[float, str]]]:
    tags: dict[str, str] = {}
    segments: list[tuple[float, str]] = []
    duration = None
    lines = text.splitlines()
    assert lines[0] == "#EXTM3U"
    for line in lines[1:]:
        if line.startswith("#EXTINF:"):
            duration = float(line[8:].split(",")[0])
        elif line.startswith("#EXT-X-") and ":" in line:
            key, value = line[1:].split(":", 1)
            tags[key] = value
        elif line and not line.startswith("#"):
            assert duration is not None, "a segment without #EXTINF"
            segments.append((duration, line))
            duration = None
    return tags, segments


TOP = parse_ladder(DEFAULT_LADDER)[0].name  # the programme's own encode: its HLS rendition


async def segment_probe(studio: Studio, name: str, rendition: str = TOP) -> dict[str, Any]:
    """A CMAF segment of the rendition, read after its initialisation section as a player does."""
    status, init, _ = await studio.get(f"/live/{studio.id}/{rendition}/init.mp4")
    assert status == 200
    status, body, headers = await studio.get(f"/live/{studio.id}/{rendition}/{name}")
    assert status == 200
    assert headers["Content-Type"] == "video/mp4"
    assert "immutable" in headers["Cache-Control"]
    with av.open(io.BytesIO(init + body), "r") as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0]
        probe: dict[str, Any] = {"codec": video.codec_context.name, "profile": video.codec_context.profile,
                 "size": (video.codec_context.width, video.codec_context.height),
                 "audio": (audio.codec_context.name, audio.codec_context.sample_rate)}
        frames = list(container.decode(video=0))
    probe["frames"] = len(frames)
    probe["first_key"] = frames[0].key_frame
    probe["keys"] = sum(f.key_frame for f in frames)
    probe["stamps"] = [read_stamp(f) for f in frames]
    return probe


async def test_test_pattern_reaches_hls(studio: Studio) -> None:
    assert (await studio.get(f"/live/{studio.id}/index.m3u8"))[0] == 404  # no feed chosen yet
    status, reply = await studio.set_feed("test")
    assert status == 200 and reply["feed"] == "test" and reply["publish_token"] == studio.publish_token
    await studio.wait_state("live")
    async with studio.http.get(f"{studio.server.url}/api/v1/sessions/{studio.id}/stream") as response:
        assert (await response.json())["state"] == "live"

    async def enough_segments() -> list[tuple[float, str]]:
        for _ in range(100):
            status, body, _ = await studio.get(f"/live/{studio.id}/{TOP}/dvr.m3u8")
            if status == 200 and len(parse_playlist(body.decode())[1]) >= 3:
                return parse_playlist(body.decode())[1]
            await asyncio.sleep(0.2)
        raise AssertionError("no three segments in 20 s")

    segments = await enough_segments()
    status, body, headers = await studio.get(f"/live/{studio.id}/index.m3u8")
    assert status == 200 and f"\n{TOP}/index.m3u8\n" in body.decode()  # the multivariant playlist
    status, body, headers = await studio.get(f"/live/{studio.id}/{TOP}/index.m3u8")
    assert status == 200
    assert headers["Content-Type"] == "application/vnd.apple.mpegurl"
    assert headers["Cache-Control"] == "public, max-age=1"
    assert headers["Access-Control-Allow-Origin"] == "*"
    tags, live = parse_playlist(body.decode())
    assert tags["EXT-X-TARGETDURATION"] == "1"
    assert 1 <= len(live) <= 12
    # the live playlist's sequence numbers name its first segment (RFC 8216 §6.2.2)
    assert int(tags["EXT-X-MEDIA-SEQUENCE"]) == int(live[0][1].removesuffix(".m4s"))
    assert all(0.9 <= duration <= 1.1 for duration, _ in segments)

    probe = await segment_probe(studio, segments[-2][1])
    assert probe["codec"] == "h264"
    assert probe["profile"] == "Constrained Baseline"
    assert probe["size"] == (1280, 720)
    assert probe["audio"] == ("aac", 48000)
    assert probe["first_key"]  # every segment starts on a keyframe
    assert 24 <= probe["frames"] <= 26  # 1 s at 25 fps
    stamps = [s for s in probe["stamps"]]
    assert all(s is not None and not s.slate for s in stamps)
    counters = [s.frame for s in stamps if s]
    assert counters == list(range(counters[0], counters[0] + len(counters)))  # no picture lost or doubled

    # a segment name that is not ours is refused without touching the disk
    assert (await studio.get(f"/live/{studio.id}/..%2Fsecret_key"))[0] == 404
    assert (await studio.get(f"/live/{studio.id}/{TOP}/index.m3u8.tmp"))[0] == 404


async def test_whep_viewers_share_the_encode(studio: Studio) -> None:
    await studio.set_feed("test")
    await studio.wait_state("live")
    async with studio.http.post(studio.whep, data="v=0\r\n", headers={"Content-Type": "application/sdp"}) as r:
        assert r.status == 401  # no watch token
    async with studio.http.options(studio.whep, headers={"Origin": "https://portal.example",
                                                          "Access-Control-Request-Method": "POST"}) as r:
        assert r.status == 204
        assert r.headers["Access-Control-Allow-Origin"] == "*"
        assert "Location" in r.headers["Access-Control-Expose-Headers"]
    async with studio.http.post(studio.whep, data="not sdp", headers={
            "Content-Type": "application/sdp", "Authorization": f"Bearer {studio.watch_token}"}) as r:
        assert r.status == 400 and (await r.json())["error"]["code"] == "bad_sdp"

    players = [await play(studio.http, studio.whep, studio.watch_token) for _ in range(3)]
    try:
        await wait_for(lambda: all(len(p.stamps) >= 25 and p.audio_frames >= 10 for p in players), 20)
        for player in players:
            assert player.sizes == {(1280, 720)}
            assert player.unstamped == 0
            frames = [s.frame for s, _ in player.stamps]
            assert frames == sorted(frames)  # in order
            assert max(player.delays()) < 3000
        status = await studio.server.app[media_key].request("status")
        assert status["sessions"][str(studio.id)]["viewers"] == 3
    finally:
        for player in players:
            await player.stop(studio.http)
    status = await studio.server.app[media_key].request("status")
    assert status["sessions"][str(studio.id)]["viewers"] == 0
    async with studio.http.delete(players[0].resource) as r:
        assert r.status == 200  # DELETE is idempotent: already gone is gone
    async with studio.http.delete(f"{studio.whep}/never-made") as r:
        assert r.status == 404


async def test_whip_publish_slate_and_return(studio: Studio) -> None:
    # publishing to a session whose feed is not the studio is refused with the reason
    await studio.set_feed("test")
    await studio.wait_state("live")
    with pytest.raises(RuntimeError, match="409"):
        await publish_test_card(studio.http, studio.whip, studio.publish_token)
    with pytest.raises(RuntimeError, match="401"):
        await publish_test_card(studio.http, studio.whip, "wrong-token")

    await studio.set_feed("whip")
    await studio.wait_state("slate")  # the studio has not started yet
    player = await play(studio.http, studio.whep, studio.watch_token)
    publisher = await publish_test_card(studio.http, studio.whip, studio.publish_token)
    try:
        await studio.wait_state("live")
        await wait_for(lambda: sum(not s.slate for s, _ in player.stamps) >= 25, 20)
        # the studio's own pictures come through (stamped by the publisher, not by the server)
        assert any(s.frame >= 10 for s, _ in player.stamps if not s.slate)

        await publisher.stop(studio.http, studio.publish_token)  # the feed drops
        await studio.wait_state("slate", 10)
        seen = len(player.stamps)
        await wait_for(lambda: sum(s.slate for s, _ in player.stamps[seen:]) >= 10, 10)

        publisher = await publish_test_card(studio.http, studio.whip, studio.publish_token)  # it returns
        await studio.wait_state("live")
        seen = len(player.stamps)
        await wait_for(lambda: sum(not s.slate for s, _ in player.stamps[seen:]) >= 10, 20)
    finally:
        await publisher.stop(studio.http, studio.publish_token)
        await player.stop(studio.http)


async def test_pull_feed_from_a_recording(studio: Studio, tmp_path: Path) -> None:
    """A recording served over HTTP (a file:// feed is refused: stream/feed_policy.py) plays at its
    own speed and loops."""
    clip = tmp_path / "station.ts"
    card = TestCard()
    with av.open(str(clip), "w", format="mpegts") as container:
        # every picture a keyframe: the decoder marks each one I, which must not reach our encoder
        stream = container.add_stream("libx264", rate=25, options={"x264-params": "keyint=1"})
        stream.width, stream.height, stream.pix_fmt = 1280, 720, "yuv420p"
        for n in range(50):
            for packet in stream.encode(card.video_frame(n + 1000, time.time())):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)

    status, body = await studio.set_feed("url", "ftp://station/feed")
    assert status == 400 and body["error"]["field"] == "url" and "rtsp" in body["error"]["message"]
    status, body = await studio.set_feed("url")
    assert status == 400 and body["error"]["field"] == "url"
    status, body = await studio.set_feed("url", f"file://{clip}")
    assert status == 400 and body["error"]["field"] == "url"
    station = web.Application()
    station.router.add_static("/", tmp_path)
    encoder = TestServer(station, host="127.0.0.1", port=0)
    await encoder.start_server()
    url = f"http://127.0.0.1:{encoder.port}/station.ts"
    status, body = await studio.set_feed("url", url)
    assert status == 200 and body["url"] == url
    await studio.wait_state("live")
    player = await play(studio.http, studio.whep, studio.watch_token)
    try:
        # the clip's own counters (1000…1049, looped) arrive through the one encode
        await wait_for(lambda: any(1000 <= s.frame < 1050 for s, _ in player.stamps), 20)
    finally:
        await player.stop(studio.http)
    # the one-second keyframe grid holds whatever the feed's own keyframes are
    for _ in range(50):
        status, playlist, _ = await studio.get(f"/live/{studio.id}/{TOP}/index.m3u8")
        segments = parse_playlist(playlist.decode())[1]
        if len(segments) >= 3:
            break
        await asyncio.sleep(0.2)
    probe = await segment_probe(studio, segments[-1][1])
    assert probe["first_key"] and probe["keys"] == 1 and 24 <= probe["frames"] <= 26
    assert all(0.9 <= duration <= 1.1 for duration, _ in segments)
    await encoder.close()


async def test_worker_crash_is_restarted_and_intake_goes_on(studio: Studio, viewer_client: Any) -> None:
    await studio.set_feed("test")
    await studio.wait_state("live")
    playlist = studio.server.settings.data_dir / "live" / str(studio.id) / TOP / "dvr.m3u8"
    await wait_for(lambda: playlist.exists() and len(parse_playlist(playlist.read_text())[1]) >= 2, 10)
    before = parse_playlist(playlist.read_text())[1]
    media = studio.server.app[media_key]
    client = await viewer_client(studio.server.url)
    pid = media.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    await studio.wait_state("off", 10)
    ack = await client.call("submit_question", valid_payload(studio.id), namespace="/viewer", timeout=10)
    assert ack["ok"] is True  # intake never depended on the worker
    await studio.wait_state("live", 30)  # a new worker, given the session's feed again
    assert media.pid not in (None, pid)
    assert media.crashes == 1
    # the new worker goes on with the same playlist and tells players of the break
    await wait_for(lambda: "#EXT-X-DISCONTINUITY" in playlist.read_text(), 10)
    status, body, _ = await studio.get(f"/live/{studio.id}/{TOP}/dvr.m3u8")
    assert status == 200 and "#EXT-X-DISCONTINUITY" in body.decode()
    # the segments served before the crash keep their numbers, and the new ones come after them
    after = parse_playlist(body.decode())[1]
    assert [name for _, name in after[:len(before)]] == [name for _, name in before]
    numbers = [int(name.removesuffix(".m4s")) for _, name in after]
    assert numbers == sorted(set(numbers))
    # every thread of the new worker (the encode's and x264's included) yields to the server's
    assert media.pid is not None
    assert set(thread_niceness(media.pid).values()) == {studio.server.settings.media_worker_nice}, thread_niceness(media.pid)
    assert studio.server.settings.media_worker_nice == 10 and os.getpriority(os.PRIO_PROCESS, 0) == 0


def thread_niceness(pid: int) -> dict[str, int]:
    """Each thread's name and nice value (/proc/PID/task/TID/stat: field 19, after the name)."""
    niceness = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            stat = (task / "stat").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue  # a thread that ended since the listing
        name, rest = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
        niceness[f"{task.name} {name}"] = int(rest[16])
    return niceness


async def test_feed_follows_the_session(studio: Studio) -> None:
    await studio.set_feed("test")
    await studio.wait_state("live")
    await studio.server.store.transition_session(studio.id, SessionState.CLOSED)  # e.g. from the CLI
    await studio.wait_state("off", 10)
    for rendition in parse_ladder(DEFAULT_LADDER):  # players see the end, whichever they play
        status, body, _ = await studio.get(f"/live/{studio.id}/{rendition.name}/index.m3u8")
        assert status == 200 and body.decode().rstrip().endswith("#EXT-X-ENDLIST")
    status, reply = await studio.set_feed("test")
    assert status == 409 and reply["error"]["field"] == "feed"


def test_cli_stream_token_and_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import run_cli

    monkeypatch.setenv("DOITHOAI_FEED_ALLOWED_NETWORKS", "encoder.local")  # the studio's encoder on the LAN

    data_dir = tmp_path / "data"
    created = run_cli("session", "create", "--title", "Đối thoại", "--chair", "Nguyễn Văn Tùng", "--start",
                      "2026-12-15T09:00:00+07:00", "--minutes", "90", data_dir=data_dir)
    session_id = int(json.loads(created.stdout)["id"])
    links = json.loads(run_cli("stream", "token", str(session_id), "--base-url", "https://dt.example/",
                               data_dir=data_dir).stdout)
    tokens = StreamTokens((data_dir / "secret_key").read_text().strip())
    assert links["whip_url"] == f"https://dt.example/whip/{session_id}"
    assert links["publish_token"] == tokens.publish(session_id) != links["watch_token"] == tokens.watch(session_id)

    refused = run_cli("stream", "source", str(session_id), "--url", "gopher://station", data_dir=data_dir,
                      check=False)
    assert refused.returncode == 1 and "rtsp" in refused.stderr
    inside = run_cli("stream", "source", str(session_id), "--url", "rtsp://127.0.0.1/live", data_dir=data_dir,
                     check=False)
    assert inside.returncode == 1 and "feed_allowed_networks" in inside.stderr
    chosen = json.loads(run_cli("stream", "source", str(session_id), "--url", "rtsp://encoder.local/live",
                                data_dir=data_dir).stdout)
    assert chosen == {"session_id": session_id, "feed": "url", "url": "rtsp://encoder.local/live"}
    chosen = json.loads(run_cli("stream", "source", str(session_id), "--whip", data_dir=data_dir).stdout)
    assert chosen["feed"] == "whip" and chosen["url"] is None
    chosen = json.loads(run_cli("stream", "source", str(session_id), "--none", data_dir=data_dir).stdout)
    assert chosen["feed"] is None
    missing = run_cli("stream", "token", "999", data_dir=data_dir, check=False)
    assert missing.returncode == 1


async def test_a_slow_viewer_skips_to_the_next_keyframe() -> None:
    from stream.relay import VIDEO_QUEUE, Relay

    relay = Relay()
    early = relay.add("video")
    relay.video(b"\x00\x00\x00\x01\x41delta", 0, False)
    assert early._queue == deque()  # a new viewer starts on a keyframe, never mid-GOP
    for n in range(1, 3 * VIDEO_QUEUE):  # nobody reads: the viewer is stuck
        relay.video(b"\x00\x00\x00\x01\x65key" if n % 25 == 0 else b"\x00\x00\x00\x01\x41delta", n, n % 25 == 0)
        assert len(early._queue) <= VIDEO_QUEUE  # memory stays bounded
    assert early.resyncs >= 1
    first = await early.recv()
    assert bytes(first).startswith(b"\x00\x00\x00\x01\x65")  # what it gets next starts with a keyframe
    late = relay.add("audio")
    for n in range(300):
        relay.audio(b"opus", n * 960)
    assert len(late._queue) == 100 and (await late.recv()).pts == 200 * 960  # the oldest sound goes first
    relay.remove(early)  # the viewer hung up: its sender's recv ends instead of waiting forever
    early._queue.clear()
    with pytest.raises(MediaStreamError):
        await asyncio.wait_for(early.recv(), 1)


def test_start_up_names_what_ffmpeg_lacks(monkeypatch: pytest.MonkeyPatch) -> None:
    from stream import capabilities

    assert capabilities.missing() == []  # the PyPI wheel of av carries everything
    monkeypatch.setitem(capabilities.NEEDED_ENCODERS, "libnonexistent264", "a codec this FFmpeg lacks")
    with pytest.raises(SystemExit, match="encoder libnonexistent264 .a codec this FFmpeg lacks.*--no-media"):
        capabilities.require()


async def test_pull_feed_from_another_servers_hls(studio: Studio) -> None:
    """A network pull (here the HLS of another session on the same server, as a TV station's
    packager would serve it): its pictures arrive through this session's one encode."""
    source = await studio.server.new_session(SessionState.LIVE)
    other = Studio(studio.server, studio.http, source.id, studio.api_token)
    await other.set_feed("test")
    await other.wait_state("live")
    status, body = await studio.set_feed("url", f"{studio.server.url}/live/{source.id}/index.m3u8")
    assert status == 200
    await studio.wait_state("live", 30)
    player = await play(studio.http, studio.whep, studio.watch_token)
    try:
        await wait_for(lambda: len([s for s, _ in player.stamps if not s.slate]) >= 25, 30)
        # the source's own stamps: pictures made by the other session's test card, seconds ago
        assert all(0 < delay < 15000 for delay in player.delays())
    finally:
        await player.stop(studio.http)
