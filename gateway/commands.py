"""`classnet check-payload` and `classnet check-stations`: try a station's message or a
coordinator's stations.toml against the contract before anything is deployed."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from firmware import wire
from gateway import stations
from gateway.contract import ContractError, decode_meta, decode_obs, decode_status, parse_topic
from gateway.errors import UserError


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
    data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
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
