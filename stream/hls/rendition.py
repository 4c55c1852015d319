"""The ladder: the renditions HLS offers, so a phone on a slow network still plays.

The top rendition is the programme's own encode (the one WebRTC and the recording carry); every
rendition below it is encoded once more from the same decoded picture. Sound is encoded once (AAC)
and goes into every rendition, and alone into the audio-only one."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rendition:
    name: str  # its folder and its NAME in the multivariant playlist: "720p", "480p", "360p", "audio"
    width: int  # 0 for the audio-only rendition
    height: int
    video_bitrate: int  # bit/s; 0 for the audio-only rendition
    audio_bitrate: int = 128_000

    @property
    def audio_only(self) -> bool:
        return self.width == 0

    @property
    def bandwidth(self) -> int:
        """Peak bit rate for BANDWIDTH: the video's VBV ceiling plus the sound plus ~10% container."""
        return int((self.video_bitrate + self.audio_bitrate) * 1.1)


RENDITIONS = {
    "720p": Rendition("720p", 1280, 720, 2_500_000),
    "480p": Rendition("480p", 854, 480, 1_000_000),
    "360p": Rendition("360p", 640, 360, 600_000),
    "audio": Rendition("audio", 0, 0, 0),
}
DEFAULT_LADDER = "720p,360p,audio"


def parse_ladder(spec: str) -> tuple[Rendition, ...]:
    """"720p,480p,360p,audio" → its renditions, the top one first. The first must be a video
    rendition (it is the programme's own encode); names may not repeat."""
    names = [name.strip() for name in spec.split(",") if name.strip()]
    unknown = [name for name in names if name not in RENDITIONS]
    if not names or unknown:
        raise ValueError(f"video ladder {spec!r}: choose from {', '.join(RENDITIONS)} "
                         f"(not {', '.join(unknown) or 'nothing'})")
    if len(set(names)) != len(names):
        raise ValueError(f"video ladder {spec!r}: a rendition is named twice")
    ladder = tuple(RENDITIONS[name] for name in names)
    if ladder[0].audio_only:
        raise ValueError(f"video ladder {spec!r}: the first rendition must have video (the programme's own encode)")
    if any(r.height > ladder[0].height for r in ladder[1:]):
        raise ValueError(f"video ladder {spec!r}: the renditions go down from the first")
    return ladder
