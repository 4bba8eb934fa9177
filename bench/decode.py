"""How fast the wire-contract decoder is (issue: a 5,000-observation batch well under a second).

    .venv/bin/python bench/decode.py [--n 5000] [--repeat 20]

Prints the time per 5,000-observation batch in the two shapes stations send: one observation
per message (what a connected station publishes) and arrays of 100 (a backlog flush).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from firmware import wire
from ingest.domain.contract import decode_obs, parse_topic

NOW = 1_763_884_800.0


def _payloads(n: int, per_message: int) -> list[tuple[object, bytes]]:
    rng = random.Random(1)
    topics = [parse_topic(f"classnet/v1/fi-bench-{i:03d}/obs") for i in range(500)]
    out = []
    for start in range(0, n, per_message):
        batch = [
            wire.observation(
                NOW - 3600 + (start + k) * 0.5,
                start + k,
                temp_c=round(rng.uniform(-10, 35), 2),
                rh_pct=round(rng.uniform(10, 100), 1),
                pressure_hpa=round(rng.uniform(950, 1040), 1),
                wind_speed_ms=rng.uniform(0, 20),
                wind_gust_ms=rng.uniform(0, 30),
                wind_dir_deg=rng.uniform(0, 360),
                rain_mm=0.0,
            )
            for k in range(min(per_message, n - start))
        ]
        body = wire.encode(batch[0] if per_message == 1 else batch)
        out.append((topics[start % 500], body))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000, help="observations per batch")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    for per_message in (1, 100):
        payloads = _payloads(args.n, per_message)
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            count = sum(len(decode_obs(t, b, now=NOW).observations) for t, b in payloads)  # type: ignore[arg-type]
            times.append(time.perf_counter() - t0)
        assert count == args.n
        med = statistics.median(times)
        print(
            f"decode {args.n} obs, {per_message:>3} per message: median {med * 1000:7.1f} ms "
            f"(min {min(times) * 1000:.1f}, max {max(times) * 1000:.1f}) "
            f"= {args.n / med:,.0f} obs/s"
        )


if __name__ == "__main__":
    main()
