"""`classnet flash`: a thin parser over firmware.host.flash (the tests call those functions)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from firmware.host import flash as actions
from firmware.host import pins
from firmware.host.ports import list_boards


def _flash_cmd(args: argparse.Namespace) -> int:
    from ingest.domain.errors import UserError

    try:
        if args.list:
            boards = list_boards(include_unknown=args.all)
            if not boards:
                print("no board found (plug it in with a USB data cable)")
                return 1
            for b in boards:
                serial = f"  serial {b.serial_number}" if b.serial_number else ""
                print(f"{b.port}  {b.name}{serial}")
            return 0
        template = actions.load_template(args.config)
        overrides = {
            "station": args.station,
            "wifi.ssid": args.wifi_ssid,
            "broker.host": args.broker_host,
            "broker.port": args.broker_port,
            "broker.tls": True if args.tls or args.ca else None,
            "broker.ca": actions.CA_FILE if args.ca else None,
            "broker.username": args.mqtt_user,
            "interval_s": args.interval,
        }
        source = str(args.config) if args.config else "the command line"
        # Everything is checked before a password is asked for or a board touched.
        doc = actions.merge_config(template, overrides)
        actions.check_config(doc, source, args.board)
        if doc.get("broker", {}).get("ca") and not args.ca:
            raise actions.FlashError(
                f"{args.config} sets broker.ca: give the CA certificate with --ca FILE"
            )
        extra = [(actions.CA_FILE, actions.ca_certificate(args.ca))] if args.ca else []
        if args.dry_run and args.secrets is None:
            print(json.dumps(actions.redacted(doc), indent=1))
            return 0
        need_mqtt = bool(doc.get("broker", {}).get("username"))
        need_wifi = doc.get("transport", "wifi") == "wifi"
        secrets = actions.read_secrets(args.secrets, need_mqtt, actions.ask_secret, need_wifi)
        cfg = actions.build_config(template, overrides, secrets, source, args.board)
        if args.dry_run:
            print(json.dumps(actions.redacted(cfg), indent=1))
            return 0
        port = actions.choose_port(args.port)
        print(f"flashing station {cfg['station']} on {port}")
        outcome = actions.flash(
            port,
            cfg,
            timeout=args.timeout,
            progress=not args.no_progress,
            echo=lambda line: print(f"  board: {line}"),
            extra=extra,
        )
        if outcome.online and cfg.get("transport") == "serial":
            print(
                f"done: station {cfg['station']} is running; start `classnet bridge` on the "
                "computer it is plugged into (docs/build-a-station.md)"
            )
        elif outcome.online:
            print(f"done: station {cfg['station']} is online")
        return 0
    except actions.FlashError as exc:
        raise UserError(str(exc)) from None


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "flash",
        help="put the station firmware and its config on a board over USB",
        description=(
            "Find a MicroPython board on USB, upload the station firmware and a config.json, "
            "verify every file by SHA-256, reset the board and follow it until its first "
            "observation is published. Passwords are asked for (never shown) or read from "
            "--secrets. See docs/build-a-station.md."
        ),
    )
    p.add_argument("--list", action="store_true", help="list boards on USB and exit")
    p.add_argument("--all", action="store_true", help="with --list: show unknown USB devices too")
    p.add_argument("--port", default="auto", help="serial port (default: the one board found)")
    p.add_argument("--config", type=Path, help="config.json template (sensors, meta, broker...)")
    p.add_argument(
        "--board",
        choices=sorted(pins.BOARDS),
        help='the board, for the pin checks (or "board" in the config)',
    )
    p.add_argument("--station", help="station id, e.g. fi-tampere-hervanta")
    p.add_argument("--wifi-ssid", help="Wi-Fi network name (2.4 GHz)")
    p.add_argument("--broker-host", help="MQTT broker host name")
    p.add_argument("--broker-port", type=int, help="MQTT broker port (1883, or 8883 with TLS)")
    p.add_argument("--tls", action="store_true", help="connect to the broker with TLS")
    p.add_argument(
        "--ca",
        type=Path,
        metavar="FILE",
        help="PEM certificate of the CA that signed the broker's (implies --tls): the station "
        "then checks it is talking to the real broker; without it TLS encrypts but checks nobody",
    )
    p.add_argument("--mqtt-user", help="MQTT user name (the password is asked for)")
    p.add_argument("--interval", type=int, help="seconds between readings (default 300)")
    p.add_argument(
        "--secrets",
        type=Path,
        help='file with the passwords: JSON {"wifi_password": ..., "mqtt_password": ...} '
        "or KEY=value lines; without it they are asked for",
    )
    p.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the board")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="check and print the config (passwords hidden), touch no board; exit status 3 "
        "when anything is wrong",
    )
    p.set_defaults(func=_flash_cmd)
