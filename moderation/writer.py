"""The single writer: group commit.

Every write that is acknowledged to a user goes through here. Items that arrive while a transaction
is in flight wait in the queue and are written together in the next one, so one fsync covers many
questions: durable intake at close to the rate of a bare acknowledgement. A future resolves only
after COMMIT returned, so whoever awaits it can safely acknowledge and announce (commit, then emit).

Batch handlers are plain (synchronous) SQLAlchemy Core code. On SQLite they run in the writer
process (moderation/writer_process.py), in parallel with the event loop; on PostgreSQL they run
through the asyncpg connection with `run_sync`, the database server doing the work."""

from __future__ import annotations

import asyncio
import logging
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
# A batch handler writes its items inside the open transaction and returns one result per item:
# a value, or a DomainError for that item alone (the others still commit).
BatchHandler = Callable[[Connection, list[Any], datetime], list[Any]]


@dataclass
class _Pending:
    handler: BatchHandler
    item: Any
    future: asyncio.Future[Any]


class WriterClosed(RuntimeError):
    pass


class WriterBusy(RuntimeError):
    pass


class WriteFailed(RuntimeError):
    """The transaction rolled back (or the writer process died): nothing of the batch was stored."""


class BatchWriter:
    def __init__(self, engine: AsyncEngine, *, sqlite_url: str | None = None) -> None:
        self._engine = engine
        self._process = WriterProcess(sqlite_url) if sqlite_url else None
        self._queue: asyncio.Queue[_Pending | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.batches = 0
        self.items = 0

    def start(self) -> None:
        if self._process:
            self._process.start()
        self._task = asyncio.create_task(self._run(), name="batch-writer")

    async def write(self, handler: BatchHandler, item: Any) -> Any:
        """Queue one item; return its result once committed, or raise its DomainError."""
        if self._closed:
            raise WriterClosed("the store is shutting down")
        if self._queue.qsize() >= MAX_QUEUED:
            raise WriterBusy("too many writes waiting")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Pending(handler, item, future))
        # shield: a caller that goes away (a dropped connection) must not cancel the write of an
        # item that is already in a transaction.
        return await asyncio.shield(future)

    async def close(self) -> None:
        """Write what is queued, then stop."""
        if self._closed:
            return
        self._closed = True
        self._queue.put_nowait(None)
        if self._task:
            await self._task
        if self._process:
            await asyncio.get_running_loop().run_in_executor(None, self._process.stop)

    async def _run(self) -> None:
        stopping = False
        while not stopping:
            first = await self._queue.get()
            if first is None:
                break
            batch = [first]
            while len(batch) < MAX_BATCH and not self._queue.empty():
                nxt = self._queue.get_nowait()
                if nxt is None:
                    stopping = True
                    break
                batch.append(nxt)
            await self._write_batch(batch)

    async def _in_process(self, groups: Groups) -> list[list[Any]]:
        assert self._process is not None
        if not self._process.alive():
            self._process.restart()
        pipe = self._process.pipe
        loop = asyncio.get_running_loop()
        readable = loop.create_future()
        loop.add_reader(pipe.fileno(), lambda: readable.done() or readable.set_result(None))
        try:
            pipe.send(groups)
            await readable
            status, payload = pipe.recv()
        except (OSError, EOFError) as exc:  # the process died: maybe after COMMIT, maybe before
            loop.remove_reader(pipe.fileno())
            self._process.restart()
            raise WriteFailed("the writer process died") from exc
        loop.remove_reader(pipe.fileno())
        if status != "ok":
            raise WriteFailed(payload)
        results: list[list[Any]] = payload
        return results

    async def _transaction(self, batch: list[_Pending]) -> list[tuple[_Pending, Any]]:
        by_handler: dict[BatchHandler, list[_Pending]] = {}
        for pending in batch:
            by_handler.setdefault(pending.handler, []).append(pending)
        groups: Groups = [(handler, [p.item for p in group]) for handler, group in by_handler.items()]
        if self._process:
            results = await self._in_process(groups)
        else:
            async with self._engine.begin() as conn:
                results = await conn.run_sync(run_groups, groups)
        outcomes: list[tuple[_Pending, Any]] = []
        for group, group_results in zip(by_handler.values(), results, strict=True):
            outcomes.extend(zip(group, group_results, strict=True))
        return outcomes

    async def _write_batch(self, batch: list[_Pending]) -> None:
        try:
            outcomes = await self._transaction(batch)
        except Exception as exc:  # nothing of the batch was stored (or, if the process died after
            # COMMIT, all of it was: the one-by-one retry then finds each by its idempotency key)
            if len(batch) > 1:
                # One bad item must not cost everyone else their question: write each on its own,
                # so only the item that fails fails.
                log.warning("write batch of %d items failed (%s); writing them one by one",
                            len(batch), exc)
                for pending in batch:
                    await self._write_batch([pending])
                return
            log.error("write failed: %s", type(exc).__name__)  # the message may hold personal data
            if not batch[0].future.done():
                batch[0].future.set_exception(exc)
            return
        self.batches += 1
        self.items += len(batch)
        for pending, result in outcomes:
            if pending.future.done():
                continue
            if isinstance(result, DomainError):
                pending.future.set_exception(result)
            else:
                pending.future.set_result(result)
