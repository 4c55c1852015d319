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
from .feed_policy import FeedPolicy
from .peers import answer_viewer, close_quietly
from .programme import Picture, Programme
from .relay import PacketTrack, Relay
from .sources import Publication, Pull

log = logging.getLogger(__name__)

FEEDS = ("test", "whip", "url")


@dataclass(frozen=True)
class ViewerSlots:
    """WHEP is for the few (the chair, the board); everyone else watches HLS. A slot is taken when an
    offer arrives, before its answer is worked out, and given back if the connection is not up
    within `connect_seconds`: an offer that never connects must not hold one for long."""

    max_viewers: int = 200
    connect_seconds: float = 15.0


@dataclass
class Viewer:
    pc: RTCPeerConnection
    tracks: tuple[PacketTrack, PacketTrack]
    deadline: asyncio.TimerHandle | None = None  # until the connection is up


class Channel:
    def __init__(self, session_id: int, out_dir: Path, picture: Picture,
                 on_state: Callable[[int, str], None], slots: ViewerSlots | None = None,
                 policy: FeedPolicy | None = None) -> None:
        self.session_id = session_id
        self.slots = slots or ViewerSlots()
        self.policy = policy or FeedPolicy()
        self._answering = 0  # offers whose answer is being worked out: their slots are taken
        self._hanging_up: set[asyncio.Task[None]] = set()
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
            self._pull = Pull(url, self.programme.feed, self.policy)
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
        # The check and the reservation with no await between them: offers that arrive together
        # each see the slots the others took.
        if len(self.viewers) + self._answering >= self.slots.max_viewers:
            raise MediaError("full", f"at most {self.slots.max_viewers} low-latency viewers; watch the HLS stream")
        self._answering += 1
        try:
            video, audio = self.relay.add("video"), self.relay.add("audio")
            try:
                pc, answer = await answer_viewer(sdp, video, audio)
            except BaseException:
                self.relay.remove(video)
                self.relay.remove(audio)
                raise
            resource = secrets.token_urlsafe(16)
            deadline = asyncio.get_running_loop().call_later(self.slots.connect_seconds, self._not_connected, resource)
            self.viewers[resource] = Viewer(pc, (video, audio), deadline)  # the slot passes to the viewer
        finally:
            self._answering -= 1

        @pc.on("connectionstatechange")
        async def _changed() -> None:
            viewer = self.viewers.get(resource)
            if viewer is None:
                return
            if pc.connectionState == "connected" and viewer.deadline is not None:
                viewer.deadline.cancel()
                viewer.deadline = None
            elif pc.connectionState in ("failed", "closed"):
                await self.unwatch(resource)

        return resource, answer

    def _not_connected(self, resource: str) -> None:
        """An answered offer whose ICE and DTLS never completed (a player that went away, or one
        that only wanted the slot): its slot goes back."""
        viewer = self.viewers.get(resource)
        if viewer is None or viewer.pc.connectionState == "connected":
            return
        log.info("session %s: a WHEP viewer did not connect within %s s; its slot is free again",
                 self.session_id, self.slots.connect_seconds)
        task = asyncio.create_task(self.unwatch(resource))
        self._hanging_up.add(task)
        task.add_done_callback(self._hanging_up.discard)

    async def unwatch(self, resource: str) -> None:
        viewer = self.viewers.pop(resource, None)
        if viewer is None:
            self._gone(resource)
            return
        self._ended.append(resource)
        if viewer.deadline is not None:
            viewer.deadline.cancel()
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
