"""`classnet bridge --port auto --broker mqtt://STATION@host:1883`: a thin parser over
gateway/bridge/bridge.py. The station's MQTT password comes from CLASSNET_MQTT_PASSWORD or the file
CLASSNET_MQTT_PASSWORD_FILE names, never from the command line. See docs/build-a-station.md."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from types import FrameType

from firmware import wire
from gateway.bridge.bridge import Bridge, PortSpec
from gateway.bridge.session import StationSession
from ingest.domain import broker
from ingest.domain.errors import UserError

log = logging.getLogger("classnet.bridge")


def run(args: argparse.Namespace) -> int:
    url = broker.parse_broker_url(args.broker, args.broker_ca)
    station = url.user or ""
    if not wire.is_station_id(station):
        # The bridge speaks for the station whose login it holds, and for no other.
        raise UserError(
            f"--broker {url}: give the station's login, mqtt://STATION@host:1883 "
            "(e.g. mqtt://fi-tampere-01@broker:1883)"
        )
    done = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log.info("bridge: port %s, broker %s", args.port, url)
    Bridge(PortSpec(args.port), station, lambda st: StationSession(url, st)).run(done)
    log.info("bridge stopped")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bridge",
        help="carry a USB-connected station's readings to the broker",
        description="Read a station's frames on a USB serial port (config.json "
        '"transport": "serial") and publish them at QoS 1 under the station\'s own topics, '
        "acknowledging each to the station only after the broker's PUBACK. Finds the board "
        "again after the cable is pulled. See docs/build-a-station.md.",
    )
    p.add_argument(
        "--port",
        default="auto",
        help="serial port: /dev/ttyUSB0, /dev/ttyACM0, COM3, /dev/cu.usbserial-0001 "
        "(default auto: the one board found, as `classnet flash --list` shows)",
    )
    p.add_argument(
        "--broker",
        required=True,
        metavar="URL",
        help="mqtt://STATION@host:1883 or mqtts://...: the station's login, the only station "
        "this bridge publishes for; its password from CLASSNET_MQTT_PASSWORD or "
        "CLASSNET_MQTT_PASSWORD_FILE",
    )
    broker.add_ca_argument(p)
    p.set_defaults(func=run)
