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
    Date,
    DateTime,
    Dialect,
    Float,
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
    # dialogue: a live session that closes; forum: the standing "Trao đổi và tháo gỡ" (Huế, seed 000),
    # no video and no close, each question on its own clock from receipt.
    Column("kind", String(20), nullable=False, default="dialogue", server_default="dialogue"),
    # The rules its follow-up deadlines come from (moderation/deadlines.py RULE_SETS).
    Column("rule_set", String(20), nullable=False, default="hai_phong", server_default="hai_phong"),
    # Askers' personal data is erased this many months after the close (moderation/retention.py).
    Column("retention_months", Integer, nullable=False, default=12, server_default="12"),
    Column("erased_at", UTCDateTime),  # when the retention job erased its askers' identities
    # Hà Nam: the conclusions notice (thông báo kết luận) was issued; units' answers count from it.
    Column("notice_at", UTCDateTime),
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
    # -- received by phone, e-mail, letter or in person: the officer who entered it (Điều 8.2) --
    Column("entered_by", String(100)),
    # -- follow-up after the session (moderation/deadlines.py): the next step the asker can expect,
    # its last day (a date in Vietnam; it ends at 24:00 of that day) and the rule it comes from --
    Column("due_on", Date),
    Column("due_rule", String(40)),
    Column("due_from", Date),  # the day the clock started (close, receipt or notice)
    Column("due_extended_from", Date),  # the last day before an extension
    Column("due_note", Text),  # why it was extended, told to the asker
    Column("due_done_at", UTCDateTime),  # when the step was done (met or missed: compare with due_on)
    Column("forwarded_at", UTCDateTime),  # outside the chair's remit: when it was sent on, and to whom
    Column("forwarded_to", String(200)),
    # -- the department's written answer: drafted, submitted, returned by the head with a note --
    Column("answer_by", String(100)),
    Column("answer_submitted_at", UTCDateTime),
    Column("answer_return_note", Text),
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
    Column("email", String(254)),  # optional: where the asker is told of the follow-up
    Column("erased_at", UTCDateTime),  # the retention job replaced the identity (moderation/retention.py)
)

consent_records = Table(
    "consent_records",
    metadata,
    Column("question_id", ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True),
    Column("consent_version", String(40), nullable=False),
    Column("accepted_at", UTCDateTime, nullable=False),
    Column("channel", String(20), nullable=False),
    # given by phone, letter or in person: to this officer, who entered the question
    Column("officer", String(100)),
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

# Days the `holidays` package gets wrong: the government's yearly swaps and local days off
# (moderation/calendar.py). Admins edit them (page and CLI); every change is audited.
calendar_overrides = Table(
    "calendar_overrides",
    metadata,
    Column("day", Date, primary_key=True),
    Column("working", Boolean, nullable=False),
    Column("note", String(200), nullable=False, default=""),
    Column("created_by", String(100), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# The units questions are routed to, with the official e-mail address routings and reminders go to.
departments = Table(
    "departments",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("email", String(254)),
    Column("created_at", UTCDateTime, nullable=False),
)

# The notification outbox (moderation/outbox.py): written in the same transaction as the change it
# tells of, sent at least once by the notifier (notify/), shown once on the receipt page. `address`
# is the asker's own e-mail or phone (personal data: the retention job erases it).
notifications = Table(
    "notifications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("session_id", ForeignKey("sessions.id")),
    Column("question_id", ForeignKey("questions.id", ondelete="SET NULL")),
    Column("audience", String(20), nullable=False),  # asker | department
    Column("channel", String(20), nullable=False),  # receipt | email | sms
    Column("address", String(254)),
    Column("department", String(200)),
    Column("kind", String(40), nullable=False),  # what it tells: forwarded, answered_in_writing, ...
    Column("params", JSON, nullable=False),  # dates, units: never personal data
    # one event, one channel, one row: the same change retried never makes a second message
    Column("dedupe", String(160), nullable=False, unique=True),
    Column("state", String(20), nullable=False),  # pending | sending | sent | failed | dead
    Column("attempts", Integer, nullable=False, default=0, server_default="0"),
    Column("next_attempt_at", UTCDateTime),
    Column("claimed_until", UTCDateTime),  # a sender's lease while it sends
    Column("last_error", Text),
    Column("sent_at", UTCDateTime),
    Index("ix_notifications_due", "state", "next_attempt_at"),
    Index("ix_notifications_question", "question_id"),
)

# Files attached to a department's written answer (a PDF reply letter): stored under the data dir,
# named by their SHA-256; public with the answer once the head approves it.
answer_attachments = Table(
    "answer_attachments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("question_id", ForeignKey("questions.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("filename", String(200), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("uploaded_by", String(100), nullable=False),
    Column("uploaded_at", UTCDateTime, nullable=False),
    Column("removed_at", UTCDateTime),
)

# An asker's request to see or erase their data (Decree 356/2025: answered within 2 working days).
data_requests = Table(
    "data_requests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("question_id", ForeignKey("questions.id", ondelete="SET NULL")),
    Column("kind", String(20), nullable=False),  # access | erasure
    Column("channel", String(20), nullable=False),  # receipt | staff
    Column("received_at", UTCDateTime, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("entered_by", String(100)),
    Column("state", String(20), nullable=False),  # open | done | refused
    Column("done_at", UTCDateTime),
    Column("done_by", String(100)),
    Column("note", Text),
)

# After the close (docs/recording.md): the jobs that finalise a session's recording (the portal
# video, its HLS VOD, the chapters and pictures) and make the TV station's broadcast master. A job
# a restart interrupted is found `running` with a stale lease and started again (stream/finalize).
recording_jobs = Table(
    "recording_jobs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("session_id", ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(20), nullable=False),  # finalize | master
    Column("profile", String(40)),  # the master's station profile
    Column("state", String(20), nullable=False),  # queued | running | done | failed
    Column("progress", Float, nullable=False, default=0.0, server_default="0"),  # 0..1
    Column("eta_seconds", Float),
    Column("step", String(40)),  # what it is doing now (remux, vod, pictures, loudness, ...)
    Column("message", Text),  # why it failed, or what it fell back to
    Column("result", JSON),  # the paths it made, the report
    Column("attempts", Integer, nullable=False, default=0, server_default="0"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("started_at", UTCDateTime),
    Column("lease_until", UTCDateTime),
    Column("finished_at", UTCDateTime),
    Index("ix_recording_jobs_session", "session_id", "kind"),
)

# The publication on the portal (Điều 5.2, 10.2): the board's draft of the article and the
# head's published snapshot of it. The public sees `published` only, never the draft; each
# publish (the first, a correction, a written answer added later) is the head's.
publications = Table(
    "publications",
    metadata,
    Column("session_id", ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True),
    Column("draft", JSON, nullable=False),  # the article as the board prepares it
    Column("draft_updated_at", UTCDateTime, nullable=False),
    Column("draft_updated_by", String(100), nullable=False),
    Column("published", JSON),  # what the public sees: the draft as the head last published it
    Column("first_published_at", UTCDateTime),
    Column("published_at", UTCDateTime),  # the last publish: the page's "last updated"
    Column("published_by", String(100)),
    Column("version", Integer, nullable=False, default=0, server_default="0"),  # publishes so far
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
