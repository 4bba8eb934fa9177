# Runs at every boot (uploaded as /main.py). Ctrl-C in a serial terminal stops the station and
# gives the REPL; `classnet flash` does that by itself.
from firmware import board, station

station.main(board.Board())
