"""Finalising a recording after the close (docs/recording.md, stream/finalize.py): a live session
recorded by the real server, its questions aired and done through the board's API, closed; the
finalize job runs by itself, and the portal MP4, its chapters, the HLS VOD and the pictures are read
back with ffprobe, PyAV and the m3u8 package. The test card burns its capture time into each picture
(stream/stamp.py), so where a chapter starts is measured from the file, not assumed. Also: a job a
restart cut off (`running`, lease expired) is run again by itself; the CLI prints the status."""

from __future__ import annotations

import asyncio
import json
import re
import statistics
import subprocess
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import av
import m3u8
import pytest
import socketio
from sqlalchemy import insert, select, update

from moderation import schema as s
from moderation.sessions import SessionState
from moderation.store import Store, sqlite_url
from server.keys import accounts_key, media_key
from server.recording_api import jobs_key
from stream import chapters as chapter_files
from stream.chapters import Aired, Chapter
from stream.finalize import finalize, probe, top_atoms
from stream.recording_files import RecordingFiles
from stream.recording_index import load
from stream.stamp import read_stamp
from tests.conftest import RunningServer, make_session, run_cli, wait_for
from tests.staff import PASSWORD, submit
from tests.test_authorization import DOCS, Callers, callers, documented, sign_in, walk  # noqa: F401  (the fixture)
from tests.test_video import Studio, recording_studio  # noqa: F401  (the fixture)


@pytest.fixture
def studio(recording_studio: Studio) -> Studio:  # noqa: F811
    """Here the studio is the recording's (tests/test_video.py recording_studio)."""
    return recording_studio


FRAME_S = 1 / 25
CUE_TIME = re.compile(r"^(\d{2,}):([0-5]\d):([0-5]\d)\.(\d{3})$")


# -- readers written for the test (strict: what a picky player would refuse, they refuse) --

def parse_vtt(text: str) -> list[tuple[float, float, str, str]]:
    """A WebVTT file's cues (id, start, end, text); AssertionError on anything a strict parser refuses."""
    assert text.startswith("WEBVTT") and (len(text) == 6 or text[6] in " \t\n"), "no WEBVTT header"
    blocks = [b for b in text.split("\n\n")[1:] if b.strip()]
    cues = []

    def seconds(raw: str) -> float:
        found = CUE_TIME.match(raw)
        assert found, f"bad cue time {raw!r}"
        h, m, sec, ms = (int(g) for g in found.groups())
        return h * 3600 + m * 60 + sec + ms / 1000

    last_start = -1.0
    for block in blocks:
        lines = block.split("\n")
        if "-->" not in lines[0]:
            cue_id, lines = lines[0], lines[1:]
            assert "-->" not in cue_id
        else:
            cue_id = ""
        start_raw, arrow, end_raw = lines[0].partition(" --> ")
        assert arrow, f"bad timing line {lines[0]!r}"
        start, end = seconds(start_raw), seconds(end_raw.split(" ")[0])
        assert start <= end and start >= last_start, f"cue times out of order: {lines[0]}"
        last_start = start
        body = "\n".join(lines[1:])
        assert body and "-->" not in body, f"bad cue text {body!r}"
        cues.append((start, end, cue_id, body))
    return cues


def stamped_offset(path: Path, at_s: float, around: int = 6) -> float:
    """What wall-clock moment the picture at `at_s` into `path` shows: the test card's stamp
    (capture time) of the pictures around it, each less its time in the file, the median of them
    (one picture wobbles by the drawing thread's wake-up; a stretch does not) plus `at_s`."""
    offsets = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        start = stream.start_time or 0
        assert stream.time_base is not None
        container.seek(max(0, int((at_s - 2) / stream.time_base)) + start, stream=stream, backward=True)
        for frame in container.decode(stream):
            assert frame.pts is not None
            t = float((frame.pts - start) * stream.time_base)
            if t < at_s - around * FRAME_S:
                continue
            if t > at_s + around * FRAME_S:
                break
            stamp = read_stamp(frame)
            if stamp is not None and not stamp.slate:
                offsets.append(stamp.time_ms / 1000 - t)
    assert len(offsets) >= around, f"too few stamped pictures around {at_s:.2f} s"
    return at_s + statistics.median(offsets)


