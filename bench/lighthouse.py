"""Lighthouse on the Now page as a phone sees it: performance and accessibility scores.

    .venv/bin/python bench/lighthouse.py [--stations 24] [--runs 3] [--path /]

Builds a SQLite store of real school towns (bench/compare_view.py's synthetic store, 2 days of
5-minute readings), serves it with `classnet dashboard` (the real app over HTTP), and runs
Lighthouse 12.2.3 (the npm package, installed on first use into ~/.cache/classnet-lighthouse)
against Debian's Chromium (/usr/bin/chromium, headless) with Lighthouse's default mobile
emulation: a mid-range phone's screen, 4x slower CPU and throttled 4G. Prints each run's scores
(0-100) and the median; the targets are 90 for both. Needs node and npm.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

# This folder holds bench/compare_view.py, named like the package: keep it off the import path.
_HERE = Path(__file__).resolve().parent
ROOT = _HERE.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
LIGHTHOUSE_VERSION = "12.2.3"
CACHE = Path.home() / ".cache" / "classnet-lighthouse"
# The metrics the performance score is made of, in ms (layout shift: a unitless score).
METRICS = ("first-contentful-paint", "largest-contentful-paint", "total-blocking-time",
           "speed-index", "cumulative-layout-shift")  # fmt: skip


def lighthouse() -> Path:
    """The Lighthouse CLI, installed with npm (pinned: 13.x needs Node 22)."""
    cli = CACHE / "node_modules" / ".bin" / "lighthouse"
    if not cli.exists():
        if shutil.which("npm") is None:
            sys.exit("bench/lighthouse.py needs node and npm (apt-get install nodejs npm)")
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "i", "-E", "--no-audit", "--no-fund", f"lighthouse@{LIGHTHOUSE_VERSION}"],
            cwd=CACHE,
            check=True,
        )
    return cli


def synthetic_store(url: str, stations: int) -> None:
    spec = importlib.util.spec_from_file_location("bench_dashboard", _HERE / "dashboard.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.synthetic_store(url, n_stations=stations, days=2, interval_s=300)


def scores(cli: Path, url: str, out: Path) -> dict[str, float]:
    """One Lighthouse run's category scores (0-100) and the metrics behind performance."""
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    # Lighthouse exits non-zero on a late DevTools answer it could work around (a loaded
    # machine): the report it wrote still counts, and says so in runtimeError.
    subprocess.run(
        [
            str(cli),
            url,
            "--only-categories=performance,accessibility",
            "--output=json",
            f"--output-path={out}",
            "--quiet",
            "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
        ],
        check=False,
        env={**os.environ, "CHROME_PATH": chromium},
    )
    report = json.loads(out.read_text())
    if report.get("runtimeError"):
        print(f"  lighthouse: {report['runtimeError']['message']}")
    found = {name: 100 * (cat["score"] or 0) for name, cat in report["categories"].items()}
    for metric in METRICS:
        found[metric] = report["audits"][metric]["numericValue"]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stations", type=int, default=24)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--path", default="/")
    args = parser.parse_args()
    from dashboard.demo import classnet, free_port, wait_for_port

    cli = lighthouse()
    with tempfile.TemporaryDirectory(prefix="classnet-lighthouse-") as tmp:
        store = f"sqlite:///{Path(tmp) / 'bench.db'}"
        synthetic_store(store, args.stations)
        port = free_port()
        proc = subprocess.Popen(
            classnet("dashboard", "--store", store, "--port", str(port)),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for_port(port, proc, "classnet dashboard", timeout_s=60)
            runs = []
            for i in range(args.runs):
                result = scores(cli, f"http://127.0.0.1:{port}{args.path}", Path(tmp) / f"{i}.json")
                runs.append(result)
                print(
                    f"run {i + 1}: "
                    + ", ".join(f"{k} {v:.{2 if v < 1 else 0}f}" for k, v in result.items())
                )
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    for name in runs[0]:
        median = statistics.median(r[name] for r in runs)
        target = "" if name in METRICS else " (target >= 90)"
        print(f"{name}: median {median:.{2 if median < 1 else 0}f} of {args.runs} runs{target}")


if __name__ == "__main__":
    main()
