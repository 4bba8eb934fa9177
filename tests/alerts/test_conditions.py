"""What counts as a problem worth an e-mail, and the contacts that must stay private."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard.alerts.conditions import Finding, Limits, find
from dashboard.alerts.episodes import Event, step
from dashboard.alerts.messages import compose, digest
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


def outbox_registry(waiting: float, capacity: float = 2304) -> pd.DataFrame:
    return registry(fi_a_01={"last_seen": NOW, "outbox": waiting, "outbox_max": capacity})


def test_outbox_above_half_opens_an_episode_that_ends_below_a_quarter() -> None:
    obs = readings("fi-a-01", 1, every_min=5, temp_c=np.linspace(1, 5, 12))
    half = outbox_registry(1152)
    assert find(NOW, half, obs, NO_REJECTS, ["fi-a-01"]) == []  # exactly half: not above
    (found,) = find(NOW, outbox_registry(1153), obs, NO_REJECTS, ["fi-a-01"])
    assert found == Finding("fi-a-01", "outbox")
    assert found.detail == {"waiting": "1153", "capacity": "2304", "interval_s": "300"}
    # Open: it stays open down to a quarter (hysteresis), and ends below it.
    is_open = {("fi-a-01", "outbox")}
    assert find(NOW, half, obs, NO_REJECTS, ["fi-a-01"], open_=is_open) != []
    quarter = outbox_registry(576)
    assert find(NOW, quarter, obs, NO_REJECTS, ["fi-a-01"], open_=is_open) != []
    assert find(NOW, outbox_registry(575), obs, NO_REJECTS, ["fi-a-01"], open_=is_open) == []
    # A station that never reported its outbox, or reported no capacity, is never judged.
    for reg in (outbox_registry(np.nan), outbox_registry(2000, np.nan)):
        assert find(NOW, reg, obs, NO_REJECTS, ["fi-a-01"], open_=is_open) == []
    # Without recent readings the pace is not known: the e-mail then gives no time.
    (found,) = find(NOW, outbox_registry(2000), obs.iloc[0:0], NO_REJECTS, ["fi-a-01"])
    assert "interval_s" not in found.detail


def test_a_level_wavering_around_half_is_one_episode() -> None:
    obs = readings("fi-a-01", 1, temp_c=np.linspace(1, 5, 12))
    state: dict = {}
    kinds = []
    for hour, share in enumerate((0.3, 0.55, 0.45, 0.6, 0.4, 0.3, 0.2, 0.3, 0.45)):
        findings = find(NOW, outbox_registry(share * 2304), obs, NO_REJECTS, ["fi-a-01"],
                        open_=state)  # fmt: skip
        state, events = step(state, findings, NOW + timedelta(hours=hour), ["fi-a-01"])
        kinds += [e.kind for e in events]
    assert kinds == ["alert", "recovery"]


def test_the_outbox_e_mail_says_how_full_and_how_long_until_readings_are_lost() -> None:
    detail = {"waiting": "1500", "capacity": "2304", "interval_s": "300"}
    alert = Event("alert", "fi-a-01", "outbox", NOW, detail)
    english = compose(alert, "Hervanta", "en", "Europe/Helsinki", NOW, "a@x.fi", "b@x.fi")
    assert english["Subject"] == (
        "ClassNet: fi-a-01 needs you: readings are piling up in the station (its outbox is filling)"
    )
    text = english.get_content()
    # 804 more readings at one every 5 minutes: 67 hours, "3 days" in round words.
    assert "1,500 of 2,304 readings wait to be sent." in text
    assert "a reading every 5 minutes: in about 3 days its outbox is full" in text
    assert "What to check: the Wi-Fi signal where the station stands" in text
    finnish = compose(alert, "Hervanta", "fi", "Europe/Helsinki", NOW, "a@x.fi", "b@x.fi")
    assert "1\xa0500/2\xa0304 lukemaa odottaa" in finnish.get_content()  # Babel's Finnish digits
    assert "noin 3 päivää kuluttua" in finnish.get_content()
    full = Event("alert", "fi-a-01", "outbox", NOW, detail | {"waiting": "2310"})
    text = compose(full, "Hervanta", "en", "UTC", NOW, "a@x.fi", "b@x.fi").get_content()
    assert "losing its oldest readings now" in text and "in about" not in text
    recovery = Event("recovery", "fi-a-01", "outbox", NOW)
    message = compose(recovery, "Hervanta", "en", "UTC", NOW, "a@x.fi", "b@x.fi")
    assert message["Subject"] == (
        "ClassNet: fi-a-01 is fine again: readings are piling up in the station (its outbox is "
        "filling)"
    )


def test_a_contact_can_have_alerts_in_every_language_the_dashboard_speaks() -> None:
    from dashboard.i18n import LANGUAGES
    from ingest.domain import contacts

    assert tuple(LANGUAGES) == contacts.LANGUAGES
