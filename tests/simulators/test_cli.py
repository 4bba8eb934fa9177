"""`classnet simulate` without a broker: the stations file and the deterministic dry run."""

from __future__ import annotations

from pathlib import Path

from gateway.cli import EXIT_USER_ERROR, main
from ingest.domain.stations import load_stations
from simulators.simulate_cmd import load_record

NOW = 1761955200


def test_write_stations_for_the_demo(tmp_path: Path) -> None:
    path = tmp_path / "stations.toml"
    assert main(["simulate", "--count", "50", "--write-stations", str(path)]) == 0
    assert len(load_stations(path)) == 50


def test_dry_run_record_is_the_same_for_the_same_seed(tmp_path: Path) -> None:
    def dry(name: str, seed: str) -> list[dict]:
        path = tmp_path / name
        argv = [
            "simulate",
            "--count",
            "5",
            "--start",
            "2h",
            "--duration",
            "1h",
            "--fast",
            "--now",
            str(NOW),
            "--seed",
            seed,
            "--record",
            str(path),
            "--spikes",
            "all",
        ]
        assert main(argv) == 0
        return load_record(path)

    a, b, c = dry("a.jsonl", "9"), dry("b.jsonl", "9"), dry("c.jsonl", "10")
    assert a == b and a != c
    assert sum(1 for r in a if r["topic"].endswith("/obs")) == 5 * 60


def test_backfill_sends_days_in_arrays(tmp_path: Path) -> None:
    path = tmp_path / "backfill.jsonl"
    argv = [
        "simulate",
        "--count",
        "2",
        "--backfill",
        "1",
        "--now",
        str(NOW),
        "--record",
        str(path),
    ]
    assert main(argv) == 0
    obs = [r for r in load_record(path) if r["topic"].endswith("/obs")]
    assert all(r["payload"].startswith("[") for r in obs)
    assert sum(r["payload"].count('"ts"') for r in obs) == 2 * 1440


def test_bad_fault_flag_exits_with_a_sentence(capsys) -> None:
    code = main(["simulate", "--count", "1", "--record", "-", "--spikes", "all=7"])
    assert code == EXIT_USER_ERROR
    assert "share of 0..1" in capsys.readouterr().err
