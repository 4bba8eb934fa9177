"""The `classnet` command: one entry point, a subcommand per component.

Each component keeps its subcommands in `*_cmd` modules, each with a `register(subparsers)`
function that adds thin parsers over typed action functions the tests call directly (WeeWX's
*_cmd / *_actions split). A command that reads or writes a store opens it with
`ingest.command.opened_store` (one `--store` option: `ingest.url.add_store_argument`) and shows
progress with `ingest.command.Progress`; a mistake the user can fix is a `UserError` sentence.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import logging
import os
import sys
import tempfile
import traceback
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

from ingest.base import StoreError
from ingest.command import advice
from ingest.domain.errors import UserError

# Components that add subcommands, in the order `classnet --help` lists them.
COMPONENT_CLIS = (
    "dashboard.dashboard_cmd",
    "gateway.gateway_cmd",
    "gateway.spool_cmd",
    "gateway.bridge.bridge_cmd",
    "gateway.store_cmd",
    "gateway.check_cmd",
    "firmware.host.flash_cmd",
    "simulators.simulate_cmd",
    "dashboard.report_cmd",
    "dashboard.climate_cmd",
    "dashboard.alerts.alerts_cmd",
)

# Exit codes, the same for every subcommand (docs/operations.md lists them):
EXIT_OK = 0
# Done, but some input was set aside: `import` refused rows or dropped fields, `check-payload`
# would drop something. The summary says what and why.
EXIT_PARTIAL = 1
EXIT_USAGE = 2  # the command line itself is wrong (argparse's own code)
# A failure the user can fix (bad file, unreachable server): one sentence says what and how.
EXIT_USER_ERROR = 3
# A bug: one line says where the full traceback was written.
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130


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


def _unknown_command(parser: argparse.ArgumentParser, argv: list[str]) -> str | None:
    """A sentence for a command word that is none of ours, naming the nearest one: argparse
    would list all eighteen and leave the reader to spot the typo."""
    word = next((a for a in argv if not a.startswith("-")), None)
    commands = [
        name
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
        for name in action.choices
    ]
    if word is None or word in commands:
        return None
    near = difflib.get_close_matches(word, commands, n=1)
    hint = f"did you mean '{near[0]}'?" if near else "classnet --help lists them"
    return f"no command '{word}'; {hint}"


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if next((a for a in argv if not a.startswith("-")), None) == "gateway":
        _without_pyarrow()
    parser = build_parser()
    unknown = _unknown_command(parser, argv)
    if unknown is not None:
        print(f"classnet: {unknown}", file=sys.stderr)
        return EXIT_USAGE
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
    except StoreError as exc:  # a command that forgot `opened_store` still says one sentence
        print(f"classnet {args.command}: {advice(exc)}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `classnet export ... | head`: the reader had enough
        return EXIT_OK
    except OSError as exc:  # a file, folder or port the command was pointed at: fixable there
        print(f"classnet {args.command}: {_os_error(exc)}", file=sys.stderr)
        return EXIT_USER_ERROR
    except Exception:
        where = _write_trace(args.command)
        print(
            f"classnet {args.command}: unexpected error (a bug); the full trace is in {where} - "
            "please attach it to an issue",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


def _os_error(exc: OSError) -> str:
    """`[Errno 13] Permission denied: '/x'` as a sentence with what to check."""
    where = " -> ".join(str(f) for f in (exc.filename, exc.filename2) if f is not None)
    what = exc.strerror or str(exc)
    if isinstance(exc, FileExistsError | NotADirectoryError):
        what = "a file is in the way where a folder is needed"
    return (
        f"{where + ': ' if where else ''}{what}; check the path, its permissions and free space "
        "(or the address and port)"
    )


def _write_trace(command: str) -> str:
    """The current exception's traceback in a new file under the temp folder (not the working
    folder, which a failed command must leave as it was); its path."""
    fd, path = tempfile.mkstemp(prefix=f"classnet-{command}-", suffix=".txt")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(f"classnet {_version()} {' '.join(sys.argv)}\n")
        traceback.print_exc(file=out)
    return path


if __name__ == "__main__":
    sys.exit(main())
