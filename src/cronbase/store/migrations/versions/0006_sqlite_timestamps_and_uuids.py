"""SQLite: due indexes on next_run as it compares in time order, and version-4 ids.

PostgreSQL needs neither: TIMESTAMPTZ compares by value whatever text wrote it, and
gen_random_uuid() gives version-4 ids. Its indexes compile to what they were.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cronbase.store.types import new_uuid, timestamp_key

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ACTIVE = sa.text("is_active = 1")
# What 0001 to 0005 wrote as the ids' default on SQLite: 128 random bits, not a UUID layout.
_OLD_ID_DEFAULT = "(lower(hex(randomblob(16))))"


def _new_id_default() -> str:
    return str(new_uuid().compile(dialect=op.get_bind().dialect))


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    _create_due_indexes([timestamp_key(sa.column("next_run"))])
    _replace_in_table_definitions(_OLD_ID_DEFAULT, _new_id_default())


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    _create_due_indexes([sa.column("next_run")])
    _replace_in_table_definitions(_new_id_default(), _OLD_ID_DEFAULT)


def _create_due_indexes(next_run: list[sa.ColumnElement[object]]) -> None:
    op.drop_index("ix_cron_job_due", table_name="cron_job")
    op.drop_index("ix_cron_job_claim", table_name="cron_job")
    op.create_index("ix_cron_job_due", "cron_job", next_run, sqlite_where=_ACTIVE)
    op.create_index(
        "ix_cron_job_claim", "cron_job", [sa.text("priority DESC"), *next_run], sqlite_where=_ACTIVE
    )


def _replace_in_table_definitions(old: str, new: str) -> None:
    # SQLite's documented way to change a column's default without rebuilding the table
    # (sqlite.org/lang_altertable.html, "making other kinds of table schema changes"): edit
    # the stored CREATE TABLE text and bump schema_version, so that every connection reads
    # it again. Rebuilding instead would copy every CRM table, and with foreign keys on,
    # dropping a table to replace it deletes the rows that cascade from it.
    conn = op.get_bind()
    version = conn.exec_driver_sql("PRAGMA schema_version").scalar_one()
    conn.exec_driver_sql("PRAGMA writable_schema = ON")
    conn.execute(
        sa.text("UPDATE sqlite_master SET sql = replace(sql, :old, :new) WHERE type = 'table'"),
        {"old": old, "new": new},
    )
    conn.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    conn.exec_driver_sql("PRAGMA writable_schema = OFF")
