"""The single writer: group commit.

Every write that is acknowledged to a user goes through here. Items that arrive while a transaction
is in flight wait and are written together in the next one, so one fsync covers many questions:
durable intake at close to the rate of a bare acknowledgement. A future resolves only after COMMIT
returned, so whoever awaits it can safely acknowledge and announce (commit, then emit).

Batch handlers are plain (synchronous) SQLAlchemy Core code. On SQLite they run in the writer
process (moderation/writer_process.py), in parallel with the event loop: what is waiting is sent
once per loop turn, up to MAX_IN_PIPE batches ahead, and the process writes every batch that
arrived during its last COMMIT in one transaction, so it never waits for the busy loop to hand it
the next one.
On PostgreSQL they run through the asyncpg connection with `run_sync`.

A batch that fails (a bad item, a dead writer process) is written again item by item, so only the
item that fails fails; an item whose batch was committed just before the process died is found
again by its idempotency key."""

from __future__ import annotations

import asyncio
import logging
import pickle
import select
import socket
import struct
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from .errors import DomainError
from .writer_process import Groups, WriterProcess, run_groups

log = logging.getLogger(__name__)

MAX_BATCH = 512
# Past this many waiting items new ones are refused with a retry time instead of queueing without
# bound (each waits for every batch before it; a client would time out and resend anyway).
MAX_QUEUED = 20_000
# Batches sent to the writer process and not yet answered: enough that one is always waiting when a
# COMMIT ends; few, so that the socket rarely holds more than its buffer (a send would then block
# the loop until the process reads) and a failed transaction sends few batches back to be retried.
MAX_IN_PIPE = 4
# A batch handler writes its items inside the open transaction and returns one result per item:
# a value, or a DomainError for that item alone (the others still commit).
BatchHandler = Callable[[Connection, list[Any], datetime], list[Any]]


@dataclass
class _Pending:
    handler: BatchHandler
    item: Any
    future: asyncio.Future[Any]
    alone: bool = False  # being written on its own after its batch failed


class WriterClosed(RuntimeError):
    pass


class WriterBusy(RuntimeError):
    pass


class WriteFailed(RuntimeError):
    """The transaction rolled back (or the writer process died): nothing of the batch was stored."""


@dataclass
class _InFlight:
    batch: list[_Pending]
    groups: list[list[_Pending]]  # the batch by handler, in the order sent


