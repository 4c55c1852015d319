"""The conformance report as the PDF an engineer signs off: A4, Vietnamese first with English under it.

fpdf2 with the Noto Sans fonts that reports/pdf.py finds (Debian's fonts-noto-core): the built-in PDF
fonts have no Vietnamese letters. The words are here, not in server/texts, because the PDF is made in
the master job (no request, no language): both languages are always printed."""

from __future__ import annotations

import logging
import unicodedata
from datetime import datetime
from typing import Any

from moderation.calendar import VIETNAM
from reports.pdf import BOLD, BRAND, FAMILY, INK, MUTED, OK, REGULAR, ZEBRA, font_files

BAD = (170, 29, 29)

WORDS: dict[str, tuple[str, str]] = {
    "title": ("Biên bản kiểm tra bản phát sóng", "Broadcast master conformance report"),
    "basis": ("Đo độc lập trên tệp giao (EBU R128 / ITU-R BS.1770)",
              "Measured independently on the delivered file (EBU R128 / ITU-R BS.1770)"),
    "file": ("Tệp", "File"),
    "sha256": ("Mã băm SHA-256", "SHA-256"),
    "size": ("Dung lượng", "Size"),
    "profile": ("Hồ sơ", "Profile"),
    "measured_with": ("Đo bằng", "Measured with"),
    "measured_at": ("Thời điểm đo", "Measured at"),
    "check": ("Hạng mục", "Check"),
    "value": ("Đo được", "Measured"),
    "limit": ("Yêu cầu", "Required"),
    "result": ("Kết quả", "Result"),
    "pass": ("ĐẠT", "PASS"),
    "fail": ("KHÔNG ĐẠT", "FAIL"),
    "overall_pass": ("Kết luận: bản phát sóng ĐẠT mọi yêu cầu", "Verdict: the master PASSES every check"),
    "overall_fail": ("Kết luận: bản phát sóng KHÔNG ĐẠT", "Verdict: the master FAILS"),
    "fallback": ("Chuẩn hoá tuyến tính không đạt được mục tiêu; đã dùng chế độ động (có nén)",
                 "Linear normalisation could not reach the target; dynamic mode (compressed) was used"),
    "extra": ("Đo thêm", "Also measured"),
    "sign": ("Kỹ thuật viên kiểm tra (họ tên, chữ ký)", "Checked by engineer (name, signature)"),
    "date": ("Ngày", "Date"),
    "integrated_lufs": ("Độ lớn tích hợp", "Integrated loudness"),
    "true_peak_dbtp": ("Đỉnh thực", "True peak"),
    "loudness_range_lu": ("Dải độ lớn (LRA)", "Loudness range"),
    "frame_rate": ("Tốc độ khung hình", "Frame rate"),
    "video_codec": ("Mã hoá hình", "Video codec"),
    "audio_codec": ("Mã hoá tiếng", "Audio codec"),
    "sample_rate": ("Tần số lấy mẫu", "Sample rate"),
    "channels": ("Số kênh tiếng", "Channels"),
    "duration_s": ("Thời lượng", "Duration"),
    "resolution": ("Độ phân giải", "Resolution"),
    "max_momentary_lufs": ("Độ lớn tức thời lớn nhất (M)", "Max momentary loudness"),
    "max_short_term_lufs": ("Độ lớn ngắn hạn lớn nhất (S)", "Max short-term loudness"),
}

UNITS = {"integrated_lufs": " LUFS", "true_peak_dbtp": " dBTP", "loudness_range_lu": " LU", "frame_rate": " fps",
         "sample_rate": " Hz", "duration_s": " s", "max_momentary_lufs": " LUFS", "max_short_term_lufs": " LUFS"}


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def both(key: str) -> str:
    vi, en = WORDS[key]
    return f"{vi} / {en}"


def shown(name: str, value: Any) -> str:
    return f"{value}{UNITS.get(name, '')}"


