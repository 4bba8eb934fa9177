"""The station's MQTT client, byte for byte against MQTT 3.1.1 (OASIS 2014), with a fake socket
(as micropython-lib's test_umqtt_simple does)."""

from __future__ import annotations

import pytest

from firmware import mqtt, wire


class FakeSock:
    """Records what the client writes; answers from a script of broker bytes."""

    def __init__(self, replies: bytes = b"") -> None:
        self.sent = bytearray()
        self.replies = bytearray(replies)
        self.closed = False

    def sendall(self, data: bytes) -> None:
        self.sent += data

    def recv(self, n: int) -> bytes:
        out = bytes(self.replies[:n])
        del self.replies[:n]
        return out

    def close(self) -> None:
        self.closed = True


def client(sock: FakeSock, **kw: object) -> mqtt.MQTTClient:
    return mqtt.MQTTClient("fi-x-01", "broker", sock_factory=lambda *a: sock, **kw)


@pytest.mark.parametrize(
    ("n", "encoded"),
    [
        (0, b"\x00"),
        (127, b"\x7f"),
        # 128 = 0 + 1*128 -> low 7 bits 0 with the continuation bit, then 1
        (128, b"\x80\x01"),
        # 16383 = 127 + 127*128
        (16383, b"\xff\x7f"),
        # 16384 = 0 + 0*128 + 1*128^2
        (16384, b"\x80\x80\x01"),
        (268435455, b"\xff\xff\xff\x7f"),
    ],
)
def test_remaining_length_matches_spec_table_2_4(n: int, encoded: bytes) -> None:
    assert mqtt.remaining_length(n) == encoded


def test_remaining_length_refuses_too_large() -> None:
    with pytest.raises(ValueError, match="too large"):
        mqtt.remaining_length(268435456)


def test_connect_with_will_user_and_password() -> None:
    pkt = mqtt.connect_packet(
        "fi-x-01",
        keepalive=60,
        user="u",
        password="pw",
        will=("classnet/v1/fi-x-01/status", b'{"state":"offline"}', 1, True),
    )
    # Variable header: 2+4 "MQTT" + level + flags + 2 keepalive = 10
    # Payload: client id 2+7 = 9; will topic 2+26 = 28; will message 2+19 = 21; user 2+1 = 3;
    #          password 2+2 = 4  -> 65. Remaining Length = 10 + 65 = 75 = 0x4b
    # Flags: user 0x80 | password 0x40 | will retain 0x20 | will QoS1 0x08 | will 0x04
    #        | clean session 0x02 = 0xee
    assert pkt == (
        b"\x10\x4b"
        b"\x00\x04MQTT\x04\xee\x00\x3c"
        b"\x00\x07fi-x-01"
        b"\x00\x1aclassnet/v1/fi-x-01/status"
        b'\x00\x13{"state":"offline"}'
        b"\x00\x01u"
        b"\x00\x02pw"
    )


def test_connect_minimal() -> None:
    # Remaining Length = 10 + 2 + 1 = 13; flags: clean session only; keep alive 0
    assert mqtt.connect_packet("c", keepalive=0) == b"\x10\x0d\x00\x04MQTT\x04\x02\x00\x00\x00\x01c"


def test_publish_header_qos1_retained() -> None:
    # Remaining Length = topic 2+3 + packet id 2 + message 200 = 207 = 0x4f + 1*128
    # first byte: PUBLISH 0x30 | QoS1 0x02 | retain 0x01 = 0x33
    assert mqtt.publish_header("a/b", 200, qos=1, retain=True, pid=258) == (
        b"\x33\xcf\x01\x00\x03a/b\x01\x02"
    )


def test_publish_header_qos0_has_no_packet_id() -> None:
    # Remaining Length = 2+3 + 5 = 10
    assert mqtt.publish_header("a/b", 5) == b"\x30\x0a\x00\x03a/b"


def test_publish_header_refuses_qos2() -> None:
    with pytest.raises(ValueError, match="QoS 2"):
        mqtt.publish_header("a/b", 5, qos=2)


def test_connect_reads_connack_and_publish_waits_for_its_puback() -> None:
    # CONNACK (session present 0, accepted); then a stray PINGRESP, a PUBACK for another id,
    # and the PUBACK for id 1.
    sock = FakeSock(b"\x20\x02\x00\x00" + b"\xd0\x00" + b"\x40\x02\x00\x09" + b"\x40\x02\x00\x01")
    c = client(sock)
    assert c.connect() == 0
    sock.sent.clear()
    c.publish("t", b"hi", qos=1)
    # Remaining Length = 2+1 + 2 + 2 = 7
    assert bytes(sock.sent) == b"\x32\x07\x00\x01t\x00\x01hi"
    assert not sock.replies


def test_a_message_in_parts_is_the_same_packet_as_in_one_piece() -> None:
    lines = [b'{"ts":1}', b'{"ts":2}', b'{"ts":3}']
    packets = []
    for body in (wire.batch(lines), wire.batch_parts(lines)):
        sock = FakeSock(b"\x20\x02\x00\x00" + b"\x40\x02\x00\x01")
        c = client(sock)
        c.connect()
        sock.sent.clear()
        c.publish("t", body, qos=1)
        packets.append(bytes(sock.sent))
    assert packets[0] == packets[1]
    assert packets[0].endswith(b'[{"ts":1},{"ts":2},{"ts":3}]')
    assert wire.batch(lines[:1]) == lines[0]  # one observation: the object, not an array


def test_connack_refusal_names_the_cause() -> None:
    c = client(FakeSock(b"\x20\x02\x00\x04"))
    with pytest.raises(mqtt.MQTTError, match="bad user name or password"):
        c.connect()


def test_broker_closing_mid_publish_is_an_oserror() -> None:
    sock = FakeSock(b"\x20\x02\x00\x00")
    c = client(sock)
    c.connect()
    with pytest.raises(OSError, match="closed"):
        c.publish("t", b"x", qos=1)


def test_ping_and_disconnect_bytes() -> None:
    sock = FakeSock(b"\x20\x02\x00\x00\xd0\x00")
    c = client(sock)
    c.connect()
    sock.sent.clear()
    c.ping()
    c.disconnect()
    assert bytes(sock.sent) == b"\xc0\x00\xe0\x00"
    assert sock.closed


def test_packet_ids_wrap_from_65535_to_1() -> None:
    sock = FakeSock(b"\x20\x02\x00\x00\x40\x02\xff\xff\x40\x02\x00\x01")
    c = client(sock)
    c.connect()
    c.pid = 65534
    c.publish("t", b"", qos=1)
    c.publish("t", b"", qos=1)
    assert c.pid == 1
