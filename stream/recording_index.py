"""A session's recording on disk, and the index that makes it safe to append to after a crash.

`recordings/<session>/programme.ts` is one MPEG-TS file: the programme's packets exactly as the one
encode made them (H.264 + AAC), appended run after run (a worker crash, a server restart) on one
timeline. Next to it, `programme.idx` is a JSON-lines log written by the recorder:

    {"origin": 1796219517.04, "fps": 25}                 once: the wall time of the timeline's 0 s
    {"run": 2, "t": 60.0, "wall": ..., "at": 98765}      a run starts (the recorder opened) at this size
    {"frag": 123456, "t": 61.0, "wall": ...}             the bytes before this offset are whole: the
                                                         timeline before 61.0 s; a fragment starts here
    {"state": "slate", "t": 61.2, "wall": ...}           the picture fell to the slate / came back ("live")
    {"end": 234567, "t": 72.04}                          the run closed cleanly at this size and time

Times are seconds on the recording's timeline (what a player shows); `wall` is when that moment
was due on the server's clock (the encode's tick grid, not when a late tick really ran).

Each line is written whole with one write() after the bytes it describes, so a line that is there
describes data that is there; a torn last line is ignored. Why MPEG-TS and not fragmented MP4: a TS
can be appended to after a crash without rewriting anything (an fMP4 would need a second moov), and
its fragments are the encoder's 1 s GOPs, each starting at a keyframe."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

VIDEO_FILE = "programme.ts"
INDEX_FILE = "programme.idx"


def read_index(directory: Path) -> list[dict[str, Any]]:
    """The index's whole lines (a torn last line, from a crash mid-write, is left out)."""
    path = directory / INDEX_FILE
    if not path.exists():
        return []
    entries = []
    for line in path.read_bytes().split(b"\n"):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            entries.append(entry)
    return entries


@dataclass
class Gap:
    """A stretch of the timeline without the programme's picture: `slate` (the feed was lost; the
    slate is in the recording) or `missing` (nothing was recorded: the worker or server was down)."""

    start_s: float
    end_s: float
    kind: str

    def as_dict(self) -> dict[str, Any]:
        return {"start_s": round(self.start_s, 3), "end_s": round(self.end_s, 3), "kind": self.kind}


@dataclass
class Recording:
    directory: Path
    origin: float | None = None  # wall time (unix s) of the timeline's 0
    runs: int = 0
    size: int = 0  # bytes known to be whole (the last fragment boundary or clean end)
    duration_s: float = 0.0  # the timeline's end as recorded (whole fragments)
    closed: bool = True  # the last run ended cleanly
    gaps: list[Gap] = field(default_factory=list)
    # (t, wall) of every run and fragment start: maps an event's wall time onto the timeline
    marks: list[tuple[float, float]] = field(default_factory=list)

    @property
    def video(self) -> Path:
        return self.directory / VIDEO_FILE

    @property
    def exists(self) -> bool:
        return self.origin is not None and self.video.exists()

    def at(self, wall: float) -> float | None:
        """An event's wall time as seconds into the recording, from the nearest fragment start
        before it (the encode may run a little behind the clock; each fragment says where)."""
        if self.origin is None:
            return None
        if not self.marks:
            return wall - self.origin
        best = self.marks[0]
        for mark in self.marks:
            if mark[1] > wall:
                break
            best = mark
        return max(0.0, best[0] + (wall - best[1]))

    def as_dict(self) -> dict[str, Any]:
        return {"path": str(self.video) if self.exists else None, "duration_s": round(self.duration_s, 3),
                "runs": self.runs, "closed": self.closed, "gaps": [g.as_dict() for g in self.gaps]}


def load(directory: Path) -> Recording:
    """The recording as its index describes it: runs, whole size, gaps, timeline marks."""
    rec = Recording(directory)
    slate_from: float | None = None
    last = 0.0
    for entry in read_index(directory):
        t = float(entry.get("t", 0.0))
        if "origin" in entry:
            rec.origin = float(entry["origin"])
        elif "run" in entry:
            if slate_from is not None:  # the run before ended (crashed) on the slate
                rec.gaps.append(Gap(slate_from, last, "slate"))
                slate_from = None
            if rec.runs and t > last:  # nothing was recorded from the last whole fragment to here
                rec.gaps.append(Gap(last, t, "missing"))
            rec.runs += 1
            rec.closed = False
            rec.size = int(entry["at"])
            last = t
            rec.marks.append((t, float(entry["wall"])))
        elif "frag" in entry:
            rec.size = int(entry["frag"])
            last = t
            rec.marks.append((t, float(entry["wall"])))
        elif "state" in entry:
            if entry["state"] == "slate" and slate_from is None:
                slate_from = t
            elif entry["state"] == "live" and slate_from is not None:
                rec.gaps.append(Gap(slate_from, t, "slate"))
                slate_from = None
        elif "end" in entry:
            rec.size = int(entry["end"])
            last = t
            rec.closed = True
            if slate_from is not None:  # the run ended on the slate
                rec.gaps.append(Gap(slate_from, last, "slate"))
                slate_from = None
    if slate_from is not None:
        rec.gaps.append(Gap(slate_from, last, "slate"))
    rec.duration_s = last
    rec.gaps.sort(key=lambda g: g.start_s)
    return rec
