"""A session's chapters: every question answered live is one, from when it went on air to when it
was done (docs/recording.md). Written three ways next to the recording: chapters.json (the portal,
the archive), chapters.vtt (a WebVTT `kind=chapters` track for the player) and chapters.ffmeta (the
MP4's own chapters, muxed in by ffmpeg).

A question aired twice keeps its last air (the store keeps one `aired_at`; a re-air overwrites it)
with the `answered_at` that followed. What a chapter says is what the public page says: the text
as approved and the display name, never a phone or an address; a protected asker is not named."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from .recording_files import RecordingFiles
from .recording_index import Recording

ANONYMOUS = "Người hỏi ẩn danh"  # server/ui_text.py "anonymous", as the public page shows it
OPENING = "Mở đầu"  # the MP4's chapter before the first question (the programme is in Vietnamese)


@dataclass(frozen=True)
class Chapter:
    question_id: int
    title: str
    asker: str
    field: str | None
    start_s: float
    end_s: float

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "start_s": round(self.start_s, 3), "end_s": round(self.end_s, 3)}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Chapter:
        return cls(int(raw["question_id"]), str(raw["title"]), str(raw["asker"]), raw.get("field"),
                   float(raw["start_s"]), float(raw["end_s"]))


@dataclass(frozen=True)
class Aired:
    """A question as it was on air: what the store says of it."""

    question_id: int
    text: str  # shown text: display_text or text
    public_name: str
    protected: bool
    field: str | None
    aired_at: datetime
    done_at: datetime | None


def build(rec: Recording, aired: list[Aired]) -> list[Chapter]:
    """Chapters on the recording's timeline, in air order; each ends when its question was done, or
    at the next one's start, or at the recording's end (never past either)."""
    placed: list[tuple[float, float | None, Aired]] = []
    for q in sorted(aired, key=lambda a: (a.aired_at, a.question_id)):
        start = rec.at(q.aired_at.timestamp())
        if start is None or start >= rec.duration_s:
            continue  # aired before the recording began to exist, or after it ended
        done = rec.at(q.done_at.timestamp()) if q.done_at is not None and q.done_at >= q.aired_at else None
        placed.append((start, done, q))
    chapters = []
    for i, (start, done, q) in enumerate(placed):
        end = rec.duration_s
        if i + 1 < len(placed):
            end = min(end, placed[i + 1][0])
        if done is not None:
            end = min(end, done)
        end = max(end, start)
        asker = "" if q.protected else (q.public_name or ANONYMOUS)
        chapters.append(Chapter(q.question_id, q.text, asker, q.field, start, end))
    return chapters


def timestamp(seconds: float) -> str:
    """WebVTT's hh:mm:ss.mmm."""
    ms = max(0, round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def _cue_text(chapter: Chapter) -> str:
    text = chapter.title if not chapter.asker else f"{chapter.asker}: {chapter.title}"
    # a cue's text may not hold a blank line or "-->"; one line reads best in a chapter menu
    return " ".join(text.replace("-->", "→").split())


def to_vtt(chapters: list[Chapter]) -> str:
    lines = ["WEBVTT", ""]
    for c in chapters:
        lines += [f"q{c.question_id}", f"{timestamp(c.start_s)} --> {timestamp(c.end_s)}", _cue_text(c), ""]
    return "\n".join(lines)


def _meta_escape(value: str) -> str:
    out = []
    for ch in value:
        if ch in "=;#\\\n":
            out.append("\\")
        out.append(ch)
    return "".join(out)


def to_ffmeta(chapters: list[Chapter]) -> str:
    """The MP4's chapters. An MP4 chapter list has no holes (each chapter runs to the next one and the
    first starts at 0), so the time before the first question is an opening chapter of its own, and
    each question's chapter runs on to the next (chapters.json and .vtt keep the exact ends)."""
    spans = [(round(c.start_s * 1000), _cue_text(c)) for c in chapters]
    if spans and spans[0][0] > 0:
        spans.insert(0, (0, OPENING))
    lines = [";FFMETADATA1"]
    for i, (start, title) in enumerate(spans):
        end = spans[i + 1][0] if i + 1 < len(spans) else round(chapters[-1].end_s * 1000)
        lines += ["[CHAPTER]", "TIMEBASE=1/1000", f"START={start}", f"END={max(end, start)}",
                  f"title={_meta_escape(title)}"]
    return "\n".join(lines) + "\n"


def write(files: RecordingFiles, chapters: list[Chapter]) -> None:
    """chapters.json, .vtt and .ffmeta, each written whole then renamed into place."""
    body = json.dumps([c.as_dict() for c in chapters], ensure_ascii=False, indent=1)
    for path, text in ((files.chapters_json, body), (files.chapters_vtt, to_vtt(chapters)),
                       (files.chapters_ffmeta, to_ffmeta(chapters))):
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)


def read(files: RecordingFiles) -> list[Chapter]:
    if not files.chapters_json.exists():
        return []
    return [Chapter.from_dict(raw) for raw in json.loads(files.chapters_json.read_text(encoding="utf-8"))]
