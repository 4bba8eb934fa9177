"""The worked examples in the simulator's docstrings (formulas with their reference values)."""

from __future__ import annotations

import doctest
import importlib

import pytest


# The solar formulas moved to ingest/domain/solar.py, whose examples run with the ingest package.
@pytest.mark.parametrize("module", ["noise", "weather", "faults", "mqtt"])
def test_docstring_examples(module: str) -> None:
    result = doctest.testmod(importlib.import_module(f"simulators.{module}"))
    assert result.failed == 0 and result.attempted > 0
