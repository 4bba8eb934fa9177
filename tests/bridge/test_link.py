"""The bridge's protocol logic (gateway/bridge/link.py) fed bytes, publishing to a real Mosquitto
through the station's own session."""

from __future__ import annotations

import json
import logging

from firmware import frame, wire
from gateway.bridge.link import Link
from gateway.bridge.session import StationSession
from ingest.domain.broker import BrokerURL
from ingest.domain.broker_config import GATEWAY_USER
from tests import servers
from tests.security.network import Client, start_network_broker

STATION = b"fi-link-01"
BIRTH = b'{"state": "online", "firmware": "1.0.0", "exposure": "outdoor"}'
T = 1763884800.25


def obs(seq: int) -> bytes:
    return json.dumps({"ts": 1763884800 + seq * 60, "seq": seq, "temp_c": 3.5}).encode()


def frames_of(out: bytes) -> list[tuple[bytes, bytes, bytes]]:
    got = [frame.decode(line) for line in out.splitlines()]
    return [(g[0], g[1], g[2]) for g in got if g is not None]


def link_to(port: int) -> Link:
    url = BrokerURL("127.0.0.1", port, user=STATION.decode())
    return Link(
        "ttyTEST",
        STATION.decode(),
        lambda station: StationSession(url, station, 1.0),
        now=lambda: T,
    )


def test_birth_observations_and_repeats(mosquitto: servers.Server, subscribe) -> None:
    sub = subscribe(mosquitto.port, STATION.decode())
    link = link_to(mosquitto.port)
    birth = frame.encode(b"s", STATION, BIRTH)
    o1, o2 = frame.encode(b"o", STATION, obs(1)), frame.encode(b"o", STATION, obs(2))
    assert link.feed(o1) == b""  # before a birth: the station may be mid-batch, wait
    replies = frames_of(link.feed(birth + o1 + o2))
    assert replies == [
        (b"a", b"-", birth[-9:-1]),
        (b"t", STATION, b"1763884800.250"),
        (b"a", b"1", o1[-9:-1]),
        (b"a", b"2", o2[-9:-1]),
    ]
    # the station missed those acks and sends both again: acknowledged, not published twice
    assert frames_of(link.feed(o1 + o2)) == replies[2:]
    assert frames_of(link.feed(frame.encode(b"p", STATION, b"{}"))) == [replies[1]]
    sub.wait(lambda: len(sub.payloads()) == 1)
    assert json.loads(sub.payloads()[0]) == [json.loads(obs(1)), json.loads(obs(2))]
    assert link.counts["published"] == 2 and link.counts["repeats"] == 2
    link.board_gone()
    sub.wait(lambda: sub.messages[-1][1] == b'{"state":"offline"}')


def test_damaged_frame_holds_back_the_rest_until_the_station_starts_over(
    mosquitto: servers.Server, caplog
) -> None:
    link = link_to(mosquitto.port)
    o1, o2 = frame.encode(b"o", STATION, obs(1)), frame.encode(b"o", STATION, obs(2))
    link.feed(frame.encode(b"s", STATION, BIRTH))
    damaged = o1.replace(b'"seq": 1', b'"seq": 7')
    with caplog.at_level(logging.WARNING, "classnet.bridge"):
        assert link.feed(damaged + o2) == b""  # o2 would overtake o1
    assert [r.getMessage() for r in caplog.records] == [
        "ttyTEST: damaged frame (checksum); not acknowledged, the station sends it again"
    ]
    out = frames_of(link.feed(frame.encode(b"s", STATION, BIRTH) + o1 + o2))
    assert [(k, i) for k, i, _ in out] == [
        (b"a", b"-"),
        (b"t", STATION),
        (b"a", b"1"),
        (b"a", b"2"),
    ]


def test_an_invalid_observation_is_acknowledged_so_it_leaves_the_station(
    mosquitto: servers.Server,
) -> None:
    link = link_to(mosquitto.port)
    link.feed(frame.encode(b"s", STATION, BIRTH))
    bad = frame.encode(b"o", STATION, b'{"ts": "yesterday", "seq": 5}')
    assert frames_of(link.feed(bad)) == [(b"a", b"5", bad[-9:-1])]
    assert link.counts["rejected"] == 1 and link.counts["published"] == 0


def test_no_acknowledgement_while_the_broker_is_unreachable(caplog) -> None:
    link = link_to(servers.free_port())  # nothing listens there
    with caplog.at_level(logging.INFO, "classnet.bridge"):
        assert link.feed(frame.encode(b"s", STATION, BIRTH)) == b""
        assert link.feed(frame.encode(b"o", STATION, obs(1))) == b""
    # the time still comes: it is this computer's, not the broker's
    assert frames_of(link.feed(frame.encode(b"p", STATION, b"{}")))[0][0] == b"t"
    assert len(caplog.records) == 1  # one line for the event, not one per frame
    assert "not acknowledging station fi-link-01" in caplog.records[0].getMessage()


def test_frames_for_another_station_are_refused_and_that_station_keeps_its_session(
    tmp_path, caplog
) -> None:
    # The generated broker config; the bridge holds ph-usb-01's login, its board claims to be
    # fi-victim-01, which is online on its own connection.
    server, pw = start_network_broker(tmp_path, ["ph-usb-01", "fi-victim-01"])
    victim_status = wire.topic("fi-victim-01", "status")
    try:
        watcher = Client(server.port, GATEWAY_USER, pw[GATEWAY_USER])
        watcher.subscribe(f"{wire.TOPIC_PREFIX}+/+")
        victim = Client(
            server.port, "fi-victim-01", pw["fi-victim-01"], client_id="fi-victim-01",
            will=(victim_status, b'{"state":"offline"}'),
        )  # fmt: skip
        url = BrokerURL("127.0.0.1", server.port, user="ph-usb-01", password=pw["ph-usb-01"])
        link = Link("ttyEVIL", "ph-usb-01", lambda st: StationSession(url, st, 2.0), now=lambda: T)
        forged = [
            frame.encode(b"s", b"fi-victim-01", BIRTH),
            frame.encode(b"m", b"fi-victim-01", b'{"name": "forged"}'),
            *(frame.encode(b"o", b"fi-victim-01", obs(i)) for i in range(5)),
            frame.encode(b"p", b"fi-victim-01", b"{}"),
        ]
        with caplog.at_level(logging.WARNING, "classnet.bridge"):
            replies = frames_of(link.feed(b"".join(forged)))
        reason = b"this bridge publishes only for ph-usb-01, its login; not for fi-victim-01"
        assert replies == [(b"r", b"fi-victim-01", reason)] * len(forged)  # no ack, a reason
        assert link.counts["refused"] == len(forged) and link.session is None
        assert len(caplog.records) == 1  # one line per station named, not per frame
        # Its own frames still go through, under its own login.
        own = frames_of(link.feed(frame.encode(b"s", b"ph-usb-01", BIRTH)))
        assert own[0][0] == b"a"
        assert watcher.messages.get(timeout=10)[0] == wire.topic("ph-usb-01", "status")
        victim.publish(victim_status, b'{"state":"online"}', retain=True)
        assert watcher.messages.get(timeout=10) == (victim_status, b'{"state":"online"}')
        assert watcher.messages.empty() and victim.disconnects == 0
        link.board_gone()
        victim.close()
        watcher.close()
    finally:
        server.stop()
