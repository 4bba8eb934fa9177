"""`classnet check-payload` and `classnet check-stations`: try a station's message or a
coordinator's stations.toml against the contract before anything is deployed."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from firmware import wire
from ingest.domain import broker_config, stations
from ingest.domain.broker_config import BrokerOptions
from ingest.domain.contract import (
    ContractError,
    decode_meta,
    decode_obs,
    decode_status,
    parse_topic,
)
from ingest.domain.errors import UserError


def check_payload(station: str, kind: str, payload: bytes) -> tuple[list[str], list[str]]:
    """What the gateway would keep from this message, and what it would drop (as sentences)."""
    try:
        topic = parse_topic(f"{wire.TOPIC_PREFIX}{station}/{kind}")
        if kind == "obs":
            decoded = decode_obs(topic, payload)
            kept = [
                json.dumps(
                    {"ts": o.ts, **({"seq": o.seq} if o.seq is not None else {}), **o.values}
                )
                for o in decoded.observations
            ]
            return kept, [p.detail for p in decoded.problems]
        if kind == "meta":
            meta, problems = decode_meta(topic, payload)
            return [repr(meta)], [p.detail for p in problems]
        state, meta, problems = decode_status(topic, payload)
        return [f"state={state} {meta!r}"], [p.detail for p in problems]
    except ContractError as exc:
        return [], [f"message rejected ({exc.reason}): {exc}"]


def _check_payload_cmd(args: argparse.Namespace) -> int:
    try:
        data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    except OSError as exc:
        raise UserError(
            f"cannot read {args.file}: {exc.strerror}; give the file with the message body "
            "(or - for standard input)"
        ) from None
    kept, dropped = check_payload(args.station, args.kind, data)
    for line in kept:
        print(f"kept: {line}")
    for line in dropped:
        print(f"dropped: {line}")
    return 0 if not dropped else 1


def _check_stations_cmd(args: argparse.Namespace) -> int:
    path = stations.resolve_path(args.stations)
    if path is None:
        raise UserError("no stations.toml here; give one with --stations FILE")
    frame = stations.load_stations(path)
    print(f"{path}: {len(frame)} stations, all valid")
    for station, row in frame.iterrows():
        print(f"  {station}: {row['name']} ({row['region']}, {row['timezone']})")
    return 0


def _broker_config_cmd(args: argparse.Namespace) -> int:
    ids = list(args.station)
    path = stations.resolve_path(args.stations)
    if path is not None:
        ids += list(stations.load_stations(path).index)
    if not ids:
        raise UserError("no stations: give --stations FILE (stations.toml) or --station ID")
    options = broker_config.BrokerOptions(
        port=args.port,
        bind=args.bind,
        plain_bind=args.plain_bind,
        tls_port=args.tls_port,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        tls_ca=args.tls_ca,
        data_dir=args.data_dir,
        gateways=args.gateways,
        max_queued_mib=args.max_queued_mib,
    )
    credentials = broker_config.write_broker_config(args.out, ids, options)
    print(f"wrote {args.out}/mosquitto.conf, passwd and acl for {len(set(ids))} stations")
    print(f"passwords (secret, readable only by you): {credentials}")
    print(f"start the broker with: mosquitto -c {args.out.resolve()}/mosquitto.conf")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check-payload",
        help="show what the gateway keeps and drops from a station's message",
        description="Decode a message as the gateway would (docs/protocol.md).",
    )
    p.add_argument("station", help="station id, e.g. fi-tampere-hervanta")
    p.add_argument("file", nargs="?", default="-", help="message body (default: stdin)")
    p.add_argument("--kind", choices=wire.KINDS, default="obs", help="topic kind (default obs)")
    p.set_defaults(func=_check_payload_cmd)

    p = sub.add_parser(
        "check-stations",
        help="validate a coordinator's stations.toml",
        description="Validate station metadata: ids, positions, IANA time zones.",
    )
    stations.add_argument(p)
    p.set_defaults(func=_check_stations_cmd)

    p = sub.add_parser(
        "broker-config",
        help="write a Mosquitto configuration with one login per station",
        description="Write mosquitto.conf, a password file with one credential per station, and "
        "an ACL so each station publishes only under its own topics. Passwords go to "
        "OUT/credentials.toml (mode 0600); running again keeps existing passwords.",
    )
    stations.add_argument(p)
    p.add_argument("--station", action="append", default=[], metavar="ID", help="add a station")
    p.add_argument("--out", type=Path, required=True, help="folder to write into")
    p.add_argument("--port", type=int, default=1883, help="plain MQTT port (default 1883)")
    p.add_argument("--bind", help="listen on this address only (default: all)")
    p.add_argument(
        "--plain-bind",
        metavar="ADDRESS",
        help="with --tls-port, where the plain (unencrypted) listener listens: default 127.0.0.1, "
        "since passwords cross it in clear; 'any' for every interface",
    )
    p.add_argument("--tls-port", type=int, help="also listen with TLS on this port (e.g. 8883)")
    p.add_argument("--tls-cert", type=Path, help="PEM certificate for the TLS listener")
    p.add_argument("--tls-key", type=Path, help="PEM private key for the TLS listener")
    p.add_argument("--tls-ca", type=Path, help="PEM CA file, if clients present certificates")
    p.add_argument(
        "--data-dir",
        type=Path,
        default=Path("/var/lib/mosquitto"),
        help="where the broker keeps persistent sessions (default /var/lib/mosquitto)",
    )
    p.add_argument(
        "--gateways",
        type=int,
        default=1,
        metavar="N",
        help="logins for N gateways of a share group: classnet-gateway, classnet-gateway-2, ... "
        "(default 1); each gateway needs its own, as the broker binds client ids to logins",
    )
    p.add_argument(
        "--max-queued-mib",
        type=int,
        default=BrokerOptions.max_queued_mib,
        metavar="MIB",
        help="most the broker queues for one client, e.g. a gateway that is away "
        f"(default {BrokerOptions.max_queued_mib} MiB)",
    )
    p.set_defaults(func=_broker_config_cmd)
