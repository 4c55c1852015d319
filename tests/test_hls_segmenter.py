"""The HLS segmenter and multivariant playlist (stream/hls/), fed by real libx264 and AAC encodes
like the programme's, read back by outside readers: the `m3u8` parser, our RFC 8216 / LL-HLS rules
at every playlist the segmenter writes, and Debian's ffprobe/ffmpeg decoding what it wrote."""

from __future__ import annotations

import base64
import math
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import m3u8
import pytest
from av.video.frame import PictureType

from stream.clock import FPS, SAMPLE_RATE, SAMPLES_PER_TICK
from stream.hls.multivariant import VariantEntry, audio_codec_string, codec_string, render
from stream.hls.rendition import RENDITIONS
from stream.hls.segmenter import AudioTrack, Segmenter, VideoTrack
from stream.testcard import TestCard

ORIGIN = 1_796_000_000.0  # the wall time of the first run's tick 0
FFPROBE, FFMPEG = "/usr/bin/ffprobe", "/usr/bin/ffmpeg"  # Debian's, not the PyAV wheel's


@dataclass
class Encode:
    """What the programme's encoders hand the segmenter, in the order they hand it."""

    headers: bytes
    config: bytes
    packets: list[tuple[str, bytes, int, bool]]  # ("video"|"audio", data, pts, keyframe)

    def video_track(self) -> VideoTrack:
        return VideoTrack(1280, 720, self.headers)

    def audio_track(self) -> AudioTrack:
        return AudioTrack(SAMPLE_RATE, 2, self.config)

    def ticks(self) -> int:
        return sum(1 for kind, *_ in self.packets if kind == "video")


def encode(ticks: list[int], keyframes: set[int] | None = None) -> Encode:
    """libx264 Baseline 1280x720 keyint 25 and AAC 48 kHz stereo, as stream/programme.py encodes,
    one picture and 1/25 s of sound per tick; SPS/PPS in front of keyframes as the programme sends them.
    `keyframes`: the ticks to make keyframes of (forced, as the programme does on the clock's seconds)
    instead of x264's every 25 pictures."""
    video = av.CodecContext.create("libx264", "w")
    video.width, video.height, video.pix_fmt = 1280, 720, "yuv420p"
    video.time_base, video.framerate = Fraction(1, FPS), Fraction(FPS)
    keyint = FPS if keyframes is None else 10 * FPS
    video.options = {"preset": "veryfast", "tune": "zerolatency",
                     "x264-params": f"keyint={keyint}:min-keyint={keyint}:scenecut=0:vbv-maxrate=2500:vbv-bufsize=2500"}
    video.profile = "Baseline"
    video.bit_rate = 2_500_000
    video.flags |= av.codec.context.Flags.global_header
    aac = av.CodecContext.create("aac", "w")
    aac.sample_rate, aac.layout, aac.format = SAMPLE_RATE, "stereo", "fltp"
    aac.bit_rate = 128_000
    aac.flags |= av.codec.context.Flags.global_header
    card = TestCard(fps=FPS)
    packets: list[tuple[str, bytes, int, bool]] = []
    headers = b""

    def video_out(frame: av.VideoFrame | None) -> None:
        nonlocal headers
        for packet in video.encode(frame):
            headers = headers or bytes(video.extradata or b"")
            data = bytes(packet)
            assert packet.pts is not None
            packets.append(("video", headers + data if packet.is_keyframe else data, packet.pts, packet.is_keyframe))

    def audio_out(frame: av.AudioFrame | None) -> None:
        for packet in aac.encode(frame):
            assert packet.pts is not None
            packets.append(("audio", bytes(packet), packet.pts, True))

    for tick in ticks:
        frame = card.video_frame(tick, ORIGIN + tick / FPS)
        if keyframes is not None:
            frame.pict_type = PictureType.I if tick in keyframes else PictureType.NONE
        video_out(frame)
        audio_out(card.audio_frame(tick * SAMPLES_PER_TICK, SAMPLES_PER_TICK))
    video_out(None)
    audio_out(None)
    return Encode(headers, bytes(aac.extradata or b""), packets)


