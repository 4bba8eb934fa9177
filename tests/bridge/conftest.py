"""Fixtures for the bridge: the real firmware on a pty, the bridge in this process, a real
Mosquitto, the real gateway writing to SQLite."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway.bridge.bridge import Bridge, PortSpec
from gateway.bridge.session import StationSession
from ingest import open_store
from ingest.domain.broker import BrokerURL
from tests import servers
from tests.bridge.harness import Station
from tests.firmware.conftest import subscribe  # noqa: F401 (a fixture)
from tests.gateway.chain import start_gateway


class RunningBridge:
    def __init__(
        self, port: Path, broker_port: int, now: Callable[[], float], station: str
    ) -> None:
        url = BrokerURL("127.0.0.1", broker_port, user=station)  # the bridge holds its login
        self.bridge = Bridge(
            PortSpec(str(port)), station, lambda st: StationSession(url, st), now=now
        )
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.bridge.run, args=(self.stop,), daemon=True)
        self.thread.start()

    @property
    def counts(self) -> dict[str, int]:
        return self.bridge.link.counts

    def close(self) -> None:
        self.stop.set()
        self.thread.join(15)


@pytest.fixture
def run_bridge(mosquitto: servers.Server) -> Iterator[Callable[..., RunningBridge]]:
    bridges: list[RunningBridge] = []

    def start(port: Path, station: str, now: Callable[[], float] = time.time) -> RunningBridge:
        b = RunningBridge(port, mosquitto.port, now, station)
        bridges.append(b)
        return b

    yield start
    for b in bridges:
        b.close()


@pytest.fixture
def start_serial_station(micropython: str) -> Iterator[Callable[[Path, int], Station]]:
    stations: list[Station] = []

    def start(fs: Path, fd: int) -> Station:
        s = Station(micropython, fs, fd)
        stations.append(s)
        return s

    yield start
    for s in stations:
        s.kill()


class Chain:
    """The real gateway on the test broker, writing to a SQLite store."""

    def __init__(self, broker_port: int, tmp_path: Path) -> None:
        self.url = f"sqlite:///{tmp_path / 'obs.db'}"
        self.gateway = start_gateway(
            broker_port, open_store(self.url), tmp_path / "spool", batch_ms=200
        )

    def stamps(self, station: str) -> list[float]:
        """The stored observations' times (UTC Unix seconds), oldest first."""
        store = open_store(self.url)
        try:
            end = datetime.now(UTC) + timedelta(days=3)
            frame = store.read(end - timedelta(days=30), end, stations=[station])
        finally:
            store.close()
        return [t.timestamp() for t in frame["time"]]


@pytest.fixture
def chain(mosquitto: servers.Server, tmp_path: Path) -> Iterator[Chain]:
    c = Chain(mosquitto.port, tmp_path)
    yield c
    c.gateway.stop()
