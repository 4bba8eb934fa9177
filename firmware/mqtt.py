# A small MQTT 3.1.1 client for the station: CONNECT (with a last will), PUBLISH at QoS 0/1
# waiting for the PUBACK, PINGREQ, DISCONNECT. Nothing else: a station publishes, it never
# subscribes. Shaped after micropython-lib's umqtt.simple, but it raises instead of asserting,
# bounds every wait with a socket timeout, and builds each packet in a pure function so the tests
# check the bytes (tests/firmware/test_mqtt.py). Runs under MicroPython and CPython.
# Spec: MQTT Version 3.1.1, OASIS Standard, 2014 (section numbers below refer to it).
import struct

CONNECT = 0x10
CONNACK = 0x20
PUBLISH = 0x30
PUBACK = 0x40
PINGREQ = 0xC0
PINGRESP = 0xD0
DISCONNECT = 0xE0

# 3.2.2.3: CONNACK return codes, as sentences a teacher can act on.
CONNACK_REASONS = {
    1: "the broker refuses MQTT 3.1.1 (protocol version)",
    2: "the broker rejected the client id (station id)",
    3: "the broker is unavailable",
    4: "bad user name or password",
    5: "not authorised (check the broker's user name, password and ACL)",
}


class MQTTError(Exception):
    """The broker answered something we cannot go on with (refused, malformed, wrong packet)."""


class CertificateError(OSError):
    """The broker's TLS certificate failed the check against the station's CA, or there is no
    usable CA to check it with."""


def remaining_length(n):
    """2.2.3: the Remaining Length as 1..4 bytes, 7 bits each, low group first."""
    if not 0 <= n <= 268435455:
        raise ValueError("MQTT packet of %d bytes is too large" % n)
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _utf8(text):
    # 1.5.3: a UTF-8 string is a 2-byte big-endian length, then the bytes.
    if isinstance(text, str):
        text = text.encode()
    if len(text) > 65535:
        raise ValueError("MQTT string of %d bytes is longer than 65535" % len(text))
    return struct.pack("!H", len(text)) + text


def connect_packet(
    client_id, keepalive=60, clean_session=True, user=None, password=None, will=None
):
    """3.1: the CONNECT packet. `will` is (topic, message, qos, retain) or None."""
    flags = 0x02 if clean_session else 0
    payload = _utf8(client_id)
    if will is not None:
        w_topic, w_msg, w_qos, w_retain = will
        flags |= 0x04 | (w_qos << 3) | (0x20 if w_retain else 0)
        payload += _utf8(w_topic) + _utf8(w_msg)
    if user is not None:
        flags |= 0x80
        payload += _utf8(user)
        if password is not None:
            flags |= 0x40
            payload += _utf8(password)
    # 3.1.2: protocol name "MQTT", level 4 (= 3.1.1), connect flags, keep alive in seconds.
    variable = b"\x00\x04MQTT\x04" + bytes((flags,)) + struct.pack("!H", keepalive)
    body = variable + payload
    return bytes((CONNECT,)) + remaining_length(len(body)) + body


def publish_header(topic, size, qos=0, retain=False, pid=0):
    """3.3: everything of a PUBLISH packet before the `size`-byte message, so a large backlog
    message is written straight from its buffer without being copied into the packet."""
    if qos not in (0, 1):
        raise ValueError("QoS %r not supported (0 or 1)" % qos)
    topic_bytes = _utf8(topic)
    extra = topic_bytes + (struct.pack("!H", pid) if qos else b"")
    first = PUBLISH | (qos << 1) | (1 if retain else 0)
    return bytes((first,)) + remaining_length(len(extra) + size) + extra


