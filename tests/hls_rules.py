"""RFC 8216 and low-latency HLS (draft-pantos-hls-rfc8216bis) rules for a live stream, checked over
successive reloads of its playlists. Each reload is parsed by the third-party `m3u8` package in its
strict mode (not our parser), then checked by the rules below, one reload against the last and
every segment against what was said about it before.

Rules about one reload hold for any reload; rules between reloads hold for one client's reloads
in the order it made them (responses to parallel requests may arrive out of order), so each
sequential client names itself; what a segment is (its number, duration, discontinuity number,
date) must agree across every client."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

import m3u8

PDT_SLACK = 0.05  # s: PROGRAM-DATE-TIME against the durations, for milliseconds written rounded
PARTS_SLACK = 0.01  # s: a segment's parts against its EXTINF, both rounded to milliseconds


@dataclass(frozen=True)
class Segment:
    msn: int
    uri: str
    duration: float
    discontinuity: bool  # carries EXT-X-DISCONTINUITY
    number: int  # its discontinuity sequence number
    date: datetime | None
    parts: tuple[str, ...]


@dataclass(frozen=True)
class Reload:
    """What one reload says, as the `m3u8` package read it."""

    media_sequence: int
    discontinuity_sequence: int
    target: int
    segments: tuple[Segment, ...]  # whole segments, in order
    in_progress: tuple[str, ...]  # parts of the segment after the last whole one
    part_target: float | None
    preload_hint: str | None
    ended: bool

    @property
    def last(self) -> int:
        return self.media_sequence + len(self.segments) - 1

    @property
    def duration(self) -> float:
        return sum(s.duration for s in self.segments)

    def has(self, msn: int, part: int | None = None) -> bool:
        """Whether it answers a blocking request for `msn` (and `part`), per §6.2.5.2."""
        if part is None or msn <= self.last:
            return msn <= self.last
        return msn == self.last + 1 and part < len(self.in_progress)


class Broken(AssertionError):
    pass


def read_media(text: str) -> Reload:
    """One media playlist as the `m3u8` package parses it (strict: a malformed tag is an error)."""
    m3u8.parse(text, strict=True)
    playlist = m3u8.loads(text)
    if playlist.is_variant:
        raise Broken("a multivariant playlist where a media playlist was expected")
    sequence = playlist.media_sequence or 0
    number = playlist.discontinuity_sequence or 0
    segments, in_progress = [], ()
    for index, segment in enumerate(playlist.segments):
        parts = tuple(p.uri for p in segment.parts)
        if segment.uri is None:  # parts after the last whole segment: the one being written
            in_progress = parts
            continue
        number += bool(segment.discontinuity)
        segments.append(Segment(sequence + index, segment.uri, float(segment.duration), bool(segment.discontinuity),
                                number, segment.program_date_time, parts))
    hint = playlist.preload_hint
    part_inf = playlist.part_inf
    return Reload(sequence, playlist.discontinuity_sequence or 0, int(playlist.target_duration or 0), tuple(segments),
                  in_progress, part_inf.part_target if part_inf else None,
                  hint.uri if hint is not None and hint.hint_type == "PART" else None, bool(playlist.is_endlist))


@dataclass
class _Client:
    last: Reload | None = None


@dataclass
class LiveRules:
    """The rules for one live media playlist (one rendition), fed every reload of it."""

    name: str
    reloads: int = 0
    breaks: set[int] = field(default_factory=set)  # segments that carry EXT-X-DISCONTINUITY
    _segments: dict[int, Segment] = field(default_factory=dict)
    _msn_of: dict[str, int] = field(default_factory=dict)  # segment and part URIs → segment number
    _parts_of: dict[int, tuple[str, ...]] = field(default_factory=dict)  # the most parts seen of each segment
    _whole: dict[int, tuple[str, ...]] = field(default_factory=dict)  # the parts of whole segments
    _clients: dict[str, _Client] = field(default_factory=dict)
    _filled: bool = False  # once the window has held 3 target durations it must go on holding them

    @property
    def segments(self) -> dict[int, Segment]:
        return dict(self._segments)

    @property
    def uris(self) -> set[str]:
        """Every segment and part URI any reload listed."""
        return set(self._msn_of)

    def reload(self, text: str, client: str = "plain") -> Reload:
        problems: list[str] = []
        try:
            now = read_media(text)
        except Exception as err:  # the parser's own complaint is the finding
            raise Broken(f"{self.name}: m3u8 cannot read the playlist: {err!r}\n{text}") from err
        self._one(text, now, problems)
        self._across(now, self._clients.setdefault(client, _Client()), problems)
        self._ledger(now, problems)
        self.reloads += 1
        if problems:
            raise Broken(f"{self.name}, reload {self.reloads} ({client}):\n  " + "\n  ".join(problems) + f"\n{text}")
        return now

    # -- one reload ------------------------------------------------------------------------------

    def _one(self, text: str, now: Reload, problems: list[str]) -> None:
        lines = text.splitlines()
        if not lines or lines[0] != "#EXTM3U":
            problems.append("RFC 8216 §4.3.1.1: the first line is not #EXTM3U")
        tags = {line.split(":", 1)[0]: line.split(":", 1)[1] if ":" in line else "" for line in lines
                if line.startswith("#EXT")}
        version = int(tags.get("#EXT-X-VERSION", "1"))
        if "#EXT-X-MAP" in tags and version < 6:
            problems.append(f"RFC 8216 §7: EXT-X-MAP in a media playlist needs version 6 (has {version})")
        if "#EXT-X-MAP" not in tags:
            problems.append("RFC 8216 §3.3: fragmented MP4 segments need EXT-X-MAP")
        if not now.target:
            problems.append("RFC 8216 §4.3.3.1: no EXT-X-TARGETDURATION")
        for s in now.segments:
            if math.floor(s.duration + 0.5) > now.target:
                problems.append(f"RFC 8216 §4.3.3.1: segment {s.msn} lasts {s.duration} s, more than the target "
                                f"duration {now.target} s once rounded")
        uris = [s.uri for s in now.segments]
        parts = [p for s in now.segments for p in s.parts] + list(now.in_progress)
        if len(set(uris)) != len(uris) or len(set(parts)) != len(parts):
            problems.append("a segment or part URI appears twice")
        dates = [s for s in now.segments if s.date is not None]
        if len(dates) != len(now.segments):
            problems.append("a segment without EXT-X-PROGRAM-DATE-TIME")
        for before, after in zip(dates, dates[1:], strict=False):
            gap = (after.date - before.date).total_seconds()  # type: ignore[operator]
            if gap <= 0:
                problems.append(f"PROGRAM-DATE-TIME goes back from segment {before.msn} to {after.msn}")
            elif after.msn == before.msn + 1 and not after.discontinuity and abs(gap - before.duration) > PDT_SLACK:
                problems.append(f"PROGRAM-DATE-TIME of segment {after.msn} is {gap:.3f} s after {before.msn}, "
                                f"which lasts {before.duration} s, with no discontinuity between")
        self._tail_date(lines, now, problems)
        self._low_latency(text, tags, now, problems)

    @staticmethod
    def _tail_date(lines: list[str], now: Reload, problems: list[str]) -> None:
        """The date of the segment being written (the `m3u8` package drops it): after the last one."""
        uris = [i for i, line in enumerate(lines) if line and not line.startswith("#")]
        tail = lines[uris[-1] + 1:] if uris else []
        dates = [line.split(":", 1)[1] for line in tail if line.startswith("#EXT-X-PROGRAM-DATE-TIME:")]
        if not dates or not now.segments or now.segments[-1].date is None:
            return
        last = now.segments[-1]
        assert last.date is not None
        gap = (datetime.fromisoformat(dates[0].replace("Z", "+00:00")) - last.date).total_seconds()
        broke = "#EXT-X-DISCONTINUITY" in tail
        if gap <= 0 or (not broke and abs(gap - last.duration) > PDT_SLACK):
            problems.append(f"PROGRAM-DATE-TIME of the segment in progress is {gap:.3f} s after segment "
                            f"{last.msn}, which lasts {last.duration} s" + ("" if broke else ", with no discontinuity"))

    def _low_latency(self, text: str, tags: dict[str, str], now: Reload, problems: list[str]) -> None:
        playlist = m3u8.loads(text)
        control = playlist.server_control
        if control is not None and control.hold_back is not None and control.hold_back < 3 * now.target:
            problems.append(f"rfc8216bis §4.4.3.8: HOLD-BACK {control.hold_back} is under three target durations")
        all_parts = [p for s in playlist.segments for p in s.parts]
        if not all_parts:
            return
        if now.part_target is None:
            problems.append("rfc8216bis §4.4.3.7: EXT-X-PART without EXT-X-PART-INF")
            return
        for part in all_parts:
            if part.duration > now.part_target:
                problems.append(f"rfc8216bis §4.4.4.9: part {part.uri} lasts {part.duration} s, more than "
                                f"PART-TARGET {now.part_target}")
        if control is None or control.can_block_reload != "YES":
            problems.append("rfc8216bis §4.4.3.8 / Apple's LL-HLS profile: parts without CAN-BLOCK-RELOAD=YES")
        elif control.part_hold_back is None or control.part_hold_back < 3 * now.part_target - 1e-9:
            problems.append(f"rfc8216bis §4.4.3.8: PART-HOLD-BACK {control.part_hold_back} is under three part "
                            f"targets ({now.part_target})")
        if now.preload_hint is not None and now.preload_hint in {p.uri for p in all_parts}:
            problems.append(f"rfc8216bis §4.4.5.3: the preload hint {now.preload_hint} is a part already listed")
        if now.ended and now.preload_hint is not None:
            problems.append("a preload hint after EXT-X-ENDLIST")
        independent = "#EXT-X-INDEPENDENT-SEGMENTS" in tags
        for segment in playlist.segments:
            if not segment.parts:
                continue
            complete = segment.uri is None or self._whole_parts(segment)  # its part 0 is listed
            if independent and complete and segment.parts[0].independent != "YES":
                problems.append(f"rfc8216bis §4.4.4.9: the first part of {segment.uri} is not INDEPENDENT=YES "
                                f"though every segment starts independent (EXT-X-INDEPENDENT-SEGMENTS)")
            if segment.uri is not None and self._whole_parts(segment) is False:
                total = sum(p.duration for p in segment.parts)
                problems.append(f"the parts of {segment.uri} last {total:.3f} s, its EXTINF {segment.duration}")

    @staticmethod
    def _whole_parts(segment: m3u8.Segment) -> bool | None:
        """Whether a whole segment's parts add up to it (None: a segment still being written)."""
        if segment.uri is None:
            return None
        return abs(sum(p.duration for p in segment.parts) - float(segment.duration)) <= PARTS_SLACK

    # -- between one client's reloads ----------------------------------------------------------------

    def _across(self, now: Reload, client: _Client, problems: list[str]) -> None:
        before, client.last = client.last, now
        removed = before is not None and now.media_sequence > before.media_sequence
        if removed or self._filled:
            if not now.ended and now.duration < 3 * now.target - 1e-9:
                problems.append(f"RFC 8216 §6.2.2: segments were removed, leaving {now.duration:.3f} s, under three "
                                f"target durations ({3 * now.target} s)")
        if now.duration >= 3 * now.target:
            self._filled = True
        if before is None:
            return
        if now.media_sequence < before.media_sequence:
            problems.append(f"RFC 8216 §6.2.1: EXT-X-MEDIA-SEQUENCE went back from {before.media_sequence} to "
                            f"{now.media_sequence}")
        if now.last < before.last:
            problems.append(f"RFC 8216 §6.2.1: segment {before.last} was removed from the end (last now {now.last})")
        if now.discontinuity_sequence < before.discontinuity_sequence:
            problems.append("RFC 8216 §6.2.1: EXT-X-DISCONTINUITY-SEQUENCE went back")
        gone = [s for s in before.segments if s.msn < now.media_sequence]
        expected = before.discontinuity_sequence + sum(s.discontinuity for s in gone)
        if gone and now.discontinuity_sequence != expected:
            problems.append(f"RFC 8216 §6.2.2: {sum(s.discontinuity for s in gone)} discontinuities left the window; "
                            f"EXT-X-DISCONTINUITY-SEQUENCE went from {before.discontinuity_sequence} to "
                            f"{now.discontinuity_sequence}")
        if before.ended and not now.ended:
            problems.append("RFC 8216 §6.2.1: EXT-X-ENDLIST was taken back")

    # -- what every client was told about each segment -------------------------------------------

    def _ledger(self, now: Reload, problems: list[str]) -> None:
        for segment in now.segments:
            self._same_msn(segment.uri, segment.msn, problems)
            for part in segment.parts:
                self._same_msn(part, segment.msn, problems)
            known = self._segments.get(segment.msn)
            if known is None:
                self._segments[segment.msn] = segment
            else:
                said = (known.uri, known.duration, known.discontinuity, known.number, known.date)
                says = (segment.uri, segment.duration, segment.discontinuity, segment.number, segment.date)
                if said != says:
                    problems.append(f"RFC 8216 §6.2.1: segment {segment.msn} changed: was (uri, EXTINF, "
                                    f"discontinuity, discontinuity number, date) {said}, now {says}")
            if segment.discontinuity:
                self.breaks.add(segment.msn)
            if segment.parts:
                self._same_parts(segment.msn, segment.parts, whole=True, problems=problems)
        if now.in_progress:
            for part in now.in_progress:
                self._same_msn(part, now.last + 1, problems)
            self._same_parts(now.last + 1, now.in_progress, whole=False, problems=problems)

    def _same_msn(self, uri: str, msn: int, problems: list[str]) -> None:
        known = self._msn_of.setdefault(uri, msn)
        if known != msn:
            problems.append(f"RFC 8216 §6.2.1: {uri} was segment {known}, now {msn}: renumbered")

    def _same_parts(self, msn: int, parts: tuple[str, ...], *, whole: bool, problems: list[str]) -> None:
        """Parts are only ever added to a segment, in order, until it is whole."""
        known = self._parts_of.get(msn, ())
        short, long = (known, parts) if len(known) <= len(parts) else (parts, known)
        if long[:len(short)] != short:
            problems.append(f"the parts of segment {msn} changed: {known} then {parts}")
        if whole and msn in self._whole and self._whole[msn] != parts:
            problems.append(f"the parts of whole segment {msn} changed: {self._whole[msn]} then {parts}")
        if whole:
            self._whole[msn] = parts
        self._parts_of[msn] = long


