"""Recovery of a recording after a crash: before a new run appends, or before finalising.

A SIGKILL (of the worker, of the whole server) or a power cut leaves the last fragment torn: some
of its TS packets on disk, its index line not yet written, perhaps a torn index line. The index
knows the byte offset where the last whole fragment ends; everything after it is cut, so the next
run appends to a file whose every packet is whole and the demuxer never meets half a frame. What is
cut is at most the one fragment being written (≤ 1 s: the encoder makes a keyframe every second)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from .recording_index import INDEX_FILE, Recording, load

log = logging.getLogger(__name__)


def recover(directory: Path) -> Recording:
    """Cut a torn tail from the index and the video; answer the recording as it now stands."""
    index = directory / INDEX_FILE
    if index.exists():
        raw = index.read_bytes()
        whole = raw[: raw.rfind(b"\n") + 1]
        if len(whole) != len(raw):
            log.warning("recording %s: a torn index line was cut (%s bytes)", directory, len(raw) - len(whole))
            _truncate(index, len(whole))
    rec = load(directory)
    if rec.runs and rec.video.exists():  # no index, no runs: not the recorder's file (an import); leave it
        size = rec.video.stat().st_size
        if size > rec.size:
            log.warning("recording %s: cut %s bytes after the last whole fragment (at most 1 s)", directory,
                        size - rec.size)
            _truncate(rec.video, rec.size)
    return rec


def _truncate(path: Path, size: int) -> None:
    with path.open("r+b") as f:
        f.truncate(size)
        f.flush()
        os.fsync(f.fileno())
