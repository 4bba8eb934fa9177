"""Host-side tools for the station firmware (runs on the teacher's PC, never on the board).

Nothing in this package is uploaded: `manifest.DEVICE_FILES` lists exactly what goes to the board.
"""
