"""Engines for the two supported databases, configured for safe use by several processes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite

# Execution option: begin this connection's transactions without taking SQLite's write lock.
DEFERRED = "cronbase_deferred"


def dialect_insert(dialect: str) -> Callable[..., Any]:
    """The dialect's insert(): unlike the generic one, both have on_conflict_do_nothing()."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def create_engine(url: str, *, sqlite_busy_timeout: float = 30.0, **kwargs: Any) -> sa.Engine:
    """Return an engine for `url` (sqlite:///path or postgresql+psycopg://...)."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url, sqlite_busy_timeout, **kwargs)
    return sa.create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_engine(url: str, busy_timeout: float, **kwargs: Any) -> sa.Engine:
    # The driver's own transaction handling is switched off (isolation_level=None) so that we
    # choose how each transaction begins. The store's transactions write, and take the write
    # lock up front (BEGIN IMMEDIATE): that is how several processes sharing one file serialize
    # their claims without failing on a lock upgrade. Reads, and job functions that may hold a
    # transaction for their whole run, begin DEFERRED, so in WAL mode they block nobody.
    engine = sa.create_engine(
        url, connect_args={"timeout": busy_timeout, "isolation_level": None}, **kwargs
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable in WAL mode, and much faster
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        deferred = conn.get_execution_options().get(DEFERRED, False)
        conn.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")

    return engine
