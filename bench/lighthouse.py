"""Lighthouse on the Now page as a phone sees it: performance and accessibility scores.

    .venv/bin/python bench/lighthouse.py [--stations 24] [--runs 3] [--path /] [--reports DIR]

Builds a SQLite store of real school towns (bench/compare_view.py's synthetic store, 2 days of
5-minute readings), serves it with `classnet dashboard` (the real app over HTTP), and runs
Lighthouse 12.2.3 (the npm package, installed on first use into ~/.cache/classnet-lighthouse)
against Debian's Chromium (/usr/bin/chromium, headless) with Lighthouse's default mobile
emulation: a mid-range phone's screen, 4x slower CPU and throttled 4G. Prints each run's scores
(0-100), the metrics behind performance and where the time and bytes went (main-thread work,
script time and bytes by file), then the medians; the targets are 90 for both. `--reports DIR`
keeps each run's Lighthouse JSON report. Needs node and npm.
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
from typing import Any

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
    spec = importlib.util.spec_from_file_location("bench_compare_view", _HERE / "compare_view.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.synthetic_store(url, n_stations=stations, days=2, interval_s=300)


def diagnostics(report: dict[str, Any], top: int = 4) -> list[str]:
    """Where one run's time and bytes went: main-thread work by kind, script time by file, and
    the bytes sent by file (what the metrics above come from)."""
    audits = report["audits"]

    def short(url: str) -> str:
        return url.split("?")[0].rsplit("/", 1)[-1] or url

    work = audits["mainthread-work-breakdown"]
    boot = audits["bootup-time"]
    weight = audits["total-byte-weight"]
    return [
        f"  main thread {work['numericValue']:.0f} ms: "
        + ", ".join(
            f"{i['groupLabel']} {i['duration']:.0f}" for i in work["details"]["items"][:top]
        ),
        f"  script time {boot['numericValue']:.0f} ms: "
        + ", ".join(
            f"{short(i['url'])} {i['total']:.0f} (eval {i['scripting']:.0f}, parse "
            f"{i['scriptParseCompile']:.0f})"
            for i in boot["details"]["items"][:top]
        ),
        f"  bytes sent {weight['numericValue'] / 1e6:.2f} MB: "
        + ", ".join(
            f"{short(i['url'])} {i['totalBytes'] / 1e3:.0f} kB"
            for i in weight["details"]["items"][:top]
        ),
    ]


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
    print("\n".join(diagnostics(report)))
    found: dict[str, float] = {
        name: 100 * (cat["score"] or 0) for name, cat in report["categories"].items()
    }
    for metric in METRICS:
        found[metric] = report["audits"][metric]["numericValue"]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stations", type=int, default=24)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--path", default="/")
    parser.add_argument("--reports", type=Path, help="keep each run's Lighthouse JSON report here")
    args = parser.parse_args()
    from dashboard.demo import classnet, free_port, wait_for_port

    cli = lighthouse()
    if args.reports:
        args.reports.mkdir(parents=True, exist_ok=True)
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
                report = (args.reports or Path(tmp)) / f"lighthouse-{i + 1}.json"
                result = scores(cli, f"http://127.0.0.1:{port}{args.path}", report)
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
