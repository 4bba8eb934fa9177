# The board's USB serial as the station's uplink (transport "serial"): the same stream as the
# REPL and print(), i.e. sys.stdin and sys.stdout, on an ESP32 (UART0 behind its USB-serial chip,
# or native USB) and on a Pico (USB CDC). Shared by firmware/board.py and the emulated board.
import select
import sys

_poll = None


def usb_write(data):
    """Write bytes; with no computer listening they are lost, as on the wire, never an error."""
    try:  # noqa: SIM105 (MicroPython has no contextlib)
        sys.stdout.buffer.write(data)
    except OSError:
        pass


def usb_read(max_bytes=512):
    """The bytes waiting on the USB serial, at most `max_bytes`, without waiting (b"" if none).

    One byte per read: a board's stdin.read(n) waits until n bytes came."""
    global _poll
    if _poll is None:
        _poll = select.poll()
        _poll.register(sys.stdin, select.POLLIN)
    out = b""
    while len(out) < max_bytes and _poll.poll(0):
        try:
            got = sys.stdin.buffer.read(1)
        except OSError:  # the unix port's pty with nobody on the other end
            got = None
        if not got:
            break
        out += got
    return out
