"""`classnet simulate`: simulated school stations on a real broker, or a dry run to a record.

    classnet simulate --broker mqtt://localhost:1883 --count 50          # live, one per town
    classnet simulate --broker mqtt://localhost:1883 --start 7d --speed 600   # a week in 17 min
    classnet simulate --broker mqtt://localhost:1883 --backfill 2             # the last 2 days
    classnet simulate --count 3 --duration 10m --record -                  # dry run, no broker
    classnet simulate --count 50 --write-stations stations.toml

See docs/simulator.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

from ingest.domain.broker import add_ca_argument, parse_broker_url
from ingest.domain.errors import UserError
from simulators import faults, towns
from simulators.fleet import Fleet, Send
from simulators.mqtt import BrokerError, Publisher
from simulators.run import Pace, run

# Observations buffered per backfill window, over all stations: bounds memory (~1 kB each).
_BACKFILL_READINGS = 200_000


def simulate(args: argparse.Namespace, out: IO[str] = sys.stdout) -> int:
    """The action behind the parser; tests call it with a Namespace."""
    try:
        fault_list = [
            faults.parse(kind, text) for kind in faults.KINDS for text in getattr(args, kind) or ()
        ]
        fleet_stations = towns.stations(args.count, tuple(args.towns or ()))
        fleet_stations += towns.classrooms(fleet_stations, getattr(args, "rooms", 0) or 0)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if args.write_stations is not None:
        args.write_stations.write_text(towns.stations_toml(fleet_stations), encoding="utf-8")
        print(f"wrote {len(fleet_stations)} stations to {args.write_stations}", file=out)
        return 0

    now = int(time.time()) if args.now is None else args.now
    interval = args.interval
    if args.backfill is not None:
        start, duration = now - round(args.backfill * 86400), round(args.backfill * 86400)
        pace = Pace(start, speed=None)
    else:
        start = now - (faults.parse_duration_s(args.start) if args.start else 0)
        duration = faults.parse_duration_s(args.duration) if args.duration else None
        pace = Pace(start, speed=None if args.fast else args.speed)
    start -= start % interval  # runs of one seed line up on the interval grid
    pace.sim_start = start
    end = None if duration is None else start + duration
    try:
        fleet = Fleet(
            fleet_stations, args.seed, start, interval, fault_list, batch=args.backfill is not None
        )
    except faults.FaultError as exc:
        raise UserError(str(exc)) from None
    step = None
    if args.backfill is not None:
        per_station = max(1, _BACKFILL_READINGS // len(fleet_stations))
        step = interval * min(500, per_station)

    with ExitStack() as stack:
        sinks: list[Callable[[Send], None]] = []
        if args.broker:
            url = parse_broker_url(args.broker, args.broker_ca)
            try:
                own = (
                    set(fleet.ids)
                    if args.own_connections
                    else {s for s, o in zip(fleet.ids, fleet.own_connection, strict=True) if o}
                )
                publisher = Publisher(url, fleet.ids, own, args.pool)
                publisher.connect()
            except BrokerError as exc:
                raise UserError(str(exc)) from None
            stack.callback(publisher.close)
            sinks.append(publisher.send)
        if args.record:
            stream = (
                out
                if args.record == "-"
                else stack.enter_context(open(args.record, "w", encoding="utf-8"))
            )
            sinks.append(lambda send: _write_record(stream, send))
        if not sinks:
            raise UserError("nothing to do: give --broker mqtt://host:port, --record FILE, or both")
        count = 0

        def sink(send: Send) -> None:
            nonlocal count
            count += 1
            for each in sinks:
                each(send)

        reached = run(fleet, sink, pace, end, step)
    print(
        f"simulated {len(fleet.ids)} stations from {start} to {reached}: {count} messages",
        file=sys.stderr,
    )
    return 0


def _write_record(stream: IO[str], send: Send) -> None:
    stream.write(json.dumps(send.record(), ensure_ascii=False) + "\n")


def load_record(path: Path) -> list[dict[str, Any]]:
    """A record written with --record, one object per message."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "simulate",
        help="simulated school stations: realistic weather, faults on demand",
        description="Simulated stations in real ASEM school towns, publishing per the wire "
        "contract (docs/simulator.md). Faults take STATIONS[=VALUE][@START[+DURATION]].",
    )
    p.add_argument(
        "--broker",
        help="mqtt://[user@]host:port or mqtts://...; password from CLASSNET_MQTT_PASSWORD or "
        "the file CLASSNET_MQTT_PASSWORD_FILE names",
    )
    add_ca_argument(p)
    p.add_argument(
        "--count", type=int, default=50, help="how many stations (default 50, one per town)"
    )
    p.add_argument("--towns", type=lambda s: s.split(","), help="only these towns (tampere,manila)")
    p.add_argument(
        "--rooms",
        type=int,
        default=0,
        help="also a classroom monitor (indoor CO₂, PM) in N of the schools",
    )
    p.add_argument("--seed", type=int, default=1, help="same seed, same weather (default 1)")
    p.add_argument("--interval", type=int, default=60, help="seconds between readings")
    p.add_argument("--speed", type=float, default=1.0, help="simulated seconds per real second")
    p.add_argument("--start", help="start this long ago (e.g. 7d); default now")
    p.add_argument("--duration", help="stop after this much simulated time (e.g. 1h)")
    p.add_argument("--backfill", type=float, metavar="DAYS", help="send the last DAYS at once")
    p.add_argument("--fast", action="store_true", help="no waiting (dry runs and tests)")
    p.add_argument("--now", type=int, help=argparse.SUPPRESS)  # tests: a fixed present
    p.add_argument(
        "--record", metavar="FILE", help="write every message sent as JSON lines (- = stdout)"
    )
    p.add_argument("--pool", type=int, default=4, help="shared MQTT connections (default 4)")
    p.add_argument(
        "--own-connections",
        action="store_true",
        help="one connection with a last will per station (small fleets)",
    )
    p.add_argument(
        "--write-stations",
        type=Path,
        metavar="FILE",
        help="write the fleet's stations.toml and exit",
    )
    for kind in faults.KINDS:
        p.add_argument(
            f"--{kind.replace('_', '-')}",
            dest=kind,
            action="append",
            metavar="SPEC",
            help="report the outbox level in status (STATIONS[=CAPACITY])"
            if kind == "outbox"
            else f"fault: {kind.replace('_', ' ')}",
        )
    p.set_defaults(func=simulate)
