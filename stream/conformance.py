"""The master's conformance report, measured on the delivered file, independently of what made it.

The master was normalised with loudnorm; here the sound is measured with a different filter, ffmpeg's
ebur128 (ITU-R BS.1770 loudness with true peak by 4x oversampling), on the file as the station gets it,
decoded again. ffprobe gives what the container says (duration, frame rate, resolution, codecs, sample
rate, channels). Each item is checked against the profile; the report passes only if all do."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .master import FFMPEG, MasterError, Profile, probe, rate
from .recording_files import RecordingFiles

_LINE = re.compile(r"\bM:\s*(-?[\d.]+|-?inf|nan)\s+S:\s*(-?[\d.]+|-?inf|nan)")
_SUMMARY = re.compile(r"Summary:(.*)$", re.S)


def ffmpeg_version() -> str:
    out = subprocess.run([FFMPEG, "-hide_banner", "-version"], capture_output=True, text=True, check=False)
    first = out.stdout.splitlines()[0] if out.stdout else ""
    m = re.match(r"ffmpeg version (\S+)", first)
    return m.group(1) if m else "unknown"


def measure_ebur128(path: Path) -> dict[str, float]:
    """I, LRA, true peak, max momentary and max short-term loudness of the file's first sound stream."""
    out = subprocess.run([FFMPEG, "-hide_banner", "-nostdin", "-nostats", "-i", str(path), "-map", "0:a:0",
                          "-af", "ebur128=peak=true", "-f", "null", "-"], capture_output=True, text=True,
                         errors="replace", check=False)
    if out.returncode != 0:
        raise MasterError(f"ebur128 on {path.name} failed: {out.stderr.strip()[-500:]}")
    return summary(out.stderr)


def summary(stderr: str) -> dict[str, float]:
    """The ebur128 filter's printout parsed: its summary and the maxima of its 100 ms lines."""
    found = _SUMMARY.search(stderr)
    if found is None:
        raise MasterError("ebur128 printed no summary")
    text = found.group(1)

    def field(pattern: str) -> float:
        m = re.search(pattern, text, re.S)
        if m is None:
            raise MasterError(f"ebur128 summary lacks {pattern!r}")
        return float(m.group(1))

    moments, shorts = [], []
    for m in _LINE.finditer(stderr[: found.start()]):
        moments.append(float(m.group(1)))
        shorts.append(float(m.group(2)))
    return {
        "integrated_lufs": field(r"Integrated loudness:\s*I:\s*(-?[\d.]+|-inf)"),
        "loudness_range_lu": field(r"Loudness range:\s*LRA:\s*(-?[\d.]+)"),
        "true_peak_dbtp": field(r"True peak:\s*Peak:\s*(-?[\d.]+|-inf)") if "True peak" in text else float("nan"),
        "max_momentary_lufs": max(moments, default=float("-inf")),
        "max_short_term_lufs": max(shorts, default=float("-inf")),
    }


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check(name: str, value: Any, limit: str, ok: bool) -> dict[str, Any]:
    return {"name": name, "value": value, "limit": limit, "pass": bool(ok)}


def conformance(path: Path, profile: Profile) -> dict[str, Any]:
    """Measure `path` and check it against `profile`; answer the report (JSON-ready)."""
    info = probe(path)
    empty: dict[str, Any] = {}
    video: dict[str, Any] = next((s for s in info["streams"] if s.get("codec_type") == "video"), empty)
    audio: dict[str, Any] = next((s for s in info["streams"] if s.get("codec_type") == "audio"), empty)
    loud = measure_ebur128(path)
    fps = rate(str(video.get("avg_frame_rate", "0/0"))) or rate(str(video.get("r_frame_rate", "0/0")))
    report: dict[str, Any] = {
        **{k: round(v, 2) for k, v in loud.items()},
        "duration_s": round(float(info["format"].get("duration") or 0.0), 3),
        "frame_rate": round(fps, 3),
        "width": int(video.get("width", 0)),
        "height": int(video.get("height", 0)),
        "video_codec": str(video.get("codec_name", "")),
        "audio_codec": str(audio.get("codec_name", "")),
        "sample_rate": int(audio.get("sample_rate", 0)),
        "channels": int(audio.get("channels", 0)),
    }
    target, tol = profile.integrated_lufs, profile.tolerance_lu
    checks = [
        _check("integrated_lufs", report["integrated_lufs"], f"{target:.1f} ± {tol:.1f} LUFS",
               abs(loud["integrated_lufs"] - target) <= tol),
        _check("true_peak_dbtp", report["true_peak_dbtp"], f"≤ {profile.true_peak_max_dbtp:.1f} dBTP",
               loud["true_peak_dbtp"] <= profile.true_peak_max_dbtp),
        _check("loudness_range_lu", report["loudness_range_lu"], f"≤ {profile.lra_max_lu:.1f} LU",
               loud["loudness_range_lu"] <= profile.lra_max_lu),
        _check("frame_rate", report["frame_rate"], f"{profile.frame_rate:g} fps",
               abs(fps - profile.frame_rate) < 0.01),
        _check("video_codec", report["video_codec"], profile.video_codec, report["video_codec"] == profile.video_codec),
        _check("audio_codec", report["audio_codec"], profile.audio_codec, report["audio_codec"] == profile.audio_codec),
        _check("sample_rate", report["sample_rate"], f"{profile.sample_rate} Hz",
               report["sample_rate"] == profile.sample_rate),
        _check("channels", report["channels"], str(profile.channels), report["channels"] == profile.channels),
        _check("duration_s", report["duration_s"], "> 0 s", report["duration_s"] > 0),
    ]
    if profile.video == "hd1080":
        checks.append(_check("resolution", f"{report['width']}x{report['height']}", "1920x1080",
                             (report["width"], report["height"]) == (1920, 1080)))
    report.update({
        "checks": checks,
        "pass": all(c["pass"] for c in checks),
        "profile": profile.to_dict(),
        "measured_with": f"ffmpeg {ffmpeg_version()} ebur128 (peak=true), ffprobe",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "file": {"name": path.name, "size": path.stat().st_size, "sha256": sha256(path)},
    })
    return report


def write_reports(files: RecordingFiles, profile: Profile, report: dict[str, Any]) -> tuple[Path, Path]:
    """The report as JSON and as the PDF an engineer signs; answer both paths."""
    from .conformance_pdf import report_pdf

    json_path, pdf_path = files.report_json(profile.name), files.report_pdf(profile.name)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = json_path.with_name(f".{json_path.name}.tmp")
    tmp.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.replace(json_path)
    tmp_pdf = pdf_path.with_name(f".{pdf_path.name}.tmp")
    tmp_pdf.write_bytes(report_pdf(report))
    tmp_pdf.replace(pdf_path)
    return json_path, pdf_path
