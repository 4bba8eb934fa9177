"""Component ids shared across pages: app-wide stores and controls. Page-local ids are prefixed with
their page's name inside the page module (`compare-graph`, `stations-table`)."""

from __future__ import annotations

LANG = "app-lang"  # dcc.Store: UI language code
LANG_PICK = "app-lang-pick"
UNITS = "app-units"  # dcc.Store: {"temp": "C", "pressure": "hPa", "wind": "ms"}
UNIT_TEMP = "app-unit-temp"
UNIT_PRESSURE = "app-unit-pressure"
UNIT_WIND = "app-unit-wind"
SELECTED = "app-selected"  # dcc.Store: list of station ids the student picked
TICK = "app-tick"  # dcc.Interval: live refresh
VERSION = "app-data-version"  # dcc.Store: changes only when new observations arrived
URL = "app-url"
STORE_BANNER = "app-store-banner"  # says when the store is unreachable or holds no station yet
