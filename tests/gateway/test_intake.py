"""The gateway's MQTT intake (gateway/broker.py: IntakeClient) receives exactly what paho's own
client receives from a real Mosquitto, over TCP and TLS: the same topics and payloads in the same
order, with their QoS and packet ids, for a backlog of thousands of small messages (many to a
read, and packets cut by the reads' edges) and payloads larger than one read."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway import broker
from ingest.domain.broker import make_client, parse_broker_url
from tests import servers
from tests.mqtt_clients import Subscriber, publish
from tests.waiting import wait_until


def publish_packet(topic: bytes, payload: bytes, qos: int, mid: int) -> tuple[int, bytes]:
    """A PUBLISH as MQTT 3.1.1 §3.3 lays it out: (first header byte, what follows the length)."""
    ident = mid.to_bytes(2, "big") if qos else b""
    return 0x30 | qos << 1, len(topic).to_bytes(2, "big") + topic + ident + payload


@given(
    topic=st.text(min_size=1, max_size=300).filter(lambda t: "\0" not in t),
    payload=st.binary(max_size=2000),
    qos=st.sampled_from([0, 1, 2]),
    mid=st.integers(1, 65535),
)
def test_parse_publish_reads_what_the_spec_writes(
    topic: str, payload: bytes, qos: int, mid: int
) -> None:
    header, packet = publish_packet(topic.encode(), payload, qos, mid)
    assert broker.parse_publish(header, packet) == (topic, payload, qos, mid if qos else 0)


@pytest.mark.parametrize(
    ("header", "packet"),
    [
        (0x32, b""),  # no topic length
        (0x32, b"\x00"),
        (0x32, b"\x00\x05abc"),  # topic shorter than its length
        (0x32, b"\x00\x03abc\x00"),  # QoS 1 without a whole packet id
        (0x30, b"\x00\x00{}"),  # empty topic (not allowed in 3.1.1)
        (0x36, b"\x00\x03abc\x00\x01{}"),  # QoS 3
    ],
    ids=["empty", "half-length", "short-topic", "short-id", "empty-topic", "qos3"],
)
def test_a_malformed_publish_is_refused(header: int, packet: bytes) -> None:
    assert broker.parse_publish(header, packet) is None


def stream() -> tuple[list[tuple[str, bytes]], list[tuple[str, bytes]]]:
    """(QoS 1, QoS 0) messages: a backlog of small ones of changing size, so the reads' edges fall
    at every place in a packet, then bodies of 0 bytes to 300 KB and a topic beyond ASCII."""
    small = [(f"classnet/v1/fi-intake-{i % 50:02d}/obs", b"x" * (i % 211)) for i in range(4000)]
    large = [
        ("classnet/v1/jp-kōbe-01/obs", bytes(range(256)) * (n // 256)) for n in (0, 70_000, 300_000)
    ]
    return small + large, [("classnet/v1/fi-intake-qos0/status", b"online")] * 20


@pytest.mark.parametrize("tls", [False, True], ids=["tcp", "tls"])
def test_intake_client_receives_what_paho_receives(
    mosquitto_tls: servers.Server, tls_certs: servers.Certs, tls: bool
) -> None:
    url = (
        f"mqtts://127.0.0.1:{mosquitto_tls.tls_port}"
        if tls
        else f"mqtt://127.0.0.1:{mosquitto_tls.port}"
    )
    intake = make_client(
        parse_broker_url(url, ca=tls_certs.ca if tls else None),
        "test-intake",
        client_class=broker.IntakeClient,
    )
    assert isinstance(intake, broker.IntakeClient)
    got: list[tuple[str, bytes, int]] = []
    subscribed = threading.Event()

    def on_incoming(topic: str, payload: bytes, qos: int, mid: int) -> None:
        got.append((topic, payload, qos))
        if qos:
            broker.ack_all(intake, [mid])  # as the gateway does, once its batch is safe

    intake.on_incoming = on_incoming
    intake.on_connect = lambda c, *_: c.subscribe("classnet/#", qos=1)
    intake.on_subscribe = lambda *_: subscribed.set()
    intake.connect("127.0.0.1", mosquitto_tls.tls_port if tls else mosquitto_tls.port)
    intake.loop_start()
    reference = Subscriber(mosquitto_tls.port)
    try:
        assert subscribed.wait(10), "no SUBACK for the intake client"
        assert isinstance(intake.socket(), broker.ReadAhead), "not reading ahead"
        qos1, qos0 = stream()
        publish(mosquitto_tls.port, qos1, qos=1)
        publish(mosquitto_tls.port, qos0, qos=0)
        total = len(qos1) + len(qos0)
        reference.wait_for(total)
        wait_until(lambda: len(got) >= total, what=f"{total} messages (got {len(got)})")
    finally:
        reference.close()
        intake.disconnect()
        intake.loop_stop()
    assert [(t, p) for t, p, _q in got] == [(t, p) for t, p, _r in reference.messages]
    assert [q for *_tp, q in got] == [1] * len(qos1) + [0] * len(qos0)
