"""markUsersOffline's SQL: mark users and employees offline when their heartbeat is stale.

Takes a connection and plain arguments and never reads the clock: the cutoff comes in as an
argument. `tenant_id=None` means every tenant (a global job). One set-based UPDATE per table,
never one per row, so the work stays in the database however many rows there are.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import NamedTuple
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from cronbase.builtin.tables import employees, of_tenant, users
from cronbase.store.types import UTCDateTime

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
            of_tenant(table, tenant_id),
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
