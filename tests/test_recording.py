"""The recording survives what a real session meets (docs/recording.md): a SIGKILL of the media
worker, a SIGKILL of the whole server, a studio publisher that drops and returns, a nearly full
disk. Every check reads the recording back: the test card burns its capture time and frame number
into each picture (stream/stamp.py), so what is missing and where each picture sits on the
timeline is measured from the file, not assumed."""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import pytest

from moderation.sessions import SessionState
from server.keys import media_key
from stream.clients import publish_test_card
from stream.recording_index import Recording, load
from stream.recovery import recover
from stream.stamp import Stamp, read_stamp
from tests.conftest import ServerProcess, live_session_with_test_card, valid_payload, wait_for
from tests.test_video import Studio, recording_studio  # noqa: F401  (the fixture)


@pytest.fixture
def studio(recording_studio: Studio) -> Studio:  # noqa: F811
    """Here the studio is the recording's (tests/test_video.py recording_studio)."""
    return recording_studio


pytestmark = pytest.mark.slow

FRAME_S = 1 / 25


@dataclass
class Picture:
    pts_s: float
    stamp: Stamp | None


def pictures(path: Path) -> list[Picture]:
    """Every picture of the recording with its time in the file and its burnt-in stamp."""
    out = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        start = stream.start_time or 0
        for frame in container.decode(stream):
            assert frame.pts is not None and stream.time_base is not None
            out.append(Picture(float((frame.pts - start) * stream.time_base), read_stamp(frame)))
    return out


def decode_errors(path: Path) -> str:
    """What Debian's ffmpeg (not our PyAV) says when it decodes the whole file."""
    done = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-f", "null", "-"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stderr


def on_one_timeline(rec: Recording, seen: list[Picture]) -> None:
    """Each stamped picture sits where the clock says: origin + its time in the file = its capture
    time, before and after every break (nothing shifted later pictures). The encode ticks on a
    nominal 25 fps grid while a picture's stamp is when it was really drawn, so single pictures
    wobble by the thread's wake-up jitter; the typical offset of each stretch must agree within a
    frame, and no picture may be far off."""
    assert rec.origin is not None
    times = [p.pts_s for p in seen]
    assert times == sorted(times) and len(set(times)) == len(times)  # one timeline, never back
    stretches: list[list[float]] = [[]]
    for before, after in zip([None, *seen], seen, strict=False):
        if before is not None and after.pts_s - before.pts_s > 3 * FRAME_S:
            stretches.append([])
        if after.stamp is not None:
            stretches[-1].append(rec.origin + after.pts_s - after.stamp.time_ms / 1000)
    assert all(len(offsets) > 20 for offsets in stretches)
    typical = [statistics.median(offsets) for offsets in stretches]
    assert max(typical) - min(typical) <= FRAME_S, f"the timeline shifted: {typical}"
    assert all(abs(t) <= FRAME_S for t in typical), typical
    worst = max(abs(o) for offsets in stretches for o in offsets)
    assert worst <= 0.25, f"a picture is {worst:.3f} s off the timeline"


def fragments(directory: Path) -> int:
    return len(load(directory).marks)


async def test_a_worker_killed_mid_recording_loses_at_most_a_second(studio: Studio) -> None:  # noqa: F811
    await studio.set_feed("test")
    await studio.wait_state("live")
    media = studio.server.app[media_key]
    directory = studio.server.settings.recordings_path / str(studio.id)
    await wait_for(lambda: media.recording(studio.id)["state"] == "recording", 20)
    await wait_for(lambda: fragments(directory) >= 4, 20)

    pid = media.pid
    assert pid is not None
    killed_at = time.time()
    os.kill(pid, signal.SIGKILL)  # mid-fragment: its tail is torn
    await studio.wait_state("off", 10)
    await studio.wait_state("live", 30)  # a new worker appends to the same recording
    await wait_for(lambda: load(directory).runs == 2 and fragments(directory) >= 8, 30)

    await studio.server.store.transition_session(studio.id, SessionState.CLOSED)  # the run ends cleanly
    await wait_for(lambda: load(directory).closed, 20)
    rec = load(directory)
    assert rec.runs == 2 and [g.kind for g in rec.gaps] == ["missing"]
    assert list(directory.glob("*.ts")) == [rec.video]  # one file, nothing for a person to join

    assert decode_errors(rec.video) == ""
    seen = pictures(rec.video)
    on_one_timeline(rec, seen)
    before = [p.stamp.time_ms / 1000 for p in seen if p.stamp and p.stamp.time_ms / 1000 < killed_at]
    lost = killed_at - max(before)
    assert lost <= 1.0 + 2 * FRAME_S, f"{lost:.2f} s lost to the SIGKILL"
    gap = rec.gaps[0]
    assert rec.origin is not None
    assert abs(gap.start_s - (max(before) - rec.origin + FRAME_S)) <= 2 * FRAME_S  # listed where it is
    assert rec.duration_s == pytest.approx(seen[-1].pts_s + FRAME_S, abs=2 * FRAME_S)


