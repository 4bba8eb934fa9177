# Found as `board` by the uploaded main.py when the tests run it under the unix port.
from emuboard import Board  # noqa: F401
