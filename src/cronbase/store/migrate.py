"""Bring a database to the newest schema, and refuse to work on one that is behind."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy import Engine

from cronbase.errors import SchemaOutOfDate
from cronbase.store.engine import database_location, sqlite_file

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
# Every command checks the schema (check_schema) before it works, and importing alembic was a
# quarter of a CLI command's start-up: the check reads the revisions without it. They are one
# chain, each file named for its revision (versions/0025_short_name_search.py is "0025"); a
# test holds this reading equal to alembic's. Only `migrate` (upgrade) loads alembic.
_REVISION_FILE = re.compile(r"^(\d{4})_\w+\.py$")


def _config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@functools.cache  # the migration scripts do not change while the process runs
def head_revision() -> str:
    """Return the newest schema revision this cronbase knows: the highest numbered file."""
    files = (MIGRATIONS / "versions").iterdir()
    return max(found.group(1) for path in files if (found := _REVISION_FILE.match(path.name)))


def current_revision(engine: Engine) -> str | None:
    """Return the database's schema revision, or None for an empty database."""
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Apply every pending migration; return (revision before, revision after). Safe to repeat."""
    from alembic import command

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