@pytest.fixture(scope="module")
def programme() -> Encode:
    return encode(list(range(4 * FPS)))  # four seconds


class PlaylistReader:
    """An outside reader of one rendition's playlists: reads each one after every packet (as a
    player reloading at every chance would) and checks the rules on each version it sees."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.seen: dict[str, str] = {}
        self.versions = 0
        self.segments: dict[int, tuple[float, str, int]] = {}  # msn → (EXTINF, PDT, discontinuity sequence)
        self.parts_seen: dict[str, float] = {}  # part URI → DURATION

    def feed(self, segmenter: Segmenter, packets: list[tuple[str, bytes, int, bool]]) -> None:
        for kind, data, pts, keyframe in packets:
            if kind == "video":
                segmenter.video(data, pts, keyframe)
            else:
                segmenter.audio(data, pts)
            self.read()

    def read(self) -> None:
        for name in ("index.m3u8", "dvr.m3u8"):
            path = self.folder / name
            if not path.exists():
                continue
            text = path.read_text()
            if self.seen.get(name) != text:
                self.seen[name] = text
                self.versions += 1
                self.check(text, live=name == "index.m3u8")

    def check(self, text: str, live: bool) -> None:
        playlist = m3u8.loads(text)
        assert playlist.is_variant is False
        target = playlist.target_duration
        assert target is not None and float(target).is_integer()
        # the m3u8 package lists the parts of the segment in progress as a segment without a URI
        whole = [s for s in playlist.segments if s.uri]
        assert all(s.uri for s in playlist.segments[:-1])
        lines = text.splitlines()
        assert lines[0] == "#EXTM3U" and "#EXT-X-VERSION:9" in lines
        assert '#EXT-X-MAP:URI="init.mp4"' in lines
        # RFC 8216 §4.3.3.1: every EXTINF, rounded to the nearest integer, at most the target duration
        for segment in whole:
            assert math.floor(segment.duration + 0.5) <= target, (segment.duration, target)
        # §6.2.2: segments are removed only while the playlist lasts three target durations
        total = sum(s.duration for s in whole)
        if self.segments and playlist.media_sequence > min(self.segments):  # some were removed
            assert total >= 3 * target, (total, target)
        # sequence numbers and times of a segment never change from one playlist to the next (§6.2.1-2)
        dseq = playlist.discontinuity_sequence or 0
        previous_pdt: datetime | None = None
        for k, segment in enumerate(whole):
            msn = playlist.media_sequence + k
            if segment.discontinuity:
                dseq += 1
            assert segment.uri == f"{msn}.m4s"
            assert segment.program_date_time is not None
            if previous_pdt is not None:
                assert segment.program_date_time > previous_pdt
            previous_pdt = segment.program_date_time
            facts = (round(segment.duration, 5), segment.program_date_time.isoformat(), dseq)
            assert self.segments.setdefault(msn, facts) == facts, (msn, self.segments[msn], facts)
        if not live:
            assert not any(line.startswith(("#EXT-X-PART", "#EXT-X-PRELOAD-HINT")) for line in lines)
            return
        # LL-HLS: parts at most PART-TARGET, a whole segment's parts add up to its EXTINF
        assert playlist.part_inf is not None and playlist.server_control is not None
        part_target = playlist.part_inf.part_target
        assert playlist.server_control.can_block_reload == "YES"
        assert playlist.server_control.part_hold_back >= 3 * part_target - 1e-9
        for segment in whole:
            if segment.parts:
                assert abs(sum(p.duration for p in segment.parts) - segment.duration) < 1e-3
                assert segment.parts[0].independent == "YES"
        for part in self.all_parts(text):
            assert part[1] <= part_target, (part, part_target)
            assert self.parts_seen.setdefault(part[0], part[1]) == part[1]
        ended = "#EXT-X-ENDLIST" in lines
        hints = [line for line in lines if line.startswith("#EXT-X-PRELOAD-HINT:")]
        if ended:
            assert not hints
        else:
            # the hint names the part after the last one listed
            last_msn = playlist.media_sequence + len(whole) - 1
            tail = lines[max(i for i, line in enumerate(lines) if not line.startswith("#")) + 1:] \
                if whole else lines
            open_parts = [line for line in tail if line.startswith("#EXT-X-PART:")]
            expected = f"{last_msn + 1}.{len(open_parts)}.m4s" if whole else None
            assert len(hints) == 1
            if expected is not None:
                assert hints[0] == f'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="{expected}"'

    @staticmethod
    def all_parts(text: str) -> Iterator[tuple[str, float]]:
        for match in re.finditer(r'#EXT-X-PART:DURATION=([0-9.]+),URI="([^"]+)"', text):
            yield match[2], float(match[1])


def final(folder: Path, name: str = "dvr.m3u8") -> m3u8.M3U8:
    return m3u8.loads((folder / name).read_text())


def concatenated(folder: Path, names: list[str], out: Path) -> Path:
    with open(out, "wb") as file:
        for name in ["init.mp4", *names]:
            file.write((folder / name).read_bytes())
    return out


def probe(path: Path) -> dict[str, str]:
    """ffprobe's frame counts and duration; ffmpeg decodes it all with not a single warning."""
    decoded = subprocess.run([FFMPEG, "-nostdin", "-v", "warning", "-i", str(path), "-f", "null", "-"],
                             capture_output=True, text=True, timeout=60)
    assert decoded.returncode == 0 and decoded.stderr == "", decoded.stderr
    out = subprocess.run([FFPROBE, "-v", "warning", "-count_frames", "-show_entries",
                          "stream=codec_type,codec_name,profile,width,height,nb_read_frames,sample_rate,channels,start_time,duration:"
                          "format=duration,start_time", "-of", "flat", str(path)],
                         capture_output=True, text=True, timeout=60, check=True)
    assert out.stderr == "", out.stderr
    return dict(line.split("=", 1) for line in out.stdout.replace('"', "").splitlines())


