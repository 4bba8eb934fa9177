"""`classnet gateway`: subscribe to the stations, batch, store. The whole command line in the
common case is `classnet gateway --broker mqtt://host:1883 --store URL`."""

from __future__ import annotations

import argparse
import logging
import re
import signal
import socket
import threading
from pathlib import Path
from types import FrameType

from gateway import broker
from gateway.metrics import Metrics, serve
from gateway.service import Gateway, Settings
from gateway.spool import DEFAULT_DIR, DEFAULT_MAX_BYTES
from ingest import StoreError, open_store
from ingest.command import advice
from ingest.dead_letters import DeadLetterLimits
from ingest.domain.broker import add_ca_argument, parse_broker_url
from ingest.domain.errors import UserError
from ingest.url import add_store_argument

log = logging.getLogger("classnet.gateway")
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(text: str) -> int:
    """`1GiB`, `500M`, `2g`, `1048576` → bytes (binary units).

    >>> parse_size("1GiB"), parse_size("500M"), parse_size("4096")
    (1073741824, 524288000, 4096)
    """
    match = re.fullmatch(r"\s*(\d+)\s*([kmgt]?)(i?b)?\s*", text.lower())
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size like 1GiB, 500MiB or 4096")
    return int(match.group(1)) * _UNITS[match.group(2)]


def settings_from(args: argparse.Namespace) -> Settings:
    url = parse_broker_url(args.broker, args.broker_ca)
    # Gateways of one share group often run the same command line (on several machines, or
    # twice on one with their own spool dirs): with the same id they would take the session from
    # each other in turn. So in a group the id also depends on the host and spool dir, which stay
    # the same across restarts of one gateway. Without a group the id is unchanged from before.
    where = (socket.gethostname(), str(args.spool_dir.resolve())) if args.share_group else ()
    client_id = args.client_id or broker.stable_client_id(
        str(url), args.share_group or "", args.store, *where
    )
    return Settings(
        broker=url,
        client_id=client_id,
        spool_dir=args.spool_dir,
        share_group=args.share_group,
        batch_size=args.batch_size,
        batch_ms=args.batch_ms,
        spool_max_bytes=args.spool_max,
        roll_every_s=args.roll_every,
    )


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    try:
        store = open_store(
            args.store, dead_letters=DeadLetterLimits(args.dead_letters, args.dead_letter_days)
        )
    except StoreError as exc:
        raise UserError(advice(exc)) from None
    metrics = Metrics()
    gateway = Gateway(settings, store, metrics)
    if args.metrics_port >= 0:
        server = serve(metrics, gateway.health, args.metrics_host, args.metrics_port)
        host, port = server.server_address[:2]
        log.info("metrics on http://%s:%s/metrics and /healthz", host, port)
    done = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    gateway.start()
    done.wait()
    log.info("stopping: writing what was received, then disconnecting")
    gateway.stop()
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "gateway",
        help="receive stations' MQTT messages and write them to the store",
        description="Subscribe to classnet/v1/+/obs, /status and /meta (QoS 1, persistent "
        "session), validate, batch and write to the store; acknowledge only what is stored or "
        "spooled to disk.",
    )
    p.add_argument(
        "--broker",
        default="mqtt://localhost:1883",
        metavar="URL",
        help="mqtt://[user@]host:port or mqtts://...; password from CLASSNET_MQTT_PASSWORD "
        "(default mqtt://localhost:1883)",
    )
    add_ca_argument(p)
    add_store_argument(p, "sqlite:classnet.db")
    p.add_argument(
        "--client-id",
        metavar="ID",
        help="MQTT client id (default: derived from broker, store and share group, so a restart "
        "resumes the same session)",
    )
    p.add_argument(
        "--share-group",
        metavar="NAME",
        help="split observations with other gateways through $share/NAME/...",
    )
    p.add_argument(
        "--batch-size",
        type=int,
        default=5000,
        metavar="N",
        help="most observations in one write (default 5000)",
    )
    p.add_argument(
        "--batch-ms",
        type=int,
        default=500,
        metavar="MS",
        help="longest a message waits for its batch to be written (default 500); a pause of "
        "0.2 s in the stream cuts the batch sooner, except while the store is failing",
    )
    p.add_argument(
        "--roll-every",
        type=float,
        default=60.0,
        metavar="S",
        help="how soon after a write the store's 15-minute bins are brought up to date "
        "(default 60 s; pages never miss a reading meanwhile)",
    )
    p.add_argument(
        "--spool-dir",
        type=Path,
        default=DEFAULT_DIR,
        metavar="DIR",
        help="where batches wait while the store is down (default ./classnet-spool)",
    )
    p.add_argument(
        "--spool-max",
        type=parse_size,
        default=DEFAULT_MAX_BYTES,
        metavar="SIZE",
        help="spool bound, e.g. 1GiB (default); when full, the gateway stops acknowledging",
    )
    p.add_argument(
        "--dead-letters",
        type=int,
        default=DeadLetterLimits.per_station,
        metavar="N",
        help="rejected messages kept per station, newest first, to show with `classnet rejects`"
        f" (default {DeadLetterLimits.per_station}); every reject is still counted",
    )
    p.add_argument(
        "--dead-letter-days",
        type=float,
        default=DeadLetterLimits.max_age_days,
        metavar="DAYS",
        help=f"and none older than this (default {DeadLetterLimits.max_age_days:g})",
    )
    p.add_argument("--metrics-host", default="127.0.0.1", metavar="HOST")
    p.add_argument(
        "--metrics-port",
        type=int,
        default=9108,
        metavar="PORT",
        help="/metrics and /healthz (default 9108; 0 picks a free port, -1 turns it off)",
    )
    p.set_defaults(func=run)
