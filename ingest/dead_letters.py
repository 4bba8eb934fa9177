"""How many dead letters a store keeps, and their identity.

A dead letter keeps what a station sent (its first KiB) so a teacher can see why it was refused;
a station sending nothing but bad messages must not fill the disk with them (a flood of 20,000
1.1 KB messages grew SQLite by 121 MB). So each store keeps at most `per_station` of a station's
newest dead letters and none older than `max_age_days`; every reject is still counted in
`reject_counts` and in the gateway's metrics, whatever is kept.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ingest.batch import DeadLetter

DAY_MS = 86_400_000


@dataclass(frozen=True)
class DeadLetterLimits:
    per_station: int = 1000
    max_age_days: float = 30.0

    def oldest_ms(self, now_ms: int) -> int:
        """Dead letters received before this are deleted."""
        return now_ms - int(self.max_age_days * DAY_MS)


def digest(d: DeadLetter) -> bytes:
    """A dead letter's identity (16 bytes), so a batch written twice stores it once. A unique
    index on the columns themselves held a second copy of every payload (6 KB per message).

    >>> len(digest(DeadLetter(1, "fi-a-01", "classnet/v1/fi-a-01/obs", "bad_json", "x", b"{")))
    16
    """
    h = hashlib.blake2b(digest_size=16)
    for part in (str(d.received_ms), d.station, d.topic, d.reason, d.detail):
        h.update(part.encode())
        h.update(b"\0")
    h.update(d.payload)
    return h.digest()
