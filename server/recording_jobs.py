"""The recording's jobs after the close (docs/recording.md): `finalize` (stream/finalize.py: the
portal's MP4, the HLS VOD, chapters, pictures) and `master` (stream/master.py: the TV station's
broadcast master and its report), rows of `recording_jobs`.

One job at a time per process, in a thread. While it runs its row's lease is renewed (with its
progress, time left and step, at most every 0.5 s), so a server that restarts finds a job that was
cut off (`running`, lease expired) and runs it again by itself. A job is claimed with one UPDATE
whose WHERE says it is still free, so two nodes on one database never run the same job. A session
that closes with a recording gets its finalize job by itself, once (staff may ask again)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, exists, insert, literal, or_, select, update

from moderation import schema as s
from moderation.errors import NotFound, ValidationError
from moderation.questions import QuestionState
from moderation.sessions import SessionState
from moderation.store import Store
from server.config import Settings
from stream import chapters as chapter_files
from stream import master
from stream.chapters import Aired, Chapter
from stream.finalize import finalize
from stream.recording_files import RecordingFiles
from stream.recording_index import load

log = logging.getLogger(__name__)

KINDS = ("finalize", "master")
STOP_WAIT_S = 10.0  # how long a stopping server waits for the loop to leave by itself before cancelling it
LEASE_S = 30.0  # a running job's lease; renewed every WRITE_EVERY_S
WRITE_EVERY_S = 0.5
POLL_S = 3.0  # how often the runner looks for closed sessions and free jobs
MAX_ATTEMPTS = 3  # a job that keeps being cut off (it kills its server?) is failed, not retried for ever
SETTLE_S = 20.0  # a closed session whose recorder never wrote its clean end is finalised after this
DONE = ("done", "failed")


def now() -> datetime:
    return datetime.now(UTC)


def job_dict(row: Any) -> dict[str, Any]:
    m = row._mapping
    return {"id": m["id"], "session_id": m["session_id"], "kind": m["kind"], "profile": m["profile"],
            "state": m["state"], "progress": round(float(m["progress"] or 0.0), 4),
            "eta_seconds": None if m["eta_seconds"] is None else round(float(m["eta_seconds"]), 1),
            "step": m["step"], "message": m["message"], "result": m["result"], "attempts": m["attempts"],
            "created_at": m["created_at"].isoformat() if m["created_at"] else None,
            "finished_at": m["finished_at"].isoformat() if m["finished_at"] else None}


async def aired_questions(store: Store, session_id: int) -> list[Aired]:
    q = s.questions
    states = (QuestionState.ANSWERED_LIVE.value, QuestionState.ON_AIR.value)
    async with store.read_engine.connect() as conn:
        rows = (await conn.execute(
            select(q.c.id, q.c.text, q.c.display_text, q.c.public_name, q.c.protected, q.c.field, q.c.aired_at,
                   q.c.answered_at)
            .where(q.c.session_id == session_id, q.c.state.in_(states), q.c.aired_at.is_not(None))
            .order_by(q.c.aired_at))).all()
    return [Aired(r.id, r.display_text or r.text, r.public_name, bool(r.protected), r.field, r.aired_at,
                  r.answered_at) for r in rows]


async def session_chapters(store: Store, files: RecordingFiles, session_id: int) -> list[Chapter]:
    rec = await asyncio.to_thread(load, files.directory)
    return chapter_files.build(rec, await aired_questions(store, session_id))


class JobStopped(Exception):
    pass


class RecordingJobs:
    def __init__(self, store: Store, recordings: Path, *, poll_s: float = POLL_S, lease_s: float = LEASE_S,
                 auto_finalize: bool = True, profiles: Mapping[str, master.Profile] = master.PROFILES,
                 default_profile: str = master.DEFAULT_PROFILE.name) -> None:
        self.store, self.recordings = store, recordings
        self.profiles, self.default_profile = profiles, default_profile  # the station's (server/config.py)
        self.poll_s, self.lease_s, self.auto_finalize = poll_s, lease_s, auto_finalize
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self.running: int | None = None  # the job this process runs now
        self._stopping = threading.Event()  # read by the job's thread at each progress report

    @classmethod
    def of(cls, store: Store, settings: Settings, **options: Any) -> RecordingJobs:
        """The jobs with the settings' recordings directory and master profiles."""
        return cls(store, settings.recordings_path, profiles=settings.station_profiles(),
                   default_profile=settings.master_profile, **options)

    def check_profile(self, profile: str | None) -> str:
        """A master's profile by name: the default one when none is given."""
        if profile is None or profile == "":
            return self.default_profile
        if profile not in self.profiles:
            raise ValidationError("rec_bad_profile", field="profile", profile=str(profile),
                                  known=", ".join(self.profiles))
        return profile

    def files(self, session_id: int) -> RecordingFiles:
        return RecordingFiles.of(self.recordings, session_id)

    # -- the rows ----------------------------------------------------------------------------

    async def enqueue(self, session_id: int, kind: str, profile: str | None = None) -> int:
        if kind not in KINDS:
            raise ValidationError("rec_bad_kind", field="kind")
        profile = self.check_profile(profile) if kind == "master" else None
        async with self.store.write_engine.begin() as conn:
            if (await conn.execute(select(s.sessions.c.id).where(s.sessions.c.id == session_id))).first() is None:
                raise NotFound("not_found")
            made = await conn.execute(insert(s.recording_jobs).values(
                session_id=session_id, kind=kind, profile=profile, state="queued", progress=0.0, attempts=0,
                created_at=now()))
            assert made.inserted_primary_key is not None
            job_id = made.inserted_primary_key[0]
        self._wake.set()
        return int(job_id)

    async def job(self, job_id: int) -> dict[str, Any]:
        async with self.store.read_engine.connect() as conn:
            row = (await conn.execute(select(s.recording_jobs).where(s.recording_jobs.c.id == job_id))).first()
        if row is None:
            raise NotFound("not_found")
        return job_dict(row)

    async def jobs(self, session_id: int) -> list[dict[str, Any]]:
        j = s.recording_jobs
        async with self.store.read_engine.connect() as conn:
            rows = (await conn.execute(select(j).where(j.c.session_id == session_id).order_by(j.c.id.desc()))).all()
        return [job_dict(r) for r in rows]

    async def wait(self, job_id: int, poll_s: float = 0.25) -> dict[str, Any]:
        """Until the job is done or failed (run here or by any node)."""
        while True:
            found = await self.job(job_id)
            if found["state"] in DONE:
                return found
            await asyncio.sleep(poll_s)

    async def claim(self, job_id: int | None = None) -> dict[str, Any] | None:
        """Take a free job (queued, or running with an expired lease): the UPDATE's WHERE is the lock."""
        j = s.recording_jobs
        at = now()
        free = or_(j.c.state == "queued", and_(j.c.state == "running", j.c.lease_until < at))
        async with self.store.write_engine.begin() as conn:
            query = select(j.c.id, j.c.attempts).where(free).order_by(j.c.id).limit(1)
            if job_id is not None:
                query = query.where(j.c.id == job_id)
            found = (await conn.execute(query)).first()
            if found is None:
                return None
            if found.attempts >= MAX_ATTEMPTS:
                await conn.execute(update(j).where(j.c.id == found.id, free).values(
                    state="failed", finished_at=at, lease_until=None,
                    message=f"cut off {found.attempts} times; not started again"))
                return None
            taken = await conn.execute(update(j).where(j.c.id == found.id, free).values(
                state="running", attempts=j.c.attempts + 1, started_at=at, lease_until=at + timedelta(seconds=self.lease_s),
                message=None, step="start"))
            if taken.rowcount != 1:
                return None  # another node took it between the read and the write
            row = (await conn.execute(select(j).where(j.c.id == found.id))).first()
        return job_dict(row)

    async def _write(self, job_id: int, **values: Any) -> None:
        async with self.store.write_engine.begin() as conn:
            await conn.execute(update(s.recording_jobs).where(s.recording_jobs.c.id == job_id).values(**values))

    # -- running one -------------------------------------------------------------------------

    async def run(self, job: dict[str, Any]) -> dict[str, Any]:
        """Run a claimed job here, to the end; its row says how it went."""
        job_id, session_id = int(job["id"]), int(job["session_id"])
        self.running = job_id
        files = self.files(session_id)
        latest: list[Any] = [0.0, "start"]
        lock = threading.Lock()

        def progress(fraction: float, step: str) -> None:  # from the job's thread
            if self._stopping.is_set():
                raise JobStopped("the server is stopping; the job runs again at the next start")
            with lock:
                latest[0], latest[1] = max(0.0, min(1.0, fraction)), step

        started = time.monotonic()

        over = asyncio.Event()

        async def heartbeat() -> None:
            while not over.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(over.wait(), WRITE_EVERY_S)
                if over.is_set():
                    return
                with lock:
                    fraction, step = latest
                elapsed = time.monotonic() - started
                eta = elapsed / fraction * (1 - fraction) if fraction > 0.02 else None
                await self._write(job_id, progress=fraction, step=str(step)[:40], eta_seconds=eta,
                                  lease_until=now() + timedelta(seconds=self.lease_s))

        beat = asyncio.create_task(heartbeat(), name=f"recording-job-{job_id}")

        async def end_beat() -> None:  # let a write in progress finish: never cancel it halfway
            over.set()
            await beat

        try:
            work = await self._work(job, files, progress)
            # the row's JSON column: whatever the job answers, as JSON (a Path becomes its string)
            result = json.loads(json.dumps(await asyncio.to_thread(work), default=str))
        except JobStopped:
            await end_beat()  # the row stays `running`; its lease runs out and a next start runs it again
        except Exception as err:  # noqa: BLE001  (any failure is the job's, said on its row)
            log.warning("recording job %s (%s, session %s) failed: %s", job_id, job["kind"], session_id, err)
            await end_beat()
            await self._write(job_id, state="failed", message=str(err)[:2000], finished_at=now(), lease_until=None,
                              eta_seconds=None)
        else:
            await end_beat()
            await self._write(job_id, state="done", progress=1.0, step="done", eta_seconds=0.0, result=result,
                              finished_at=now(), lease_until=None, message=result.get("message"))
        finally:
            over.set()  # cut off (the server stops): the row stays `running` until its lease runs out
            self.running = None
        return await self.job(job_id)

    async def _work(self, job: dict[str, Any], files: RecordingFiles,
                    progress: Callable[[float, str], None]) -> Callable[[], dict[str, Any]]:
        if job["kind"] == "finalize":
            chapters = await session_chapters(self.store, files, int(job["session_id"]))
            return lambda: finalize(files, chapters, progress)
        # a profile taken out of the settings since the job was queued fails the job, saying so
        profile = master.profile_named(job["profile"] or self.default_profile, self.profiles)

        def make() -> dict[str, Any]:
            made: dict[str, Any] = master.make_master(files, profile, progress)
            return made

        return make

    async def run_now(self, job_id: int) -> dict[str, Any]:
        """The CLI's way: claim this job and run it in this process (or wait for the node that has it)."""
        claimed = await self.claim(job_id)
        if claimed is None:
            return await self.wait(job_id)
        return await self.run(claimed)

    # -- the runner --------------------------------------------------------------------------

    async def queue_closed_sessions(self) -> list[int]:
        """A finalize job for each closed session with a recording and none yet (staff may add more)."""
        sess, j = s.sessions, s.recording_jobs
        async with self.store.read_engine.connect() as conn:
            rows = (await conn.execute(select(sess.c.id, sess.c.closed_at).where(
                sess.c.state.in_((SessionState.CLOSED.value, SessionState.PUBLISHED.value)),
                ~exists().where(j.c.session_id == sess.c.id, j.c.kind == "finalize")))).all()
        queued = []
        for row in rows:
            files = self.files(row.id)
            if not files.video.exists():
                continue
            rec = await asyncio.to_thread(load, files.directory)
            settled = row.closed_at is None or (now() - row.closed_at).total_seconds() > SETTLE_S
            if rec.origin is None or not (rec.closed or settled):
                continue  # the recorder is still writing its last fragment
            async with self.store.write_engine.begin() as conn:
                # the session's row locked first (PostgreSQL: FOR NO KEY UPDATE; SQLite has one writer), so a second
                # node that looked at the same time waits here, and its NOT EXISTS, a new statement that
                # sees what the first committed, adds none
                await conn.execute(select(sess.c.id).where(sess.c.id == row.id).with_for_update(key_share=True))
                made = await conn.execute(insert(j).from_select(
                    ["session_id", "kind", "state", "progress", "attempts", "created_at"],
                    select(sess.c.id, literal("finalize"), literal("queued"), literal(0.0), literal(0),
                           literal(now(), s.recording_jobs.c.created_at.type)).where(
                        sess.c.id == row.id, ~exists().where(j.c.session_id == row.id, j.c.kind == "finalize"))))
            if made.rowcount:
                log.info("session %s closed with a recording: finalising it", row.id)
                queued.append(row.id)
        return queued

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                if self.auto_finalize:
                    await self.queue_closed_sessions()
                while (job := await self.claim()) is not None:
                    await self.run(job)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the recording job runner stumbled; it goes on")
            self._wake.clear()
            if self._stopping.is_set():
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_s)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="recording-jobs")

    async def stop(self) -> None:
        """A job cut off here stays `running`; its lease runs out and the next start runs it again.
        Its thread stops (with its ffmpeg) at its next progress report."""
        self._stopping.set()
        self._wake.set()
        if self._task is not None:
            # let the loop finish the query it is in and leave by itself: a task cancelled inside a
            # database call can leave its connection unreturned (and unclosed) behind it
            try:
                await asyncio.wait_for(asyncio.shield(self._task), STOP_WAIT_S)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self._task = None
