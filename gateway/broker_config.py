"""A Mosquitto configuration for a school network: `classnet broker-config`.

Every station gets its own credential (user name = station id), and the ACL lets it publish only
under its own `classnet/v1/<station>/…`; the gateway and dashboard users only read. Passwords are
generated here, hashed the way Mosquitto 2 expects, and kept in a private credentials file so
that running the command again for a new school does not change anyone else's password.
"""

from __future__ import annotations

import base64
import hashlib
import os
import pwd
import secrets
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from firmware import wire
from ingest.domain.errors import UserError

GATEWAY_USER = "classnet-gateway"
DASHBOARD_USER = "classnet-dashboard"
COORDINATOR_USER = "classnet-coordinator"
SERVICE_USERS = (GATEWAY_USER, DASHBOARD_USER, COORDINATOR_USER)

# Mosquitto 2's "$7$" hash: PBKDF2-HMAC-SHA512 over a 12-byte salt, both base64 in the file
# (mosquitto_passwd writes 101 iterations; the broker reads the count from each line).
_PBKDF2_ITERATIONS = 1000
_SALT_BYTES = 12


@dataclass(frozen=True)
class BrokerOptions:
    port: int = 1883
    bind: str | None = None  # None: every interface, as a school network broker needs
    tls_port: int | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_ca: Path | None = None
    data_dir: Path = Path("/var/lib/mosquitto")
    # A message is at most 64 KiB by the contract; the packet adds topic and header bytes.
    max_packet_bytes: int = wire.MAX_MESSAGE_BYTES + 1024
    session_expiry: str = "14d"
    # Mosquitto started as root drops to this user before reading the password file.
    run_as: str = "mosquitto"


def password_hash(password: str, salt: bytes | None = None) -> str:
    """A Mosquitto 2 password-file hash of `password`."""
    salt = salt if salt is not None else secrets.token_bytes(_SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, _PBKDF2_ITERATIONS)
    salt_b64, digest_b64 = base64.b64encode(salt).decode(), base64.b64encode(digest).decode()
    return f"$7${_PBKDF2_ITERATIONS}${salt_b64}${digest_b64}"


def acl_text() -> str:
    """The ACL: stations write only below their own id; services read what they need."""
    return f"""\
# Written by `classnet broker-config`. Stations publish only under their own id (%u is the
# user name, which is the station id); the last will is checked against the same rule.
pattern write classnet/v1/%u/obs
pattern write classnet/v1/%u/status
pattern write classnet/v1/%u/meta

# The gateway reads everything stations send (also through $share/... subscriptions).
user {GATEWAY_USER}
topic read classnet/v1/+/obs
topic read classnet/v1/+/status
topic read classnet/v1/+/meta

# The dashboard only watches who is online.
user {DASHBOARD_USER}
topic read classnet/v1/+/status
topic read classnet/v1/+/meta

# The coordinator may correct any station's retained metadata.
user {COORDINATOR_USER}
topic readwrite classnet/v1/+/meta
"""


def mosquitto_conf(options: BrokerOptions, password_file: Path, acl_file: Path) -> str:
    lines = [
        "# Written by `classnet broker-config` for a ClassNet Weather network.",
        f"user {options.run_as}",
        "per_listener_settings false",
        "allow_anonymous false",
        f"password_file {password_file}",
        f"acl_file {acl_file}",
        "",
        f"listener {options.port}" + (f" {options.bind}" if options.bind else ""),
    ]
    if options.tls_port is not None:
        if options.tls_cert is None or options.tls_key is None:
            raise UserError("a TLS listener needs --tls-cert and --tls-key (PEM files)")
        lines += [
            f"listener {options.tls_port}" + (f" {options.bind}" if options.bind else ""),
            f"certfile {options.tls_cert}",
            f"keyfile {options.tls_key}",
        ]
        if options.tls_ca is not None:
            lines.append(f"cafile {options.tls_ca}")
    lines += [
        "",
        "# Larger packets than the contract allows are refused by the broker itself.",
        f"max_packet_size {options.max_packet_bytes}",
        "",
        "# Persistent sessions survive a broker restart; saved often so a crash loses little.",
        "persistence true",
        f"persistence_location {options.data_dir}/",
        "autosave_interval 30",
        "",
        "# The default (1000) silently drops QoS 1 messages for a subscriber that falls behind,",
        "# such as a gateway that is restarting: keep far more than a day of a large network.",
        "max_queued_messages 1000000",
        "# The gateway acknowledges a message only once its batch is safe, so the broker must",
        "# let whole batches be in flight (the default 20 would stall batching).",
        "max_inflight_messages 0",
        "",
        "# A station or gateway that never comes back stops holding messages after this.",
        f"persistent_client_expiration {options.session_expiry}",
        "",
    ]
    return "\n".join(lines)


def _read_credentials(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UserError(f"cannot read existing credentials {path}: {exc}") from None
    return {str(k): str(v) for k, v in doc.get("passwords", {}).items()}


def _write_private(path: Path, text: str, mode: int = 0o600) -> None:
    # Created with its final mode, so a secret is never readable by others even briefly.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.chmod(path, mode)


def _share_with_broker(path: Path, user: str) -> None:
    # The broker reads the hashes as its own user; others may not.
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        return
    if os.geteuid() == 0:
        os.chown(path, 0, entry.pw_gid)


def write_broker_config(out_dir: Path, station_ids: Iterable[str], options: BrokerOptions) -> Path:
    """Write mosquitto.conf, passwd, acl and credentials.toml into `out_dir`.

    Returns the credentials file. Existing passwords are kept; new stations get new ones.
    """
    stations = sorted(set(station_ids))
    bad = [s for s in stations if not wire.is_station_id(s)]
    if bad:
        raise UserError(f"not station ids: {', '.join(bad)} (country code, dash, slug)")
    out_dir.mkdir(parents=True, exist_ok=True)
    out_dir = out_dir.resolve()
    credentials = out_dir / "credentials.toml"
    passwords = _read_credentials(credentials)
    for user in (*SERVICE_USERS, *stations):
        passwords.setdefault(user, secrets.token_urlsafe(18))
    _write_private(
        credentials,
        "# Generated by `classnet broker-config`. Secret: give each school only its own line.\n"
        "[passwords]\n"
        + "".join(f'"{user}" = "{password}"\n' for user, password in sorted(passwords.items())),
    )
    _write_private(
        out_dir / "passwd",
        "".join(f"{user}:{password_hash(pw)}\n" for user, pw in sorted(passwords.items())),
        mode=0o640,
    )
    _share_with_broker(out_dir / "passwd", options.run_as)
    (out_dir / "acl").write_text(acl_text(), encoding="utf-8")
    (out_dir / "mosquitto.conf").write_text(
        mosquitto_conf(options, out_dir / "passwd", out_dir / "acl"), encoding="utf-8"
    )
    return credentials
