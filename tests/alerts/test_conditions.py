"""What counts as a problem worth an e-mail, and the contacts that must stay private."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard.alerts.conditions import Finding, Limits, find
from dashboard.alerts.episodes import step
from dashboard.alerts.messages import digest
from ingest.domain.errors import UserError
from ingest.domain.stations import load_stations, parse_stations

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def registry(**rows: dict[str, object]) -> pd.DataFrame:
    frame = pd.DataFrame.from_dict(
        {sid.replace("_", "-"): row for sid, row in rows.items()}, orient="index"
    )
    frame["last_seen"] = pd.to_datetime(frame["last_seen"], utc=True)
    return frame


def readings(station: str, hours: float, every_min: int = 5, **fields: object) -> pd.DataFrame:
    n = int(hours * 60 / every_min)
    time = pd.date_range(end=NOW - timedelta(minutes=every_min), periods=n,
                         freq=f"{every_min}min")  # fmt: skip
    frame = pd.DataFrame({"station": station, "time": time})
    for name, value in fields.items():
        frame[name] = np.broadcast_to(np.asarray(value, dtype=float), n)
    return frame


NO_REJECTS = pd.DataFrame(columns=["station", "reason", "count"])


def test_silent_after_three_usual_intervals_but_not_before_the_minimum() -> None:
    obs = readings("fi-a-01", 3, every_min=5, temp_c=np.linspace(1, 5, 36))
    limits = Limits(min_silent=timedelta(minutes=10))
    reg = registry(fi_a_01={"last_seen": NOW - timedelta(minutes=14), "battery_v": 4.0})
    assert find(NOW, reg, obs, NO_REJECTS, ["fi-a-01"], limits) == []
    reg = registry(fi_a_01={"last_seen": NOW - timedelta(minutes=16), "battery_v": 4.0})
    assert find(NOW, reg, obs, NO_REJECTS, ["fi-a-01"], limits) == [Finding("fi-a-01", "silent")]


def test_a_stuck_sensor_for_the_whole_window_is_one_finding_naming_the_field() -> None:
    obs = readings("fi-a-01", 3.5, temp_c=12.3, rh_pct=np.linspace(40, 60, 42))
    reg = registry(fi_a_01={"last_seen": NOW - timedelta(minutes=5), "battery_v": 3.2})
    found = find(NOW, reg, obs, NO_REJECTS, ["fi-a-01"])
    assert [f.kind for f in found] == ["qc:temp_c", "battery"]
    assert found[0].detail == {"checks": "persistence"}
    assert found[1].detail == {"value": "3.20 V"}
    # Stuck for only an hour of the three: not yet.
    recent = readings("fi-a-01", 3.5, temp_c=np.r_[np.linspace(5, 9, 30), np.full(12, 9.0)])
    assert find(NOW, reg.assign(battery_v=4.0), recent, NO_REJECTS, ["fi-a-01"]) == []


def test_clock_from_rejected_time_stamps_or_readings_from_the_future() -> None:
    obs = readings("fi-a-01", 1, temp_c=np.linspace(1, 5, 12))
    reg = registry(fi_a_01={"last_seen": NOW, "battery_v": np.nan})
    rejects = pd.DataFrame({"station": ["fi-a-01"], "reason": ["bad_ts"], "count": [4]})
    assert [f.kind for f in find(NOW, reg, obs, rejects, ["fi-a-01"])] == ["clock"]
    ahead = reg.assign(last_seen=pd.Timestamp(NOW + timedelta(minutes=5)))
    assert [f.kind for f in find(NOW, ahead, obs, NO_REJECTS, ["fi-a-01"])] == ["clock"]


def test_episodes_of_different_problems_open_and_close_on_their_own() -> None:
    state, events = step({}, [Finding("fi-a-01", "silent"), Finding("fi-b-01", "battery")],
                         NOW, ["fi-a-01", "fi-b-01"])  # fmt: skip
    assert sorted(e.station for e in events) == ["fi-a-01", "fi-b-01"]
    # fi-b-01 was not checked this time (say its contact was removed): it does not "recover".
    state, events = step(state, [], NOW + timedelta(hours=1), ["fi-a-01"])
    assert [(e.kind, e.station) for e in events] == [("recovery", "fi-a-01")]
    assert list(state) == [("fi-b-01", "battery")]


def test_digest_lists_open_problems_in_the_coordinators_language() -> None:
    message = digest([("fi-a-01", "qc:rh_pct", NOW)], "fil", "Asia/Manila", "a@x.ph", "c@x.ph")
    assert message["Subject"] == "Pang-araw-araw na buod ng ClassNet: 1 bukas na problema"
    assert (
        "fi-a-01: hindi pumapasa sa quality control ang sensor ng Halumigmig (2026-12-01 20:00"
        in (message.get_content())
    )


def test_contacts_are_checked_and_never_reach_the_registry(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"contact.email='teacher at school' is not an e-mail"):
        parse_stations('[fi-tampere-01.contact]\nemail = "teacher at school"\n')
    path = tmp_path / "stations.toml"
    path.write_text(
        '[fi-tampere-01]\nlat = 61.4\nlon = 23.8\ntimezone = "Europe/Helsinki"\n'
        '[fi-tampere-01.contact]\nemail = "t@school.example.fi"\nlanguage = "fi"\n',
        encoding="utf-8",
    )
    frame = load_stations(path)
    assert "t@school.example.fi" not in frame.to_csv()
    assert not any("contact" in str(c) or "email" in str(c) for c in frame.columns)
