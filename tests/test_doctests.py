"""Docstring examples run once, through pytest's `--doctest-modules` (pyproject.toml). This test
only checks that the modules whose formulas style.md asks to show by example still have examples:
an example deleted by mistake would otherwise pass unnoticed."""

from __future__ import annotations

import doctest
import importlib

import pytest

WITH_EXAMPLES = [
    "dashboard.core.actions",
    "dashboard.core.compare",
    "dashboard.core.daily",
    "dashboard.core.derived",
    "dashboard.core.localtime",
    "dashboard.core.resample",
    "dashboard.core.solar",
    "dashboard.mapbins",
    "ingest.domain.humidity",
    "ingest.domain.qc",
    "ingest.domain.solar",
    "simulators.noise",
    "simulators.weather",
    "simulators.faults",
    "ingest.lineprotocol",
    "ingest.retry",
    "gateway.gateway_cmd",
]


@pytest.mark.parametrize("name", WITH_EXAMPLES)
def test_module_shows_its_formulas_by_example(name: str) -> None:
    tests = doctest.DocTestFinder().find(importlib.import_module(name))
    assert sum(len(t.examples) for t in tests) > 0, f"{name} lost its docstring examples"
