"""What a source hands to the programme: the latest picture and a short queue of sound.

Sources (WHIP tracks on the event loop, a pull thread) write; the encode thread reads at its own
steady pace. Pictures are not queued: the programme always takes the newest one, so a source that
runs fast or bursty costs no memory and adds no delay. Sound is queued (it must not be dropped
sample by sample), but trimmed to MAX_SOUND so a source whose clock runs fast cannot build delay."""

from __future__ import annotations

import threading
import time

import av

from .clock import SAMPLE_RATE

MAX_SOUND = SAMPLE_RATE * 3 // 10  # 300 ms


class Feed:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._picture: av.VideoFrame | None = None
        self._picture_at = 0.0
        self._fifo = av.AudioFifo()
        self._resampler = av.AudioResampler(format="s16", layout="stereo", rate=SAMPLE_RATE)
        self.pictures = 0

    # -- written by sources ------------------------------------------------------------------

    def put_picture(self, frame: av.VideoFrame) -> None:
        with self._lock:
            self._picture = frame
            self._picture_at = time.monotonic()
            self.pictures += 1

    def put_sound(self, frame: av.AudioFrame) -> None:
        frame.pts = None  # the fifo checks continuity; sources' clocks are not ours
        with self._lock:
            for chunk in self._resampler.resample(frame):
                chunk.pts = None
                self._fifo.write(chunk)
            excess = self._fifo.samples - MAX_SOUND
            if excess > 0:
                self._fifo.read(excess)

    # -- read by the encode thread -----------------------------------------------------------

    def picture(self, timeout: float) -> av.VideoFrame | None:
        """The newest picture, or None if the source has been silent for `timeout` seconds."""
        with self._lock:
            if self._picture is None or time.monotonic() - self._picture_at > timeout:
                return None
            return self._picture

    def sound(self, samples: int) -> av.AudioFrame:
        """`samples` of sound, padded with silence when the source is short (a late packet)."""
        with self._lock:
            if self._fifo.samples >= samples:
                frame = self._fifo.read(samples)
                if frame is not None:
                    return frame
        return self.silence(samples)

    def drop_sound(self) -> None:
        with self._lock:
            if self._fifo.samples:
                self._fifo.read(self._fifo.samples)

    @staticmethod
    def silence(samples: int) -> av.AudioFrame:
        frame = av.AudioFrame(format="s16", layout="stereo", samples=samples)
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        frame.sample_rate = SAMPLE_RATE
        return frame
