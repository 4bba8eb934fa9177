"""gateway.broker.ReadBuffer on a real socket pair: paho's small reads come back byte for byte
from one large recv(), `pending()` counts what is buffered (so paho reads again before waiting
in select()), and an empty non-blocking socket and the peer's close reach paho as before."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from gateway.broker import ReadBuffer

# Two PUBLISH packets as paho reads them: type byte, remaining length, then the rest.
# 0x30 = PUBLISH QoS 0; remaining length 7 = 2 (topic length) + 3 ("a/b") + 2 (payload "hi").
PACKET = bytes([0x30, 7, 0, 3]) + b"a/b" + b"hi"


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    ours, theirs = socket.socketpair()
    ours.setblocking(False)  # as paho sets it
    yield ours, theirs
    ours.close()
    theirs.close()


def test_small_reads_are_served_from_one_large_read(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    ours, theirs = pair
    theirs.sendall(PACKET * 2)
    buffered = ReadBuffer(ours)
    reads = [buffered.recv(1), buffered.recv(1), buffered.recv(7)]
    assert reads == [b"\x30", b"\x07", PACKET[2:]]
    assert buffered.pending() == len(PACKET)  # the second packet, already read from the socket
    assert b"".join(buffered.recv(n) for n in (1, 1, 2048)) == PACKET
    assert buffered.pending() == 0


def test_an_empty_socket_and_a_closed_peer_read_as_from_the_socket(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    ours, theirs = pair
    buffered = ReadBuffer(ours)
    with pytest.raises(BlockingIOError):  # paho: nothing to read yet
        buffered.recv(1)
    theirs.sendall(b"\x30")
    assert buffered.recv(1) == b"\x30"  # what fits is handed over without buffering
    theirs.close()
    assert buffered.recv(1) == b""  # paho: connection lost
    assert buffered.fileno() == ours.fileno()  # select() waits on the socket itself
