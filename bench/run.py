"""`make bench` / `make bench QUICK=1`: run every scenario, print one table, write RESULTS.md.

Usage: python bench/run.py [--quick] [--repeats N] [--only 1,3,5] [--no-peers]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
import traceback
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import sqlalchemy as sa  # noqa: E402

import scenarios as s  # noqa: E402
from harness import BENCH, admin_engine  # noqa: E402

PEERS = ("APScheduler 3.11", "Procrastinate 3.10")

# name: (quick size, full size) knobs
SIZES = {
    "burst": (1_000, 10_000),
    "spread": ((1_000, 10.0), (10_000, 60.0)),
    "idle": ([10_000, 100_000], [10_000, 100_000, 1_000_000]),
    "idle_window_s": (5.0, 10.0),
    "growth": ([500, 2_000], [1_000, 10_000, 100_000]),
    "api_jobs": (10_000, 100_000),
    "api_seconds": (3.0, 8.0),
    "offline": (100_000, 1_000_000),
    "memory": (100_000, 100_000),
}


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
        if value != value:  # nan
            return "n/a"
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}" if abs(value) >= 1 \
            else f"{value:.3f}"
    return str(value)


def table(rows, peers) -> str:
    lines = [
        "| Scenario | Setting | Metric | cronbase | " + " | ".join(PEERS) + " |",
        "|---|---|---|---:|" + "---:|" * len(PEERS),
    ]
    for scenario, setting, metric, value in rows:
        peer_cells = []
        for peer in PEERS:
            got = peers.get((scenario, setting, metric), {}).get(peer, "")
            peer_cells.append(fmt(got))
        lines.append(f"| {scenario} | {setting} | {metric} | {fmt(value)} | "
                     + " | ".join(peer_cells) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", default=bool(os.environ.get("QUICK")))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", default="1,2,3,4,5,6,7,8", help="scenario numbers")
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--output", default=str(BENCH / "RESULTS.md"))
    args = parser.parse_args()
    if args.repeats < 3:
        print("note: fewer than 3 repeats; figures are not medians of 3", file=sys.stderr)
    pick = 0 if args.quick else 1
    size = {key: value[pick] for key, value in SIZES.items()}
    only = {int(x) for x in args.only.split(",") if x.strip()}

    cores = os.cpu_count()
    load_before = machine("before")
    started = time.time()
    rows: list[tuple] = []
    peers: dict = {}
    failures: list[str] = []
    log_dir = Path(tempfile.mkdtemp(prefix="cronbase-bench-logs-"))

    def step(number: int, name: str, func, *fargs):
        if number not in only:
            return None
        print(f"== scenario {number}: {name}", file=sys.stderr, flush=True)
        t0 = time.time()
        try:
            result = func(*fargs)
        except Exception as exc:  # noqa: BLE001 - one failed scenario must not lose the others
            traceback.print_exc()
            failures.append(f"scenario {number} ({name}) failed: {type(exc).__name__}: {exc}")
            return None
        print(f"   done in {time.time() - t0:.0f} s", file=sys.stderr, flush=True)
        return result

    n, reps = size["burst"], args.repeats
    burst = step(1, "burst", s.scenario_burst, n, reps, log_dir)
    if burst:
        rows += burst[0]
        if not args.no_peers:
            import peer_bench as peer_runner

            peer_rows = step(1, "burst, peers", peer_runner.run_all, n, reps, log_dir)
            for peer, results in (peer_rows or {}).items():
                if isinstance(results, str):
                    failures.append(f"{peer}: {results}")
                    continue
                for scenario, setting, metric, value in s.burst_rows(
                    "1 Burst (PostgreSQL)", f"{n:,} jobs, 1 worker(s)", results
                ):
                    peers.setdefault((scenario, setting, metric), {})[peer] = value
                ratio = s.median([r["per_s"] for r in burst[1][2]]) / s.median(
                    [r["per_s"] for r in results]
                )
                rows.append(("1 Burst (PostgreSQL)", "cronbase 2 workers vs peer",
                             f"executions/s ratio, cronbase / {peer}", f"{ratio:.2f}x"))
    rows += step(2, "spread", s.scenario_spread, *size["spread"], reps, log_dir) or []
    idle = step(3, "idle cost", s.scenario_idle, sorted(set(size["idle"]) | (
        {size["memory"]} if 8 in only else set())), size["idle_window_s"], reps, log_dir)
    if idle:
        rows += [r for r in idle[0] if int(r[1].split()[0].replace(",", "")) in size["idle"]]
    rows += step(4, "growth", s.scenario_growth, size["growth"], reps, log_dir) or []
    rows += step(5, "api", s.scenario_api, size["api_jobs"], size["api_seconds"], reps,
                 log_dir) or []
    rows += step(6, "markUsersOffline", s.scenario_mark_offline, size["offline"], reps,
                 log_dir) or []
    rows += step(7, "sqlite", s.scenario_sqlite, n, reps, log_dir) or []
    if 8 in only and idle and size["memory"] in idle[1]:
        rows += s.scenario_memory(idle[1], size["memory"])
        if burst:
            rows.append(("8 Memory", f"{n:,} jobs burst, 2 workers", "peak worker RSS (MiB)",
                         s.median([r["rss_mib"] for r in burst[1][2]])))

    header = [
        f"# cronbase benchmark ({'QUICK' if args.quick else 'full'} run)",
        "",
        f"- machine: {cores} cores, {platform.machine()}, {platform.system()}; "
        f"{load_before}; {machine('after')}",
        f"- versions: {versions()}",
        f"- each figure is the median of {reps} runs; whole run took "
        f"{(time.time() - started) / 60:.1f} min; date {time.strftime('%Y-%m-%d %H:%M %Z')}",
        "",
        "",
    ]
    text = "\n".join(header) + table(rows, peers) + "\n"
    if failures:
        text += "\nNot measured in this run:\n\n" + "\n".join(f"- {f}" for f in failures) + "\n"
    print(text)
    Path(args.output).write_text(text)
    print(f"(logs in {log_dir}; table written to {args.output})", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
