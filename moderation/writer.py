"""The single writer: group commit.

Every write that is acknowledged to a user goes through here. Items that arrive while a transaction
is in flight wait in the queue and are written together in the next one, so one fsync covers many
questions: durable intake at close to the rate of a bare acknowledgement. A future resolves only
after COMMIT returned, so whoever awaits it can safely acknowledge and announce (commit, then emit).

Batch handlers are plain (synchronous) SQLAlchemy Core code. On SQLite a whole batch runs in one
dedicated thread on a pysqlite connection: one hop off the event loop per batch, not one per
statement as through aiosqlite, which measured four times cheaper per question. On PostgreSQL the
same handler runs through the asyncpg connection with `run_sync`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from .errors import DomainError

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


def _run_batch(conn: Connection, groups: dict[BatchHandler, list[_Pending]]) -> list[tuple[_Pending, Any]]:
    # Taken under the write lock (BEGIN IMMEDIATE / row locks), so received_at orders with a close
    # made from elsewhere.
    now = datetime.now(UTC)
    outcomes: list[tuple[_Pending, Any]] = []
    for handler, group in groups.items():
        results = handler(conn, [p.item for p in group], now)
        outcomes.extend(zip(group, results, strict=True))
    return outcomes


class BatchWriter:
    def __init__(self, engine: AsyncEngine, sync_engine: Engine | None = None) -> None:
        """`sync_engine`: SQLite only, a pysqlite engine on the same file (see the module doc)."""
        self._engine = engine
        self._sync_engine = sync_engine
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer") if sync_engine else None
        self._queue: asyncio.Queue[_Pending | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.batches = 0
        self.items = 0

    def start(self) -> None:
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
        if self._thread:
            self._thread.shutdown(wait=True)
        if self._sync_engine:
            self._sync_engine.dispose()

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

    def _transaction_in_thread(self, groups: dict[BatchHandler, list[_Pending]]) -> list[tuple[_Pending, Any]]:
        assert self._sync_engine is not None
        with self._sync_engine.begin() as conn:
            return _run_batch(conn, groups)

    async def _transaction(self, batch: list[_Pending]) -> list[tuple[_Pending, Any]]:
        groups: dict[BatchHandler, list[_Pending]] = {}
        for pending in batch:
            groups.setdefault(pending.handler, []).append(pending)
        if self._thread:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._thread, self._transaction_in_thread, groups)
        async with self._engine.begin() as conn:
            return await conn.run_sync(_run_batch, groups)

    async def _write_batch(self, batch: list[_Pending]) -> None:
        try:
            outcomes = await self._transaction(batch)
        except Exception as exc:  # the whole transaction rolled back: nothing of it was stored
            if len(batch) > 1:
                # One bad item must not cost everyone else their question: write each on its own,
                # so only the item that fails fails.
                log.warning("write batch of %d items failed (%s); writing them one by one",
                            len(batch), type(exc).__name__)
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