def plays(playlist: Path) -> None:
    """Debian's ffmpeg plays the playlist (its HLS demuxer, EXT-X-MAP and all) with no warning."""
    played = subprocess.run([FFMPEG, "-nostdin", "-v", "warning", "-i", str(playlist), "-f", "null", "-"],
                            capture_output=True, text=True, timeout=60)
    assert played.returncode == 0 and played.stderr == "", played.stderr


def span(streams: dict[str, str], index: int) -> float:
    """A stream's length: in fragmented MP4, ffprobe's duration is where it ends on the media timeline."""
    return float(streams[f"streams.stream.{index}.duration"]) - float(streams[f"streams.stream.{index}.start_time"])


def video_part_uris(playlist_text: str) -> list[str]:
    return [uri for uri, _ in PlaylistReader.all_parts(playlist_text)]


def test_segments_and_parts_follow_the_rules_and_play(programme: Encode, tmp_path: Path) -> None:
    folder = tmp_path / "720p"
    segmenter = Segmenter(folder, video=programme.video_track(), audio=programme.audio_track(), origin=ORIGIN,
                          live_segments=3)
    reader = PlaylistReader(folder)
    reader.feed(segmenter, programme.packets)
    live_before_close = (folder / "index.m3u8").read_text()
    segmenter.close()
    reader.read()
    assert reader.versions > 4 * 5  # a new live playlist for every part

    dvr = final(folder)
    assert dvr.is_endlist and dvr.media_sequence == int(ORIGIN)
    assert [s.duration for s in dvr.segments] == [1.0, 1.0, 1.0, 1.0]  # a keyframe every second
    assert dvr.target_duration == 1 and segmenter.last_msn == int(ORIGIN) + 3
    assert dvr.segments[0].program_date_time.timestamp() == ORIGIN
    live = final(folder, "index.m3u8")
    assert live.is_endlist and live.target_duration == 1 and live.part_inf.part_target == 0.2
    # parts only near the live edge; all of them 200 ms: five pictures each
    assert [len(s.parts) for s in live.segments] == [5, 5, 5]
    assert {p.duration for s in live.segments for p in s.parts} == {0.2}
    assert "#EXT-X-PRELOAD-HINT" in live_before_close and "#EXT-X-PRELOAD-HINT" not in (folder / "index.m3u8").read_text()

    whole = probe(concatenated(folder, [s.uri for s in dvr.segments], tmp_path / "segments.mp4"))
    assert whole["streams.stream.0.codec_name"] == "h264" and whole["streams.stream.0.profile"] == "Constrained Baseline"
    assert (whole["streams.stream.0.width"], whole["streams.stream.0.height"]) == ("1280", "720")
    assert whole["streams.stream.0.nb_read_frames"] == str(programme.ticks())
    assert whole["streams.stream.1.codec_name"] == "aac" and whole["streams.stream.1.sample_rate"] == "48000"
    audio_frames = sum(1 for kind, *_ in programme.packets if kind == "audio")
    assert whole["streams.stream.1.nb_read_frames"] == str(audio_frames)
    assert span(whole, 0) == pytest.approx(4.0, abs=1e-6)
    assert span(whole, 1) == pytest.approx(audio_frames * 1024 / SAMPLE_RATE, abs=1e-6)
    assert abs(float(whole["format.start_time"]) - (1.0 - 1024 / SAMPLE_RATE)) < 1e-3  # the epoch's margin, priming

    plays(folder / "dvr.m3u8")
    plays(folder / "index.m3u8")

    # the parts of the last segments, in order, make the same stream as their segments
    text = (folder / "index.m3u8").read_text()
    parts = probe(concatenated(folder, video_part_uris(text), tmp_path / "parts.mp4"))
    assert parts["streams.stream.0.nb_read_frames"] == str(3 * FPS)
    parts_bytes = b"".join((folder / uri).read_bytes() for uri in video_part_uris(text))
    assert parts_bytes == b"".join((folder / s.uri).read_bytes() for s in live.segments)


