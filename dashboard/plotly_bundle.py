"""plotly.js for the dashboard's charts: a partial bundle with only the trace types it draws.

dcc.Graph fetches plotly.js once a page shows a graph, from the URL Dash gives it (plotly.py's
full bundle: every trace type, 4.8 MB, 1.4 MB compressed). On a phone its download and start-up
were the largest part of the Now page's blocking time (bench/lighthouse.py). The dashboard answers
that URL with this bundle instead: the same plotly.js version, built from npm's `plotly.js` with
esbuild, holding TRACES only (1.4 MB, 0.5 MB compressed). The graph still loads it when it needs
it, after the page has rendered, as Dash intends.

After upgrading plotly (tests/dashboard/test_plotly_bundle.py fails on a version mismatch) or
drawing a new trace type (add it to TRACES; the same test fails until then), rebuild with

    python -m dashboard.plotly_bundle

which needs node and npm, and pins plotly.js and esbuild in dashboard/vendor/package.json (with
its package-lock.json).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Final

from dash import Dash
from flask import Response, request
from werkzeug.wrappers import Response as BaseResponse

VENDOR: Final = Path(__file__).with_name("vendor")
BUNDLE: Final = VENDOR / "plotly.min.js"
# The plotly.js trace types the dashboard draws (go.Scatter, go.Bar, go.Scattergeo).
TRACES: Final = ("bar", "scatter", "scattergeo")
# Where Dash's dcc.Graph loads plotly.js from when the app serves its own files.
DASH_PLOTLY_PATH: Final = "_dash-component-suites/plotly/package_data/plotly.min.js"
BUILD_DIR: Final = Path.home() / ".cache" / "classnet-plotlyjs"
BANNER: Final = re.compile(r"plotly\.js v(\S+) partial bundle: ([a-z, ]+)\.")


def plotly_py_version() -> str:
    """The plotly.js version plotly.py ships, which the bundle must match (the figures the
    callbacks send are validated against it)."""
    from plotly.offline import get_plotlyjs_version

    return str(get_plotlyjs_version())


def bundle_facts(text: str) -> tuple[str, tuple[str, ...]]:
    """The plotly.js version and trace types a bundle's banner names.

    >>> bundle_facts("/*! plotly.js v4.1.1 partial bundle: bar, scatter. */")
    ('4.1.1', ('bar', 'scatter'))
    """
    found = BANNER.search(text[:500])
    if not found:
        raise ValueError("no plotly.js partial-bundle banner in the first 500 characters")
    return found.group(1), tuple(found.group(2).split(", "))


def serve(app: Dash) -> None:
    """Answer dcc.Graph's plotly.js URL with the partial bundle (compressed like every other
    script; revalidated by ETag, so a returning phone downloads it once per version). The ETag
    is weak because compression would otherwise rename it per encoding (flask-compress), and
    the browser's If-None-Match would then never match."""
    text = BUNDLE.read_bytes()

    def plotly_js() -> BaseResponse:
        response = Response(text, mimetype="text/javascript")
        response.cache_control.no_cache = True
        response.add_etag(weak=True)
        return response.make_conditional(request)

    # A static rule: Werkzeug matches it before Dash's /_dash-component-suites/<package>/<path>.
    app.server.add_url_rule(
        app.config.routes_pathname_prefix + DASH_PLOTLY_PATH, "plotly_partial_bundle", plotly_js
    )


def build() -> None:
    """Install the pinned plotly.js and esbuild into BUILD_DIR and write BUNDLE."""
    if shutil.which("npm") is None:
        sys.exit("building the plotly.js bundle needs node and npm (apt-get install nodejs npm)")
    wanted = plotly_py_version()
    pinned = json.loads((VENDOR / "package.json").read_text())["devDependencies"]["plotly.js"]
    if pinned != wanted:
        sys.exit(
            f"plotly (Python) ships plotly.js {wanted} but dashboard/vendor/package.json pins "
            f"{pinned}: set it to {wanted}, run `npm install --package-lock-only` in "
            "dashboard/vendor, then build again"
        )
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(VENDOR / name, BUILD_DIR / name)
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=BUILD_DIR, check=True)
    (BUILD_DIR / "entry.js").write_text(
        "var Plotly = require('plotly.js/lib/core');\n"
        "Plotly.register([\n"
        + "".join(
            f"  require('plotly.js/lib/{trace}'),\n" for trace in TRACES if trace != "scatter"
        )
        + "]);\nmodule.exports = Plotly;\n"
    )
    banner = (
        f"/*! plotly.js v{wanted} partial bundle: {', '.join(TRACES)}. Built for ClassNet "
        "Weather by `python -m dashboard.plotly_bundle`; plotly.js is MIT-licensed, "
        "Copyright Plotly, Inc. */"
    )
    subprocess.run(
        [
            str(BUILD_DIR / "node_modules" / ".bin" / "esbuild"),
            "entry.js",
            "--bundle",
            "--minify",
            # What plotly.js's own build (its esbuild-config.js) sets, less the plugins for
            # trace types not bundled here (WebGL shaders, the map's stylesheet).
            "--format=iife",
            "--global-name=Plotly",
            "--target=es2016",
            "--define:global=window",
            "--define:define.amd=false",
            "--loader:.css=empty",
            "--legal-comments=eof",  # the bundled libraries' licence notices
            f"--banner:js={banner}",
            f"--outfile={BUNDLE}",
        ],
        cwd=BUILD_DIR,
        check=True,
    )


if __name__ == "__main__":
    build()
