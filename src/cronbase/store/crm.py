"""The built-in jobs' SQL on the host CRM tables: presence, activity cleanup, denormalized fields.

Every function takes a connection and plain arguments and never reads the clock: instants come
in as arguments. `tenant_id=None` means every tenant (a global job); otherwise only that
tenant's rows are read or changed. Statements are set-based (an UPDATE per table and field,
never one per row; only cleanOldActivities loops, over batches), so the work stays in the
database however many rows there are.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from cronbase.errors import StoreError
from cronbase.store.tables import (
    accounts,
    activities,
    activities_archive,
    contacts,
    employees,
    users,
)
from cronbase.store.types import UTCDateTime

logger = logging.getLogger(__name__)

# A batch's ids are bound as parameters; this stays well under SQLite's 32,766 and
# PostgreSQL's 65,535 parameters per statement.
MAX_BATCH_SIZE = 10_000

# What PostgreSQL may cast to timestamptz without failing the whole UPDATE: an ISO-8601
# date-time with a real calendar date (year 0001 to 9999, leap years included), a 24-hour time
# and an optional Z or ±HH:MM offset up to 14 hours (the offset forms SQLite's julianday() also
# reads; PostgreSQL itself refuses offsets past 15:59). No capturing groups and no lookahead:
# they make PostgreSQL's matcher about twice as slow, and this runs on every online user.
_YEAR = r"(?:[0-9]{3}[1-9]|[0-9]{2}[1-9]0|[0-9][1-9]00|[1-9]000)"
_LEAP_YEAR = r"(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
_DATE = (
    rf"(?:{_YEAR}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    r"|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    r"|02-(?:0[1-9]|1[0-9]|2[0-8]))"
    rf"|{_LEAP_YEAR}-02-29)"
)
ISO_DATETIME = (
    rf"^{_DATE}[T ](?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]+)?)?"
    r"(?:[Zz]|[+-](?:0[0-9]|1[0-4]):[0-5][0-9])?$"
)
_HAS_OFFSET = r"(?:[Zz]|[+-][0-9]{2}:[0-9]{2})$"
# SQLite's cheaper shape check; julianday() then returns NULL for whatever it cannot read.
_SQLITE_DATETIME_GLOB = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9][T ][0-9][0-9]:[0-9][0-9]*"


def _of_tenant(table: sa.FromClause, tenant_id: UUID | None) -> sa.ColumnElement[bool]:
    """Every row for a global job (tenant_id None), else only the tenant's rows."""
    return sa.true() if tenant_id is None else table.c.tenant_id == tenant_id


# --- markUsersOffline ------------------------------------------------------------------------


class OfflineCounts(NamedTuple):
    users: int
    employees: int


def mark_offline(
    conn: sa.Connection, *, tenant_id: UUID | None, last_seen_before: datetime
) -> OfflineCounts:
    """Set metadata.live_status to 'offline' on the users and employees last seen before
    `last_seen_before`; return how many rows of each table changed.

    Other metadata keys are kept. Rows already offline, rows without a last_seen, and rows
    whose last_seen is not an ISO-8601 date-time are left alone (a bad value must not fail the
    statement for everyone). A last_seen without an offset is read as UTC.
    """
    return OfflineCounts(
        _mark_offline(conn, users, tenant_id, last_seen_before),
        _mark_offline(conn, employees, tenant_id, last_seen_before),
    )


def _mark_offline(
    conn: sa.Connection, table: sa.Table, tenant_id: UUID | None, before: datetime
) -> int:
    dialect = conn.dialect.name
    metadata = table.c.metadata
    update = (
        sa.update(table)
        .where(
            _of_tenant(table, tenant_id),
            metadata["live_status"].as_string().is_distinct_from("offline"),
            _seen_before(dialect, metadata["last_seen"].as_string(), before),
        )
        .values(metadata=_with_offline_status(dialect, metadata))
    )
    return conn.execute(update).rowcount


def _seen_before(
    dialect: str, last_seen: sa.ColumnElement[str], before: datetime
) -> sa.ColumnElement[bool]:
    if dialect == "postgresql":
        return _seen_before_postgresql(last_seen, before)
    return _seen_before_sqlite(last_seen, before)


def _seen_before_postgresql(
    last_seen: sa.ColumnElement[str], before: datetime
) -> sa.ColumnElement[bool]:
    # CASE fixes the order: an AND could evaluate the cast first and abort the whole UPDATE.
    as_utc = sa.case((last_seen.regexp_match(_HAS_OFFSET), last_seen), else_=last_seen + "Z")
    return sa.case(
        (_recent_utc_text(last_seen, before), sa.false()),
        (last_seen.regexp_match(ISO_DATETIME), sa.cast(as_utc, UTCDateTime()) < before),
        else_=sa.false(),
    )


