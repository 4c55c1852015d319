"""The multivariant playlist (RFC 8216 §4.3.4.2): one EXT-X-STREAM-INF per rendition, so a player
picks by BANDWIDTH and can tell from CODECS and RESOLUTION what it would get before fetching."""

from __future__ import annotations

from dataclasses import dataclass

from ..clock import FPS
from . import fmp4
from .rendition import Rendition

AAC_LC = "mp4a.40.2"
AVERAGE_SHARE = 0.85  # AVERAGE-BANDWIDTH against the peak: x264's average under its VBV ceiling


def codec_string(parameter_sets: bytes) -> str:
    """RFC 6381's avc1.PPCCLL from the SPS: profile_idc, constraint flags, level_idc ("avc1.42c01f")."""
    sps, _ = fmp4.parameter_sets(parameter_sets)
    return f"avc1.{sps[1]:02x}{sps[2]:02x}{sps[3]:02x}"


def audio_codec_string(config: bytes) -> str:
    """mp4a.40.<audio object type> from the AudioSpecificConfig (2: AAC-LC)."""
    if not config:
        raise ValueError("an empty AudioSpecificConfig")
    return f"mp4a.40.{config[0] >> 3}"


@dataclass(frozen=True)
class VariantEntry:
    rendition: Rendition
    codecs: str  # "avc1.42c01f,mp4a.40.2"; the audio-only rendition: "mp4a.40.2"


def render(entries: list[VariantEntry]) -> str:
    if not entries:
        raise ValueError("a multivariant playlist needs at least one rendition")
    lines = ["#EXTM3U", "#EXT-X-VERSION:9", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for entry in entries:
        rendition = entry.rendition
        peak = rendition.bandwidth
        attributes = [f"BANDWIDTH={peak}", f"AVERAGE-BANDWIDTH={int(peak * AVERAGE_SHARE)}",
                      f'CODECS="{entry.codecs}"']
        if not rendition.audio_only:
            attributes += [f"RESOLUTION={rendition.width}x{rendition.height}", f"FRAME-RATE={FPS:.3f}"]
        lines.append("#EXT-X-STREAM-INF:" + ",".join(attributes))
        lines.append(f"{rendition.name}/index.m3u8")
    return "\n".join(lines) + "\n"
