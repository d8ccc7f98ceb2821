"""markUsersOffline's SQL: mark users and employees offline when their heartbeat is stale.

Takes a connection and plain arguments and never reads the clock: the cutoff comes in as an
argument. `tenant_id=None` means every tenant (a global job). Set-based statements (an UPDATE
and a count per table), never one per row, so the work stays in the database however many rows
there are.

A last_seen is read as an ISO-8601 date-time string (ISO_DATETIME; without an offset it is
UTC), which includes PostgreSQL's own text form (`now()::text`, 2026-11-30 14:45:50.196084+00),
or as a JSON number of seconds since the epoch, of milliseconds above 10^11 (10^11 seconds is
the year 5138, 10^11 milliseconds March 1973). Anything else cannot be read: it is counted, and
left alone. Neither database may fail the statement on one bad value (PostgreSQL 15 has no
pg_input_is_valid), so every cast sits behind a CASE branch that has checked its input.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from cronbase.builtin.tables import employees, of_tenant, users
from cronbase.store.types import UTCDateTime

# What PostgreSQL may cast to timestamptz without failing the whole UPDATE: an ISO-8601
# date-time with a real calendar date (year 0001 to 9999, leap years included), T or a space,
# a 24-hour time with or without seconds and a fraction, and an optional Z, ±HH or ±HH:MM offset
# up to 14 hours (PostgreSQL itself refuses offsets past 15:59). No capturing groups and no
# lookahead: they make PostgreSQL's matcher about twice as slow, and this runs on every online
# user that the cheap test of _recent_api_text does not settle.
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
    r"(?:[Zz]|[+-](?:0[0-9]|1[0-4])(?::[0-5][0-9])?)?$"
)
_HAS_OFFSET = r"(?:[Zz]|[+-][0-9]{2}(?::[0-9]{2})?)$"
EPOCH_MILLISECONDS_ABOVE = 10**11  # a JSON number above this is milliseconds, else seconds
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The API's form of a date-time as PostgreSQL's to_timestamp() templates: whole seconds, or a
# fraction of 1 to 6 digits.
_API_TEMPLATES = (r"YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"", r"YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"")
# SQLite's cheaper shape check; julianday() then returns NULL for most of what it cannot read.
_SQLITE_DATETIME_GLOB = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9][T ][0-9][0-9]:[0-9][0-9]*"


class OfflineCounts(NamedTuple):
    users: int
    employees: int
    unreadable: int  # users and employees left alone because their last_seen cannot be read


def mark_offline(
    conn: sa.Connection, *, tenant_id: UUID | None, last_seen_before: datetime
) -> OfflineCounts:
    """Set metadata.live_status to 'offline' on the users and employees last seen before
    `last_seen_before`; return how many rows of each table changed, and how many rows (not
    offline) have a last_seen that cannot be read.

    Other metadata keys are kept. Rows already offline, rows without a last_seen (or a null
    one) and rows whose last_seen cannot be read are left alone.
    """
    users_marked, users_unreadable = _mark_offline(conn, users, tenant_id, last_seen_before)
    employees_marked, employees_unreadable = _mark_offline(
        conn, employees, tenant_id, last_seen_before
    )
    return OfflineCounts(users_marked, employees_marked, users_unreadable + employees_unreadable)


def _mark_offline(
    conn: sa.Connection, table: sa.Table, tenant_id: UUID | None, before: datetime
) -> tuple[int, int]:
    """(rows marked offline, rows left alone because their last_seen cannot be read)."""
    dialect = conn.dialect.name
    metadata = table.c.metadata
    last_seen = (
        _PostgresqlLastSeen(metadata) if dialect == "postgresql" else _SqliteLastSeen(metadata)
    )
    not_offline = sa.and_(
        of_tenant(table, tenant_id),
        metadata["live_status"].as_string().is_distinct_from("offline"),
    )
    update = (
        sa.update(table)
        .where(not_offline, last_seen.before(before))
        .values(metadata=_with_offline_status(dialect, metadata))
    )
    marked = conn.execute(update).rowcount
    # A second scan, after the UPDATE has taken the stale rows out of `not_offline`: about a
    # tenth of the job's time on PostgreSQL, as the cheap test settles most rows.
    count = sa.select(sa.func.count()).select_from(table)
    unreadable = conn.execute(count.where(not_offline, last_seen.unreadable(before))).scalar_one()
    return marked, unreadable


def _epoch_seconds(instant: datetime) -> Decimal:
    """Seconds since the epoch, exact to the microsecond."""
    return Decimal((instant - _EPOCH) // timedelta(microseconds=1)) / 1_000_000


def _from_epoch_number(number: sa.ColumnElement[Any], thousand: Any) -> sa.ColumnElement[Any]:
    """A JSON number as seconds; `thousand` is 1000 in the database's exact number type."""
    return sa.case((number > EPOCH_MILLISECONDS_ABOVE, number / thousand), else_=number)


