"""A picture for each chapter: a frame ~2 s into it (past the cut to the asker's question), taken from
the recording with ffmpeg. The publication shows `RecordingFiles.picture(qid)`, which prefers an
editor's upload over this one (the upload itself is the publication's, moderation/publication.py)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from .chapters import Chapter
from .recording_files import RecordingFiles

INTO_CHAPTER_S = 2.0
TIMEOUT_S = 60


def moment(chapter: Chapter) -> float:
    """~2 s in, clamped inside the chapter (a short one: its middle)."""
    length = max(0.0, chapter.end_s - chapter.start_s)
    return chapter.start_s + (INTO_CHAPTER_S if length > 2 * INTO_CHAPTER_S else length / 2)


def grab(video: Path, at_s: float, dst: Path) -> None:
    """One JPEG of `video` at `at_s` seconds into it (decoded from the keyframe before: exact)."""
    tmp = dst.with_name(dst.stem + ".tmp.jpg")
    done = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-ss", f"{at_s:.3f}", "-i", str(video),
                           "-frames:v", "1", "-q:v", "3", "-update", "1", str(tmp)],
                          capture_output=True, text=True, timeout=TIMEOUT_S)
    if done.returncode != 0 or not tmp.exists():
        tmp.unlink(missing_ok=True)
        raise RuntimeError(f"ffmpeg could not take a picture at {at_s:.3f} s: {done.stderr.strip()[-300:]}")
    tmp.replace(dst)


def take(files: RecordingFiles, chapters: list[Chapter], source: Path | None = None,
         progress: Callable[[float], None] | None = None) -> dict[int, Path]:
    """Every chapter's picture from the video (`source`: the recording by default); answers what each
    question shows now (an upload, where there is one)."""
    files.pictures.mkdir(parents=True, exist_ok=True)
    video = source or files.video
    for i, chapter in enumerate(chapters):
        grab(video, moment(chapter), files.pictures / f"{chapter.question_id}.jpg")
        if progress is not None:
            progress((i + 1) / len(chapters))
    return {c.question_id: files.picture(c.question_id) for c in chapters}