class BatchWriter:
    def __init__(self, engine: AsyncEngine, *, sqlite_url: str | None = None) -> None:
        self._engine = engine
        self._process = WriterProcess(sqlite_url) if sqlite_url else None
        self._waiting: deque[_Pending] = deque()
        self._alone: deque[_Pending] = deque()  # retried one by one, before anything new
        self._wakeup = asyncio.Event()
        self._in_flight: deque[_InFlight] = deque()  # sent to the writer process, not yet answered
        self._poller: select.poll | None = None  # is a reply waiting on the pipe? (see _on_reply)
        self._outbox = bytearray()  # batches for the process that its socket has not taken yet
        self._flushing = False  # the loop calls _flush when the socket takes more
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.batches = 0
        self.items = 0

    def start(self, *, warm: bool = False) -> None:
        """`warm`: start the writer process now (the server), not at the first write (the CLI,
        whose commands mostly never write through here and should not wait for a process)."""
        if self._process and warm:
            self._start_process()
        self._task = asyncio.create_task(self._run(), name="batch-writer")

    async def write(self, handler: BatchHandler, item: Any) -> Any:
        """Queue one item; return its result once committed, or raise its DomainError."""
        # A caller that goes away (a dropped connection) cancels only its wait: the item is written
        # all the same, and settling skips a future that is already done.
        return await self.enqueue(handler, item)

    def enqueue(self, handler: BatchHandler, item: Any) -> asyncio.Future[Any]:
        """Queue one item; the future settles after COMMIT (its result, or its DomainError)."""
        if self._closed:
            raise WriterClosed("the store is shutting down")
        if len(self._waiting) >= MAX_QUEUED:
            raise WriterBusy("too many writes waiting")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Pending(handler, item, future))
        self._wakeup.set()  # the batch goes out once this loop turn is over, with all that came in it
        return future

    async def close(self) -> None:
        """Write what is queued, then stop."""
        if self._closed:
            return
        self._closed = True
        self._wakeup.set()
        if self._task:
            await self._task
        if self._process and self._process.started:
            asyncio.get_running_loop().remove_reader(self._process.pipe.fileno())
            await asyncio.get_running_loop().run_in_executor(None, self._process.stop)

    # -- the loop that forms batches ------------------------------------------------------------

    def _next_batch(self) -> list[_Pending]:
        if self._alone:
            return [self._alone.popleft()]
        count = min(len(self._waiting), MAX_BATCH)
        return [self._waiting.popleft() for _ in range(count)]

    async def _run(self) -> None:
        while True:
            if not (self._waiting or self._alone):
                if self._closed and not self._in_flight:
                    return
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            if self._process:
                if len(self._in_flight) < MAX_IN_PIPE:
                    if not self._process.started:  # first write, or the last process died meanwhile
                        self._start_process()
                    self._send(self._next_batch())
                    continue
                self._wakeup.clear()  # _on_reply wakes this when a reply frees a place
                await self._wakeup.wait()
            else:
                batch = self._next_batch()
                pending_groups, groups = _groups(batch)
                try:
                    async with self._engine.begin() as conn:
                        results = await conn.run_sync(run_groups, groups)
                except Exception as exc:
                    self._failed(batch, exc)
                    continue
                self._settle(pending_groups, results)

    # -- the writer process's pipe ----------------------------------------------------------------

    def _start_process(self) -> None:
        assert self._process is not None
        self._process.start()
        fd = self._process.pipe.fileno()
        # Connection.poll() builds a selector on every call (three calls a batch); this one is made once.
        self._poller = select.poll()
        self._poller.register(fd, select.POLLIN)
        asyncio.get_running_loop().add_reader(fd, self._on_reply)

    def _send(self, batch: list[_Pending]) -> None:
        assert self._process is not None
        by_handler, groups = _groups(batch)
        self._in_flight.append(_InFlight(batch, by_handler))
        alone = len(batch) == 1 and batch[0].alone  # never merged with others in the process
        # Plain pickle, not Connection.send's ForkingPickler (a new pickler and a copy of its
        # dispatch table each call) for what is only functions, dataclasses and strings; framed as
        # Connection.send_bytes frames it, for the process's recv_bytes.
        data = pickle.dumps((alone, groups), pickle.HIGHEST_PROTOCOL)
        self._outbox += struct.pack("!i", len(data))
        self._outbox += data
        self._flush()

    def _flush(self) -> None:
        """As much of the outbox as the socket takes now. The process reads between transactions
        only, and a big batch outgrows the socket's buffer: a blocking send would stop the event
        loop for the length of a transaction."""
        assert self._process is not None
        sock = self._process.sock
        try:
            while self._outbox:
                sent = sock.send(self._outbox, socket.MSG_DONTWAIT)
                del self._outbox[:sent]
        except BlockingIOError:
            if not self._flushing:
                asyncio.get_running_loop().add_writer(sock.fileno(), self._flush)
                self._flushing = True
            return
        except OSError:  # the process died; _on_reply sees the closed pipe and recovers
            return
        if self._flushing:
            asyncio.get_running_loop().remove_writer(sock.fileno())
            self._flushing = False

    def _on_reply(self) -> None:
        assert self._process is not None
        pipe = self._process.pipe
        poller = self._poller
        assert poller is not None
        try:
            while poller.poll(0):  # readable: a reply, or the end of the pipe (recv raises EOFError)
                reply = pickle.loads(pipe.recv_bytes())  # EOFError once the process is gone, even when idle
                # Every batch the reply answers leaves the queue before any is settled, so the
                # next reply can only ever be matched with the batches it answers.
                if reply[0] == "ok":  # one result list for each batch the transaction held
                    answered = [self._in_flight.popleft() for _ in reply[1]]
                    for sent, results in zip(answered, reply[1], strict=True):
                        self._settle(sent.groups, results)
                else:
                    _, error, count = reply
                    for sent in [self._in_flight.popleft() for _ in range(count)]:
                        self._failed(sent.batch, WriteFailed(error))
        except Exception as exc:
            # The pipe closed (the process died), or a reply that cannot be read or matched: either
            # way nothing more from this process can be trusted to match its batch. It is stopped,
            # and what was unanswered is written again, each item on its own.
            if not isinstance(exc, (OSError, EOFError)):
                log.error("unreadable reply from the writer process (%s)", type(exc).__name__)
            self._process_died()
            self._wakeup.set()  # a new process for what is left, started by _run
            return
        self._wakeup.set()  # a place in the pipe is free; a closing writer waits for the last replies

    def _process_died(self) -> None:
        """Clean up after a dead writer process. A new one is started when there is something to
        write (see _run), not here: one that dies at start-up would be restarted in a loop."""
        assert self._process is not None
        log.error("the writer process died (pid %s)", self._process.pid)
        loop = asyncio.get_running_loop()
        loop.remove_reader(self._process.pipe.fileno())
        if self._flushing:
            loop.remove_writer(self._process.sock.fileno())
            self._flushing = False
        self._outbox.clear()
        self._process.stop(timeout=1)
        while self._in_flight:  # maybe committed, maybe not: each is written again on its own
            self._failed(self._in_flight.popleft().batch, WriteFailed("the writer process died"))

    # -- outcomes ---------------------------------------------------------------------------------

    def _settle(self, groups: list[list[_Pending]], results: list[list[Any]]) -> None:
        self.batches += 1
        for group, group_results in zip(groups, results, strict=True):
            self.items += len(group)
            for pending, result in zip(group, group_results, strict=True):
                if pending.future.done():
                    continue
                if isinstance(result, DomainError):
                    pending.future.set_exception(result)
                else:
                    pending.future.set_result(result)

    def _failed(self, batch: list[_Pending], exc: Exception) -> None:
        if len(batch) == 1 and batch[0].alone:
            log.error("write failed: %s", type(exc).__name__)  # the message may hold personal data
            if not batch[0].future.done():
                batch[0].future.set_exception(exc)
            return
        # One bad item must not cost everyone else their question: write each on its own.
        log.warning("write batch of %d items failed (%s); writing them one by one", len(batch), exc)
        for pending in batch:
            pending.alone = True
            self._alone.append(pending)
        self._wakeup.set()


def _groups(batch: list[_Pending]) -> tuple[list[list[_Pending]], Groups]:
    """The batch by handler: the pending items, and what is sent to the handlers."""
    by_handler: dict[BatchHandler, list[_Pending]] = {}
    for pending in batch:
        by_handler.setdefault(pending.handler, []).append(pending)
    return list(by_handler.values()), [(h, [p.item for p in group]) for h, group in by_handler.items()]
