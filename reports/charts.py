"""The report's charts: which bars, once (`charts`), drawn as server-rendered SVG for the page
(`svg`) and with fpdf2's own drawing in the PDF (reports/pdf.py).

Each SVG is an image with a title and a description that reads the figures out (role="img",
aria-labelledby), and the page puts the same numbers in a table beside it. No script, no inline
style (the pages' CSP): colours come from classes in static/css/reports.css."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

from .figures import Report
from .tables import Translate, channel_label, field_label, metric_label

OUTCOMES = ("answered_live", "answered_in_writing", "forwarded", "declined", "merged")
DEADLINE_BARS = ("on_time", "late", "overdue", "pending")


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    bars: list[tuple[str, int]]
    tone: str = "brand"  # the bars' colour class: brand | ok | warn

    def description(self, t: Translate) -> str:
        if not self.bars:
            return t("rpt_chart_empty")
        return t("rpt_chart_desc", items="; ".join(f"{label}: {value}" for label, value in self.bars))


def charts(report: Report, t: Translate) -> list[Chart]:
    totals = report.totals
    return [
        Chart("outcomes", t("rpt_outcomes"), [(metric_label(t, m), getattr(totals, m)) for m in OUTCOMES]),
        Chart("channels", t("rpt_by_channel"), [(channel_label(t, c), n) for c, n in report.channels.items()]),
        Chart("fields", t("rpt_by_field"), [(field_label(t, g.key), g.counts.received) for g in report.fields]),
        Chart("departments", t("rpt_by_department"), [(g.key or "", g.counts.received) for g in report.departments]),
        Chart("deadlines", t("rpt_deadlines"), [(metric_label(t, m), getattr(totals, m)) for m in DEADLINE_BARS],
              "ok"),
    ]


WIDTH = 500
LABEL_W = 220
ROW_H = 30
BAR_H = 18
MAX_LABEL = 24


def short(label: str, limit: int = MAX_LABEL) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def svg(chart: Chart, t: Translate, *, id_prefix: str = "rpt-chart") -> Markup:
    """Horizontal bars, one a row: the label (shortened; the table beside has it whole), the bar
    scaled to the largest value, the number after it."""
    ident = f"{id_prefix}-{chart.key}"
    height = max(1, len(chart.bars)) * ROW_H + 10
    top = max((value for _, value in chart.bars), default=0)
    span = WIDTH - LABEL_W - 60
    parts = [f'<svg class="rpt-chart rpt-tone-{chart.tone}" viewBox="0 0 {WIDTH} {height}" width="100%" '
             f'role="img" aria-labelledby="{ident}-t {ident}-d" xmlns="http://www.w3.org/2000/svg">',
             f'<title id="{ident}-t">{escape(chart.title)}</title>',
             f'<desc id="{ident}-d">{escape(chart.description(t))}</desc>']
    if not chart.bars:
        parts.append(f'<text class="rpt-label" x="0" y="{ROW_H - 10}">{escape(t("rpt_chart_empty"))}</text>')
    for i, (label, value) in enumerate(chart.bars):
        y = 5 + i * ROW_H
        width = round(span * value / top, 1) if top else 0
        parts.append(f'<g class="rpt-row"><text class="rpt-label" x="{LABEL_W - 8}" y="{y + BAR_H - 4}" '
                     f'text-anchor="end">{escape(short(label))}</text>'
                     f'<rect class="rpt-track" x="{LABEL_W}" y="{y}" width="{span}" height="{BAR_H}"/>'
                     f'<rect class="rpt-bar" x="{LABEL_W}" y="{y}" width="{width}" height="{BAR_H}"/>'
                     f'<text class="rpt-value" x="{LABEL_W + width + 6}" y="{y + BAR_H - 4}">{value}</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))