def _recent_utc_text(last_seen: sa.ColumnElement[str], before: datetime) -> sa.ColumnElement[bool]:
    """A cheap first test that skips the regex on most online users: a last_seen written the
    way the API writes it (2025-01-15T10:30:00Z, with or without a fraction of a second) whose
    text is at or after the first whole second not before `before` is recent. Byte order is
    time order for that fixed-width form; a value of that shape that is no date-time is left
    alone either way. Without it, the regex (~5 µs a row) is most of the job's time."""
    after = before.astimezone(UTC)
    if after.microsecond:
        after = after.replace(microsecond=0) + timedelta(seconds=1)
    return sa.and_(
        last_seen.like("____-__-__T__:__:__%Z"),
        last_seen.collate("C") >= after.isoformat(timespec="seconds")[:19],
    )


def _seen_before_sqlite(
    last_seen: sa.ColumnElement[str], before: datetime
) -> sa.ColumnElement[bool]:
    day = sa.func.substr(last_seen, 1, 10)
    return sa.and_(
        last_seen.op("GLOB")(_SQLITE_DATETIME_GLOB),
        sa.func.date(day, "+0 days") == day,  # the modifier normalizes: 2024-02-30 -> 03-01
        sa.func.julianday(last_seen) < sa.func.julianday(before.astimezone(UTC).isoformat()),
    )


def _with_offline_status(dialect: str, metadata: sa.Column[object]) -> sa.ColumnElement[object]:
    if dialect == "postgresql":
        path = sa.literal(["live_status"], ARRAY(sa.Text()))
        return sa.func.jsonb_set(
            metadata, path, sa.literal("offline", JSONB()), type_=metadata.type
        )
    return sa.func.json_set(metadata, "$.live_status", "offline", type_=metadata.type)


# --- cleanOldActivities ----------------------------------------------------------------------


@dataclass(frozen=True)
class Cleanup:
    batches: int = 0
    archived: int = 0
    deleted: int = 0


def clean_old_activities(
    conn: sa.Connection,
    *,
    tenant_id: UUID | None,
    created_before: datetime,
    batch_size: int,
    archived_at: datetime | None,
) -> Cleanup:
    """Archive or delete the activities created before `created_before`, oldest first.

    With `archived_at` set, each row is copied into activities_archive (stamped archived_at)
    and removed from activities; with None it is only deleted. Rows go `batch_size` at a time,
    in (created_at, id) order, and each batch is committed on `conn` on its own. If a batch
    fails it is rolled back whole (no row is half-moved) and StoreError says how far the job
    got; the batches before it stay committed.
    """
    archive, done = archived_at is not None, Cleanup()
    while True:
        try:
            moved = _next_batch(conn, tenant_id, created_before, batch_size, archived_at)
            conn.commit()
        except sa.exc.DBAPIError as exc:
            conn.rollback()
            raise StoreError(_batch_failed(done, archive, exc)) from exc
        if moved is None:
            return done
        done = Cleanup(
            done.batches + 1,
            done.archived + (moved if archive else 0),
            done.deleted + (0 if archive else moved),
        )
        logger.debug(
            "activities batch %d committed (%d rows)", done.batches, moved,
            extra={"action": "activities_batch", "batch": done.batches, "rows": moved},
        )  # fmt: skip


def _next_batch(
    conn: sa.Connection,
    tenant_id: UUID | None,
    created_before: datetime,
    batch_size: int,
    archived_at: datetime | None,
) -> int | None:
    """Move or delete the next batch; return its size, or None when no old activity is left."""
    # SKIP LOCKED (PostgreSQL only; SQLite's BEGIN IMMEDIATE serializes writers anyway): a
    # concurrent cleanup, say a tenant's job next to the global one, takes other rows.
    oldest = (
        sa.select(activities.c.id)
        .where(activities.c.created_at < created_before, _of_tenant(activities, tenant_id))
        .order_by(activities.c.created_at, activities.c.id)
        .limit(batch_size)
        .with_for_update(skip_locked=True)
    )
    if conn.dialect.name == "postgresql":
        return _next_batch_postgresql(conn, oldest, archived_at)
    ids = list(conn.execute(oldest).scalars())
    if not ids:
        return None
    if archived_at is not None:
        _copy_to_archive(conn, ids, archived_at)
    return conn.execute(sa.delete(activities).where(activities.c.id.in_(ids))).rowcount


