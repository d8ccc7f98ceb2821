"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement


class UTCDateTime(sa.TypeDecorator[datetime]):
    """An aware UTC timestamp: TIMESTAMPTZ on PostgreSQL, naive UTC text on SQLite.

    Naive datetimes are refused on the way in, so a local time can never be stored by mistake,
    and values come back aware from both databases.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: cronbase stores aware UTC instants only")
        value = value.astimezone(UTC)
        # SQLite has no time zone type; storing naive UTC keeps text comparisons chronological.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:  # noqa: ARG002
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# JSONB on PostgreSQL, as the seed's schema has it; JSON text on SQLite.
JSONDocument = sa.JSON().with_variant(JSONB(), "postgresql")


class new_uuid(FunctionElement[Any]):
    """Server-side random UUID, so plain SQL INSERTs without an id work on both databases."""

    type = sa.Uuid()
    inherit_cache = True


@compiles(new_uuid, "postgresql")
def _new_uuid_postgresql(_element: new_uuid, _compiler: Any, **_kw: Any) -> str:
    return "gen_random_uuid()"


@compiles(new_uuid, "sqlite")
def _new_uuid_sqlite(_element: new_uuid, _compiler: Any, **_kw: Any) -> str:
    # SQLAlchemy's Uuid is 32 hex digits on SQLite. A version-4 layout, as gen_random_uuid()
    # gives on PostgreSQL: digit 13 is the version (4), digit 17 the variant (8, 9, a or b).
    return (
        "(lower(hex(randomblob(4)) || hex(randomblob(2)) || '4' || "
        "substr(hex(randomblob(2)), 2) || substr('89ab', abs(random() % 4) + 1, 1) || "
        "substr(hex(randomblob(2)), 2) || hex(randomblob(6))))"
    )


class timestamp_key(FunctionElement[datetime]):
    """A timestamp as SQL should compare it: chronologically, whatever wrote it.

    PostgreSQL parses every timestamp into TIMESTAMPTZ, so this is the column itself. SQLite
    keeps the text it was given: cronbase writes `2026-11-30 15:01:20.000000`, but plain SQL
    may write `2026-11-30T15:01:20+00:00` or `...T17:01:20+02:00`, and as text the `T` sorts
    after every time of the day, so such a job never fell due. SQLite's strftime() reads every
    ISO 8601 form, applies the offset, and writes one form that sorts in time order, to the
    millisecond (what SQLite's date functions keep). The due indexes are built on this same
    expression, so the due query still reads only the index.
    """

    type = UTCDateTime()
    inherit_cache = True


@compiles(timestamp_key)
def _timestamp_key(element: timestamp_key, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(timestamp_key, "sqlite")
def _timestamp_key_sqlite(element: timestamp_key, compiler: Any, **kw: Any) -> str:
    # The format is literal SQL, not a parameter: SQLite uses an index on an expression only
    # for the very same expression.
    return f"strftime('%Y-%m-%d %H:%M:%f', {compiler.process(element.clauses, **kw)})"


def to_millisecond(value: datetime) -> datetime:
    """`value` cut down to the millisecond: a timestamp counts as reached only once it has
    passed, whichever database rounds what."""
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def instant_key(value: datetime) -> timestamp_key:
    """`value` in the form timestamp_key compares, cut down to the millisecond."""
    return timestamp_key(sa.literal(to_millisecond(value), UTCDateTime()))
