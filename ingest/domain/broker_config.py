"""A Mosquitto configuration for a school network: `classnet broker-config`.

Every station gets its own credential (user name = station id), and the ACL lets it publish only
under its own `classnet/v1/<station>/…`; the gateway and dashboard users only read. The broker
makes each client's id its login (`use_username_as_clientid`), so no login can take another's
session. Passwords are
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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from firmware import wire
from ingest.domain.errors import UserError

GATEWAY_USER = "classnet-gateway"
DASHBOARD_USER = "classnet-dashboard"
COORDINATOR_USER = "classnet-coordinator"

# Mosquitto 2's "$7$" hash: PBKDF2-HMAC-SHA512 over a 12-byte salt, both base64 in the file
# (mosquitto_passwd writes 101 iterations; the broker reads the count from each line).
_PBKDF2_ITERATIONS = 1000
_SALT_BYTES = 12
MIB = 1 << 20


@dataclass(frozen=True)
class BrokerOptions:
    port: int = 1883
    bind: str | None = None  # None: every interface, as a school network broker needs
    # With a TLS listener, where the plain one listens: localhost unless asked ("any": every
    # interface), since station passwords cross a plain listener in clear.
    plain_bind: str | None = None
    tls_port: int | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_ca: Path | None = None
    data_dir: Path = Path("/var/lib/mosquitto")
    # A message is at most 64 KiB by the contract; the packet adds topic and header bytes.
    # None leaves the broker unlimited (the tests' broker: they check the gateway's own limit).
    max_packet_bytes: int | None = wire.MAX_MESSAGE_BYTES + 1024
    max_queued_messages: int = 1_000_000
    max_queued_mib: int = 1024
    session_expiry: str = "14d"
    # Mosquitto started as root drops to this user before reading the password file.
    run_as: str = "mosquitto"
    gateways: int = 1  # logins for the gateways of a share group, one each
    autosave_s: int = 30
    log_file: Path | None = None


def gateway_users(count: int) -> list[str]:
    """One login per gateway: `classnet-gateway`, then `classnet-gateway-2` … for a share group.
    The broker binds each client id to its login, so two gateways can never share a session."""
    if count < 1:
        raise UserError(f"--gateways {count}: at least one gateway needs a login")
    return [GATEWAY_USER, *(f"{GATEWAY_USER}-{n}" for n in range(2, count + 1))]


def password_hash(password: str, salt: bytes | None = None) -> str:
    """A Mosquitto 2 password-file hash of `password`."""
    salt = salt if salt is not None else secrets.token_bytes(_SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, _PBKDF2_ITERATIONS)
    salt_b64, digest_b64 = base64.b64encode(salt).decode(), base64.b64encode(digest).decode()
    return f"$7${_PBKDF2_ITERATIONS}${salt_b64}${digest_b64}"


def acl_text(stations: Sequence[str], gateways: int = 1) -> str:
    """The ACL: each station writes only below its own id; each service login reads what its role
    needs and writes nowhere but the coordinator's metadata corrections.

    One block per login rather than `pattern` lines: a pattern applies to every login, so
    `pattern write classnet/v1/%u/obs` would also let `classnet-gateway` publish under
    `classnet/v1/classnet-gateway/`."""
    out = [
        "# Written by `classnet broker-config`. No pattern lines: each login gets exactly the",
        "# topics below (a station its own three, the last will included), nothing else.",
    ]
    for station in stations:
        out += [
            "",
            f"user {station}",
            *(f"topic write {wire.topic(station, kind)}" for kind in ("obs", "status", "meta")),
        ]
    for user in gateway_users(gateways):
        # The gateway reads everything stations send (also through $share/... subscriptions).
        out += ["", f"user {user}"] + [
            f"topic read {wire.TOPIC_PREFIX}+/{kind}" for kind in ("obs", "status", "meta")
        ]
    out += [
        "",
        "# The dashboard only watches who is online.",
        f"user {DASHBOARD_USER}",
        f"topic read {wire.TOPIC_PREFIX}+/status",
        f"topic read {wire.TOPIC_PREFIX}+/meta",
        "",
        "# The coordinator may correct each station's retained metadata (named one by one:",
        "# a wildcard would also let it write classnet/v1/classnet-coordinator/meta).",
        f"user {COORDINATOR_USER}",
        *(f"topic readwrite {wire.topic(station, 'meta')}" for station in stations),
        "",
    ]
    return "\n".join(out)


def _listener(port: int, bind: str | None) -> str:
    return f"listener {port}" + (f" {bind}" if bind and bind != "any" else "")


def mosquitto_conf(options: BrokerOptions, logins: tuple[Path, Path] | None) -> str:
    """mosquitto.conf text. `logins` (password file, ACL) for a network broker; None for a
    private loopback broker without logins (the demo's and the tests')."""
    lines = [
        "# Written by ClassNet Weather (ingest/domain/broker_config.py) for its network.",
        f"user {options.run_as}",
        "per_listener_settings false",
    ]
    if logins is None:
        lines.append("allow_anonymous true")
    else:
        password_file, acl_file = logins
        lines += [
            "allow_anonymous false",
            f"password_file {password_file}",
            f"acl_file {acl_file}",
            "",
            "# On every listener (it is a listener setting: written before any listener, it",
            "# would open a default one on 1883), a client's id is its login's name, whatever id",
            "# it asks for: no login can take over another client's session (a station kicking",
            "# the gateway and its queued messages, or another station and firing its last",
            "# will). Each gateway of a share group therefore has a login of its own.",
        ]
    bound = [] if logins is None else ["use_username_as_clientid true"]
    plain_bind = options.bind
    if options.tls_port is not None:
        plain_bind = options.plain_bind or "127.0.0.1"
    lines += [_listener(options.port, plain_bind), *bound]
    if options.tls_port is not None:
        if options.tls_cert is None or options.tls_key is None:
            raise UserError("a TLS listener needs --tls-cert and --tls-key (PEM files)")
        # Absolute: the broker resolves relative paths against its own working directory.
        lines += [
            _listener(options.tls_port, options.bind),
            *bound,
            f"certfile {options.tls_cert.resolve()}",
            f"keyfile {options.tls_key.resolve()}",
        ]
        if options.tls_ca is not None:
            lines.append(f"cafile {options.tls_ca.resolve()}")
    queued_bytes = options.max_queued_mib * MIB
    if options.max_packet_bytes is not None:
        lines += [
            "",
            "# Larger packets than the contract allows are refused by the broker itself.",
            f"max_packet_size {options.max_packet_bytes}",
        ]
    lines += [
        "",
        "# Persistent sessions survive a broker restart; saved often so a crash loses little.",
        "persistence true",
        f"persistence_location {options.data_dir.resolve()}/",
        f"autosave_interval {options.autosave_s}",
        "",
        "# The default (1000) silently drops QoS 1 messages for a subscriber that falls behind,",
        "# such as a gateway that is restarting: keep far more than a day of a large network.",
        f"max_queued_messages {options.max_queued_messages}",
        "# ...but bounded in bytes too, or one station sending full-size messages while the",
        "# gateway is away fills the broker's memory: "
        f"{options.max_queued_messages:,} x {wire.MAX_MESSAGE_BYTES + 1024:,} B",
        f"# = {options.max_queued_messages * (wire.MAX_MESSAGE_BYTES + 1024) / (1 << 30):,.0f} GiB"
        f" per gateway session. {options.max_queued_mib} MiB holds "
        f"{queued_bytes // (wire.MAX_MESSAGE_BYTES + 1024):,} full-size messages,",
        f"# or {queued_bytes // 300:,} typical 300 B ones (so the message count binds first"
        " for real traffic);",
        "# the broker's memory for queues is at most that times the gateways' sessions.",
        f"max_queued_bytes {queued_bytes}",
        "# The gateway acknowledges a message only once its batch is safe, so the broker must",
        "# let whole batches be in flight (the default 20 would stall batching). In bytes they",
        "# are bounded too (a connected gateway whose store is slow holds them all): a gateway",
        "# has about 6 batches of 5,000 messages in hand, 9 MB at 300 B a message; "
        f"{queued_bytes // 4 // MIB} MiB",
        "# lets those flow whole, and full-size messages beyond it wait in the queue above.",
        "max_inflight_messages 0",
        f"max_inflight_bytes {queued_bytes // 4}",
        "",
        "# A station or gateway that never comes back stops holding messages after this.",
        f"persistent_client_expiration {options.session_expiry}",
        "",
    ]
    if options.log_file is not None:
        lines += [
            f"log_dest file {options.log_file}",
            "log_type error",
            "log_type warning",
            "log_type notice",
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
    services = [*gateway_users(options.gateways), DASHBOARD_USER, COORDINATOR_USER]
    for user in (*services, *stations):
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
    (out_dir / "acl").write_text(acl_text(stations, options.gateways), encoding="utf-8")
    (out_dir / "mosquitto.conf").write_text(
        mosquitto_conf(options, (out_dir / "passwd", out_dir / "acl")), encoding="utf-8"
    )
    return credentials
