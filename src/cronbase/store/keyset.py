"""Keyset pagination in SQL: a listing.Sort as ORDER BY, and a cursor's key as the WHERE
that starts the page right after it (nulls last in both directions, the id breaking ties)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from cronbase.listing import Sort


def ordered(
    query: sa.Select[Any], table: sa.Table, sort: Sort, after: list[Any] | None
) -> sa.Select[Any]:
    columns = [table.c[f.name] for f in sort.fields] + [table.c.id]
    nullable = [f.nullable for f in sort.fields] + [False]
    order = [c.desc() if sort.descending else c.asc() for c in columns]
    # NULLS LAST only where nulls can be: on a column without them it would keep PostgreSQL
    # from reading a plain index backward (a descending scan yields NULLS FIRST).
    order = [o.nulls_last() if null else o for o, null in zip(order, nullable, strict=True)]
    query = query.order_by(*order)
    if after is not None:
        query = query.where(_after(columns, nullable, after, sort.descending))
    return query


def _after(
    columns: list[sa.Column[Any]], nullable: list[bool], values: list[Any], descending: bool
) -> sa.ColumnElement[bool]:
    """Rows that come after `values` in the order: beyond on the first column, or equal on it
    and after on the rest; a null comes after every value (and equals only a null)."""
    if not any(nullable):
        # One row comparison: PostgreSQL starts the index scan right at the key (an OR of
        # comparisons would read the index from its start and filter).
        row, key = sa.tuple_(*columns), sa.tuple_(*values)
        return row < key if descending else row > key
    column, value = columns[0], values[0]
    rest = _after(columns[1:], nullable[1:], values[1:], descending) if columns[1:] else None
    if value is None:  # only nulls come after a null
        return sa.and_(column.is_(None), rest)
    beyond = column < value if descending else column > value
    if rest is None:
        return beyond
    later = [beyond, sa.and_(column == value, rest)]
    if nullable[0]:
        later.append(column.is_(None))
    return sa.or_(*later)
