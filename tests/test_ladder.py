"""The HLS ladder (stream/hls/ladder.py, docs/video.md "Picture and sound"): a live session offers
every rendition of its `video_ladder` in a multivariant playlist read by the `m3u8` package; each
rendition's segments decode with Debian's ffprobe at its own size; segments of the same number start
on the same picture in every rendition; keyframes come by the clock, so a stalled encode still cuts
one-second segments; a stopped programme ends every playlist, a failed one goes on with them; a bad
ladder is refused by name."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import av
import m3u8
import pytest

from server.cli import main as cli_main
from server.config import load_settings
from stream.clock import FPS
from stream.hls.rendition import RENDITIONS, parse_ladder
from stream.programme import Picture, Programme
from stream.relay import Relay
from stream.worker import main as worker_main
from tests.conftest import RunningServer, wait_for
from tests.test_video import Studio

LADDER = "720p,480p,360p,audio"  # every rendition there is (the default leaves 480p out)


@pytest.fixture
async def studio(start_server: Callable[..., Awaitable[RunningServer]], http: aiohttp.ClientSession) -> Studio:
    server = await start_server(media=True, video_ladder=LADDER)
    return await Studio.open(server, http)


def ffprobe(path: Path) -> dict[str, Any]:
    """Debian's ffprobe, decoding every frame (-count_frames): its streams and its packets."""
    run = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-show_entries",
                          "stream=codec_type,codec_name,profile,width,height,sample_rate,nb_read_frames:"
                          "packet=codec_type,pts_time,flags", "-of", "json", str(path)],
                         capture_output=True, text=True, timeout=60, check=True)
    assert run.stderr == "", run.stderr  # no decoding error, no warning
    return dict(json.loads(run.stdout))


async def media_playlist(studio: Studio, name: str, segments: int) -> m3u8.M3U8:
    """The rendition's live playlist once it lists `segments` whole segments."""
    for _ in range(150):
        status, body, _ = await studio.get(f"/live/{studio.id}/{name}/index.m3u8")
        if status == 200:
            playlist = m3u8.loads(body.decode())
            # the m3u8 package lists the segment in progress (parts only) with no URI
            if len([seg for seg in playlist.segments if seg.uri]) >= segments:
                return playlist
        await asyncio.sleep(0.2)
    raise AssertionError(f"{name}: no {segments} segments in 30 s")


@pytest.mark.slow
async def test_the_ladder_is_offered_decoded_and_aligned(studio: Studio, tmp_path: Path) -> None:
    await studio.set_feed("test")
    await studio.wait_state("live")
    status, body, headers = await studio.get(f"/live/{studio.id}/index.m3u8")
    assert status == 200 and headers["Content-Type"] == "application/vnd.apple.mpegurl"
    multivariant = m3u8.loads(body.decode())
    assert multivariant.is_variant
    offered = {playlist.uri: playlist.stream_info for playlist in multivariant.playlists}
    ladder = parse_ladder(LADDER)
    assert list(offered) == [f"{r.name}/index.m3u8" for r in ladder]  # the top first
    for rendition in ladder:
        info = offered[f"{rendition.name}/index.m3u8"]
        assert info.bandwidth == rendition.bandwidth and info.average_bandwidth
        if rendition.audio_only:
            assert info.codecs == "mp4a.40.2" and info.resolution is None
        else:
            assert info.resolution == (rendition.width, rendition.height)
            codecs = info.codecs.split(",")
            assert codecs[0].startswith("avc1.42") and codecs[1] == "mp4a.40.2"  # Baseline, AAC-LC
            assert info.frame_rate == 25.0

    playlists = {r.name: await media_playlist(studio, r.name, 3) for r in ladder}
    # a segment every rendition lists whole, not the newest (the slowest rendition may lack it)
    lists = {name: {seg.uri: seg for seg in playlist.segments if seg.uri} for name, playlist in playlists.items()}
    common = sorted(set.intersection(*(set(uris) for uris in lists.values())), key=lambda uri: int(uri[:-4]))
    assert len(common) >= 2, lists
    uri = common[-2]
    starts: dict[str, float] = {}
    for rendition in ladder:
        status, init, _ = await studio.get(f"/live/{studio.id}/{rendition.name}/init.mp4")
        assert status == 200
        status, segment, _ = await studio.get(f"/live/{studio.id}/{rendition.name}/{uri}")
        assert status == 200
        path = tmp_path / f"{rendition.name}.mp4"
        path.write_bytes(init + segment)
        probe = ffprobe(path)
        streams = {s["codec_type"]: s for s in probe["streams"]}
        assert streams["audio"]["codec_name"] == "aac" and streams["audio"]["sample_rate"] == "48000"
        packets = probe["packets"]
        if rendition.audio_only:
            assert "video" not in streams
            starts[rendition.name] = float(next(p for p in packets if p["codec_type"] == "audio")["pts_time"])
            continue
        video = streams["video"]
        assert video["codec_name"] == "h264" and video["profile"] == "Constrained Baseline"
        assert (video["width"], video["height"]) == (rendition.width, rendition.height)
        assert 24 <= int(video["nb_read_frames"]) <= 26  # 1 s at 25 fps, every picture decoded
        pictures = [p for p in packets if p["codec_type"] == "video"]
        assert pictures[0]["flags"].startswith("K")  # every segment starts on a keyframe
        starts[rendition.name] = float(pictures[0]["pts_time"])

    # the same segment number is the same second: one start for every video rendition, and the
    # same program date-time in every video rendition's playlist (the sound: see below)
    video = [r.name for r in ladder if not r.audio_only]
    assert len({starts[name] for name in video}) == 1, starts
    assert len({lists[name][uri].program_date_time for name in video}) == 1
    assert isinstance(lists[video[0]][uri].program_date_time, datetime)


