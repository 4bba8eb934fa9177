# Store-and-forward: the station's bounded buffer of unsent observations in flash.
#
# Every observation is appended here first (one JSON line) and leaves only when the broker has
# acknowledged it, so a power cut, a watchdog reset or a dead Wi-Fi never loses a reading that was
# taken. Lines live in numbered segment files of `segment` lines; `head` records how far the
# oldest segment has been sent (segment number and byte offset), written to a temporary file and
# renamed, which littlefs (the ESP32/Pico default) does atomically.
#
# Bounded: at most `capacity` unsent lines are kept (rounded up to whole segments). When full, the
# oldest segment is dropped and the lost lines are counted in `dropped` (mqtt_as's MsgQueue
# discards, on flash). A line torn by a power cut mid-write is skipped and counted in `corrupt`.
# `waiting` is how many lines wait to be sent, kept up to date in RAM (the station reports it in
# its status; counting the files each time would read up to 450 KB).
#
# At-least-once: a power cut between the broker's PUBACK and the head update sends that batch
# again; the store keeps one point per (station, ts), so the repeat is harmless.
#
# Pure logic over `os` and files: runs unchanged under MicroPython and CPython.
import os

_HEAD = "head"
_SUFFIX = ".log"
MAX_LINE = 1024  # bytes: an observation line is under half that (14 fields)


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def _size(path):
    return os.stat(path)[6]


