"""Job dependencies: the dependency graph, wait_for, and the trigger key of runs that are not
on the schedule.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cronbase.store.types import JSONDocument

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEYED = sa.text("trigger_key IS NOT NULL")


def upgrade() -> None:
    # Plain ADD COLUMNs on both databases (a constant default rewrites no row, and SQLite needs
    # no table rebuild, which would cascade-delete the runs with foreign keys on).
    op.add_column(
        "cron_job", sa.Column("wait_for", sa.Text(), server_default="any", nullable=False)
    )
    op.add_column("cron_job_run", sa.Column("trigger_key", sa.Text(), nullable=True))
    op.add_column("cron_job_run", sa.Column("triggered_by", JSONDocument, nullable=True))
    op.create_index(
        "uq_cron_job_run_trigger_key",
        "cron_job_run",
        ["job_id", "trigger_key", "attempt"],
        unique=True,
        sqlite_where=_KEYED,
        postgresql_where=_KEYED,
    )
    op.create_table(
        "cron_job_dependency",
        sa.Column(
            "job_id",
            sa.Uuid(),
            sa.ForeignKey(
                "cron_job.id",
                ondelete="CASCADE",
                name="fk_cron_job_dependency_job_id_cron_job",
            ),
            nullable=False,
        ),
        sa.Column(
            "upstream_id",
            sa.Uuid(),
            sa.ForeignKey("cron_job.id", name="fk_cron_job_dependency_upstream_id_cron_job"),
            nullable=False,
        ),
        sa.Column("on", sa.Text(), server_default="success", nullable=False),
        sa.PrimaryKeyConstraint("job_id", "upstream_id", name="pk_cron_job_dependency"),
    )
    op.create_index("ix_cron_job_dependency_upstream", "cron_job_dependency", ["upstream_id"])


def downgrade() -> None:
    op.drop_table("cron_job_dependency")
    op.drop_index("uq_cron_job_run_trigger_key", table_name="cron_job_run")
    # Plain DROP COLUMNs (SQLite 3.35 and later), not batch rebuilds: a rebuild reflects the
    # table and loses its expression indexes (ix_cron_job_due, ix_cron_job_claim).
    op.drop_column("cron_job_run", "triggered_by")
    op.drop_column("cron_job_run", "trigger_key")
    op.drop_column("cron_job", "wait_for")
