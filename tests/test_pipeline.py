"""The whole chain as a coordinator runs it, each part a real process: simulated schools →
Mosquitto → `classnet gateway` → SQLite → `classnet summary` / `classnet export`."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ingest import open_store
from tests import servers
from tests.waiting import wait_until


def classnet(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args],
        capture_output=True, text=True, timeout=300, cwd=cwd,
    )  # fmt: skip


@pytest.fixture
def gateway(mosquitto: servers.Server, tmp_path: Path) -> Iterator[str]:
    store = f"sqlite:///{tmp_path / 'classnet.db'}"
    with (tmp_path / "gateway.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", "gateway", "--broker",
             f"mqtt://127.0.0.1:{mosquitto.port}", "--store", store, "--batch-ms", "200",
             "--spool-dir", str(tmp_path / "spool"), "--metrics-port", "-1"],
            stdout=subprocess.DEVNULL, stderr=log, cwd=tmp_path,
        )  # fmt: skip
        yield store
        proc.terminate()
        proc.wait(30)


def _wait_for_count(store_url: str, expected: int, timeout: float = 120) -> int:
    store = open_store(store_url)
    start, end = datetime(2020, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
    counted = [0]

    def enough() -> bool:
        counted[0] = len(store.read(start, end))
        return counted[0] >= expected

    try:
        wait_until(enough, timeout, f"{expected} observations in the store", every=0.2)
    except AssertionError:
        pass  # the caller's assertion names the count it got
    finally:
        store.close()
    return counted[0]


def test_simulated_schools_reach_the_store_and_the_summary(
    mosquitto: servers.Server, gateway: str, tmp_path: Path
) -> None:
    record = tmp_path / "sent.jsonl"
    sim = classnet(
        "simulate", "--broker", f"mqtt://127.0.0.1:{mosquitto.port}", "--count", "6",
        "--start", "1d", "--duration", "1d", "--fast", "--record", str(record),
        cwd=tmp_path,
    )  # fmt: skip
    assert sim.returncode == 0, sim.stderr
    sent = [json.loads(line) for line in record.read_text().splitlines()]
    observations = [m for m in sent if m["topic"].endswith("/obs")]
    expected = sum(
        len(body) if isinstance(body := json.loads(m["payload"]), list) else 1 for m in observations
    )
    assert expected >= 6 * 24 * 60 * 0.9  # about a day of 1-minute readings each
    assert _wait_for_count(gateway, expected) == expected

    store = open_store(gateway)
    try:
        # Faults off: the gateway rejected nothing.
        assert store.reject_counts().empty
        registry = store.stations()
    finally:
        store.close()
    stations = {m["station"] for m in observations}
    assert stations <= set(registry.index)
    # The simulator said goodbye on a clean stop, as a station's last will would.
    assert set(registry.loc[sorted(stations), "state"]) == {"offline"}
    assert registry.loc[sorted(stations), "timezone"].notna().all()  # from the meta messages

    # --end is a local date: east of UTC (Manila, Tokyo) today may already be tomorrow.
    last_local_day = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    summary = classnet(
        "summary", "--store", gateway, "--start", "2020-01-01", "--end", last_local_day,
        "--format", "csv", cwd=tmp_path,
    )  # fmt: skip
    assert summary.returncode == 0, summary.stderr
    rows = list(csv.DictReader(io.StringIO(summary.stdout)))
    assert {r["station"] for r in rows} == stations
    assert sum(int(r["n_obs"]) for r in rows) == expected

    export = classnet(
        "export", "--store", gateway, "--start", "2020-01-01", "--end", last_local_day, "--derived",
        cwd=tmp_path,
    )  # fmt: skip
    assert export.returncode == 0, export.stderr
    header = export.stdout.splitlines()[0].split(",")
    for column in ("time", "local_time", "dewpoint_c", "sea_level_pressure_hpa", "heat_index_c"):
        assert column in header
    assert len(export.stdout.splitlines()) == expected + 1