async def test_a_publisher_dropping_and_returning_is_one_recording_with_the_slate_listed(
        studio: Studio) -> None:  # noqa: F811
    await studio.set_feed("whip")
    media = studio.server.app[media_key]
    directory = studio.server.settings.recordings_path / str(studio.id)
    await studio.wait_state("slate")
    publisher = await publish_test_card(studio.http, studio.whip, studio.publish_token)
    try:
        await studio.wait_state("live")
        await wait_for(lambda: media.recording(studio.id)["state"] == "recording", 20)
        await wait_for(lambda: fragments(directory) >= 3, 20)
        await publisher.stop(studio.http, studio.publish_token)  # the studio's network drops
        await studio.wait_state("slate", 10)
        count = fragments(directory)
        await wait_for(lambda: fragments(directory) >= count + 2, 20)
        publisher = await publish_test_card(studio.http, studio.whip, studio.publish_token)  # and returns
        await studio.wait_state("live")
        count = fragments(directory)
        await wait_for(lambda: fragments(directory) >= count + 2, 20)
    finally:
        await publisher.stop(studio.http, studio.publish_token)
    await studio.set_feed("test")  # a feed change: the studio → the test card (a TV encoder would be the same)
    await studio.wait_state("live")
    count = fragments(directory)
    await wait_for(lambda: fragments(directory) >= count + 2, 20)
    await studio.server.store.transition_session(studio.id, SessionState.CLOSED)
    await wait_for(lambda: load(directory).closed, 20)

    rec = load(directory)
    assert rec.runs == 1  # the feed's breaks and changes never split the recording
    slates = [g for g in rec.gaps if g.kind == "slate"]
    assert len(slates) >= 1
    dropped = max(slates, key=lambda g: g.end_s - g.start_s)
    # how long depends on the machine's pace; long enough to hold pictures away from its edges
    assert dropped.end_s - dropped.start_s > 4 * FRAME_S, dropped
    assert decode_errors(rec.video) == ""
    seen = pictures(rec.video)
    # the slate is in the recording where the index says (the server stamps the slate it draws)
    inside = [p for p in seen if dropped.start_s + 2 * FRAME_S < p.pts_s < dropped.end_s - 2 * FRAME_S]
    assert inside and all(p.stamp is not None and p.stamp.slate for p in inside)
    times = [p.pts_s for p in seen]
    steps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert max(steps) <= 1.5 * FRAME_S  # no hole: a picture every tick through the drop and return


async def test_a_nearly_full_disk_refuses_to_record_and_intake_goes_on(studio: Studio,  # noqa: F811
                                                                         viewer_client: Any) -> None:
    media = studio.server.app[media_key]
    media.worker_args += ["--recording-start-mb", str(10**9)]  # a petabyte: more than any disk here has
    pid = media.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)  # the next worker starts with the new limit
    await wait_for(lambda: media.pid not in (None, pid), 30)
    await studio.set_feed("test")
    await studio.wait_state("live", 30)
    await wait_for(lambda: media.recording(studio.id)["state"] == "refused", 20)
    word = media.recording(studio.id)
    assert "MB free on the recordings disk" in word["message"] and "needed to start recording" in word["message"]
    assert not (studio.server.settings.recordings_path / str(studio.id) / "programme.ts").exists()
    async with studio.http.get(f"{studio.server.url}/api/v1/staff/sessions/{studio.id}/stream",
                               headers={"Authorization": f"Bearer {studio.api_token}"}) as response:
        said = (await response.json())["recording"]  # what the console shows the board
    assert said["state"] == "refused" and "needed to start recording" in said["message"]
    client = await viewer_client(studio.server.url)
    ack = await client.call("submit_question", valid_payload(studio.id), namespace="/viewer", timeout=10)
    assert ack["ok"] is True  # the questions never wait on the recording
    assert studio.state() == "live"  # and the live picture goes on


