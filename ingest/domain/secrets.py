"""Secrets (passwords, tokens) from the environment or a file, never from a command line or URL:
`NAME`, or the file `NAME_FILE` names (Docker and systemd secrets)."""

from __future__ import annotations

import os
from pathlib import Path

from ingest.domain.errors import UserError


def secret(name: str) -> str | None:
    """A secret from the environment variable `name`, else from the file `name`_FILE names."""
    value = os.environ.get(name)
    if value:
        return value
    path = os.environ.get(f"{name}_FILE")
    if not path:
        return None
    try:
        return Path(path).read_text(encoding="utf-8").strip() or None
    except OSError as exc:
        raise UserError(f"{name}_FILE={path}: cannot read it ({exc.strerror})") from None
