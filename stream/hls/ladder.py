"""The ladder's outputs: one Segmenter per rendition, the encodes of the renditions below the top,
and the multivariant playlist over them (docs/video.md "Picture and sound").

The programme hands over its own encode's packets for the top rendition, each tick's decoded
picture for the ones below (each scaled once and encoded by a libx264 of its own) and the AAC
packets, encoded once, for all of them. Every encoder makes its keyframes where the programme
says (the first tick of each second), so the segments with the same number start on the same
picture in every rendition and a player switches between them without a jump."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from av.video.frame import PictureType
from av.video.reformatter import Interpolation, VideoReformatter

from ..clock import FPS, FRAME_TB
from .multivariant import VariantEntry, audio_codec_string, codec_string, render
from .rendition import Rendition
from .segmenter import AudioTrack, Segmenter, VideoTrack, write_atomically

MULTIVARIANT = "index.m3u8"


def x264_options(bitrate: int) -> dict[str, str]:
    """libx264's settings for every rendition: the programme's own encode and the ladder's."""
    kbps = bitrate // 1000
    return {
        "preset": "veryfast",
        "tune": "zerolatency",  # no lookahead, no frame threads: a frame leaves as it enters
        # Keyframes come where the programme asks for them (an I picture on the first tick of each
        # second, by the clock, so a busy machine that skips ticks still cuts 1 s segments); x264's
        # own interval is only a fallback, and scene cuts would put keyframes off the grid.
        "forced-idr": "1",
        # a ceiling, not only an average: after a still stretch (slate, test card) a busy picture
        # would otherwise spend the saved bits at four times the rate on every viewer
        "x264-params": f"keyint={2 * FPS}:scenecut=0:vbv-maxrate={kbps}:vbv-bufsize={kbps}",
    }


def h264_encoder(width: int, height: int, bitrate: int) -> av.VideoCodecContext:
    """An opened libx264 for one rendition below the top."""
    codec = av.VideoCodecContext.create("libx264", "w")
    codec.width, codec.height, codec.pix_fmt = width, height, "yuv420p"
    codec.time_base = FRAME_TB
    codec.framerate = Fraction(FPS)
    codec.bit_rate = bitrate
    codec.profile = "Baseline"  # x264's Baseline is Constrained Baseline: 42e01f, what browsers take
    codec.flags |= av.codec.context.Flags.global_header  # SPS/PPS in the extradata (for init.mp4), known at open
    codec.options = x264_options(bitrate)
    codec.open()
    return codec


@dataclass
class _LowerRendition:
    rendition: Rendition
    encoder: av.VideoCodecContext
    scaler: VideoReformatter  # keeps its scaling context from tick to tick
    segmenter: Segmenter

    def picture(self, frame: av.VideoFrame, keyframe: bool) -> None:
        r = self.rendition
        scaled = self.scaler.reformat(frame, r.width, r.height, "yuv420p", interpolation=Interpolation.BILINEAR)
        scaled.pts, scaled.time_base = frame.pts, FRAME_TB
        scaled.pict_type = PictureType.I if keyframe else PictureType.NONE
        self._write(self.encoder.encode(scaled))

    def flush(self) -> None:
        self._write(self.encoder.encode(None))

    def _write(self, packets: list[av.Packet]) -> None:
        for packet in packets:
            if packet.pts is not None:
                self.segmenter.video(bytes(packet), packet.pts, packet.is_keyframe)


class Ladder:
    """All of one session's renditions for one run of the programme's encode. `top` is the first
    rendition as the programme really encodes it (its size and rate from the settings)."""

    def __init__(self, folder: Path, renditions: tuple[Rendition, ...], top: VideoTrack, audio: AudioTrack,
                 origin: float, dvr_segments: int) -> None:
        self.folder = folder
        self._renditions = renditions
        self.published = False

        def segmenter(rendition: Rendition, video: VideoTrack | None) -> Segmenter:
            return Segmenter(folder / rendition.name, video=video, audio=audio, origin=origin,
                             dvr_segments=dvr_segments)

        # the playlists' order: the top first (a player without bandwidth figures starts there)
        sound = audio_codec_string(audio.config)
        self._entries = [VariantEntry(renditions[0], f"{codec_string(top.parameter_sets)},{sound}")]
        self.top = segmenter(renditions[0], top)
        self._lower: list[_LowerRendition] = []
        self._segmenters = [self.top]
        for rendition in renditions[1:]:
            if rendition.audio_only:
                self._segmenters.append(segmenter(rendition, None))
                self._entries.append(VariantEntry(rendition, sound))
                continue
            encoder = h264_encoder(rendition.width, rendition.height, rendition.video_bitrate)
            parameter_sets = bytes(encoder.extradata or b"")
            lower = _LowerRendition(rendition, encoder, VideoReformatter(),
                                    segmenter(rendition, VideoTrack(rendition.width, rendition.height,
                                                                    parameter_sets)))
            self._lower.append(lower)
            self._segmenters.append(lower.segmenter)
            self._entries.append(VariantEntry(rendition, f"{codec_string(parameter_sets)},{sound}"))

    def video(self, data: bytes, pts: int, keyframe: bool) -> None:
        """A packet of the programme's own encode (the top rendition)."""
        self.top.video(data, pts, keyframe)

    def picture(self, frame: av.VideoFrame, keyframe: bool) -> None:
        """This tick's programme picture (yuv420p at the top's size), for the renditions below."""
        for lower in self._lower:
            lower.picture(frame, keyframe)

    def audio(self, data: bytes, pts: int) -> None:
        """One AAC packet of the programme's sound, for every rendition."""
        for segmenter in self._segmenters:
            segmenter.audio(data, pts)

    def publish(self) -> bool:
        """Write the multivariant playlist once every rendition's media playlist exists (a player
        that reads it never meets a 404); True from then on."""
        if not self.published and all((self.folder / r.name / "index.m3u8").exists() for r in self._renditions):
            write_atomically(self.folder / MULTIVARIANT, render(self._entries))
            self.published = True
        return self.published

    def close(self) -> None:
        """The end of the programme: the encoders' last pictures out, every playlist ended."""
        for lower in self._lower:
            lower.flush()
        for segmenter in self._segmenters:
            segmenter.close()