def media_duration(path: Path) -> float:
    return float(probe(path)["format"]["duration"])


def check_portal_mp4(files: RecordingFiles, duration_s: float, chapters: int) -> dict[str, Any]:
    atoms = top_atoms(files.portal_mp4)
    assert atoms.index("moov") < atoms.index("mdat"), atoms  # faststart
    found = probe(files.portal_mp4)
    media = [st for st in found["streams"] if st["codec_type"] in ("video", "audio")]
    assert sorted(st["codec_name"] for st in media) == ["aac", "h264"]
    # the rest: the MP4 chapters' QuickTime text track (ffmpeg writes it beside `chpl` for Apple's players)
    assert all(st["codec_type"] == "data" for st in found["streams"] if st not in media)
    assert abs(float(found["format"]["duration"]) - duration_s) <= 1.0
    assert len(found["chapters"]) == chapters
    return found


def check_vod(files: RecordingFiles, duration_s: float) -> None:
    text = files.vod_playlist.read_text()
    assert text.rstrip().endswith("#EXT-X-ENDLIST")
    playlist = m3u8.loads(text)
    assert playlist.is_endlist and playlist.playlist_type == "vod"
    assert playlist.segments and all(seg.duration <= 6 + 1.5 for seg in playlist.segments)
    assert abs(sum(seg.duration for seg in playlist.segments) - duration_s) <= 1.0
    for seg in playlist.segments:
        assert (files.vod_dir / seg.uri).stat().st_size > 0


# -- a recording made offline: programme.ts and its index, as the recorder writes them --

ORIGIN = 1_796_000_000.0


def offline_recording(directory: Path, seconds: int = 6) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"testsrc2=size=1280x720:rate=25:duration={seconds}", "-f", "lavfi", "-i",
                    f"sine=frequency=440:sample_rate=48000:duration={seconds}", "-ac", "2",
                    "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p", "-c:a", "aac",
                    "-f", "mpegts", str(directory / "programme.ts")], check=True, timeout=60)
    size = (directory / "programme.ts").stat().st_size
    lines = [{"origin": ORIGIN, "fps": 25}, {"run": 1, "t": 0.0, "wall": ORIGIN, "at": 0}]
    lines += [{"frag": 0, "t": float(t), "wall": ORIGIN + t} for t in range(seconds)]
    lines.append({"end": size, "t": float(seconds)})
    (directory / "programme.idx").write_text("".join(json.dumps(line) + "\n" for line in lines))


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(ORIGIN + seconds, UTC)


def test_chapters_are_placed_on_the_timeline_and_escaped(tmp_path: Path) -> None:
    offline_recording(tmp_path / "1", 2)  # the index only is read here
    rec = load(tmp_path / "1")
    rec.duration_s = 60.0
    aired = [Aired(7, "Câu hỏi; thứ = hai # \\ dòng\nmới", "Lê Văn Hùng", False, "Đất đai", at(20), None),
             Aired(5, "Câu hỏi thứ nhất --> đây", "", False, None, at(10), at(15)),
             Aired(9, "Câu hỏi tố cáo", "Người tố cáo", True, None, at(30), at(90))]
    chapters = chapter_files.build(rec, aired)
    assert [(c.question_id, c.start_s, c.end_s) for c in chapters] == [(5, 10, 15), (7, 20, 30), (9, 30, 60)]
    assert chapters[0].asker == chapter_files.ANONYMOUS and chapters[2].asker == ""  # protected: not named
    cues = parse_vtt(chapter_files.to_vtt(chapters))
    assert [(c[0], c[1], c[2]) for c in cues] == [(10, 15, "q5"), (20, 30, "q7"), (30, 60, "q9")]
    meta = chapter_files.to_ffmeta(chapters)
    assert meta.startswith(";FFMETADATA1\n")
    assert "title=Lê Văn Hùng: Câu hỏi\\; thứ \\= hai \\# \\\\ dòng mới\n" in meta


