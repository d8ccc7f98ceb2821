"""Indexes for the jobs list's sorts by name and next_run, and for a job's runs of one status
(bench/lists.py measures them).

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | Sequence[str] | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Each serves a sort's pages in order, the id breaking ties (store/keyset.py), so that
    # 100,000 jobs are not sorted for a page of 100. About a second each at that size.
    op.create_index("ix_cron_job_name_order", "cron_job", ["name", "id"])
    op.create_index("ix_cron_job_next_run_order", "cron_job", ["next_run", "id"])
    # Only runs that ended without succeeding get an entry (tables.UNSUCCESSFUL). Writes to
    # cron_job_run wait while it builds: about 10 s for 10 million runs.
    unsuccessful = sa.text("status IN ('failed', 'timed_out', 'abandoned', 'missed', 'skipped')")
    op.create_index(
        "ix_cron_job_run_unsuccessful",
        "cron_job_run",
        ["job_id", "status", "scheduled_for", "attempt"],
        sqlite_where=unsuccessful,
        postgresql_where=unsuccessful,
    )


def downgrade() -> None:
    op.drop_index("ix_cron_job_run_unsuccessful", table_name="cron_job_run")
    op.drop_index("ix_cron_job_next_run_order", table_name="cron_job")
    op.drop_index("ix_cron_job_name_order", table_name="cron_job")
