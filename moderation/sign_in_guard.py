"""The sign-in guard: how many wrong passwords a name gets, from where, before it is stopped.

- Failures are counted per (name as typed, client address), atomically in the database
  (`failures = failures + 1 ... RETURNING`), so parallel guesses all count. After MAX_FAILURES in a
  row that pair is locked for LOCKOUT: the guesser is stopped, and the officer signing in from
  another address is not (an outsider cannot lock an officer out by naming them).
- Across every address an account has a ceiling: past ACCOUNT_CEILING failures since its last
  sign-in (a guesser spreading over many addresses), tries from addresses that never signed in to
  it are heard once per SLOW_INTERVAL for the whole account; the others are refused unheard.
  Addresses the officer signed in from within KNOWN_FOR are never slowed. Slowed, not locked: the
  guesser's rate is cut to a trickle, and no one is shut out for good.
- Unknown names are counted like known ones (the rows are keyed by the name typed), and every
  refusal answers the same (moderation/accounts.py), so neither the answer, the time taken nor the
  lock tells whether a name exists.

Every function runs inside the caller's write transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from . import schema as s

MAX_FAILURES = 5  # wrong passwords in a row from one address before that address is locked out
LOCKOUT = timedelta(minutes=15)
ACCOUNT_CEILING = 50  # failures from all addresses since the account's last sign-in
SLOW_INTERVAL = timedelta(seconds=10)  # past the ceiling: one try heard per interval from new addresses
KNOWN_FOR = timedelta(days=90)  # an address the officer signed in from stays known this long
FORGET_AFTER = timedelta(days=1)  # failures of an address that never signed in are forgotten then

NAME_LENGTH = 100
CLIENT_LENGTH = 64


@dataclass(frozen=True)
class Standing:
    """What the guard knew of (name, address) before the password was checked."""

    locked_until: datetime | None  # the pair's lock, if it holds now
    known: bool  # the address signed in to this name within KNOWN_FOR


def keys(name: str, client: str) -> tuple[str, str]:
    return name[:NAME_LENGTH], client[:CLIENT_LENGTH]


async def standing(conn: AsyncConnection, name: str, client: str, now: datetime) -> Standing:
    name, client = keys(name, client)
    row = (await conn.execute(select(s.sign_in_guard).where(s.sign_in_guard.c.name == name)
                              .where(s.sign_in_guard.c.client == client))).first()
    if row is None:
        return Standing(None, False)
    locked = row.locked_until if row.locked_until and row.locked_until > now else None
    return Standing(locked, bool(row.signed_in_at and row.signed_in_at > now - KNOWN_FOR))


async def heard(conn: AsyncConnection, user_id: int, now: datetime) -> bool:
    """For an account past the ceiling, take the one try heard per SLOW_INTERVAL; True when the try
    may be checked. One UPDATE, so two nodes (or two requests) cannot both take the same slot."""
    failures = (await conn.execute(select(s.users.c.failed_logins).where(s.users.c.id == user_id))).scalar()
    if failures is None or failures < ACCOUNT_CEILING:
        return True
    taken = await conn.execute(
        update(s.users).where(s.users.c.id == user_id)
        .where(or_(s.users.c.slowed_until.is_(None), s.users.c.slowed_until <= now))
        .values(slowed_until=now + SLOW_INTERVAL))
    return bool(taken.rowcount == 1)


@dataclass(frozen=True)
class Failure:
    locked_until: datetime | None  # this failure locked the pair (None: not yet)
    account_failures: int | None  # the account's count across addresses (None: unknown name)


async def count_failure(conn: AsyncConnection, name: str, client: str, user_id: int | None,
                        now: datetime) -> Failure:
    """One more wrong password for (name, address), and for the account when the name is a user's."""
    name, client = keys(name, client)
    reached = s.sign_in_guard.c.failures + 1 >= MAX_FAILURES
    lock_at = now + LOCKOUT
    stmt = _insert(conn).values(name=name, client=client, failures=1, last_failure_at=now)
    stmt = stmt.on_conflict_do_update(
        index_elements=[s.sign_in_guard.c.name, s.sign_in_guard.c.client],
        # the count starts again with the lock, so the pair gets MAX_FAILURES more once it ends
        set_={"failures": case((reached, 0), else_=s.sign_in_guard.c.failures + 1),
              "locked_until": case((reached, lock_at), else_=s.sign_in_guard.c.locked_until),
              "last_failure_at": now},
    ).returning(s.sign_in_guard.c.failures)
    in_a_row = (await conn.execute(stmt)).scalar_one()
    account: int | None = None
    if user_id is not None:
        account = (await conn.execute(
            update(s.users).where(s.users.c.id == user_id).values(failed_logins=s.users.c.failed_logins + 1)
            .returning(s.users.c.failed_logins))).scalar_one()
    await conn.execute(delete(s.sign_in_guard).where(
        s.sign_in_guard.c.last_failure_at < now - FORGET_AFTER,
        or_(s.sign_in_guard.c.signed_in_at.is_(None), s.sign_in_guard.c.signed_in_at < now - KNOWN_FOR)))
    return Failure(lock_at if in_a_row == 0 else None, account)


async def count_success(conn: AsyncConnection, name: str, client: str, user_id: int, now: datetime) -> bool:
    """Record a good password from (name, address), unless the pair was locked meanwhile (by guesses
    running in parallel with this one): False then, and the sign-in is refused."""
    name, client = keys(name, client)
    free = or_(s.sign_in_guard.c.locked_until.is_(None), s.sign_in_guard.c.locked_until <= now)
    stmt = _insert(conn).values(name=name, client=client, failures=0, signed_in_at=now).on_conflict_do_update(
        index_elements=[s.sign_in_guard.c.name, s.sign_in_guard.c.client],
        set_={"failures": 0, "locked_until": None, "signed_in_at": now},
        where=free,
    ).returning(s.sign_in_guard.c.name)
    if (await conn.execute(stmt)).first() is None:
        return False
    await conn.execute(update(s.users).where(s.users.c.id == user_id)
                       .values(failed_logins=0, slowed_until=None, last_sign_in_at=now))
    return True


async def unlock(conn: AsyncConnection, name: str) -> int:
    """An administrator's reset: every address's lock on the name and the account's count cleared."""
    name = name[:NAME_LENGTH]
    cleared = await conn.execute(update(s.sign_in_guard).where(s.sign_in_guard.c.name == name)
                                 .where(or_(s.sign_in_guard.c.failures > 0, s.sign_in_guard.c.locked_until.isnot(None)))
                                 .values(failures=0, locked_until=None))
    await conn.execute(update(s.users).where(s.users.c.name == name).values(failed_logins=0, slowed_until=None))
    return int(cleared.rowcount or 0)


def _insert(conn: AsyncConnection) -> Any:
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(s.sign_in_guard)
