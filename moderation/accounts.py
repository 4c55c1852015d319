"""Staff accounts: users (argon2 password hashes), sign-in under the sign-in guard
(moderation/sign_in_guard.py), signed-in sessions, bearer API tokens for scripts and the portal's
back end, and what an administrator does to an account: disable, enable, reset its password, end
all its sign-ins; and a user's change of their own password.

Session cookies and API tokens are 256-bit random values; the store keeps only their SHA-256, so
a copy of the database lets no one sign in. Every sign-in, failure, lockout, token issued or
revoked, and every change to an account is written to the audit log in the same transaction."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import argon2
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from . import audit
from . import schema as s
from . import sign_in_guard as guard
from .errors import NotFound, Unauthorized, ValidationError
from .roles import CLI_ACTOR, ROLES, Actor, Role
from .text import clean_line

if TYPE_CHECKING:
    from .store import Store

MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # argon2 hashes any length; a megabyte "password" would only cost CPU
SESSION_LIFETIME = timedelta(hours=12)  # a working day, with the evening session
_PAUSE = {"tries": guard.MAX_FAILURES, "minutes": int(guard.LOCKOUT.total_seconds() // 60)}  # told to everyone
_hasher = argon2.PasswordHasher()
# Verified against when the user does not exist, so a wrong name costs as long as a wrong password
# (no user enumeration by timing).
_DUMMY_HASH = _hasher.hash("not a password of anyone's")


async def _verify(password_hash: str, password: Any) -> bool:
    # argon2 is deliberately slow (~50 ms of CPU): never on the event loop
    if not isinstance(password, str):
        password = ""
    try:
        return bool(await asyncio.to_thread(_hasher.verify, password_hash, password))
    except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
        return False


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SignIn:
    actor: Actor
    token: str  # for the cookie
    expires_at: datetime


@dataclass(frozen=True)
class Account:
    """A user as the administrator's page lists it."""

    id: int
    name: str
    role: Role
    department: str | None
    disabled: bool
    created_at: datetime
    last_sign_in_at: datetime | None
    signed_in: int  # open sign-ins (browsers) now