class StallingProgramme(Programme):
    """The test card with one stall of 0.7 s at tick 30 (a busy machine): the encode falls more than
    half a second behind and skips ticks to catch up with the clock."""

    def _pick(self, tick: int, now: float) -> tuple[av.VideoFrame, av.AudioFrame]:
        if tick == 30:
            time.sleep(0.7)
        return super()._pick(tick, now)


@pytest.mark.slow
async def test_keyframes_by_the_clock_and_the_end_in_every_rendition(tmp_path: Path) -> None:
    states: list[str] = []
    ladder = parse_ladder("720p,360p,audio")
    programme = StallingProgramme(1, tmp_path / "live", Picture(ladder=ladder), Relay(), asyncio.get_running_loop(),
                                  states.append)
    programme.start()
    try:
        await wait_for(lambda: programme.frames >= 4 * FPS, 60)
    finally:
        await programme.stop()
    assert programme.late_ticks > 0 and programme.failures == 0
    assert states[0] == "live" and states[-1] == "off"
    assert (tmp_path / "live" / "index.m3u8").exists()
    cuts: dict[str, list[tuple[str, float]]] = {}
    for rendition in ladder:
        folder = tmp_path / "live" / rendition.name
        assert m3u8.load(str(folder / "index.m3u8")).is_endlist  # players see the end
        dvr = m3u8.load(str(folder / "dvr.m3u8"))
        assert dvr.is_endlist
        cuts[rendition.name] = [(seg.uri, seg.duration) for seg in dvr.segments]
        if rendition.audio_only:
            continue
        whole = tmp_path / f"{rendition.name}.mp4"
        whole.write_bytes(b"".join((folder / name).read_bytes() for name in ["init.mp4", *dict(cuts[rendition.name])]))
        with av.open(str(whole)) as container:
            stream = container.streams.video[0]
            assert (stream.codec_context.width, stream.codec_context.height) == (rendition.width, rendition.height)
            frames = [(frame.time, frame.key_frame) for frame in container.decode(stream) if frame.time is not None]
        ticks = [(round((pts - frames[0][0]) * FPS), key) for pts, key in frames]
        # a keyframe on the first picture of each second of the clock, and only there, whatever was
        # skipped: counting 25 pictures instead would move every keyframe after the stall
        second = -1
        for tick, key in ticks:
            assert key == (tick // FPS != second), ticks
            second = tick // FPS
        assert len(ticks) < ticks[-1][0] + 1  # the stall's ticks were skipped, not encoded late
    video = [cuts[r.name] for r in ladder if not r.audio_only]
    assert all(c == video[0] for c in video), cuts  # the same segments in every video rendition


class StallingAcrossASecond(Programme):
    """One stall of 0.7 s at tick 20: the ticks skipped run past the next second (tick 25), so that
    second's keyframe comes late, on the first tick encoded in it (about tick 37)."""

    def _pick(self, tick: int, now: float) -> tuple[av.VideoFrame, av.AudioFrame]:
        if tick == 20:
            time.sleep(0.7)
        return super()._pick(tick, now)


@pytest.mark.slow
async def test_every_keyframe_starts_a_segment_after_a_stall(tmp_path: Path) -> None:
    """The segments stay on the clock's seconds after a stall: every keyframe (one a second, see
    above) begins a segment, so no segment holds two and none lasts past its second."""
    programme = StallingAcrossASecond(1, tmp_path / "live", Picture(ladder=parse_ladder("720p")), Relay(),
                                      asyncio.get_running_loop(), lambda state: None)
    programme.start()
    try:
        await wait_for(lambda: programme.frames >= 4 * FPS, 60)
    finally:
        await programme.stop()
    assert programme.late_ticks > 0
    folder = tmp_path / "live" / "720p"
    init = (folder / "init.mp4").read_bytes()
    for segment in m3u8.load(str(folder / "dvr.m3u8")).segments:
        with av.open(io.BytesIO(init + (folder / segment.uri).read_bytes()), "r") as container:
            keys = [frame.key_frame for frame in container.decode(video=0)]
        assert keys[0] and sum(keys) == 1, (segment.uri, keys)


class FailingProgramme(Programme):
    """The test card, with one failure of the encode at tick 40 of its first run (a full disk)."""

    def _pick(self, tick: int, now: float) -> tuple[av.VideoFrame, av.AudioFrame]:
        if tick == 40 and not self.failures:
            raise OSError(28, "No space left on device")
        return super()._pick(tick, now)


@pytest.mark.slow
async def test_an_encode_that_fails_goes_on_with_the_same_playlists(tmp_path: Path) -> None:
    states: list[str] = []
    ladder = parse_ladder("720p,360p,audio")
    programme = FailingProgramme(1, tmp_path / "live", Picture(ladder=ladder), Relay(), asyncio.get_running_loop(),
                                 states.append)
    programme.start()
    try:
        await wait_for(lambda: programme.failures == 1 and programme.frames >= 40 + 3 * FPS, 60)
    finally:
        await programme.stop()
    assert states == ["live", "off", "live", "off"]
    for rendition in ladder:
        dvr = (tmp_path / "live" / rendition.name / "dvr.m3u8").read_text()
        # the first run's playlists were left open, not ended, and the second went on with them:
        # numbers one after the other, the break marked once, the end only at the stop
        assert dvr.count("#EXT-X-ENDLIST") == 1 and dvr.rstrip().endswith("#EXT-X-ENDLIST")
        assert dvr.count("#EXT-X-DISCONTINUITY\n") == 1, dvr
        numbers = [int(seg.uri.removesuffix(".m4s")) for seg in m3u8.loads(dvr).segments]
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers))) and len(numbers) >= 4, dvr


