# An emulated `machine` module for tests/firmware/test_board.py: the classes and functions
# firmware/board.py calls, with the signatures of MicroPython's documented API
# (docs.micropython.org, library/machine.*), recording each call in CALLS instead of touching
# hardware. It shows what board.py asks of the hardware, not that the hardware does it.
CALLS = []


class Pin:
    IN = 1
    PULL_UP = 2
    IRQ_FALLING = 4

    def __init__(self, id, mode=-1, pull=-1):
        self.id = id
        CALLS.append(("Pin", id, mode, pull))

    def irq(self, handler=None, trigger=IRQ_FALLING):
        CALLS.append(("Pin.irq", self.id, trigger))
        self.handler = handler


class I2C:
    def __init__(self, id, *, scl, sda, freq=400000):
        CALLS.append(("I2C", id, sda.id, scl.id, freq))


class ADC:
    ATTN_11DB = 3

    def __init__(self, pin):
        CALLS.append(("ADC", pin.id))

    def atten(self, attn):
        CALLS.append(("ADC.atten", attn))


class UART:
    def __init__(self, id, baudrate=9600, *, tx, rx):
        CALLS.append(("UART", id, baudrate, tx.id, rx.id))


class WDT:
    def __init__(self, id=0, timeout=5000):
        CALLS.append(("WDT", timeout))

    def feed(self):
        CALLS.append(("WDT.feed",))


class Timer:
    def __init__(self, id=-1):
        CALLS.append(("Timer", id))

    def init(self, *, period, callback):
        CALLS.append(("Timer.init", period))
        self.callback = callback


def deepsleep(time_ms=None):
    CALLS.append(("deepsleep", time_ms))


def reset():
    CALLS.append(("reset",))
