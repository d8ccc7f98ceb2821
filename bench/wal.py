"""The WAL one database's work wrote between two WAL positions, read with pg_waldump.

The server's own counters (pg_current_wal_lsn, pg_stat_wal) count every database's WAL, so on a
server that others use they say little about one benchmark. pg_waldump lists each record with
the relations it touches (`rel tablespace/database/relation`) and its transaction: the records
of the benchmark's database, and the commit records of their transactions, are its WAL. This
needs the server's pg_wal directory readable from here (a server on this machine, run by the
same user or read as root); otherwise the figure is left out.
"""

from __future__ import annotations

import re
import subprocess
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
    """The WAL of the database between the positions `start` and `end`; None if pg_waldump
    could not read it (a segment recycled meanwhile, say)."""
    waldump, wal_dir, oid = found
    args = [str(waldump), "-p", str(wal_dir), "-s", start, "-e", end]
    mine, images, xids = 0, 0, set()
    with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as dump:
        assert dump.stdout is not None
        for line in dump.stdout:
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
    # pg_waldump may end with an error at a record still being written at `end`: that is fine
    # if it read the range (it found records of ours).
    if dump.returncode != 0 and mine == 0:
        return None
    return Wal(mine, images)
