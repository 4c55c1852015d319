"""Where a session's recording and everything made from it live: `recordings/<session>/`.

One place for the names, so the recorder, the finalising jobs, the master, the publication and the
archive's file server agree on them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .recording_index import INDEX_FILE, VIDEO_FILE


@dataclass(frozen=True)
class RecordingFiles:
    directory: Path  # recordings/<session>

    @classmethod
    def of(cls, recordings: Path, session_id: int) -> RecordingFiles:
        return cls(recordings / str(session_id))

    # -- written live by the recorder (stream/recorder.py) --
    @property
    def video(self) -> Path:
        return self.directory / VIDEO_FILE  # programme.ts: the one recording

    @property
    def index(self) -> Path:
        return self.directory / INDEX_FILE

    # -- written by the finalising job (stream/finalize.py) --
    @property
    def chapters_json(self) -> Path:
        return self.directory / "chapters.json"

    @property
    def chapters_vtt(self) -> Path:
        return self.directory / "chapters.vtt"

    @property
    def chapters_ffmeta(self) -> Path:
        return self.directory / "chapters.ffmeta"

    @property
    def portal_mp4(self) -> Path:
        return self.directory / "portal.mp4"  # H.264 + AAC, faststart, with MP4 chapters

    @property
    def vod_dir(self) -> Path:
        return self.directory / "vod"

    @property
    def vod_playlist(self) -> Path:
        return self.vod_dir / "index.m3u8"  # HLS VOD with ENDLIST

    @property
    def pictures(self) -> Path:
        return self.directory / "pictures"

    def picture(self, question_id: int) -> Path:
        """The picture shown with a question: an editor's upload wins over the frame taken from the video."""
        uploaded = self.uploaded_picture(question_id)
        return uploaded if uploaded.exists() else self.pictures / f"{question_id}.jpg"

    def uploaded_picture(self, question_id: int) -> Path:
        return self.pictures / f"{question_id}.upload.jpg"

    # -- written by the master job (stream/master.py, stream/conformance.py) --
    @property
    def masters(self) -> Path:
        return self.directory / "master"

    def master(self, profile: str) -> Path:
        return self.masters / f"{profile}.mp4"

    def report_json(self, profile: str) -> Path:
        return self.masters / f"{profile}.report.json"

    def report_pdf(self, profile: str) -> Path:
        return self.masters / f"{profile}.report.pdf"
