"""WebRTC fan-out of the one encode: every WHEP viewer gets the same H.264 and Opus packets.

aiortc's RTCRtpSender packetizes an `av.Packet` without encoding it, so a viewer costs RTP
packetization and SRTP, not an encoder (bench/video.py measures the difference). Each viewer has a
bounded queue: a slow one loses what is queued and waits for the next keyframe, instead of holding
memory or delaying the others. aiortc ignores keyframe requests on this path (there is no encoder
to ask), so a new viewer also starts on the next keyframe, at most a second away."""

from __future__ import annotations

import asyncio
from collections import deque

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from .clock import AUDIO_TB, FRAME_TB

VIDEO_QUEUE = 50  # packets: two seconds of pictures
AUDIO_QUEUE = 100  # two seconds of 20 ms Opus packets


class PacketTrack(MediaStreamTrack):
    """One viewer's track: encoded packets in, handed to aiortc's sender as they come."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self._queue: deque[av.Packet] = deque()
        self._limit = VIDEO_QUEUE if kind == "video" else AUDIO_QUEUE
        self._ready = asyncio.Event()
        self._need_keyframe = kind == "video"
        self.sent = 0
        self.resyncs = 0  # times this viewer fell behind and skipped to a keyframe

    def offer(self, packet: av.Packet, keyframe: bool) -> None:
        if len(self._queue) >= self._limit:
            if self.kind == "video":
                self._queue.clear()
                self._need_keyframe = True
                self.resyncs += 1
            else:
                self._queue.popleft()
        if self._need_keyframe:
            if not keyframe:
                return
            self._need_keyframe = False
        self._queue.append(packet)
        self._ready.set()

    async def recv(self) -> av.Packet:  # type: ignore[override]
        while not self._queue:
            if self.readyState != "live":
                raise MediaStreamError
            self._ready.clear()
            await self._ready.wait()
        self.sent += 1
        return self._queue.popleft()

    def stop(self) -> None:
        super().stop()
        self._ready.set()  # wake recv so it can raise


class Relay:
    """The session's viewers' tracks, fed by the programme's encode thread (through the loop)."""

    def __init__(self) -> None:
        self.tracks: set[PacketTrack] = set()

    def add(self, kind: str) -> PacketTrack:
        track = PacketTrack(kind)
        self.tracks.add(track)
        return track

    def remove(self, track: PacketTrack) -> None:
        self.tracks.discard(track)
        track.stop()

    def video(self, data: bytes, pts: int, keyframe: bool) -> None:
        packet = av.Packet(data)  # one packet object shared by every viewer: senders only read it
        packet.pts, packet.time_base = pts, FRAME_TB
        for track in self.tracks:
            if track.kind == "video":
                track.offer(packet, keyframe)

    def audio(self, data: bytes, pts: int) -> None:
        packet = av.Packet(data)
        packet.pts, packet.time_base = pts, AUDIO_TB
        for track in self.tracks:
            if track.kind == "audio":
                track.offer(packet, True)
