"""The built-in job functions of the seed: markUsersOffline, cleanOldActivities and
syncDenormalizedFields.

Each declares its options when it is registered (options.py) and reads them from the job's
metadata with that declaration (a missing or null option takes its default; other keys, such as
the runner's monitoring counters, are ignored; a bad value is a ValueError that names the key
and what is allowed), runs its SQL (presence.py, activities.py,
denormalized.py) on the run's connection, and returns its counts. Times are relative to
`ctx.now`, never the database's clock. A tenant's job works on that tenant's rows only; a
global job on every tenant's.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from cronbase.builtin import activities, denormalized, presence
from cronbase.builtin.options import (
    ARCHIVE,
    CleanOldActivitiesOptions,
    MarkUsersOfflineOptions,
    time_before,
)
from cronbase.jobs import isoformat
from cronbase.registry import JobContext, JobGroup

# The group a registry includes to offer the built-in jobs: `registry.include(BUILTIN_JOBS)`.
BUILTIN_JOBS = JobGroup()


@BUILTIN_JOBS.job("markUsersOffline", options=MarkUsersOfflineOptions)
def mark_users_offline(ctx: JobContext) -> dict[str, Any]:
    """Mark users and employees offline when their last heartbeat is older than the timeout.

    Option `timeout_minutes` (a number > 0, default 5). A user or employee whose
    metadata.last_seen is more than timeout_minutes before the run gets metadata.live_status =
    'offline'; its other metadata keys are kept. last_seen is an ISO-8601 date-time (T or a
    space, Z, ±hh, ±hh:mm or no offset, which is UTC) or a JSON number of epoch seconds
    (milliseconds above 10^11). Rows already offline or without a last_seen are left alone;
    so are rows whose last_seen cannot be read, counted in unreadable_last_seen.
    """
    timeout = MarkUsersOfflineOptions.read(ctx.metadata).timeout_minutes
    cutoff = time_before(ctx.now, "timeout_minutes", timedelta(minutes=1), timeout)
    counts = presence.mark_offline(ctx.connection, tenant_id=ctx.tenant_id, last_seen_before=cutoff)
    if counts.unreadable:
        ctx.logger.warning(
            "%d users and employees have a metadata.last_seen that cannot be read; left alone",
            counts.unreadable,
        )
    return {
        "users_marked_offline": counts.users,
        "employees_marked_offline": counts.employees,
        "total": counts.users + counts.employees,
        "unreadable_last_seen": counts.unreadable,
    }


@BUILTIN_JOBS.job("cleanOldActivities", options=CleanOldActivitiesOptions)
def clean_old_activities(ctx: JobContext) -> dict[str, Any]:
    """Archive or delete activities older than the retention period, in batches.

    Options: `retention_days` (a number >= 0, default 90); `mode`, "archive" (default: move the
    rows into activities_archive, stamped archived_at) or "delete"; `batch_size` (an integer
    from 1 to 10000, default 1000). Oldest rows go first, and each batch is committed on its
    own: if one fails, the batches before it stay done and the failed one is rolled back whole.
    """
    options = CleanOldActivitiesOptions.read(ctx.metadata)
    retention, mode = options.retention_days, options.mode
    cutoff = time_before(ctx.now, "retention_days", timedelta(days=1), retention)
    done = activities.clean_old_activities(
        ctx.connection,
        tenant_id=ctx.tenant_id,
        created_before=cutoff,
        batch_size=options.batch_size,
        archived_at=ctx.now if mode == ARCHIVE else None,
    )
    return {
        "mode": mode,
        "retention_days": retention,
        "cutoff": isoformat(cutoff),
        "batches": done.batches,
        "archived": done.archived,
        "deleted": done.deleted,
    }


@BUILTIN_JOBS.job("syncDenormalizedFields")
def sync_denormalized_fields(ctx: JobContext) -> dict[str, Any]:
    """Refresh cached copies: contact account names, account contact counts, activity names.

    Sets contacts.account_name from the contact's account (NULL without one),
    accounts.contact_count from the contacts that point at the account, and
    activities.related_name from the related account's name or contact's full name. Only rows
    whose value differs are written, so a second run reports 0. No options.
    """
    conn, tenant_id = ctx.connection, ctx.tenant_id
    # Counts first: it reads every contact, and reads them much faster before the name update
    # has rewritten (and scattered) the rows it changes. The two do not depend on each other.
    contact_counts = denormalized.sync_account_contact_counts(conn, tenant_id=tenant_id)
    counts = {
        "contacts_account_name": denormalized.sync_contact_account_names(conn, tenant_id=tenant_id),
        "accounts_contact_count": contact_counts,
        "activities_related_name": denormalized.sync_activity_related_names(
            conn, tenant_id=tenant_id
        ),
    }
    return {**counts, "total": sum(counts.values())}
