"""The tables of notifications (alerts): channels, the outbox, and every delivery attempt.
On the same `metadata` as store/tables.py; the store's package imports this module (through
sql.py and notifications.py), so the migrations always see them."""

from __future__ import annotations

import sqlalchemy as sa

from cronbase.store.tables import (
    created_at_column,
    id_column,
    metadata,
    tenant_id_column,
)
from cronbase.store.types import JSONDocument, UTCDateTime

# Where alerts go. A channel with a tenant receives that tenant's events only; a global one
# (tenant_id NULL, a superadmin's) receives every tenant's.
cron_channel = sa.Table(
    "cron_channel",
    metadata,
    id_column(),
    tenant_id_column(nullable=True),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("kind", sa.Text(), nullable=False),  # webhook, slack or email
    sa.Column("url", sa.Text(), nullable=False),  # the endpoint, or the email address
    # The event names it receives (a JSON list); matched in Python, as the few channels of a
    # tenant are read at once, so no JSON operator of either database is needed.
    sa.Column("events", JSONDocument, nullable=False, server_default=sa.text("'[]'")),
    sa.Column("job_ids", JSONDocument),  # a JSON list of job ids, or NULL: every job
    # The signing secret, encrypted (Fernet) at rest: it must stay readable to sign. After a
    # rotation the previous one still signs until previous_secret_until.
    sa.Column("secret", sa.Text()),
    sa.Column("previous_secret", sa.Text()),
    sa.Column("previous_secret_until", UTCDateTime()),
    sa.Column("muted_until", UTCDateTime()),
    created_at_column(),
    sa.Column("updated_at", UTCDateTime(), nullable=False, server_default=sa.func.now()),
    sa.Index("ix_cron_channel_tenant_listing", "tenant_id", "created_at", "id"),
)

# The durable outbox: one row per (channel, event), written in the transaction that records
# what caused it, so an alert cannot be lost between the two. Its id is the Standard Webhooks
# `webhook-id`, the same on every attempt, so a receiver can drop duplicates.
cron_notification = sa.Table(
    "cron_notification",
    metadata,
    id_column(),
    sa.Column(
        "channel_id",
        sa.Uuid(),
        sa.ForeignKey("cron_channel.id", ondelete="CASCADE"),
        nullable=False,
    ),
    # No foreign keys to jobs and runs: an alert about a job deleted meanwhile is still sent.
    sa.Column("tenant_id", sa.Uuid()),
    sa.Column("job_id", sa.Uuid()),
    sa.Column("run_id", sa.Uuid()),
    sa.Column("event", sa.Text(), nullable=False),
    sa.Column("payload", JSONDocument, nullable=False),
    # At most one notification per channel and key (e.g. "run.failed:<run id>"), whichever
    # process writes it first; NULL keys never collide.
    sa.Column("dedup_key", sa.Text()),
    created_at_column(),
    sa.Column("status", sa.Text(), nullable=False, server_default="pending"),
    sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
    # A deliverer holds a notification until lease_until; one that dies lets it lapse.
    sa.Column("lease_until", UTCDateTime()),
    sa.Column("lease_owner", sa.Text()),
    sa.Column("delivered_at", UTCDateTime()),
    sa.Column("last_error", sa.Text()),
    sa.Index("uq_cron_notification_dedup", "channel_id", "dedup_key", unique=True),
    # The delivery claim reads pending rows whose next attempt has come, oldest first.
    sa.Index(
        "ix_cron_notification_due",
        "next_attempt_at",
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    ),
    # A channel's notifications, newest first (its deliveries page), and pruning by age.
    sa.Index("ix_cron_notification_channel", "channel_id", "created_at"),
    sa.Index("ix_cron_notification_created_at", "created_at"),
)

# One row per delivery attempt: what the receiver answered, or why nothing came back.
cron_delivery = sa.Table(
    "cron_delivery",
    metadata,
    id_column(),
    sa.Column(
        "notification_id",
        sa.Uuid(),
        sa.ForeignKey("cron_notification.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("attempt", sa.Integer(), nullable=False),
    sa.Column("attempted_at", UTCDateTime(), nullable=False),
    sa.Column("status_code", sa.Integer()),
    sa.Column("error", sa.Text()),
    sa.Column("duration_ms", sa.Integer(), nullable=False),
    sa.Index("ix_cron_delivery_notification", "notification_id", "attempted_at"),
)
