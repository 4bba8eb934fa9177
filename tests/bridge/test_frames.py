"""The serial framing (firmware/frame.py), byte for byte, under CPython and MicroPython."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firmware import frame
from tests.firmware import mpy

OBS = b'{"ts":1763884800,"seq":42,"temp_c":21.4}'


def test_a_frame_byte_for_byte() -> None:
    # "#cn:" + "o:fi-tampere-01:" + 40 bytes of JSON + "*" + 8 hex digits + "\n"
    #   = 4 + 16 + 40 + 1 + 8 + 1 = 70 bytes; the CRC covers the 16 + 40 = 56 between
    got = frame.encode(b"o", b"fi-tampere-01", OBS)
    assert got == b'#cn:o:fi-tampere-01:{"ts":1763884800,"seq":42,"temp_c":21.4}*cfa54f18\n'
    assert len(got) == 70
    assert int(got[-9:-1], 16) == zlib.crc32(got[4:60])
    assert frame.crc(b"123456789") == b"cbf43926"  # the CRC-32 check value


def test_the_same_bytes_under_micropython(micropython: str, tmp_path: Path) -> None:
    ack = frame.encode(b"a", b"42", b"cfa54f18")
    code = (
        "from firmware import frame\n"
        f"print(frame.encode(b'o', b'fi-tampere-01', {OBS!r}))\n"
        f"print(frame.decode(b'junk #cn:x ' + {ack[:-1]!r}))\n"
    )
    out = mpy.run(micropython, code, tmp_path).splitlines()
    assert out[0] == repr(frame.encode(b"o", b"fi-tampere-01", OBS))
    assert out[1] == repr((b"a", b"42", b"cfa54f18", ack[-9:-1]))


def test_text_before_a_frame_is_ignored_and_lines_without_one_are_not_frames() -> None:
    line = frame.encode(b"o", b"fi-tampere-01", OBS)[:-1]
    assert frame.decode(b"debug: wind 12 Hz " + line) == (b"o", b"fi-tampere-01", OBS, line[-8:])
    assert frame.decode(b"station fi-tampere-01 is online") is None
    # a body that itself holds the prefix: the frame still starts at the first one
    tricky = frame.encode(b"m", b"fi-tampere-01", b'{"name": "#cn:club"}')[:-1]
    assert frame.decode(tricky)[2] == b'{"name": "#cn:club"}'


@pytest.mark.parametrize(
    "damage",
    [
        lambda f: f.replace(b'"seq":42', b'"seq":43'),  # one digit flipped
        lambda f: f[:30] + f[40:],  # bytes lost
        lambda f: f[:-3],  # cut short
        lambda f: f.replace(b"*", b"+"),  # no checksum
    ],
)
def test_a_damaged_frame_is_caught(damage) -> None:
    line = frame.encode(b"o", b"fi-tampere-01", OBS)[:-1]
    with pytest.raises(frame.FrameError):
        frame.decode(damage(line))


@given(st.lists(st.binary(max_size=40), max_size=30), st.lists(st.integers(1, 50), min_size=1))
def test_line_reader_splits_any_chunking_the_same_and_stays_bounded(parts, cuts) -> None:
    stream = b"\n".join(p.replace(b"\n", b"") for p in parts) + b"\n"
    whole = frame.LineReader(32)
    expected = whole.feed(stream)
    reader = frame.LineReader(32)
    got: list[bytes] = []
    at = 0
    for i in range(len(stream)):
        size = cuts[i % len(cuts)]
        got += reader.feed(stream[at : at + size])
        at += size
        assert len(reader.buf) <= 32
        if at >= len(stream):
            break
    assert got == expected
    assert all(len(x) <= 32 for x in got)
    assert reader.overlong == whole.overlong
