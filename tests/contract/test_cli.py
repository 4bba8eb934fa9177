"""The `classnet` command as a user meets it (run as a real subprocess)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from gateway.cli import COMPONENT_CLIS, build_parser


def classnet(*args: str, stdin: str = "", cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args],
        input=stdin, capture_output=True, text=True, timeout=60, cwd=cwd,
    )  # fmt: skip


def test_help_lists_every_subcommand_with_a_description() -> None:
    out = classnet("--help")
    assert out.returncode == 0
    commands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert commands, COMPONENT_CLIS
    for name in commands:
        assert name in out.stdout
    for action in build_parser()._subparsers._group_actions[0]._choices_actions:  # type: ignore[union-attr]
        assert action.help, f"classnet {action.dest} has no one-line description"


def test_version() -> None:
    out = classnet("--version")
    assert out.returncode == 0
    assert out.stdout.startswith("classnet ")


def test_check_payload_names_what_is_dropped() -> None:
    out = classnet("check-payload", "fi-tampere-01", stdin='{"ts": 1763884800, "temp_c": 412.0}')
    assert out.returncode == 1
    assert "temp_c=412.0 outside -60..60 °C; field dropped" in out.stdout


def test_check_stations_without_a_file_says_what_to_do(tmp_path: Path) -> None:
    out = classnet("check-stations", cwd=tmp_path)
    assert out.returncode == 3
    assert "give one with --stations FILE" in out.stderr
    assert "Traceback" not in out.stderr
