"""Where the database is: a SQLite file that only its owner can read, and messages that say
which database they are about (without its password)."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from cronbase.errors import SchemaOutOfDate
from cronbase.store import SqlStore, create_engine
from cronbase.store.engine import database_location
from cronbase.store.migrate import check_schema, head_revision, upgrade


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The usual umask, under which SQLite makes its files readable by every user."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("open_umask")
def test_a_new_sqlite_database_and_its_wal_and_shm_files_are_private(tmp_path: Path) -> None:
    path = tmp_path / "cronbase.db"
    engine = create_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as conn:  # while a connection is open, -wal and -shm exist
        conn.execute(sa.text("SELECT count(*) FROM cron_job"))
        files = {p.name: _mode(p) for p in tmp_path.iterdir()}
    engine.dispose()
    assert files == {"cronbase.db": 0o600, "cronbase.db-wal": 0o600, "cronbase.db-shm": 0o600}


@pytest.mark.usefixtures("open_umask")
def test_an_existing_database_file_keeps_its_mode_and_a_readable_one_is_warned_about(
    tmp_path: Path, sqlite_template: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "shared.db"
    path.write_bytes(sqlite_template.read_bytes())
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="cronbase.store.engine"):
        engine = create_engine(f"sqlite:///{path}")
        check_schema(engine)
    engine.dispose()
    assert _mode(path) == 0o644  # an operator may share the file on purpose
    assert f"{path} is readable by other users" in caplog.text
    assert f"chmod 600 {path}" in caplog.text


def test_a_missing_sqlite_file_is_named_and_not_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    engine = create_engine("sqlite:///cronbase.db")  # relative, as the default URL is
    with pytest.raises(SchemaOutOfDate) as refused:
        check_schema(engine)
    engine.dispose()
    message = str(refused.value)
    assert f"there is no database at sqlite:///{tmp_path / 'cronbase.db'}" in message
    assert "run `cronbase migrate`" in message
    assert list(tmp_path.iterdir()) == []


def test_a_database_that_is_behind_is_named_without_its_password(database_url: str) -> None:
    store = SqlStore.from_url(database_url)
    with store.transaction() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0001'"))
    store.close()
    url = sa.make_url(database_url)
    if url.get_backend_name() == "postgresql":
        url = url.set(password="s3cret")  # the test server trusts local connections
    engine = create_engine(url.render_as_string(hide_password=False))
    with pytest.raises(SchemaOutOfDate) as refused:
        check_schema(engine)
    engine.dispose()
    message = str(refused.value)
    assert f"the database {database_location(url)} has schema revision 0001" in message
    assert f"needs {head_revision()}" in message
    assert "s3cret" not in message
    if url.get_backend_name() == "postgresql":
        assert "***" in message
