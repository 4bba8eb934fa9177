"""The dashboard (and summary/export) have no write path: every store they open is read-only,
and a read-only store refuses writes at the storage layer itself."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest import StoreError, open_store
from ingest.batch import Batch

DASHBOARD = Path(__file__).resolve().parents[2] / "dashboard"


def _store_calls() -> list[tuple[str, int, ast.Call]]:
    calls = []
    for path in sorted(DASHBOARD.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name | ast.Attribute)
                and (getattr(node.func, "id", None) or getattr(node.func, "attr", None))
                == "open_store"
            ):
                calls.append((str(path.relative_to(DASHBOARD.parent)), node.lineno, node))
    return calls


def test_every_store_the_dashboard_opens_is_read_only() -> None:
    calls = _store_calls()
    assert calls, "the dashboard opens no store? the scan is looking in the wrong place"
    for where, line, call in calls:
        flags = {k.arg: k.value for k in call.keywords}
        assert isinstance(flags.get("read_only"), ast.Constant), f"{where}:{line}"
        assert flags["read_only"].value is True, f"{where}:{line} opens a writable store"


def test_no_dashboard_module_calls_a_store_write() -> None:
    for path in sorted(DASHBOARD.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Attribute) and node.attr == "write":
                receiver = ast.unparse(node.value)
                assert "store" not in receiver.lower(), f"{path}:{node.lineno}: {receiver}.write"


def _one_observation() -> Batch:
    from firmware import wire
    from gateway.decode_batch import decode_messages

    body = wire.encode(wire.observation(1_763_884_800, 1, temp_c=20.5))
    messages = [(wire.topic("fi-readonly-01", "obs"), body)]
    return decode_messages(messages, now=1_763_884_900, now_ms=1_763_884_900_000).batch


def test_read_only_sqlite_refuses_writes_and_keeps_the_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'classnet.db'}"
    writer = open_store(url)
    writer.write(_one_observation())
    reader = open_store(url, read_only=True)
    with pytest.raises(StoreError):
        reader.write(_one_observation())
    start, end = datetime(2020, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
    assert len(reader.read(start, end)) == 1
    reader.close()
    writer.close()


def test_a_reader_never_creates_a_store(tmp_path: Path) -> None:
    # Issue #15: `dashboard --store sqlite:nope.db` used to create an empty database silently.
    missing = tmp_path / "new.db"
    with pytest.raises(StoreError, match=f"no store at {missing}: check the path in --store"):
        open_store(f"sqlite:{missing}", read_only=True)
    assert list(tmp_path.iterdir()) == []


def test_read_only_influxdb_store_refuses_writes(influxdb, influx_db: str) -> None:
    reader = open_store(f"influxdb://127.0.0.1:{influxdb.port}/{influx_db}", read_only=True)
    with pytest.raises(StoreError, match="read-only"):
        reader.write(_one_observation())