def test_finalize_makes_the_portal_mp4_vod_and_pictures(tmp_path: Path) -> None:
    files = RecordingFiles(tmp_path / "3")
    offline_recording(files.directory, 6)
    with files.video.open("ab") as f:
        f.write(b"\x47torn tail of a crash")  # recovery cuts it before the remux
    chapters = [Chapter(11, "Hỏi = một", "An", None, 0.5, 3.0), Chapter(12, "Hỏi hai", "Bình", None, 3.0, 6.0)]
    seen: list[tuple[float, str]] = []
    made = finalize(files, chapters, lambda fraction, step: seen.append((fraction, step)))
    assert made["portal_mp4"] == str(files.portal_mp4) and made["hls_vod"] == str(files.vod_playlist)
    found = check_portal_mp4(files, 6.0, 3)
    # an MP4's chapters have no holes: what comes before the first question is the opening
    assert [c["tags"]["title"] for c in found["chapters"]] == [chapter_files.OPENING, "An: Hỏi = một", "Bình: Hỏi hai"]
    assert [float(c["start_time"]) for c in found["chapters"]] == [0.0, 0.5, 3.0]
    check_vod(files, 6.0)
    for qid in (11, 12):
        assert files.picture(qid).read_bytes()[:3] == b"\xff\xd8\xff"  # a JPEG
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert {"remux", "vod", "pictures"} <= {step for _, step in seen}
    assert not list(files.directory.glob("*.tmp*")) and not (files.directory / "vod.tmp").exists()
    # an editor's upload wins over the frame taken from the video
    files.uploaded_picture(11).write_bytes(b"\xff\xd8\xffupload")
    assert files.picture(11) == files.uploaded_picture(11)


# -- the real thing: a live session, recorded, closed, finalised by itself --

async def act(studio: Studio, qid: int, action: str, version: int) -> dict[str, Any]:  # noqa: F811
    async with studio.http.post(f"{studio.server.url}/api/v1/questions/{qid}/actions",
                                json={"action": action, "version": version},
                                headers={"Authorization": f"Bearer {studio.api_token}"}) as response:
        body: dict[str, Any] = await response.json()
        assert response.status == 200, body
        return body["question"]


async def status(studio: Studio) -> dict[str, Any]:  # noqa: F811
    async with studio.http.get(f"{studio.server.url}/api/v1/staff/sessions/{studio.id}/recording",
                               headers={"Authorization": f"Bearer {studio.api_token}"}) as response:
        assert response.status == 200
        found: dict[str, Any] = await response.json()
        return found


