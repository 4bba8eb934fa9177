"""`classnet alerts` against a real SMTP server: one e-mail per episode in the teacher's language,
and no alert lost while the mail server is unreachable (or the service restarts)."""

from __future__ import annotations

import os
import re
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest

from dashboard.demo import ROOT, Demo, classnet, free_port
from ingest import open_store
from tests import servers
from tests.alerts.smtp import Inbox, start_smtp
from tests.care.store import write_obs
from tests.waiting import wait_until

STATION = "fi-tampere-01"


def contact_toml(path: Path, language: str) -> Path:
    path.write_text(
        "# who hears about our station\n"
        f'[{STATION}.contact]\nemail = "weather.club@school.example.fi"\n'
        f'language = "{language}"\ntimezone = "Europe/Helsinki"\n',
        encoding="utf-8",
    )
    return path


def start_alerts(folder: Path, store_url: str, smtp_port: int, metrics_port: int,
                 *extra: str) -> subprocess.Popen:  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    log = (folder / "alerts.log").open("ab")
    return subprocess.Popen(
        classnet("alerts", "--store", store_url, "--stations", str(folder / "stations.toml"),
                 "--smtp", f"smtp://127.0.0.1:{smtp_port}", "--state-dir", str(folder / "state"),
                 "--metrics-port", str(metrics_port), "--retry-max-delay", "0.5", *extra),
        cwd=folder, stdout=log, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip


def metric(port: int, name: str) -> float:
    """A value from the service's /metrics (0 until it answers)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            text = response.read().decode()
    except OSError:  # not listening yet, or reset while it starts
        return 0.0
    match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(timeout=15)


@contextmanager
def checking_alerts(
    folder: Path, gateway: Demo, language: str, *extra: str
) -> Iterator[tuple[Inbox, int, subprocess.Popen]]:
    """A teacher who reads `language`, a real SMTP server, and `classnet alerts` over the
    gateway's store, already checking: a cold start in a fresh venv, compiling every module,
    can take longer than a station's first seconds. Yields the inbox, the service's metrics
    port and its process."""
    contact_toml(folder / "stations.toml", language)
    smtp_port, metrics_port = free_port(), free_port()
    controller, inbox = start_smtp(smtp_port)
    alerts = start_alerts(folder, gateway.store_url, smtp_port, metrics_port, *extra)
    try:
        wait_until(
            lambda: metric(metrics_port, "classnet_alerts_checks_total") >= 1,
            120,
            "the alerts service's first check",
        )
        yield inbox, metrics_port, alerts
    finally:
        if alerts.poll() is None:
            stop(alerts)
        controller.stop()


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Demo]:
    mosquitto = servers.start_mosquitto(tmp_path / "mosquitto")
    demo = Demo(data_dir=tmp_path, stations=1)
    demo.broker_port = mosquitto.port
    try:
        demo.start_gateway()
        # The alerts service only reads a store; the gateway makes it when it starts.
        wait_until(lambda: (tmp_path / "classnet.db").exists(), 60, "the gateway's store")
        yield demo
    finally:
        demo.stop()
        mosquitto.stop()


@pytest.mark.slow
def test_a_silent_station_gets_one_alert_and_one_recovery_in_finnish(
    tmp_path: Path, gateway: Demo
) -> None:
    with checking_alerts(tmp_path, gateway, "fi", "--check-every", "0.5", "--silent-after",
                         "3", "--min-silent", "0") as (inbox, _, alerts):  # fmt: skip
        # Readings every 2 s; from 12 s on the station is offline for 16 s, then flushes.
        simulate = subprocess.run(
            classnet("simulate", "--broker", gateway.broker_url, "--count", "1", "--towns",
                     "tampere", "--interval", "2", "--duration", "40s",
                     "--offline", f"{STATION}@12s+16s"),
            cwd=ROOT, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert simulate.returncode == 0, simulate.stderr
        alert, recovery = inbox.wait_for(2, timeout_s=10)
        stop(alerts)
        assert len(inbox.received()) == 2
        assert alert["Subject"] == f"ClassNet: {STATION} tarvitsee sinua: lukemia ei ole tullut"
        assert alert["To"] == "weather.club@school.example.fi"
        assert "(Europe/Helsinki)" in alert.get_content()
        assert "Tarkista: virta" in alert.get_content()
        assert recovery["Subject"] == (
            f"ClassNet: {STATION} on taas kunnossa: lukemia ei ole tullut"
        )


@pytest.mark.slow
def test_an_outbox_filling_gets_one_alert_and_one_recovery_in_german(
    tmp_path: Path, gateway: Demo
) -> None:
    with checking_alerts(tmp_path, gateway, "de", "--check-every", "0.3") as (
        inbox,
        metrics_port,
        alerts,
    ):
        # Readings every 3 s; offline from 9 s for 18 s, so its birth after the outage reports 6
        # of 8 readings waiting (75 %), and its next reading reports 0. Not silent long enough
        # for the silence alert (15 min at the least).
        simulate = subprocess.run(
            classnet("simulate", "--broker", gateway.broker_url, "--count", "1", "--towns",
                     "tampere", "--interval", "3", "--duration", "45s",
                     "--offline", f"{STATION}@9s+18s", "--outbox", f"{STATION}=8"),
            cwd=ROOT, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert simulate.returncode == 0, simulate.stderr
        alert, recovery = inbox.wait_for(2, timeout_s=15)
        wait_until(lambda: metric(metrics_port, "classnet_alerts_checks_total") >= 10)
        stop(alerts)
        assert len(inbox.received()) == 2
        problem = "in der Station stauen sich Messwerte (ihr Sendepuffer füllt sich)"
        assert alert["Subject"] == f"ClassNet: {STATION} braucht Sie: {problem}"
        text = alert.get_content()
        assert "6 von 8 Messwerten warten auf das Senden." in text
        # 2 more readings at one every 3 s: the oldest are lost in about 6 s.
        assert "Die Station misst alle 3 Sekunden. Noch etwa 6 Sekunden" in text
        assert "das WLAN-Signal am Standort der Station" in text
        assert recovery["Subject"].startswith(f"ClassNet: {STATION} ")
        assert recovery["Subject"].endswith(problem) and recovery["Subject"] != alert["Subject"]


def test_an_unreachable_mail_server_loses_no_alert(tmp_path: Path) -> None:
    contact_toml(tmp_path / "stations.toml", "en")
    store_url = f"sqlite:///{tmp_path / 'classnet.db'}"
    store = open_store(store_url)
    # Heard from every minute until 40 minutes ago, then nothing.
    now = pd.Timestamp.now(tz="UTC").floor("min")
    times = pd.date_range(now - pd.Timedelta(hours=2), now - pd.Timedelta(minutes=40), freq="1min")
    write_obs(store, pd.DataFrame({"station": STATION, "time": times, "temp_c": 3.0}))
    store.close()
    smtp_port, metrics_port = free_port(), free_port()  # nothing listens on smtp_port yet
    alerts = start_alerts(tmp_path, store_url, smtp_port, metrics_port, "--check-every", "0.3")
    try:
        wait_until(lambda: metric(metrics_port, "classnet_alerts_send_failures_total") >= 2)
        assert metric(metrics_port, "classnet_alerts_unsent") == 1
        assert metric(metrics_port, 'classnet_alerts_queued_total{kind="alert"}') == 1
        stop(alerts)  # a restart while the mail server is still down keeps the alert on disk
        assert len(list((tmp_path / "state" / "outbox").glob("*.eml"))) == 1

        controller, inbox = start_smtp(smtp_port)
        try:
            alerts = start_alerts(tmp_path, store_url, smtp_port, metrics_port,
                                  "--check-every", "0.3")  # fmt: skip
            (message,) = inbox.wait_for(1)
            wait_until(lambda: metric(metrics_port, "classnet_alerts_sent_total") == 1)
            assert metric(metrics_port, "classnet_alerts_unsent") == 0
            # More checks after the restart: the episode is still open, nothing more is queued.
            wait_until(lambda: metric(metrics_port, "classnet_alerts_checks_total") >= 5)
            assert metric(metrics_port, 'classnet_alerts_queued_total{kind="alert"}') == 0
            assert message["Subject"] == f"ClassNet: {STATION} needs you: no readings received"
        finally:
            stop(alerts)
            controller.stop()
        assert len(inbox.received()) == 1
    finally:
        if alerts.poll() is None:
            stop(alerts)
