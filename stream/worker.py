"""The media worker: a process of its own that the server starts and supervises (server/media.py).

Why a process: encoding 720p and sending RTP to every WebRTC viewer is CPU work that must never
slow question intake or the moderators' consoles (docs/video.md). In its own process it runs on its
own core and with its own interpreter lock; if it crashes, the server starts a new one and intake
never notices.

Started as `python -m stream.worker DATA_DIR FD [--width W --height H --bitrate B --dvr-segments N
--ladder 720p,360p,audio --recordings DIR ...]`
with one end of a socket pair on FD; it speaks stream/control.py's JSON lines on it and exits when
the server closes it."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
from pathlib import Path
from typing import Any

from . import capabilities, dtls
from .channel import Channel, ViewerSlots
from .control import LIMIT, MediaError, encode, read
from .feed_policy import FeedPolicy
from .hls.rendition import DEFAULT_LADDER, parse_ladder
from .peers import IceSettings, configure_ice
from .programme import Picture
from .recorder import RecordingSettings
from .slate import slate_planes

log = logging.getLogger("stream.worker")


class Worker:
    def __init__(self, data_dir: Path, picture: Picture, writer: asyncio.StreamWriter,
                 slots: ViewerSlots | None = None, policy: FeedPolicy | None = None,
                 recording: RecordingSettings | None = None) -> None:
        self.live_dir = data_dir / "live"
        self.recording = recording
        self.picture = picture
        self.slots = slots or ViewerSlots()
        self.policy = policy or FeedPolicy()
        self.writer = writer
        self.channels: dict[int, Channel] = {}
        self._feeds = asyncio.Lock()  # feed changes one at a time, in the order they came

    def send(self, message: dict[str, Any]) -> None:
        if not self.writer.is_closing():
            self.writer.write(encode(message))

    def on_state(self, session_id: int, state: str) -> None:
        self.send({"event": "state", "session": session_id, "state": state})

    def on_peer(self, session_id: int, kind: str, state: str, error: str | None) -> None:
        """A WHIP publisher's state, or a WHEP viewer that failed; the server logs the failures."""
        self.send({"event": "peer", "session": session_id, "kind": kind, "state": state, "error": error})

    def on_recording(self, session_id: int, state: str, message: str, details: dict[str, Any]) -> None:
        self.send({"event": "recording", "session": session_id, "state": state, "message": message, **details})

    async def handle(self, message: dict[str, Any]) -> None:
        ident = message.get("id")
        try:
            op = getattr(self, "op_" + str(message.get("op")), None)
            if op is None:
                raise MediaError("bad_op", f"unknown operation {message.get('op')!r}")
            reply = {"id": ident, "ok": True, **(await op(message))}
        except MediaError as exc:
            reply = {"id": ident, "ok": False, "error": exc.code, "message": exc.message}
        except Exception as exc:
            log.exception("media operation %s failed", message.get("op"))
            reply = {"id": ident, "ok": False, "error": "internal", "message": type(exc).__name__}
        self.send(reply)

    def channel(self, message: dict[str, Any]) -> Channel:
        channel = self.channels.get(int(message["session"]))
        if channel is None:
            raise MediaError("off", "this session has no live video now")
        return channel

    async def op_feed(self, message: dict[str, Any]) -> dict[str, Any]:
        async with self._feeds:
            return await self._feed(message)

    async def _feed(self, message: dict[str, Any]) -> dict[str, Any]:
        session_id = int(message["session"])
        feed = message.get("feed")
        channel = self.channels.get(session_id)
        if feed is None:
            if channel is not None:
                del self.channels[session_id]
                await channel.close()
            return {}
        if channel is None:
            channel = Channel(session_id, self.live_dir / str(session_id), self.picture, self.on_state, self.slots,
                              self.policy, self.recording, self.on_recording, self.on_peer)
            self.channels[session_id] = channel
        await channel.set_feed(feed, message.get("url"))
        channel.set_recording(bool(message.get("record")))
        return {}

    async def op_publish(self, message: dict[str, Any]) -> dict[str, Any]:
        resource, sdp = await self.channel(message).publish(str(message["sdp"]))
        return {"resource": resource, "sdp": sdp}

    async def op_unpublish(self, message: dict[str, Any]) -> dict[str, Any]:
        await self.channel(message).unpublish(str(message["resource"]))
        return {}

    async def op_watch(self, message: dict[str, Any]) -> dict[str, Any]:
        resource, sdp = await self.channel(message).watch(str(message["sdp"]))
        return {"resource": resource, "sdp": sdp}

    async def op_unwatch(self, message: dict[str, Any]) -> dict[str, Any]:
        await self.channel(message).unwatch(str(message["resource"]))
        return {}

    async def op_status(self, message: dict[str, Any]) -> dict[str, Any]:
        return {"sessions": {str(sid): ch.status() for sid, ch in self.channels.items()}}

    async def close(self) -> None:
        """The worker shuts down (the server stops or restarts): the sessions stay on air for the
        next worker, so their playlists are not ended."""
        for channel in list(self.channels.values()):
            await channel.close(end=False)
        self.channels.clear()


