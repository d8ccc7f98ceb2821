"""Fixtures shared by every test: a clock, and a migrated store on SQLite and on PostgreSQL.

PostgreSQL tests use CRONBASE_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/
postgres). Each test gets its own database, cloned from a template that was migrated once.
Without a reachable server they are skipped, unless CRONBASE_REQUIRE_POSTGRES is set (as CI
does), in which case they fail.
"""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from cronbase.builtin import BUILTIN_JOBS
from cronbase.config import normalize_database_url
from cronbase.jobs import Job
from cronbase.manager import JobManager
from cronbase.registry import JobRegistry
from cronbase.store import SqlStore, create_engine
from cronbase.store.migrate import upgrade
from cronbase.store.tables import tenants
from cronbase.testing import FakeClock
from tests.helpers import MakeJob, create_job
from tests.receivers import WebhookReceiver

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
NOW = datetime(2025, 1, 15, 10, 30, tzinfo=UTC)

# Tests must not pick up the developer's own configuration.
for _name in list(os.environ):
    if _name.startswith("CRONBASE_") and not _name.startswith(
        ("CRONBASE_TEST_", "CRONBASE_REQUIRE_")
    ):
        del os.environ[_name]


def _with_database(url: str, name: str) -> str:
    return sa.make_url(normalize_database_url(url)).set(database=name).render_as_string(False)


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    url = os.environ.get("CRONBASE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    try:
        psycopg.connect(url, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        if os.environ.get("CRONBASE_REQUIRE_POSTGRES"):
            pytest.fail(f"CRONBASE_REQUIRE_POSTGRES is set but PostgreSQL is unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {url}")
    return url


def _admin(url: str, statement: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(statement)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def postgres_template(postgres_admin_url: str) -> Iterator[str]:
    """A migrated database that each test's database is cloned from."""
    name = f"cronbase_tpl_{os.getpid()}"
    _admin(postgres_admin_url, f"DROP DATABASE IF EXISTS {name}")
    _admin(postgres_admin_url, f"CREATE DATABASE {name}")
    engine = create_engine(_with_database(postgres_admin_url, name))
    upgrade(engine)
    engine.dispose()
    yield name
    _admin(postgres_admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "cronbase.db"
    engine = create_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # closing the last connection folds the WAL into the file, so a copy is whole
    return path


@pytest.fixture
def postgres_url(postgres_admin_url: str, postgres_template: str) -> Iterator[str]:
    name = f"cronbase_test_{uuid.uuid4().hex[:12]}"
    _admin(postgres_admin_url, f"CREATE DATABASE {name} TEMPLATE {postgres_template}")
    yield _with_database(postgres_admin_url, name)
    _admin(postgres_admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    path = tmp_path / "cronbase.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """The URL of a freshly migrated, empty database: each test runs once per backend."""
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture
def store(database_url: str) -> Iterator[SqlStore]:
    store = SqlStore.from_url(database_url)
    yield store
    assert store.engine.pool.checkedout() == 0, "a connection was left checked out"  # type: ignore[attr-defined]
    store.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def registry() -> JobRegistry:
    """The job functions the manager knows: the built-in ones, unless a test module says."""
    return JobRegistry(BUILTIN_JOBS)


@pytest.fixture
def manager(store: SqlStore, registry: JobRegistry, clock: FakeClock) -> JobManager:
    return JobManager(store, registry, clock)


@pytest.fixture
def make_job(manager: JobManager) -> MakeJob:
    """make_job(function_name, **fields): a job made through `manager` (see helpers.create_job)."""

    def make(function_name: str, /, **fields: Any) -> Job:
        return create_job(manager, function_name, **fields)

    return make


@pytest.fixture
def make_tenant(store: SqlStore) -> Callable[..., uuid.UUID]:
    def make(name: str = "Acme") -> uuid.UUID:
        with store.transaction() as conn:
            return conn.execute(
                tenants.insert().values(name=name).returning(tenants.c.id)
            ).scalar_one()

    return make


@pytest.fixture
def insert_rows(store: SqlStore) -> Callable[..., None]:
    """Insert rows into any table: insert_rows(table, [{...}, ...])."""

    def insert(table: sa.Table, rows: list[dict[str, Any]]) -> None:
        if rows:
            with store.transaction() as conn:
                conn.execute(table.insert(), rows)

    return insert


@pytest.fixture
def gate() -> Iterator[threading.Event]:
    """An event a test's job function waits on, to hold a run going; set at teardown."""
    gate = threading.Event()
    yield gate
    gate.set()  # never leave a job thread waiting


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    """A webhook receiver on loopback that checks signatures (tests/receivers.py); closed after."""
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()
