"""The "new record" banner folds a long list: the first records as lines, the others behind a
native details/summary a student (keyboard and screen reader too) opens. No browser, no store:
the banner's lines from a list of broken records as `Climate.records()["broken"]` gives it."""

from __future__ import annotations

from typing import Any

import pytest
from dash import html

from dashboard import records_view
from dashboard.units import DEFAULT_UNITS

TOWNS = ("berlin", "tampere", "tokyo", "seoul", "manila", "lisbon", "singapore", "warsaw")


def _broken(n: int) -> list[dict[str, Any]]:
    """`n` records broken today, one per school, in the order the core gives them."""
    kinds = list(records_view.QUANTITY)
    return [
        {"station": f"xx-{town}-01", "name": f"{town.title()} school", "record": kinds[i % 4],
         "value": 30.0 + i, "previous": 29.0, "previous_date": "2024-06-02"}
        for i, town in enumerate(TOWNS[:n])
    ]  # fmt: skip


def _marked(line: Any) -> tuple[str, str]:
    """What tests and pages find a record line by: its class and data attributes."""
    assert isinstance(line, html.P) and getattr(line, "className", None) == "new-record", line
    return getattr(line, "data-station"), getattr(line, "data-record")


def _keys(broken: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(b["station"], b["record"]) for b in broken]


@pytest.mark.parametrize("n", [0, 1, 2])
def test_a_few_records_are_lines_in_sight(n: int) -> None:
    shown, more = records_view.lines(_broken(n), "en", DEFAULT_UNITS)
    assert [_marked(line) for line in shown] == _keys(_broken(n))
    assert more == []  # the banner hides its empty <details>


def test_more_records_fold_behind_a_summary() -> None:
    broken = _broken(8)
    shown, more = records_view.lines(broken, "en", DEFAULT_UNITS)
    assert records_view.SHOWN == 2
    assert [_marked(line) for line in shown] == _keys(broken[:2])
    assert "Tampere school" in str(shown[1].children)
    # The <details>' summary counts what it holds; every record keeps its line, class and
    # data attributes, in the core's order.
    summary, *folded = more
    assert isinstance(summary, html.Summary) and summary.children == "6 more new records"
    assert [_marked(line) for line in folded] == _keys(broken[2:])


def test_one_folded_record_takes_the_singular() -> None:
    summary = records_view.lines(_broken(3), "en", DEFAULT_UNITS).more[0]
    assert summary.children == "1 more new record"


@pytest.mark.parametrize(
    ("lang", "n", "expected"),
    [("de", 1, "1 weiterer neuer Rekord"), ("de", 6, "6 weitere neue Rekorde"),
     ("fi", 6, "6 muuta uutta ennätystä"), ("ja", 6, "ほかに新記録 6 件")],
)  # fmt: skip
def test_summary_in_the_readers_language(lang: str, n: int, expected: str) -> None:
    broken = _broken(records_view.SHOWN + n)
    assert records_view.lines(broken, lang, DEFAULT_UNITS).more[0].children == expected
