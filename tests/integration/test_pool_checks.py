"""Pooled PostgreSQL connections (store/engine.py) are checked before use only when in doubt:
one the server closed while it sat in the pool is replaced, so reads and writes go on after
a restart; one reused at once is not pinged (no round trip before the statement). And those
opened for a busy moment are kept, not closed as they are returned."""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy as sa

from cronbase.listing import JobQuery
from cronbase.store import SqlStore
from tests.helpers import wait_until

pytestmark = pytest.mark.postgres


def _backends(admin_url: str, database: str) -> list[tuple[int, str]]:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        return conn.execute(
            "SELECT pid, query FROM pg_stat_activity WHERE datname = %s"
            " AND backend_type = 'client backend'",
            (database,),
        ).fetchall()


def test_connections_the_server_closed_in_the_pool_are_replaced(
    postgres_url: str, postgres_admin_url: str
) -> None:
    store = SqlStore.from_url(postgres_url)
    database = sa.make_url(postgres_url).database
    try:
        with store.engine.connect() as a, store.engine.connect() as b:
            a.exec_driver_sql("SELECT 1")
            b.exec_driver_sql("SELECT 1")
        assert len(_backends(postgres_admin_url, database)) == 2
        with psycopg.connect(postgres_admin_url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (database,),
            )
        wait_until(
            lambda: not _backends(postgres_admin_url, database),
            what="the backends to end",
            timeout=10,
        )
        assert store.list_jobs_json(JobQuery()) == []  # the autocommit read
        assert store.list_tenants() == []  # a read transaction
        store.insert_tenant("after the restart")  # a write
        assert [name for _id, name in store.list_tenants()] == ["after the restart"]
    finally:
        store.close()


def test_a_connection_reused_at_once_is_not_pinged(
    postgres_url: str, postgres_admin_url: str
) -> None:
    """Nor is anything sent when a read outside a transaction returns it (no ROLLBACK)."""
    store = SqlStore.from_url(postgres_url, pool_size=1, max_overflow=0)
    database = sa.make_url(postgres_url).database
    try:
        with store.reading_once() as conn:
            conn.exec_driver_sql("SELECT 'the last statement'")
        with store.reading_once():
            # pg_stat_activity shows a backend's last statement: a ping would be there.
            ((_pid, query),) = _backends(postgres_admin_url, database)
            assert query == "SELECT 'the last statement'"
    finally:
        store.close()


def test_connections_opened_for_a_busy_moment_are_kept(postgres_url: str) -> None:
    """SQLAlchemy's default pool closes every connection past 5 as it is returned; an API
    server answering more than 5 requests at a time then opened a connection for most."""
    store = SqlStore.from_url(postgres_url)
    try:
        held = [store.engine.connect() for _ in range(8)]
        for conn in held:
            conn.exec_driver_sql("SELECT 1")
            conn.close()
        assert store.engine.pool.checkedin() == 8  # type: ignore[attr-defined]
    finally:
        store.close()
