"""Tables (SQLAlchemy Core). Migrations in moderation/migrations mirror this file.

Personal data (askers) lives apart from the question, so it can be masked, exported under its own
rules, and erased at the end of the retention period without touching the register's other columns."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite would otherwise hand back naive ones)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


metadata = MetaData()

sessions = Table(
    "sessions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("title", String(300), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("chair_name", String(200), nullable=False),
    Column("chair_position", String(200), nullable=False, default=""),
    Column("place", String(300), nullable=False, default=""),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("minutes", Integer, nullable=False),
    Column("fields", JSON, nullable=False),
    Column("state", String(20), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("announced_at", UTCDateTime),
    Column("live_at", UTCDateTime),
    Column("closed_at", UTCDateTime),
    Column("published_at", UTCDateTime),
    # The head's approval of the script (kịch bản): questions received after it are late.
    Column("script_approved_at", UTCDateTime),
    Column("script_approved_by", String(100)),
    # The programme feed staff chose (docs/video.md): test | whip | url; feed_url for a pull feed.
    # The URL may carry the station's credentials: it is shown to staff only, never logged.
    Column("feed", String(10)),
    Column("feed_url", Text),
    # The secret that receipts are derived from (moderation/receipts.py); never leaves the store.
    Column("receipt_key", String(32), nullable=False),
    # Every change stamps updated_at; running servers poll it to learn of changes made elsewhere
    # (the CLI, another node) and push them to viewers.
    Column("updated_at", UTCDateTime, nullable=False, index=True),
)

questions = Table(
    "questions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("session_id", ForeignKey("sessions.id"), nullable=False),
    Column("number", Integer, nullable=False),  # số thứ tự in the session's register
    # Derived from the session's receipt key and the idempotency key (moderation/receipts.py), so
    # this one unique index also finds an idempotent resend; (session_id, idempotency_key) has none.
    Column("receipt", String(20), nullable=False, unique=True),
    Column("idempotency_key", String(80), nullable=False),
    # sha256 of what was sent with the key: a key that comes back with other content is refused,
    # not answered with someone else's receipt.
    Column("content_hash", String(64), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("field", String(200)),
    Column("text", Text, nullable=False),
    Column("state", String(30), nullable=False),
    Column("asker_kind", String(20), nullable=False),
    Column("public_name", String(200), nullable=False),  # as the asker chose to be named; "" = anonymous
    Column("received_at", UTCDateTime, nullable=False),
    Column("decline_reason", String(40)),
    Column("interest_count", Integer, nullable=False, default=0),
    Column("version", Integer, nullable=False, default=1),
    Column("updated_at", UTCDateTime, nullable=False, index=True),
    # -- the editorial board's work (nullable/defaulted: intake never writes them) --
    Column("display_text", Text),  # the text shown on air when an editor edited it; `text` is kept
    Column("decline_note", Text),  # the reason in words, told to the asker on the receipt page
    Column("department", String(200)),  # sở, ngành the question was routed to
    Column("answer", Text),  # the department's prepared answer, or the written answer
    Column("starred", Boolean, nullable=False, default=False, server_default=false()),
    # Late (received after the script) and accepted by an editor: off the public list until the
    # head approves it.
    Column("held", Boolean, nullable=False, default=False, server_default=false()),
    Column("queue_position", Integer),
    Column("merged_into", Integer),
    Column("merged_count", Integer, nullable=False, default=0, server_default="0"),
    Column("protected", Boolean, nullable=False, default=False, server_default=false()),  # complaint/denunciation: identity hidden
    Column("forward_due", UTCDateTime),
    Column("confirmed_by", String(100)),  # the officer who accepted it (for the register)
    Column("aired_at", UTCDateTime),
    Column("answered_at", UTCDateTime),
    UniqueConstraint("session_id", "number", name="uq_questions_number"),
    # a moderator's catch-up after a drop: what changed in this session since a cursor
    Index("ix_questions_session_updated", "session_id", "updated_at"),
)

# Idempotency keys of questions stored before receipts were derived from them (migration 0004):
# their receipts were random, so a resend of one is found here. Never written to after 0004.
legacy_idempotency_keys = Table(
    "legacy_idempotency_keys",
    metadata,
    Column("session_id", Integer, primary_key=True),
    Column("idempotency_key", String(80), primary_key=True),
    Column("question_id", ForeignKey("questions.id", ondelete="CASCADE"), nullable=False),
)

askers = Table(
    "askers",
    metadata,
    Column("question_id", ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("name", String(200), nullable=False),
    Column("address", String(400), nullable=False),
    Column("phone", String(20), nullable=False),
    Column("name_shown", String(20), nullable=False),
    # What the question was sent with, as keyed hashes (moderation/blocks.py), so a moderator can
    # block its sender: the viewer's cookie id (None without one) and the client address.
    Column("viewer_hash", String(32)),
    Column("address_hash", String(32)),
)

consent_records = Table(
    "consent_records",
    metadata,
    Column("question_id", ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True),
    Column("consent_version", String(40), nullable=False),
    Column("accepted_at", UTCDateTime, nullable=False),
    Column("channel", String(20), nullable=False),
)

interests = Table(
    "interests",
    metadata,
    Column("question_id", ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True),
    Column("viewer_key", String(80), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("department", String(200)),  # responders: the sở, ngành they answer for
    # Wrong passwords for this account from every address since its last sign-in: past a ceiling,
    # tries from addresses it never signed in from are slowed (moderation/sign_in_guard.py).
    Column("failed_logins", Integer, nullable=False, default=0, server_default="0"),
    Column("slowed_until", UTCDateTime),  # while slowed: when the next such try is heard
    Column("last_sign_in_at", UTCDateTime),
)

# Sign-in attempts per (name typed, client address): the lock after wrong passwords in a row holds
# for that pair only, so someone elsewhere cannot lock an officer out. Keyed by the name as typed,
# known or not, so an unknown name costs and answers exactly as a known one.
sign_in_guard = Table(
    "sign_in_guard",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("client", String(64), primary_key=True),
    Column("failures", Integer, nullable=False, default=0, server_default="0"),  # in a row
    Column("last_failure_at", UTCDateTime),
    Column("locked_until", UTCDateTime),
    Column("signed_in_at", UTCDateTime),  # the last success from here: a known address
    Index("ix_sign_in_guard_last_failure", "last_failure_at"),
)

# Bearer tokens for scripts and the portal's back end: only a SHA-256 of the token is kept (tokens
# are 256 random bits, so a slow hash would add nothing).
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", ForeignKey("users.id"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("label", String(100), nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)

# Signed-in staff: the cookie holds a random token, the store its SHA-256, so signing out (or an
# admin disabling the user) ends the session on every node.
staff_sessions = Table(
    "staff_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", ForeignKey("users.id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime),
)

# Senders the board blocked (moderation/blocks.py): keyed hashes only, never a phone or an address in
# clear. One row per decision; rows are never deleted (lifting stamps lifted_at), so every node can
# tell from (rows, lifted rows) that it must read them again.
sender_blocks = Table(
    "sender_blocks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("session_id", ForeignKey("sessions.id")),  # None: every session
    Column("question_id", ForeignKey("questions.id", ondelete="SET NULL")),  # the question it was chosen from
    Column("viewer_hash", String(32)),
    Column("address_hash", String(32)),
    Column("phone_hash", String(32)),
    Column("reason", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("expires_at", UTCDateTime),  # None: until lifted
    Column("lifted_at", UTCDateTime),
    Column("lifted_by", String(100)),
    Column("lift_reason", Text),
)

# The audit log: append-only (triggers refuse UPDATE and DELETE), each row chained to the one
# before by a SHA-256 over its content and the previous hash (moderation/audit.py).
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(100), nullable=False),
    Column("role", String(20), nullable=False),
    Column("action", String(40), nullable=False),
    Column("session_id", Integer),
    Column("question_id", Integer),
    Column("detail", JSON, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)
