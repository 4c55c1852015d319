"""`doithoai recording …`: a session's recording after the close (docs/recording.md). `status` prints
what the staff API answers; `finalize` and `master` run the job here, in this process (no server
needed: the same code as the server's runner, server/recording_jobs.py), wait for it and print the
status. A server running on the same store sees the job's row like any other."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from moderation.store import Store

from .config import Settings
from .recording_api import status
from .recording_jobs import RecordingJobs


def add_parser(sub: Any, store_options: Callable[[argparse.ArgumentParser], None]) -> None:
    recording = sub.add_parser("recording", help="a session's recording: status, finalising, the broadcast master"
                               ).add_subparsers(dest="recording_command", required=True)
    shown = recording.add_parser("status", help="the recording, its chapters, files made and jobs, as JSON")
    shown.add_argument("id", type=int)
    store_options(shown)
    final = recording.add_parser("finalize", help="make the portal MP4, HLS VOD, chapters and pictures now; "
                                                  "prints the status as JSON")
    final.add_argument("id", type=int)
    store_options(final)
    master = recording.add_parser("master", help="make the TV station's broadcast master now; prints the status")
    master.add_argument("id", type=int)
    master.add_argument("--profile", help="a station profile: stream/master.py's or the master_profiles setting's "
                        "(default: the master_profile setting)")
    store_options(master)


async def run(args: argparse.Namespace, store: Store, settings: Settings, emit: Callable[[Any], None]) -> int:
    """The exit status: 1 when the job failed (the status printed says why)."""
    recordings = settings.recordings_path
    jobs = RecordingJobs.of(store, settings, auto_finalize=False)
    await store.get_session(args.id)
    failed = False
    if args.recording_command in ("finalize", "master"):
        job_id = await jobs.enqueue(args.id, args.recording_command, getattr(args, "profile", None))
        failed = (await jobs.run_now(job_id))["state"] == "failed"
    emit(await status(store, recordings, args.id, jobs=jobs))
    return 1 if failed else 0
