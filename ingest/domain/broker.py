"""How every part reaches the broker (the gateway, the bridge, the simulators, the demo): one
`--broker` URL form, `mqtt://[user@]host:port` or `mqtts://…`, the password from the environment,
the broker's CA from `--broker-ca`, and a paho client made from it."""

from __future__ import annotations

import argparse
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from ingest.domain.errors import UserError
from ingest.domain.secrets import secret


@dataclass(frozen=True)
class BrokerURL:
    host: str
    port: int
    tls: bool = False
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    ca: Path | None = None  # PEM CA that signed the broker's certificate; None: the system's

    def __str__(self) -> str:
        user = f"{self.user}@" if self.user else ""
        return f"mqtt{'s' if self.tls else ''}://{user}{self.host}:{self.port}"


def parse_broker_url(url: str, ca: Path | None = None) -> BrokerURL:
    """`mqtt://[user@]host:port` or `mqtts://…`; the password comes from CLASSNET_MQTT_PASSWORD
    (or the file CLASSNET_MQTT_PASSWORD_FILE names), never from the URL. `ca` (`--broker-ca`):
    the CA an mqtts:// broker's certificate must be signed by, instead of the public ones."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        shown = url.replace(f":{parts.password}@", ":***@") if parts.password else url
        raise UserError(f"broker {shown!r}: use mqtt://host:1883 or mqtts://host:8883")
    if parts.password:
        raise UserError("broker URL carries a password; put it in CLASSNET_MQTT_PASSWORD instead")
    tls = parts.scheme == "mqtts"
    if ca is not None:
        if not tls:
            raise UserError(f"--broker-ca {ca}: only an mqtts:// broker has a certificate")
        try:
            ssl.create_default_context(cafile=str(ca))
        except (OSError, ssl.SSLError) as exc:
            raise UserError(f"--broker-ca {ca}: not a readable PEM certificate ({exc})") from None
    return BrokerURL(
        host=parts.hostname,
        port=parts.port or (8883 if tls else 1883),
        tls=tls,
        user=parts.username,
        password=secret("CLASSNET_MQTT_PASSWORD") if parts.username else None,
        ca=ca,
    )


def add_ca_argument(parser: argparse.ArgumentParser) -> None:
    """`--broker-ca`, the same on every command that takes `--broker`."""
    parser.add_argument(
        "--broker-ca",
        type=Path,
        metavar="FILE",
        help="PEM certificate of the CA that signed an mqtts:// broker's certificate (a school's "
        "own broker); default: the system's public CAs",
    )


def connect_failure(broker: BrokerURL, exc: BaseException | None) -> str:
    """Why a connection to `broker` failed, as a sentence that says what to fix."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        fix = (
            f"--broker-ca {broker.ca} must be the CA that signed it, for the name {broker.host}"
            if broker.ca
            else "give --broker-ca the CA certificate that signed it"
        )
        return f"the TLS certificate check of broker {broker} failed ({exc.verify_message}): {fix}"
    return f"cannot connect to broker {broker}: {exc}"


def make_client(
    broker: BrokerURL,
    client_id: str,
    subscriber: bool = True,
    client_class: type[mqtt.Client] = mqtt.Client,
) -> mqtt.Client:
    """A paho client for `broker`. A subscriber (the gateway) keeps a persistent session and
    acknowledges by hand; a publisher (the bridge) starts clean each time."""
    client = client_class(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=not subscriber,
        protocol=mqtt.MQTTv311,
        manual_ack=subscriber,
    )
    if broker.user:
        client.username_pw_set(broker.user, broker.password)
    if broker.tls:
        client.tls_set(ca_certs=str(broker.ca) if broker.ca else None, cert_reqs=ssl.CERT_REQUIRED)
    client.reconnect_delay_set(min_delay=1, max_delay=60)
    return client