def _check_password(password: Any, field: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise ValidationError("weak_password", field=field, min=MIN_PASSWORD)
    if len(password) > MAX_PASSWORD:
        raise ValidationError("too_long", field=field, max=MAX_PASSWORD)


async def _user(conn: AsyncConnection, name: str) -> Any:
    user = (await conn.execute(select(s.users).where(s.users.c.name == name))).first()
    if user is None:
        raise NotFound("user_not_found", field="name")
    return user


async def _end_sessions(conn: AsyncConnection, user_id: int, now: datetime, keep: str | None = None) -> int:
    """End the user's open sign-ins (all but `keep`, a cookie's token); how many ended."""
    q = (update(s.staff_sessions).where(s.staff_sessions.c.user_id == user_id)
         .where(s.staff_sessions.c.ended_at.is_(None)).where(s.staff_sessions.c.expires_at > now))
    if keep:
        q = q.where(s.staff_sessions.c.token_hash != digest(keep))
    return int((await conn.execute(q.values(ended_at=now))).rowcount or 0)


def _actor(row: Any) -> Actor:
    return Actor(name=row.name, role=Role(row.role), user_id=row.id, department=row.department)


class Accounts:
    def __init__(self, store: Store, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.store = store
        self.clock = clock  # tests move it past a lockout

    async def add_user(self, name: str, role: str, password: str, *, department: str | None = None,
                       by: Actor = CLI_ACTOR) -> int:
        if role not in ROLES:
            raise ValidationError("bad_role", field="role", roles=", ".join(ROLES))
        _check_password(password, "password")
        name = clean_line(name)
        if not name:
            raise ValidationError("required", field="name")
        department = clean_line(department) if department else None
        if role == Role.RESPONDER and not department:
            raise ValidationError("bad_department", field="department")
        # argon2 is deliberately slow (~50 ms of CPU): never on the event loop, never while holding
        # the database's write lock.
        password_hash = await asyncio.to_thread(_hasher.hash, password)
        now = self.clock()
        async with self.store.write_engine.begin() as conn:
            exists = (await conn.execute(select(s.users.c.id).where(s.users.c.name == name))).first()
            if exists:
                raise ValidationError("user_exists", field="name")
            result = await conn.execute(
                insert(s.users).returning(s.users.c.id),
                {"name": name, "role": role, "password_hash": password_hash, "disabled": False,
                 "created_at": now, "department": department, "failed_logins": 0},
            )
            user_id = int(result.scalar_one())
            await conn.run_sync(audit.append, by, "user_add", now, user=name, new_role=role, department=department)
        return user_id

    async def sign_in(self, name: str, password: str, *, client: str) -> SignIn:
        """Check the password under the sign-in guard (moderation/sign_in_guard.py). Every refusal,
        whatever its cause (no such name, wrong password, disabled, locked from this address,
        slowed), raises the same Unauthorized after the same work: one argon2 verification (against
        a dummy hash for an unknown name) and one write transaction."""
        name = clean_line(name)[:guard.NAME_LENGTH] if isinstance(name, str) else ""
        async with self.store.read_engine.connect() as conn:
            row = (await conn.execute(select(s.users).where(s.users.c.name == name))).first()
            standing = await guard.standing(conn, name, client, self.clock())
        password_ok = await _verify(row.password_hash if row else _DUMMY_HASH, password) and row is not None
        async with self.store.write_engine.begin() as conn:
            now = self.clock()
            why = None
            if standing.locked_until:
                why = "locked"
            elif row is not None and not standing.known and not await guard.heard(conn, row.id, now):
                why = "slowed"
            elif row is None:
                why = "unknown"
            elif not password_ok:
                why = "password"
            elif row.disabled:
                why = "disabled"
            elif not await guard.count_success(conn, name, client, row.id, now):
                why = "locked"  # by guesses from this address that ended while this one was checked
            if why is None:
                assert row is not None
                token = secrets.token_urlsafe(32)
                expires = now + SESSION_LIFETIME
                await conn.execute(insert(s.staff_sessions), {"token_hash": digest(token), "user_id": row.id,
                                                               "created_at": now, "expires_at": expires})
                await conn.run_sync(audit.append, _actor(row), "login", now, client=client)
                return SignIn(_actor(row), token, expires)
            subject = Actor(name or "?", Role(row.role) if row else Role.EDITOR)
            if why in ("password", "unknown", "disabled"):  # heard and wrong: it counts
                failure = await guard.count_failure(conn, name, client, row.id if row else None, now)
                if failure.locked_until:
                    await conn.run_sync(audit.append, subject, "lockout", now, client=client,
                                        until=failure.locked_until.isoformat())
                if failure.account_failures == guard.ACCOUNT_CEILING:
                    await conn.run_sync(audit.append, subject, "sign_in_slowed", now, client=client,
                                        failures=failure.account_failures)
            await conn.run_sync(audit.append, subject, "login_failed", now, client=client,
                                known_user=row is not None, why=why)
        raise Unauthorized("login_failed", field="password", **_PAUSE)

    async def sign_out(self, token: str, actor: Actor) -> None:
        async with self.store.write_engine.begin() as conn:
            now = self.clock()
            await conn.execute(update(s.staff_sessions).where(s.staff_sessions.c.token_hash == digest(token))
                               .values(ended_at=now))
            await conn.run_sync(audit.append, actor, "logout", now)

    # -- managing accounts: the administrator's page (/staff/users) and `doithoai user …` -------

    async def accounts(self) -> list[Account]:
        """Every account, with its open sign-ins (never a hash)."""
        now = self.clock()
        live = (select(s.staff_sessions.c.user_id, func.count().label("n"))
                .where(s.staff_sessions.c.ended_at.is_(None), s.staff_sessions.c.expires_at > now)
                .group_by(s.staff_sessions.c.user_id).subquery())
        async with self.store.read_engine.connect() as conn:
            rows = await conn.execute(select(s.users, live.c.n).outerjoin(live, live.c.user_id == s.users.c.id)
                                      .order_by(s.users.c.name))
            return [Account(id=r.id, name=r.name, role=Role(r.role), department=r.department, disabled=r.disabled,
                            created_at=r.created_at, last_sign_in_at=r.last_sign_in_at, signed_in=r.n or 0)
                    for r in rows]

    async def set_disabled(self, name: str, disabled: bool, by: Actor = CLI_ACTOR) -> int:
        """Disable an account (its sign-ins end with it; its API tokens stop working until it is
        enabled again) or enable it. Returns how many sign-ins ended."""
        name = clean_line(name)
        if disabled and by.user_id is not None and by.name == name:
            raise ValidationError("disable_self", field="name")  # an administrator locking themselves out
        async with self.store.write_engine.begin() as conn:
            now = self.clock()
            user = await _user(conn, name)
            await conn.execute(update(s.users).where(s.users.c.id == user.id).values(disabled=disabled))
            ended = await _end_sessions(conn, user.id, now) if disabled else 0
            await conn.run_sync(audit.append, by, "user_disable" if disabled else "user_enable", now, user=user.name,
                                sessions_ended=ended)
        return ended

    async def change_password(self, actor: Actor, old: str, new: str, *, client: str,
                              keep: str | None = None) -> int:
        """The signed-in user's own password, given the old one. The old one is checked as a
        sign-in is (a wrong one counts towards this address's lock), so a session left open
        cannot be used to guess it. Ends the user's other sign-ins (`keep`: this one's token);
        returns how many."""
        if actor.user_id is None:
            raise Unauthorized("unauthorized")
        _check_password(new, "new_password")
        async with self.store.read_engine.connect() as conn:
            row = (await conn.execute(select(s.users).where(s.users.c.id == actor.user_id))).first()
            standing = await guard.standing(conn, actor.name, client, self.clock())
        if row is None:
            raise Unauthorized("unauthorized")
        old_ok = await _verify(row.password_hash, old)
        new_hash = await asyncio.to_thread(_hasher.hash, new)
        async with self.store.write_engine.begin() as conn:
            now = self.clock()
            if standing.locked_until or not old_ok:
                if not standing.locked_until:
                    failure = await guard.count_failure(conn, row.name, client, row.id, now)
                    if failure.locked_until:
                        await conn.run_sync(audit.append, actor, "lockout", now, client=client,
                                            until=failure.locked_until.isoformat())
                await conn.run_sync(audit.append, actor, "password_change_failed", now, client=client)
            else:
                await conn.execute(update(s.users).where(s.users.c.id == row.id).values(password_hash=new_hash))
                ended = await _end_sessions(conn, row.id, now, keep=keep)
                await conn.run_sync(audit.append, actor, "password_change", now, client=client, sessions_ended=ended)
                return ended
        raise Unauthorized("wrong_password", field="old_password", **_PAUSE)

    async def reset_password(self, name: str, new: str, by: Actor = CLI_ACTOR) -> int:
        """An administrator sets someone's password: every sign-in of theirs ends, and every
        address's lock on the name is lifted. Returns how many sign-ins ended."""
        _check_password(new, "new_password")
        new_hash = await asyncio.to_thread(_hasher.hash, new)
        async with self.store.write_engine.begin() as conn:
            now = self.clock()
            user = await _user(conn, clean_line(name))
            await conn.execute(update(s.users).where(s.users.c.id == user.id).values(password_hash=new_hash))
            ended = await _end_sessions(conn, user.id, now)
            unlocked = await guard.unlock(conn, user.name)
            await conn.run_sync(audit.append, by, "password_reset", now, user=user.name, sessions_ended=ended,
                                addresses_unlocked=unlocked)
        return ended

    async def sign_out_everywhere(self, name: str, *, tokens: bool = False, by: Actor = CLI_ACTOR) -> dict[str, int]:
        """End every sign-in of the user (each browser, on every node), and with `tokens` revoke
        their API tokens too."""
        async with self.store.write_engine.begin() as conn:
            now = self.clock()
            user = await _user(conn, clean_line(name))
            ended = await _end_sessions(conn, user.id, now)
            revoked = 0
            if tokens:
                result = await conn.execute(update(s.api_tokens).where(s.api_tokens.c.user_id == user.id)
                                            .where(s.api_tokens.c.revoked_at.is_(None)).values(revoked_at=now))
                revoked = int(result.rowcount or 0)
            await conn.run_sync(audit.append, by, "user_signout", now, user=user.name, sessions_ended=ended,
                                tokens_revoked=revoked)
        return {"sessions": ended, "tokens": revoked}

    async def session_actor(self, token: str | None) -> Actor | None:
        """The signed-in user behind a cookie, or None (unknown, ended, expired, disabled)."""
        if not token or len(token) > 100:
            return None
        now = self.clock()
        async with self.store.read_engine.connect() as conn:
            row = (await conn.execute(
                select(s.users)
                .join(s.staff_sessions, s.staff_sessions.c.user_id == s.users.c.id)
                .where(s.staff_sessions.c.token_hash == digest(token))
                .where(s.staff_sessions.c.ended_at.is_(None))
                .where(s.staff_sessions.c.expires_at > now)
            )).first()
        return _actor(row) if row is not None and not row.disabled else None

    # -- API tokens --------------------------------------------------------------------------

    async def issue_token(self, name: str, label: str = "", by: Actor = CLI_ACTOR) -> dict[str, Any]:
        token = "dt_" + secrets.token_urlsafe(32)
        now = self.clock()
        async with self.store.write_engine.begin() as conn:
            user = (await conn.execute(select(s.users).where(s.users.c.name == clean_line(name)))).first()
            if user is None:
                raise NotFound("user_not_found", field="name")
            result = await conn.execute(
                insert(s.api_tokens).returning(s.api_tokens.c.id),
                {"user_id": user.id, "token_hash": digest(token), "label": clean_line(label)[:100], "created_at": now},
            )
            token_id = int(result.scalar_one())
            await conn.run_sync(audit.append, by, "token_issue", now, user=user.name, token_id=token_id)
        return {"id": token_id, "user": user.name, "role": user.role, "token": token, "created_at": now.isoformat()}

    async def revoke_token(self, token_id: int, by: Actor = CLI_ACTOR) -> None:
        async with self.store.write_engine.begin() as conn:
            now = self.clock()
            result = await conn.execute(update(s.api_tokens).where(s.api_tokens.c.id == token_id)
                                        .where(s.api_tokens.c.revoked_at.is_(None)).values(revoked_at=now))
            if result.rowcount != 1:
                raise NotFound("token_not_found", field="token_id")
            await conn.run_sync(audit.append, by, "token_revoke", now, token_id=token_id)

    async def list_tokens(self, name: str | None = None) -> list[dict[str, Any]]:
        q = (select(s.api_tokens, s.users.c.name).join(s.users, s.users.c.id == s.api_tokens.c.user_id)
             .order_by(s.api_tokens.c.id))
        if name:
            q = q.where(s.users.c.name == name)
        async with self.store.read_engine.connect() as conn:
            return [{"id": r.id, "user": r.name, "label": r.label, "created_at": r.created_at.isoformat(),
                     "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None}
                    for r in await conn.execute(q)]

    async def token_actor(self, token: str | None) -> Actor | None:
        if not token or len(token) > 100:
            return None
        async with self.store.read_engine.connect() as conn:
            row = (await conn.execute(
                select(s.users)
                .join(s.api_tokens, s.api_tokens.c.user_id == s.users.c.id)
                .where(s.api_tokens.c.token_hash == digest(token))
                .where(s.api_tokens.c.revoked_at.is_(None))
            )).first()
        return _actor(row) if row is not None and not row.disabled else None

    async def named_actor(self, name: str) -> Actor:
        """The command line acting as a named staff member (`--as NAME`): an enabled account, so the
        audit log says who, and the role's rules apply as on any other surface."""
        async with self.store.read_engine.connect() as conn:
            row = (await conn.execute(select(s.users).where(s.users.c.name == name))).first()
        if row is None or row.disabled:
            raise NotFound("user_not_found", field="name")
        return _actor(row)
