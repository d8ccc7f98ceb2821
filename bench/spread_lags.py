"""Where the spread scenario's start lag comes from: one spread burst (scenario 2's harness),
then a histogram of the lags and the slowest runs with their times.

Usage: python bench/spread_lags.py [--jobs 10000] [--seconds 60] [--worst 30] [--dump FILE]

`--dump` writes one line per run (scheduled_for offset from the first instant, lag, both in
seconds) for a closer look.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scenarios as s
from harness import engine_for, insert_noop_jobs, now, percentile, run_timings, scratch_postgres

EDGES_MS = (0, 1, 2, 3, 5, 10, 20, 50, 100, 1000)


def say(text: str) -> None:
    print(text, flush=True)  # noqa: T201


def histogram(lags_ms: list[float]) -> list[str]:
    lines = []
    below = [lag for lag in lags_ms if lag < 0]
    if below:
        lines.append(f"  < 0 ms {len(below):6d}  (early: min {min(below):.3f} ms)")
    for low, high in zip(EDGES_MS, (*EDGES_MS[1:], float("inf")), strict=True):
        count = sum(1 for lag in lags_ms if low <= lag < high)
        lines.append(
            f"  {low:4g}-{high:<4g} ms {count:6d}  {'#' * round(60 * count / len(lags_ms))}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--worst", type=int, default=30)
    parser.add_argument("--dump", type=Path)
    args = parser.parse_args()
    say(f"load average at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp, scratch_postgres("lags") as url:
        engine = engine_for(url)
        insert_noop_jobs(engine, args.jobs, now() + timedelta(days=365))
        result = s.burst_once(url, engine, args.jobs, 1, Path(tmp), args.seconds)
        rows = run_timings(engine)
        log = (Path(tmp) / "worker-0.log").read_text(errors="replace")
        engine.dispose()
    say(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    first = min(row[0] for row in rows)
    runs = sorted(
        ((sch - first).total_seconds(), (st - sch).total_seconds()) for sch, st, _, _ in rows
    )
    lags_ms = [lag * 1000 for _, lag in runs]
    say(
        f"{len(runs)} runs: lag p50 / p90 / p99 / p99.9 / max (ms) "
        + " / ".join(f"{percentile(lags_ms, p):.2f}" for p in (50, 90, 99, 99.9, 100))
    )
    say("\n".join(histogram(lags_ms)))
    say(f"slowest {args.worst} (offset of the instant s, lag ms):")
    for offset, lag in sorted(runs, key=lambda r: -r[1])[: args.worst]:
        say(f"  {offset:9.3f} {lag * 1000:9.2f}")
    say("worker's summary lines:")
    say("\n".join(line for line in log.splitlines() if "runs" in line)[-3000:])
    say(str({k: round(v, 4) for k, v in result.items()}))
    if args.dump:
        args.dump.write_text("".join(f"{o:.6f} {lag:.6f}\n" for o, lag in runs))


if __name__ == "__main__":
    main()
