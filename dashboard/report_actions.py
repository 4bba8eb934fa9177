"""What `classnet report` does, as functions the tests call directly: read one school's climate
days from an open store (`dashboard.climate_cmd` opens it read-only with
`ingest.command.opened_store`), build its monthly or yearly report, and render it as a text
table, CSV or a one-page PDF."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

import pandas as pd

from dashboard.climate_render import render_html, render_text
from dashboard.climate_store import read_climate_days
from dashboard.core.climate_report import Report, monthly_report, report_csv, yearly_report
from dashboard.printing import html_to_pdf
from ingest.base import Store
from ingest.domain.calibration import load_corrections
from ingest.domain.errors import UserError

ReportFormat = Literal["table", "csv", "pdf"]
FORMATS: tuple[ReportFormat, ...] = ("table", "csv", "pdf")


@dataclass(frozen=True)
class Period:
    """A calendar month (`month` set) or year of a school's local days."""

    year: int
    month: int | None = None

    @property
    def first(self) -> date:
        return date(self.year, self.month or 1, 1)

    @property
    def last(self) -> date:
        month = self.month or 12
        return date(self.year, month, calendar.monthrange(self.year, month)[1])


def parse_period(text: str) -> Period:
    """`YYYY-MM` (a month) or `YYYY` (a year).

    >>> parse_period("2024-06"), parse_period("2023")
    (Period(year=2024, month=6), Period(year=2023, month=None))
    """
    found = re.fullmatch(r"(\d{4})(?:-(\d{2}))?", text.strip())
    if not found or (found[2] and not 1 <= int(found[2]) <= 12):
        raise UserError(f"{text!r} is not a month like 2024-06 or a year like 2024")
    return Period(int(found[1]), int(found[2]) if found[2] else None)


def build_report(
    store: Store, station: str, period: Period, stations_path: Path | None = None
) -> tuple[Report, pd.Series]:
    """The report of `station` for `period` from `store`, and the station's metadata (name,
    position)."""
    meta = store.stations(stations_path)
    if station not in meta.index:
        known = ", ".join(sorted(map(str, meta.index))[:8]) or "none yet"
        raise UserError(f"station {station} is not in {store.url} (known: {known})")
    if pd.isna(meta.at[station, "timezone"]):
        raise UserError(
            f"station {station} has no time zone: add it to stations.toml, local days need it"
        )
    corrections = load_corrections(stations_path)
    days = read_climate_days(store, meta, period.first, period.last, [station], corrections)
    return period_report(days, station, period), meta.loc[station]


def period_report(days: pd.DataFrame, station: str, period: Period) -> Report:
    """The monthly or yearly report of `station` from its climate days."""
    if period.month is None:
        return yearly_report(days, station, period.year)
    return monthly_report(days, station, period.year, period.month)


def render_report(report: Report, meta: pd.Series, fmt: ReportFormat, lang: str = "en") -> bytes:
    """The report as UTF-8 text, CSV, or PDF bytes."""
    if fmt == "table":
        return render_text(report, meta, lang).encode()
    if fmt == "csv":
        return report_csv(report).encode()
    if fmt == "pdf":
        return html_to_pdf(render_html(report, meta, lang))
    raise UserError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
