"""Reference WHIP and WHEP clients on aiortc: a publisher that sends the test card (as OBS or the
studio page would send a camera) and a player that decodes what it receives and reads each
picture's stamp. The tests and bench/video.py use them; so can anyone checking a deployment."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from fractions import Fraction

import aiohttp
import av
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from .clock import FPS, SAMPLE_RATE
from .stamp import Stamp, age_ms, read_stamp
from .testcard import TestCard

VIDEO_CLOCK = Fraction(1, 90000)


class TestCardVideo(MediaStreamTrack):
    """The test card at 25 fps in real time, stamped with the time each picture is made."""

    kind = "video"

    def __init__(self) -> None:
        super().__init__()
        self.card = TestCard()
        self.sent = 0
        self._start: float | None = None

    async def recv(self) -> av.VideoFrame:  # type: ignore[override]
        if self._start is None:
            self._start = time.monotonic()
        delay = self._start + self.sent / FPS - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        frame = self.card.video_frame(self.sent, time.time())
        frame.pts, frame.time_base = self.sent * (90000 // FPS), VIDEO_CLOCK
        self.sent += 1
        return frame


class TestCardAudio(MediaStreamTrack):
    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self.card = TestCard()
        self.samples = 0
        self._start: float | None = None

    async def recv(self) -> av.AudioFrame:  # type: ignore[override]
        if self._start is None:
            self._start = time.monotonic()
        delay = self._start + self.samples / SAMPLE_RATE - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        frame = self.card.audio_frame(self.samples, 960)
        self.samples += 960
        return frame


async def _exchange(http: aiohttp.ClientSession, url: str, token: str, pc: RTCPeerConnection) -> str:
    """Offer (with every candidate), POST, answer; returns the resource URL."""
    await pc.setLocalDescription(await pc.createOffer())
    async with http.post(url, data=pc.localDescription.sdp, headers={
            "Content-Type": "application/sdp", "Authorization": f"Bearer {token}"}) as response:
        body = await response.text()
        if response.status != 201:
            raise RuntimeError(f"{url}: {response.status} {body}")
        location = response.headers["Location"]
    await pc.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))
    return str(response.url.join(aiohttp.client.URL(location)))


@dataclass
class Publisher:
    pc: RTCPeerConnection
    resource: str
    video: TestCardVideo

    async def stop(self, http: aiohttp.ClientSession, token: str) -> None:
        async with http.delete(self.resource, headers={"Authorization": f"Bearer {token}"}):
            pass
        await self.pc.close()


async def publish_test_card(http: aiohttp.ClientSession, url: str, token: str) -> Publisher:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    video = TestCardVideo()
    pc.addTrack(video)
    pc.addTrack(TestCardAudio())
    try:
        return Publisher(pc, await _exchange(http, url, token, pc), video)
    except BaseException:
        await pc.close()
        raise


@dataclass
class Player:
    """A WHEP viewer that decodes everything and keeps each picture's stamp and arrival time."""

    pc: RTCPeerConnection
    resource: str = ""
    stamps: list[tuple[Stamp, int]] = field(default_factory=list)  # (stamp, received at: unix ms)
    unstamped: int = 0
    sizes: set[tuple[int, int]] = field(default_factory=set)
    audio_frames: int = 0
    pictures: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def delays(self) -> list[int]:
        """Glass-to-glass: how old each picture was when it was decoded here, in ms."""
        return [age_ms(stamp, at) for stamp, at in self.stamps if not stamp.slate]

    async def _consume(self, track: MediaStreamTrack) -> None:
        try:
            while True:
                frame = await track.recv()
                now = int(time.time() * 1000)
                if isinstance(frame, av.VideoFrame):
                    self.sizes.add((frame.width, frame.height))
                    stamp = read_stamp(frame)
                    if stamp is None:
                        self.unstamped += 1
                    else:
                        self.stamps.append((stamp, now))
                    self.pictures.set()
                else:
                    self.audio_frames += 1
        except MediaStreamError:
            pass

    async def stop(self, http: aiohttp.ClientSession) -> None:
        if self.resource:
            async with http.delete(self.resource):
                pass
        for task in self._tasks:
            task.cancel()
        await self.pc.close()


async def play(http: aiohttp.ClientSession, url: str, token: str) -> Player:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    player = Player(pc)
    pc.addTransceiver("video", direction="recvonly")
    pc.addTransceiver("audio", direction="recvonly")

    @pc.on("track")
    def _track(track: MediaStreamTrack) -> None:
        player._tasks.add(asyncio.create_task(player._consume(track)))

    try:
        player.resource = await _exchange(http, url, token, pc)
    except BaseException:
        await pc.close()
        raise
    return player
