"""Where a programme's picture comes from, besides the built-in test card.

- `Publication`: a WHIP publisher (the studio page, OBS): aiortc decodes its tracks, we hand the
  frames to the feed.
- `Pull`: a URL the TV station's encoder serves (RTSP, RTMP, SRT, HLS, MPEG-TS over UDP) read by
  PyAV on a thread; reconnects on its own while the feed shows the slate. Where the URL may point
  is checked again right before every connection (stream/feed_policy.py)."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from urllib.parse import urlsplit

import av
from aiortc import RTCPeerConnection
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from .feed import Feed
from .feed_policy import FFMPEG_PROTOCOLS, FeedPolicy, FeedRefused
from .peers import answer_publisher, close_quietly

log = logging.getLogger(__name__)

RECONNECT_SECONDS = (1, 2, 5, 10)


class Publication:
    """One WHIP publisher's connection; its frames go to `feed` while it lasts."""

    def __init__(self, feed: Feed) -> None:
        self.feed = feed
        self.pc: RTCPeerConnection | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, sdp: str) -> str:
        self.pc, answer = await answer_publisher(sdp, self._on_track)
        return answer

    def _on_track(self, track: MediaStreamTrack) -> None:
        task = asyncio.create_task(self._consume(track), name=f"whip-{track.kind}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _consume(self, track: MediaStreamTrack) -> None:
        put = self.feed.put_picture if track.kind == "video" else self.feed.put_sound
        try:
            while True:
                put(await track.recv())  # type: ignore[arg-type]
        except MediaStreamError:  # the publisher went away: the programme shows the slate
            pass

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self.pc is not None:
            await close_quietly(self.pc)


class Pull:
    """Reads a URL on a thread, decodes once, paces recordings to real time, reconnects on failure."""

    def __init__(self, url: str, feed: Feed, policy: FeedPolicy | None = None) -> None:
        self.url = url
        self.feed = feed
        self.policy = policy or FeedPolicy()
        self.error: str | None = None
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pull", daemon=True)

    def start(self) -> None:
        self._thread.start()

    async def stop(self) -> None:
        self._stopping.set()
        await asyncio.to_thread(self._thread.join, 15)

    def _run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            live = True
            try:
                live = self._read()
                failures = 0  # a recording played to its end (loop it), or a live source ended (reconnect)
            except FeedRefused as refused:  # the name points inside now (DNS rebinding): not connected
                self.error = f"refused: {refused.reason} ({', '.join(refused.params.values())})"
                log.warning("pull %s refused: %s", self.safe_url, self.error)
                failures += 1
            except Exception as exc:  # any network or demux failure: try again shortly
                # FFmpeg's messages quote the URL, which may carry the station's password
                self.error = f"{type(exc).__name__}: {exc}".replace(self.url, self.safe_url)
                log.warning("pull %s failed: %s", self.safe_url, self.error)
                failures += 1
            if failures or live:  # a recording loops at once; anything else gets a pause first
                self._stopping.wait(RECONNECT_SECONDS[min(failures, len(RECONNECT_SECONDS) - 1)])

    @property
    def safe_url(self) -> str:
        """The URL without its user and password, for logs."""
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        return f"{parts.scheme}://{host}{':' + str(parts.port) if parts.port else ''}{parts.path}"

    def _read(self) -> bool:
        """Play the source until it ends; True if it was live (no known duration)."""
        self.policy.check_now(self.url)  # where the name points now, right before FFmpeg connects
        options = {
            "rw_timeout": "5000000",  # a silent source raises instead of blocking this thread forever
            # nothing the source points to (an HLS playlist's segments) may be a file or the like
            "protocol_whitelist": FFMPEG_PROTOCOLS,
        }
        with av.open(self.url, options=options, timeout=10) as container:
            streams = [s for s in container.streams if s.type in ("video", "audio")]
            if not streams:
                raise ValueError("the source has neither video nor audio")
            self.error = None
            live = container.duration is None  # a recording served over HTTP has a duration
            started = time.monotonic()
            first: float | None = None
            for packet in container.demux(streams):
                if self._stopping.is_set():
                    return live
                for frame in packet.decode():
                    if not isinstance(frame, (av.VideoFrame, av.AudioFrame)):
                        continue  # only video and audio streams are demuxed: no subtitle comes here
                    if not live and frame.time is not None:  # a recording: play it at its own speed
                        first = frame.time if first is None else first
                        ahead = (frame.time - first) - (time.monotonic() - started)
                        if ahead > 0:
                            self._stopping.wait(ahead)
                    if isinstance(frame, av.VideoFrame):
                        self.feed.put_picture(frame)
                    else:
                        self.feed.put_sound(frame)
        return live
