"""A page of the jobs list as JSON: each job as the API sends it (JobPublic's fields, in
JOB_FIELDS' order), beside the values a cursor after it needs.

A list request at 100 jobs a page spent most of its time here and in serializing: SqlStore.
list_jobs converts every value through SQLAlchemy's types, builds a Job per row and a copy with
its depends_on read by a second statement, and the API built a response model of each Job and
serialized that. On PostgreSQL the server writes each job's JSON (row_to_json of the row, ids
as text, times in the format the response model writes them, depends_on aggregated from the
edges), in one statement read outside a transaction (SqlStore.reading_once): one round trip
where there were five, and a string per job for the API to join. The JSON is the response
model's but for spacing and number spelling inside `metadata` (as jsonb prints it: {"a": 1e-7}
reads {"a": 0.0000001}), the same JSON values. SQLite reads the page and its edges in one read
transaction and serializes each job with pydantic's serializer, as the response model would.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple, Protocol

import sqlalchemy as sa
from pydantic_core import to_json
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import aggregate_order_by

from cronbase.job_fields import JOB_FIELDS
from cronbase.listing import JobQuery, Sort
from cronbase.store import graph, keyset
from cronbase.store.jobs import listing, read_listed
from cronbase.store.tables import cron_job, cron_job_dependency
from cronbase.store.types import UTCDateTime


class JsonJob(Protocol):
    """A job of a list page: its JSON, its id (as text), and, as attributes, the fields its
    sort's cursor needs (listing.Sort.key_of)."""

    json: str
    id: str


_NAMES = tuple(f.name for f in JOB_FIELDS)


def read_page(conn: sa.Connection, query: JobQuery) -> Sequence[JsonJob]:
    """The jobs `query` lists (the page SqlStore.list_jobs reads: jobs.listing), as JSON."""
    if conn.dialect.name != "postgresql":
        return _sqlite_page(conn, query)
    if query.q:  # a name search's LIKE pattern is escaped as it is built: made anew each time
        select, table, ids = _statement(query)
        return keyset.read_page(  # type: ignore[return-value]
            conn, select, table, query.sort, query.after, query.limit, query.offset, ids
        )
    shape = _Shape(
        query.tenant_id is not None,
        query.has_tenant,
        query.is_active,
        query.function_name is not None,
        query.last_status is not None,
        query.sort,
        "" if query.after is None else "null" if query.after[0] is None else "key",
    )
    return keyset.read_ranges(  # type: ignore[return-value]
        conn, _ranges(shape), query.limit, query.offset, _values(query)
    )


def _statement(query: JobQuery) -> tuple[sa.Select[Any], sa.Table, sa.Column[Any]]:
    """The page's select (without its keyset), the table of its order and its id column."""
    # The sort's own fields come as the driver reads them (aware datetimes, in the session's
    # zone): only a cursor reads them. The rows are returned as they are.
    keys = [
        sa.type_coerce(cron_job.c[f.name], _PLAIN[f.kind]).label(f.name)
        for f in query.sort.fields
        if f.attribute is None  # else listing adds it (the sort by last run)
    ]
    page = listing(sa.select(_AS_JSON, _ID_TEXT, *keys), query, "postgresql")
    return page.select.join_from(cron_job, _FIELDS, sa.true()), page.table, page.ids


class _Shape(NamedTuple):
    """What a page's statement depends on besides the values it is given (_values)."""

    tenant: bool
    has_tenant: bool | None
    is_active: bool | None
    function_name: bool
    last_status: bool
    sort: Sort
    after: str  # "", or where a cursor starts the page: among the nulls, or at a key


# A page's statements are kept between requests, their values given as bind parameters:
# SQLAlchemy found each request's new statement in its cache by walking it (its cache key),
# about half of the read's time in Python; a kept statement's key is worked out once.
@functools.lru_cache(maxsize=256)
def _ranges(shape: _Shape) -> tuple[keyset.Range, ...]:
    def value(name: str, column: sa.Column[Any], given: bool) -> Any:
        return sa.bindparam(name, type_=column.type) if given else None

    query = JobQuery(
        tenant_id=value("tenant_id", cron_job.c.tenant_id, shape.tenant),
        has_tenant=shape.has_tenant,
        is_active=shape.is_active,
        function_name=value("function_name", cron_job.c.function_name, shape.function_name),
        last_status=value("last_status", cron_job.c.last_status, shape.last_status),
        sort=shape.sort,
    )
    select, table, ids = _statement(query)
    after: list[Any] | None = None
    if shape.after == "key":
        after = [value(f"after_{f.name}", table.c[f.name], True) for f in shape.sort.fields]
    elif shape.after == "null":  # the page starts among the nulls, after an id
        after = [None for _ in shape.sort.fields]
    if after is not None:
        after.append(value("after_id", ids, True))
    parts = keyset.ranges(select, table, shape.sort, after, ids)
    return tuple(keyset.Range(part) for part in parts)


