"""The `classnet` command: one entry point, a subcommand per component.

Each component keeps its own subcommands in a `cli` module with a `register(subparsers)` function
that adds thin parsers over functions the tests call directly (WeeWX's *_cmd / *_actions split).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

from gateway.errors import UserError

# Components that add subcommands, in the order `classnet --help` lists them.
COMPONENT_CLIS = (
    "dashboard.cli",
    "gateway.gateway_cmd",
    "gateway.spool_cmd",
    "gateway.bridge_cmd",
    "ingest.commands",
    "ingest.rollup_cmd",
    "gateway.commands",
    "firmware.host.cli",
    "simulators.cli",
    "dashboard.commands",
)

EXIT_OK = 0
EXIT_USAGE = 2
# A failure the user can fix (bad file, unreachable server): the message says how.
EXIT_USER_ERROR = 3


def _version() -> str:
    try:
        return version("classnet-weather")
    except PackageNotFoundError:
        return "unknown (not installed; run `pip install -e .`)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="classnet",
        description="ClassNet Weather: school weather stations in Asia and Europe, compared live.",
    )
    parser.add_argument("--version", action="version", version=f"classnet {_version()}")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log debug detail (never secrets)"
    )
    sub = parser.add_subparsers(dest="command", metavar="<command>")
    for name in COMPONENT_CLIS:
        importlib.import_module(name).register(sub)
    return parser


def _without_pyarrow() -> None:
    """Keep pyarrow out of a gateway process. pandas 3 imports it whenever it is installed
    (~40 MiB resident, and string columns then round-trip through Arrow on every batch), but
    only `classnet export --format parquet` uses it (the `parquet` extra). A None in sys.modules
    makes `import pyarrow` fail as in an install without it, so pandas falls back to its own
    string storage. Only before pandas is loaded: a process that has it already (tests) keeps it."""
    if "pandas" not in sys.modules:
        sys.modules.setdefault("pyarrow", None)  # type: ignore[arg-type]


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if next((a for a in argv if not a.startswith("-")), None) == "gateway":
        _without_pyarrow()
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args) or EXIT_OK)
    except UserError as exc:
        print(f"classnet {args.command}: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
