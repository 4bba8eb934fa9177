"""Every docstring example in the core runs (style.md: runnable examples)."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["actions", "bins", "compare", "daily", "derived", "localtime", "qc", "resample", "solar"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(f"dashboard.core.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