def test_recovery_cuts_a_torn_tail_to_the_last_whole_fragment(tmp_path: Path) -> None:
    directory = tmp_path / "7"
    directory.mkdir()
    (directory / "programme.ts").write_bytes(b"\x47" * 188 * 10 + b"\x47torn")
    (directory / "programme.idx").write_bytes(
        b'{"origin":1000.0,"fps":25,"session":7}\n{"run":1,"t":0.0,"wall":1000.0,"at":0}\n'
        b'{"frag":0,"t":0.0,"wall":1000.0}\n{"frag":940,"t":1.0,"wall":1001.0}\n{"frag":18')
    rec = recover(directory)
    assert (directory / "programme.ts").stat().st_size == 940 and rec.size == 940
    assert (directory / "programme.idx").read_bytes().endswith(b'"wall":1001.0}\n')  # the torn line is gone
    assert rec.duration_s == 1.0 and not rec.closed
    assert rec.at(1000.5) == pytest.approx(0.5)


def wait_until(predicate: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_a_server_killed_with_its_worker_and_restarted_keeps_one_recording(
        server_process: Callable[..., ServerProcess], tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    session_id = asyncio.run(live_session_with_test_card(data_dir))
    directory = data_dir / "recordings" / str(session_id)
    env = {"DOITHOAI_MEDIA": "1"}
    first = server_process(env=env)
    first.start()
    wait_until(lambda: fragments(directory) >= 5, 60)
    killed_at = time.time()
    first.kill()  # SIGKILL to the server's process group: the server, its writer and the media worker

    second = server_process(env=env)
    second.start()
    wait_until(lambda: load(directory).runs == 2 and fragments(directory) >= 10, 60)
    second.stop()  # a clean stop closes the run
    wait_until(lambda: load(directory).closed, 20)

    rec = load(directory)
    assert rec.runs == 2 and [g.kind for g in rec.gaps] == ["missing"]
    assert decode_errors(rec.video) == ""
    seen = pictures(rec.video)
    on_one_timeline(rec, seen)
    before = [p.stamp.time_ms / 1000 for p in seen if p.stamp and p.stamp.time_ms / 1000 < killed_at]
    assert killed_at - max(before) <= 1.0 + 2 * FRAME_S


async def test_the_recording_stops_at_the_disk_floor_and_the_live_picture_goes_on(studio: Studio,  # noqa: F811
                                                                                     viewer_client: Any) -> None:
    media = studio.server.app[media_key]
    # room to start, but below the floor at once: what a disk filling up during the session meets
    media.worker_args += ["--recording-start-mb", "0", "--recording-warn-mb", "0", "--recording-floor-mb", str(10**9)]
    pid = media.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    await wait_for(lambda: media.pid not in (None, pid), 30)
    await studio.set_feed("test")
    await studio.wait_state("live", 30)
    await wait_for(lambda: media.recording(studio.id)["state"] == "failed", 20)
    assert "recording stopped to keep room for the questions" in media.recording(studio.id)["message"]
    client = await viewer_client(studio.server.url)
    ack = await client.call("submit_question", valid_payload(studio.id), namespace="/viewer", timeout=10)
    assert ack["ok"] is True
    assert studio.state() == "live"
    directory = studio.server.settings.recordings_path / str(studio.id)
    rec = recover(directory)
    assert rec.runs == 1 and rec.video.stat().st_size == rec.size  # what was written stays whole
