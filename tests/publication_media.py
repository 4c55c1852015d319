"""What the publication's tests need: a closed session with answered questions, and the files the
finalising job would have made (a short portal.mp4 and HLS VOD from ffmpeg's lavfi sources,
chapters.json/vtt, a picture), written where the server looks for them."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from moderation import schema as s
from moderation.consent import Channel
from moderation.sessions import Session, SessionState
from moderation.submission import parse_submission
from stream.recording_files import RecordingFiles

from .conftest import RunningServer, valid_payload

SECONDS = 12  # of test video: three chapters of 4 s
CHAPTER_STARTS = (0.0, 4.0, 8.0)


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args], check=True, timeout=120)


def write_media(files: RecordingFiles, questions: list[int]) -> None:
    """portal.mp4 (faststart, a keyframe each second), vod/index.m3u8 + segments, chapters, pictures."""
    files.vod_dir.mkdir(parents=True, exist_ok=True)
    _ffmpeg("-f", "lavfi", "-i", f"testsrc2=size=320x180:rate=25:duration={SECONDS}",
            "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={SECONDS}",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "25",
            "-c:a", "aac", "-b:a", "64k", "-ac", "2", "-movflags", "+faststart", str(files.portal_mp4))
    _ffmpeg("-i", str(files.portal_mp4), "-c", "copy", "-f", "hls", "-hls_time", "4", "-hls_playlist_type", "vod",
            "-hls_segment_filename", str(files.vod_dir / "seg%05d.ts"), str(files.vod_playlist))
    chapters = [{"question_id": qid, "title": f"Câu hỏi {n}", "asker": "", "field": "Đất đai",
                 "start_s": start, "end_s": start + 4.0}
                for n, (qid, start) in enumerate(zip(questions, CHAPTER_STARTS, strict=False), 1)]
    files.chapters_json.write_text(json.dumps(chapters, ensure_ascii=False), encoding="utf-8")
    vtt = ["WEBVTT", ""]
    for c in chapters:
        vtt += [f"00:00:{c['start_s']:06.3f} --> 00:00:{c['end_s']:06.3f}", str(c["title"]), ""]
    files.chapters_vtt.write_text("\n".join(vtt), encoding="utf-8")
    files.pictures.mkdir(exist_ok=True)
    for qid in questions:
        _ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x180:duration=1", "-frames:v", "1",
                str(files.pictures / f"{qid}.jpg"))


async def closed_session(server: RunningServer, *, live: int = 2, written: int = 1,
                         title: str = "Đối thoại về đất đai") -> tuple[Session, list[int], list[int]]:
    """A closed session with `live` questions answered live and `written` answered in writing."""
    session = await server.new_session(SessionState.LIVE, title=title)
    ids = []
    for n in range(live + written):
        receipt = await server.store.submit_question(parse_submission(valid_payload(
            session.id, field="Đất đai", text=f"Câu hỏi thứ {n + 1} về thời hạn cấp sổ đỏ ở phường Lê Chân?"),
            channel=Channel.SOCKET))
        ids.append(receipt.question_id)
    now = datetime.now(UTC)
    async with server.store.write_engine.begin() as conn:
        for n, qid in enumerate(ids):
            live_one = n < live
            await conn.execute(update(s.questions).where(s.questions.c.id == qid).values(
                state="answered_live" if live_one else "answered_in_writing",
                answer=None if live_one else "Sở Tài nguyên và Môi trường trả lời: 30 ngày làm việc.",
                answered_at=now + timedelta(seconds=n)))
    session = await server.store.transition_session(session.id, SessionState.CLOSED)
    return session, ids[:live], ids[live:]


def files_for(server: RunningServer, session_id: int) -> RecordingFiles:
    return RecordingFiles.of(server.settings.recordings_path, session_id)


def public_paths(session_id: int, question_id: int) -> list[str]:
    base = f"/archive/{session_id}"
    return [f"/api/v1/sessions/{session_id}/publication", f"{base}/portal.mp4", f"{base}/vod/index.m3u8",
            f"{base}/vod/seg00000.ts", f"{base}/chapters.vtt", f"{base}/pictures/{question_id}.jpg",
            f"{base}/export.zip", f"/embed/{session_id}"]