class _PostgresqlLastSeen:
    """metadata.last_seen on PostgreSQL: a jsonb number, or text matched by ISO_DATETIME.

    `before` is the UPDATE's test, `unreadable` the count's; both are CASEs that try the same
    readings in the same order."""

    def __init__(self, metadata: sa.Column[Any]) -> None:
        self.metadata = metadata
        self.kind = sa.func.jsonb_typeof(metadata["last_seen"])
        self.text = metadata["last_seen"].as_string()

    def before(self, before: datetime) -> sa.ColumnElement[bool]:
        # numeric, not float: numeric holds any JSON number, while a huge one compared with a
        # float would have to be cast to float8 and fail the whole UPDATE.
        cutoff = sa.literal(_epoch_seconds(before), sa.Numeric())
        number = _from_epoch_number(sa.cast(self.text, sa.Numeric()), 1000)
        as_utc = sa.case((self.text.regexp_match(_HAS_OFFSET), self.text), else_=self.text + "Z")
        # CASE fixes the order: an AND could evaluate a cast first and abort the whole UPDATE.
        return sa.case(
            (_recent_api_text(self.text, before), sa.false()),
            (self.kind == "number", number < cutoff),
            (self.text.regexp_match(ISO_DATETIME), sa.cast(as_utc, UTCDateTime()) < before),
            else_=sa.false(),
        )

    def unreadable(self, before: datetime) -> sa.ColumnElement[bool]:
        # The cheap test lets through values of the API's shape that are no date-time
        # (2025-01-15T99:00:00Z): harmless for the UPDATE, which only needs to know they are
        # not stale, but the count must read them, and PostgreSQL's own parser does it in a
        # tenth of the regex's time.
        recent = sa.and_(_recent_api_text(self.text, before), self._api_text_parses())
        return sa.case(
            (recent, sa.false()),
            # no last_seen key (NULL), a null one, or a number
            (sa.func.coalesce(self.kind, "null").in_(["null", "number"]), sa.false()),
            (self.text.regexp_match(ISO_DATETIME), sa.false()),
            else_=sa.true(),
        )

    def _api_text_parses(self) -> sa.ColumnElement[bool]:
        """Whether last_seen, in the API's form, is a real date-time: jsonpath's datetime()
        with a template, which returns NULL instead of failing the statement (silent)."""
        return sa.or_(
            *(
                sa.func.jsonb_path_exists(
                    self.metadata,
                    sa.literal_column(f"'$.last_seen.datetime(\"{template}\")'"),
                    sa.literal_column("'{}'"),
                    sa.true(),
                )
                for template in _API_TEMPLATES
            )
        )


def _recent_api_text(text: sa.ColumnElement[str], before: datetime) -> sa.ColumnElement[bool]:
    """A cheap first test that spares the regex (~5 µs a row, most of the job's time without
    it) on most online users: a last_seen written the way the API writes it
    (2025-01-15T10:30:00Z, with or without a fraction of a second) whose text is at or after
    the first whole second not before `before` is recent. Byte order is time order for that
    fixed-width form. A value of that shape that is no date-time passes too."""
    after = before.astimezone(UTC)
    if after.microsecond:
        after = after.replace(microsecond=0) + timedelta(seconds=1)
    return sa.and_(
        text.like("____-__-__T__:__:__%Z"),
        text.collate("C") >= after.isoformat(timespec="seconds")[:19],
    )


class _SqliteLastSeen:
    """metadata.last_seen on SQLite: a JSON integer or real, or text julianday() reads, within
    what ISO_DATETIME accepts (julianday() alone reads `now` and 2024-02-30)."""

    def __init__(self, metadata: sa.Column[Any]) -> None:
        self.kind = sa.func.json_type(metadata, "$.last_seen")
        self.value = metadata["last_seen"].as_string()  # a JSON number comes as its text
        self.number = sa.func.json_extract(metadata, "$.last_seen", type_=sa.Float())

    def _readable_text(self) -> sa.ColumnElement[bool]:
        value, day = self.value, sa.func.substr(self.value, 1, 10)
        return sa.and_(
            self.kind == "text",
            value.op("GLOB")(_SQLITE_DATETIME_GLOB),
            sa.func.date(day, "+0 days") == day,  # the modifier normalizes: 2024-02-30 -> 03-01
            # julianday() also reads 24:00 and a space before the offset; ISO_DATETIME does not
            sa.func.substr(value, 12, 2) < "24",
            sa.func.instr(sa.func.substr(value, 12), " ") == 0,
            sa.func.julianday(self._offset_with_minutes()).is_not(None),
        )

    def _offset_with_minutes(self) -> sa.ColumnElement[str]:
        # julianday() reads +05:00 but not +05.
        return sa.case(
            (self.value.op("GLOB")("*[+-][0-9][0-9]"), self.value + ":00"),
            else_=self.value,
        )

    def before(self, before: datetime) -> sa.ColumnElement[bool]:
        cutoff = float(_epoch_seconds(before))
        instant = sa.func.julianday(self._offset_with_minutes())
        return sa.case(
            (
                self.kind.in_(["integer", "real"]),
                _from_epoch_number(self.number, 1000.0) < cutoff,
            ),
            (
                self._readable_text(),
                instant < sa.func.julianday(before.astimezone(UTC).isoformat()),
            ),
            else_=sa.false(),
        )

    def unreadable(self, _before: datetime) -> sa.ColumnElement[bool]:
        return sa.case(
            (self.kind.in_(["integer", "real", "null"]), sa.false()),
            (self._readable_text(), sa.false()),
            else_=self.kind.is_not(None),  # NULL: no last_seen key at all
        )


def _with_offline_status(dialect: str, metadata: sa.Column[object]) -> sa.ColumnElement[object]:
    if dialect == "postgresql":
        path = sa.literal(["live_status"], ARRAY(sa.Text()))
        return sa.func.jsonb_set(
            metadata, path, sa.literal("offline", JSONB()), type_=metadata.type
        )
    return sa.func.json_set(metadata, "$.live_status", "offline", type_=metadata.type)
