"""A written answer's attachments (a PDF reply letter): uploaded by whoever may draft the answer,
removable until it is submitted, public once the head approved the answer.

Who may attach or remove is the state table's `draft_answer` rule (moderation/workflow.py): the
board, and the question's own department's responders, while the answer is a draft (accepted or
routed). The file is stored once under the data directory, named by its SHA-256
(`attachments/ab/abcdef…`), written to a temporary name and moved into place inside the
transaction that adds its row and audit entry; its bytes must begin with `%PDF-` and be at most
MAX_BYTES. A removed attachment keeps its row (`removed_at`) and its file (another row may share
it); the audit entry carries its id, size and hash, never the file's name."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import unquote

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from . import audit
from . import schema as s
from . import workflow as wf
from .errors import NotFound, TooLarge, ValidationError
from .questions import QuestionState
from .roles import Actor

if TYPE_CHECKING:
    from .store import QuestionView, Store

MAX_BYTES = 10 * 1024 * 1024
PDF = "application/pdf"
MAGIC = b"%PDF-"
MAX_NAME = 120
RULE = "draft_answer"  # whoever may draft the answer may attach to it, while it is a draft


@dataclass(frozen=True)
class Attachment:
    id: int
    question_id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime

    @property
    def public_url(self) -> str:
        return f"/a/{self.id}/{self.filename}"

    @property
    def staff_url(self) -> str:
        return f"/staff/answers/files/{self.id}/{self.filename}"

    def public_dict(self) -> dict[str, Any]:
        return {"id": self.id, "filename": self.filename, "size": self.size, "url": self.public_url}

    def staff_dict(self) -> dict[str, Any]:
        return {**self.public_dict(), "url": self.staff_url, "uploaded_by": self.uploaded_by,
                "uploaded_at": self.uploaded_at.isoformat()}


def _attachment(row: Any) -> Attachment:
    return Attachment(row.id, row.question_id, row.filename, row.content_type, row.size, row.sha256,
                      row.uploaded_by, row.uploaded_at)


def clean_filename(raw: Any) -> str:
    """A safe file name for the URL and the download: letters, digits, dot, dash and underscore,
    Vietnamese letters folded to ASCII, ending in .pdf."""
    # some clients send the name percent-encoded (aiohttp's FormData), browsers as UTF-8
    name = unicodedata.normalize("NFKD", unquote(str(raw or ""))).replace("đ", "d").replace("Đ", "D")
    name = name.encode("ascii", "ignore").decode().rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-_")
    stem = re.sub(r"\.pdf$", "", stem, flags=re.IGNORECASE).strip(".-_") or "tra-loi"
    return stem[: MAX_NAME - 4] + ".pdf"


def path_of(root: Path, sha256: str) -> Path:
    return root / "attachments" / sha256[:2] / sha256


@dataclass
class Upload:
    """An upload read to a temporary file under the data directory, not yet anyone's attachment."""

    temp: Path
    size: int
    sha256: str
    filename: str

    def discard(self) -> None:
        self.temp.unlink(missing_ok=True)


async def receive(root: Path, filename: Any, chunks: AsyncIterator[bytes]) -> Upload:
    """Read an upload into a temporary file, hashing it; refused (nothing kept) when it is larger
    than MAX_BYTES, empty, or not a PDF."""
    out, temp = await asyncio.to_thread(_temp_file, root)
    digest, size, head = hashlib.sha256(), 0, b""
    try:
        with out:
            async for chunk in chunks:
                size += len(chunk)
                if size > MAX_BYTES:
                    raise TooLarge("rsp_file_too_large", field="file", max_mb=MAX_BYTES // (1024 * 1024))
                if len(head) < len(MAGIC):
                    head += chunk[: len(MAGIC)]
                digest.update(chunk)
                await asyncio.to_thread(out.write, chunk)
        if size == 0:
            raise ValidationError("rsp_file_missing", field="file")
        if not head.startswith(MAGIC):
            raise ValidationError("rsp_file_not_pdf", field="file")
    except BaseException:
        await asyncio.to_thread(temp.unlink, missing_ok=True)
        raise
    return Upload(temp, size, digest.hexdigest(), clean_filename(filename))


def _temp_file(root: Path) -> tuple[BinaryIO, Path]:
    folder = root / "attachments"
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".upload-", dir=folder)
    return os.fdopen(fd, "wb"), Path(name)


def _question_and_session(conn: Connection, question_id: int) -> tuple[Any, Any]:
    q = select(s.questions).where(s.questions.c.id == question_id)
    row = conn.execute(q.with_for_update() if conn.dialect.name == "postgresql" else q).first()
    if row is None:
        raise NotFound("question_not_found", field="question_id")
    session = conn.execute(select(s.sessions).where(s.sessions.c.id == row.session_id)).one()
    return row, session