@pytest.mark.slow
async def test_the_audio_rendition_keeps_to_the_second(tmp_path: Path) -> None:
    """Segment n of the audio-only rendition starts within one part of segment n of the video ones
    (it is cut at whole AAC frames), however long the programme runs: hls.js switches to it and back
    by segment number and time."""
    ladder = parse_ladder("720p,audio")
    programme = Programme(1, tmp_path / "live", Picture(ladder=ladder), Relay(), asyncio.get_running_loop(),
                          lambda state: None)
    programme.start()
    try:
        await wait_for(lambda: programme.frames >= 8 * FPS, 60)
    finally:
        await programme.stop()
    dates = {r.name: {seg.uri: seg.program_date_time for seg in m3u8.load(str(tmp_path / "live" / r.name / "dvr.m3u8"))
                      .segments} for r in ladder}
    common = set(dates["720p"]) & set(dates["audio"])
    assert len(common) >= 7, dates
    for uri in common:
        assert abs((dates["audio"][uri] - dates["720p"][uri]).total_seconds()) <= 0.25, (uri, dates)


def test_a_bad_ladder_is_refused_by_name(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                         tmp_path: Path) -> None:
    assert load_settings(overrides={"video_ladder": "720p, 360p"}).video_ladder == "720p, 360p"
    with pytest.raises(ValueError, match=r"setting video_ladder: .*choose from 720p, 480p, 360p, audio \(not 1080p\)"):
        load_settings(overrides={"video_ladder": "1080p,720p"})
    with pytest.raises(ValueError, match="setting video_ladder: .*the first rendition must have video"):
        load_settings(overrides={"video_ladder": "audio,720p"})
    monkeypatch.setenv("DOITHOAI_VIDEO_LADDER", "360p,720p")
    assert cli_main(["serve", "--data-dir", str(tmp_path / "data")]) == 2
    assert "setting video_ladder: " in capsys.readouterr().err
    # the worker started by hand says the same
    with pytest.raises(SystemExit) as exited:
        worker_main([str(tmp_path), "3", "--ladder", "720p,720p"])
    assert exited.value.code == 2 and "a rendition is named twice" in capsys.readouterr().err
    assert set(RENDITIONS) == {"720p", "480p", "360p", "audio"}
