"""Every command line the README, the docs and the bench scripts' own usage text show runs as
written: each `classnet <command>` answers `--help` and knows every option the docs give it, and
each `python bench/<script>.py` starts (its imports resolve: a script named after one of our
packages once shadowed it) and knows its documented options.

The lines are read from the documents themselves, so a renamed option or script fails here
before a teacher or coordinator meets it."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BENCH_USAGE = sorted((ROOT / "bench").glob("*.py"))
PACKAGES = ["firmware", "gateway", "ingest", "dashboard", "simulators"]

# `classnet <command> [options]` up to the end of a code span, table cell or shell comment.
# (An error message quoted in the docs, "classnet flash: …", is not a command line.)
CLASSNET = re.compile(r"(?<![\w/.-])classnet ((?:[a-z][a-z-]*)(?![\w:-])(?:[^`|#\n]*))")
BENCH = re.compile(r"((?:PYTHONPATH=\. )?(?:\.venv/bin/)?python3? bench/[a-z_]+\.py)([^`|#\n]*)")
OPTION = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*)")


def _documented_lines() -> list[tuple[str, str]]:
    """(source, line) for every document line and every bench script's usage docstring line."""
    lines = []
    for path in DOCUMENTS:
        lines += [(path.name, line) for line in path.read_text(encoding="utf-8").splitlines()]
    for path in BENCH_USAGE:
        text = path.read_text(encoding="utf-8")
        doc = re.match(r'\s*(?:#.*\n)*\s*"""(.*?)"""', text, re.S)
        if doc:
            lines += [(f"bench/{path.name}", line) for line in doc.group(1).splitlines()]
    return lines


def _classnet_uses() -> dict[str, set[str]]:
    uses: dict[str, set[str]] = {}
    for _, line in _documented_lines():
        for match in CLASSNET.finditer(line):
            command, _, rest = match.group(1).partition(" ")
            uses.setdefault(command, set()).update(OPTION.findall(rest))
    return uses


def _bench_uses() -> dict[str, set[str]]:
    uses: dict[str, set[str]] = {}
    for _, line in _documented_lines():
        for match in BENCH.finditer(line):
            uses.setdefault(match.group(1), set()).update(OPTION.findall(match.group(2)))
    return uses


def _classnet() -> list[str]:
    script = Path(sys.executable).parent / "classnet"
    return [str(script)] if script.exists() else [sys.executable, "-m", "gateway.cli"]


@cache
def _help(argv: tuple[str, ...], env_pythonpath: bool) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if env_pythonpath:
        env["PYTHONPATH"] = "."
    return subprocess.run(
        [*argv, "--help"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_documents_name_commands_and_scripts() -> None:
    # The extraction itself: if the patterns stopped matching, every test below would vanish.
    assert {"demo", "gateway", "flash", "import", "summary"} <= set(_classnet_uses())
    assert any("bench/compare.py" in line for line in _bench_uses())


@pytest.mark.parametrize("command", sorted(_classnet_uses()))
def test_documented_classnet_command_runs(command: str) -> None:
    done = _help((*_classnet(), command), False)
    assert done.returncode == 0, f"classnet {command} --help failed:\n{done.stderr}"
    unknown = sorted(o for o in _classnet_uses()[command] if o not in done.stdout)
    assert not unknown, f"the docs give `classnet {command}` options it does not have: {unknown}"


@pytest.mark.parametrize("line", sorted(_bench_uses()))
def test_documented_bench_script_starts(line: str) -> None:
    words = shlex.split(line)
    with_path = words[0] == "PYTHONPATH=."
    script = words[-1]
    done = _help((sys.executable, script), with_path)
    assert done.returncode == 0, f"`{line} --help` failed:\n{done.stderr[-2000:]}"
    unknown = sorted(o for o in _bench_uses()[line] if o not in done.stdout)
    assert not unknown, f"the docs give `{script}` options it does not have: {unknown}"


def test_no_bench_script_shadows_a_package() -> None:
    # `python bench/x.py` puts bench/ first on sys.path: bench/compare_view.py once hid the
    # dashboard package from bench/compare.py.
    shadows = [p.name for p in BENCH_USAGE if p.stem in PACKAGES]
    assert not shadows, f"rename these bench scripts, they hide our packages: {shadows}"
