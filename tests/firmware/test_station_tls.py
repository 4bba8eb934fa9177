"""TLS to the broker end to end (issue 4): the firmware under the real MicroPython unix port (its
mbedTLS) against a real Mosquitto with a TLS listener and a PKI made by the openssl CLI
(tests/servers.py). Readings are watched on the same broker's plain listener."""

from __future__ import annotations

from pathlib import Path

import pytest

from firmware.host.flash import CA_FILE, ca_certificate
from tests.firmware import mpy
from tests.firmware.conftest import outbox_lines, write_board
from tests.firmware.test_station import observations


def tls_board(fs: Path, station: str, server, sntp_port: int, ca_pem: Path | None) -> None:
    """A board set up as `classnet flash --tls [--ca ca_pem]` leaves it."""
    broker = {"host": "127.0.0.1", "port": server.tls_port, "tls": True, "keepalive": 30}
    if ca_pem is not None:
        broker["ca"] = CA_FILE
    write_board(fs, station, server.port, sntp_port, broker=broker)
    if ca_pem is not None:
        (fs / CA_FILE).write_bytes(ca_certificate(ca_pem))


@pytest.mark.slow
def test_station_with_the_brokers_ca_publishes_over_verified_tls(
    tmp_path, mosquitto_tls, tls_certs, sntp, start_station, subscribe
) -> None:
    station = "fi-emu-tls"
    fs = tmp_path / "fs"
    tls_board(fs, station, mosquitto_tls, sntp.port, tls_certs.ca)
    sub = subscribe(mosquitto_tls.port, station)
    # The heap cap of the plain publish test (tests/firmware/test_station.py): the unix port's
    # mbedTLS allocates on the MicroPython heap, and this run needs more than 96K, less than 120K.
    proc = start_station(fs, heap="160K")
    sub.wait(lambda: len(observations(sub, station)) >= 3)
    obs = observations(sub, station)
    assert [o["seq"] for o in obs] == list(range(len(obs)))
    assert {o["temp_c"] for o in obs} == {25.08}
    out = proc.output()
    assert f"broker: connected to 127.0.0.1:{mosquitto_tls.tls_port}" in out
    assert "warning broker" not in out and "error" not in out, out


@pytest.mark.slow
def test_a_wrong_ca_is_named_nothing_is_sent_and_readings_wait_for_the_right_one(
    tmp_path, mosquitto_tls, tls_certs, sntp, start_station, subscribe
) -> None:
    station = "fi-emu-tls-wrong-ca"
    fs = tmp_path / "fs"
    tls_board(fs, station, mosquitto_tls, sntp.port, tls_certs.other_ca)
    sub = subscribe(mosquitto_tls.port, station)
    proc = start_station(fs)
    where = f"127.0.0.1:{mosquitto_tls.tls_port}"
    sub.wait(lambda: proc.output().count("error broker:") >= 2 and len(outbox_lines(fs)) >= 3)
    proc.kill()
    out = proc.output()
    assert (
        f"error broker: the TLS certificate check of the broker at {where} failed: The certificate "
        "is not correctly signed by the trusted CA; broker.ca (ca.der) must be the CA that "
        "signed the broker's certificate for 127.0.0.1" in out
    ), out
    assert "error station" not in out and "Traceback" not in out, "it retries, never crashes"
    assert sub.messages == [], "nothing reached the broker, not even the birth message"

    # The teacher flashes the right CA; the readings kept in flash arrive, once, in order.
    kept = outbox_lines(fs)
    (fs / CA_FILE).write_bytes(ca_certificate(tls_certs.ca))
    start_station(fs)
    sub.wait(lambda: {b["ts"] for b in kept} <= {o["ts"] for o in observations(sub, station)})
    sent = [(o["ts"], o["seq"]) for o in observations(sub, station)]
    assert sent[: len(kept)] == [(b["ts"], b["seq"]) for b in kept]
    later = [seq for _, seq in sent[len(kept) :]]
    assert later == list(range(len(later))), "then the new boot's own readings, none twice"


@pytest.mark.slow
def test_tls_without_a_ca_encrypts_and_says_once_the_broker_is_unchecked(
    tmp_path, mosquitto_tls, sntp, start_station, subscribe
) -> None:
    station = "fi-emu-tls-no-ca"
    fs = tmp_path / "fs"
    tls_board(fs, station, mosquitto_tls, sntp.port, None)
    sub = subscribe(mosquitto_tls.port, station)
    proc = start_station(fs)
    sub.wait(lambda: len(observations(sub, station)) >= 3)
    out = proc.output()
    assert out.count("warning broker:") == 1, out
    assert (
        f"warning broker: TLS without broker.ca: the link to 127.0.0.1:{mosquitto_tls.tls_port} "
        "is encrypted, but the station cannot tell that broker from an impostor" in out
    )


def test_the_name_in_the_brokers_certificate_is_checked_under_micropython(
    micropython, tmp_path, mosquitto_tls, tls_certs
) -> None:
    # The right CA, but the station dials a name the certificate does not carry; then a CA file
    # that is no certificate at all.
    (tmp_path / CA_FILE).write_bytes(ca_certificate(tls_certs.ca))
    code = (
        "import socket\nfrom firmware import mqtt\n"
        f"ca = open({CA_FILE!r}, 'rb').read()\n"
        "for name, cadata in (('127.0.0.1', ca), ('localhost', ca),\n"
        "                     ('mqtt.other-school.example', ca), ('127.0.0.1', b'PEM?')):\n"
        "    s = socket.socket()\n"
        f"    s.connect(socket.getaddrinfo('127.0.0.1', {mosquitto_tls.tls_port})[0][-1])\n"
        "    try:\n"
        "        mqtt.tls_wrap(s, name, cadata).close()\n"
        "        print(name, 'ok')\n"
        "    except mqtt.CertificateError as exc:\n"
        "        print(name, exc)\n"
        "        s.close()\n"
    )
    out = mpy.run(micropython, code, tmp_path).splitlines()
    assert out[:2] == ["127.0.0.1 ok", "localhost ok"]
    assert out[2].startswith("mqtt.other-school.example The certificate Common Name (CN) does not")
    assert out[3].startswith("127.0.0.1 the CA file is not a DER certificate"), out[3]


def test_config_wants_tls_for_a_ca() -> None:
    from firmware import config

    with pytest.raises(config.ConfigError, match=r"broker.ca='ca.der' must name the CA file"):
        config.validate(
            {
                "station": "fi-x-01",
                "wifi": {"ssid": "s"},
                "broker": {"host": "h", "ca": "ca.der"},
            }
        )
