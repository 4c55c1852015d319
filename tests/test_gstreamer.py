"""GStreamer's webrtcbin (Debian's, not ours) publishes over WHIP and plays over WHEP against a real
server with its media worker (docs/video.md, "Encoders tried"). The client is tests/gst_client.py,
run on Debian's python3, which has PyGObject (`make system-packages` installs it and GStreamer)."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import av
import numpy as np
import pytest
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from yarl import URL

from server.keys import media_key
from tests.conftest import RunningServer, wait_for
from tests.test_video import Studio

pytestmark = pytest.mark.slow

DEBIAN_PYTHON = "/usr/bin/python3"  # the venv does not see Debian's gi (PyGObject)
CLIENT = Path(__file__).with_name("gst_client.py")
# videotestsrc's default picture, SMPTE colour bars at 100 %, left to right: which of R, G, B each
# bar has full. How the programme's pictures are told to be GStreamer's: our test card has the same
# bars at 75 % (about 190 of 255), the slate has none.
SMPTE_BARS = [(1, 1, 1), (1, 1, 0), (0, 1, 1), (0, 1, 0), (1, 0, 1), (1, 0, 0), (0, 0, 1)]
FULL, NONE = 215, 60  # what H.264 and two colour conversions leave of 255 and 0


@pytest.fixture(scope="module")
def gstreamer() -> None:
    """Skip (saying what is missing) where Debian's GStreamer with webrtcbin is not installed."""
    probe = ("import gi; gi.require_version('Gst', '1.0'); gi.require_version('GstWebRTC', '1.0');"
             "gi.require_version('GstSdp', '1.0'); from gi.repository import Gst, GstWebRTC, GstSdp;"
             "Gst.init(None); missing = [n for n in ('webrtcbin', 'nicesrc', 'dtlssrtpenc', 'x264enc',"
             " 'opusenc', 'avdec_h264', 'opusdec') if Gst.ElementFactory.find(n) is None];"
             "print(' '.join(missing))")
    try:
        found = subprocess.run([DEBIAN_PYTHON, "-c", probe], capture_output=True, text=True, timeout=60)
    except FileNotFoundError:
        pytest.skip(f"no {DEBIAN_PYTHON}: GStreamer's client runs on Debian's python3 (make system-packages)")
    if found.returncode != 0:
        pytest.skip(f"Debian's PyGObject/GStreamer missing (make system-packages): {found.stderr.strip()[-300:]}")
    if found.stdout.strip():
        pytest.skip(f"GStreamer elements missing (make system-packages): {found.stdout.strip()}")


@pytest.fixture
async def studio(start_server: Callable[..., Awaitable[RunningServer]], http: aiohttp.ClientSession) -> Studio:
    """A live session on a server with video, and an editor to choose its feed (as in test_video)."""
    server = await start_server(media=True)
    return await Studio.open(server, http)


