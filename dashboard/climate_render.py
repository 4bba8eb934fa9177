"""A climate report (`core.climate_report.Report`) as text, for a terminal, and as an HTML page
that the dashboard shows and Chromium prints on one A4 sheet for the classroom wall.

Every label comes from the catalogue (`i18n`); numbers in °C, mm and m/s with one decimal, as the
NOAA form prints them. Marks: `*` on a day the coverage rule left out, `!` on an incomplete month
or year (ETCCDI's missing-days rule).
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

import pandas as pd

from dashboard.core.climate_report import Report
from dashboard.i18n import N_, t
from dashboard.labels import COMPASS, name

DAY_MARK = "*"
PERIOD_MARK = "!"
_VALUES = ("tx_c", "tn_c", "tg_c", "rr_mm", "gust_ms")
_HEADERS = (N_("High °C"), N_("Low °C"), N_("Mean °C"), N_("Rain mm"), N_("Gust m/s"))
# report.freq -> the report's title, its first column, and the period's own line.
_TITLE = {"month": N_("Monthly climate summary"), "year": N_("Yearly climate summary")}
_FIRST = {"month": N_("Day"), "year": N_("Month")}
_LINE = {"month": N_("Month"), "year": N_("Year")}
_EXTREMES = {
    "tx_max": N_("Highest temperature"),
    "tn_min": N_("Lowest temperature"),
    "rr_max": N_("Wettest day"),
    "gust_max": N_("Strongest gust"),
}
DAY_NOTE = N_("* day with too few readings (fewer than 3 of every 4 expected): values left out")
PERIOD_NOTE = N_("! incomplete: more than 3 days missing in a month or 15 in a year (ETCCDI rule)")
_COUNTS = {
    "su": N_("High above 25 °C"),
    "id": N_("High below 0 °C"),
    "fd": N_("Low below 0 °C"),
    "tr": N_("Low above 20 °C"),
    "r1mm": N_("Rain 1 mm or more"),
    "r10mm": N_("Rain 10 mm or more"),
}


def _num(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    shown = f"{value:.1f}"
    return "0.0" if shown == "-0.0" else shown


def _dir(point: str, lang: str) -> str:
    return name(COMPASS, point, lang) if point else ""


def title(report: Report, lang: str) -> str:
    when = f"{report.year}-{report.month:02d}" if report.month else str(report.year)
    return f"{t(_TITLE[report.freq], lang)} {when}"


def _label(report: Report, line: dict[str, Any]) -> str:
    if report.freq == "month":
        return f"{line['label']}{'' if line['complete'] else DAY_MARK}"
    return f"{line['label']}{'' if line['complete'] else PERIOD_MARK}"


def _total_label(report: Report, lang: str) -> str:
    mark = "" if report.total["complete"] else PERIOD_MARK
    return t(_LINE[report.freq], lang) + mark


def _cells(report: Report, line: dict[str, Any], label: str, lang: str) -> list[str]:
    cells = [label, *(_num(line[c]) for c in _VALUES), _dir(line["dir"], lang)]
    if report.freq == "year" or line is report.total:
        cells.append(str(line["missing_days"]))
    return cells


def _header(report: Report, lang: str) -> list[str]:
    missing = [t("Missing days", lang)] if report.freq == "year" else []
    return [t(_FIRST[report.freq], lang), *(t(h, lang) for h in _HEADERS), t("Wind from", lang),
            *missing]  # fmt: skip


def _extremes(report: Report, lang: str) -> list[tuple[str, str]]:
    units = {"tx_max": "°C", "tn_min": "°C", "rr_max": "mm", "gust_max": "m/s"}
    out = []
    for key, extreme in report.extremes.items():
        value = _num(extreme.value)
        shown = f"{value} {units[key]}  {extreme.day.isoformat()}" if extreme.day else "-"
        out.append((t(_EXTREMES[key], lang), shown))
    return out


def _counts(report: Report, lang: str) -> list[tuple[str, str]]:
    return [(t(_COUNTS[key], lang), str(n)) for key, n in report.counts.items()]


def _heading(report: Report, meta: pd.Series, lang: str) -> list[str]:
    lat, lon = float(meta.get("lat", math.nan)), float(meta.get("lon", math.nan))
    position = (
        f"{abs(lat):.2f}° {'N' if lat >= 0 else 'S'}, {abs(lon):.2f}° {'E' if lon >= 0 else 'W'}"
    )
    school, at, height = t("School", lang), t("Position", lang), t("Elevation", lang)
    elevation = _num(float(meta.get("elevation_m", math.nan)))
    days = t("Days run midnight to midnight in {timezone}", lang)
    return [
        f"{school}: {meta.get('name', report.station)} ({report.station})",
        f"{at}: {position}   {height}: {elevation} m",
        days.format(timezone=meta.get("timezone", "")),
    ]


def render_text(report: Report, meta: pd.Series, lang: str = "en") -> str:
    """The report as an aligned text table, NOAA-form style."""
    header = _header(report, lang)
    rows = [_cells(report, line, _label(report, line), lang) for line in _records(report)]
    total = _cells(report, report.total, _total_label(report, lang), lang)
    if report.freq == "month":
        header = [*header, t("Missing days", lang)]
        rows = [[*r, ""] for r in rows]
    widths = [max(len(str(r[i])) for r in [header, *rows, total]) for i in range(len(header))]

    def fmt(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in
                         enumerate(zip(cells, widths, strict=True))).rstrip()  # fmt: skip

    rule = "-" * len(fmt(header))
    lines = [title(report, lang), "", *_heading(report, meta, lang), "", fmt(header), rule]
    lines += [fmt(r) for r in rows] + [rule, fmt(total), ""]
    lines += [t("Extremes", lang) + ":"]
    lines += [f"  {label}: {value}" for label, value in _extremes(report, lang)]
    lines += [t("Days counted", lang) + ":"]
    lines += [f"  {label}: {value}" for label, value in _counts(report, lang)]
    lines += ["", t(DAY_NOTE, lang), t(PERIOD_NOTE, lang)]
    return "\n".join(lines) + "\n"


def _records(report: Report) -> list[dict[str, Any]]:
    return [dict(r) for r in report.lines.to_dict("records")]


_CSS = """
@page { size: A4 portrait; margin: 12mm; }
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 9.5pt; color: #111; margin: 0; }
h1 { font-size: 15pt; margin: 0 0 4pt 0; }
p.meta { margin: 0; color: #333; }
table.report { border-collapse: collapse; width: 100%; margin: 6pt 0; }
table.report th, table.report td { border-bottom: 0.5pt solid #bbb; padding: 1.2pt 4pt; }
table.report th { background: #e8eef5; text-align: right; }
table.report td { text-align: right; font-variant-numeric: tabular-nums; }
table.report td:first-child, table.report th:first-child { text-align: left; }
table.report tr.total td { font-weight: bold; border-top: 1.2pt solid #333; }
table.report tr.incomplete td { color: #888; }
div.facts { display: flex; gap: 24pt; }
div.facts table td { padding: 0.5pt 6pt 0.5pt 0; }
p.marks { font-size: 8pt; color: #444; margin: 6pt 0 0 0; }
"""


def render_html(report: Report, meta: pd.Series, lang: str = "en") -> str:
    """The report as a whole HTML document that fits one A4 page (dashboard and print)."""
    head = "".join(f"<th>{escape(h)}</th>" for h in _header(report, lang))
    body = []
    for line in _records(report):
        cells = _cells(report, line, _label(report, line), lang)
        cls = "" if line["complete"] else ' class="incomplete"'
        body.append(f"<tr{cls}>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>")
    total = _cells(report, report.total, _total_label(report, lang), lang)
    if report.freq == "month":
        total = total[:-1]  # the month's missing days show in the marks below, not as a column
    body.append('<tr class="total">' + "".join(f"<td>{escape(c)}</td>" for c in total) + "</tr>")

    def facts(heading: str, pairs: list[tuple[str, str]]) -> str:
        rows = "".join(f"<tr><td>{escape(a)}</td><td>{escape(b)}</td></tr>" for a, b in pairs)
        return f"<div><strong>{escape(heading)}</strong><table>{rows}</table></div>"

    missing = t("Missing days", lang) + f": {report.total['missing_days']}"
    extremes, counts = t("Extremes", lang), t("Days counted", lang)
    day_note, period_note = t(DAY_NOTE, lang), t(PERIOD_NOTE, lang)
    heading = "".join(
        f'<p class="meta">{escape(line)}</p>' for line in _heading(report, meta, lang)
    )
    return (
        f'<!DOCTYPE html><html lang="{escape(lang)}"><head><meta charset="utf-8">'
        f"<title>{escape(title(report, lang))}</title><style>{_CSS}</style></head><body>"
        f"<h1>{escape(title(report, lang))}</h1>{heading}"
        f'<table class="report"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody>'
        f'</table><div class="facts">'
        f"{facts(extremes, _extremes(report, lang))}{facts(counts, _counts(report, lang))}</div>"
        f'<p class="marks">{escape(missing)}<br>{escape(day_note)}<br>'
        f"{escape(period_note)}</p></body></html>"
    )
