"""A session's programme: one picture and one sound, encoded once, out to HLS and to WebRTC.

The encode runs on a thread of its own at a steady 25 frames a second, whatever the feed does: each
tick takes the feed's latest picture (or the test card, or the slate when the feed has been silent
for more than FEED_TIMEOUT), encodes it with libx264 once, writes the packet to the HLS muxer and
hands a copy to the WebRTC relay on the event loop. A feed that stutters, changes size or stops
never stops the outputs, so players never see the stream end mid-session.

x264 and FFmpeg release the interpreter lock while they work, so the worker's event loop (ICE,
DTLS, RTP to the WHEP viewers) keeps running on the other core."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import av
from av.video.frame import PictureType

from .clock import AUDIO_TB, FPS, FRAME_TB, SAMPLE_RATE, SAMPLES_PER_TICK
from .feed import Feed
from .relay import Relay
from .slate import slate_frame
from .testcard import TestCard

log = logging.getLogger(__name__)

FEED_TIMEOUT = 1.0  # seconds without a picture before the slate goes up
BEHIND_LIMIT = 0.5  # seconds late before ticks are skipped instead of run late
RETRY_SECONDS = 2.0


@dataclass
class Picture:
    """How the programme is encoded (server settings)."""

    width: int = 1280
    height: int = 720
    video_bitrate: int = 2_500_000
    audio_bitrate: int = 128_000
    dvr_segments: int = 1800  # 30 minutes of 1 s segments


def hls_options(out_dir: Path, picture: Picture, resume: bool) -> dict[str, str]:
    flags = ["delete_segments", "temp_file", "program_date_time", "independent_segments"]
    if resume:  # a restart after a crash: keep the playlist, mark the break
        flags += ["append_list", "discont_start"]
    return {
        "hls_time": "1",
        "hls_list_size": str(picture.dvr_segments),
        "hls_flags": "+".join(flags),
        "hls_segment_type": "mpegts",
        "hls_segment_filename": str(out_dir / "%d.ts"),
        # segment numbers from the clock: a restarted worker never reuses a name a CDN has cached
        "hls_start_number_source": "epoch",
    }


class Programme:
    """The encode thread of one session. `mode` is "test" (the built-in test card) or "feed"
    (whatever a source writes into `feed`: WHIP, a pull URL)."""

    def __init__(self, session_id: int, out_dir: Path, picture: Picture, relay: Relay,
                 loop: asyncio.AbstractEventLoop, on_state: Callable[[str], None]) -> None:
        self.session_id = session_id
        self.out_dir = out_dir
        self.picture = picture
        self.relay = relay
        self.loop = loop
        self.on_state = on_state
        self.mode = "test"
        self.feed = Feed()
        self.state = "starting"
        self.frames = 0
        self.late_ticks = 0
        self.failures = 0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._card: TestCard | None = None
        self._playlist_ready = False

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"programme-{self.session_id}", daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        """Finish the encode and close the playlist (ENDLIST): players see the end of the stream."""
        self._stopping.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join)

    # -- the encode thread -------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._encode()
            except Exception:  # a full disk, a codec error: say so, pause, start again (same playlist)
                log.exception("programme %s failed; starting it again", self.session_id)
                self.failures += 1
                self._set_state("off")
                self._stopping.wait(RETRY_SECONDS)

    def _set_state(self, state: str) -> None:
        # Not "live" to the world before the playlist exists: a player told so would fetch a 404.
        if state != "off" and not self._playlist_ready:
            self._playlist_ready = (self.out_dir / "dvr.m3u8").exists()
            if not self._playlist_ready:
                return
        if state != self.state:
            self.state = state
            self.loop.call_soon_threadsafe(self.on_state, state)

    def _encode(self) -> None:
        pic = self.picture
        self.out_dir.mkdir(parents=True, exist_ok=True)
        playlist = self.out_dir / "dvr.m3u8"
        kbps = pic.video_bitrate // 1000
        hls = av.open(str(playlist), "w", format="hls", options=hls_options(self.out_dir, pic, playlist.exists()))
        video = hls.add_stream("libx264", rate=FPS, options={
            "preset": "veryfast",
            "tune": "zerolatency",  # no lookahead, no frame threads: a frame leaves as it enters
            # a keyframe exactly every second: each 1 s segment starts with one, and a new WebRTC
            # viewer waits at most a second for its first picture
            "x264-params": f"keyint={FPS}:min-keyint={FPS}:scenecut=0:"
            # a ceiling, not only an average: after a still stretch (slate, test card) a busy
            # picture would otherwise spend the saved bits at four times the rate on every viewer
            f"vbv-maxrate={kbps}:vbv-bufsize={kbps}",
        })
        video.width, video.height, video.pix_fmt = pic.width, pic.height, "yuv420p"
        video.profile = "Baseline"  # x264's Baseline is Constrained Baseline: 42e01f, what browsers take
        video.bit_rate = pic.video_bitrate
        aac = hls.add_stream("aac", rate=SAMPLE_RATE)
        aac.layout = "stereo"
        aac.bit_rate = pic.audio_bitrate
        opus = av.CodecContext.create("libopus", "w")
        opus.sample_rate, opus.layout, opus.format = SAMPLE_RATE, "stereo", "s16"
        opus.bit_rate = 64_000
        headers = b""
        start = time.monotonic()
        tick = 0
        try:
            while not self._stopping.is_set():
                delay = start + tick / FPS - time.monotonic()
                if delay > 0:
                    self._stopping.wait(delay)
                elif delay < -BEHIND_LIMIT:  # overloaded: drop ticks rather than drift behind real time
                    skipped = int(-delay * FPS)
                    tick += skipped
                    self.late_ticks += skipped
                frame, sound = self._pick(tick, time.time())
                frame.pts, frame.time_base = tick, FRAME_TB
                for packet in video.encode(frame):
                    if not headers:  # SPS and PPS: a global header for HLS, in front of keyframes for WebRTC
                        headers = bytes(video.codec_context.extradata or b"")
                    data = bytes(packet)
                    keyframe = packet.is_keyframe
                    if keyframe:
                        data = headers + data
                    # an encoder fed stamped frames stamps its packets; WebRTC cannot time one without
                    if packet.pts is not None:
                        self.loop.call_soon_threadsafe(self.relay.video, data, packet.pts, keyframe)
                    hls.mux(packet)
                sound.pts, sound.time_base = tick * SAMPLES_PER_TICK, AUDIO_TB
                for packet in aac.encode(sound):
                    hls.mux(packet)
                for packet in opus.encode(sound):
                    if packet.pts is not None:
                        self.loop.call_soon_threadsafe(self.relay.audio, bytes(packet), packet.pts)
                self.frames += 1
                tick += 1
        finally:
            for packet in video.encode(None):
                hls.mux(packet)
            for packet in aac.encode(None):
                hls.mux(packet)
            hls.close()
            self._set_state("off")

    def _pick(self, tick: int, now: float) -> tuple[av.VideoFrame, av.AudioFrame]:
        """This tick's picture and sound, and the state they put the programme in."""
        if self.mode == "test":
            if self._card is None:
                self._card = TestCard(fps=FPS)
            self._set_state("live")
            card = self._fit(self._card.video_frame(tick, now))
            return card, self._card.audio_frame(tick * SAMPLES_PER_TICK, SAMPLES_PER_TICK)
        picture = self.feed.picture(FEED_TIMEOUT)
        if picture is None:
            self._set_state("slate")
            self.feed.drop_sound()
            return self._fit(slate_frame(tick, now)), self.feed.silence(SAMPLES_PER_TICK)
        self._set_state("live")
        return self._fit(picture), self.feed.sound(SAMPLES_PER_TICK)

    def _fit(self, picture: av.VideoFrame) -> av.VideoFrame:
        """The configured size and yuv420p (the test card and slate are drawn at 1280×720)."""
        pic = self.picture
        if picture.width != pic.width or picture.height != pic.height or picture.format.name != "yuv420p":
            picture = picture.reformat(width=pic.width, height=pic.height, format="yuv420p")
        # A feed's decoder marks its keyframes as I pictures, and libx264 makes a keyframe of every
        # I picture it is given: that would break the one-second keyframe grid the segments and
        # new WebRTC viewers rely on (and a repeated I picture would be a keyframe every tick).
        picture.pict_type = PictureType.NONE
        return picture
