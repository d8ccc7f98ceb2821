"""Bring a database to the newest schema, and refuse to work on one that is behind."""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from cronbase.errors import SchemaOutOfDate
from cronbase.store.engine import database_location, sqlite_file

MIGRATIONS = Path(__file__).with_name("migrations")


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@functools.cache  # the migration scripts do not change while the process runs
def head_revision() -> str:
    """Return the newest schema revision this cronbase knows."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """Return the database's schema revision, or None for an empty database."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Apply every pending migration; return (revision before, revision after). Safe to repeat."""
    before = current_revision(engine)
    config = _config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        # A database with no schema yet is a new installation: migrations that give new
        # installations other defaults than upgraded ones (run_retention, the run-history retention)
        # read this. (Two instances migrating at once: the loser finds the work done.)
        config.attributes["new_database"] = before is None
        command.upgrade(config, "head")
    return before, head_revision()


def check_schema(engine: Engine) -> None:
    """Raise SchemaOutOfDate unless the database is at the newest revision.

    A SQLite file that does not exist is not created: a command run from the wrong directory
    should say where it looked, not leave an empty database there.
    """
    where, head = database_location(engine.url), head_revision()
    path = sqlite_file(engine.url)
    if path is not None and not path.exists():
        raise SchemaOutOfDate(
            f"there is no database at {where}: run `cronbase migrate` to create it, "
            "or set CRONBASE_DATABASE_URL to the database you meant"
        )
    current = current_revision(engine)
    if current != head:
        found = "is empty" if current is None else f"has schema revision {current}"
        raise SchemaOutOfDate(
            f"the database {where} {found} but this cronbase needs {head}: "
            "run `cronbase migrate` to bring it up to date"
        )
