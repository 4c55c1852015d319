"""A session's programme: one picture and one sound, encoded once, out to HLS and to WebRTC.

The encode runs on a thread of its own at a steady 25 frames a second, whatever the feed does: each
tick takes the feed's latest picture (or the test card, or the slate when the feed has been silent
for more than FEED_TIMEOUT), encodes it with libx264 once, hands the packet to the top HLS
rendition's segmenter, to the recording and (a copy) to the WebRTC relay on the event loop, and
gives the picture to the ladder (stream/hls/ladder.py), which encodes the smaller renditions from
it. The sound is encoded once to AAC for every rendition and once to Opus for WebRTC. A feed that
stutters, changes size or stops never stops the outputs, so players never see the stream end
mid-session.

x264 and FFmpeg release the interpreter lock while they work, so the worker's event loop (ICE,
DTLS, RTP to the WHEP viewers) keeps running on the other core."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import av
from av.video.frame import PictureType

from .clock import AUDIO_TB, FPS, FRAME_TB, SAMPLE_RATE, SAMPLES_PER_TICK
from .feed import Feed
from .hls.ladder import MULTIVARIANT, Ladder, x264_options
from .hls.rendition import DEFAULT_LADDER, Rendition, parse_ladder
from .hls.segmenter import AudioTrack, VideoTrack
from .recorder import Recorder, RecordingRefused
from .relay import Relay
from .slate import slate_frame
from .testcard import TestCard

log = logging.getLogger(__name__)

FEED_TIMEOUT = 1.0  # seconds without a picture before the slate goes up
BEHIND_LIMIT = 0.5  # seconds late before ticks are skipped instead of run late
RETRY_SECONDS = 2.0
RECORD_RETRY_SECONDS = 10.0  # after a refused start (a nearly full disk), try again this often


@dataclass
class Picture:
    """How the programme is encoded (server settings)."""

    width: int = 1280
    height: int = 720
    video_bitrate: int = 2_500_000
    audio_bitrate: int = 128_000
    dvr_segments: int = 1800  # 30 minutes of 1 s segments
    # the HLS renditions, the top one first: the top is this encode (its name from the ladder, its
    # size and rate from the fields above), the others are encoded again from its pictures
    ladder: tuple[Rendition, ...] = field(default_factory=lambda: parse_ladder(DEFAULT_LADDER))

    def renditions(self) -> tuple[Rendition, ...]:
        top = dataclasses.replace(self.ladder[0], width=self.width, height=self.height,
                                  video_bitrate=self.video_bitrate, audio_bitrate=self.audio_bitrate)
        return (top, *self.ladder[1:])


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
        self._ending = True  # set by stop(): end the playlists, or leave them open for the next worker
        self._thread: threading.Thread | None = None
        self._card: TestCard | None = None
        self._playlist_ready = False
        # the recording (stream/recorder.py): the channel sets `record` while the session is live
        self.recorder: Recorder | None = None
        self.record = False
        self._record_retry_at = 0.0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"programme-{self.session_id}", daemon=True)
        self._thread.start()

    async def stop(self, *, end: bool = True) -> None:
        """Finish the encode. `end`: the session is off air, so every playlist ends (ENDLIST) and
        players see the end of the stream. Without it (the worker shutting down for a restart) the
        playlists are left open, as after a crash, and the next worker goes on with them: a playlist
        that showed ENDLIST may not change again (RFC 8216 §6.2.1), and players stop following it."""
        self._ending = end
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
        # Not "live" to the world before the playlists exist: a player told so would fetch a 404.
        if state != "off" and not self._playlist_ready:
            top = self.out_dir / self.picture.ladder[0].name / "index.m3u8"
            self._playlist_ready = (self.out_dir / MULTIVARIANT).exists() and top.exists()
            if not self._playlist_ready:
                return
        if state != self.state:
            self.state = state
            self.loop.call_soon_threadsafe(self.on_state, state)

    def _encode(self) -> None:
        pic = self.picture
        renditions = pic.renditions()
        self.out_dir.mkdir(parents=True, exist_ok=True)
        # The encoders live in a container that is never written: the recorder copies their streams'
        # parameters (add_stream_from_template), and an MP4 container makes them put SPS/PPS and the
        # AudioSpecificConfig in their extradata (global headers), which init.mp4 needs.
        codecs = av.open(io.BytesIO(), "w", format="mp4")
        video = codecs.add_stream("libx264", rate=FPS, options=x264_options(pic.video_bitrate))
        video.width, video.height, video.pix_fmt = pic.width, pic.height, "yuv420p"
        video.profile = "Baseline"  # x264's Baseline is Constrained Baseline: 42e01f, what browsers take
        video.bit_rate = pic.video_bitrate
        aac = codecs.add_stream("aac", rate=SAMPLE_RATE)
        aac.layout = "stereo"
        aac.bit_rate = pic.audio_bitrate
        codecs.start_encoding()  # opens both encoders: their parameter sets are known from here on
        opus = av.CodecContext.create("libopus", "w")
        opus.sample_rate, opus.layout, opus.format = SAMPLE_RATE, "stereo", "s16"
        opus.bit_rate = 64_000
        # SPS and PPS: in init.mp4 for HLS, in front of every keyframe for WebRTC and the recording
        headers = bytes(video.codec_context.extradata or b"")
        start = time.monotonic()
        # the wall time of tick 0: tick t is due at start_wall + t / FPS. The recording's timeline
        # and every HLS rendition's program date-time use these due times, not when a late tick
        # really ran, so runs line up to the clock.
        start_wall = time.time()
        ladder = Ladder(self.out_dir, renditions, VideoTrack(pic.width, pic.height, headers),
                        AudioTrack(SAMPLE_RATE, aac.codec_context.channels, bytes(aac.codec_context.extradata or b"")),
                        origin=start_wall, dvr_segments=pic.dvr_segments)
        tick = 0
        second = -1  # the second (tick // FPS) of the last tick encoded
        try:
            while not self._stopping.is_set():
                delay = start + tick / FPS - time.monotonic()
                if delay > 0:
                    self._stopping.wait(delay)
                elif delay < -BEHIND_LIMIT:  # overloaded: drop ticks rather than drift behind real time
                    skipped = int(-delay * FPS)
                    tick += skipped
                    self.late_ticks += skipped
                now = time.time()
                shown = self.state
                frame, sound = self._pick(tick, now)
                if self.recorder is not None and self.state != shown and self.state in ("live", "slate"):
                    self.recorder.picture_state(self.state, start_wall + tick / FPS)
                frame.pts, frame.time_base = tick, FRAME_TB
                # A keyframe on the first tick of every second, by the clock rather than by counting
                # frames: each 1 s segment starts with one even when ticks were skipped, every
                # rendition cuts at the same picture, and a new WebRTC viewer waits at most a second.
                keyframe = tick // FPS != second
                second = tick // FPS
                if keyframe:
                    frame.pict_type = PictureType.I
                for packet in video.encode(frame):
                    data = bytes(packet)
                    if packet.is_keyframe:
                        data = headers + data
                    # an encoder fed stamped frames stamps its packets; WebRTC cannot time one without
                    if packet.pts is not None:
                        self.loop.call_soon_threadsafe(self.relay.video, data, packet.pts, packet.is_keyframe)
                        self._record_video(data, packet.pts, packet.is_keyframe, start_wall + packet.pts / FPS,
                                           video, aac)
                        ladder.video(data, packet.pts, packet.is_keyframe)
                ladder.picture(frame, keyframe)
                sound.pts, sound.time_base = tick * SAMPLES_PER_TICK, AUDIO_TB
                for packet in aac.encode(sound):
                    if self.recorder is not None:
                        self.recorder.audio(packet)
                    if packet.pts is not None:
                        ladder.audio(bytes(packet), packet.pts)
                for packet in opus.encode(sound):
                    if packet.pts is not None:
                        self.loop.call_soon_threadsafe(self.relay.audio, bytes(packet), packet.pts)
                ladder.publish()
                self.frames += 1
                tick += 1
            # stopped: the encoders' last packets out, every playlist ended (players see the end).
            # After a failure, or when the worker only shuts down, the playlists are left open
            # instead: the next run goes on with them.
            if not self._ending:
                return
            for packet in video.encode(None):
                if packet.pts is not None:
                    ladder.video(bytes(packet), packet.pts, packet.is_keyframe)
            for packet in aac.encode(None):
                if packet.pts is not None:
                    ladder.audio(bytes(packet), packet.pts)
            ladder.close()
        finally:
            if self.recorder is not None:
                self.recorder.stop()
            codecs.close()  # nothing was muxed: only the (empty) MP4's header and trailer, in memory
            self._set_state("off")

    def _record_video(self, data: bytes, pts: int, keyframe: bool, due: float, video: av.VideoStream,
                      audio: av.AudioStream) -> None:
        """Start, feed or stop the recording. A run starts only on a keyframe, so every run (and
        the file) begins with a picture a player can decode."""
        recorder = self.recorder
        if recorder is None:
            return
        if not self.record:
            if recorder.open:
                recorder.stop()
            return
        # both encoders open (the sound's has its AudioSpecificConfig, which the TS muxer needs)
        ready = bool(audio.codec_context.extradata)
        if not recorder.open and keyframe and ready and due >= self._record_retry_at:
            try:
                recorder.start(pts, due, video, audio)
            except RecordingRefused as exc:
                log.error("session %s: recording refused: %s", self.session_id, exc)
                self._record_retry_at = due + RECORD_RETRY_SECONDS
                recorder.refuse(str(exc))
            except Exception as exc:  # the directory cannot be made, the muxer refuses: say so, go on live
                log.exception("session %s: the recording could not start", self.session_id)
                self._record_retry_at = due + RECORD_RETRY_SECONDS
                recorder.abandon(f"the recording could not start: {exc}")
        recorder.video(data, pts, keyframe, due)

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