def _next_batch_postgresql(
    conn: sa.Connection, oldest: sa.Select[tuple[UUID]], archived_at: datetime | None
) -> int | None:
    """The batch in one statement (WITH batch ... DELETE ... RETURNING, INSERT from that): the
    ids never go to the client and back as 1,000 bound parameters, twice. Archiving 500,000 of
    1,000,000 activities took 24 s that way and takes 10 s this way (bench/README.md)."""
    batch = oldest.cte("batch")
    delete = sa.delete(activities).where(activities.c.id == batch.c.id)
    if archived_at is None:
        moved = conn.execute(delete).rowcount
    else:
        removed = delete.returning(*activities.c).cte("removed")
        copy = activities_archive.insert().from_select(
            [*activities.c.keys(), "archived_at"],
            sa.select(*removed.c, sa.literal(archived_at, UTCDateTime())),
        )
        # An INSERT's rowcount is kept only on request (SQLAlchemy 2.0.28+).
        moved = conn.execute(copy.execution_options(preserve_rowcount=True)).rowcount
    return moved if moved > 0 else None  # never loop on an unknown (-1) count


def _copy_to_archive(conn: sa.Connection, ids: list[UUID], archived_at: datetime) -> None:
    copy = activities_archive.insert().from_select(
        [*activities.c.keys(), "archived_at"],
        sa.select(*activities.c, sa.literal(archived_at, UTCDateTime())).where(
            activities.c.id.in_(ids)
        ),
    )
    conn.execute(copy)


def _batch_failed(done: Cleanup, archive: bool, exc: sa.exc.DBAPIError) -> str:
    progress = f"{done.archived} activities archived" if archive else f"{done.deleted} deleted"
    reason = " ".join(str(exc.orig).split())
    return (
        f"batch {done.batches + 1} failed and was rolled back; the {done.batches} batch(es) "
        f"before it stay committed ({progress}): {reason}"
    )


# --- syncDenormalizedFields ------------------------------------------------------------------


def sync_contact_account_names(conn: sa.Connection, *, tenant_id: UUID | None) -> int:
    """Set contacts.account_name to its account's name (NULL without an account); return the
    number of contacts changed."""
    in_tenant = _of_tenant(contacts, tenant_id)
    from_account = (
        sa.update(contacts)
        .where(
            in_tenant,
            contacts.c.account_id == accounts.c.id,
            contacts.c.account_name.is_distinct_from(accounts.c.name),
        )
        .values(account_name=accounts.c.name)
    )
    without_account = (
        sa.update(contacts)
        .where(in_tenant, contacts.c.account_id.is_(None), contacts.c.account_name.is_not(None))
        .values(account_name=None)
    )
    return conn.execute(from_account).rowcount + conn.execute(without_account).rowcount


def sync_account_contact_counts(conn: sa.Connection, *, tenant_id: UUID | None) -> int:
    """Set accounts.contact_count to the number of contacts with that account_id; return the
    number of accounts changed."""
    owner = accounts.alias("owner")  # the join only scopes the count to the tenant's accounts
    counts = (
        sa.select(contacts.c.account_id, sa.func.count().label("n"))
        .join(owner, owner.c.id == contacts.c.account_id)
        .where(_of_tenant(owner, tenant_id))
        .group_by(contacts.c.account_id)
        .subquery("counts")
    )
    with_contacts = (
        sa.update(accounts)
        .where(accounts.c.id == counts.c.account_id, accounts.c.contact_count != counts.c.n)
        .values(contact_count=counts.c.n)
    )
    without_contacts = (
        sa.update(accounts)
        .where(
            _of_tenant(accounts, tenant_id),
            accounts.c.contact_count != 0,
            ~sa.exists().where(contacts.c.account_id == accounts.c.id),
        )
        .values(contact_count=0)
    )
    return conn.execute(with_contacts).rowcount + conn.execute(without_contacts).rowcount


def sync_activity_related_names(conn: sa.Connection, *, tenant_id: UUID | None) -> int:
    """Set activities.related_name from the account or contact it relates to; return the number
    of activities changed. Activities whose record no longer exists keep the name they have."""
    contact_name = sa.func.trim(contacts.c.first_name + " " + contacts.c.last_name)
    sources = [("account", accounts, accounts.c.name), ("contact", contacts, contact_name)]
    changed = 0
    for related_to, source, name in sources:
        update = (
            sa.update(activities)
            .where(
                _of_tenant(activities, tenant_id),
                activities.c.related_to == related_to,
                activities.c.related_id == source.c.id,
                activities.c.related_name.is_distinct_from(name),
            )
            .values(related_name=name)
        )
        changed += conn.execute(update).rowcount
    return changed
