"""Errors every component shares."""


class UserError(Exception):
    """An error a person can act on; `classnet` prints its message without a traceback."""
