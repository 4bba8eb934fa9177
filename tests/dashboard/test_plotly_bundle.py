"""The dashboard's partial plotly.js bundle (dashboard/plotly_bundle.py): the version plotly.py
validates figures against, every trace type a page draws, and served where dcc.Graph looks."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from dashboard import plotly_bundle
from dashboard.data import Data
from ingest import open_store
from tests.dashboard.browsing import PAGES, open_page, set_language

DASHBOARD = Path(plotly_bundle.__file__).parent
FIGURE_TRACE = re.compile(r"\bgo\.([A-Z][A-Za-z0-9]*)\(")
BUILD = "python -m dashboard.plotly_bundle"


def drawn_trace_types() -> set[str]:
    """The trace types the dashboard's code makes figures of (go.Scatter -> scatter)."""
    found = {
        name.lower()
        for path in DASHBOARD.rglob("*.py")
        for name in FIGURE_TRACE.findall(path.read_text(encoding="utf-8"))
    }
    return found - {"figure"}


def test_the_bundle_is_the_plotly_js_plotly_py_ships() -> None:
    version, _ = plotly_bundle.bundle_facts(plotly_bundle.BUNDLE.read_text(encoding="utf-8"))
    pinned = json.loads((plotly_bundle.VENDOR / "package.json").read_text())
    wanted = plotly_bundle.plotly_py_version()
    assert pinned["devDependencies"]["plotly.js"] == wanted, f"pin plotly.js {wanted}, then {BUILD}"
    assert version == wanted, f"the bundle is plotly.js {version}, plotly.py's {wanted}: {BUILD}"


def test_the_bundle_holds_every_trace_type_the_dashboard_draws() -> None:
    drawn = drawn_trace_types()
    assert {"scatter", "scattergeo", "bar"} <= drawn  # the scan itself still finds them
    _, bundled = plotly_bundle.bundle_facts(plotly_bundle.BUNDLE.read_text(encoding="utf-8"))
    missing = drawn - set(plotly_bundle.TRACES)
    assert not missing, f"add {sorted(missing)} to plotly_bundle.TRACES, then {BUILD}"
    assert set(bundled) == set(plotly_bundle.TRACES), f"the bundle is older than TRACES: {BUILD}"


def test_dcc_graph_s_plotly_url_answers_the_bundle(tmp_path: Path) -> None:
    from dashboard.app import create_app

    # No request goes through the app's client: Dash would attach every page's callbacks to
    # the first app that serves one, and later tests' apps would have none.
    server = create_app(Data(open_store(f"sqlite:///{tmp_path / 'empty.db'}"))).server
    path = "/" + plotly_bundle.DASH_PLOTLY_PATH
    endpoint, _ = server.url_map.bind("localhost").match(path)
    assert endpoint == "plotly_partial_bundle"  # not Dash's own files

    def answer(headers: dict[str, str]) -> Any:
        with server.test_request_context(path, headers=headers):
            return server.process_response(server.make_response(server.view_functions[endpoint]()))

    first = answer({"Accept-Encoding": "br"})
    assert first.status_code == 200
    assert first.headers["Content-Encoding"] == "br"
    assert len(first.get_data()) < 600_000  # compressed: the bundle is 1.4 MB
    assert answer({"If-None-Match": first.headers["ETag"]}).status_code == 304


@pytest.mark.slow
def test_the_page_draws_with_the_bundle(browser: Any, dashboard: Any) -> None:
    """In the browser, the plotly.js the map drew with is the partial bundle, not the full one."""
    set_language(browser, dashboard.url, "en")
    heading, ready = PAGES["/"]
    open_page(browser, dashboard.url + "/", heading, ready)
    traces = browser.execute_script("return Object.keys(window.Plotly.PlotSchema.get().traces)")
    assert sorted(traces) == sorted(plotly_bundle.TRACES)
    version = browser.execute_script("return window.Plotly.version")
    assert version == plotly_bundle.plotly_py_version()
    # The toolbar's "download as PNG" still works: Plotly.toImage is in the bundle's core.
    png = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "Plotly.toImage(document.querySelector('#now-map .js-plotly-plot'), {format: 'png'})"
        "  .then(done, e => done(String(e)));"
    )
    assert png.startswith("data:image/png;base64,"), png[:200]
