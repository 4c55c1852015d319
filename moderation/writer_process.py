"""The SQLite writer as a process of its own, started and supervised by the server's BatchWriter.

Why a process: a writer thread shares the interpreter lock with the event loop, and every SQLite
call gives it up and waits to get it back from the busy loop; that wait, not the database, set the
acknowledgement latency (docs/benchmarks.md). In its own process the batch runs in parallel with
the loop on the second core.

The protocol: the server sends each batch as `(alone, groups)`, groups being `(handler, items)` pairs,
over a socket pair, without waiting (a few may be in the pipe). The process runs every batch that
arrived while it was committing the last in one transaction, and answers after COMMIT returned with
the per-item results of each, so an acknowledgement still means "on disk". If the server dies, the
socket closes and the process exits after the transaction it is writing (committed whole, or not at
all).

It is started as `python -m moderation.writer_process`, not through multiprocessing, whose spawn and
forkserver methods import the parent's main module again in the child (a script without a main
guard would run twice, one read from stdin could not start a writer at all)."""

from __future__ import annotations

import logging
import pickle
import signal
import socket
import subprocess
import sys
from collections import deque
from datetime import UTC, datetime
from multiprocessing.connection import Connection as Pipe
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url

log = logging.getLogger(__name__)

# (handler, items) pairs; each handler(conn, items, now) -> one result per item.
Groups = list[tuple[Any, list[Any]]]


def run_groups(conn: Connection, groups: Groups, now: datetime | None = None) -> list[list[Any]]:
    # Taken under the write lock (one time for a whole transaction), so received_at orders with a
    # close made from elsewhere.
    now = now or datetime.now(UTC)
    return [handler(conn, items, now) for handler, items in groups]


def sqlite_batch_engine(url: str) -> Engine:
    """A pysqlite engine on the store's file, with the store's pragmas and BEGIN IMMEDIATE."""
    from .store import begin_with, sqlite_pragmas

    engine = create_engine(make_url(url).set(drivername="sqlite"), pool_size=1, max_overflow=0,
                           hide_parameters=True)
    event.listen(engine, "connect", sqlite_pragmas)
    begin_with(engine, "BEGIN IMMEDIATE")
    return engine


# Messages run in one transaction at most: what arrived while the last COMMIT ran, up to this many.
MAX_MERGE = 16


def _serve(pipe: Pipe, url: str) -> None:
    # Ctrl+C reaches the whole process group: the server decides when the writer stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    engine = sqlite_batch_engine(url)
    queued: deque[tuple[bool, Groups]] = deque()  # (alone, groups) as the server sent them
    try:
        while True:
            try:
                if not queued:
                    queued.append(pickle.loads(pipe.recv_bytes()))  # sent as plain pickle (BatchWriter._send)
                while len(queued) < MAX_MERGE and pipe.poll(0):
                    queued.append(pickle.loads(pipe.recv_bytes()))
            except EOFError:  # the server has gone
                return
            # Everything that came in while the last COMMIT ran goes into one transaction, so one
            # fsync covers it, and the server never waits for this process to ask for more. A message
            # that is being retried on its own (its batch failed) is never merged with others.
            merged = [queued.popleft()]
            if not merged[0][0]:
                while queued and not queued[0][0]:
                    merged.append(queued.popleft())
            try:
                with engine.begin() as conn:
                    now = datetime.now(UTC)
                    results = [run_groups(conn, groups, now) for _, groups in merged]
                reply: tuple[Any, ...] = ("ok", results)  # one list per message, in the order received
            except Exception as exc:  # rolled back: nothing of these messages was stored
                # The type only: a database error's text could carry personal data.
                reply = ("failed", type(exc).__name__, len(merged))
            try:
                pipe.send_bytes(pickle.dumps(reply, pickle.HIGHEST_PROTOCOL))
            except (BrokenPipeError, EOFError, OSError):
                return
    finally:
        engine.dispose()


class WriterProcess:
    """The server's handle on the process: start, its socket, stop."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._pipe: Pipe | None = None
        self._sock: socket.socket | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        parent, child = socket.socketpair()
        with child:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "moderation.writer_process", self.url, str(child.fileno())],
                pass_fds=[child.fileno()], stdin=subprocess.DEVNULL,
            )
        # The same socket for sends that must not block the event loop (MSG_DONTWAIT), while the
        # pipe (multiprocessing.Pipe() is this socket pair under its Connection on Unix) reads replies.
        self._sock = parent.dup()
        self._pipe = Pipe(parent.detach())

    @property
    def started(self) -> bool:
        return self._pipe is not None

    @property
    def pipe(self) -> Pipe:
        assert self._pipe is not None
        return self._pipe

    @property
    def sock(self) -> socket.socket:
        assert self._sock is not None
        return self._sock

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def stop(self, timeout: float = 30.0) -> None:
        """Close the socket; the process finishes its batch and exits."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        if self._pipe is not None:
            self._pipe.close()
            self._pipe = None
        if self._process is not None:
            try:
                self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None


def main(argv: list[str]) -> None:
    url, fd = argv
    _serve(Pipe(int(fd)), url)


if __name__ == "__main__":
    main(sys.argv[1:])
