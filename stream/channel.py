"""One session's live video in the media worker: its programme, its feed, its WHIP publisher and
its WHEP viewers."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiortc import RTCPeerConnection

from .control import MediaError
from .feed import Feed
from .feed_policy import FeedPolicy
from .peers import answer_viewer, close_quietly, failure, not_connected
from .programme import Picture, Programme
from .recorder import Recorder, RecordingSettings
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
                 policy: FeedPolicy | None = None, recording: RecordingSettings | None = None,
                 on_recording: Callable[[int, str, str, dict[str, object]], None] | None = None,
                 on_peer: Callable[[int, str, str, str | None], None] | None = None) -> None:
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
        # (session, "whip" | "whep", state, reason): the studio's publisher as the console shows it
        # (connecting, connected, failed, ended) and viewers that failed; the server logs failures
        self._on_peer = on_peer
        self._publish_deadline: asyncio.TimerHandle | None = None
        self.viewers: dict[str, Viewer] = {}
        self._ended: deque[str] = deque(maxlen=1000)  # resources that ended lately (see _gone)
        if recording is not None:
            loop = asyncio.get_running_loop()

            def report(state: str, message: str, details: dict[str, object]) -> None:  # from the encode thread
                if on_recording is not None:
                    loop.call_soon_threadsafe(on_recording, session_id, state, message, details)

            self.programme.recorder = Recorder(session_id, recording, report)
        self.programme.start()

    def set_recording(self, record: bool) -> None:
        """Record while the session is live (the encode thread starts a run at its next keyframe)."""
        self.programme.record = record

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
        pc = publication.pc
        assert pc is not None
        self._publisher("connecting")
        self._publish_deadline = asyncio.get_running_loop().call_later(
            self.slots.connect_seconds, self._publisher_late, resource)

        @pc.on("connectionstatechange")
        async def _changed() -> None:
            if resource not in self._publications:
                return  # replaced or hung up: its end is said already
            if pc.connectionState == "connected":
                self._cancel_publish_deadline()
                self._publisher("connected")
            elif pc.connectionState in ("failed", "closed"):  # refused, or a dropped network
                reason = failure(pc) if pc.connectionState == "failed" else "the publisher closed the connection"
                await self._publisher_failed(resource, reason)

        return resource, answer

    def _peer(self, kind: str, state: str, error: str | None = None) -> None:
        """A peer's state to the server, which logs a failure and shows the studio's on the console
        (no token, no address in it); without a server to tell, a failure is logged here."""
        if self._on_peer is not None:
            self._on_peer(self.session_id, kind, state, error)
        elif state == "failed":
            log.warning("session %s: %s failed: %s", self.session_id,
                        "WHIP publisher" if kind == "whip" else "WHEP viewer", error)

    def _publisher(self, state: str, error: str | None = None) -> None:
        self._peer("whip", state, error)

    def _viewer_failed(self, reason: str) -> None:
        self._peer("whep", "failed", reason)

    def _in_background(self, hang_up: Coroutine[Any, Any, None]) -> None:
        """A hang-up started from a callback, held until it is done (asyncio keeps only a weak reference to a task)."""
        task = asyncio.create_task(hang_up)
        self._hanging_up.add(task)
        task.add_done_callback(self._hanging_up.discard)

    def _cancel_publish_deadline(self) -> None:
        if self._publish_deadline is not None:
            self._publish_deadline.cancel()
            self._publish_deadline = None

    async def _publisher_failed(self, resource: str, reason: str) -> None:
        self._publisher("failed", reason)
        await self.unpublish(resource, ended=False)

    def _publisher_late(self, resource: str) -> None:
        publication = self._publications.get(resource)
        if publication is None or publication.pc is None or publication.pc.connectionState == "connected":
            return
        self._in_background(self._publisher_failed(resource, not_connected(publication.pc, self.slots.connect_seconds)))

    async def unpublish(self, resource: str, ended: bool = True) -> None:
        publication = self._publications.pop(resource, None)
        if publication is None:
            self._gone(resource)
            return
        self._ended.append(resource)
        if not self._publications:
            self._cancel_publish_deadline()
        await publication.stop()
        if ended and not self._publications:
            self._publisher("ended")

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
                if pc.connectionState == "failed":
                    self._viewer_failed(failure(pc))
                await self.unwatch(resource)

        return resource, answer

    def _not_connected(self, resource: str) -> None:
        """An answered offer whose ICE and DTLS never completed (a player that went away, or one
        that only wanted the slot): its slot goes back."""
        viewer = self.viewers.get(resource)
        if viewer is None or viewer.pc.connectionState == "connected":
            return
        self._viewer_failed(not_connected(viewer.pc, self.slots.connect_seconds) + "; its slot is free again")
        self._in_background(self.unwatch(resource))

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
            "recording": self.programme.recorder.state if self.programme.recorder else "off",
        }

    async def _stop_sources(self) -> None:
        for resource in list(self._publications):
            await self.unpublish(resource)
        if self._pull is not None:
            await self._pull.stop()
            self._pull = None

    async def close(self, *, end: bool = True) -> None:
        """`end`: the session's video is over (its playlists end); without it the worker is only
        shutting down and the next one goes on with the same playlists."""
        for resource in list(self.viewers):
            await self.unwatch(resource)
        await self._stop_sources()
        await self.programme.stop(end=end)
