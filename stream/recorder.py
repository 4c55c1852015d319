"""The recorder: the programme's encoded packets, appended to the session's one recording.

No second encode: the encode thread hands the recorder the same H.264 and AAC packets it muxes for
HLS and sends to WebRTC, and the recorder appends them to `programme.ts` on the session's timeline
(stream/recording_index.py). Every packet reaches the file before mux() returns (the TS muxer is
told to flush each packet and not to gather sound into larger PES), so a SIGKILL loses only the
fragment being written, and with `fsync` a power cut loses no more than a second either: a thread
of its own syncs the file once a second, so the encode never waits on the disk.

A run's timestamps come from the wall clock (seconds since the recording's origin), so a worker
crash, a server restart or a feed change never shifts what comes after: the pause is a gap on the
timeline, listed in the index, not a jump back to zero. Disk space is checked before the recording
starts and every few seconds while it runs: too little to start is refused with the reason, little
left warns the console, and below the floor the recorder stops so the store (the questions) keeps
room to write; the programme itself goes on."""

from __future__ import annotations

import functools
import json
import logging
import os
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import IO, Any

import av

from .clock import FPS, SAMPLE_RATE
from .recording_index import INDEX_FILE, VIDEO_FILE
from .recovery import recover

log = logging.getLogger(__name__)

DISK_CHECK_SECONDS = 5.0
CLOCK = 90_000  # MPEG-TS's clock: a run's place on the timeline to 11 µs, not to a whole frame
TS_TB = Fraction(1, CLOCK)


@dataclass(frozen=True)
class RecordingSettings:
    directory: Path  # recordings/: one directory per session under it
    fsync: bool = False  # sync once a second: a power cut loses at most that second
    # free space (bytes) needed to start; below `warn` the console is told; below `floor` it stops
    start_free: int = 2 * 1024**3
    warn_free: int = 4 * 1024**3
    floor_free: int = 512 * 1024**2


class RecordingRefused(Exception):
    pass


def guarded(method: Callable[..., None]) -> Callable[..., None]:
    """Whatever goes wrong in the recorder (a full disk, a lost mount, a muxer's refusal) stops the
    recording with the reason, never the encode thread that called it: the live picture goes on."""

    @functools.wraps(method)
    def run(self: Recorder, *args: Any) -> None:
        try:
            method(self, *args)
        except Exception as exc:
            log.exception("recording %s failed", self.session_id)
            self._fail(f"the recording failed: {exc}")

    return run


Report = Callable[[str, str, dict[str, Any]], None]  # (state, message, details): to the server


