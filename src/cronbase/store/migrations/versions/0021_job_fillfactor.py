"""Room in each page of cron_job for the updates every run makes (PostgreSQL only).

Each run updates its job's row twice: the claim moves next_run on (an indexed column, so a new
row version and an entry in every index of the table), and the recording writes the last
status and the run counts (no indexed column: a HOT update, which adds no index entry, if the
new version fits in the same page). With the default fillfactor of 100 the pages of a loaded
table are full, so the second update was almost never HOT. At 70 each page keeps room for
those versions until page pruning frees the dead ones. New pages and rewritten ones (VACUUM
FULL, CLUSTER) follow it; existing pages fill up as before.

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FILLFACTOR = 70


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE cron_job SET (fillfactor = {FILLFACTOR})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE cron_job RESET (fillfactor)")
