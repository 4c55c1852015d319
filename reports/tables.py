"""A report as tables, one layout for the page, the XLSX workbook and the PDF (so the three always
agree), and as CSV in long form (one figure a line, headed by stable keys that scripts rely on).

Field and department names are typed by staff and could start with a spreadsheet formula: CSV
cells that a spreadsheet would read as one are prefixed with a quote and XLSX cells are strings,
by the register's rule (moderation/register.py read_as_formula)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from moderation.calendar import VIETNAM
from moderation.deadlines import RULES
from moderation.register import _csv_cell, read_as_formula  # the register's rule, not a copy of it

from .figures import COUNTS, DEADLINES, Counts, Group, Report

Translate = Callable[..., str]
Cell = str | int | float | None  # a float is the on-time rate (0..1), None "none yet"

# the words of each figure: existing keys where the console and the session page have them
METRIC_KEYS: dict[str, str] = {
    "sessions_held": "rpt_sessions_held",
    "received": "stats_received",
    "accepted": "stats_accepted",
    "awaiting_head": "rpt_held",
    "merged": "state_name_merged",
    "answered_live": "stats_answered_live",
    "answered_in_writing": "stats_answered_in_writing",
    "forwarded": "stats_forwarded",
    "declined": "rpt_declined_total",
    "with_deadline": "rpt_with_deadline",
    "on_time": "rpt_on_time",
    "late": "rpt_late",
    "overdue": "rpt_overdue",
    "pending": "rpt_pending",
    "on_time_rate": "rpt_on_time_rate",
}
SUMMARY = ("received", "accepted", "awaiting_head", "merged", "answered_live", "answered_in_writing", "forwarded", "declined")
DEADLINE_ROWS = ("with_deadline", *DEADLINES, "on_time_rate")
GROUP_COLUMNS = (*COUNTS, "on_time", "late", "overdue")
SESSION_COLUMNS = ("received", "accepted", "answered_live", "answered_in_writing", "forwarded", "declined")


def _known(t: Translate, key: str, fallback: str) -> str:
    text = t(key)
    return fallback if text == key else text


def metric_label(t: Translate, metric: str) -> str:
    return t(METRIC_KEYS[metric])


def channel_label(t: Translate, channel: str) -> str:
    return _known(t, f"rpt_channel_{channel}", channel)


def reason_label(t: Translate, reason: str) -> str:
    return _known(t, f"rsn_{reason}", t("rpt_reason_other"))


def field_label(t: Translate, name: str | None) -> str:
    return name if name else t("rpt_no_field")


def session_state_label(t: Translate, kind: str, state: str) -> str:
    return t("rpt_kind_forum") if kind == "forum" else _known(t, f"state_{state}", state)


def rule_label(t: Translate, key: str | None) -> str:
    """A deadline's rule in words, as the receipt page says it: "Trả lời bằng văn bản (15 ngày)"."""
    rule = RULES.get(key or "")
    if rule is None:
        return key or ""
    return f"{t(f'due_step_{rule.step}')} ({t(f'due_counting_{rule.counting.value}', n=rule.days)})"


def percent(rate: float | None, t: Translate) -> str:
    if rate is None:
        return t("rpt_rate_none")
    return t("rpt_percent", n=f"{rate * 100:.1f}".rstrip("0").rstrip(".").replace(".", ","))


def day(d: Any) -> str:
    return f"{d:%d/%m/%Y}"


@dataclass
class Table:
    key: str
    title: str
    headings: list[str]
    rows: list[list[Cell]]
    empty: str = ""
    widths: list[float] = field(default_factory=list)  # relative, for the PDF


def tables(report: Report, t: Translate) -> list[Table]:
    totals = report.totals
    count = t("rpt_count")
    summary = [[metric_label(t, "sessions_held"), report.sessions_held],
               *[[metric_label(t, m), getattr(totals, m)] for m in SUMMARY]]
    deadlines = [[metric_label(t, m), _deadline_value(totals, m)] for m in DEADLINE_ROWS]
    group_heads = [metric_label(t, m) for m in GROUP_COLUMNS]

    def group_rows(groups: list[Group], name: Callable[[str | None], str]) -> list[list[Cell]]:
        return [[name(g.key), *(getattr(g.counts, m) for m in GROUP_COLUMNS)] for g in groups]

    wide = [3.2, *([1.0] * len(GROUP_COLUMNS))]
    return [
        Table("summary", t("rpt_summary"), [t("rpt_indicator"), count], summary, widths=[4, 1]),
        Table("channels", t("rpt_by_channel"), [t("rpt_channel"), t("rpt_questions")],
              [[channel_label(t, c), n] for c, n in report.channels.items()], t("rpt_chart_empty"), [4, 1]),
        Table("reasons", t("rpt_by_reason"), [t("rpt_reason"), t("rpt_questions")],
              [[reason_label(t, r), n] for r, n in report.declined.items()], t("rpt_chart_empty"), [4, 1]),
        Table("deadlines", t("rpt_deadlines"), [t("rpt_indicator"), count], deadlines, widths=[4, 1]),
        Table("fields", t("rpt_by_field"), [t("rpt_field"), *group_heads],
              group_rows(report.fields, lambda k: field_label(t, k)), t("rpt_chart_empty"), wide),
        Table("departments", t("rpt_by_department"), [t("rpt_department"), *group_heads],
              group_rows(report.departments, lambda k: k or ""), t("rpt_no_departments"), wide),
        Table("sessions", t("rpt_sessions"),
              [t("rpt_session"), t("rpt_starts_on"), t("rpt_state"), *(metric_label(t, m) for m in SESSION_COLUMNS)],
              [[row.title, day(row.starts_on), session_state_label(t, row.kind, row.state),
                *(getattr(row.counts, m) for m in SESSION_COLUMNS)] for row in report.sessions],
              t("rpt_no_sessions"), [3.4, 1.3, 1.3, *([1.0] * len(SESSION_COLUMNS))]),
        Table("overdue", t("rpt_overdue_list"),
              [t("rpt_session"), t("rpt_number"), t("rpt_field"), t("rpt_department"), t("rpt_due_on"),
               t("rpt_rule"), t("rpt_days_overdue")],
              [[o.session_title, o.number, field_label(t, o.field), o.department or "", day(o.due_on),
                rule_label(t, o.due_rule), o.days_overdue] for o in report.overdue],
              t("rpt_no_overdue"), [2.6, 0.7, 1.6, 2.0, 1.3, 2.0, 1.0]),
    ]


