"""/metrics and /healthz, and the teacher's `classnet rejects` and `classnet import`."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest

from gateway import cli
from gateway.metrics import Metrics, serve


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_metrics_and_healthz() -> None:
    metrics = Metrics()
    state = {"ok": False}
    server = serve(metrics, lambda: (state["ok"], "not connected to broker x"), "127.0.0.1", 0)
    port = server.server_address[1]
    try:
        metrics.rejected.labels("out_of_range").inc(3)
        metrics.stored.inc(10)
        status, text = get(port, "/metrics")
        assert status == 200
        assert 'classnet_rejected_total{reason="out_of_range"} 3.0' in text
        assert "classnet_stored_observations_total 10.0" in text
        assert get(port, "/healthz") == (503, "not connected to broker x\n")
        state["ok"] = True
        assert get(port, "/healthz")[0] == 200
    finally:
        server.shutdown()


def test_import_then_rejects_for_a_teacher(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = f"sqlite:///{tmp_path / 'obs.db'}"
    log = tmp_path / "sd.jsonl"
    log.write_text(
        '{"station": "ph-manila-01", "ts": 1763884800, "temp_c": 31.5}\n'
        '{"station": "ph-manila-01", "ts": 1763884860, "temp_c": 71.2}\n'
        '{"station": "ph-manila-01", "ts": "yesterday"}\n'
    )
    assert cli.main(["import", "--store", store, str(log)]) == 1  # some rows were rejected
    out = capsys.readouterr().out
    assert "3 rows read, 2 observations stored" in out and "rows refused (bad_ts): 1" in out
    assert "fields dropped (out_of_range): 1" in out
    assert cli.main(["rejects", "--store", store, "--station", "ph-manila-01"]) == 0
    out = capsys.readouterr().out
    assert "out_of_range" in out and "bad_ts" in out


def test_missing_import_file_is_a_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["import", "--store", "sqlite:x.db", str(tmp_path / "nope.csv")]) == 3
    assert "not found" in capsys.readouterr().err


def test_a_bug_is_one_line_naming_the_file_with_the_trace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from gateway import check_cmd as commands

    def broken(station: str, kind: str, payload: bytes) -> tuple[list[str], list[str]]:
        raise RuntimeError("a decoder bug")

    # The one way to reach the "unexpected" branch is a bug, so one is put in.
    monkeypatch.setattr(commands, "check_payload", broken)
    body = tmp_path / "msg.json"
    body.write_text('{"ts": 1763884800}')
    assert cli.main(["check-payload", "fi-a-01", str(body)]) == cli.EXIT_INTERNAL
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("classnet check-payload: unexpected error (a bug); the full trace is in ")
    trace = Path(err.split("the full trace is in ")[1].split(" - ")[0])
    assert "RuntimeError: a decoder bug" in trace.read_text()
    trace.unlink()


def test_export_of_a_station_without_metadata_with_seq(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = f"sqlite:///{tmp_path / 'obs.db'}"
    rows = tmp_path / "sd.csv"
    rows.write_text("station,ts,seq,temp_c\nfi-nometa-01,2024-06-01T10:00:00Z,41,12.5\n")
    assert cli.main(["import", "--store", store, str(rows)]) == 0
    capsys.readouterr()
    dates = ["--start", "2024-06-01", "--end", "2024-06-01"]
    assert cli.main(["export", "--store", store, *dates, "--seq"]) == 0
    out, err = capsys.readouterr()
    header, line = out.splitlines()
    assert header.startswith("station,time,local_time,seq,temp_c")
    assert line.startswith("fi-nometa-01,2024-06-01T10:00:00Z,,41,12.5")
    assert "fi-nometa-01 has no time zone" in err and "local_time left empty" in err
    assert cli.main(["summary", "--store", store, *dates]) == 3
    assert "no station with a time zone to summarise" in capsys.readouterr().err
