"""The MQTT session `classnet bridge` holds for the station on its serial port.

The bridge speaks for the station: client id = station id, the station's own login (the broker's
ACL lets it publish only under `classnet/v1/<station>/`), and the station's last will, so the
dashboard sees the station go offline when the bridge's computer dies. When the board itself
disappears the bridge publishes that will on purpose before it disconnects.

No second buffer: a publish either gets its PUBACK within the timeout or the session is thrown
away (paho's queue of unacknowledged messages with it) and the station, unacknowledged, keeps the
reading in its flash and sends it again.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import paho.mqtt.client as mqtt

from firmware import wire
from ingest.domain import broker

log = logging.getLogger("classnet.bridge")

OFFLINE = b'{"state":"offline"}'  # the will of firmware/station.py, byte for byte
PUBACK_TIMEOUT_S = 3.0
KEEPALIVE_S = 60


class SessionError(Exception):
    """The broker cannot be reached or refused the station's login; the message says which."""


class StationSession:
    def __init__(self, url: broker.BrokerURL, station: str, timeout_s: float = PUBACK_TIMEOUT_S):
        self.url = url
        self.station = station
        self.timeout_s = timeout_s
        self._answered = threading.Event()
        self._up = threading.Event()
        self._lost = False
        self._refused: str | None = None
        self.client = broker.make_client(url, station, subscriber=False)
        self.client.connect_timeout = timeout_s
        self.client.will_set(wire.topic(station, "status"), OFFLINE, qos=1, retain=True)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect

    def open(self) -> None:
        """Connect and wait for the CONNACK; raises SessionError with the reason."""
        try:
            self.client.connect(self.url.host, self.url.port, keepalive=KEEPALIVE_S)
        except (OSError, ValueError) as exc:
            raise SessionError(broker.connect_failure(self.url, exc)) from None
        self.client.loop_start()
        if not self._answered.wait(self.timeout_s) or not self._up.is_set():
            self.close()
            raise SessionError(
                f"{self.url} refused station {self.station}: {self._refused}"
                if self._refused
                else f"no CONNACK from {self.url} within {self.timeout_s:g} s"
            )

    @property
    def up(self) -> bool:
        return self._up.is_set() and not self._lost

    def publish(self, kind: str, payload: bytes, retain: bool = False) -> bool:
        """QoS 1 on the station's `kind` topic; True only once the broker's PUBACK came."""
        if not self.up:
            return False
        info = self.client.publish(wire.topic(self.station, kind), payload, qos=1, retain=retain)
        try:
            info.wait_for_publish(self.timeout_s)
        except (RuntimeError, ValueError):  # paho: not queued (connection lost meanwhile)
            return False
        return info.is_published()

    def offline(self) -> bool:
        """Publish the station's will ourselves, then disconnect: the board is gone."""
        done = self.publish("status", OFFLINE, retain=True)
        self.close()
        return done

    def close(self) -> None:
        self._up.clear()
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, rc: Any, props: Any):
        if rc.is_failure:
            self._refused = str(rc)
        else:
            self._up.set()
        self._answered.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, rc: Any, props: Any):
        # For good: paho would reconnect and resend its queue; the bridge opens a new session.
        self._lost = True
        self._up.clear()