class Outbox:
    def __init__(self, path="outbox", capacity=2304, segment=144):
        if capacity < 1 or segment < 1:
            raise ValueError("outbox capacity and segment must be at least 1")
        self.path = path
        self.segment = segment
        # One more than capacity needs: the head segment is usually part-sent.
        self.max_segments = (capacity + segment - 1) // segment + 1
        self.dropped = 0
        self.corrupt = 0
        if not _exists(path):
            os.mkdir(path)
        self.segs = sorted(
            int(name[: -len(_SUFFIX)]) for name in os.listdir(path) if name.endswith(_SUFFIX)
        )
        self.head_seg, self.head_off = self._load_head()
        self.tail_lines = 0
        self.newest = None  # the latest line appended, sent or not (None: unknown)
        if self.segs:
            self.tail_lines = self._repair_tail()
        if self.segs and self.head_seg < self.segs[0]:
            self.head_seg, self.head_off = self.segs[0], 0
        self.waiting = self._count_waiting()

    # -- file names and the head record

    def _seg_path(self, n):
        return "%s/%08d%s" % (self.path, n, _SUFFIX)

    def _load_head(self):
        for name in (_HEAD, _HEAD + ".tmp"):
            try:
                with open(self.path + "/" + name) as f:
                    parts = f.read().split()
                seg, off, self.dropped, self.corrupt = (int(p) for p in parts[:4])
                return seg, off
            except (OSError, ValueError):
                continue
        return (self.segs[0] if self.segs else 0), 0

    def _save_head(self):
        tmp = self.path + "/" + _HEAD + ".tmp"
        final = self.path + "/" + _HEAD
        with open(tmp, "w") as f:
            f.write("%d %d %d %d\n" % (self.head_seg, self.head_off, self.dropped, self.corrupt))
        try:
            os.rename(tmp, final)
        except OSError:  # FAT will not rename onto an existing file
            os.remove(final)
            os.rename(tmp, final)

    def _repair_tail(self):
        # A power cut mid-append can leave a line without its newline; end it, so the next line
        # starts clean and the fragment is skipped as corrupt. Returns the tail's line count.
        # The tail segment stays after it is sent, so its last line is the newest reading kept.
        path = self._seg_path(self.segs[-1])
        lines = 0
        end = b"\n"  # the file's last bytes, enough to hold its last line
        with open(path, "rb") as f:
            while True:
                chunk = f.read(512)
                if not chunk:
                    break
                lines += chunk.count(b"\n")
                end = (end + chunk)[-MAX_LINE - 2 :]
        if end[-1:] != b"\n":
            with open(path, "ab") as f:
                f.write(b"\n")
            return lines + 1
        body = end[:-1]
        self.newest = body[body.rfind(b"\n") + 1 :] or None
        return lines

    def _count_waiting(self):
        # At boot: the head segment is read from where sending stopped and the tail's lines are
        # known (_repair_tail); a segment in between was closed when it held `segment` lines, so
        # a station that wakes from deep sleep with a full outbox does not read all of it.
        if not self.segs:
            return 0
        count = self._count_lines(self.head_seg, self.head_off)
        if len(self.segs) > 1:
            count += (len(self.segs) - 2) * self.segment + self.tail_lines
        return count

    # -- writing

    def append(self, line):
        """Keep one encoded observation (bytes, no newline) until it is acknowledged."""
        if b"\n" in line:
            raise ValueError("an outbox line cannot contain a newline")
        if not self.segs or self.tail_lines >= self.segment:
            self._new_segment()
        with open(self._seg_path(self.segs[-1]), "ab") as f:
            f.write(line + b"\n")
        self.newest = line
        self.tail_lines += 1
        self.waiting += 1

    def _new_segment(self):
        n = self.segs[-1] + 1 if self.segs else 0
        self.segs.append(n)
        self.tail_lines = 0
        if not _exists(self._seg_path(n)):
            with open(self._seg_path(n), "wb"):
                pass
        if len(self.segs) == 1:
            self.head_seg, self.head_off = n, 0
        while len(self.segs) > self.max_segments:
            self._drop_oldest()

    def _drop_oldest(self):
        oldest = self.segs[0]
        lost = self._count_lines(oldest, self.head_off if oldest == self.head_seg else 0)
        self.dropped += lost
        self.waiting -= lost
        self._remove_seg(oldest)
        self.head_seg, self.head_off = self.segs[0], 0
        self._save_head()

    def _count_lines(self, n, offset):
        count = 0
        with open(self._seg_path(n), "rb") as f:
            f.seek(offset)
            while True:
                chunk = f.read(512)
                if not chunk:
                    return count
                count += chunk.count(b"\n")

    def _remove_seg(self, n):
        try:  # noqa: SIM105 (MicroPython has no contextlib)
            os.remove(self._seg_path(n))
        except OSError:
            pass
        self.segs.remove(n)

    # -- reading

    def peek(self, max_lines=48, max_bytes=8192):
        """The oldest unsent lines (at most `max_lines`, and `max_bytes` with their newlines),
        oldest first, and the position to `commit` once they are acknowledged. ([], None) when
        nothing is waiting."""
        if max_bytes < MAX_LINE:
            raise ValueError("outbox peek of %d bytes: at least %d" % (max_bytes, MAX_LINE))
        self._skip_finished()
        if not self.segs:
            return [], None
        lines = []
        bad = 0
        taken = 0  # lines (newlines) consumed
        used = 0  # bytes consumed after head_off
        # Reads of MAX_LINE bytes from the first line not yet taken, then slices. MicroPython's
        # readline() reads a byte per call and grows its buffer 16 bytes at a time (a 24-line
        # batch churned ~30 KB of heap); one read of the whole batch needs max_bytes in one
        # piece, which a fragmented heap may not have.
        with open(self._seg_path(self.head_seg), "rb") as f:
            while len(lines) < max_lines:
                f.seek(self.head_off + used)
                block = f.read(MAX_LINE)
                end = block.find(b"\n")
                if end < 0 and len(block) == MAX_LINE:
                    used += MAX_LINE  # no observation is that long: skip it as corrupt
                    bad += 1
                    continue
                start = 0
                while end >= 0 and len(lines) < max_lines and used + end - start < max_bytes:
                    line = block[start:end]
                    if line.startswith(b"{") and line.endswith(b"}"):
                        lines.append(line)
                    else:
                        bad += 1
                    used += end - start + 1
                    taken += 1
                    start = end + 1
                    end = block.find(b"\n", start)
                if end >= 0 or not start:
                    break  # max_lines or max_bytes reached, or the end of the segment
        if not used:
            return [], None
        return lines, (self.head_seg, self.head_off + used, bad, taken)

    def commit(self, pos):
        """The lines returned with `pos` are safe at the broker: forget them."""
        if pos is None:
            return
        seg, off, bad, taken = pos
        if seg != self.head_seg:
            return  # that segment was dropped meanwhile
        self.head_off = off
        self.corrupt += bad
        self.waiting -= taken
        self._skip_finished()
        self._save_head()

    def _skip_finished(self):
        # A fully sent segment that is no longer being written goes away.
        while len(self.segs) > 1 and self.head_off >= _size(self._seg_path(self.head_seg)):
            self._remove_seg(self.head_seg)
            self.head_seg, self.head_off = self.segs[0], 0

    def pending(self):
        """How many lines wait to be sent (reads the files: for status and tests, not the loop)."""
        total = 0
        for n in self.segs:
            total += self._count_lines(n, self.head_off if n == self.head_seg else 0)
        return total

    def empty(self):
        self._skip_finished()
        if not self.segs:
            return True
        return len(self.segs) == 1 and self.head_off >= _size(self._seg_path(self.head_seg))
