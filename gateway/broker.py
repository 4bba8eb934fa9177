"""The broker side: `--broker` URLs, the gateway's MQTT client and what it subscribes to.

The session is persistent (clean_session=False) and the client id stable, so the broker keeps
QoS 1 messages while the gateway is down and hands them to the same gateway when it returns.
Acknowledgement is manual: `Gateway` acks a message only once its batch is safe.

Receiving side of flow control: with MQTT 3.1.1 a client cannot limit what the broker sends it
(paho's max_inflight_messages_set and max_queued_messages_set are for the client's own
*publishes*), so the broker's `max_inflight_messages 0` is what lets a whole batch of unacked
messages be in flight at once; Mosquitto's default of 20 would stall every batch at 20 messages.
"""

from __future__ import annotations

import hashlib
import ssl
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from firmware import wire
from gateway.cli import UserError
from ingest.url import secret

KEEPALIVE_S = 60


@dataclass(frozen=True)
class BrokerURL:
    host: str
    port: int
    tls: bool = False
    user: str | None = None
    password: str | None = field(default=None, repr=False)

    def __str__(self) -> str:
        user = f"{self.user}@" if self.user else ""
        return f"mqtt{'s' if self.tls else ''}://{user}{self.host}:{self.port}"


def parse_broker_url(url: str) -> BrokerURL:
    """`mqtt://[user@]host:port` or `mqtts://…`; the password comes from CLASSNET_MQTT_PASSWORD
    (or the file CLASSNET_MQTT_PASSWORD_FILE names), never from the URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise UserError(
            f"broker {parts.hostname or url!r}: use mqtt://host:1883 or mqtts://host:8883"
        )
    if parts.password:
        raise UserError("broker URL carries a password; put it in CLASSNET_MQTT_PASSWORD instead")
    tls = parts.scheme == "mqtts"
    return BrokerURL(
        host=parts.hostname,
        port=parts.port or (8883 if tls else 1883),
        tls=tls,
        user=parts.username,
        password=secret("CLASSNET_MQTT_PASSWORD") if parts.username else None,
    )


def stable_client_id(*parts: str) -> str:
    """The same command line gives the same id, so a restart resumes the broker's session."""
    digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:12]
    return f"classnet-gw-{digest}"


def subscriptions(share_group: str | None) -> list[tuple[str, int]]:
    """Observations are shared between the gateways of a group (`$share/NAME/…`); retained status
    and meta are not, because a shared subscription receives no retained messages (MQTT 5 §4.8.2)
    and every gateway's registry updates are idempotent anyway."""
    prefix = f"$share/{share_group}/" if share_group else ""
    return [
        (f"{prefix}{wire.TOPIC_PREFIX}+/obs", 1),
        (f"{wire.TOPIC_PREFIX}+/status", 1),
        (f"{wire.TOPIC_PREFIX}+/meta", 1),
    ]


def make_client(broker: BrokerURL, client_id: str) -> mqtt.Client:
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=False,
        protocol=mqtt.MQTTv311,
        manual_ack=True,
    )
    if broker.user:
        client.username_pw_set(broker.user, broker.password)
    if broker.tls:
        client.tls_set(cert_reqs=ssl.CERT_REQUIRED)
    client.reconnect_delay_set(min_delay=1, max_delay=60)
    return client
