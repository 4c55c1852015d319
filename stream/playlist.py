"""The live playlist: the last few segments of the worker's DVR playlist.

FFmpeg's HLS muxer writes one playlist, `dvr.m3u8`, with the whole DVR window (30 minutes by
default). Players that only want the live edge should not fetch a list of 1,800 segments every
second, so the server cuts `index.m3u8` from its tail: same header, the last N segments, and the
media and discontinuity sequence numbers moved on by what was cut (RFC 8216 §6.2.2)."""

from __future__ import annotations

# tags that apply to the whole playlist, not to the segment that follows them
PLAYLIST_TAGS = ("#EXTM3U", "#EXT-X-VERSION", "#EXT-X-TARGETDURATION", "#EXT-X-INDEPENDENT-SEGMENTS",
                 "#EXT-X-PLAYLIST-TYPE", "#EXT-X-ALLOW-CACHE", "#EXT-X-START")


def live_window(text: str, segments: int) -> str:
    header: list[str] = []
    sequence = 0
    discontinuity_sequence = 0
    parts: list[list[str]] = []  # each segment with the tags in front of it
    pending: list[str] = []
    ended = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
            sequence = int(line.split(":", 1)[1])
        elif line.startswith("#EXT-X-DISCONTINUITY-SEQUENCE:"):
            discontinuity_sequence = int(line.split(":", 1)[1])
        elif line == "#EXT-X-ENDLIST":
            ended = True
        elif line.startswith(PLAYLIST_TAGS):
            header.append(line)
        elif line.startswith("#"):
            pending.append(line)
        else:  # a segment URI closes the group of tags before it
            parts.append([*pending, line])
            pending = []
    cut = max(0, len(parts) - segments)
    for part in parts[:cut]:
        discontinuity_sequence += part.count("#EXT-X-DISCONTINUITY")
    kept = parts[cut:]
    out = [*header, f"#EXT-X-MEDIA-SEQUENCE:{sequence + cut}"]
    if discontinuity_sequence:
        out.append(f"#EXT-X-DISCONTINUITY-SEQUENCE:{discontinuity_sequence}")
    for part in kept:
        out.extend(part)
    if ended:
        out.append("#EXT-X-ENDLIST")
    return "\n".join(out) + "\n"