def _deadline_value(totals: Counts, metric: str) -> Cell:
    if metric == "with_deadline":
        return totals.with_deadline
    if metric == "on_time_rate":
        return totals.on_time_rate
    value: int = getattr(totals, metric)
    return value


def shown(cell: Cell, t: Translate) -> str:
    """A cell as text (the page, the PDF): the rate as a percentage."""
    if cell is None or isinstance(cell, float):
        return percent(cell, t)
    return str(cell)


# -- CSV: one figure a line -------------------------------------------------------------------

CSV_HEADER = ("section", "key", "label", "metric", "value")


def csv_lines(report: Report, t: Translate) -> list[tuple[str, str, str, str, Any]]:
    """(section, key, label, metric, value): `key` is stable (a metric, channel, reason, field,
    department, session id, or session-number), `label` in the chosen language."""
    out: list[tuple[str, str, str, str, Any]] = [
        ("period", "from", t("rpt_from"), "date", report.start.isoformat()),
        ("period", "to", t("rpt_to"), "date", report.end.isoformat()),
        ("period", "as_of", "", "time", report.as_of.isoformat()),
        ("totals", "sessions_held", metric_label(t, "sessions_held"), "count", report.sessions_held),
    ]
    totals = report.totals.as_dict()
    out += [("totals", m, metric_label(t, m), "count", totals[m]) for m in SUMMARY]
    out += [("deadlines", m, metric_label(t, m), "ratio" if m == "on_time_rate" else "count",
             "" if totals[m] is None else totals[m]) for m in DEADLINE_ROWS]
    out += [("channel", c, channel_label(t, c), "received", n) for c, n in report.channels.items()]
    out += [("declined", r, reason_label(t, r), "count", n) for r, n in report.declined.items()]
    for section, groups in (("field", report.fields), ("department", report.departments)):
        for g in groups:
            label = field_label(t, g.key) if section == "field" else g.key or ""
            values = g.counts.as_dict()
            out += [(section, g.key or "", label, m, values[m]) for m in (*COUNTS, *DEADLINES)]
    for row in report.sessions:
        values = row.counts.as_dict()
        out += [("session", str(row.id), row.title, "starts_on", row.starts_on.isoformat()),
                ("session", str(row.id), row.title, "state", row.state),
                *(("session", str(row.id), row.title, m, values[m]) for m in COUNTS)]
    for o in report.overdue:
        key = f"{o.session_id}-{o.number}"
        out += [("overdue", key, o.session_title, m, "" if v is None else v)
                for m, v in o.as_dict().items() if m != "session_title"]
    return out


def to_csv(report: Report, t: Translate, *, bom: bool = True) -> bytes:
    out = io.StringIO()
    if bom:
        out.write("\ufeff")  # Excel reads Vietnamese only with it
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for line in csv_lines(report, t):
        writer.writerow([_csv_cell(v) for v in line])
    return out.getvalue().encode()


# -- XLSX: a sheet a table ----------------------------------------------------------------------

SHEET_FORBIDDEN = str.maketrans({c: " " for c in "[]:*?/\\"})


def to_xlsx(report: Report, t: Translate) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    cover = book.create_sheet("Báo cáo")
    for line in (t("rpt_title"), t("rpt_period", a=day(report.start), b=day(report.end)),
                 t("rpt_as_of", t=f"{report.as_of.astimezone(VIETNAM):%H:%M %d/%m/%Y}"), t("rpt_basis")):
        cover.append([line])
    cover["A1"].font = Font(bold=True, size=14)
    cover.column_dimensions["A"].width = 90
    for table in tables(report, t):
        sheet = book.create_sheet(table.title.translate(SHEET_FORBIDDEN)[:31])
        sheet.append(table.headings)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row in table.rows:
            sheet.append(["" if v is None else v for v in row])
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # staff-typed names are text, never a formula
                    if read_as_formula(cell.value):
                        cell.quotePrefix = True
                elif isinstance(cell.value, float):
                    cell.number_format = "0.0%"
        sheet.freeze_panes = "A2"
        sheet.column_dimensions["A"].width = 40
        for i in range(2, len(table.headings) + 1):
            sheet.column_dimensions[sheet.cell(row=1, column=i).column_letter].width = 14
    book.properties.title = t("rpt_title")
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def to_json(report: Report) -> bytes:
    return json.dumps(report.as_dict(), ensure_ascii=False).encode()
