"""Keyset pagination in SQL: a listing.Sort as ORDER BY, and a cursor's key as the WHERE
that starts the page right after it (nulls last in both directions, the id breaking ties).

A page is read as a range of one index in its order: `(key, id) > (cursor's key, id)` is one
row comparison, which PostgreSQL (and SQLite) start an index scan at. A sort on a column that
can be null is two such ranges read one after the other, the rows with a value and then the
nulls, the second only when the first ends within the page. An OR of comparisons (a value
beyond the key, or null) made the database read the index from its start and filter, and a
descending scan of an index yields nulls first, not last; a UNION of the two ranges read the
nulls for every page (bench/lists.py measured each).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from cronbase.listing import Sort


def read_page(
    conn: sa.Connection,
    query: sa.Select[Any],
    table: sa.Table,
    sort: Sort,
    after: list[Any] | None,
    limit: int,
    offset: int = 0,
    ids: sa.Column[Any] | None = None,
) -> list[sa.Row[Any]]:
    """The rows of `query` (on `table`) on the page of `limit` after the key `after`, or
    `offset` rows from the start, in the order `sort` (`ids`: the table's id column, if it is
    not `id`)."""
    parts = [Range(part) for part in ranges(query, table, sort, after, ids)]
    return read_ranges(conn, parts, limit, offset)


_LIMIT = sa.bindparam("page_limit", type_=sa.Integer())
_OFFSET = sa.bindparam("page_offset", type_=sa.Integer())


class Range:
    """One of a page's ranges (`ranges`), its limit and offset given at execution: the same
    statement serves any page, so one kept between requests is found in SQLAlchemy's cache
    without its cache key being worked out anew (store/job_json.py keeps them)."""

    def __init__(self, part: sa.Select[Any]) -> None:
        self.part = part
        self.rows = part.limit(_LIMIT).offset(_OFFSET)

    def count(self) -> sa.Select[Any]:
        """How many rows the range holds."""
        return sa.select(sa.func.count()).select_from(self.part.order_by(None).subquery())


def read_ranges(
    conn: sa.Connection,
    parts: Sequence[Range],
    limit: int,
    offset: int = 0,
    params: Mapping[str, Any] | None = None,
) -> list[sa.Row[Any]]:
    """The rows of the page of `limit` read from `parts` in turn, from `offset` rows after
    their start; `params`: the values of their bind parameters."""
    params = params or {}
    rows: list[sa.Row[Any]] = []
    skip = offset
    for part in parts:
        found = conn.execute(
            part.rows, {**params, "page_limit": limit - len(rows), "page_offset": skip}
        ).all()
        rows += found
        if len(rows) >= limit:
            break
        if skip and not found:  # the offset goes on into the next range, less this one
            skip = max(skip - conn.execute(part.count(), params).scalar_one(), 0)
        else:
            skip = 0  # this range held the offset and ended within the page
    return rows


def ranges(
    query: sa.Select[Any],
    table: sa.Table,
    sort: Sort,
    after: list[Any] | None,
    ids: sa.Column[Any] | None = None,
) -> list[sa.Select[Any]]:
    """The ranges that, read in turn, give the rows of `query` after `after` in `sort`."""
    ids = table.c.id if ids is None else ids
    if not any(f.nullable for f in sort.fields):
        return [ordered(query, table, sort, after, ids)]
    if len(sort.fields) != 1:
        raise ValueError("a sort on a nullable column sorts on that column alone")
    (field,) = sort.fields
    column = table.c[field.name]
    nulls = _nulls(query, column, ids, sort.descending, after)
    if after is not None and after[0] is None:  # the page starts among the nulls
        return [nulls]
    # In an order without NULLS LAST, which would keep PostgreSQL from reading the index
    # backward (there are no nulls in this range).
    no_nulls = Sort(sort.token, (replace(field, nullable=False),), sort.descending)
    return [ordered(query.where(column.is_not(None)), table, no_nulls, after, ids), nulls]


def _nulls(
    query: sa.Select[Any],
    column: sa.Column[Any],
    ids: sa.Column[Any],
    descending: bool,
    after: list[Any] | None,
) -> sa.Select[Any]:
    """The rows where `column` is null, by id (after the cursor's id if it is among them). The
    order names the null column too, as the index (column, id) yields it, which lets
    PostgreSQL read that index's range of nulls in order instead of the primary key's."""
    query = query.where(column.is_(None))
    if descending:
        query = query.order_by(column.desc().nulls_first(), ids.desc())
    else:
        query = query.order_by(column.asc().nulls_last(), ids.asc())
    if after is not None and after[0] is None:
        query = query.where(ids < after[-1] if descending else ids > after[-1])
    return query


def ordered(
    query: sa.Select[Any],
    table: sa.Table,
    sort: Sort,
    after: list[Any] | None,
    ids: sa.Column[Any] | None = None,
) -> sa.Select[Any]:
    """`query` in the order `sort` (nulls last), from the row after the key `after`, whose
    sort values must not be null."""
    columns = [table.c[f.name] for f in sort.fields] + [table.c.id if ids is None else ids]
    order = [c.desc() if sort.descending else c.asc() for c in columns]
    # NULLS LAST only where nulls can be: on a column without them it would keep PostgreSQL
    # from reading a plain index backward (a descending scan yields NULLS FIRST).
    nullable = [f.nullable for f in sort.fields] + [False]
    order = [o.nulls_last() if null else o for o, null in zip(order, nullable, strict=True)]
    query = query.order_by(*order)
    if after is not None:
        row, key = sa.tuple_(*columns), sa.tuple_(*after)
        query = query.where(row < key if sort.descending else row > key)
    return query
