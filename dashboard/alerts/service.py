"""The `classnet alerts` loop: check the stations that have a contact, queue one e-mail per
episode, send what is queued, remember open episodes across restarts."""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from dashboard.alerts.conditions import Limits, find
from dashboard.alerts.episodes import Event, step
from dashboard.alerts.messages import compose, digest
from dashboard.alerts.outbox import Outbox, Smtp
from firmware import wire
from ingest import Store
from ingest.domain.contacts import Contact, load_contacts
from ingest.domain.qc import QC_TABLE

log = logging.getLogger(__name__)
# Readings looked at per check: enough to know a station's usual interval.
_LOOKBACK = timedelta(hours=6)


@dataclass(frozen=True)
class Digest:
    """A coordinator's daily list of open problems, sent at `hour` on their clock."""

    to: str
    language: str = "en"
    timezone: str = "UTC"
    hour: int = 7


@dataclass
class State:
    """Open episodes ((station, problem) → since) and the last digest date, kept in a JSON file
    so a restart neither repeats an alert nor forgets to send the recovery."""

    path: Path
    open: dict[tuple[str, str], datetime] = field(default_factory=dict)
    digest_sent: date | None = None

    @classmethod
    def load(cls, path: Path) -> State:
        if not path.exists():
            return cls(path)
        doc = json.loads(path.read_text(encoding="utf-8"))
        opened = {(s, p): datetime.fromisoformat(t) for s, p, t in doc.get("open", [])}
        sent = doc.get("digest_sent")
        return cls(path, opened, date.fromisoformat(sent) if sent else None)

    def save(self) -> None:
        doc = {
            "open": [[s, p, t.isoformat()] for (s, p), t in sorted(self.open.items())],
            "digest_sent": self.digest_sent.isoformat() if self.digest_sent else None,
        }
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc, indent=1), encoding="utf-8")
        os.replace(tmp, self.path)


@dataclass
class Alerts:
    store: Store
    stations_path: Path | None
    outbox: Outbox
    state: State
    sender: str
    limits: Limits = field(default_factory=Limits)
    digest: Digest | None = None

    def check(self, now: datetime | None = None) -> list[Event]:
        """One round: find problems of stations with a contact, queue e-mails for episodes that
        started or ended. E-mails are on disk before the episode state is saved: a crash in
        between repeats an e-mail rather than losing one."""
        now = now or datetime.now(UTC)
        contacts = {
            s: c for s, c in load_contacts(self.stations_path).items() if wire.is_station_id(s)
        }
        registry = self.store.stations(self.stations_path)
        events: list[Event] = []
        if contacts:
            since = now - max(_LOOKBACK, self.limits.qc_window)
            fields = [f for f in QC_TABLE if f in wire.FIELDS]
            recent = self.store.read(since, now + timedelta(minutes=1), list(contacts), fields)
            rejects = self.store.reject_counts(start=now - self.limits.qc_window)
            findings = find(now, registry, recent, rejects, contacts, self.limits, self.state.open)
            self.state.open, events = step(self.state.open, findings, now, contacts)
            for event in events:
                self._queue(event, contacts[event.station], registry, now)
        self._digest(now)
        self.state.save()
        self.outbox.metrics.checks.inc()
        return events

    def _queue(self, event: Event, contact: Contact, registry: pd.DataFrame, now: datetime) -> None:
        row = registry.loc[event.station] if event.station in registry.index else None
        name = str(row["name"]) if row is not None and pd.notna(row["name"]) else event.station
        zone = contact.timezone or (
            str(row["timezone"]) if row is not None and pd.notna(row["timezone"]) else "UTC"
        )
        message = compose(event, name, contact.language, zone, now, self.sender, contact.email)
        self.outbox.put(message, event.kind)
        log.info("%s for %s (%s) queued to %s", event.kind, event.station, event.problem,
                 contact.email)  # fmt: skip

    def _digest(self, now: datetime) -> None:
        if self.digest is None:
            return
        local = now.astimezone(ZoneInfo(self.digest.timezone))
        if local.hour < self.digest.hour or self.state.digest_sent == local.date():
            return
        rows = [(s, p, t) for (s, p), t in self.state.open.items()]
        d = self.digest
        self.outbox.put(digest(rows, d.language, d.timezone, self.sender, d.to), "digest")
        self.state.digest_sent = local.date()

    def run(self, smtp: Smtp, every_s: float, stop: threading.Event) -> None:
        """Check and send every `every_s` seconds until `stop` is set."""
        while not stop.is_set():
            try:
                self.check()
            except Exception:  # a bad read must not end the service: log it, try again
                log.exception("alerts check failed; trying again in %.0f s", every_s)
            self.outbox.flush(smtp)
            stop.wait(every_s)
