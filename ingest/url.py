"""Store URLs, the same on every command (`--store`), and the secrets that go with them.

    sqlite:///abs/path.db   sqlite:relative.db
    influxdb://[user@]host:port/database        InfluxDB 1.x over http (influxdbs:// for https)
    influxdb2://host:port/bucket?org=ORG        v2-API servers: 2.x, 3.x, Cloud (influxdb2s://)

Passwords and tokens never appear in a URL or on a command line (where `ps` and shell history
would show them): they come from CLASSNET_INFLUX_PASSWORD / CLASSNET_INFLUX_TOKEN, or from the file
named by CLASSNET_INFLUX_PASSWORD_FILE / CLASSNET_INFLUX_TOKEN_FILE (Docker and systemd secrets).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from ingest.domain.errors import UserError
from ingest.domain.secrets import secret

SCHEMES = ("sqlite", "influxdb", "influxdbs", "influxdb2", "influxdb2s")


@dataclass(frozen=True)
class StoreURL:
    kind: str  # "sqlite", "influxdb1" or "influxdb2"
    path: Path | None = None  # sqlite
    base: str = ""  # http(s)://host:port for InfluxDB
    database: str = ""  # 1.x database or 2.x bucket
    org: str = ""
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)

    def __str__(self) -> str:
        """The URL without secrets, safe to log."""
        if self.kind == "sqlite":
            return (
                f"sqlite:///{self.path}"
                if self.path and self.path.is_absolute()
                else (f"sqlite:{self.path}")
            )
        user = f"{self.user}@" if self.user else ""
        scheme, rest = self.base.split("://", 1)
        prefix = {"influxdb1": "influxdb", "influxdb2": "influxdb2"}[self.kind]
        tls = "s" if scheme == "https" else ""
        query = f"?org={self.org}" if self.kind == "influxdb2" else ""
        return f"{prefix}{tls}://{user}{rest}/{self.database}{query}"


def parse_store_url(url: str) -> StoreURL:
    """Parse `--store`; every mistake comes back as a sentence with the right form."""
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme not in SCHEMES:
        raise UserError(
            f"store {url!r}: use sqlite:///path.db, influxdb://host:8086/database "
            "or influxdb2://host:8086/bucket?org=ORG"
        )
    if scheme == "sqlite":
        rest = url[len("sqlite:") :]
        if rest.startswith("//"):
            rest = rest[2:]
            if not rest.startswith("/"):
                raise UserError(f"store {url!r}: sqlite:///abs/path.db or sqlite:relative.db")
        if not rest:
            raise UserError(f"store {url!r}: no file name (sqlite:///var/lib/classnet/obs.db)")
        return StoreURL("sqlite", path=Path(rest))
    parts = urlsplit(url)
    if parts.password:
        raise UserError(
            "store URL carries a password; put it in CLASSNET_INFLUX_PASSWORD "
            "(or CLASSNET_INFLUX_TOKEN for a v2 token) instead"
        )
    if not parts.hostname:
        raise UserError(f"store {_redacted(url)!r}: no host (influxdb://localhost:8086/classnet)")
    database = parts.path.strip("/")
    if not database or "/" in database:
        raise UserError(
            f"store {_redacted(url)!r}: name one database (1.x) or bucket (2.x) after the host"
        )
    http = "https" if scheme in ("influxdbs", "influxdb2s") else "http"
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    base = f"{http}://{host}:{parts.port or 8086}"
    if scheme.startswith("influxdb2"):
        org = parse_qs(parts.query).get("org", [""])[0]
        if not org:
            raise UserError(f"store {_redacted(url)!r}: add ?org=YOUR_ORG for a v2-API server")
        return StoreURL(
            "influxdb2",
            base=base,
            database=database,
            org=org,
            token=secret("CLASSNET_INFLUX_TOKEN"),
        )
    return StoreURL(
        "influxdb1",
        base=base,
        database=database,
        user=parts.username,
        password=secret("CLASSNET_INFLUX_PASSWORD") if parts.username else None,
    )


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


def add_store_argument(parser: argparse.ArgumentParser, default: str | None = None) -> None:
    parser.add_argument(
        "--store",
        default=default,
        required=default is None,
        metavar="URL",
        help="sqlite:///path.db, influxdb://[user@]host:8086/db or influxdb2://host:8086/bucket"
        "?org=ORG; secrets from CLASSNET_INFLUX_PASSWORD / CLASSNET_INFLUX_TOKEN"
        + (f" (default {default})" if default else ""),
    )
