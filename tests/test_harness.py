"""The harness itself: each fixture starts the real thing, and it answers."""

from __future__ import annotations

import subprocess

from tests import servers
from tests.mqtt_clients import Subscriber


def test_real_mosquitto_delivers_qos1(mosquitto: servers.Server) -> None:
    sub = Subscriber(mosquitto.port, "classnet/v1/+/obs")
    try:
        pub = subprocess.run(
            [
                "mosquitto_pub",
                "-p",
                str(mosquitto.port),
                "-q",
                "1",
                "-t",
                "classnet/v1/fi-harness-01/obs",
                "-m",
                '{"ts": 1763884800}',
            ],
            capture_output=True,
            text=True,
            timeout=10,
        )
        assert pub.returncode == 0, pub.stderr
        sub.wait_for(1, timeout=5)
    finally:
        sub.close()
    got = sub.payloads()
    assert got == [b'{"ts": 1763884800}']


def test_real_influxdb_writes_and_queries(influxdb: servers.Server, influx_db: str) -> None:
    import urllib.request

    req = urllib.request.Request(
        f"http://127.0.0.1:{influxdb.port}/write?db={influx_db}&precision=s",
        data=b"obs,station=fi-harness-01 temp_c=21.5 1763884800\n",
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 204
    result = servers.influx_query(influxdb.port, "SELECT temp_c FROM obs", db=influx_db)
    assert result["results"][0]["series"][0]["values"] == [["2025-11-23T08:00:00Z", 21.5]]


def test_real_micropython_runs_the_unix_port(micropython: str) -> None:
    out = subprocess.run(
        [micropython, "-c", "import sys, json; print(sys.implementation.name, json.dumps([1]))"],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert out.stdout.split() == ["micropython", "[1]"]


def test_stopping_by_pid_ends_the_process(tmp_path) -> None:
    server = servers.start_mosquitto(tmp_path / "m")
    server.stop()
    assert server.proc.poll() is not None
    assert not servers._accepts(server.port)


def test_test_broker_persists_retained_messages_across_a_restart(tmp_path) -> None:
    first = servers.start_mosquitto(tmp_path / "m")
    pub = subprocess.run(
        ["mosquitto_pub", "-p", str(first.port), "-r", "-q", "1", "-t", "classnet/v1/fi-x1/status",
         "-m", '{"state":"online"}'],
        capture_output=True, text=True, timeout=10,
    )  # fmt: skip
    assert pub.returncode == 0, pub.stderr
    first.stop()  # SIGTERM: Mosquitto saves its database on the way out
    second = servers.start_mosquitto(tmp_path / "m", port=first.port)
    try:
        sub = subprocess.run(
            ["mosquitto_sub", "-p", str(second.port), "-t", "classnet/v1/+/status", "-C", "1",
             "-W", "10"],
            capture_output=True, text=True, timeout=20,
        )  # fmt: skip
    finally:
        second.stop()
    assert sub.stdout.strip() == '{"state":"online"}'
    assert "Error" not in second.log_tail()
