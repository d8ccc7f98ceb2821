"""The tables of alert state (see store/alerts.py): overdue episodes, maintenance windows and
flood control's repeats. On the same `metadata` as store/tables.py; the store's package imports
this module (through sql.py and alerts.py), so the migrations always see them."""

from __future__ import annotations

import sqlalchemy as sa

from cronbase.store.tables import (
    created_at_column,
    id_column,
    metadata,
    tenant_id_column,
)
from cronbase.store.types import JSONDocument, UTCDateTime

# One row per overdue episode: (job, the next_run nothing claimed). The primary key keeps it to
# one job.overdue per episode, whichever process (worker or API server) checks first.
cron_job_overdue = sa.Table(
    "cron_job_overdue",
    metadata,
    sa.Column(
        "job_id", sa.Uuid(), sa.ForeignKey("cron_job.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("next_run", UTCDateTime(), primary_key=True),
    sa.Column("tenant_id", sa.Uuid()),
    sa.Column("detected_at", UTCDateTime(), nullable=False),
)

# Maintenance windows: while one lasts, alerts about the jobs it covers (job_ids, or NULL:
# all of its tenant's jobs; a global window, every job) are suppressed.
cron_maintenance = sa.Table(
    "cron_maintenance",
    metadata,
    id_column(),
    tenant_id_column(nullable=True),
    sa.Column("starts_at", UTCDateTime(), nullable=False),
    sa.Column("ends_at", UTCDateTime(), nullable=False),
    sa.Column("job_ids", JSONDocument),
    sa.Column("reason", sa.Text(), nullable=False, server_default=""),
    created_at_column(),
    sa.Index("ix_cron_maintenance_ends_at", "ends_at"),
)

# Flood control: per channel, job and event, when one was last sent and how many repeats were
# folded since (cronbase.notify.flood).
cron_alert_repeat = sa.Table(
    "cron_alert_repeat",
    metadata,
    sa.Column(
        "channel_id",
        sa.Uuid(),
        sa.ForeignKey("cron_channel.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column(
        "job_id", sa.Uuid(), sa.ForeignKey("cron_job.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("event", sa.Text(), primary_key=True),
    sa.Column("last_sent_at", UTCDateTime()),
    sa.Column("folded", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("folded_since", UTCDateTime()),
)