@pytest.mark.slow
async def test_a_closed_session_is_finalised_by_itself_with_chapters_where_the_questions_were(
        studio: Studio, viewer_client: Callable[..., Awaitable[socketio.AsyncClient]]) -> None:  # noqa: F811
    await studio.set_feed("test")
    await studio.wait_state("live")
    server = studio.server
    media = server.app[media_key]
    directory = server.settings.recordings_path / str(studio.id)
    await wait_for(lambda: media.recording(studio.id)["state"] == "recording", 20)
    assert (await status(studio))["live"]["state"] == "recording"
    viewer = await viewer_client(server.url)
    texts = ["Xin hỏi tiến độ dự án đường vành đai 2?", "Bao giờ cấp sổ đỏ cho khu tái định cư?"]
    ids = [(await submit(viewer, studio.id, text=text))["question_id"] for text in texts]

    def fragments() -> int:
        return len(load(directory).marks)

    def at_least(count: int) -> Callable[[], bool]:
        return lambda: fragments() >= count

    await wait_for(at_least(3), 20)  # a little of the programme before the first question
    for qid in ids:
        version = (await act(studio, qid, "accept", 1))["version"]
        before = fragments()
        version = (await act(studio, qid, "air", version))["version"]
        await wait_for(at_least(before + 3), 20)  # ~3 s on air
        await act(studio, qid, "done", version)
        await wait_for(at_least(before + 4), 20)
    await server.store.transition_session(studio.id, SessionState.CLOSED)

    jobs = server.app[jobs_key]

    async def finalised() -> dict[str, Any]:
        while True:
            found = await jobs.jobs(studio.id)
            if found and found[0]["state"] in ("done", "failed"):
                return found[0]
            await asyncio.sleep(0.2)

    job = await asyncio.wait_for(finalised(), 120)
    assert job["kind"] == "finalize" and job["state"] == "done", job
    said = await status(studio)
    assert said["portal_mp4"] and said["hls_vod"] and said["recording"]
    assert [j["kind"] for j in said["jobs"]] == ["finalize"]  # exactly one, by itself

    files = RecordingFiles(directory)
    rec = load(directory)
    assert rec.closed and rec.origin is not None
    found = check_portal_mp4(files, rec.duration_s, 3)  # the opening, then the two questions
    assert abs(media_duration(files.portal_mp4) - media_duration(files.video)) <= 1.0
    check_vod(files, rec.duration_s)
    chapters = chapter_files.read(files)
    assert [c.question_id for c in chapters] == ids and [c.title for c in chapters] == texts
    questions = {qid: await server.store.get_question(qid) for qid in ids}
    # the display name as the public page shows it, nothing else of the asker
    assert [c.asker for c in chapters] == [questions[qid].public_name or chapter_files.ANONYMOUS for qid in ids]
    assert found["chapters"][0]["tags"]["title"] == chapter_files.OPENING
    for chapter, mp4_chapter in zip(chapters, found["chapters"][1:], strict=True):
        q = questions[chapter.question_id]
        assert q.aired_at is not None and q.answered_at is not None
        shown = stamped_offset(files.portal_mp4, chapter.start_s)  # the wall time the chapter's first picture shows
        assert abs(shown - q.aired_at.timestamp()) <= 0.040, (shown, q.aired_at.timestamp())
        assert abs(chapter.end_s - (rec.at(q.answered_at.timestamp()) or 0)) <= 0.001
        assert float(mp4_chapter["start_time"]) == pytest.approx(chapter.start_s, abs=0.001)
        assert files.picture(chapter.question_id).read_bytes()[:3] == b"\xff\xd8\xff"
    cues = parse_vtt(files.chapters_vtt.read_text())
    assert [c[2] for c in cues] == [f"q{qid}" for qid in ids]
    assert all("0912" not in c[3] and "Lạch Tray" not in c[3] for c in cues)  # never a phone or address

    # staff ask again, and make no more by themselves
    async with studio.http.post(f"{server.url}/api/v1/staff/sessions/{studio.id}/recording/finalize",
                                headers={"Authorization": f"Bearer {studio.api_token}"}) as response:
        assert response.status == 202
        again = (await response.json())["job"]
    assert (await jobs.wait(again["id"]))["state"] == "done"
    assert [j["kind"] for j in (await status(studio))["jobs"]] == ["finalize", "finalize"]


# -- a job cut off by a restart is run again; the CLI --

async def closed_session_with_recording(store: Store, recordings: Path) -> int:
    session = await make_session(store, SessionState.CLOSED)
    offline_recording(recordings / str(session.id), 4)
    return session.id


