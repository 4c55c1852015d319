"""The SQLite writer as a process of its own, started and supervised by the server's BatchWriter.

Why a process: a writer thread shares the interpreter lock with the event loop, and every SQLite
call gives it up and waits to get it back from the busy loop; that wait, not the database, set the
acknowledgement latency (docs/benchmarks.md). In its own process the batch runs in parallel with
the loop on the second core.

The protocol is one batch in flight: the server sends `(handler, items)` groups, the process runs
them in one transaction and answers with the per-item results after COMMIT returned, so an
acknowledgement still means "on disk". If the server dies, the pipe closes and the process exits
after the batch it is writing (committed whole, or not at all)."""

from __future__ import annotations

import logging
import multiprocessing
import signal
from datetime import UTC, datetime
from multiprocessing.connection import Connection as Pipe
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url

log = logging.getLogger(__name__)

# (handler, items) pairs; each handler(conn, items, now) -> one result per item.
Groups = list[tuple[Any, list[Any]]]


def run_groups(conn: Connection, groups: Groups) -> list[list[Any]]:
    # Taken under the write lock, so received_at orders with a close made from elsewhere.
    now = datetime.now(UTC)
    return [handler(conn, items, now) for handler, items in groups]


def sqlite_batch_engine(url: str) -> Engine:
    """A pysqlite engine on the store's file, with the store's pragmas and BEGIN IMMEDIATE."""
    from .store import begin_with, sqlite_pragmas

    engine = create_engine(make_url(url).set(drivername="sqlite"), pool_size=1, max_overflow=0,
                           hide_parameters=True)
    event.listen(engine, "connect", sqlite_pragmas)
    begin_with(engine, "BEGIN IMMEDIATE")
    return engine


def _serve(pipe: Pipe, url: str) -> None:
    # Ctrl+C reaches the whole process group: the server decides when the writer stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    engine = sqlite_batch_engine(url)
    try:
        while True:
            try:
                groups: Groups = pipe.recv()
            except EOFError:  # the server has gone
                return
            try:
                with engine.begin() as conn:
                    results = run_groups(conn, groups)
                reply: tuple[str, Any] = ("ok", results)
            except Exception as exc:  # rolled back: nothing of this batch was stored
                # The type only: a database error's text could carry personal data.
                reply = ("failed", type(exc).__name__)
            try:
                pipe.send(reply)
            except (BrokenPipeError, EOFError):
                return
    finally:
        engine.dispose()


class WriterProcess:
    """The server's handle on the process: start, one batch at a time, stop."""

    def __init__(self, url: str) -> None:
        self.url = url
        # forkserver: children fork from a small clean process, not from the threaded server.
        self._ctx = multiprocessing.get_context("forkserver")
        self._ctx.set_forkserver_preload(["moderation.intake", "moderation.interest"])
        self._pipe: Pipe | None = None
        self._process: multiprocessing.process.BaseProcess | None = None

    def start(self) -> None:
        parent, child = self._ctx.Pipe()
        self._process = self._ctx.Process(target=_serve, args=(child, self.url), name="doithoai-writer",
                                          daemon=True)
        self._process.start()
        child.close()
        self._pipe = parent

    @property
    def started(self) -> bool:
        return self._pipe is not None

    @property
    def pipe(self) -> Pipe:
        assert self._pipe is not None
        return self._pipe

    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def stop(self, timeout: float = 30.0) -> None:
        """Close the pipe; the process finishes its batch and exits."""
        if self._pipe is not None:
            self._pipe.close()
            self._pipe = None
        if self._process is not None:
            self._process.join(timeout)
            if self._process.is_alive():
                self._process.kill()
                self._process.join()
            self._process = None

    def restart(self) -> None:
        log.error("the writer process died; starting a new one")
        self.stop(timeout=1)
        self.start()