async def serve(sock: socket.socket, data_dir: Path, picture: Picture, slots: ViewerSlots | None = None,
                policy: FeedPolicy | None = None, recording: RecordingSettings | None = None) -> None:
    reader, writer = await asyncio.open_unix_connection(sock=sock, limit=LIMIT)
    worker = Worker(data_dir, picture, writer, slots, policy, recording)
    tasks: set[asyncio.Task[None]] = set()
    try:
        while (message := await read(reader)) is not None:
            # each request on its own task: one viewer's ICE gathering must not hold up the rest
            task = asyncio.create_task(worker.handle(message))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
    finally:  # the server has gone (or is stopping us): close the playlists properly
        await worker.close()
        writer.close()


def lower_priority(niceness: int) -> None:
    """Linux keeps a niceness per thread, and a new thread takes its creator's: set it on every
    thread the worker has now (a library may have started one on import); the encode threads and
    x264's, started later, follow."""
    tasks = Path("/proc/self/task")
    if not tasks.is_dir():  # not Linux: the process's niceness is all there is
        os.nice(niceness)
        return
    for task in tasks.iterdir():
        os.setpriority(os.PRIO_PROCESS, int(task.name), niceness)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m stream.worker")
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("fd", type=int)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--bitrate", type=int, default=2_500_000)
    parser.add_argument("--dvr-segments", type=int, default=1800)
    parser.add_argument("--ladder", default=DEFAULT_LADDER, help="the HLS renditions, the top one first")
    parser.add_argument("--nice", type=int, default=0, choices=range(20), metavar="0-19",
                        help="lower the worker's priority below the server's (intake first)")
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--max-viewers", type=int, default=ViewerSlots.max_viewers, help="WHEP viewers per session")
    parser.add_argument("--connect-seconds", type=float, default=ViewerSlots.connect_seconds,
                        help="how long an answered WHEP offer may take to connect before its slot is freed")
    parser.add_argument("--feed-allow", action="append", default=[],
                        help="a host or network a pull feed may reach besides public addresses (repeat)")
    parser.add_argument("--ice-public-ip", default="", help="the public address of a 1:1 NAT, advertised as a host candidate")
    parser.add_argument("--ice-stun", default="", help="a STUN server (stun:host:port)")
    parser.add_argument("--ice-turn", action="append", default=[], help="a TURN server URL (repeat); its "
                        "credential comes from the environment (DOITHOAI_ICE_TURN_CREDENTIAL), not the command line")
    parser.add_argument("--ice-turn-username", default="")
    parser.add_argument("--no-ice-loopback", action="store_true", help="no 127.0.0.1 host candidate")
    parser.add_argument("--recordings", type=Path, help="record live sessions under this directory")
    parser.add_argument("--recording-fsync", action="store_true", help="sync the recording to disk once a second")
    parser.add_argument("--recording-start-mb", type=int, default=2048,
                        help="free space needed to start recording")
    parser.add_argument("--recording-warn-mb", type=int, default=4096, help="warn the console below this")
    parser.add_argument("--recording-floor-mb", type=int, default=512, help="stop recording below this")
    args = parser.parse_args(argv)
    try:
        ladder = parse_ladder(args.ladder)
    except ValueError as exc:
        parser.error(str(exc))
    lower_priority(args.nice)
    logging.basicConfig(level=args.log_level, format="%(asctime)s media %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aioice").setLevel(logging.WARNING)
    logging.getLogger("aiortc").setLevel(logging.WARNING)
    # Ctrl+C reaches the whole process group: the server decides when the worker stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    capabilities.require()
    configure_ice(IceSettings(args.ice_public_ip, args.ice_stun, tuple(args.ice_turn), args.ice_turn_username,
                              os.environ.get("DOITHOAI_ICE_TURN_CREDENTIAL", ""), not args.no_ice_loopback))
    if not dtls.p224_works():  # started without the server's OPENSSL_CONF, or an OpenSSL without P-224
        log.warning("DTLS: a peer whose certificate is on P-224 (FFmpeg's WHIP muxer) cannot connect "
                    "(OPENSSL_CONF=%s)", os.environ.get("OPENSSL_CONF"))
    slate_planes()  # decoded once now, not on the encode thread the first time a feed drops (~60 ms)
    picture = Picture(args.width, args.height, args.bitrate, dvr_segments=args.dvr_segments, ladder=ladder)
    slots = ViewerSlots(max_viewers=args.max_viewers, connect_seconds=args.connect_seconds)
    mb = 1024**2
    recording = RecordingSettings(args.recordings, args.recording_fsync, args.recording_start_mb * mb,
                                  args.recording_warn_mb * mb, args.recording_floor_mb * mb) \
        if args.recordings else None
    asyncio.run(serve(socket.socket(fileno=args.fd), args.data_dir, picture, slots, FeedPolicy(args.feed_allow),
                      recording))


if __name__ == "__main__":
    main()