def test_skipped_ticks_never_stretch_a_part(tmp_path: Path) -> None:
    # an overloaded machine skips ticks (stream/programme.py BEHIND_LIMIT): the pictures' pts jump
    ticks = [*range(0, 33), *range(45, 95)]
    programme = encode(ticks)
    folder = tmp_path / "720p"
    segmenter = Segmenter(folder, video=programme.video_track(), audio=programme.audio_track(), origin=ORIGIN)
    reader = PlaylistReader(folder)
    reader.feed(segmenter, programme.packets)
    segmenter.close()
    reader.read()
    assert max(reader.parts_seen.values()) <= 0.2
    dvr = final(folder)
    stream = probe(concatenated(folder, [s.uri for s in dvr.segments], tmp_path / "all.mp4"))
    assert stream["streams.stream.0.nb_read_frames"] == str(len(ticks))
    # the hole (ticks 33-44, in second 1) is told by a discontinuity on the first segment after it,
    # second 2's, and the audio rendition, which lost the same sound, says so on the same segment
    assert [s.discontinuity for s in dvr.segments] == [False, False, True, False]
    sound = Segmenter(tmp_path / "audio", video=None, audio=programme.audio_track(), origin=ORIGIN)
    listener = PlaylistReader(tmp_path / "audio")
    listener.feed(sound, [p for p in programme.packets if p[0] == "audio"])
    sound.close()
    listener.read()
    audio = final(tmp_path / "audio")
    assert [s.uri for s in audio.segments if s.discontinuity] == [s.uri for s in dvr.segments if s.discontinuity]
    plays(folder / "dvr.m3u8")


def test_every_keyframe_in_a_later_second_starts_a_segment(tmp_path: Path) -> None:
    # after a stall the programme's keyframe for second 1 came late (tick 37); second 2's is on time
    programme = encode(list(range(3 * FPS)), keyframes={0, 37, 50})
    folder = tmp_path / "720p"
    segmenter = Segmenter(folder, video=programme.video_track(), audio=programme.audio_track(), origin=ORIGIN)
    reader = PlaylistReader(folder)
    reader.feed(segmenter, programme.packets)
    segmenter.close()
    reader.read()
    dvr = final(folder)
    assert [s.duration for s in dvr.segments] == [1.48, 0.52, 1.0]
    # parts keep to the 200 ms grid: the late segment's first part ends at tick 40
    live = final(folder, "index.m3u8")
    assert [p.duration for p in live.segments[1].parts] == [0.12, 0.2, 0.2]
    assert [s.program_date_time.timestamp() - ORIGIN for s in dvr.segments] == pytest.approx([0.0, 1.48, 2.0], abs=1e-3)
    probe(concatenated(folder, [s.uri for s in dvr.segments], tmp_path / "all.mp4"))


