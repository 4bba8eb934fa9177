"""A coordinator's `stations.toml` as TOML tables, or one sentence saying why it cannot be read:
the calibrations and contacts in it are each read through here."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from ingest.domain.errors import UserError


def read_stations_file(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"cannot read stations file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path}: not valid TOML ({exc})") from None
