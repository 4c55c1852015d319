"""The report as a PDF (A4) with correct Vietnamese text: fpdf2 with Noto Sans, a Unicode TrueType
font embedded (subset), since PDF's built-in fonts have no Vietnamese letters. The fonts are
Debian's fonts-noto-core (`make test` installs it); without them the PDF is refused with a clear
message rather than made with boxes for letters.

The title, the period, the charts (drawn with fpdf2's own rectangles, with their numbers) and the
same tables as the page and the workbook (reports/tables.py)."""

from __future__ import annotations

import logging
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

from moderation.calendar import VIETNAM
from moderation.errors import DomainError

from .charts import Chart, charts, short
from .figures import Report
from .tables import Table, Translate, day, shown, tables

FONT_DIRS = (
    Path("/usr/share/fonts/truetype/noto"),  # Debian, Ubuntu: fonts-noto-core
    Path("/usr/share/fonts/noto"),  # Arch
    Path("/usr/share/fonts/google-noto"),  # Fedora
    Path("/usr/share/fonts/google-noto-vf"),
)
REGULAR, BOLD = "NotoSans-Regular.ttf", "NotoSans-Bold.ttf"
FAMILY = "NotoSans"
BRAND = (18, 62, 109)  # the site's --brand
OK = (28, 107, 58)
TRACK = (229, 238, 248)
ZEBRA = (243, 244, 246)
INK = (26, 31, 38)
MUTED = (74, 83, 97)


class FontsMissing(DomainError):
    """No Unicode font to write Vietnamese with: a fault of the installation, not of the request."""

    code = "internal"


def font_files(dirs: tuple[Path, ...] = FONT_DIRS) -> tuple[Path, Path]:
    for folder in dirs:
        regular, bold = folder / REGULAR, folder / BOLD
        if regular.is_file() and bold.is_file():
            return regular, bold
    raise FontsMissing("rpt_pdf_fonts", paths=", ".join(str(d) for d in dirs))


def _nfc(text: str) -> str:
    # a letter and its combining marks as one glyph where Noto has it (what staff type is NFC already)
    return unicodedata.normalize("NFC", text)


def to_pdf(report: Report, t: Translate, *, made_at: datetime | None = None,
           font_dirs: tuple[Path, ...] = FONT_DIRS) -> bytes:
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos
    from fpdf.fonts import FontFace

    # fpdf2 subsets the fonts with fontTools, which logs each table it prunes at INFO: not the server's news
    logging.getLogger("fontTools").setLevel(logging.WARNING)

    regular, bold = font_files(font_dirs)
    made = (made_at or datetime.now(UTC)).astimezone(VIETNAM)
    title = t("rpt_title")

    class Document(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(FAMILY, "", 8)
            self.set_text_color(*MUTED)
            self.cell(0, 5, _nfc(t("rpt_made", t=f"{made:%H:%M %d/%m/%Y}")), align="L")
            self.set_x(self.l_margin)
            self.cell(0, 5, _nfc(t("rpt_page", n=self.page_no(), total="{nb}")), align="R")

    pdf = Document(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_font(FAMILY, "", str(regular))
    pdf.add_font(FAMILY, "B", str(bold))
    pdf.set_title(_nfc(title))
    pdf.set_lang("vi")
    pdf.set_creator("doithoai")
    pdf.add_page()

    def text(size: float, line: str, *, style: str = "", color: tuple[int, int, int] = INK, h: float = 6,
             align: str = "L") -> None:
        pdf.set_font(FAMILY, style, size)
        pdf.set_text_color(*color)
        pdf.multi_cell(0, h, _nfc(line), align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def heading(line: str) -> None:
        if pdf.get_y() > pdf.h - 50:
            pdf.add_page()
        pdf.ln(3)
        text(12, line, style="B", color=BRAND, h=7)
        pdf.ln(1)

    text(17, title, style="B", color=BRAND, h=9, align="C")
    text(11, t("rpt_period", a=day(report.start), b=day(report.end)), style="B", align="C")
    text(9, t("rpt_as_of", t=f"{report.as_of.astimezone(VIETNAM):%H:%M %d/%m/%Y}"), color=MUTED, h=5, align="C")
    text(9, t("rpt_basis"), color=MUTED, h=5, align="C")

    def table(found: Table, *, titled: bool = True) -> None:
        if titled:
            heading(found.title)
        if not found.rows:
            text(10, found.empty, color=MUTED)
            return
        numeric = [all(isinstance(row[i], int | float) or row[i] is None for row in found.rows)
                   for i in range(len(found.headings))]
        size = 8 if len(found.headings) > 4 else 10
        pdf.set_font(FAMILY, "", size)
        pdf.set_text_color(*INK)
        pdf.set_fill_color(255, 255, 255)  # the charts' colour must not fill the rows
        with pdf.table(col_widths=tuple(found.widths) or None, line_height=pdf.font_size * 1.7,
                       headings_style=FontFace(emphasis="BOLD", color=(255, 255, 255), fill_color=BRAND),
                       text_align=tuple("RIGHT" if n else "LEFT" for n in numeric), width=pdf.epw,
                       cell_fill_color=ZEBRA, cell_fill_mode="ROWS", padding=1) as out:
            head = out.row()
            for label in found.headings:
                head.cell(_nfc(label))
            for values in found.rows:
                row = out.row()
                for value in values:
                    row.cell(_nfc(shown(value, t)))

    def chart(found: Chart, *, titled: bool = True) -> None:
        if titled:
            heading(found.title)
        if not found.bars:
            text(10, t("rpt_chart_empty"), color=MUTED)
            return
        label_w, bar_h, gap = 62.0, 5.0, 2.2
        span = pdf.epw - label_w - 14
        top = max(value for _, value in found.bars) or 1
        needed = len(found.bars) * (bar_h + gap)
        if pdf.get_y() + needed > pdf.h - 20:
            pdf.add_page()
        pdf.set_font(FAMILY, "", 9)
        for label, value in found.bars:
            y = pdf.get_y()
            pdf.set_text_color(*INK)
            pdf.set_xy(pdf.l_margin, y)
            pdf.cell(label_w - 2, bar_h, _nfc(short(label, 40)), align="R")
            pdf.set_fill_color(*TRACK)
            pdf.rect(pdf.l_margin + label_w, y, span, bar_h, style="F")
            width = span * value / top
            if width > 0:
                pdf.set_fill_color(*(OK if found.tone == "ok" else BRAND))
                pdf.rect(pdf.l_margin + label_w, y, width, bar_h, style="F")
            pdf.set_xy(pdf.l_margin + label_w + width + 1.5, y)
            pdf.cell(12, bar_h, str(value))
            pdf.set_xy(pdf.l_margin, y + bar_h + gap)
        pdf.ln(2)

    layout = {found.key: found for found in tables(report, t)}
    drawn = {found.key: found for found in charts(report, t)}
    table(layout["summary"])
    chart(drawn["outcomes"])
    table(layout["reasons"])
    for key in ("channels", "fields", "departments"):  # one heading: the chart, its figures under it
        chart(drawn[key])
        table(layout[key], titled=False)
    table(layout["deadlines"])
    text(8, t("rpt_rate_note"), color=MUTED, h=4.5)
    pdf.ln(2)
    chart(drawn["deadlines"], titled=False)
    table(layout["overdue"])
    table(layout["sessions"])
    return bytes(pdf.output())
