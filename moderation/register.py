"""The register (sổ ghi chép) as files: CSV (UTF-8 with BOM, for Excel; headed by stable keys that
scripts rely on) and XLSX (headed in Vietnamese, for the board's officers). One column list for
both, so the two files always agree."""

from __future__ import annotations

import csv
import io
from typing import Any

COLUMNS: list[tuple[str, str]] = [
    # (key, Vietnamese heading)
    ("number", "STT"),
    ("receipt", "Mã tra cứu"),
    ("received_at", "Thời gian nhận"),
    ("asker_kind", "Loại người hỏi"),
    ("asker_name", "Họ tên / Tổ chức"),
    ("asker_address", "Địa chỉ"),
    ("asker_phone", "Điện thoại"),
    ("field", "Lĩnh vực"),
    ("text", "Nội dung câu hỏi"),
    ("text_on_air", "Nội dung hiển thị (đã biên tập)"),
    ("state", "Trạng thái"),
    ("decline_reason", "Lý do không chọn"),
    ("department", "Sở, ngành"),
    ("confirmed_by", "Cán bộ xác nhận"),
    ("channel", "Kênh gửi"),
    ("consent_version", "Phiên bản đồng ý"),
    ("question_id", "Mã câu hỏi"),
]


def flat(row: dict[str, Any]) -> list[Any]:
    a = row["asker"]
    values = {**row, "asker_kind": a["kind"], "asker_name": a["name"], "asker_address": a["address"],
              "asker_phone": a["phone"]}
    return [values.get(key) if values.get(key) is not None else "" for key, _ in COLUMNS]


def to_csv(rows: list[dict[str, Any]], *, bom: bool = True) -> str:
    out = io.StringIO()
    if bom:
        out.write("\ufeff")  # Excel reads Vietnamese only with it
    writer = csv.writer(out)
    writer.writerow([key for key, _ in COLUMNS])  # stable keys: scripts read the CSV
    for row in rows:
        writer.writerow(flat(row))
    return out.getvalue()


def to_xlsx(rows: list[dict[str, Any]], title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "So ghi chep"
    sheet.append([heading for _, heading in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        # openpyxl refuses control characters; the store holds none (moderation/text.py)
        sheet.append(flat(row))
    sheet.freeze_panes = "A2"
    widths = {"text": 60, "text_on_air": 40, "asker_address": 30, "asker_name": 22, "received_at": 26}
    for i, (key, _) in enumerate(COLUMNS):
        letter = sheet.cell(row=1, column=i + 1).column_letter
        sheet.column_dimensions[letter].width = widths.get(key, 14)
        if key in ("text", "text_on_air"):
            for cell in sheet[letter][1:]:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    book.properties.title = title[:200]
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