def _check(conn: Connection, question_id: int, actor: Actor) -> Any:
    row, session = _question_and_session(conn, question_id)
    wf.check_action(RULE, actor, wf.facts(row, session))  # the board, or the question's own department
    return row


def _add(conn: Connection, question_id: int, upload: Upload, root: Path, actor: Actor) -> Attachment:
    row = _check(conn, question_id, actor)
    now = datetime.now(UTC)
    key = conn.execute(insert(s.answer_attachments).values(
        question_id=question_id, filename=upload.filename, content_type=PDF, size=upload.size, sha256=upload.sha256,
        uploaded_by=actor.name, uploaded_at=now)).inserted_primary_key
    assert key is not None
    new_id = int(key[0])
    audit.append(conn, actor, "attach", now, session_id=row.session_id, question_id=question_id,
                 attachment_id=new_id, size=upload.size, sha256=upload.sha256)
    target = path_of(root, upload.sha256)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(upload.temp, target)  # before the commit: a row never names a missing file
    return Attachment(new_id, question_id, upload.filename, PDF, upload.size, upload.sha256, actor.name, now)


def _remove(conn: Connection, question_id: int, attachment_id: int, actor: Actor) -> None:
    found = conn.execute(select(s.answer_attachments.c.id).where(s.answer_attachments.c.id == attachment_id)
                         .where(s.answer_attachments.c.question_id == question_id)
                         .where(s.answer_attachments.c.removed_at.is_(None))).first()
    if found is None:
        raise NotFound("rsp_attachment_not_found", field="attachment_id")
    row = _check(conn, question_id, actor)
    now = datetime.now(UTC)
    conn.execute(update(s.answer_attachments).where(s.answer_attachments.c.id == attachment_id).values(removed_at=now))
    audit.append(conn, actor, "detach", now, session_id=row.session_id, question_id=question_id,
                 attachment_id=attachment_id)


class Attachments:
    def __init__(self, store: Store, root: Path) -> None:
        self.store = store
        self.root = root

    async def check(self, question_id: int, actor: Actor) -> None:
        """Whether `actor` may attach to this question now: refused before the upload is read."""
        async with self.store.read_engine.connect() as conn:
            await conn.run_sync(_check, question_id, actor)

    async def add(self, question_id: int, upload: Upload, actor: Actor) -> Attachment:
        try:
            async with self.store.write_engine.begin() as conn:
                return await conn.run_sync(_add, question_id, upload, self.root, actor)
        finally:
            await asyncio.to_thread(upload.discard)  # moved into place when added; otherwise nothing is kept

    async def remove(self, question_id: int, attachment_id: int, actor: Actor) -> None:
        async with self.store.write_engine.begin() as conn:
            await conn.run_sync(_remove, question_id, attachment_id, actor)

    async def get(self, attachment_id: int) -> Attachment:
        async with self.store.read_engine.connect() as conn:
            row = (await conn.execute(select(s.answer_attachments).where(s.answer_attachments.c.id == attachment_id)
                                      .where(s.answer_attachments.c.removed_at.is_(None)))).first()
        if row is None:
            raise NotFound("rsp_attachment_not_found", field="attachment_id")
        return _attachment(row)

    async def public(self, attachment_id: int, filename: str) -> tuple[Attachment, Path]:
        """A file the public may download: its answer approved, the question not protected."""
        found = await self.get(attachment_id)
        async with self.store.read_engine.connect() as conn:
            row = (await conn.execute(select(s.questions.c.state, s.questions.c.protected)
                                      .where(s.questions.c.id == found.question_id))).first()
        if (row is None or row.state != QuestionState.ANSWERED_IN_WRITING.value or row.protected
                or filename != found.filename):
            raise NotFound("rsp_attachment_not_found", field="attachment_id")
        return found, path_of(self.root, found.sha256)


async def load(conn: Any, views: list[QuestionView]) -> list[QuestionView]:
    """Each view's current attachments (one read for the lot), on `conn` (an async connection)."""
    ids = [v.id for v in views]
    found: dict[int, list[Attachment]] = {}
    for start in range(0, len(ids), 500):
        rows = await conn.execute(select(s.answer_attachments)
                                  .where(s.answer_attachments.c.question_id.in_(ids[start:start + 500]))
                                  .where(s.answer_attachments.c.removed_at.is_(None))
                                  .order_by(s.answer_attachments.c.id))
        for r in rows:
            found.setdefault(r.question_id, []).append(_attachment(r))
    for view in views:
        view.attachments = tuple(found.get(view.id, ()))
    return views