class MQTTClient:
    """One connection to the broker. `sock_factory(host, port, tls, timeout_s, cadata)` returns
    a connected socket; the default opens a TCP (or TLS) socket, the tests hand in their own.
    `cadata`: the DER certificate of the CA that must have signed the broker's (see tls_wrap)."""

    def __init__(
        self,
        client_id,
        host,
        port=1883,
        user=None,
        password=None,
        keepalive=60,
        tls=False,
        timeout_s=5,
        sock_factory=None,
        cadata=None,
    ):
        self.client_id = client_id
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.keepalive = keepalive
        self.tls = tls
        self.cadata = cadata
        self.timeout_s = timeout_s
        self.sock_factory = sock_factory or open_socket
        self.sock = None
        self.will = None
        self.pid = 0

    def set_last_will(self, topic, msg, retain=False, qos=0):
        self.will = (topic, msg, qos, retain)

    def connect(self, clean_session=True):
        """Open the connection; returns the CONNACK's session-present flag."""
        self.close()
        self.sock = self.sock_factory(self.host, self.port, self.tls, self.timeout_s, self.cadata)
        self._write(
            connect_packet(
                self.client_id,
                self.keepalive,
                clean_session,
                self.user,
                self.password,
                self.will,
            )
        )
        kind, body = self._read_packet()
        if kind != CONNACK or len(body) != 2:
            raise MQTTError("expected CONNACK, got packet type 0x%02x" % kind)
        if body[1]:
            raise MQTTError(CONNACK_REASONS.get(body[1], "refused (code %d)" % body[1]))
        return body[0] & 1

    def publish(self, topic, msg, retain=False, qos=0):
        """Send `msg`: bytes, or a list of bytes sent one after another as one message (see
        wire.batch_parts); at QoS 1 return only after the broker's PUBACK for it."""
        parts = msg if isinstance(msg, list) else (msg,)
        size = 0
        for part in parts:
            size += len(part)
        if qos:
            # 2.3.1: packet identifiers are 1..65535.
            self.pid = self.pid % 65535 + 1
        self._write(publish_header(topic, size, qos, retain, self.pid))
        for part in parts:
            self._write(part)
        if qos:
            self._wait_for(PUBACK, self.pid)

    def ping(self):
        """PINGREQ and wait for PINGRESP: proves the connection is still alive."""
        self._write(b"\xc0\x00")
        self._wait_for(PINGRESP, None)

    def disconnect(self):
        if self.sock is not None:
            try:  # noqa: SIM105 (MicroPython has no contextlib)
                self._write(b"\xe0\x00")
            except OSError:
                pass
        self.close()

    def close(self):
        if self.sock is not None:
            try:  # noqa: SIM105 (MicroPython has no contextlib)
                self.sock.close()
            except OSError:
                pass
            self.sock = None

    def _wait_for(self, kind, pid):
        # Bounded: the socket timeout ends each read; anything else the broker sends first (a
        # stray PINGRESP) is skipped, at most 8 packets.
        for _ in range(8):
            got, body = self._read_packet()
            if got == kind and (pid is None or body == struct.pack("!H", pid)):
                return
        raise MQTTError("no %s from the broker" % ("PUBACK" if kind == PUBACK else "PINGRESP"))

    def _write(self, data):
        sock = self.sock
        if sock is None:
            raise OSError("not connected")
        if hasattr(sock, "write"):  # MicroPython sockets and TLS streams
            view = memoryview(data)
            while len(view):
                n = sock.write(view)
                if n is None:
                    n = 0
                view = view[n:]
        else:  # CPython
            sock.sendall(data)

    def _read_exact(self, n):
        sock = self.sock
        if sock is None:
            raise OSError("not connected")
        out = b""
        while len(out) < n:
            chunk = sock.read(n - len(out)) if hasattr(sock, "read") else sock.recv(n - len(out))
            if not chunk:
                raise OSError("broker closed the connection")
            out += chunk
        return out

    def _read_packet(self):
        first = self._read_exact(1)[0]
        size = 0
        shift = 0
        for _ in range(4):
            byte = self._read_exact(1)[0]
            size |= (byte & 0x7F) << shift
            if not byte & 0x80:
                break
            shift += 7
        else:
            raise MQTTError("malformed remaining length from the broker")
        return first & 0xF0, self._read_exact(size) if size else b""


def open_socket(host, port, tls=False, timeout_s=5, cadata=None):
    """A connected TCP socket (TLS-wrapped if asked), with `timeout_s` on every operation."""
    import socket

    addr = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)[0][-1]
    sock = socket.socket()
    sock.settimeout(timeout_s)
    try:
        sock.connect(addr)
        if tls:
            sock = tls_wrap(sock, host, cadata)
    except Exception:
        sock.close()
        raise
    return sock


def tls_wrap(sock, host, cadata=None):
    """TLS over a connected socket. With `cadata` (one DER certificate: not every MicroPython
    port's mbedTLS parses PEM) the broker must show a certificate that CA signed for `host`;
    without it the link is encrypted but anyone could pose as the broker, since a board has no
    store of public CAs. Same code under CPython and MicroPython (1.22+: `ssl.SSLContext` over
    the `tls` module)."""
    import ssl

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if cadata is None:
        if hasattr(ctx, "check_hostname"):  # CPython refuses CERT_NONE while it checks names
            ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    else:
        ctx.verify_mode = ssl.CERT_REQUIRED
        try:
            ctx.load_verify_locations(cadata=cadata)
        except (ValueError, OSError) as exc:
            raise CertificateError("the CA file is not a DER certificate (%s)" % exc) from None
    try:
        return ctx.wrap_socket(sock, server_hostname=host)
    except ValueError as exc:
        # A failed check: MicroPython raises ValueError with mbedTLS's verify text (other
        # handshake failures are OSError), CPython an SSLCertVerificationError, a ValueError too.
        why = getattr(exc, "verify_message", None) or str(exc)
        raise CertificateError("; ".join(line for line in why.split("\n") if line)) from None
