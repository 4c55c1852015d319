"""The group-commit writer and its SQLite writer process, on a real store file: every result goes back
to the item that asked for it, across batches that the process merges into one transaction, and an
item that breaks its transaction fails alone."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Connection

from moderation.store import Store, sqlite_url
from moderation.writer import WriteFailed
from tests.conftest import wait_for

POISON = "poison"


# Module-level: batch handlers travel to the writer process by reference.
def echo_or_break(conn: Connection, items: list[Any], now: datetime) -> list[Any]:
    """Answers each item with itself, the first item of its batch and the transaction's time (one
    for a whole transaction); a poison item breaks the transaction (a database error, not a
    DomainError), as a corrupt row would."""
    conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS writer_probe (item TEXT)")
    sqlite = conn.connection.driver_connection
    assert sqlite is not None  # None only once the connection is closed: the writer's is open
    sqlite.executemany("INSERT INTO writer_probe VALUES (?)", [(str(i),) for i in items])
    if POISON in items:
        raise RuntimeError("this transaction cannot commit")
    return [(item, items[0], now) for item in items]


async def test_results_reach_their_items_and_a_breaking_item_fails_alone(tmp_path: Path) -> None:
    store = await Store.open(sqlite_url(tmp_path), warm=True)
    try:
        writer = store.writer
        futures: dict[Any, asyncio.Future[Any]] = {}
        # Items over many loop turns: several batches are in the pipe at once, and the process
        # writes those that came in during a COMMIT as one transaction.
        for turn in range(40):
            for n in range(25):
                item = f"{turn}-{n}"
                futures[item] = writer.enqueue(echo_or_break, item)
            if turn == 17:
                futures[POISON] = writer.enqueue(echo_or_break, POISON)
            await asyncio.sleep(0)
        done = await asyncio.wait_for(asyncio.gather(*futures.values(), return_exceptions=True), 30)
        outcome = dict(zip(futures, done, strict=True))

        assert isinstance(outcome.pop(POISON), WriteFailed)
        assert all(result[0] == item for item, result in outcome.items())  # each its own, none swapped
        batches_by_transaction: dict[datetime, set[str]] = {}
        for _, first_of_batch, transaction in outcome.values():
            batches_by_transaction.setdefault(transaction, set()).add(first_of_batch)
        assert max(len(batches) for batches in batches_by_transaction.values()) > 1, "no batches were merged"
        async with store.read_engine.connect() as conn:
            stored = [row[0] for row in await conn.exec_driver_sql("SELECT item FROM writer_probe")]
        # everything but the poison committed exactly once, also what shared its transaction
        assert sorted(stored) == sorted(outcome)
        assert writer.items == len(outcome)  # settled items; the poison raised instead
    finally:
        await store.close()


@pytest.mark.parametrize("items", [1, 600])
async def test_closing_writes_what_is_queued(tmp_path: Path, items: int) -> None:
    store = await Store.open(sqlite_url(tmp_path), warm=True)
    futures = [store.writer.enqueue(echo_or_break, f"q{n}") for n in range(items)]
    await store.close()  # before any of them was sent
    assert [f.result()[0] for f in futures] == [f"q{n}" for n in range(items)]


def slow_or_echo(conn: Connection, items: list[Any], now: datetime) -> list[Any]:
    """An item "slow:DIR" holds its transaction for a while, leaving DIR/started and DIR/finished."""
    for item in items:
        if item.startswith("slow:"):
            marks = Path(item[5:])
            (marks / "started").touch()
            time.sleep(1.5)
            (marks / "finished").touch()
    return [item[:10] for item in items]


async def test_the_loop_never_waits_for_a_busy_writer_process(tmp_path: Path) -> None:
    """Batches bigger than the socket's buffer, sent while the process is inside a long transaction,
    wait in the writer's outbox: the event loop goes on turning meanwhile."""
    (tmp_path / "db").mkdir()
    store = await Store.open(sqlite_url(tmp_path / "db"), warm=True)
    try:
        slow = store.writer.enqueue(slow_or_echo, f"slow:{tmp_path}")
        await wait_for(lambda: (tmp_path / "started").exists(), timeout=10)
        big = [store.writer.enqueue(slow_or_echo, f"{n:05d}" + "đ" * 4000) for n in range(600)]  # ~5 MB
        turns = 0
        while not (tmp_path / "finished").exists():
            await asyncio.sleep(0)
            turns += 1
            if turns == 1000:
                break
        assert turns == 1000, "the loop stopped while the process was busy"
        assert not (tmp_path / "finished").exists()  # still inside the slow transaction
        assert await slow == f"slow:{tmp_path}"[:10]
        assert [await f for f in big] == [f"{n:05d}" + "đ" * 5 for n in range(600)]
    finally:
        await store.close()


def _unreadable() -> None:
    raise RuntimeError("this result cannot be read back in the server")


class Unreadable:
    def __reduce__(self) -> tuple[Any, ...]:
        return (_unreadable, ())


def echo_or_unreadable(conn: Connection, items: list[Any], now: datetime) -> list[Any]:
    return [Unreadable() if item == "unreadable" else item for item in items]


async def test_a_reply_that_cannot_be_read_shifts_no_result(tmp_path: Path) -> None:
    """A reply the server cannot read must not be matched with the wrong batch (an asker would get
    someone else's receipt): the process is replaced and what was unanswered is written again."""
    store = await Store.open(sqlite_url(tmp_path), warm=True)
    try:
        futures: dict[str, asyncio.Future[Any]] = {}
        for turn in range(10):
            for n in range(5):
                futures[f"{turn}-{n}"] = store.writer.enqueue(echo_or_unreadable, f"{turn}-{n}")
            if turn == 3:
                futures["unreadable"] = store.writer.enqueue(echo_or_unreadable, "unreadable")
            await asyncio.sleep(0)
        done = await asyncio.wait_for(asyncio.gather(*futures.values(), return_exceptions=True), 30)
        outcome = dict(zip(futures, done, strict=True))
        assert isinstance(outcome.pop("unreadable"), WriteFailed)
        assert outcome == {item: item for item in outcome}
    finally:
        await store.close()
