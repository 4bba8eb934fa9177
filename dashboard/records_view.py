"""The "new record" marker: one line per record a school broke today, for any page to show.

A page adds `banner("<page>")` to its layout, which holds the records when the page is drawn;
one pattern-matched callback keeps every banner current from `Climate.records` whenever new
observations arrive (the app-wide data version) and in the reader's units. Past `SHOWN` lines
the rest fold into a native details/summary ("6 more new records").
"""

from __future__ import annotations

from typing import Any, NamedTuple

from dash import MATCH, Input, Output, State, callback, html

from dashboard import ids
from dashboard.climate_data import climate
from dashboard.i18n import N_, t, tn
from dashboard.shell import current_language
from dashboard.units import DEFAULT_UNITS, fmt
from ingest import StoreError

BANNER = "records-banner"  # the record lines in sight
MORE = "records-more"  # the <details> that folds the others
# Record lines in sight before the rest fold away. A line wraps to three rows on a 390 px phone:
# the demo's first minutes (a 7-day backfill) broke eight records, whose lines pushed the Now
# page's map below the first screen (issue #21).
SHOWN = 2
# record: the quantity its value is shown as (units follow the student's choice)
QUANTITY = {
    "highest": "temp_c",
    "lowest": "temp_c",
    "wettest": "rain_mm",
    "windiest": "wind_gust_ms",
}
# record: its name in a sentence ("Tampere school, highest temperature 31.2 °C")
RECORD = {
    "highest": N_("highest temperature"),
    "lowest": N_("lowest temperature"),
    "wettest": N_("wettest day"),
    "windiest": N_("strongest gust"),
}


class Lines(NamedTuple):
    """What a banner shows: the record lines in sight, and the children of the <details> that
    folds the others (its summary, then their lines; empty when nothing is folded)."""

    shown: list[html.P]
    more: list[html.Summary | html.P]


def banner(page: str) -> html.Div:
    """The banner with today's records as the page is rendered: they arrive with the page, so
    nothing under them moves (a phone's page jumped by their height a moment after it drew).
    Empty while the store cannot be read (the app's banner says so; the callback fills it)."""
    lang = current_language()
    try:
        now = today(lang, DEFAULT_UNITS)
    except StoreError:
        now = Lines([], [])
    return html.Div(
        [
            html.Div(now.shown, id={"type": BANNER, "page": page}),
            # Here in the layout, never in a callback's output: Dash mounts afresh whatever a
            # callback returns, which closed the list a student had opened at the next reading.
            # The callback sets only its children and `hidden`; the element, open or closed, stays.
            html.Details(
                now.more, id={"type": MORE, "page": page}, hidden=not now.more, className="more"
            ),
        ],
        className="records",
        role="status",
    )


def record_line(broken: dict[str, Any], lang: str, units: dict) -> html.P:
    quantity = QUANTITY[broken["record"]]
    line = t("{school}, {record} {value} (before {previous}, {date})", lang).format(
        school=broken["name"],
        record=t(RECORD[broken["record"]], lang),
        value=fmt(quantity, broken["value"], units, lang),
        previous=fmt(quantity, broken["previous"], units, lang),
        date=broken["previous_date"],
    )
    return html.P(
        [html.Strong("★ " + t("New record", lang) + ": "), line],
        className="new-record",
        **{"data-station": broken["station"], "data-record": broken["record"]},
    )


@callback(
    Output({"type": BANNER, "page": MATCH}, "children"),
    Output({"type": MORE, "page": MATCH}, "children"),
    Output({"type": MORE, "page": MATCH}, "hidden"),
    Input(ids.VERSION, "data"),
    Input(ids.UNITS, "data"),
    Input({"type": BANNER, "page": MATCH}, "id"),
    State(ids.LANG, "data"),
)
def fill(
    _version: Any, units: dict, _id: Any, lang: str
) -> tuple[list[html.P], list[html.Summary | html.P], bool]:
    now = today(lang, units)
    return now.shown, now.more, not now.more


def today(lang: str, units: dict) -> Lines:
    """The banner's lines for the records broken so far today."""
    return lines(climate().records()["broken"], lang, units)


def lines(broken: list[dict[str, Any]], lang: str, units: dict) -> Lines:
    """A line per broken record, in the order given: the first `SHOWN` in sight, the others
    folded behind a summary that counts them. Native details/summary: a keyboard opens it
    (Enter, Space) and a screen reader announces it as collapsed or expanded, with no script."""
    every = [record_line(b, lang, units) for b in broken]
    if len(every) <= SHOWN:
        return Lines(every, [])
    summary = tn("{n} more new record", "{n} more new records", len(every) - SHOWN, lang)
    return Lines(every[:SHOWN], [html.Summary(summary), *every[SHOWN:]])