async def test_a_job_cut_off_by_a_restart_is_run_again(
        start_server: Callable[..., Awaitable[RunningServer]], tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    store = await Store.open(sqlite_url(data_dir))
    try:
        session_id = await closed_session_with_recording(store, data_dir / "recordings")
        async with store.write_engine.begin() as conn:  # what a SIGKILL mid-job leaves
            job_id = (await conn.execute(insert(s.recording_jobs).values(
                session_id=session_id, kind="finalize", state="running", progress=0.4, step="remux", attempts=1,
                created_at=datetime.now(UTC) - timedelta(minutes=2), started_at=datetime.now(UTC) - timedelta(minutes=2),
                lease_until=datetime.now(UTC) - timedelta(seconds=5)))).inserted_primary_key[0]  # type: ignore[index]
    finally:
        await store.close()
    server = await start_server()
    jobs = server.app[jobs_key]
    done = await asyncio.wait_for(jobs.wait(job_id), 60)
    assert done["state"] == "done" and done["attempts"] == 2, done
    files = RecordingFiles.of(server.settings.recordings_path, session_id)
    check_portal_mp4(files, 4.0, 0)
    async with server.store.read_engine.connect() as conn:
        kinds = (await conn.execute(select(s.recording_jobs.c.kind).where(
            s.recording_jobs.c.session_id == session_id))).scalars().all()
    assert kinds == ["finalize"]  # the interrupted one was the session's finalize: no second by itself


async def test_a_running_job_with_a_live_lease_is_not_taken(start_server: Callable[..., Awaitable[RunningServer]]) -> None:
    server = await start_server()
    session = await server.new_session(SessionState.LIVE)
    jobs = server.app[jobs_key]
    await jobs.stop()  # this node's runner out of the way: the test is the two nodes
    job_id = await jobs.enqueue(session.id, "finalize")
    first = await jobs.claim(job_id)
    assert first is not None and first["state"] == "running"
    assert await jobs.claim(job_id) is None  # another node asking at the same time gets nothing
    async with server.store.write_engine.begin() as conn:  # a job that keeps killing its server
        await conn.execute(update(s.recording_jobs).where(s.recording_jobs.c.id == job_id).values(
            attempts=3, lease_until=datetime.now(UTC) - timedelta(seconds=1)))
    assert await jobs.claim(job_id) is None
    cut_off = await jobs.job(job_id)
    assert cut_off["state"] == "failed" and "cut off 3 times" in cut_off["message"]


def test_the_cli_runs_the_job_and_prints_the_status(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()

    async def make() -> int:
        store = await Store.open(sqlite_url(data_dir))
        try:
            return await closed_session_with_recording(store, data_dir / "recordings")
        finally:
            await store.close()

    session_id = asyncio.run(make())
    keys = {"recording", "duration_s", "gaps", "chapters", "portal_mp4", "hls_vod", "master", "report", "jobs", "live"}
    before = json.loads(run_cli("recording", "status", str(session_id), data_dir=data_dir).stdout)
    assert keys <= set(before) and before["portal_mp4"] is None and before["jobs"] == []
    after = json.loads(run_cli("recording", "finalize", str(session_id), data_dir=data_dir).stdout)
    assert keys <= set(after) and after["portal_mp4"] and after["hls_vod"]
    assert [(j["kind"], j["state"]) for j in after["jobs"]] == [("finalize", "done")]
    assert after["duration_s"] == pytest.approx(4.0)
    refused = run_cli("recording", "master", str(session_id), "--profile", "no-such", data_dir=data_dir, check=False)
    assert refused.returncode == 1 and "no-such" in refused.stderr and "default, hd1080, pcm" in refused.stderr

    # a station's own profile, from the settings file: only what differs from the default, and made the default
    station = tmp_path / "station.toml"
    station.write_text('master_profile = "vtv"\n[master_profiles.vtv]\nlabel = "Đài: -24 LUFS"\n'
                       'integrated_lufs = -24\n', encoding="utf-8")
    made = json.loads(run_cli("recording", "master", str(session_id), "--config", str(station),
                              data_dir=data_dir).stdout)
    assert set(made["master"]) == {"vtv"} and [j["profile"] for j in made["jobs"] if j["kind"] == "master"] == ["vtv"]
    report = json.loads(Path(made["report"]["vtv"]["json"]).read_text(encoding="utf-8"))
    loudness = next(c for c in report["checks"] if c["name"] == "integrated_lufs")
    assert (loudness["limit"], loudness["pass"]) == ("-24.0 ± 0.5 LUFS", True), report  # the station's target
    assert report["integrated_lufs"] == pytest.approx(-24.0, abs=0.5)
    for table, named in (('integrated_lufs = "loud"', "integrated_lufs must be a number, not 'loud'"),
                         ("lufs = -24", "unknown fields lufs"), ('audio_codec = "mp3"', "audio_codec must be aac")):
        station.write_text(f"[master_profiles.vtv]\n{table}\n", encoding="utf-8")
        bad = run_cli("recording", "status", str(session_id), "--config", str(station), data_dir=data_dir, check=False)
        assert bad.returncode != 0 and "setting master_profiles: profile vtv: " in bad.stderr, bad.stderr
        assert named in bad.stderr, bad.stderr
    station.write_text('master_profile = "vtv"\n', encoding="utf-8")
    bad = run_cli("recording", "status", str(session_id), "--config", str(station), data_dir=data_dir, check=False)
    assert bad.returncode != 0 and "setting master_profile: 'vtv' is not a profile" in bad.stderr, bad.stderr


RECORDING_ROUTES = [("GET", "/api/v1/staff/sessions/{}/recording"), ("POST", "/api/v1/staff/sessions/{}/recording/finalize"),
                    ("POST", "/api/v1/staff/sessions/{}/recording/master"), ("GET", "/staff/sessions/{}/recording"),
                    ("GET", "/staff/sessions/{}/recording/files/{}"), ("GET", "/staff/sessions/{}/recording/master/{}")]


async def test_the_recording_routes_hold_each_caller_to_the_route_table(callers: Callers) -> None:  # noqa: F811
    table = documented(DOCS.read_text(encoding="utf-8"))
    assert set(RECORDING_ROUTES) <= set(table)
    problems = await walk(callers, table, only=RECORDING_ROUTES)
    assert not problems, "\n".join(problems)


async def test_the_staff_page_shows_the_recording_its_chapters_and_jobs_and_finalises_again(
        start_server: Callable[..., Awaitable[RunningServer]], tmp_path: Path) -> None:
    server = await start_server()
    session_id = await closed_session_with_recording(server.store, server.settings.recordings_path)
    jobs = server.app[jobs_key]
    async def queued() -> list[dict[str, Any]]:
        while True:
            found = await jobs.jobs(session_id)
            if found:
                return found
            await asyncio.sleep(0.1)

    first = (await asyncio.wait_for(queued(), 30))[0]  # the runner found the closed session by itself
    assert (await jobs.wait(first["id"]))["state"] == "done"
    await server.app[accounts_key].add_user("bientap", "editor", PASSWORD)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        csrf = await sign_in(server, http, "bientap")
        async with http.get(f"{server.url}/staff") as resp:
            assert f'href="/staff/sessions/{session_id}/recording"' in await resp.text()  # linked from the home
        async with http.get(f"{server.url}/staff/sessions/{session_id}/recording") as resp:
            assert resp.status == 200
            page = await resp.text()
        assert "0:00:04" in page and 'id="rec-jobs"' in page and 'data-state="done"' in page
        assert f'href="/staff/sessions/{session_id}/recording/files/portal.mp4"' in page
        async with http.get(f"{server.url}/staff/sessions/{session_id}/recording/files/portal.mp4") as resp:
            assert resp.status == 200 and (await resp.read())[4:8] == b"ftyp"
        async with http.get(f"{server.url}/staff/sessions/{session_id}/recording/files/programme.idx") as resp:
            assert resp.status == 404  # only the files named for staff
        async with http.post(f"{server.url}/api/v1/staff/sessions/{session_id}/recording/finalize",
                             data={"csrf": csrf}, allow_redirects=False) as resp:
            assert resp.status == 303 and resp.headers["Location"] == f"/staff/sessions/{session_id}/recording"
        async with http.post(f"{server.url}/api/v1/staff/sessions/{session_id}/recording/master",
                             json={"profile": "no-such"}, headers={"X-CSRF-Token": csrf}) as resp:
            assert resp.status == 400 and "no-such" in (await resp.json())["error"]["message"]
    assert [j["kind"] for j in await jobs.jobs(session_id)] == ["finalize", "finalize"]


async def test_a_master_asked_for_runs_through_the_runner_and_is_listed_and_served(
        start_server: Callable[..., Awaitable[RunningServer]]) -> None:
    server = await start_server()
    session = await server.new_session(SessionState.LIVE)  # not closed: no finalize by itself
    offline_recording(server.settings.recordings_path / str(session.id), 4)
    await server.app[accounts_key].add_user("bientap", "editor", PASSWORD)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        csrf = await sign_in(server, http, "bientap")
        api = f"{server.url}/api/v1/staff/sessions/{session.id}/recording"
        async with http.post(f"{api}/master", json={"profile": "default"}, headers={"X-CSRF-Token": csrf}) as resp:
            assert resp.status == 202
            job = (await resp.json())["job"]
        assert job["kind"] == "master" and job["profile"] == "default" and job["state"] in ("queued", "running")
        done = await asyncio.wait_for(server.app[jobs_key].wait(job["id"]), 120)
        assert done["state"] == "done", done
        async with http.get(api) as resp:
            said = await resp.json()
        assert said["master"] and set(said["master"]) == {"default"} and said["report"]["default"]["json"]
        assert said["portal_mp4"] is None  # a master is not the finalising
        async with http.get(f"{server.url}/staff/sessions/{session.id}/recording") as resp:
            page = await resp.text()
        name = Path(said["master"]["default"]).name
        assert f'/recording/master/{name}"' in page
        assert f'href="/staff/sessions/{session.id}/recording/master/default/report"' in page  # the sign-off page
        async with http.get(f"{server.url}/staff/sessions/{session.id}/recording/master/default/report") as resp:
            assert resp.status == 200
        async with http.get(f"{server.url}/staff/sessions/{session.id}/recording/master/{name}") as resp:
            assert resp.status == 200
            assert await resp.read() == await asyncio.to_thread(Path(said["master"]["default"]).read_bytes)


@pytest.mark.browser
async def test_the_page_follows_a_job_without_a_reload(start_server: Callable[..., Awaitable[RunningServer]],
                                                       browser: Any) -> None:
    from tests.browser import PHONE, log_in, open_viewer

    server = await start_server()
    session = await server.new_session(SessionState.LIVE)  # no finalize by itself: the page starts with none
    offline_recording(server.settings.recordings_path / str(session.id), 4)
    await server.app[accounts_key].add_user("bientap", "editor", PASSWORD)
    path = f"/staff/sessions/{session.id}/recording"
    viewer = await open_viewer(browser, f"{server.url}/login?next={path}", viewport=PHONE, wait_joined=False)
    try:
        await log_in(viewer.page, "bientap", PASSWORD, path, "#rec-no-jobs")
        assert await viewer.page.is_visible("#rec-no-jobs") and await viewer.page.is_hidden("#rec-jobs")
        async with viewer.page.expect_navigation():  # the button: a form post, a 303 back here
            await viewer.page.click("#rec-finalize")
        await viewer.page.wait_for_selector('tr.rec-job[data-state="done"]', timeout=60000)
        # a second job, asked for elsewhere (the API, another node): the page's poll shows it, no reload
        jobs = server.app[jobs_key]
        second = await jobs.enqueue(session.id, "finalize")
        await viewer.page.wait_for_selector(f'tr.rec-job[data-job-id="{second}"][data-state="done"]', timeout=60000)
        assert await viewer.page.locator("tr.rec-job").count() == 2
        assert "100%" in await viewer.page.inner_text(f'tr.rec-job[data-job-id="{second}"]')
        assert "Xong" in (await viewer.page.text_content("#rec-announce") or "")  # said once, to a screen reader
        assert viewer.unexpected_errors() == []
    finally:
        await viewer.close()
