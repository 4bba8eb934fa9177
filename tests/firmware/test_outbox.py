"""The flash buffer: bounded, ordered, survives restarts, counts what it drops."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from firmware.outbox import Outbox
from tests.firmware import mpy


def line(i: int) -> bytes:
    return json.dumps({"ts": 1763884800 + i, "seq": i}, separators=(",", ":")).encode()


def drain(box: Outbox, batch: int = 7) -> list[int]:
    got: list[int] = []
    while True:
        lines, pos = box.peek(batch)
        if pos is None:
            return got
        got += [json.loads(x)["seq"] for x in lines]
        box.commit(pos)


@pytest.fixture(autouse=True)
def _cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def test_lines_leave_in_order_across_segments() -> None:
    box = Outbox("ob", capacity=100, segment=10)
    for i in range(35):
        box.append(line(i))
    assert box.pending() == 35
    assert drain(box) == list(range(35))
    assert box.empty()
    assert len(os.listdir("ob")) <= 2  # the tail segment and the head record


def test_unacknowledged_lines_are_offered_again() -> None:
    box = Outbox("ob", capacity=100, segment=10)
    for i in range(5):
        box.append(line(i))
    first, _ = box.peek(3)
    again, pos = box.peek(3)
    assert first == again
    box.commit(pos)
    assert drain(box) == [3, 4]


def test_a_restart_keeps_everything_not_acknowledged() -> None:
    box = Outbox("ob", capacity=100, segment=10)
    for i in range(25):
        box.append(line(i))
    _, pos = box.peek(12)
    box.commit(pos)  # 0..9 acknowledged (a batch stays within one segment)
    _, _unacked = box.peek(4)
    reopened = Outbox("ob", capacity=100, segment=10)
    for i in range(25, 28):
        reopened.append(line(i))
    assert drain(reopened) == list(range(10, 28))


def test_the_newest_line_is_known_after_a_restart_even_once_sent() -> None:
    # The station stamps its first reading after a restart later than this one's ts.
    box = Outbox("ob", capacity=100, segment=10)
    assert box.newest is None
    for i in range(23):
        box.append(line(i))
    drain(box)
    assert Outbox("ob", capacity=100, segment=10).newest == line(22)
    with open(f"ob/{sorted(os.listdir('ob'))[-2]}", "ab") as f:
        f.write(line(23)[:9])  # torn by a power cut: no newest line to trust
    assert Outbox("ob", capacity=100, segment=10).newest is None


def test_full_buffer_drops_the_oldest_segment_and_counts_it() -> None:
    box = Outbox("ob", capacity=20, segment=10)  # 2 full segments + the one being written
    for i in range(45):
        box.append(line(i))
    # line 30 opened segment 3 and dropped segment 0; line 40 opened 4 and dropped 1
    assert box.dropped == 20
    assert drain(box) == list(range(20, 45))
    assert Outbox("ob", capacity=20, segment=10).dropped == 20


def test_a_line_torn_by_a_power_cut_is_skipped_and_counted() -> None:
    box = Outbox("ob", capacity=100, segment=10)
    box.append(line(0))
    with open("ob/00000000.log", "ab") as f:
        f.write(b'{"ts":17638')  # power cut mid-write
    reopened = Outbox("ob", capacity=100, segment=10)
    reopened.append(line(1))
    assert drain(reopened) == [0, 1]
    assert reopened.corrupt == 1


def test_seven_days_at_five_minutes_fit_the_default_capacity() -> None:
    box = Outbox("ob")
    for i in range(7 * 24 * 12):
        box.append(line(i))
    assert box.dropped == 0
    assert box.pending() == 2016


def test_outbox_runs_unchanged_under_micropython(micropython: str, tmp_path: Path) -> None:
    code = """
from firmware.outbox import Outbox
b = Outbox('ob', capacity=20, segment=10)
for i in range(45):
    b.append(b'{"seq":%d}' % i)
lines, pos = b.peek(4)
b.commit(pos)
b2 = Outbox('ob', capacity=20, segment=10)
before = b2.waiting
out = []
while True:
    lines, pos = b2.peek(6)
    if pos is None:
        break
    out += [int(x[7:-1]) for x in lines]
    b2.commit(pos)
print(b2.dropped, out[0], out[-1], len(out), before, b2.waiting, Outbox('ob', 20, 10).newest)
"""
    assert mpy.run(micropython, code, tmp_path).split() == [
        "20", "24", "44", "21", "21", "0", "b'{\"seq\":44}'"
    ]  # fmt: skip


def test_a_line_longer_than_any_observation_is_skipped_as_corrupt() -> None:
    box = Outbox("ob", capacity=100, segment=10)
    box.append(line(0))
    with open("ob/00000000.log", "ab") as f:
        f.write(b"{" + b"x" * 1500 + b"}\n")  # no observation is that long
    box.append(line(1))
    got = []
    while True:
        lines, pos = box.peek(7, 1024)  # the smallest peek: one MAX_LINE
        if pos is None:
            break
        got += [json.loads(x)["seq"] for x in lines]
        box.commit(pos)
    assert got == [0, 1]
    assert box.corrupt == 2  # 1024 bytes without a newline, then the rest up to it


def test_a_batch_stays_within_max_bytes() -> None:
    box = Outbox("ob", capacity=100, segment=100)
    for i in range(50):
        box.append(line(i))
    lines, _ = box.peek(48, 1024)
    assert sum(len(x) + 1 for x in lines) <= 1024 < sum(len(x) + 1 for x in lines) + len(line(0))


def test_waiting_counts_the_unsent_lines_without_reading_the_files() -> None:
    box = Outbox("ob", capacity=20, segment=10)
    assert box.waiting == 0
    for i in range(25):
        box.append(line(i))
    assert box.waiting == box.pending() == 25
    _, pos = box.peek(4)
    box.commit(pos)
    assert box.waiting == box.pending() == 21
    for i in range(25, 35):  # line 30 opens a fourth segment: the oldest (part-sent) goes
        box.append(line(i))
    assert box.dropped == 6
    assert box.waiting == box.pending() == 25
    with open(box._seg_path(box.segs[-1]), "ab") as f:
        f.write(b'{"ts":17638')  # power cut mid-write
    reopened = Outbox("ob", capacity=20, segment=10)  # counted again at boot
    assert reopened.waiting == reopened.pending() == 26
    drain(reopened, batch=6)
    assert reopened.waiting == reopened.pending() == 0


def test_waiting_after_a_line_longer_than_any_observation() -> None:
    box = Outbox("ob", capacity=100, segment=10)
    box.append(line(0))
    with open("ob/00000000.log", "ab") as f:
        f.write(b"{" + b"x" * 1500 + b"}\n")
    box = Outbox("ob", capacity=100, segment=10)
    box.append(line(1))
    assert box.waiting == box.pending() == 3
    _, pos = box.peek(7, 1024)
    box.commit(pos)
    assert box.waiting == box.pending()
    drain(box)
    assert box.waiting == 0
