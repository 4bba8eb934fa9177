# The station under a heap harness, for MicroPython's unix port (run() in one process) and its
# WebAssembly port (bench/wasm/heap32.mjs calls boot, step and live from JavaScript). Same
# workload on both: the emulated board on a virtual clock (sleeping advances it at once, so hours
# of readings take seconds), memsocket.py for the broker and the NTP server, a full outbox backlog
# already in the board's filesystem (the caller writes it), then `readings` readings.
#
# The WebAssembly port collects garbage only between calls from JavaScript (its build,
# "pyscript", cannot scan the C stack), so the run is cut into steps: one pass of the station's
# loop each, and at most one batch of the backlog per pass, so a step's garbage is one batch's.
# A harness figure, not a board's: no Wi-Fi or TLS buffers (those live outside the Python heap
# on an ESP32 anyway), and memsocket's few hundred bytes are counted.
import gc
import sys

import memsocket

sys.modules["socket"] = memsocket  # before the firmware's first `import socket`

import emuboard  # noqa: E402

EPOCH = 1763884800  # the virtual clock's start, 2025-11-23 UTC


class VirtualBoard(emuboard.Board):
    def __init__(self):
        self.now_ms = 0
        super().__init__()

    def clock_ms(self):
        return self.now_ms

    def sleep_ms(self, ms):
        self.now_ms += ms

    def time(self):
        return EPOCH + self.now_ms // 1000


board = None
station = None
peak_total = 0  # the heap's size at its largest, before a collection could shrink it


def _note_total():
    global peak_total
    peak_total = max(peak_total, total())


def prepare():
    """Make the board (firmware.sensors' waits go on its virtual clock); return the modules to
    load before boot, each in a step of its own, in the order a board loads them: the station as
    main.py imports it (compiled first, then it imports what it uses), then the drivers
    config.json names (the station imports them as it starts). The order matters: a module
    compiled later must find room for its code in a fuller heap."""
    import json

    with open("config.json") as f:
        kinds = [s["type"] for s in json.load(f)["sensors"]]
    from firmware import sensors

    global board
    board = VirtualBoard()
    memsocket.now = board.time
    sensors.sleep_ms = board.sleep_ms  # conversion waits pass on the virtual clock too
    names = ["firmware.station"]
    for kind in kinds:
        name = "firmware.sensors." + sensors.DRIVERS[kind][0]
        if name not in names:
            names.append(name)
    return names


def load(name):
    __import__(name)
    _note_total()


def boot(readings):
    """Start the station (its modules loaded); `readings` readings make the run."""
    global station
    from firmware import config
    from firmware import station as firmware_station
    from firmware.outbox import Outbox

    station = firmware_station.Station(board, config.load("config.json"), readings)
    station.start()
    peek = Outbox.peek

    def one_batch_per_step(outbox, *args):
        if station.peeked:
            return [], None
        station.peeked = True
        return peek(outbox, *args)

    Outbox.peek = one_batch_per_step
    _note_total()


def step():
    """One pass of the station's loop; gc.mem_alloc() before the collection it asks for (which
    the WebAssembly port runs when this returns), or -1 when the run is over."""
    station.peeked = False
    more = station.step()
    used = gc.mem_alloc()
    _note_total()
    gc.collect()
    return used if more else -1


def live():
    """The live heap: gc.mem_alloc() after a collection."""
    gc.collect()
    return gc.mem_alloc()


def total():
    return gc.mem_alloc() + gc.mem_free()


def outcome():
    """What the run did, for the caller to check it completed."""
    return "readings=%d published=%d pending=%d" % (
        station.readings,
        memsocket.published.get("classnet/v1/%s/obs" % station.id, 0),
        station.outbox.pending(),
    )


def run(readings):
    """The whole run in this process (the unix port): prints the figures on one line."""
    for name in prepare():
        load(name)
    boot(readings)
    loaded = peak = live()
    high = 0
    while True:
        used = step()
        if used < 0:
            break
        high = max(high, used)
        peak = max(peak, live())
    print(
        "HEAP loaded=%d live_peak=%d step_peak=%d heap=%d %s"
        % (loaded, peak, high, peak_total, outcome())
    )
