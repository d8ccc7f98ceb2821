"""Peers on the Burst and Spread scenarios: each in its own virtualenv under bench/.venvs/,
installed on first use, run against a scratch PostgreSQL database of its own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from harness import BENCH, scratch_postgres

VENVS = BENCH / ".venvs"
PEERS = {
    # name: (venv, requirements, driver, URL scheme the driver takes)
    "APScheduler 3.11": (
        "apscheduler",
        ["APScheduler>=3.11,<3.12", "SQLAlchemy>=2.0", "psycopg[binary]>=3.1"],
        "apscheduler_burst.py",
        "postgresql+psycopg://",
    ),
    "Procrastinate 3.10": (
        "procrastinate",
        ["procrastinate>=3.10,<3.11", "psycopg[binary]>=3.1"],
        "procrastinate_burst.py",
        "postgresql://",
    ),
}
LEAD_S = 4.0


def ensure_venv(name: str, requirements: list[str]) -> Path:
    venv = VENVS / name
    python = venv / "bin" / "python"
    stamp = venv / ".requirements"
    wanted = "\n".join(requirements)
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    if not stamp.exists() or stamp.read_text() != wanted:
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *requirements], check=True)
        stamp.write_text(wanted)
    return python


def run_peer(
    name: str, n: int, repeats: int, log_dir: Path, spread_s: float = 0.0
) -> list[dict[str, float]]:
    """`repeats` runs of the peer's driver, each in a fresh database: n jobs due LEAD_S after
    it starts, at one instant or evenly spaced over spread_s seconds."""
    venv, requirements, driver, scheme = PEERS[name]
    python = ensure_venv(venv, requirements)
    runs = []
    for i in range(repeats):
        with scratch_postgres(venv) as url:
            url = scheme + url.split("://", 1)[1]
            done = subprocess.run(
                [str(python), str(BENCH / "peers" / driver), url, str(n), str(LEAD_S),
                 str(spread_s)],
                capture_output=True,
                text=True,
                cwd=BENCH / "peers",
                timeout=LEAD_S + spread_s + 600,
                check=False,
            )  # fmt: skip
            (log_dir / f"{venv}-{'spread' if spread_s else 'burst'}-{i}.log").write_text(
                done.stdout + done.stderr
            )
            if done.returncode != 0:
                raise RuntimeError(f"{name} failed:\n{done.stderr[-2000:]}")
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return runs


def run_all(
    n: int, repeats: int, log_dir: Path, spread_s: float = 0.0
) -> dict[str, list[dict[str, float]] | str]:
    results: dict[str, list[dict[str, float]] | str] = {}
    for name in PEERS:
        try:
            results[name] = run_peer(name, n, repeats, log_dir, spread_s)
        except Exception as exc:  # noqa: BLE001 - a failed peer is reported, not fatal
            results[name] = f"{type(exc).__name__}: {str(exc)[-500:]}"
    return results
