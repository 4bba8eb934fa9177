"""From findings to e-mails: one alert when a problem starts, one recovery note when it ends,
nothing in between however often the station is checked."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from dashboard.alerts.conditions import Finding


@dataclass(frozen=True)
class Event:
    kind: str  # "alert" or "recovery"
    station: str
    problem: str
    since: datetime
    detail: dict[str, str] = field(default_factory=dict)


def step(
    open_: Mapping[tuple[str, str], datetime],
    findings: Iterable[Finding],
    now: datetime,
    checked: Iterable[str],
) -> tuple[dict[tuple[str, str], datetime], list[Event]]:
    """The open episodes after this check, and the events to send. Only stations in `checked`
    can recover (a station not checked this time keeps its episodes open).

    >>> from datetime import UTC
    >>> t0, t1, t2 = (datetime(2026, 12, 1, h, tzinfo=UTC) for h in (8, 9, 10))
    >>> silent = [Finding("fi-a", "silent")]
    >>> state, events = step({}, silent, t0, ["fi-a"])
    >>> [e.kind for e in events]
    ['alert']
    >>> state, events = step(state, silent, t1, ["fi-a"])
    >>> events
    []
    >>> state, events = step(state, [], t2, ["fi-a"])
    >>> [(e.kind, e.since.hour) for e in events], state
    ([('recovery', 8)], {})
    """
    now_open = {(f.station, f.kind): f for f in findings}
    checked = set(checked)
    state = dict(open_)
    events: list[Event] = []
    for key, finding in now_open.items():
        if key not in state:
            state[key] = now
            events.append(Event("alert", key[0], key[1], now, finding.detail))
    for key in list(state):
        if key not in now_open and key[0] in checked:
            events.append(Event("recovery", key[0], key[1], state.pop(key)))
    return state, events