class GstClient:
    """tests/gst_client.py as a process; its stdout lines are collected as they come."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self.stderr = b""
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, *args: str) -> GstClient:
        process = await asyncio.create_subprocess_exec(
            DEBIAN_PYTHON, str(CLIENT), *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        return cls(process)

    async def _read(self) -> None:
        assert self.process.stdout is not None and self.process.stderr is not None

        async def lines(stdout: asyncio.StreamReader) -> None:
            async for line in stdout:
                self.lines.append(line.decode().rstrip("\n"))

        async def errors(stderr: asyncio.StreamReader) -> None:  # read alongside: a full pipe would block it
            self.stderr = await stderr.read()

        await asyncio.gather(lines(self.process.stdout), errors(self.process.stderr))

    def why(self) -> str:
        return f"stdout {self.lines}, stderr {self.stderr.decode(errors='replace')[-2000:]}"

    async def wait_line(self, line: str, timeout: float = 60) -> None:  # noqa: ASYNC109
        """Until the client says `line`; its own words if it exits first."""
        try:
            await wait_for(lambda: any(seen.startswith(line) for seen in self.lines)
                           or self._reader.done(), timeout)
        except AssertionError:
            raise AssertionError(f"gst_client said no {line!r} in {timeout} s: {self.why()}") from None
        if not any(seen.startswith(line) for seen in self.lines):
            await self._reader
            raise AssertionError(f"gst_client exited ({self.process.returncode}) before {line!r}: {self.why()}")

    async def finish(self, timeout: float = 120) -> tuple[int, dict[str, Any] | None]:  # noqa: ASYNC109
        """Its exit code and the JSON summary it printed last (None if it printed none)."""
        await asyncio.wait_for(self._reader, timeout)
        code = await asyncio.wait_for(self.process.wait(), timeout)
        summary = json.loads(self.lines[-1]) if self.lines and self.lines[-1].startswith("{") else None
        return code, summary

    async def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        await self._reader


def bars_seen(picture: np.ndarray) -> list[tuple[int, int, int]]:
    """The colour at the middle of each of the seven bars, half way down (RGB)."""
    height, width, _ = picture.shape
    bar = width / 7
    middle = [picture[height // 2, int(bar * (i + 0.5))] for i in range(7)]
    return [(int(r), int(g), int(b)) for r, g, b in middle]


def looks_like_bars(seen: list[tuple[int, int, int]]) -> bool:
    return all((level >= FULL) if on else (level <= NONE)
               for got, want in zip(seen, SMPTE_BARS, strict=True) for level, on in zip(got, want, strict=True))


class BarsViewer:
    """A WHEP viewer on aiortc that looks at every picture: GStreamer's bars, or something else
    (the slate). Watching over WHEP sees the one encode's output, as HLS does."""

    def __init__(self) -> None:
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.bars = 0
        self.others = 0
        self.sizes: set[tuple[int, int]] = set()
        self.audio_frames = 0
        self.resource = ""
        self._tasks: set[asyncio.Task[None]] = set()

    async def _look(self, track: MediaStreamTrack) -> None:
        try:
            while True:
                frame = await track.recv()
                if isinstance(frame, av.VideoFrame):
                    self.sizes.add((frame.width, frame.height))
                    if looks_like_bars(bars_seen(frame.to_ndarray(format="rgb24"))):
                        self.bars += 1
                    else:
                        self.others += 1
                else:
                    self.audio_frames += 1
        except MediaStreamError:
            pass

    async def start(self, http: aiohttp.ClientSession, url: str, token: str) -> None:
        self.pc.addTransceiver("video", direction="recvonly")
        self.pc.addTransceiver("audio", direction="recvonly")
        self.pc.on("track", lambda track: self._tasks.add(asyncio.create_task(self._look(track))))
        await self.pc.setLocalDescription(await self.pc.createOffer())
        async with http.post(url, data=self.pc.localDescription.sdp, headers={
                "Content-Type": "application/sdp", "Authorization": f"Bearer {token}"}) as response:
            answer = await response.text()
            assert response.status == 201, answer
            self.resource = str(response.url.join(URL(response.headers["Location"])))
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))

    async def stop(self, http: aiohttp.ClientSession) -> None:
        if self.resource:
            async with http.delete(self.resource):
                pass
        for task in self._tasks:
            task.cancel()
        await self.pc.close()


async def test_gstreamer_publishes_over_whip(gstreamer: None, studio: Studio) -> None:
    await studio.set_feed("whip")
    await studio.wait_state("slate")
    viewer = BarsViewer()
    await viewer.start(studio.http, studio.whep, studio.watch_token)
    publisher = await GstClient.start("publish", studio.whip, studio.publish_token, "300")
    try:
        await publisher.wait_line("connected")
        await studio.wait_state("live", 30)
        # the programme is GStreamer's pictures (its 100 % bars: not the slate, not our test card)
        await wait_for(lambda: viewer.bars >= 25, 30)
        assert viewer.sizes == {(1280, 720)}
        assert viewer.audio_frames > 0

        publisher.process.send_signal(signal.SIGTERM)  # the operator stops the encoder: it hangs up
        code, summary = await publisher.finish()
        assert code == 0, publisher.why()
        assert summary is not None and summary["sent"] and summary["seconds"] > 0
        await studio.wait_state("slate", 10)  # the DELETE reached the server
        others = viewer.others
        await wait_for(lambda: viewer.others >= others + 10, 10)  # and the programme shows the slate
    finally:
        await publisher.kill()
        await viewer.stop(studio.http)


async def test_gstreamer_plays_over_whep(gstreamer: None, studio: Studio) -> None:
    await studio.set_feed("test")
    await studio.wait_state("live")
    player = await GstClient.start("play", studio.whep, studio.watch_token, "90", "--frames", "50", "--audio", "50")
    try:
        code, summary = await player.finish()
    finally:
        await player.kill()
    assert code == 0, player.why()
    assert summary is not None
    assert summary["video_frames"] >= 50 and summary["audio_buffers"] >= 50
    assert (summary["width"], summary["height"]) == (1280, 720)
    media = studio.server.app[media_key]

    async def viewers() -> int:
        status = await media.request("status")
        return int(status["sessions"][str(studio.id)]["viewers"])

    for _ in range(50):  # the player's DELETE gave its slot back
        if await viewers() == 0:
            break
        await asyncio.sleep(0.2)
    assert await viewers() == 0


async def test_gstreamer_refused_says_why(gstreamer: None, studio: Studio) -> None:
    """The client's failures are the server's refusals, word for word (what a studio would read)."""
    await studio.set_feed("test")
    await studio.wait_state("live")
    wrong = await GstClient.start("publish", studio.whip, "wrong-token", "5")
    code, _ = await wrong.finish()
    assert code == 1 and "401" in wrong.stderr.decode(), wrong.why()
    not_whip = await GstClient.start("publish", studio.whip, studio.publish_token, "5")
    code, _ = await not_whip.finish()
    assert code == 1 and "409" in not_whip.stderr.decode() and "feed_not_whip" in not_whip.stderr.decode()