def test_a_restart_goes_on_numbering_with_one_discontinuity(programme: Encode, tmp_path: Path) -> None:
    folder = tmp_path / "720p"
    first = Segmenter(folder, video=programme.video_track(), audio=programme.audio_track(), origin=ORIGIN,
                      live_segments=3)
    reader = PlaylistReader(folder)
    # the worker dies (SIGKILL: no close) in the middle of its third segment, two parts into it
    cut = next(i for i, (kind, _, pts, _) in enumerate(programme.packets) if kind == "video" and pts == 2 * FPS + 14)
    reader.feed(first, programme.packets[:cut])
    published = video_part_uris((folder / "index.m3u8").read_text())
    unfinished = int(ORIGIN) + 2
    assert f"{unfinished}.1.m4s" in published and f"{unfinished}.m4s" not in (folder / "dvr.m3u8").read_text()
    del first

    # the new worker starts ten seconds later, its pts from 0 again
    second = Segmenter(folder, video=programme.video_track(), audio=programme.audio_track(), origin=ORIGIN + 10,
                       live_segments=3)
    reader.feed(second, programme.packets)
    second.close()
    reader.read()

    dvr = final(folder)
    msns = [dvr.media_sequence + k for k in range(len(dvr.segments))]
    assert msns == list(range(int(ORIGIN), int(ORIGIN) + 7))
    # the parts the first run published became its segment, under the number they were published with
    assert dvr.segments[2].uri == f"{unfinished}.m4s" and 0.4 <= dvr.segments[2].duration <= 0.6
    assert [s.discontinuity for s in dvr.segments] == [False, False, False, True, False, False, False]
    assert (dvr.discontinuity_sequence or 0) == 0
    # the restart's segments carry their own wall time
    assert dvr.segments[3].program_date_time.timestamp() == ORIGIN + 10
    # every segment kept its numbers in every playlist the reader saw, before and after the restart
    assert set(reader.segments) == set(msns)
    assert reader.segments[msns[3]][2] == 1

    # the live window has moved past the discontinuity's segment: the sequence moved on with it
    live = final(folder, "index.m3u8")
    assert live.media_sequence == msns[4] and live.discontinuity_sequence == 1

    # media time goes on increasing across the break, and each run plays on its own
    before = probe(concatenated(folder, [s.uri for s in dvr.segments[:3]], tmp_path / "run1.mp4"))
    after = probe(concatenated(folder, [s.uri for s in dvr.segments[3:]], tmp_path / "run2.mp4"))
    assert float(after["format.start_time"]) > float(before["format.start_time"]) + float(before["format.duration"])
    assert abs(float(after["format.start_time"]) - (11.0 - 1024 / SAMPLE_RATE)) < 1e-3
    assert after["streams.stream.0.nb_read_frames"] == str(programme.ticks())
    plays(folder / "dvr.m3u8")  # across the discontinuity


def test_a_run_that_dies_inside_its_first_segment(programme: Encode, tmp_path: Path) -> None:
    folder = tmp_path / "720p"
    first = Segmenter(folder, video=programme.video_track(), audio=programme.audio_track(), origin=ORIGIN)
    reader = PlaylistReader(folder)
    cut = next(i for i, (kind, _, pts, _) in enumerate(programme.packets) if kind == "video" and pts == 14)
    reader.feed(first, programme.packets[:cut])
    assert f"{int(ORIGIN)}.1.m4s" in video_part_uris((folder / "index.m3u8").read_text())
    assert not (folder / "dvr.m3u8").exists()
    del first
    second = Segmenter(folder, video=programme.video_track(), audio=programme.audio_track(), origin=ORIGIN + 5)
    reader.feed(second, programme.packets)
    second.close()
    reader.read()
    dvr = final(folder)
    assert dvr.media_sequence == int(ORIGIN) and dvr.segments[0].duration == 0.4
    assert [s.discontinuity for s in dvr.segments] == [False, True, False, False, False]
    plays(folder / "dvr.m3u8")