def report_pdf(report: dict[str, Any]) -> bytes:
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    logging.getLogger("fontTools").setLevel(logging.WARNING)
    regular, bold = font_files()
    assert regular.name == REGULAR and bold.name == BOLD
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_font(FAMILY, "", str(regular))
    pdf.add_font(FAMILY, "B", str(bold))
    pdf.set_title(_nfc(WORDS["title"][0]))
    pdf.set_lang("vi")
    pdf.set_creator("doithoai")
    pdf.add_page()

    def text(size: float, line: str, *, style: str = "", color: tuple[int, int, int] = INK, h: float = 5.5,
             align: str = "L") -> None:
        pdf.set_font(FAMILY, style, size)
        pdf.set_text_color(*color)
        pdf.multi_cell(0, h, _nfc(line), align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    text(16, WORDS["title"][0], style="B", color=BRAND, h=8, align="C")
    text(11, WORDS["title"][1], color=BRAND, h=6, align="C")
    text(8.5, both("basis"), color=MUTED, h=5, align="C")
    pdf.ln(3)

    measured = datetime.fromisoformat(str(report["measured_at"])).astimezone(VIETNAM)
    profile = report["profile"]
    facts = [
        ("file", str(report["file"]["name"])),
        ("sha256", str(report["file"]["sha256"])),
        ("size", f"{int(report['file']['size']):,} B".replace(",", ".")),
        ("profile", f"{profile['name']}: {profile['label']}"),
        ("measured_with", str(report["measured_with"])),
        ("measured_at", f"{measured:%H:%M:%S %d/%m/%Y} (UTC+7)"),
    ]
    for key, value in facts:
        pdf.set_font(FAMILY, "B", 8.5)
        pdf.set_text_color(*INK)
        pdf.cell(52, 5, _nfc(both(key)))
        pdf.set_font(FAMILY, "", 8.5 if key != "sha256" else 7.5)
        pdf.multi_cell(0, 5, _nfc(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)

    widths = (70, 34, 44, 32)
    pdf.set_fill_color(*BRAND)
    pdf.set_text_color(255, 255, 255)
    pdf.set_font(FAMILY, "B", 8.5)
    for width, key in zip(widths, ("check", "value", "limit", "result"), strict=True):
        pdf.cell(width, 9, _nfc(both(key)) if key != "check" else _nfc(both(key)), border=0, fill=True)
    pdf.ln(9)
    for i, check in enumerate(report["checks"]):
        vi, en = WORDS.get(check["name"], (check["name"], check["name"]))
        pdf.set_fill_color(*(ZEBRA if i % 2 else (255, 255, 255)))
        pdf.set_text_color(*INK)
        pdf.set_font(FAMILY, "", 8.5)
        pdf.cell(widths[0], 7, _nfc(f"{vi} / {en}"), fill=True)
        pdf.cell(widths[1], 7, _nfc(shown(check["name"], check["value"])), fill=True)
        pdf.cell(widths[2], 7, _nfc(str(check["limit"]).replace("≤", "<=")), fill=True)
        pdf.set_font(FAMILY, "B", 8.5)
        pdf.set_text_color(*(OK if check["pass"] else BAD))
        pdf.cell(widths[3], 7, _nfc(both("pass") if check["pass"] else both("fail")), fill=True)
        pdf.ln(7)
    pdf.ln(2)
    extra = "; ".join(f"{WORDS[k][0]} / {WORDS[k][1]}: {shown(k, report[k])}"
                      for k in ("max_momentary_lufs", "max_short_term_lufs"))
    text(8.5, f"{both('extra')}: {extra}", color=MUTED)
    fallback = report.get("fallback")
    if fallback:
        pdf.ln(1)
        text(9, both("fallback"), style="B", color=BAD)
        text(8.5, str(fallback.get("reason", "")), color=BAD)
    pdf.ln(3)
    verdict = WORDS["overall_pass"] if report["pass"] else WORDS["overall_fail"]
    text(12, verdict[0], style="B", color=OK if report["pass"] else BAD, h=7)
    text(10, verdict[1], color=OK if report["pass"] else BAD, h=6)

    pdf.ln(14)
    y = pdf.get_y()
    pdf.set_draw_color(*INK)
    pdf.line(15, y, 122, y)
    pdf.line(135, y, 195, y)
    pdf.set_xy(15, y + 1)
    pdf.set_font(FAMILY, "", 8.5)
    pdf.set_text_color(*MUTED)
    pdf.cell(107, 5, _nfc(both("sign")))
    pdf.set_xy(135, y + 1)
    pdf.cell(60, 5, _nfc(both("date")))
    return bytes(pdf.output())
