"""`classnet alerts`: the thin parser over `dashboard.alerts.service`."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from datetime import timedelta
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

from prometheus_client import start_http_server

from dashboard.alerts.conditions import Limits
from dashboard.alerts.outbox import SCHEMES, Metrics, Outbox, Smtp
from dashboard.alerts.service import Alerts, Digest, State
from ingest import open_store
from ingest.domain import stations
from ingest.domain.contacts import LANGUAGES
from ingest.domain.errors import UserError
from ingest.domain.secrets import secret

log = logging.getLogger(__name__)
_DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
_TLS = {"smtp": "none", "smtp+starttls": "starttls", "smtps": "ssl"}


def parse_smtp(url: str) -> Smtp:
    """`smtp://host:25` (a relay, no TLS), `smtp+starttls://user@host:587`,
    `smtps://user@host:465`; the password from CLASSNET_SMTP_PASSWORD(_FILE), never the URL.

    >>> parse_smtp("smtp+starttls://alerts@mail.example.fi")
    Smtp(host='mail.example.fi', port=587, tls='starttls', user='alerts', timeout_s=20.0)
    """
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise UserError(
            f"--smtp {url!r}: use smtp://host:25, smtp+starttls://user@host:587 or "
            "smtps://user@host:465"
        )
    if parts.password:
        raise UserError("--smtp: put the password in CLASSNET_SMTP_PASSWORD(_FILE), not the URL")
    return Smtp(
        parts.hostname,
        parts.port or _DEFAULT_PORTS[parts.scheme],
        _TLS[parts.scheme],
        parts.username,
        secret("CLASSNET_SMTP_PASSWORD"),
    )


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "alerts",
        help="e-mail a station's contact when it falls silent, a sensor fails, the battery is low",
        description="Checks the stations that have a [<station>.contact] in stations.toml and "
        "sends one e-mail when a problem starts and one when it ends (docs/operations.md).",
    )
    p.add_argument("--store", required=True, help="store URL, e.g. sqlite:///classnet.db")
    stations.add_argument(p)
    p.add_argument(
        "--smtp",
        default=os.environ.get("CLASSNET_SMTP_URL"),
        help="mail server: smtp+starttls://user@host:587 (default $CLASSNET_SMTP_URL); "
        "password from $CLASSNET_SMTP_PASSWORD or $CLASSNET_SMTP_PASSWORD_FILE",
    )
    p.add_argument(
        "--mail-from",
        default=os.environ.get("CLASSNET_MAIL_FROM", "classnet-alerts@localhost"),
        help="sender address (default $CLASSNET_MAIL_FROM)",
    )
    p.add_argument(
        "--state-dir",
        type=Path,
        default=Path("alerts-state"),
        help="open episodes and unsent e-mails (default ./alerts-state)",
    )
    p.add_argument("--check-every", type=float, default=60.0, metavar="S", help="seconds")
    p.add_argument(
        "--silent-after",
        type=float,
        default=3.0,
        metavar="N",
        help="silent after N times the station's usual interval (default 3)",
    )
    p.add_argument(
        "--min-silent", type=float, default=15.0, metavar="MIN", help="but never under (minutes)"
    )
    p.add_argument("--qc-hours", type=float, default=3.0, help="hours a sensor must fail QC")
    p.add_argument("--battery-low", type=float, default=3.4, metavar="V")
    p.add_argument(
        "--outbox-high",
        type=float,
        default=50.0,
        metavar="PCT",
        help="outbox filling above this share of its capacity (default 50)",
    )
    p.add_argument(
        "--outbox-low",
        type=float,
        default=25.0,
        metavar="PCT",
        help="... and fine again once below this share (default 25)",
    )
    p.add_argument("--digest-to", metavar="EMAIL", help="a coordinator's daily digest")
    p.add_argument("--digest-language", choices=LANGUAGES, default="en")
    p.add_argument("--digest-timezone", default="UTC")
    p.add_argument("--digest-hour", type=int, default=7, help="local hour to send it (default 7)")
    p.add_argument(
        "--metrics-port", type=int, default=9109, help="/metrics on 127.0.0.1 (-1: off; 0: any)"
    )
    p.add_argument(
        "--retry-max-delay",
        type=float,
        default=600.0,
        metavar="S",
        help="longest wait between tries while the mail server fails (default 600)",
    )
    p.add_argument("--once", action="store_true", help="one check and send, then exit (cron)")
    p.set_defaults(func=run_alerts)


def run_alerts(args: argparse.Namespace) -> int:
    if not args.smtp:
        raise UserError("no mail server: give --smtp or set CLASSNET_SMTP_URL")
    smtp = parse_smtp(args.smtp)
    if not 0 <= args.outbox_low < args.outbox_high <= 100:
        raise UserError(
            f"--outbox-low {args.outbox_low:g} and --outbox-high {args.outbox_high:g}: the low "
            "mark must be under the high one, both 0..100 (per cent of the outbox)"
        )
    metrics = Metrics()
    if args.metrics_port >= 0:
        server, _ = start_http_server(args.metrics_port, "127.0.0.1", registry=metrics.registry)
        log.info("metrics on http://127.0.0.1:%d/metrics", server.server_address[1])
    limits = Limits(
        silent_factor=args.silent_after,
        min_silent=timedelta(minutes=args.min_silent),
        qc_window=timedelta(hours=args.qc_hours),
        battery_low_v=args.battery_low,
        outbox_high=args.outbox_high / 100,
        outbox_low=args.outbox_low / 100,
    )
    digest = (
        Digest(args.digest_to, args.digest_language, args.digest_timezone, args.digest_hour)
        if args.digest_to
        else None
    )
    args.state_dir.mkdir(parents=True, exist_ok=True)
    store = open_store(args.store, read_only=True)
    try:
        alerts = Alerts(
            store,
            stations.resolve_path(args.stations),
            Outbox(
                args.state_dir / "outbox",
                metrics,
                base_delay_s=min(5.0, args.retry_max_delay),
                max_delay_s=args.retry_max_delay,
            ),
            State.load(args.state_dir / "episodes.json"),
            args.mail_from,
            limits,
            digest,
        )
        if args.once:
            alerts.check()
            alerts.outbox.flush(smtp)
            return 0 if not alerts.outbox.pending() else 1
        stop = threading.Event()

        def on_signal(_signo: int, _frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        log.info("alerts: checking every %.0f s, mail via %s:%d", args.check_every, smtp.host,
                 smtp.port)  # fmt: skip
        alerts.run(smtp, args.check_every, stop)
        return 0
    finally:
        store.close()
