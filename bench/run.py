"""`make bench` / `make bench QUICK=1`: run every scenario, print one table, write RESULTS.md.

Usage: python bench/run.py [--quick] [--repeats N] [--only 1,3,5] [--no-peers] [--output FILE]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scenarios as s
import sqlalchemy as sa
from harness import BENCH, admin_engine
from run_now import scenario_run_now

PEERS = ("APScheduler 3.11", "Procrastinate 3.10")

# name: (quick size, full size) knobs
SIZES = {
    "burst": (1_000, 10_000),
    "spread": ((1_000, 5.0), (10_000, 60.0)),
    "idle": ([10_000, 100_000], [10_000, 100_000, 1_000_000]),
    "idle_window_s": (5.0, 10.0),
    "growth": ([500, 2_000], [1_000, 10_000, 100_000]),
    "api_jobs": (10_000, 100_000),
    "api_seconds": (3.0, 8.0),
    "offline": (100_000, 1_000_000),
    "activities": (100_000, 1_000_000),
    "sync": ((10_000, 100_000), (100_000, 1_000_000)),
    "memory": (100_000, 100_000),
    "run_now": (20, 50),  # requests per repeat
}

Rows = list[tuple[str, str, str, Any]]
PeerCells = dict[tuple[str, str, str], dict[str, Any]]


def machine(when: str) -> str:
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"load average {when}: {load}"


def versions() -> str:
    with admin_engine().connect() as conn:
        pg = conn.execute(sa.text("SHOW server_version")).scalar_one()
    packages = ", ".join(
        f"{name} {metadata.version(name)}"
        for name in ("cronbase", "SQLAlchemy", "psycopg", "fastapi", "uvicorn", "httpx")
    )
    return f"Python {platform.python_version()}, PostgreSQL {pg.split()[0]}, {packages}"


def fmt(value: object) -> str:
    if isinstance(value, float):
        if value != value:  # noqa: PLR0124 - nan
            return "n/a"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:.2f}" if abs(value) >= 1 else f"{value:.3f}"
    return str(value)


def table(rows: Rows, peers: PeerCells) -> str:
    lines = [
        "| Scenario | Setting | Metric | cronbase | " + " | ".join(PEERS) + " |",
        "|---|---|---|---:|" + "---:|" * len(PEERS),
    ]
    for scenario, setting, metric, value in rows:
        cells = [fmt(peers.get((scenario, setting, metric), {}).get(peer, "")) for peer in PEERS]
        lines.append(f"| {scenario} | {setting} | {metric} | {fmt(value)} | {' | '.join(cells)} |")
    return "\n".join(lines)


def ratio(numerator: float, denominator: float) -> str:
    """numerator / denominator as "1.23x", to two significant digits below 1 (0.0071x)."""
    if not denominator or numerator != numerator or denominator != denominator:  # noqa: PLR0124
        return "n/a"
    value = numerator / denominator
    return f"{value:.2f}x" if value >= 1 else f"{value:.2g}x"


def add_peers(
    results: dict[str, Any] | None,
    peer_rows: Callable[[list[dict[str, float]]], Rows],
    ratio_rows: Callable[[str, list[dict[str, float]]], Rows],
    rows: Rows,
    peers: PeerCells,
    failures: list[str],
) -> None:
    """Put each peer's figures in its column next to cronbase's, and add the ratio rows."""
    for peer, runs in (results or {}).items():
        if isinstance(runs, str):
            failures.append(f"{peer}: {runs}")
            continue
        for scenario, setting, metric, value in peer_rows(runs):
            peers.setdefault((scenario, setting, metric), {})[peer] = value
        rows += ratio_rows(peer, runs)


def main() -> int:  # noqa: C901 - one flat list of steps reads best
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", default=bool(os.environ.get("QUICK")))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", default="1,2,3,4,5,6,7,8,9", help="scenario numbers")
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--output", default=str(BENCH / "RESULTS.md"))
    args = parser.parse_args()
    if args.repeats < 3:
        print("note: fewer than 3 repeats; figures are not medians of 3", file=sys.stderr)  # noqa: T201
    pick = 0 if args.quick else 1
    size = {key: value[pick] for key, value in SIZES.items()}
    only = {int(x) for x in args.only.split(",") if x.strip()}

    cores = os.cpu_count()
    load_before = machine("before")
    versions_line = versions()  # now: a server lost during the run must not lose the table
    started = time.time()
    rows: Rows = []
    peers: PeerCells = {}
    failures: list[str] = []
    took: dict[int, float] = {}
    log_dir = Path(tempfile.mkdtemp(prefix="cronbase-bench-logs-"))

    def step(number: int, name: str, func: Callable[..., Any], *fargs: Any) -> Any:
        if number not in only:
            return None
        print(f"== scenario {number}: {name}", file=sys.stderr, flush=True)  # noqa: T201
        t0 = time.time()
        try:
            result = func(*fargs)
        except Exception as exc:  # noqa: BLE001 - one failed scenario must not lose the others
            traceback.print_exc()
            failures.append(f"scenario {number} ({name}) failed: {type(exc).__name__}: {exc}")
            result = None
        took[number] = took.get(number, 0.0) + time.time() - t0
        print(f"   done in {time.time() - t0:.0f} s", file=sys.stderr, flush=True)  # noqa: T201
        return result

    if not args.no_peers:
        import peer_bench

    n, reps = size["burst"], args.repeats
    burst = step(1, "burst", s.scenario_burst, n, reps, log_dir)
    if burst:
        rows += burst[0]
    if burst and not args.no_peers:
        scenario, setting = "1 Burst (PostgreSQL)", f"{n:,} jobs, 1 worker(s)"
        per_s = s.median([r["per_s"] for r in burst[1][2]])

        def burst_ratio(peer: str, runs: list[dict[str, float]]) -> Rows:
            times = ratio(per_s, s.median([r["per_s"] for r in runs]))
            metric = f"executions/s ratio, cronbase / {peer}"
            return [(scenario, "cronbase 2 workers vs peer", metric, times)]

        results = step(1, "burst, peers", peer_bench.run_all, n, reps, log_dir)
        add_peers(results, lambda runs: s.burst_rows(scenario, setting, runs), burst_ratio,
                  rows, peers, failures)  # fmt: skip

    spread_n, spread_s = size["spread"]
    spread = step(2, "spread", s.scenario_spread, spread_n, spread_s, reps, log_dir)
    if spread:
        rows += spread[0]
    if spread and not args.no_peers:
        spread_setting = s.spread_setting(spread_n, spread_s)

        def spread_ratio(peer: str, runs: list[dict[str, float]]) -> Rows:
            p50, p99 = (
                ratio(s.median([r[k] for r in spread[1]]), s.median([r[k] for r in runs]))
                for k in ("lag_p50", "lag_p99")
            )
            setting = "cronbase vs peer (below 1: cronbase starts sooner)"
            metric = f"start lag p50 / p99 ratio, cronbase / {peer}"
            return [("2 Spread", setting, metric, f"{p50} / {p99}")]

        results = step(2, "spread, peers", peer_bench.run_all, spread_n, reps, log_dir, spread_s)
        add_peers(results, lambda runs: s.spread_rows(spread_setting, runs), spread_ratio,
                  rows, peers, failures)  # fmt: skip

    idle_sizes = sorted(set(size["idle"]) | ({size["memory"]} if 8 in only else set()))
    idle = step(3, "idle cost", s.scenario_idle, idle_sizes, size["idle_window_s"], reps, log_dir)
    if idle:
        rows += [r for r in idle[0] if int(r[1].split()[0].replace(",", "")) in size["idle"]]
    rows += step(4, "growth", s.scenario_growth, size["growth"], reps, log_dir) or []
    api = (size["api_jobs"], size["api_seconds"])
    rows += step(5, "api", s.scenario_api, *api, reps, log_dir) or []
    for name, func, knobs in (
        ("markUsersOffline", s.scenario_mark_offline, (size["offline"],)),
        ("cleanOldActivities", s.scenario_clean_activities, (size["activities"],)),
        ("syncDenormalizedFields", s.scenario_sync_fields, size["sync"]),
    ):
        rows += step(6, name, func, *knobs, reps, log_dir) or []
    rows += step(7, "sqlite", s.scenario_sqlite, n, reps, log_dir) or []
    rows += step(9, "run now", scenario_run_now, size["run_now"], reps, log_dir) or []
    if 8 in only and idle and size["memory"] in idle[1]:
        rows += s.scenario_memory(idle[1], size["memory"])
        if burst:
            peak = s.median([r["rss_mib"] for r in burst[1][2]])
            rows.append(("8 Memory", f"{n:,} jobs burst, 2 workers", "peak worker RSS (MiB)", peak))

    per_scenario = ", ".join(f"{k}: {v / 60:.1f}" for k, v in sorted(took.items()))
    header = [
        f"# cronbase benchmark ({'QUICK' if args.quick else 'full'} run)",
        "",
        (
            f"- machine: {cores} cores, {platform.machine()}, {platform.system()}; "
            f"{load_before}; {machine('after')}"
        ),
        f"- versions: {versions_line}",
        (
            f"- each figure is the median of {reps} runs; whole run took "
            f"{(time.time() - started) / 60:.1f} min (minutes per scenario: {per_scenario}); "
            f"date {time.strftime('%Y-%m-%d %H:%M %Z')}"
        ),
        "",
        "",
    ]
    text = "\n".join(header) + table(rows, peers) + "\n"
    if failures:
        text += "\nNot measured in this run:\n\n" + "\n".join(f"- {f}" for f in failures) + "\n"
    print(text)  # noqa: T201
    Path(args.output).write_text(text)
    print(f"(logs in {log_dir}; table written to {args.output})", file=sys.stderr)  # noqa: T201
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
