"""Staff accounts: users (argon2 password hashes), sign-in with lockout, signed-in sessions, and
bearer API tokens for scripts and the portal's back end.

Session cookies and API tokens are 256-bit random values; the store keeps only their SHA-256, so
a copy of the database lets no one sign in. Every sign-in, failure, lockout, token issued or
revoked is written to the audit log in the same transaction."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import argon2
from sqlalchemy import insert, select, update

from . import audit
from . import schema as s
from .errors import NotFound, RateLimited, Unauthorized, ValidationError
from .roles import CLI_ACTOR, ROLES, Actor, Role
from .text import clean_line

if TYPE_CHECKING:
    from .store import Store

MAX_FAILURES = 5  # wrong passwords in a row before the account is locked
LOCKOUT = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=12)  # a working day, with the evening session
_hasher = argon2.PasswordHasher()
# Verified against when the user does not exist, so a wrong name costs as long as a wrong password
# (no user enumeration by timing).
_DUMMY_HASH = _hasher.hash("not a password of anyone's")


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SignIn:
    actor: Actor
    token: str  # for the cookie
    expires_at: datetime


def _actor(row: Any) -> Actor:
    return Actor(name=row.name, role=Role(row.role), user_id=row.id, department=row.department)


class Accounts:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def add_user(self, name: str, role: str, password: str, *, department: str | None = None,
                       by: Actor = CLI_ACTOR) -> int:
        if role not in ROLES:
            raise ValidationError("bad_role", field="role", roles=", ".join(ROLES))
        if len(password) < 10:
            raise ValidationError("weak_password", field="password", min=10)
        name = clean_line(name)
        if not name:
            raise ValidationError("required", field="name")
        department = clean_line(department) if department else None
        if role == Role.RESPONDER and not department:
            raise ValidationError("bad_department", field="department")
        # argon2 is deliberately slow (~50 ms of CPU): never on the event loop, never while holding
        # the database's write lock.
        password_hash = await asyncio.to_thread(_hasher.hash, password)
        now = datetime.now(UTC)
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
        """Check the password; lock the account for LOCKOUT after MAX_FAILURES wrong ones in a row.
        Raises Unauthorized (wrong name or password) or RateLimited (locked)."""
        name = clean_line(name) if isinstance(name, str) else ""
        async with self.store.read_engine.connect() as conn:
            row = (await conn.execute(select(s.users).where(s.users.c.name == name))).first()
        now = datetime.now(UTC)
        if row is not None and row.locked_until and row.locked_until > now:
            minutes = max(1, int((row.locked_until - now).total_seconds() // 60) + 1)
            raise RateLimited("locked", retry_after=int((row.locked_until - now).total_seconds()) + 1, minutes=minutes)
        try:
            await asyncio.to_thread(_hasher.verify, row.password_hash if row else _DUMMY_HASH, password)
            good = row is not None and not row.disabled
        except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
            good = False
        async with self.store.write_engine.begin() as conn:
            now = datetime.now(UTC)
            if not good:
                subject = Actor(name[:100] or "?", Role(row.role) if row else Role.EDITOR)
                if row is not None:
                    failures = row.failed_logins + 1
                    locked = now + LOCKOUT if failures >= MAX_FAILURES else None
                    await conn.execute(update(s.users).where(s.users.c.id == row.id).values(
                        failed_logins=0 if locked else failures, locked_until=locked))
                    if locked:
                        await conn.run_sync(audit.append, subject, "lockout", now, client=client,
                                            until=locked.isoformat())
                await conn.run_sync(audit.append, subject, "login_failed", now, client=client,
                                    known_user=row is not None)
            else:
                assert row is not None
                token = secrets.token_urlsafe(32)
                expires = now + SESSION_LIFETIME
                await conn.execute(update(s.users).where(s.users.c.id == row.id).values(failed_logins=0,
                                                                                          locked_until=None))
                await conn.execute(insert(s.staff_sessions), {"token_hash": digest(token), "user_id": row.id,
                                                               "created_at": now, "expires_at": expires})
                await conn.run_sync(audit.append, _actor(row), "login", now, client=client)
        if not good:
            raise Unauthorized("login_failed", field="password")
        return SignIn(_actor(row), token, expires)

    async def sign_out(self, token: str, actor: Actor) -> None:
        async with self.store.write_engine.begin() as conn:
            now = datetime.now(UTC)
            await conn.execute(update(s.staff_sessions).where(s.staff_sessions.c.token_hash == digest(token))
                               .values(ended_at=now))
            await conn.run_sync(audit.append, actor, "logout", now)

    async def session_actor(self, token: str | None) -> Actor | None:
        """The signed-in user behind a cookie, or None (unknown, ended, expired, disabled)."""
        if not token or len(token) > 100:
            return None
        now = datetime.now(UTC)
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
        now = datetime.now(UTC)
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
            now = datetime.now(UTC)
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
