"""The broadcast master: the programme as a TV station takes it, loudness-normalised to EBU R128.

Two-pass loudnorm with Debian's ffmpeg CLI: pass 1 measures (integrated loudness, true peak, loudness
range, threshold), pass 2 applies one fixed gain (`linear=true`), so the programme's dynamics are left
as spoken. Linear mode cannot always
reach the target: a quiet programme with a loud click would need more gain than the true-peak limit
allows (loudnorm would then switch itself to its dynamic mode, which compresses the whole programme and,
on short programmes, misses the integrated target). We fall back, never silently: the same one gain,
with a limiter at 192 kHz (so it sees the peaks between samples) holding only the peaks over the limit,
the gain corrected by measuring the limited sound. The result and the report carry
`"fallback": {"mode": "limiter", "reason": ..., "gain_db": ..., "tries": ...}` so the engineer signing
the report sees that peaks were limited. The true-peak aim is 1 dB under the profile's limit for AAC,
whose encoding raises peaks.

The delivered file is then measured independently (stream/conformance.py, the ebur128 filter)."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from .recording_files import RecordingFiles
from .recovery import recover

log = logging.getLogger(__name__)

FFMPEG = "ffmpeg"
FFPROBE = "ffprobe"

Progress = Callable[[float, str], None]


_FIELD_TYPES: dict[str, type] = {"str": str, "int": int, "float": float}
_TYPE_WORDS: dict[type, str] = {str: "text", int: "a whole number", float: "a number"}
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")


@dataclass(frozen=True)
class Profile:
    """What one station accepts. Loadable from a dict (`Profile.from_dict`) for profiles from a setting."""

    name: str
    label: str
    container: str = "mp4"  # mp4 (AAC) or mov (PCM: ffmpeg 5.1's mp4 muxer has no tag for PCM)
    video: str = "keep"  # "keep" (H.264 as recorded, copied) or "hd1080" (scaled, re-encoded)
    video_bitrate: str = "15M"  # hd1080 only
    x264_preset: str = "fast"  # hd1080 only
    audio_codec: str = "aac"  # aac or pcm_s24le
    audio_bitrate: str = "192k"  # aac only
    sample_rate: int = 48000
    channels: int = 2
    frame_rate: float = 25.0
    integrated_lufs: float = -23.0
    tolerance_lu: float = 0.5
    true_peak_max_dbtp: float = -1.0
    lra_target_lu: float = 15.0  # loudnorm's LRA (linear mode needs the measured LRA at or under it)
    lra_max_lu: float = 20.0  # the conformance check

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Profile:
        known = {f.name: _FIELD_TYPES[str(f.type)] for f in fields(cls)}
        unknown = set(raw) - set(known)
        if unknown:
            raise ValueError(f"profile {raw.get('name')}: unknown fields {', '.join(sorted(unknown))}; "
                             f"known: {', '.join(known)}")
        values = dict(raw)
        for name, value in raw.items():  # a TOML file or the environment gives anything: check before use
            kind = known[name]
            if kind is float and isinstance(value, int) and not isinstance(value, bool):
                values[name] = value = float(value)
            if not isinstance(value, kind) or isinstance(value, bool):
                raise ValueError(f"profile {raw.get('name')}: {name} must be {_TYPE_WORDS[kind]}, not {value!r}")
        profile = cls(**values)
        profile.validate()
        return profile

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def validate(self) -> None:
        if self.video not in ("keep", "hd1080"):
            raise ValueError(f"profile {self.name}: video must be keep or hd1080")
        if self.audio_codec not in ("aac", "pcm_s24le"):
            raise ValueError(f"profile {self.name}: audio_codec must be aac or pcm_s24le")
        if self.container not in ("mp4", "mov"):
            raise ValueError(f"profile {self.name}: container must be mp4 or mov")
        if self.audio_codec.startswith("pcm") and self.container == "mp4":
            raise ValueError(f"profile {self.name}: PCM sound needs the mov container")
        if not re.fullmatch(r"[a-z0-9_-]{1,40}", self.name):
            raise ValueError(f"profile name {self.name!r}: lower-case letters, digits, - and _ only")
        for name in ("video_bitrate", "audio_bitrate"):
            if not re.fullmatch(r"[1-9][0-9]*[kM]?", getattr(self, name)):
                raise ValueError(f"profile {self.name}: {name} must be a bit rate like 192k or 15M")
        if self.x264_preset not in X264_PRESETS:
            raise ValueError(f"profile {self.name}: x264_preset must be one of {', '.join(X264_PRESETS)}")
        if self.sample_rate not in (32000, 44100, 48000, 96000) or not 1 <= self.channels <= 8:
            raise ValueError(f"profile {self.name}: sample_rate must be 32000, 44100, 48000 or 96000 "
                             "and channels 1 to 8")
        if not 0 < self.frame_rate <= 120:
            raise ValueError(f"profile {self.name}: frame_rate must be above 0 and at most 120")
        # loudnorm takes I -70..-5, TP -9..0 (what is aimed at: 1 dB under the limit for AAC), LRA 1..50
        if not (-70 <= self.integrated_lufs <= -5 and 0 < self.tolerance_lu <= 5 and self.true_peak_max_dbtp <= 0
                and -9 <= peak_target(self) and 1 <= self.lra_target_lu <= 50 and 1 <= self.lra_max_lu <= 50):
            lowest = -8 if self.audio_codec == "aac" else -9
            raise ValueError(f"profile {self.name}: integrated_lufs -70 to -5, tolerance_lu above 0 up to 5, "
                             f"true_peak_max_dbtp {lowest} to 0, lra_target_lu and lra_max_lu 1 to 50")

    @property
    def video_codec(self) -> str:
        return "h264"


DEFAULT_PROFILE = Profile(name="default", label="MP4 H.264 (as recorded) + AAC 48 kHz 192 kbit/s, -23 LUFS")
PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        DEFAULT_PROFILE,
        Profile(name="hd1080", label="MP4 H.264 High 1920x1080 25p 15 Mbit/s + AAC 48 kHz 192 kbit/s, -23 LUFS",
                video="hd1080"),
        Profile(name="pcm", label="MOV H.264 (as recorded) + PCM 24-bit 48 kHz, -23 LUFS", container="mov",
                audio_codec="pcm_s24le"),
    )
}


def station_profiles(tables: Mapping[str, Mapping[str, Any]]) -> dict[str, Profile]:
    """The built-in profiles and a station's own (the `master_profiles` setting, one table per
    profile). A table gives only what differs from the default profile; one named like a built-in
    profile replaces it. ValueError names the profile and what is wrong with it."""
    found = dict(PROFILES)
    for name, table in tables.items():
        if not isinstance(table, Mapping):
            raise ValueError(f"profile {name}: a table of profile fields is needed, not {table!r}")
        if "name" in table and table["name"] != name:
            raise ValueError(f"profile {name}: its name is the table's name, not {table['name']!r}")
        found[name] = Profile.from_dict({**DEFAULT_PROFILE.to_dict(), "label": name, **table, "name": name})
    return found


def profile_named(name: str, profiles: Mapping[str, Profile] = PROFILES) -> Profile:
    try:
        return profiles[name]
    except KeyError:
        raise ValueError(f"unknown master profile {name!r}; known profiles: {', '.join(profiles)}") from None


def master_path(files: RecordingFiles, profile: Profile) -> Path:
    """Where the master goes: files.master(name) for mp4; the same name with .mov for a PCM profile."""
    path = files.master(profile.name)
    return path if profile.container == "mp4" else path.with_suffix(f".{profile.container}")


class MasterError(RuntimeError):
    """The master could not be made (ffmpeg failed, no input, a recording not at the profile's frame rate)."""


def probe(path: Path) -> dict[str, Any]:
    out = subprocess.run([FFPROBE, "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
                          str(path)], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise MasterError(f"ffprobe {path.name}: {out.stderr.strip()[-500:]}")
    data: dict[str, Any] = json.loads(out.stdout)
    return data


def rate(text: str) -> float:
    """An ffprobe rate such as "25/1" as a number (0 if unknown)."""
    num, _, den = text.partition("/")
    try:
        return float(num) / float(den or 1)
    except (ValueError, ZeroDivisionError):
        return 0.0


def _loudnorm_json(stderr: str) -> dict[str, str]:
    # loudnorm prints its JSON block last, after "[Parsed_loudnorm_N @ ...]"
    start = stderr.rfind("{")
    end = stderr.rfind("}")
    if start < 0 or end < start:
        raise MasterError("loudnorm printed no measurement: " + stderr.strip()[-500:])
    data: dict[str, str] = json.loads(stderr[start:end + 1])
    return data


def _run(args: list[str], duration: float, progress: Progress, start: float, span: float, stage: str) -> str:
    """Run ffmpeg with -progress on stdout; report start..start+span of the whole; answer its stderr."""
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace") as err:
        cmd = [FFMPEG, "-hide_banner", "-nostdin", "-nostats", "-y", "-progress", "pipe:1", *args]
        with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True) as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                key, _, value = line.strip().partition("=")
                if key == "out_time_us" and value.lstrip("-").isdigit() and duration > 0:
                    done = min(1.0, max(0.0, int(value) / 1e6 / duration))
                    progress(start + span * done, stage)
        err.seek(0)
        stderr = err.read()
    if proc.returncode != 0:
        raise MasterError(f"ffmpeg ({stage}) failed with {proc.returncode}: {stderr.strip()[-800:]}")
    progress(start + span, stage)
    return stderr


# AAC's encoding raises the peaks a loudnorm output had (by up to ~1 dB on clicks): aim under the limit
LOSSY_HEADROOM_DB = 1.0


# the limiter's own overshoot between its 192 kHz samples and ebur128's true peak (measured: ~0.1 dB)
LIMITER_MARGIN_DB = 0.5


def peak_target(profile: Profile) -> float:
    return profile.true_peak_max_dbtp - (LOSSY_HEADROOM_DB if profile.audio_codec == "aac" else 0.0)


def _loudnorm(profile: Profile) -> str:
    return f"loudnorm=I={profile.integrated_lufs}:TP={peak_target(profile)}:LRA={profile.lra_target_lu}"


def measure_loudnorm(source: Path, profile: Profile, duration: float, progress: Progress, span: float
                     ) -> dict[str, str]:
    """Pass 1: loudnorm's measurement of the programme's sound (decoded only, no video).

    loudnorm measures its input (input_i, input_tp, input_lra, input_thresh) in either mode. Run
    bare it is in its dynamic mode and also does the whole dynamic normalisation, only for the
    output to be thrown away. So it runs in linear mode at unity gain (told the programme is already
    at the target, with no peaks and no range: linear mode's conditions all hold, and -99 is not
    the -70 that means "not measured"). Linear mode does not upsample by itself, so its peak would
    be the sample peak: the sound is upsampled to 192 kHz first, as dynamic mode does, and input_tp
    is the true peak (bench/recording.py "pass 1" compares both passes' figures and times)."""
    unity = (f"aresample=192000,{_loudnorm(profile)}:measured_I={profile.integrated_lufs}:measured_TP=-99"
             f":measured_LRA=1:measured_thresh=-99:offset=0:linear=true:print_format=json")
    stderr = _run(["-i", str(source), "-vn", "-map", "0:a:0", "-af", unity, "-f", "null", "-"],
                  duration, progress, 0.0, span, "measure")
    measured = _loudnorm_json(stderr)
    if measured.get("normalization_type") != "linear":
        raise MasterError(f"loudnorm's measuring pass left linear mode ({measured.get('normalization_type')})")
    return measured


def why_not_linear(first: dict[str, str], profile: Profile) -> str | None:
    """The reason loudnorm's linear mode could not be used (its own rule in ffmpeg 5.1's af_loudnorm.c)."""
    gain = profile.integrated_lufs - float(first["input_i"])
    peak = float(first["input_tp"]) + gain
    reasons = []
    if peak > peak_target(profile):
        reasons.append(f"a gain of {gain:+.1f} dB to reach {profile.integrated_lufs} LUFS would put the true peak at "
                       f"{peak:+.1f} dBTP, over {peak_target(profile)} dBTP")
    if float(first["input_lra"]) > profile.lra_target_lu:
        reasons.append(f"the loudness range {float(first['input_lra']):.1f} LU is over {profile.lra_target_lu} LU")
    return "; ".join(reasons) or None


def limited_gain(first: dict[str, str], profile: Profile, gain: float | None = None) -> str:
    """The fallback: the same one gain loudnorm's linear mode would apply, and a limiter on the peaks that
    would then be over the limit, at 192 kHz so that it sees the peaks between samples (true peak). A
    click is limited; the programme's loudness and dynamics stay (loudnorm's dynamic mode would compress
    the whole programme and misses the integrated target on short ones)."""
    if gain is None:
        gain = profile.integrated_lufs - float(first["input_i"])
    limit = 10 ** ((peak_target(profile) - LIMITER_MARGIN_DB) / 20)
    return (f"volume={gain:.2f}dB,aresample=192000,alimiter=limit={limit:.4f}:level=false:attack=1:release=50,"
            f"aresample={profile.sample_rate}")


def limited_gain_for(source: Path, first: dict[str, str], profile: Profile, duration: float, progress: Progress,
                     at: float) -> tuple[float, str]:
    """The fallback's gain: the limiter takes a little loudness off the peaks it holds, so the gain is
    corrected by what the limited sound measures (sound only, up to 3 tries, to within 0.1 LU)."""
    from .conformance import summary

    gain = profile.integrated_lufs - float(first["input_i"])
    tries = []
    for _ in range(3):
        stderr = _run(["-i", str(source), "-vn", "-map", "0:a:0", "-af",
                       f"{limited_gain(first, profile, gain)},ebur128", "-f", "null", "-"],
                      duration, progress, at, 0.0, "measure")
        measured = summary(stderr)["integrated_lufs"]
        tries.append(f"{gain:+.2f} dB -> {measured:.2f} LUFS")
        if abs(measured - profile.integrated_lufs) <= 0.1:
            break
        gain += profile.integrated_lufs - measured
    return gain, "; ".join(tries)


def make_master(files: RecordingFiles, profile: Profile, progress: Progress) -> dict[str, Any]:
    """Make files' master for `profile`, measure it, write its reports. Blocking (run it in a thread)."""
    from .conformance import conformance, write_reports

    source = files.portal_mp4
    if not source.exists():
        recover(files.directory)
        source = files.video
    if not source.exists():
        raise MasterError(f"no recording to master in {files.directory}")
    info = probe(source)
    video = next((s for s in info["streams"] if s.get("codec_type") == "video"), None)
    audio = next((s for s in info["streams"] if s.get("codec_type") == "audio"), None)
    if video is None or audio is None:
        raise MasterError(f"{source.name} lacks a picture or a sound stream")
    duration = float(info["format"].get("duration") or 0.0)
    if profile.video == "keep":
        fps = rate(video.get("avg_frame_rate", "0/0")) or rate(video.get("r_frame_rate", "0/0"))
        if abs(fps - profile.frame_rate) > 0.01:
            raise MasterError(f"{source.name} is at {fps:g} fps, profile {profile.name} keeps the video as recorded "
                              f"and needs {profile.frame_rate:g} fps: use a re-encoding profile")
    first_span = 0.1 if profile.video == "keep" else 0.03  # the measuring pass's share of the time (sound only)
    first = measure_loudnorm(source, profile, duration, progress, first_span)
    if not float(first["input_i"]) > -70.0:  # nothing over the absolute gate: no gain makes silence -23 LUFS
        raise MasterError(f"{source.name} is silent (integrated loudness {first['input_i']} LUFS): "
                          f"no master can reach {profile.integrated_lufs} LUFS")

    out = master_path(files, profile)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.stem}.tmp{out.suffix}")  # ".tmp": not listed as made (recording_api)
    reason = why_not_linear(first, profile)
    gain, tries = 0.0, ""
    if reason is None:
        # pass 2: the measured values and offset; one gain for the whole programme
        af = (f"{_loudnorm(profile)}:measured_I={first['input_i']}:measured_TP={first['input_tp']}"
              f":measured_LRA={first['input_lra']}:measured_thresh={first['input_thresh']}"
              f":offset=0:linear=true:print_format=json,"  # linear mode's one gain: target_i - measured_I
              f"aresample={profile.sample_rate}")  # linear mode keeps the rate; dynamic mode would give 192 kHz
    else:
        gain, tries = limited_gain_for(source, first, profile, duration, progress, first_span)
        af = limited_gain(first, profile, gain)
    args = ["-i", str(source), "-map", "0:v:0", "-map", "0:a:0", "-af", af, "-ar", str(profile.sample_rate),
            "-ac", str(profile.channels)]
    if profile.video == "keep":
        args += ["-c:v", "copy"]
    else:
        args += ["-vf", "scale=1920:1080:flags=lanczos,format=yuv420p", "-r", f"{profile.frame_rate:g}",
                 "-c:v", "libx264", "-preset", profile.x264_preset, "-profile:v", "high",
                 "-b:v", profile.video_bitrate, "-maxrate", profile.video_bitrate, "-bufsize", profile.video_bitrate,
                 "-g", str(round(profile.frame_rate)), "-keyint_min", str(round(profile.frame_rate)),
                 "-sc_threshold", "0", "-flags", "+cgop"]  # closed GOP of 1 s: a station cuts anywhere
    if profile.audio_codec == "aac":
        args += ["-c:a", "aac", "-b:a", profile.audio_bitrate]
    else:
        args += ["-c:a", profile.audio_codec]
    args += ["-movflags", "+faststart", "-f", profile.container, str(partial)]
    try:
        stderr = _run(args, duration, progress, first_span, 0.95 - first_span, "master")
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(out)

    fallback: dict[str, str] | None = None
    second: dict[str, str] | None = None
    if reason is None:
        second = _loudnorm_json(stderr)
        if second.get("normalization_type") != "linear":  # loudnorm disagreed with our reading of its rule
            reason = f"loudnorm chose {second.get('normalization_type')} mode"
    if reason is not None:
        fallback = {"mode": "limiter" if second is None else str(second.get("normalization_type")), "reason": reason}
        if second is None:
            fallback["gain_db"] = f"{gain:+.2f}"
            fallback["tries"] = tries
        log.warning("master %s (%s): linear loudnorm impossible (%s), %s used", files.directory, profile.name,
                    reason, fallback["mode"])
    progress(0.95, "conformance")
    report = conformance(out, profile)
    report["loudnorm"] = {"pass1": first, "pass2": second}
    report["fallback"] = fallback
    report["source"] = source.name
    report_json, report_pdf = write_reports(files, profile, report)
    progress(1.0, "done")
    return {"master": str(out), "report": report, "report_json": str(report_json), "report_pdf": str(report_pdf),
            "fallback": fallback}
