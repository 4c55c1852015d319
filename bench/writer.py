"""The SQLite writer's CPU per question, alone: `write_submissions` and its COMMIT, as the writer
process runs them (same engine, pragmas and batch function), on a register that already holds
`--prefill` questions.

Baseline in the same run: the same store with the unique index on (session_id, idempotency_key)
that questions had before migration 0004 (receipts derived from idempotency keys made it
redundant). Rounds alternate between the two layouts; medians are printed, since this machine is
shared and noisy.

    .venv/bin/python bench/writer.py                    # batches of 60, 60,000 questions first
    .venv/bin/python bench/writer.py --batch 120 --rounds 5
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sio_load import make_payload  # noqa: E402

from moderation.intake import write_submissions  # noqa: E402
from moderation.sessions import SessionDraft, SessionState  # noqa: E402
from moderation.store import Store, sqlite_url  # noqa: E402
from moderation.submission import Submission, parse_submission  # noqa: E402
from moderation.writer_process import sqlite_batch_engine  # noqa: E402

PRE_0004_INDEX = "CREATE UNIQUE INDEX uq_questions_idempotency ON questions (session_id, idempotency_key)"


async def _new_store(data_dir: Path) -> int:
    store = await Store.open(sqlite_url(data_dir))
    try:
        session = await store.create_session(
            SessionDraft("Bench", "Chủ trì", datetime.now(UTC) + timedelta(days=20), 90))
        await store.transition_session(session.id, SessionState.ANNOUNCED)
        return session.id
    finally:
        await store.close()


def measure(layout: str, batch: int, prefill: int, batches: int, workdir: Path) -> dict[str, float]:
    data_dir = Path(tempfile.mkdtemp(prefix=f"writer-{layout}-", dir=workdir))
    session_id = asyncio.run(_new_store(data_dir))
    engine = sqlite_batch_engine(sqlite_url(data_dir))
    if layout == "pre-0004":
        with engine.begin() as conn:
            conn.exec_driver_sql(PRE_0004_INDEX)
    sent = 0

    def next_batch() -> list[Submission]:
        nonlocal sent
        items = [parse_submission(make_payload(session_id, uuid.uuid4().hex, sent + i), channel="socketio")
                 for i in range(batch)]
        sent += batch
        return items

    def write(items: list[Submission]) -> tuple[float, float]:
        t0 = time.process_time()
        with engine.begin() as conn:
            write_submissions(conn, items, datetime.now(UTC))
            t1 = time.process_time()
        return t1 - t0, time.process_time() - t1  # the batch's SQL; its COMMIT

    try:
        while sent < prefill:
            write(next_batch())
        measured = [next_batch() for _ in range(batches)]  # made before the clock runs
        split = [write(items) for items in measured]
    finally:
        engine.dispose()
        shutil.rmtree(data_dir, ignore_errors=True)
    n = batches * batch
    return {"sql": sum(s for s, _ in split) / n * 1e6, "commit": sum(c for _, c in split) / n * 1e6,
            "total": sum(s + c for s, c in split) / n * 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=60, help="questions per transaction")
    parser.add_argument("--prefill", type=int, default=60_000, help="questions stored before measuring")
    parser.add_argument("--batches", type=int, default=300, help="batches measured per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="doithoai-writer-"))  # on disk: COMMIT is fsynced
    results: dict[str, list[dict[str, float]]] = {"current": [], "pre-0004": []}
    print(f"batches of {args.batch}, {args.prefill:,} questions stored first, {args.batches} batches a round;"
          " CPU µs per question")
    print(f"{'round':>5} {'layout':<9} {'sql':>7} {'commit':>7} {'total':>7}")
    try:
        for round_no in range(1, args.rounds + 1):
            for layout in ("pre-0004", "current") if round_no % 2 else ("current", "pre-0004"):
                r = measure(layout, args.batch, args.prefill, args.batches, workdir)
                results[layout].append(r)
                print(f"{round_no:>5} {layout:<9} {r['sql']:>7.1f} {r['commit']:>7.1f} {r['total']:>7.1f}", flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    med = {layout: {k: statistics.median(r[k] for r in rs) for k in ("sql", "commit", "total")}
           for layout, rs in results.items()}
    print("median  " + "; ".join(f"{layout}: sql {m['sql']:.1f}, commit {m['commit']:.1f}, total {m['total']:.1f}"
                                 for layout, m in med.items()))
    print(f"current / pre-0004 total: {med['current']['total'] / med['pre-0004']['total']:.2f}")


if __name__ == "__main__":
    main()