def test_a_long_run_keeps_its_windows_and_its_disk(programme: Encode, tmp_path: Path) -> None:
    # twenty seconds: the same four, again and again, later each time
    folder = tmp_path / "720p"
    segmenter = Segmenter(folder, video=programme.video_track(), audio=programme.audio_track(), origin=ORIGIN,
                          live_segments=3, dvr_segments=6)
    reader = PlaylistReader(folder)
    # the sound frames wholly inside the four seconds (not the priming frame, nor the encoder's flush)
    packets = [p for p in programme.packets if p[0] == "video" or 0 <= p[2] <= 4 * SAMPLE_RATE - 1024]
    for k in range(5):
        reader.feed(segmenter, [(kind, data, pts + k * 4 * (FPS if kind == "video" else SAMPLE_RATE), key)
                                for kind, data, pts, key in packets])
    segmenter.close()
    reader.read()
    assert len(reader.segments) == 20
    dvr, live = final(folder), final(folder, "index.m3u8")
    assert len(dvr.segments) == 6 and dvr.media_sequence == int(ORIGIN) + 14
    assert len(live.segments) == 3 and live.media_sequence == int(ORIGIN) + 17
    # a segment stays on disk a live window after leaving the DVR playlist; parts while theirs is in the live window
    segments = sorted(int(p.stem) for p in folder.glob("*.m4s") if p.stem.isdigit())
    assert segments == list(range(int(ORIGIN) + 11, int(ORIGIN) + 20))
    parts = {int(p.name.split(".")[0]) for p in folder.glob("*.*.m4s")}
    assert parts == set(range(int(ORIGIN) + 17, int(ORIGIN) + 20))
    assert not list(folder.glob("*.tmp"))
    plays(folder / "dvr.m3u8")


def test_the_audio_only_rendition(programme: Encode, tmp_path: Path) -> None:
    folder = tmp_path / "audio"
    segmenter = Segmenter(folder, video=None, audio=programme.audio_track(), origin=ORIGIN)
    reader = PlaylistReader(folder)
    reader.feed(segmenter, [p for p in programme.packets if p[0] == "audio"])
    segmenter.close()
    reader.read()
    live = final(folder, "index.m3u8")
    target = live.part_inf.part_target
    assert 0.2 <= target < 0.25  # whole AAC frames: ten of them
    assert all(p.independent == "YES" for s in live.segments for p in s.parts)
    dvr = final(folder)
    # cut on the seconds (from the priming frame) at whole AAC frames: 46 or 47 of them, no drift
    assert dvr.target_duration == 1 and all(0.98 <= s.duration <= 1.003 for s in dvr.segments[:-1])
    for k, segment in enumerate(dvr.segments):
        assert abs(segment.program_date_time.timestamp() - (ORIGIN - 1024 / SAMPLE_RATE + k)) < 1024 / SAMPLE_RATE
    sound = probe(concatenated(folder, [s.uri for s in dvr.segments], tmp_path / "audio.mp4"))
    assert sound["streams.stream.0.codec_name"] == "aac" and "streams.stream.1.codec_name" not in sound
    assert sound["streams.stream.0.channels"] == "2"
    audio_frames = sum(1 for kind, *_ in programme.packets if kind == "audio")
    assert sound["streams.stream.0.nb_read_frames"] == str(audio_frames)
    assert span(sound, 0) == pytest.approx(audio_frames * 1024 / SAMPLE_RATE, abs=1e-6)
    plays(folder / "index.m3u8")


def test_pictures_out_of_presentation_order_are_refused(programme: Encode, tmp_path: Path) -> None:
    segmenter = Segmenter(tmp_path / "720p", video=programme.video_track(), audio=programme.audio_track(),
                          origin=ORIGIN)
    first = programme.packets[0]
    segmenter.video(first[1], 5, True)
    with pytest.raises(ValueError, match="presentation order"):
        segmenter.video(first[1], 4, False)


