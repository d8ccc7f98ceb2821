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
    # SQLAlchemy's Uuid is CHAR(32) hex on SQLite; a version-4 layout is not needed for uniqueness.
    return "(lower(hex(randomblob(16))))"
