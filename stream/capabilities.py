"""What the media worker needs from PyAV's bundled FFmpeg, checked before anything starts."""

from __future__ import annotations

NEEDED_ENCODERS = {"libx264": "H.264 video", "aac": "AAC audio for HLS", "libopus": "Opus audio for WebRTC"}
NEEDED_DECODERS = {"h264": "H.264 video", "png": "the slate picture"}
NEEDED_FORMATS = {"hls": "the HLS playlist", "mpegts": "HLS segments", "mp4": "recordings"}
NEEDED_FILTERS = {"loudnorm": "broadcast loudness (EBU R128) for recordings"}


def missing() -> list[str]:
    """What is missing, in words; empty when everything is there."""
    try:
        import av
        import av.filter
    except ImportError as exc:  # the wheel itself, or the FFmpeg libraries it links
        return [f"PyAV cannot be imported ({exc}); install it with `pip install av`"]
    problems = []
    for name, what in NEEDED_ENCODERS.items():
        try:
            av.codec.Codec(name, "w")
        except Exception:
            problems.append(f"encoder {name} ({what})")
    for name, what in NEEDED_DECODERS.items():
        try:
            av.codec.Codec(name, "r")
        except Exception:
            problems.append(f"decoder {name} ({what})")
    for name, what in NEEDED_FORMATS.items():
        if name not in av.formats_available:
            problems.append(f"muxer {name} ({what})")
    for name, what in NEEDED_FILTERS.items():
        if name not in av.filter.filters_available:
            problems.append(f"filter {name} ({what})")
    return problems


def require() -> None:
    problems = missing()
    if problems:
        raise SystemExit(
            "doithoai: live video needs PyAV's FFmpeg with " + "; ".join(problems)
            + ". The PyPI wheels of `av` carry all of them; a PyAV built against a system FFmpeg may not."
            " Run without video with `doithoai serve --no-media`."
        )