def test_the_multivariant_playlist(programme: Encode) -> None:
    video_codecs = codec_string(programme.headers)
    assert video_codecs == "avc1.42c01f"  # x264's Baseline is Constrained Baseline, level 3.1
    audio_codecs = audio_codec_string(programme.config)
    assert audio_codecs == "mp4a.40.2"
    entries = [VariantEntry(RENDITIONS["720p"], f"{video_codecs},{audio_codecs}"),
               VariantEntry(RENDITIONS["360p"], f"{video_codecs},{audio_codecs}"),
               VariantEntry(RENDITIONS["audio"], audio_codecs)]
    playlist = m3u8.loads(render(entries))
    assert playlist.is_variant
    streams = {p.uri: p.stream_info for p in playlist.playlists}
    assert list(streams) == ["720p/index.m3u8", "360p/index.m3u8", "audio/index.m3u8"]
    top = streams["720p/index.m3u8"]
    assert top.bandwidth == RENDITIONS["720p"].bandwidth and 0 < top.average_bandwidth <= top.bandwidth
    assert top.codecs == "avc1.42c01f,mp4a.40.2" and top.resolution == (1280, 720) and top.frame_rate == 25.0
    assert streams["360p/index.m3u8"].resolution == (640, 360)
    sound = streams["audio/index.m3u8"]
    assert sound.codecs == "mp4a.40.2" and sound.resolution is None and sound.bandwidth < 200_000



MSE_APPEND = """async ([type, chunks]) => {
  const result = {supported: MediaSource.isTypeSupported(type), errors: [], ranges: []};
  const video = document.createElement("video");
  document.body.appendChild(video);
  const source = new MediaSource();
  video.src = URL.createObjectURL(source);
  await new Promise(resolve => source.addEventListener("sourceopen", resolve, {once: true}));
  const buffer = source.addSourceBuffer(type);
  buffer.addEventListener("error", () => result.errors.push("SourceBuffer error"));
  for (const chunk of chunks) {
    try {
      buffer.appendBuffer(Uint8Array.from(atob(chunk), c => c.charCodeAt(0)));
    } catch (error) {
      result.errors.push(String(error));
      break;
    }
    await new Promise(resolve => buffer.addEventListener("updateend", resolve, {once: true}));
  }
  for (let i = 0; i < buffer.buffered.length; i++) result.ranges.push([buffer.buffered.start(i), buffer.buffered.end(i)]);
  result.mediaError = video.error && video.error.message;
  return result;
}"""


@pytest.mark.browser
async def test_chromium_media_source_takes_segments_and_parts(programme: Encode, tmp_path: Path, browser: Any) -> None:
    """What hls.js does with our bytes: Chromium's MSE appends the init, whole segments, then parts."""
    video_folder, audio_folder = tmp_path / "720p", tmp_path / "audio"
    video = Segmenter(video_folder, video=programme.video_track(), audio=programme.audio_track(), origin=ORIGIN)
    sound = Segmenter(audio_folder, video=None, audio=programme.audio_track(), origin=ORIGIN)
    for kind, data, pts, keyframe in programme.packets:
        if kind == "video":
            video.video(data, pts, keyframe)
        else:
            video.audio(data, pts)
            sound.audio(data, pts)
    video.close()
    sound.close()
    page = await browser.new_page()
    types = ((video_folder, f'video/mp4; codecs="{codec_string(programme.headers)},mp4a.40.2"'),
             (audio_folder, 'audio/mp4; codecs="mp4a.40.2"'))
    for folder, mime in types:
        dvr = final(folder)
        # the first segments whole, the last one by its parts: the live edge as LL-HLS fetches it
        names = [s.uri for s in dvr.segments[:-1]] + video_part_uris((folder / "index.m3u8").read_text())[-5:]
        assert len(names) == len(dvr.segments) - 1 + 5
        chunks = [base64.b64encode((folder / name).read_bytes()).decode() for name in ["init.mp4", *names]]
        result = await page.evaluate(MSE_APPEND, [mime, chunks])
        assert result["supported"] and result["errors"] == [] and result["mediaError"] is None, result
        assert len(result["ranges"]) == 1, result  # no hole between the segments and the parts
        start, end = result["ranges"][0]
        assert start == pytest.approx(1.0 - 1024 / SAMPLE_RATE, abs=0.03) and end >= 4.9, result
    await page.close()