def _values(query: JobQuery) -> dict[str, Any]:
    """The values of the bind parameters of `query`'s kept statements (_ranges)."""
    values = {
        "tenant_id": query.tenant_id,
        "function_name": query.function_name,
        "last_status": query.last_status,
    }
    if query.after is not None:
        names = [f"after_{f.name}" for f in query.sort.fields] + ["after_id"]
        values.update(zip(names, query.after, strict=True))
    return values


def _literal(sql: str) -> sa.ColumnElement[Any]:
    return sa.literal_column(sql)


def _iso_utc(column: sa.ColumnElement[Any]) -> sa.ColumnElement[str]:
    """The time as the response model writes it: 2026-12-01T08:00:00.500000Z, and a whole
    second without a fraction (2026-12-01T08:00:00Z)."""
    utc = sa.func.timezone(_literal("'UTC'"), column)
    text = sa.func.to_char(utc, _literal("""'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'"""))
    return sa.func.replace(text, _literal("'.000000Z'"), _literal("'Z'"))


def _pg_value(name: str) -> sa.ColumnElement[Any]:
    """The expression of a job's field in its JSON."""
    if name == "depends_on":
        edge = cron_job_dependency.c
        as_json = sa.func.json_build_object(
            _literal("'job_id'"), edge.upstream_id, _literal("'on'"), edge.on
        )
        edges = (
            sa.select(sa.func.json_agg(aggregate_order_by(as_json, edge.upstream_id)))
            .where(edge.job_id == _literal("cron_job.id"))  # the job of the row
            .scalar_subquery()
        )
        return sa.func.coalesce(edges, _literal("'[]'::json"))
    column = cron_job.c[name]
    if isinstance(column.type, sa.Uuid):
        return sa.cast(column, sa.Text)
    if isinstance(column.type, UTCDateTime):
        return _iso_utc(column)
    return column


def _fields() -> sa.Lateral:
    # The job's JSON is row_to_json of a row of its fields, one row per job (LATERAL), so the
    # keys are the fields' names in their order, while the page's filters and order stay on
    # cron_job. Written once as text: SQLAlchemy would otherwise walk this large expression
    # to find each request's statement in its cache, a fifth of the read.
    dialect = postgresql.dialect()
    quote = dialect.identifier_preparer.quote
    columns = ", ".join(
        f"{_pg_value(name).compile(dialect=dialect)} AS {quote(name)}" for name in _NAMES
    )
    text = sa.text(f"SELECT {columns}").columns(*(sa.column(name) for name in _NAMES))
    return text.lateral("job")


_FIELDS = _fields()
_AS_JSON = sa.cast(sa.func.row_to_json(_FIELDS.table_valued()), sa.Text).label("json")
_ID_TEXT = sa.cast(cron_job.c.id, sa.Text).label("id")
_PLAIN = {"time": sa.DateTime(timezone=True), "text": sa.Text(), "int": sa.Integer()}
_COLUMNS = tuple(cron_job.c[name] for name in _NAMES if name != "depends_on")


class _SqliteJob(NamedTuple):
    json: str
    id: str
    created_at: datetime
    name: str
    next_run: datetime | None
    listed_last_run: datetime | None  # the sort by last run's key (jobs.listing)


def _sqlite_page(conn: sa.Connection, query: JobQuery) -> list[JsonJob]:
    """The same jobs, their JSON written by pydantic's serializer as the response model's."""
    _, rows = read_listed(conn, sa.select(*_COLUMNS), query)
    edges = graph.upstreams_of(conn, [row.id for row in rows])
    jobs = []
    for row in rows:
        values = row._asdict()
        values["depends_on"] = edges.get(row.id, [])
        job = {name: values[name] for name in _NAMES}  # in the fields' order
        json = to_json(job).decode()
        listed_last_run = values.get("listed_last_run")
        jobs.append(
            _SqliteJob(json, str(row.id), row.created_at, row.name, row.next_run, listed_last_run)
        )
    return jobs
