# Runs at every boot (uploaded as /main.py). Ctrl-C in a serial terminal stops the station and
# gives the REPL; `classnet flash` does that by itself.
#
# A `board.py` at the top of the board's filesystem replaces the built-in board layer: for other
# hardware, and for the emulated board the tests run under MicroPython's unix port.
try:
    from board import Board
except ImportError:
    from firmware.board import Board

from firmware import station

station.main(Board())
