"""The gateway and the bridge on an mqtts:// broker: a real Mosquitto with a TLS listener and a
private CA (tests/servers.py). Observations are published on the same broker's plain listener."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from firmware import wire
from gateway import gateway_cmd
from gateway.bridge.session import SessionError, StationSession
from gateway.cli import UserError, build_parser
from gateway.service import Gateway
from ingest import open_store
from ingest.domain.broker import parse_broker_url
from tests import servers
from tests.gateway.test_chain import END, START, obs_messages
from tests.mqtt_clients import publish
from tests.waiting import wait_until


def gateway_for(argv: list[str], tmp_path: Path) -> Gateway:
    """The gateway exactly as `classnet gateway ARGV` would configure it."""
    store = f"sqlite:///{tmp_path / 'obs.db'}"
    args = build_parser().parse_args(
        ["gateway", *argv, "--store", store, "--spool-dir", str(tmp_path / "spool")]
    )
    return Gateway(gateway_cmd.settings_from(args), open_store(args.store))


def test_gateway_stores_from_an_mqtts_broker_checked_against_broker_ca(
    mosquitto_tls: servers.Server, tls_certs: servers.Certs, tmp_path: Path
) -> None:
    url = f"mqtts://127.0.0.1:{mosquitto_tls.tls_port}"
    gateway = gateway_for(["--broker", url, "--broker-ca", str(tls_certs.ca)], tmp_path)
    gateway.start()
    try:
        assert gateway.wait_ready(10), "no TLS connection with the right CA"
        publish(mosquitto_tls.port, obs_messages(50))
        wait_until(lambda: len(gateway.store.read(START, END)) >= 50, what="50 stored")
    finally:
        gateway.stop()


@pytest.mark.parametrize(
    ("ca", "fix"),
    [
        ("other_ca", "--broker-ca {ca} must be the CA that signed it, for the name 127.0.0.1"),
        (None, "give --broker-ca the CA certificate that signed it"),  # the system's CAs
    ],
    ids=["wrong-ca", "system-cas"],
)
def test_a_broker_the_ca_did_not_sign_is_refused_with_a_sentence(
    mosquitto_tls: servers.Server,
    tls_certs: servers.Certs,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    ca: str | None,
    fix: str,
) -> None:
    url = f"mqtts://127.0.0.1:{mosquitto_tls.tls_port}"
    ca_file = getattr(tls_certs, ca) if ca else None
    gateway = gateway_for(
        ["--broker", url, *(["--broker-ca", str(ca_file)] if ca_file else [])], tmp_path
    )
    with caplog.at_level(logging.ERROR, logger="classnet.gateway"):
        gateway.start()
        try:
            wait_until(lambda: "TLS certificate check" in caplog.text, what="the error")
            assert not gateway.wait_ready(0.5)
        finally:
            gateway.stop(timeout=5)
    assert (
        f"the TLS certificate check of broker {url} failed (unable to get local issuer "
        f"certificate): {fix.format(ca=ca_file)}; retrying" in caplog.text
    )


def test_broker_ca_is_checked_before_anything_connects(tls_certs: servers.Certs) -> None:
    with pytest.raises(UserError, match="only an mqtts:// broker has a certificate"):
        parse_broker_url("mqtt://h:1883", tls_certs.ca)
    with pytest.raises(UserError, match="not a readable PEM certificate"):
        parse_broker_url("mqtts://h", tls_certs.server_key)
    url = parse_broker_url("mqtts://h", tls_certs.ca)
    assert (url.port, url.ca, str(url)) == (8883, tls_certs.ca, "mqtts://h:8883")


def test_the_bridge_publishes_over_checked_tls_and_names_a_wrong_ca(
    mosquitto_tls: servers.Server, tls_certs: servers.Certs
) -> None:
    url = f"mqtts://127.0.0.1:{mosquitto_tls.tls_port}"
    wrong = StationSession(parse_broker_url(url, tls_certs.other_ca), "fi-x-01")
    with pytest.raises(SessionError, match=f"TLS certificate check of broker {url} failed"):
        wrong.open()
    session = StationSession(parse_broker_url(url, tls_certs.ca), "fi-x-01")
    session.open()
    try:
        assert session.publish("obs", wire.encode(wire.observation(time.time(), seq=0)))
    finally:
        session.close()
