"""Finalising a recording after the close (docs/recording.md): recover a torn tail, write the
chapters, remux programme.ts into the portal's MP4 (faststart, MP4 chapters, no re-encode), cut the
same packets into an HLS VOD, take each chapter's picture. Blocking: run it in a thread (the job
runner, server/recording_jobs.py, does; so does the CLI). Every output is written beside its final
name and renamed into place, so a job interrupted half-way leaves nothing half-made to be served."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import chapters as chapter_files
from . import pictures
from .chapters import Chapter
from .recording_files import RecordingFiles
from .recovery import recover

Progress = Callable[[float, str], None]  # (0..1 of this step, step name)
HLS_SECONDS = 6
# the share of the whole job each step takes (remux and VOD read the whole file; pictures are a few seeks)
WEIGHTS = {"recover": 0.02, "remux": 0.45, "vod": 0.45, "pictures": 0.08}


class FinalizeError(RuntimeError):
    pass


def run_ffmpeg(args: list[str], duration_s: float, progress: Callable[[float], None]) -> None:
    """ffmpeg with `-progress pipe:1`: out_time_us / duration reported as it goes; stderr kept for
    the error message (a file, so a chatty ffmpeg never blocks on a full pipe)."""
    with tempfile.TemporaryFile() as err:
        with subprocess.Popen(["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y", "-progress", "pipe:1",
                               "-nostats", *args], stdout=subprocess.PIPE, stderr=err, text=True) as proc:
            assert proc.stdout is not None
            try:
                for line in proc.stdout:
                    key, _, value = line.strip().partition("=")
                    if key == "out_time_us" and value.isdigit() and duration_s > 0:
                        progress(min(1.0, int(value) / 1e6 / duration_s))
            except BaseException:  # the progress callback stops the job (the server stops): ffmpeg with it
                proc.kill()
                raise
            code = proc.wait()
        if code != 0:
            err.seek(0)
            raise FinalizeError(f"ffmpeg failed ({code}): {err.read().decode(errors='replace').strip()[-500:]}")
    progress(1.0)


def remux_portal(src: Path, dst: Path, ffmeta: Path | None, progress: Callable[[float], None],
                 duration_s: float | None = None) -> None:
    """programme.ts -> an MP4 for the portal: the same H.264 and AAC packets (`-c copy`), the ADTS
    headers turned into the MP4's (aac_adtstoasc), the moov first so a browser plays before it has
    it all (faststart), the chapters from `ffmeta`."""
    duration = duration_s if duration_s is not None else probe_duration(src)
    tmp = dst.with_name(dst.stem + ".tmp.mp4")
    args = ["-i", str(src)]
    if ffmeta is not None:
        args += ["-f", "ffmetadata", "-i", str(ffmeta), "-map_metadata", "1", "-map_chapters", "1"]
    args += ["-map", "0:v:0", "-map", "0:a:0?", "-c", "copy", "-bsf:a", "aac_adtstoasc", "-movflags", "+faststart",
             "-f", "mp4", str(tmp)]
    try:
        run_ffmpeg(args, duration, progress)
        tmp.replace(dst)
    finally:
        tmp.unlink(missing_ok=True)


def make_vod(src: Path, vod_dir: Path, progress: Callable[[float], None], duration_s: float | None = None) -> Path:
    """The same packets cut into an HLS VOD (6 s segments at the keyframes, ENDLIST): vod/index.m3u8."""
    duration = duration_s if duration_s is not None else probe_duration(src)
    tmp = vod_dir.with_name(vod_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    run_ffmpeg(["-i", str(src), "-map", "0:v:0", "-map", "0:a:0?", "-c", "copy", "-f", "hls",
                "-hls_time", str(HLS_SECONDS), "-hls_playlist_type", "vod",
                "-hls_segment_filename", str(tmp / "seg%05d.ts"), str(tmp / "index.m3u8")], duration, progress)
    old = vod_dir.with_name(vod_dir.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if vod_dir.exists():
        vod_dir.rename(old)
    tmp.rename(vod_dir)
    shutil.rmtree(old, ignore_errors=True)
    return vod_dir / "index.m3u8"


def probe(path: Path) -> dict[str, Any]:
    done = subprocess.run(["ffprobe", "-v", "error", "-show_format", "-show_streams", "-show_chapters", "-of", "json",
                           str(path)], capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise FinalizeError(f"ffprobe could not read {path.name}: {done.stderr.strip()[-300:]}")
    found: dict[str, Any] = json.loads(done.stdout)
    return found


def probe_duration(path: Path) -> float:
    return float(probe(path).get("format", {}).get("duration") or 0.0)


def top_atoms(path: Path) -> list[str]:
    """The MP4's top-level boxes in file order (faststart: moov before mdat)."""
    names = []
    with path.open("rb") as f:
        while True:
            head = f.read(8)
            if len(head) < 8:
                break
            size = int.from_bytes(head[:4], "big")
            names.append(head[4:].decode("latin-1"))
            if size == 1:
                size = int.from_bytes(f.read(8), "big")
                f.seek(size - 16, 1)
            elif size == 0:
                break
            else:
                f.seek(size - 8, 1)
    return names


def check_portal(path: Path, duration_s: float) -> dict[str, Any]:
    """What the portal needs of the MP4, checked rather than assumed."""
    atoms = top_atoms(path)
    if "moov" not in atoms or "mdat" not in atoms or atoms.index("moov") > atoms.index("mdat"):
        raise FinalizeError(f"portal.mp4 is not faststart: {atoms}")
    found = probe(path)
    codecs = sorted({s["codec_name"] for s in found["streams"]})
    if "h264" not in codecs:
        raise FinalizeError(f"portal.mp4 has no H.264: {codecs}")
    duration = float(found["format"]["duration"])
    if abs(duration - duration_s) > 1.0:
        raise FinalizeError(f"portal.mp4 lasts {duration:.2f} s, the recording {duration_s:.2f} s")
    return {"codecs": codecs, "duration_s": round(duration, 3), "chapters": len(found.get("chapters", []))}


def finalize(files: RecordingFiles, chapters: list[Chapter], progress: Progress) -> dict[str, Any]:
    """Everything the portal and the archive serve, made from the recording; answers the paths made."""
    done = 0.0

    def step(name: str) -> Callable[[float], None]:
        base = done
        return lambda fraction: progress(min(1.0, base + WEIGHTS[name] * fraction), name)

    step("recover")(0.0)
    rec = recover(files.directory)
    if not rec.exists or rec.duration_s <= 0:
        raise FinalizeError(f"no recording in {files.directory}")
    chapter_files.write(files, chapters)
    done += WEIGHTS["recover"]
    remux_portal(files.video, files.portal_mp4, files.chapters_ffmeta if chapters else None, step("remux"),
                 rec.duration_s)
    checked = check_portal(files.portal_mp4, rec.duration_s)
    done += WEIGHTS["remux"]
    playlist = make_vod(files.video, files.vod_dir, step("vod"), rec.duration_s)
    done += WEIGHTS["vod"]
    shown = pictures.take(files, chapters, source=files.portal_mp4, progress=step("pictures"))
    done += WEIGHTS["pictures"]
    progress(1.0, "done")
    return {"recording": str(files.video), "duration_s": round(rec.duration_s, 3), "gaps": [g.as_dict() for g in rec.gaps],
            "chapters": str(files.chapters_json), "chapters_vtt": str(files.chapters_vtt),
            "portal_mp4": str(files.portal_mp4), "portal": checked, "hls_vod": str(playlist),
            "pictures": {str(qid): str(path) for qid, path in shown.items()}}