@dataclass(frozen=True)
class Variant:
    uri: str
    bandwidth: int
    codecs: str
    resolution: tuple[int, int] | None


def check_multivariant(text: str) -> list[Variant]:
    """RFC 8216 §4.3.4.2 for each variant of a multivariant playlist; its variants."""
    problems: list[str] = []
    try:
        m3u8.parse(text, strict=True)
        playlist = m3u8.loads(text)
    except Exception as err:
        raise Broken(f"m3u8 cannot read the multivariant playlist: {err!r}\n{text}") from err
    if not playlist.is_variant:
        problems.append("not a multivariant playlist")
    variants = []
    for entry in playlist.playlists:
        info = entry.stream_info
        where = f"variant {entry.uri}"
        if not info.bandwidth:
            problems.append(f"§4.3.4.2: {where} has no BANDWIDTH")
        if info.average_bandwidth and info.average_bandwidth > info.bandwidth:
            problems.append(f"§4.3.4.2: {where}: AVERAGE-BANDWIDTH above BANDWIDTH")
        if not info.codecs:
            problems.append(f"§4.3.4.2: {where} has no CODECS (SHOULD; players need it to pick)")
        video = info.codecs is not None and "avc1" in info.codecs
        if video and not info.resolution:
            problems.append(f"§4.3.4.2: {where} has video but no RESOLUTION")
        if video and not info.frame_rate:
            problems.append(f"§4.3.4.2: {where} has video but no FRAME-RATE")
        variants.append(Variant(entry.uri, info.bandwidth or 0, info.codecs or "", info.resolution))
    if len({v.uri for v in variants}) != len(variants):
        problems.append("a variant listed twice")
    if problems:
        raise Broken("\n".join(problems) + f"\n{text}")
    return variants
