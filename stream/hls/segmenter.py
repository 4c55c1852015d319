"""One rendition's live HLS: encoded packets in, CMAF parts, segments and playlists out.

The encode thread hands every packet to `Segmenter.video` / `Segmenter.audio` as it leaves the
encoder. Time is cut on a grid from pts 0: a segment every `segment_seconds`, a part every
`part_seconds`. A segment starts at the first keyframe in a later segment cell than the segment in
progress (so a late keyframe after a stall does not push the next second's aside), a part at the
first picture in a later part cell. All of it is decided from timestamps, so skipped ticks never
stretch a part past its target (a part's last picture is cut short at the cell's end instead,
leaving a hole the next part's tfdt states), and every rendition of a run is cut alike: segment n
and part p cover the same time in each. Sound goes into the part whose time span it starts in: a
part is written once the sound up to its end has come out of the AAC encoder (a frame or two after
the picture that closes the part). Without video (the audio-only rendition) the sound's own time
cuts parts and segments, at whole AAC frames (46 or 47 to a 1 s segment, 9 or 10 to a part; its
PART-TARGET is ten frames, 0.21333 s), on a grid that starts at the priming frame (21 ms early).

Playlists follow RFC 8216 at every write, whatever happened before:
- EXT-X-TARGETDURATION is computed from the segments in that playlist (every EXTINF, rounded to
  the nearest integer, is at most it), so a few long segments while the machine was starved stop
  counting once they leave the window. (RFC 8216 also asks that it not change; it changes only
  when a segment longer than 1.5 s enters or leaves, which the programme's 1 s keyframes avoid.)
- The live window holds `live_segments` segments, more if needed to last three target durations.
- A segment's media sequence number and discontinuity sequence number never change once it has
  been published, across restarts: state.json keeps the DVR window's segments, and a restarted
  segmenter first turns the parts the crashed run had already published into their segment, then
  goes on numbering with EXT-X-DISCONTINUITY on its first segment.
- A hole in the media (the programme skipped ticks on an overloaded machine) is told the same way:
  the first segment after it carries EXT-X-DISCONTINUITY, so its program date-time need not follow
  from the segment before.
- Media timestamps keep increasing across restarts: they count from a fixed epoch kept in
  state.json (the first run's origin less a second, room for the AAC encoder's priming frame,
  whose pts is -1024), so a run's media time is its wall time.

LL-HLS (draft-pantos-hls-rfc8216bis): EXT-X-PART for the segments of the last three target
durations, PART-TARGET at least every part's duration, PART-HOLD-BACK three part targets,
EXT-X-PRELOAD-HINT for the next part; CAN-BLOCK-RELOAD (the origin holds the reloads). No delta
updates (CAN-SKIP-UNTIL): the live playlist is a few kilobytes.

Cheap on the encode thread: one write per file (tmp + rename, no fsync: a crash loses at most
what the restart renumbers past anyway), index.m3u8 per part, dvr.m3u8 and state.json once per
segment, each segment's playlist lines rendered once."""

from __future__ import annotations

import json
import logging
import math
import os
import re
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..clock import FPS
from . import fmp4

log = logging.getLogger(__name__)

# a segment that starts more than this after the previous one ended follows a hole in the media
# (skipped ticks are at least half a second; the sound's frames alone never leave a gap)
HOLE_S = 0.1

STATE_VERSION = 1
EPOCH_MARGIN_MS = 1000  # media time of the first run's pts 0: room for negative (priming) pts
HOLD_BACK_PARTS = 3  # PART-HOLD-BACK in part targets (the draft asks at least 2, recommends 3)
_TICK = fmp4.VIDEO_TIMESCALE // FPS  # one 1/25 s tick in 90 kHz units


@dataclass(frozen=True)
class VideoTrack:
    width: int
    height: int
    parameter_sets: bytes  # SPS+PPS, Annex B (libx264's extradata)


@dataclass(frozen=True)
class AudioTrack:
    sample_rate: int
    channels: int
    config: bytes  # AudioSpecificConfig (the AAC encoder's extradata)


@dataclass
class _Part:
    duration: float
    independent: bool