class Recorder:
    """One session's recording while the session is live. Used from the encode thread only."""

    def __init__(self, session_id: int, settings: RecordingSettings, report: Report) -> None:
        self.session_id = session_id
        self.settings = settings
        self.directory = settings.directory / str(session_id)
        self.report = report
        self.state = "off"
        self._out: av.container.OutputContainer | None = None
        self._file: IO[bytes] | None = None
        self._index: IO[bytes] | None = None
        self._video: Any = None
        self._audio: Any = None
        self._run_wall = self._run_at = 0.0  # the run's first keyframe: due wall time, place on the timeline
        self._offset = 0.0  # seconds from the programme's tick 0 to the recording's origin, this run
        self._last_t = 0.0
        self._checked = 0.0
        self._syncer: threading.Thread | None = None
        self._stop_sync = threading.Event()

    @property
    def open(self) -> bool:
        return self._out is not None

    # -- a run -------------------------------------------------------------------------------

    def start(self, tick: int, wall: float, video_template: Any, audio_template: Any) -> None:
        """Open a run at this tick (a keyframe) due at this wall time; recover what a crash left first."""
        self.directory.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(self.directory).free
        if free < self.settings.start_free:
            raise RecordingRefused(f"only {free // 1024**2} MB free on the recordings disk; at least "
                                   f"{self.settings.start_free // 1024**2} MB are needed to start recording")
        rec = recover(self.directory)
        self._index = (self.directory / INDEX_FILE).open("ab", buffering=0)
        if rec.origin is None:
            origin = round(wall, 4)
            self._line({"origin": origin, "fps": FPS, "session": self.session_id})
        else:
            origin = rec.origin
        self._run_wall = wall
        # the run's place on the timeline: from the clock, never before what is recorded already
        at = max(wall - origin, rec.duration_s)
        self._offset = at - tick / FPS
        self._file = (self.directory / VIDEO_FILE).open("ab", buffering=0)
        self._line({"run": rec.runs + 1, "t": round(at, 5), "wall": round(wall, 4), "at": self._file.tell()})
        out = av.open(self._file, "w", format="mpegts",
                      options={"flush_packets": "1", "pes_payload_size": "0", "mpegts_flags": "resend_headers",
                               "omit_video_pes_length": "0"})
        self._video = out.add_stream_from_template(video_template)
        self._audio = out.add_stream_from_template(audio_template)
        out.start_encoding()
        self._out = out
        self._last_t = self._run_at = at
        if self.settings.fsync:
            self._stop_sync.clear()
            self._syncer = threading.Thread(target=self._sync_loop, name=f"recording-sync-{self.session_id}",
                                            daemon=True)
            self._syncer.start()
        self._set("recording", "", {"runs": rec.runs + 1, "free_bytes": free})

    @guarded
    def video(self, data: bytes, pts: int, keyframe: bool, wall: float) -> None:
        if self._out is None:
            return
        t = pts / FPS + self._offset
        if keyframe:
            # everything before this keyframe is whole on disk: say so before writing the next fragment
            assert self._file is not None
            self._line({"frag": self._file.tell(), "t": round(t, 5), "wall": round(wall, 4)})
            self._check_disk(wall)
            if self._out is None:  # stopped at the disk's floor
                return
        packet = av.Packet(data)
        packet.pts = packet.dts = round(t * CLOCK)
        packet.time_base = TS_TB
        packet.is_keyframe = keyframe
        packet.stream = self._video
        self._mux(packet)
        self._last_t = t + 1 / FPS

    @guarded
    def audio(self, packet_in: av.Packet) -> None:
        if self._out is None or packet_in.pts is None:
            return
        t = packet_in.pts / SAMPLE_RATE + self._offset
        if t < self._run_at:
            # sound from before the run's first picture (the AAC encoder runs ~60 ms behind): a
            # negative first timestamp would make the muxer shift the whole run off the clock
            return
        packet = av.Packet(bytes(packet_in))
        packet.pts = packet.dts = round(t * CLOCK)
        packet.time_base = TS_TB
        packet.stream = self._audio
        self._mux(packet)

    @guarded
    def picture_state(self, state: str, wall: float) -> None:
        """The programme fell to the slate or came back: the slate stretches are the gaps listed."""
        if self._out is not None:
            self._line({"state": state, "t": round(self._run_at + (wall - self._run_wall), 5),
                        "wall": round(wall, 4)})

    def refuse(self, message: str) -> None:
        self._set("refused", message, {})

    def abandon(self, message: str) -> None:
        """A start that failed half-way: close what it opened, say why."""
        self._fail(message)

    def stop(self) -> None:
        """Close the run cleanly: the index says where it ended."""
        if self._out is None:
            return
        try:
            self._out.close()
            assert self._file is not None
            self._line({"end": self._file.tell(), "t": round(self._last_t, 5)})
        except OSError:
            log.exception("recording %s: closing the run failed", self.session_id)
        self._close_files()
        self._set("off", "", {})

    # -- the rest ------------------------------------------------------------------------------

    def _mux(self, packet: av.Packet) -> None:
        assert self._out is not None
        self._out.mux(packet)

    def _line(self, entry: dict[str, Any]) -> None:
        assert self._index is not None
        self._index.write(json.dumps(entry, separators=(",", ":")).encode() + b"\n")

    def _check_disk(self, now: float) -> None:
        if now - self._checked < DISK_CHECK_SECONDS:
            return
        self._checked = now
        free = shutil.disk_usage(self.directory).free
        if free < self.settings.floor_free:
            self._fail(f"the recordings disk is full ({free // 1024**2} MB left); recording stopped to keep "
                       "room for the questions")
        elif free < self.settings.warn_free:
            self._set("low_disk", f"{free // 1024**2} MB left on the recordings disk", {"free_bytes": free})
        elif self.state != "recording":
            self._set("recording", "", {"free_bytes": free})

    def _fail(self, message: str) -> None:
        log.error("recording %s: %s", self.session_id, message)
        out, self._out = self._out, None
        try:
            if out is not None:
                out.close()
        except Exception:  # the muxer's last write may fail the same way; what is on disk stays
            pass
        self._close_files()
        self._set("failed", message, {})

    def _close_files(self) -> None:
        self._out = None
        self._stop_sync.set()
        if self._syncer is not None:
            self._syncer.join()
            self._syncer = None
        for f in (self._file, self._index):
            if f is not None:
                try:
                    if self.settings.fsync:
                        os.fsync(f.fileno())
                    f.close()
                except OSError:
                    pass
        self._file = self._index = None

    def _sync_loop(self) -> None:
        while not self._stop_sync.wait(1.0):
            for f in (self._file, self._index):
                try:
                    if f is not None:
                        os.fsync(f.fileno())
                except (OSError, ValueError):  # closed under us: the run is ending
                    pass

    def _set(self, state: str, message: str, details: dict[str, Any]) -> None:
        if state != self.state or message:
            self.state = state
            self.report(state, message, details)

