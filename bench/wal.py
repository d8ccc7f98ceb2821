"""The WAL one database's work wrote between two WAL positions, read with pg_waldump.

The server's own counters (pg_current_wal_lsn, pg_stat_wal) count every database's WAL, so on a
server that others use they say little about one benchmark. pg_waldump lists each record with
the relations it touches (`rel tablespace/database/relation`) and its transaction: the records
of the benchmark's database, and the commit records of their transactions, are its WAL. This
needs the server's pg_wal directory readable from here (a server on this machine, run by the
same user or read as root) and the range still there when it is read: a server that others
keep busy recycles segments within seconds of each checkpoint (pg_waldump --follow, tried,
loses its place there too). Otherwise the figure is left out, with the reason.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

RECORD = re.compile(r"rmgr: (\w+)\s+len \(rec/tot\):\s*(\d+)/\s*(\d+), tx:\s*(\d+),")
DATABASE = re.compile(r"rel \d+/(\d+)/\d+")


@dataclass
class Wal:
    bytes: int  # records and their full-page images
    page_images: int  # of which full-page images (the first change of a page after a checkpoint)


def where(engine: sa.Engine) -> tuple[Path, Path, int] | None:
    """(pg_waldump, the pg_wal directory, the database's oid), or None if not readable here."""
    with engine.connect() as conn:
        bindir = conn.exec_driver_sql("SELECT setting FROM pg_config WHERE name = 'BINDIR'")
        waldump = Path(bindir.scalar_one()) / "pg_waldump"
        data = Path(conn.exec_driver_sql("SHOW data_directory").scalar_one())
        oid = conn.exec_driver_sql(
            "SELECT oid FROM pg_database WHERE datname = current_database()"
        ).scalar_one()
    wal_dir = data / "pg_wal"
    try:
        readable = waldump.exists() and any(wal_dir.iterdir())
    except OSError:
        readable = False
    return (waldump, wal_dir, int(oid)) if readable else None


def written(found: tuple[Path, Path, int], start: str, end: str) -> Wal | None:
    """The WAL of the database between the positions `start` and `end`; None (and the reason
    on stderr) if pg_waldump could not read all of it."""
    waldump, wal_dir, oid = found
    args = [str(waldump), "-p", str(wal_dir), "-s", start, "-e", end]
    dump = subprocess.run(args, capture_output=True, text=True, check=False)
    error = dump.stderr.strip()
    # The range ends at the insert position: an error about the record there is no loss.
    if dump.returncode != 0 and ("could not find file" in error or not dump.stdout):
        print(f"   WAL not measured: {error}", file=sys.stderr, flush=True)  # noqa: T201
        return None
    return _tally(dump.stdout.splitlines(), oid)


def _tally(lines: Iterable[str], oid: int) -> Wal:
    mine, images, xids = 0, 0, set()
    for line in lines:
        record = RECORD.match(line)
        if record is None:
            continue
        rmgr, length, total, xid = record.groups()
        ours = any(int(db) == oid for db in DATABASE.findall(line))
        if ours or (rmgr == "Transaction" and xid in xids):
            mine += int(total)
            if "FPW" in line:
                images += int(total) - int(length)
            if ours and xid != "0":
                xids.add(xid)
    return Wal(mine, images)
