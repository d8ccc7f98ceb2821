"""Engines for the two supported databases, configured for safe use by several processes."""

from __future__ import annotations

import logging
import os
import select
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite

logger = logging.getLogger(__name__)

# Execution option: begin this connection's transactions without taking SQLite's write lock.
DEFERRED = "cronbase_deferred"
# A PostgreSQL engine's connections at most, all kept in its pool once opened (create_engine).
POOL_SIZE = 15


def dialect_insert(dialect: str) -> Callable[..., Any]:
    """The dialect's insert(): unlike the generic one, both have on_conflict_do_nothing()."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def create_engine(
    url: str, *, sqlite_busy_timeout: float = 30.0, pgbouncer: bool = False, **kwargs: Any
) -> sa.Engine:
    """Return an engine for `url` (sqlite:///path or postgresql+psycopg://...). With
    `pgbouncer` (PgBouncer in transaction mode), psycopg prepares no statement on the server:
    the next transaction may run on another server session, which does not have it."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url, sqlite_busy_timeout, **kwargs)
    if pgbouncer:
        kwargs["connect_args"] = {**kwargs.get("connect_args", {}), "prepare_threshold": None}
    # At most 15 connections at once, as SQLAlchemy's default pool (5, and 10 more "overflow"
    # ones), but all of them kept: the default closes an overflow connection as it is returned
    # whenever 5 others wait in the pool, so an API server answering more than 5 requests at
    # a time opened and closed a connection (a new server process) for most of them, about
    # 30 a second under bench scenario 5.
    kwargs.setdefault("pool_size", POOL_SIZE)
    kwargs.setdefault("max_overflow", 0)
    engine = sa.create_engine(url, **kwargs)
    _ping_when_in_doubt(engine)
    return engine


# A pooled connection is pinged before use only when it may be dead. SQLAlchemy's
# pool_pre_ping pinged it at every checkout: a round trip (and a wake-up of the server) before
# every transaction, a fifth of a cheap read's cost. A connection the server closed while it
# sat in the pool (a restart, pg_terminate_backend, a crash of another backend) has something
# to read, the server's notice or the closing itself, which a poll() with no wait sees without
# a round trip. One idle longer than PING_AFTER_IDLE_S is pinged anyway, in case a firewall
# dropped it without a word. A ping that fails discards every pooled connection older than
# it, as pool_pre_ping did; a connection that dies in use still fails that use.
PING_AFTER_IDLE_S = 30.0
_RETURNED = "cronbase_returned_at"  # in a pool entry's info: when it was last checked in


def _ping_when_in_doubt(engine: sa.Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        record.info[_RETURNED] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _check(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get(_RETURNED)
        if returned is None:  # just connected (a reconnection clears the info too)
            return
        if time.monotonic() - returned < PING_AFTER_IDLE_S and not _has_input(dbapi_connection):
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # any failure: reconnect, as pool_pre_ping does
            raise sa.exc.InvalidatePoolError(f"ping failed: {exc}") from exc


def _has_input(dbapi_connection: Any) -> bool:
    """Whether the server sent something to a connection that sent it nothing."""
    try:
        poller = select.poll()
        poller.register(dbapi_connection.fileno(), select.POLLIN | select.POLLPRI)
    except Exception:  # noqa: BLE001 - closed, or no socket: doubtful
        return True
    return bool(poller.poll(0))


def sqlite_file(url: str | sa.URL) -> Path | None:
    """The absolute path of a SQLite URL's database file; None for other databases and for
    in-memory SQLite."""
    parsed = sa.make_url(url)
    name = parsed.database
    if parsed.get_backend_name() != "sqlite" or not name or name == ":memory:":
        return None
    if name.startswith("file:"):  # a SQLite URI filename: leave it to SQLite
        return None
    return Path(name).absolute()


def database_location(url: str | sa.URL) -> str:
    """Where the database is, for messages: the absolute file of a SQLite URL, or the URL
    with its password hidden."""
    path = sqlite_file(url)
    if path is not None:
        return f"sqlite:///{path}"
    return sa.make_url(url).render_as_string(hide_password=True)


def _create_private_file(path: Path) -> None:
    # SQLite creates a missing database file 0644 (less the umask): readable by every local
    # user, with every job's metadata and every token hash in it. Create it first, 0600, in
    # one step (O_EXCL): creating and then chmod-ing would leave a window where another
    # process can open it. SQLite gives the -wal and -shm files the database file's mode.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another process created it meanwhile
    except OSError:
        return  # a missing directory, say: SQLite's own error names the file
    os.close(fd)


def _warn_if_others_can_read(path: Path) -> None:
    # An existing file keeps its mode: the operator may share it with a group on purpose.
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return
    if mode & (stat.S_IROTH | stat.S_IWOTH):
        logger.warning(
            "the database file %s is readable by other users (mode %o); "
            "`chmod 600 %s` makes it private",
            path,
            mode,
            path,
        )


def _sqlite_engine(url: str, busy_timeout: float, **kwargs: Any) -> sa.Engine:
    # The driver's own transaction handling is switched off (isolation_level=None) so that we
    # choose how each transaction begins. The store's transactions write, and take the write
    # lock up front (BEGIN IMMEDIATE): that is how several processes sharing one file serialize
    # their claims without failing on a lock upgrade. Reads, and job functions that may hold a
    # transaction for their whole run, begin DEFERRED, so in WAL mode they block nobody.
    engine = sa.create_engine(
        url, connect_args={"timeout": busy_timeout, "isolation_level": None}, **kwargs
    )

    path = sqlite_file(url)
    if path is not None:
        _warn_if_others_can_read(path)

        @event.listens_for(engine, "do_connect")
        def _before_connect(*_args: Any) -> None:
            if not path.exists():
                _create_private_file(path)

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
