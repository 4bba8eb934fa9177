"""What `classnet bridge` does with the bytes a station sends: frames in (firmware/frame.py),
publishes through the station's MQTT session, acknowledgements and time back to the board.

No serial port here (gateway/bridge/bridge.py reads and writes it): `Link.feed(bytes) -> bytes`.
A bridge speaks for one station, the one whose login it holds: a frame naming another station is
refused (an `r` frame with the reason, no acknowledgement), never published, and never makes the
bridge connect under that id, which would take the real station's session.
An observation frame is acknowledged only after the broker's PUBACK for the message that
carried it; while the broker is unreachable nothing is acknowledged, so the station keeps its
readings in flash and the computer needs no buffer of its own.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from firmware import frame, wire
from ingest.domain.contract import ContractError, Topic, decode_meta, decode_obs, decode_status

log = logging.getLogger("classnet.bridge")

MAX_LINE = wire.MAX_MESSAGE_BYTES
BATCH_BYTES = 60 * 1024  # one obs message stays under the contract's 64 KiB
BACKOFF_MAX_S = 30.0
RECENT = 4096


class Session(Protocol):
    station: str

    @property
    def up(self) -> bool: ...
    def open(self) -> None: ...
    def publish(self, kind: str, payload: bytes, retain: bool = False) -> bool: ...
    def offline(self) -> bool: ...
    def close(self) -> None: ...


class Recent:
    """Observations published (PUBACK received) lately, so a frame the station sends again
    because its acknowledgement was lost (cable pulled, timeout) is acknowledged, not published
    twice. Bounded: the oldest are forgotten; a repeat older than that is stored once anyway
    because the store keeps one point per (station, ts)."""

    def __init__(self, size: int = RECENT) -> None:
        self.size = size
        self._keys: OrderedDict[bytes, None] = OrderedDict()

    @staticmethod
    def key(station: str, body: bytes) -> bytes:
        return hashlib.blake2b(station.encode() + b"\0" + body, digest_size=16).digest()

    def __contains__(self, key: bytes) -> bool:
        return key in self._keys

    def add(self, key: bytes) -> None:
        self._keys[key] = None
        if len(self._keys) > self.size:
            self._keys.popitem(last=False)


def _seq(body: bytes) -> bytes:
    """The ack's id: the observation's seq as the station wrote it ("-" without one)."""
    try:
        seq = json.loads(body).get("seq")
    except (ValueError, AttributeError):
        return b"-"
    return b"%d" % seq if isinstance(seq, int) and not isinstance(seq, bool) else b"-"


def ack(seq: bytes, crc: bytes) -> bytes:
    return frame.encode(b"a", seq, crc)


class Link:
    def __init__(
        self,
        where: str,
        station: str,
        open_session: Callable[[str], Session],
        now: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.where = where  # the port, for log lines
        self.station = station  # the login's: the only station this bridge publishes for
        self.refused_from: set[str] = set()  # stations already named in a log line
        self.open_session = open_session
        self.now = now
        self.monotonic = monotonic
        self.reader = frame.LineReader(MAX_LINE)
        self.session: Session | None = None
        self.recent = Recent()
        self.retry_at = 0.0
        self.backoff = 1.0
        self.broker_down = False
        # After a frame that was not acknowledged (damaged, or the broker failed), the ones after
        # it wait: published now they would overtake it. The station, missing an ack, sends its
        # birth and then its outbox again from the oldest reading; that ends the gap. A new port
        # starts with one, as the station may be in the middle of a batch.
        self.gap = True
        self.counts = {
            "published": 0,
            "repeats": 0,
            "corrupt": 0,
            "rejected": 0,
            "unacked": 0,
            "refused": 0,
        }

    # -- bytes in, bytes out

    def feed(self, data: bytes) -> bytes:
        """Handle what the board sent; return the replies to write back to it."""
        out: list[bytes] = []
        group: list[tuple[bytes, bytes]] = []  # consecutive obs frames of one station
        station = ""
        size = 0
        for line in self.reader.feed(data):
            got = self._decode(line)
            if got is None:
                continue
            kind, who, body, crc = got
            if who != self.station:
                out.append(self._refuse(who))
                continue
            if group and (
                kind != b"o"
                or who != station
                or len(group) >= wire.MAX_BATCH
                or size + len(body) > BATCH_BYTES
            ):
                out += self._observations(station, group)
                group, size = [], 0
            if kind == b"o":
                group.append((body, crc))
                station = who
                size += len(body) + 1
            elif kind == b"p":
                out.append(self._time(who))
            else:
                out += self._retained(who, "status" if kind == b"s" else "meta", body, crc)
        if group:
            out += self._observations(station, group)
        return b"".join(out)

    def _decode(self, line: bytes) -> tuple[bytes, str, bytes, bytes] | None:
        try:
            got = frame.decode(line)
        except frame.FrameError:
            self.counts["corrupt"] += 1
            self.gap = True
            log.warning(
                "%s: damaged frame (checksum); not acknowledged, the station sends it again",
                self.where,
            )
            return None
        if got is None:
            if line.strip():
                log.debug("%s: board says %r", self.where, line[:160])
            return None
        kind, ident, body, crc = got
        station = ident.decode(errors="replace")
        if kind not in frame.STATION_KINDS or not wire.is_station_id(station):
            log.warning("%s: frame of kind %r from %r ignored", self.where, kind, station[:60])
            return None
        return kind, station, body, crc

    def _refuse(self, station: str) -> bytes:
        self.counts["refused"] += 1
        reason = f"this bridge publishes only for {self.station}, its login; not for {station}"
        if station not in self.refused_from and len(self.refused_from) < 64:
            self.refused_from.add(station)  # bounded: one line per station named, not per frame
            log.warning("%s: frames for station %s refused: %s", self.where, station, reason)
        return frame.encode(b"r", station.encode(), reason.encode())

    # -- one kind each

    def _observations(self, station: str, frames: list[tuple[bytes, bytes]]) -> list[bytes]:
        if self.gap:
            self.counts["unacked"] += len(frames)
            return []
        topic = Topic(station, "obs")
        acks: list[bytes] = []
        fresh: list[tuple[bytes, bytes, bytes]] = []  # (recent key, body, ack)
        for body, crc in frames:
            reply = ack(_seq(body), crc)
            key = Recent.key(station, body)
            if key in self.recent:
                self.counts["repeats"] += 1
                acks.append(reply)
                continue
            try:
                decoded = decode_obs(topic, body, self.now())
                kept = bool(decoded.observations)
                why = "; ".join(p.detail for p in decoded.problems)
            except ContractError as exc:
                kept, why = False, str(exc)
            if not kept:
                # Sending it again cannot make it valid: acknowledge, so it leaves the station.
                self.counts["rejected"] += 1
                log.warning("%s: observation rejected and acknowledged: %s", self.where, why)
                acks.append(reply)
                continue
            if why:
                log.debug("%s: the gateway will drop: %s", self.where, why)
            fresh.append((key, body, reply))
        if fresh:
            session = self._session(station)
            if session is not None and session.publish("obs", wire.batch([b for _, b, _ in fresh])):
                for key, _, reply in fresh:
                    self.recent.add(key)
                    acks.append(reply)
                self.counts["published"] += len(fresh)
            else:
                self._lost(session)
                self.counts["unacked"] += len(fresh)
                self.gap = True
        return acks

    def _retained(self, station: str, kind: str, body: bytes, crc: bytes) -> list[bytes]:
        if kind == "status":
            self.gap = False  # a birth: the station sends its outbox again from the oldest
        topic = Topic(station, kind)
        try:
            if kind == "status":
                decode_status(topic, body)
            else:
                decode_meta(topic, body)
        except ContractError as exc:
            self.counts["rejected"] += 1
            log.warning("%s: %s message rejected and acknowledged: %s", self.where, kind, exc)
            return [ack(b"-", crc)]
        session = self._session(station)
        if session is None or not session.publish(kind, body, retain=True):
            self._lost(session)
            return []
        if kind == "status":
            log.info("%s: station %s is online (birth published)", self.where, station)
            return [ack(b"-", crc), self._time(station)]
        return [ack(b"-", crc)]

    def _time(self, station: str) -> bytes:
        # The station has no network for NTP: its clock comes from this computer's.
        return frame.encode(b"t", station.encode(), b"%.3f" % self.now())

    # -- the station's MQTT session

    def _session(self, station: str) -> Session | None:
        if self.session is not None and not self.session.up:
            self._lost(self.session)
        if self.session is None:
            if self.monotonic() < self.retry_at:
                return None
            session = self.open_session(station)
            try:
                session.open()
            except Exception as exc:  # SessionError, or whatever paho raises on a bad address
                self.retry_at = self.monotonic() + self.backoff
                self.backoff = min(self.backoff * 2, BACKOFF_MAX_S)
                if not self.broker_down:
                    self.broker_down = True
                    log.warning(
                        "%s: %s; not acknowledging station %s, which keeps its readings (retrying)",
                        self.where,
                        exc,
                        station,
                    )
                return None
            self.session = session
            self.backoff = 1.0
            self.broker_down = False
            log.info("%s: publishing for station %s", self.where, station)
        return self.session

    def _lost(self, session: Session | None) -> None:
        if session is None or session is not self.session:
            return
        session.close()
        self.session = None
        self.retry_at = self.monotonic() + self.backoff
        self.broker_down = True
        log.warning(
            "%s: lost the broker; not acknowledging station %s until it is back (the station "
            "keeps its readings)",
            self.where,
            session.station,
        )

    def board_gone(self) -> None:
        """The board disappeared: say the station is offline."""
        self.reader = frame.LineReader(MAX_LINE)
        self.gap = True
        session, self.session = self.session, None
        if session is None:
            return
        if session.offline():
            log.info("%s: station %s offline (will published)", self.where, session.station)
        else:
            log.warning(
                "%s: station %s gone; could not publish it offline (broker unreachable)",
                self.where,
                session.station,
            )
