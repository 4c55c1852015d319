"""One session's live video in the media worker: its programme, its feed, its WHIP publisher and
its WHEP viewers."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aiortc import RTCPeerConnection

from .control import MediaError
from .feed import Feed
from .peers import answer_viewer, close_quietly
from .programme import Picture, Programme
from .relay import PacketTrack, Relay
from .sources import Publication, Pull

log = logging.getLogger(__name__)

FEEDS = ("test", "whip", "url")
MAX_VIEWERS = 200  # WHEP is for the few; everyone else watches HLS


@dataclass
class Viewer:
    pc: RTCPeerConnection
    tracks: tuple[PacketTrack, PacketTrack]


class Channel:
    def __init__(self, session_id: int, out_dir: Path, picture: Picture,
                 on_state: Callable[[int, str], None]) -> None:
        self.session_id = session_id
        self.relay = Relay()
        self.programme = Programme(session_id, out_dir, picture, self.relay, asyncio.get_running_loop(),
                                   lambda state: on_state(session_id, state))
        self.feed: str | None = None
        self.url: str | None = None
        self._pull: Pull | None = None
        self._publications: dict[str, Publication] = {}
        self.viewers: dict[str, Viewer] = {}
        self._ended: deque[str] = deque(maxlen=1000)  # resources that ended lately (see _gone)
        self.programme.start()

    async def set_feed(self, feed: str, url: str | None) -> None:
        if feed not in FEEDS:
            raise MediaError("bad_feed", f"feed must be one of {', '.join(FEEDS)}")
        if feed == "url" and not url:  # the server checked the URL (moderation/workflow.check_feed)
            raise MediaError("bad_feed", "a pull feed needs its URL")
        url = url if feed == "url" else None
        if (feed, url) == (self.feed, self.url):
            return
        await self._stop_sources()
        self.feed, self.url = feed, url
        # a fresh feed: no picture of the previous source lingers on screen
        self.programme.feed = Feed()
        self.programme.mode = "test" if feed == "test" else "feed"
        if feed == "url":
            assert url is not None
            self._pull = Pull(url, self.programme.feed)
            self._pull.start()

    async def publish(self, sdp: str) -> tuple[str, str]:
        if self.feed != "whip":
            raise MediaError("feed_not_whip", "this session's feed is not the studio (WHIP); choose it first")
        publication = Publication(self.programme.feed)
        answer = await publication.start(sdp)
        # One publisher at a time: a new one (OBS reconnecting after a blip) replaces the old.
        for resource in list(self._publications):
            await self.unpublish(resource)
        resource = secrets.token_urlsafe(16)
        self._publications[resource] = publication
        assert publication.pc is not None

        @publication.pc.on("connectionstatechange")
        async def _gone() -> None:  # the publisher vanished without a DELETE (a dropped network)
            if publication.pc is not None and publication.pc.connectionState in ("failed", "closed") \
                    and resource in self._publications:
                await self.unpublish(resource)

        return resource, answer

    async def unpublish(self, resource: str) -> None:
        publication = self._publications.pop(resource, None)
        if publication is None:
            self._gone(resource)
            return
        self._ended.append(resource)
        await publication.stop()

    def _gone(self, resource: str) -> None:
        """DELETE is idempotent: a resource that ended already (its connection closed first, as a
        browser's does when it hangs up) is answered as deleted; one never made is not found."""
        if resource not in self._ended:
            raise MediaError("not_found", "no such resource")

    async def watch(self, sdp: str) -> tuple[str, str]:
        if len(self.viewers) >= MAX_VIEWERS:
            raise MediaError("full", f"at most {MAX_VIEWERS} low-latency viewers; watch the HLS stream")
        video, audio = self.relay.add("video"), self.relay.add("audio")
        try:
            pc, answer = await answer_viewer(sdp, video, audio)
        except BaseException:
            self.relay.remove(video)
            self.relay.remove(audio)
            raise
        resource = secrets.token_urlsafe(16)
        self.viewers[resource] = Viewer(pc, (video, audio))

        @pc.on("connectionstatechange")
        async def _gone() -> None:
            if pc.connectionState in ("failed", "closed") and resource in self.viewers:
                await self.unwatch(resource)

        return resource, answer

    async def unwatch(self, resource: str) -> None:
        viewer = self.viewers.pop(resource, None)
        if viewer is None:
            self._gone(resource)
            return
        self._ended.append(resource)
        for track in viewer.tracks:
            self.relay.remove(track)
        await close_quietly(viewer.pc)

    def status(self) -> dict[str, object]:
        return {
            "state": self.programme.state,
            "feed": self.feed,
            "viewers": len(self.viewers),
            "publishing": bool(self._publications),
            "frames": self.programme.frames,
            "late_ticks": self.programme.late_ticks,
            "resyncs": sum(v.tracks[0].resyncs for v in self.viewers.values()),
            "pull_error": self._pull.error if self._pull else None,
        }

    async def _stop_sources(self) -> None:
        for resource in list(self._publications):
            await self.unpublish(resource)
        if self._pull is not None:
            await self._pull.stop()
            self._pull = None

    async def close(self) -> None:
        for resource in list(self.viewers):
            await self.unwatch(resource)
        await self._stop_sources()
        await self.programme.stop()
