"""The media worker: a process of its own that the server starts and supervises (server/media.py).

Why a process: encoding 720p and sending RTP to every WebRTC viewer is CPU work that must never
slow question intake or the moderators' consoles (docs/video.md). In its own process it runs on its
own core and with its own interpreter lock; if it crashes, the server starts a new one and intake
never notices.

Started as `python -m stream.worker DATA_DIR FD [--width W --height H --bitrate B --dvr-segments N]`
with one end of a socket pair on FD; it speaks stream/control.py's JSON lines on it and exits when
the server closes it."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import socket
from pathlib import Path
from typing import Any

from . import capabilities
from .channel import Channel, ViewerSlots
from .control import LIMIT, MediaError, encode, read
from .feed_policy import FeedPolicy
from .programme import Picture
from .slate import slate_planes

log = logging.getLogger("stream.worker")


class Worker:
    def __init__(self, data_dir: Path, picture: Picture, writer: asyncio.StreamWriter,
                 slots: ViewerSlots | None = None, policy: FeedPolicy | None = None) -> None:
        self.live_dir = data_dir / "live"
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
                              self.policy)
            self.channels[session_id] = channel
        await channel.set_feed(feed, message.get("url"))
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
        for channel in list(self.channels.values()):
            await channel.close()
        self.channels.clear()


async def serve(sock: socket.socket, data_dir: Path, picture: Picture, slots: ViewerSlots | None = None,
                policy: FeedPolicy | None = None) -> None:
    reader, writer = await asyncio.open_unix_connection(sock=sock, limit=LIMIT)
    worker = Worker(data_dir, picture, writer, slots, policy)
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m stream.worker")
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("fd", type=int)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--bitrate", type=int, default=2_500_000)
    parser.add_argument("--dvr-segments", type=int, default=1800)
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--max-viewers", type=int, default=ViewerSlots.max_viewers, help="WHEP viewers per session")
    parser.add_argument("--connect-seconds", type=float, default=ViewerSlots.connect_seconds,
                        help="how long an answered WHEP offer may take to connect before its slot is freed")
    parser.add_argument("--feed-allow", action="append", default=[],
                        help="a host or network a pull feed may reach besides public addresses (repeat)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s media %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aioice").setLevel(logging.WARNING)
    logging.getLogger("aiortc").setLevel(logging.WARNING)
    # Ctrl+C reaches the whole process group: the server decides when the worker stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    capabilities.require()
    slate_planes()  # decoded once now, not on the encode thread the first time a feed drops (~60 ms)
    picture = Picture(args.width, args.height, args.bitrate, dvr_segments=args.dvr_segments)
    slots = ViewerSlots(max_viewers=args.max_viewers, connect_seconds=args.connect_seconds)
    asyncio.run(serve(socket.socket(fileno=args.fd), args.data_dir, picture, slots, FeedPolicy(args.feed_allow)))


if __name__ == "__main__":
    main()