@dataclass
class _Segment:
    msn: int
    duration: float
    pdt: float  # wall time (epoch seconds) of its first picture
    discontinuity: bool
    dseq: int  # its discontinuity sequence number (RFC 8216 §4.3.3.3), fixed once published
    parts: list[_Part] | None = None  # while its part files are kept
    text: str = ""  # its lines in a playlist without parts

    def __post_init__(self) -> None:
        self.text = _segment_lines(self, with_parts=False)


@dataclass
class _ClosedPart:
    """A part whose pictures are known, waiting for the sound up to its end."""

    boundary: int  # where the next part starts, in the deciding track's units
    video: list[tuple[int, bytes, bool]]  # (pts, sample, keyframe)
    video_durations: list[int]  # in 90 kHz
    duration_units: int  # the part's length in the deciding track's units
    ends_segment: bool
    pdt: float  # its segment's program date time (a new segment may have begun before this part is out)


def _cell(time: int, grid: int) -> int:
    """Which grid cell a timestamp falls in; anything before 0 counts in the first."""
    return max(time, 0) // grid


def _format_seconds(value: float) -> str:
    return f"{value:.5f}"


def _rounded(value: float) -> int:
    return math.floor(float(_format_seconds(value)) + 0.5)


def _iso(wall: float) -> str:
    return datetime.fromtimestamp(wall, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _part_uri(msn: int, part: int) -> str:
    return f"{msn}.{part}.m4s"


def _segment_lines(segment: _Segment, with_parts: bool) -> str:
    lines = []
    if segment.discontinuity:
        lines.append("#EXT-X-DISCONTINUITY")
    lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{_iso(segment.pdt)}")
    if with_parts and segment.parts:
        lines.extend(_part_lines(segment.msn, segment.parts))
    lines.append(f"#EXTINF:{_format_seconds(segment.duration)},")
    lines.append(f"{segment.msn}.m4s")
    return "\n".join(lines) + "\n"


def _part_lines(msn: int, parts: list[_Part]) -> list[str]:
    return [f'#EXT-X-PART:DURATION={_format_seconds(p.duration)},URI="{_part_uri(msn, k)}"'
            + (",INDEPENDENT=YES" if p.independent else "") for k, p in enumerate(parts)]


def target_duration(durations: list[float], nominal: float) -> int:
    """RFC 8216 §4.3.3.1: every EXTINF rounded to the nearest integer is at most this."""
    if not durations:  # only parts so far: what the first segment will round to
        return max(1, _rounded(nominal))
    return max(1, *(_rounded(d) for d in durations))


def write_atomically(path: Path, data: bytes | str) -> None:
    """Under a temporary name, then renamed into place: a reader never sees half a file."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as file:
        file.write(data.encode() if isinstance(data, str) else data)
    os.replace(tmp, path)


class Segmenter:
    """See the module docstring. Not thread-safe: one encode thread calls it."""

    def __init__(self, folder: Path, *, video: VideoTrack | None, audio: AudioTrack, origin: float,
                 live_segments: int = 12, dvr_segments: int = 1800,
                 segment_seconds: float = 1.0, part_seconds: float = 0.2) -> None:
        if live_segments < 3 or dvr_segments < live_segments:
            raise ValueError("live_segments must be at least 3 and dvr_segments at least live_segments")
        self.folder = folder
        self.origin = origin
        self.live_segments = live_segments
        self.dvr_segments = dvr_segments
        self._video_track = video
        self._rate = audio.sample_rate
        # Parts and segments are cut on a grid from pts 0 (every part_seconds, every segment_seconds),
        # the same for every rendition of a run, so segment n and its part p cover the same time in
        # each: a player switching renditions finds them by number.
        if video is None:  # by the sound's time, at whole AAC frames
            self._units_per_second = self._rate
            self._part_grid = max(1, round(part_seconds * self._rate))
            self._segment_grid = max(1, round(segment_seconds * self._rate))
            # a part holds the frames starting in its grid cell: at most this many samples
            self._part_units = math.ceil(self._part_grid / fmp4.AAC_FRAME_SAMPLES) * fmp4.AAC_FRAME_SAMPLES
        else:
            self._units_per_second = FPS
            self._part_grid = max(1, round(part_seconds * FPS))
            self._segment_grid = max(1, round(segment_seconds * FPS))
            self._part_units = self._part_grid
        if self._segment_grid % self._part_grid:
            raise ValueError("segment_seconds must be a whole number of part_seconds")
        self.part_target = self._part_units / self._units_per_second
        self._nominal_segment = segment_seconds

        tracks: list[fmp4.VideoEntry | fmp4.AudioEntry] = []
        self._sps = self._pps = b""
        if video is not None:
            self._sps, self._pps = fmp4.parameter_sets(video.parameter_sets)
            tracks.append(fmp4.VideoEntry(1, video.width, video.height, self._sps, self._pps))
        self._audio_id = len(tracks) + 1
        tracks.append(fmp4.AudioEntry(self._audio_id, audio.sample_rate, audio.channels, audio.config))

        folder.mkdir(parents=True, exist_ok=True)
        self._segments: deque[_Segment] = deque()
        self._segment_files: deque[int] = deque()  # msns whose .m4s is on disk, oldest first
        self._part_files: deque[tuple[int, int]] = deque()  # (msn, number of part files)
        resumed = self._load_state()
        self._discontinuity = resumed  # the first segment of this run follows a break
        # media time of this run's pts 0, in ms: its wall time since the epoch, and never before
        # what an earlier run wrote (a clock set back)
        offset_ms = max(round((origin - self._epoch) * 1000), self._media_end_ms + (1000 if resumed else 0))
        self._video_offset = offset_ms * fmp4.VIDEO_TIMESCALE // 1000
        self._audio_offset = round(offset_ms * self._rate / 1000)
        self._offset_ms = offset_ms

        init = fmp4.init_section(tracks)
        init_path = folder / "init.mp4"
        if init_path.exists() and init_path.read_bytes() != init and self._segments:
            log.warning("%s: the encoder's parameters changed across a restart; earlier segments need the old "
                        "init.mp4", folder)
        self._write("init.mp4", init)
        self._sweep()
        # the epoch and first number are on disk before any part: a run that dies inside its first
        # segment is still followed by one that finishes what it published
        self._write_state()

        self._fragment = 0
        self._closed = False
        # the segment in progress: number self._next_msn
        self._parts: list[_Part] = []
        self._segment_data: list[bytes] = []
        self._segment_start: int | None = None  # in deciding units
        self._segment_pdt = 0.0  # of the segment the pictures now arriving belong to
        self._written_pdt = 0.0  # of the segment whose parts are being written
        self._segment_units_done = 0
        # the part in progress (video: its pictures; audio-only: its sound)
        self._part_start = 0
        self._grid_origin = 0
        self._video: list[tuple[int, bytes, bool]] = []
        self._audio: deque[tuple[int, bytes]] = deque()
        self._pending: deque[_ClosedPart] = deque()
        self._last_video_pts: int | None = None
        self._last_audio_pts: int | None = None

    @property
    def last_msn(self) -> int | None:
        """The media sequence number of the last whole segment (None before the first)."""
        return self._segments[-1].msn if self._segments else None

    def _last_dseq(self) -> int:
        """The discontinuity number of the last whole segment (0 before the first)."""
        return self._segments[-1].dseq if self._segments else 0

    # -- state across runs -------------------------------------------------------------------

    def _load_state(self) -> bool:
        path = self.folder / "state.json"
        self._epoch = self.origin - EPOCH_MARGIN_MS / 1000
        self._next_msn = int(self.origin)  # numbers from the clock: never a name a CDN cached before
        self._media_end_ms = 0
        if not path.exists():
            return False
        state = json.loads(path.read_text())
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"{path}: state version {state.get('version')!r}, expected {STATE_VERSION}")
        self._epoch = float(state["epoch"])
        self._next_msn = int(state["next_msn"])
        self._media_end_ms = int(state["media_end_ms"])
        parts = {int(msn): [_Part(d, bool(i)) for d, i in p] for msn, p in state.get("parts", {}).items()}
        for msn, duration, pdt, discontinuity, dseq in state["segments"]:
            self._segments.append(_Segment(msn, duration, pdt, bool(discontinuity), dseq, parts.get(msn)))
        self._recover_unfinished()
        return True

    def _recover_unfinished(self) -> None:
        """The parts the previous run published of a segment it never finished become that
        segment: a player may already have played them under that number."""
        index = self.folder / "index.m3u8"
        if not index.exists():
            return
        lines = index.read_text().splitlines()
        tail = lines[max((i for i, line in enumerate(lines) if line and not line.startswith("#")), default=-1) + 1:]
        pdt: float | None = None
        discontinuity = False
        parts: list[_Part] = []
        data: list[bytes] = []
        for line in tail:
            if line == "#EXT-X-DISCONTINUITY":
                discontinuity = True
            elif line.startswith("#EXT-X-PROGRAM-DATE-TIME:"):
                pdt = datetime.fromisoformat(line.split(":", 1)[1]).timestamp()
            elif line.startswith("#EXT-X-PART:"):
                match = re.search(r'DURATION=([0-9.]+),URI="(\d+)\.(\d+)\.m4s"', line)
                if match is None or int(match[2]) != self._next_msn or int(match[3]) != len(parts):
                    return
                path = self.folder / _part_uri(self._next_msn, len(parts))
                if not path.exists():
                    break
                data.append(path.read_bytes())
                parts.append(_Part(float(match[1]), "INDEPENDENT=YES" in line))
        if not parts or pdt is None:
            return
        previous = self._last_dseq()
        segment = _Segment(self._next_msn, sum(p.duration for p in parts), pdt, discontinuity,
                           previous + discontinuity, parts)
        self._write(f"{segment.msn}.m4s", b"".join(data))
        self._segments.append(segment)
        self._next_msn += 1
        self._write_state()
        log.info("%s: segment %s finished from the %s parts the previous run published", self.folder,
                 segment.msn, len(parts))

    def _write_state(self) -> None:
        kept = {str(s.msn): [[p.duration, int(p.independent)] for p in s.parts] for s in self._segments if s.parts}
        state: dict[str, Any] = {
            "version": STATE_VERSION, "epoch": self._epoch, "next_msn": self._next_msn,
            "media_end_ms": self._media_end_ms,
            "segments": [[s.msn, s.duration, s.pdt, int(s.discontinuity), s.dseq] for s in self._segments],
            "parts": kept,
        }
        self._write("state.json", json.dumps(state, separators=(",", ":")))

    def _sweep(self) -> None:
        """Once per run: forget files an earlier run left outside the windows, and half-written ones."""
        first_dvr = self._segments[0].msn if self._segments else self._next_msn
        parts_from = self._segments[-self.live_segments].msn if len(self._segments) >= self.live_segments \
            else first_dvr
        segments: set[int] = set()
        parts: dict[int, int] = {}
        for entry in os.scandir(self.folder):
            name = entry.name
            if name.endswith(".tmp"):
                os.unlink(entry.path)
                continue
            match = re.fullmatch(r"(\d+)(?:\.(\d+))?\.m4s", name)
            if match is None:
                continue
            msn = int(match[1])
            if match[2] is None:
                if msn < first_dvr - self.live_segments:
                    os.unlink(entry.path)
                else:
                    segments.add(msn)
            elif msn < parts_from:
                os.unlink(entry.path)
            else:
                parts[msn] = max(parts.get(msn, 0), int(match[2]) + 1)
        self._segment_files.extend(sorted(segments))
        self._part_files.extend(sorted(parts.items()))

    # -- packets in ----------------------------------------------------------------------------

    def video(self, data: bytes, pts: int, keyframe: bool) -> None:
        """One H.264 access unit (Annex B), pts in ticks of 1/25 s."""
        if self._video_track is None:
            raise ValueError("this segmenter has no video track")
        self._check_open()
        if self._last_video_pts is not None and pts <= self._last_video_pts:
            # a B-frame stream presents out of decode order; we write no composition offsets
            raise ValueError(f"video pts {pts} after {self._last_video_pts}: the segmenter takes pictures in "
                             "presentation order only (x264 without B-frames)")
        if self._segment_start is None:
            if not keyframe:
                return  # a segment starts with a keyframe: nothing before the first one is playable
            self._start_segment(pts, self.origin + pts / FPS)
            self._part_start = pts
            # sound from before the first picture, bar the priming frame, has nothing to go with
            floor = pts * self._rate // FPS - fmp4.AAC_FRAME_SAMPLES
            while self._audio and self._audio[0][0] < floor:
                self._audio.popleft()
        else:
            assert self._segment_start is not None
            # every keyframe in a later second starts a segment: after a late keyframe (a stall)
            # the next second's is not passed over
            cut = keyframe and _cell(pts, self._segment_grid) > _cell(self._segment_start, self._segment_grid)
            if cut or _cell(pts, self._part_grid) > _cell(self._part_start, self._part_grid):
                self._close_video_part(pts, ends_segment=cut)
                if cut:
                    self._start_segment(pts, self.origin + pts / FPS)
                self._part_start = pts
        self._last_video_pts = pts
        self._video.append((pts, fmp4.access_unit_sample(data, self._sps, self._pps), keyframe))

    def audio(self, data: bytes, pts: int) -> None:
        """One raw AAC frame, pts in samples."""
        self._check_open()
        if self._last_audio_pts is not None and pts <= self._last_audio_pts:
            raise ValueError(f"audio pts {pts} after {self._last_audio_pts}")
        self._last_audio_pts = pts
        if self._video_track is None:
            self._audio_cut(pts)
            self._audio.append((pts, data))
            return
        self._audio.append((pts, data))
        self._flush_pending(final=False)

    def _audio_cut(self, pts: int) -> None:
        """Audio-only: a new part with the first frame starting in the next cell of the grid."""
        if self._segment_start is None:
            self._grid_origin = min(pts, 0)
            self._start_segment(pts, self.origin + pts / self._rate)
            self._part_start = pts
            return
        # the grid starts with the AAC priming frame (pts -1024): 21 ms before the video renditions'
        # (not at 0, which would make the first part a frame longer than the others)
        at, start = pts - self._grid_origin, self._part_start - self._grid_origin
        if _cell(at, self._part_grid) == _cell(start, self._part_grid):
            return
        cut = _cell(at, self._segment_grid) > _cell(self._segment_start - self._grid_origin, self._segment_grid)
        end = self._audio[-1][0] + fmp4.AAC_FRAME_SAMPLES if self._audio else pts
        self._pending.append(_ClosedPart(pts, [], [], min(end, pts) - self._part_start, cut, self._segment_pdt))
        self._flush_pending(final=False)
        if cut:
            self._start_segment(pts, self.origin + pts / self._rate)
        self._part_start = pts

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError("the segmenter is closed")

    def _start_segment(self, start: int, pdt: float) -> None:
        self._segment_start = start
        self._segment_pdt = pdt

    def _close_video_part(self, boundary: int, ends_segment: bool) -> None:
        # a part never lasts longer than its target: after skipped ticks its last picture is cut short
        end = min(boundary, (_cell(self._part_start, self._part_grid) + 1) * self._part_grid)
        times = [pts for pts, _, _ in self._video]
        durations = [(b - a) * _TICK for a, b in zip(times, [*times[1:], end], strict=True)]
        self._pending.append(_ClosedPart(boundary, self._video, durations, end - times[0], ends_segment,
                                         self._segment_pdt))
        self._video = []
        self._flush_pending(final=False)

    def _flush_pending(self, final: bool) -> None:
        while self._pending:
            part = self._pending[0]
            if self._video_track is None:
                limit = part.boundary  # audio-only: the deciding track is the sound
            else:
                limit = part.boundary * self._rate // FPS
                covered = bool(self._audio) and self._audio[-1][0] + fmp4.AAC_FRAME_SAMPLES >= limit
                # the sound should be a frame or two behind; much more and it has stopped: go on without
                if not (final or covered or len(self._pending) > 2):
                    return
            sound: list[tuple[int, bytes]] = []
            while self._audio and (self._audio[0][0] < limit or (final and len(self._pending) == 1)):
                sound.append(self._audio.popleft())
            self._pending.popleft()
            self._write_part(part, sound)

    # -- files out -----------------------------------------------------------------------------

    def _write_part(self, part: _ClosedPart, sound: list[tuple[int, bytes]]) -> None:
        runs: list[fmp4.TrackRun] = []
        if part.video:
            runs.append(fmp4.TrackRun(1, self._video_offset + part.video[0][0] * _TICK,
                                      [s for _, s, _ in part.video], part.video_durations,
                                      [k for _, _, k in part.video]))
        if sound:
            decode_time = self._audio_offset + sound[0][0]
            if decode_time < 0:
                raise ValueError(f"audio pts {sound[0][0]} is before the media epoch")
            runs.append(fmp4.TrackRun(self._audio_id, decode_time, [s for _, s in sound],
                                      [fmp4.AAC_FRAME_SAMPLES] * len(sound)))
        if not runs:
            return
        self._fragment += 1
        data = fmp4.fragment(self._fragment, runs)
        index = len(self._parts)
        self._write(_part_uri(self._next_msn, index), data)
        if index == 0:
            self._part_files.append((self._next_msn, 0))
            self._written_pdt = part.pdt
            if self._segments and part.pdt - (self._segments[-1].pdt + self._segments[-1].duration) > HOLE_S:
                # the programme skipped ticks (an overloaded machine drops them rather than fall behind
                # real time): the media's timeline jumps here, so a player is told (RFC 8216 §4.3.2.3),
                # in every rendition alike, since they all lose the same ticks on the same grid
                self._discontinuity = True
        self._part_files[-1] = (self._next_msn, index + 1)
        independent = part.video[0][2] if part.video else True
        self._parts.append(_Part(part.duration_units / self._units_per_second, independent))
        self._segment_units_done += part.duration_units
        self._segment_data.append(data)
        end_ms = self._offset_ms + max(
            (part.video[-1][0] * _TICK + part.video_durations[-1]) * 1000 // fmp4.VIDEO_TIMESCALE if part.video else 0,
            (sound[-1][0] + fmp4.AAC_FRAME_SAMPLES) * 1000 // self._rate if sound else 0) + 1
        self._media_end_ms = max(self._media_end_ms, end_ms)
        if part.ends_segment:
            self._finish_segment()
        else:
            self._write("index.m3u8", self._live_playlist())

    def _finish_segment(self) -> None:
        self._write(f"{self._next_msn}.m4s", b"".join(self._segment_data))
        previous = self._last_dseq()
        segment = _Segment(self._next_msn, self._segment_units_done / self._units_per_second, self._written_pdt,
                           self._discontinuity, previous + self._discontinuity, self._parts)
        self._discontinuity = False
        self._segments.append(segment)
        self._segment_files.append(self._next_msn)
        self._next_msn += 1
        self._parts, self._segment_data, self._segment_units_done = [], [], 0
        self._prune()
        # state before playlists: a segment a playlist has named is always in the state
        self._write_state()
        self._write("dvr.m3u8", self._dvr_playlist())
        self._write("index.m3u8", self._live_playlist())

    def _prune(self) -> None:
        while len(self._segments) > self.dvr_segments:
            self._segments.popleft()
        # a segment gone from the playlists stays on disk a live window longer, for players that
        # fetched the playlist just before (RFC 8216 §6.2.2); part files stay while their segment is
        # in the live window (they are listed only for its last three target durations)
        first_dvr = self._segments[0].msn
        while self._segment_files and self._segment_files[0] < first_dvr - self.live_segments:
            self._unlink(f"{self._segment_files.popleft()}.m4s")
        parts_from = self._segments[-self.live_segments].msn if len(self._segments) >= self.live_segments else 0
        while self._part_files and self._part_files[0][0] < parts_from:
            msn, count = self._part_files.popleft()
            for k in range(count):
                self._unlink(_part_uri(msn, k))
        for segment in self._segments:  # parts are listed only near the live edge; forget the others'
            if segment.msn >= parts_from:
                break
            segment.parts = None

    def _unlink(self, name: str) -> None:
        try:
            os.unlink(self.folder / name)
        except FileNotFoundError:
            pass

    def _write(self, name: str, data: bytes | str) -> None:
        write_atomically(self.folder / name, data)

    # -- playlists -----------------------------------------------------------------------------

    def _window(self, count: int) -> tuple[list[_Segment], int]:
        """The last `count` segments, more if needed to last three target durations (§6.2.2)."""
        segments = list(self._segments)
        n = min(count, len(segments))
        while True:
            window = segments[len(segments) - n:]
            target = target_duration([s.duration for s in window], self._nominal_segment)
            if n >= len(segments) or sum(s.duration for s in window) >= 3 * target:
                return window, target
            n += 1

    def _header(self, window: list[_Segment], target: int, low_latency: bool) -> list[str]:
        lines = ["#EXTM3U", "#EXT-X-VERSION:9", f"#EXT-X-TARGETDURATION:{target}"]
        if low_latency:
            lines.append("#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,"
                         f"PART-HOLD-BACK={_format_seconds(HOLD_BACK_PARTS * self.part_target)}")
            lines.append(f"#EXT-X-PART-INF:PART-TARGET={_format_seconds(self.part_target)}")
        first_msn = window[0].msn if window else self._next_msn
        lines.append(f"#EXT-X-MEDIA-SEQUENCE:{first_msn}")
        if window:
            dseq = window[0].dseq - window[0].discontinuity
        else:
            dseq = self._last_dseq()
        if dseq:
            lines.append(f"#EXT-X-DISCONTINUITY-SEQUENCE:{dseq}")
        lines += ["#EXT-X-INDEPENDENT-SEGMENTS", '#EXT-X-MAP:URI="init.mp4"']
        return lines

    def _live_playlist(self) -> str:
        window, target = self._window(self.live_segments)
        lines = self._header(window, target, low_latency=True)
        text = ["\n".join(lines) + "\n"]
        # parts for the segments within three target durations of the end (the draft's SHOULD)
        later = sum(p.duration for p in self._parts)
        with_parts = len(window)
        for k in range(len(window) - 1, -1, -1):
            if later >= 3 * target:
                break
            with_parts = k
            later += window[k].duration
        for k, segment in enumerate(window):
            text.append(_segment_lines(segment, with_parts=True) if k >= with_parts else segment.text)
        tail: list[str] = []
        if self._parts:
            if self._discontinuity:
                tail.append("#EXT-X-DISCONTINUITY")
            tail.append(f"#EXT-X-PROGRAM-DATE-TIME:{_iso(self._written_pdt)}")
            tail.extend(_part_lines(self._next_msn, self._parts))
        if self._closed:
            tail.append("#EXT-X-ENDLIST")
        else:
            tail.append(f'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="{_part_uri(self._next_msn, len(self._parts))}"')
        text.append("\n".join(tail) + "\n")
        return "".join(text)

    def _dvr_playlist(self) -> str:
        window, target = self._window(self.dvr_segments)
        text = ["\n".join(self._header(window, target, low_latency=False)) + "\n"]
        text.extend(segment.text for segment in window)
        if self._closed:
            text.append("#EXT-X-ENDLIST\n")
        return "".join(text)

    # -- the end -------------------------------------------------------------------------------

    def close(self) -> None:
        """The last part and segment out, then EXT-X-ENDLIST in both playlists."""
        if self._closed:
            return
        if self._video:
            last = self._video[-1][0]
            self._close_video_part(last + 1, ends_segment=True)
        elif self._video_track is None and self._audio:
            end = self._audio[-1][0] + fmp4.AAC_FRAME_SAMPLES
            self._pending.append(_ClosedPart(end, [], [], end - self._part_start, True, self._segment_pdt))
        self._flush_pending(final=True)
        if self._parts:  # a part already written whose segment was still open
            self._finish_segment()
        self._closed = True
        self._write_state()
        self._write("dvr.m3u8", self._dvr_playlist())
        self._write("index.m3u8", self._live_playlist())
