"""Jobs and tenants: create, read, update, delete. Each function runs on the connection it is
given, inside the caller's transaction (see SqlStore)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from cronbase.audit import AuditEntry
from cronbase.errors import QuotaExceeded
from cronbase.jobs import Job, Run, RunStatus, RunTrigger, listed_job
from cronbase.listing import JobQuery
from cronbase.store import audit, graph, keyset, search
from cronbase.store.rows import PENDING, job_from_row, run_from_row, this_job
from cronbase.store.tables import (
    cron_job,
    cron_job_dependency,
    cron_job_last_run,
    cron_job_run,
    cron_job_search,
    tenants,
)

# Serializes seeding on PostgreSQL (SQLite's BEGIN IMMEDIATE serializes it already).
_SEED_LOCK = 7245032


def insert_tenant(conn: sa.Connection, name: str) -> UUID:
    return conn.execute(tenants.insert().values(name=name).returning(tenants.c.id)).scalar_one()


def list_tenants(conn: sa.Connection) -> list[tuple[UUID, str]]:
    query = sa.select(tenants.c.id, tenants.c.name).order_by(tenants.c.name)
    return [(tenant_id, name) for tenant_id, name in conn.execute(query)]


def tenant_name(conn: sa.Connection, tenant_id: UUID) -> str | None:
    """The tenant's name; None if there is no such tenant."""
    query = sa.select(tenants.c.name).where(tenants.c.id == tenant_id)
    return conn.execute(query).scalar_one_or_none()


def insert_job(
    conn: sa.Connection, dialect: str, values: dict[str, Any], max_per_tenant: int | None = None
) -> Job:
    values = dict(values)
    upstreams = values.pop("depends_on", None) or []
    if upstreams:  # before any row lock (see graph.py)
        graph.lock_graph(conn, dialect)
    if max_per_tenant is not None and values.get("tenant_id") is not None:
        _check_quota(conn, values["tenant_id"], max_per_tenant)
    row = conn.execute(cron_job.insert().values(**values).returning(*cron_job.c)).one()
    job = job_from_row(row)
    return graph.save_edges(conn, job, upstreams) if upstreams else job


def _check_quota(
    conn: sa.Connection, tenant_id: UUID, limit: int, moving: UUID | None = None
) -> None:
    """Raise QuotaExceeded if the tenant may not have one more job (`moving`: a job coming
    from another tenant, not counted). The tenant's row is locked first, so two creates at once
    cannot both take the last place (on SQLite, BEGIN IMMEDIATE serializes them already)."""
    conn.execute(sa.select(tenants.c.id).where(tenants.c.id == tenant_id).with_for_update())
    count = sa.select(sa.func.count()).where(cron_job.c.tenant_id == tenant_id)
    if moving is not None:
        count = count.where(cron_job.c.id != moving)
    held = conn.execute(count).scalar_one()
    if held >= limit:
        raise QuotaExceeded(tenant_id, held, limit)


def insert_jobs_unless_named(
    conn: sa.Connection, dialect: str, jobs: list[dict[str, Any]]
) -> list[Job]:
    inserted = []
    if dialect == "postgresql":
        conn.execute(sa.text(f"SELECT pg_advisory_xact_lock({_SEED_LOCK})"))
    for values in jobs:
        exists = sa.select(cron_job.c.id).where(
            cron_job.c.tenant_id.is_(None), cron_job.c.name == values["name"]
        )
        if conn.execute(exists).first() is None:
            inserted.append(insert_job(conn, dialect, values))
    return inserted


def update_job(
    conn: sa.Connection,
    dialect: str,
    job_id: UUID,
    values: dict[str, Any],
    tenant_id: UUID | None,
    max_per_tenant: int | None = None,
    audit_of: Callable[[Job, Job], AuditEntry | None] | None = None,
) -> Job | None:
    """Set `values`; with `audit_of`, record its entry of the job before and after."""
    values = dict(values)
    upstreams = values.pop("depends_on", None)
    touches_graph = not graph.GRAPH_FIELDS.isdisjoint(values) or upstreams is not None
    if touches_graph:  # before any row lock (see graph.py)
        graph.lock_graph(conn, dialect)
    if max_per_tenant is not None and values.get("tenant_id") is not None:
        _check_quota(conn, values["tenant_id"], max_per_tenant, moving=job_id)
    # Read under the row's lock (after the graph's and the tenant's, in their order), so the
    # entry's "from" values are those this change replaced.
    before = _locked(conn, job_id, tenant_id) if audit_of else None
    row = conn.execute(
        cron_job.update().where(this_job(job_id, tenant_id)).values(**values).returning(*cron_job.c)
    ).first()
    if row is None:
        return None
    search.write_fields(conn, job_id, values)
    if touches_graph:
        job = graph.save_edges(conn, job_from_row(row), upstreams)
    else:
        job = graph.with_upstreams(conn, [job_from_row(row)])[0]
    if audit_of is not None and before is not None:
        audit.record(conn, audit_of(before, job))
    return job


def _locked(conn: sa.Connection, job_id: UUID, tenant_id: UUID | None) -> Job | None:
    row = conn.execute(sa.select(cron_job).where(this_job(job_id, tenant_id)).with_for_update())
    found = row.first()
    return graph.with_upstreams(conn, [job_from_row(found)])[0] if found else None


def delete_job(
    conn: sa.Connection,
    dialect: str,
    job_id: UUID,
    tenant_id: UUID | None,
    detach: bool,
    detached_audit: Callable[[Job, Job], AuditEntry | None] | None = None,
) -> bool:
    """Delete the job; with `detach`, remove its dependents' edges to it first, and with
    `detached_audit`, record its entry of each dependent before and after."""
    graph.lock_graph(conn, dialect)
    if conn.execute(sa.select(cron_job.c.id).where(this_job(job_id, tenant_id))).first() is None:
        return False
    # Under the graph's lock no edge changes: the dependents read now are those detached.
    dependents = _dependents(conn, job_id) if detach and detached_audit else []
    graph.refuse_or_detach(conn, job_id, detach)
    deleted = conn.execute(cron_job.delete().where(this_job(job_id, tenant_id)))
    for before in dependents:
        after = get_job(conn, before.id)
        if detached_audit is not None and after is not None:
            audit.record(conn, detached_audit(before, after))
    return deleted.rowcount == 1


def _dependents(conn: sa.Connection, job_id: UUID) -> list[Job]:
    edges = sa.select(cron_job_dependency.c.job_id).where(
        cron_job_dependency.c.upstream_id == job_id
    )
    rows = conn.execute(sa.select(cron_job).where(cron_job.c.id.in_(edges)))
    return graph.with_upstreams(conn, [job_from_row(row) for row in rows])


def get_job(conn: sa.Connection, job_id: UUID) -> Job | None:
    row = conn.execute(sa.select(cron_job).where(cron_job.c.id == job_id)).first()
    return graph.with_upstreams(conn, [job_from_row(row)])[0] if row else None


def list_jobs(conn: sa.Connection, query: JobQuery) -> list[Job]:
    """A page of jobs (what it reads: `listing`)."""
    page, rows = read_listed(conn, sa.select(cron_job), query)
    jobs = graph.with_upstreams(conn, [job_from_row(row) for row in rows])
    if page.by_last_run:  # the value each was ordered by, for the page's cursor
        return [listed_job(j, row.listed_last_run) for j, row in zip(jobs, rows, strict=True)]
    return jobs


def read_listed(
    conn: sa.Connection, select: sa.Select[Any], query: JobQuery
) -> tuple[Listing, Sequence[Any]]:
    """The rows of `select` on the page `query` lists (`listing`, read by its keyset)."""
    page = listing(select, query, conn.dialect.name)
    rows = keyset.read_page(
        conn,
        page.select,
        page.table,
        query.sort,
        query.after,
        query.limit,
        query.offset,
        page.ids,
    )
    return page, rows


def is_short(q: str) -> bool:
    """A name search too short for trigrams (one or two letters), that the name pieces' index
    answers: ASCII only, whose lower case has as many letters in any locale."""
    return len(q) <= 2 and q.isascii()


@dataclass(frozen=True)
class Listing:
    """What a page of jobs reads: `select` narrowed to the jobs the query lists, in the order
    of `table`'s columns (the sort's, then `ids`), and whether that is the sort by last run
    (whose rows carry listed_last_run, the value they were ordered by)."""

    select: sa.Select[Any]
    table: sa.Table
    ids: sa.Column[Any]
    by_last_run: bool


def listing(select: sa.Select[Any], query: JobQuery, dialect: str) -> Listing:
    """`select` (of cron_job's columns, or expressions of them: store/job_json.py) for a
    page of the jobs `query` lists. The name search and the function filter read the list's
    copy of them (cron_job_search), the last-status filter and the sort by last run its copy
    of the last run (cron_job_last_run): indexes that cron_job cannot carry (see
    store/search.py), joined to the jobs by id. The rest reads cron_job's indexes."""
    copy, last = cron_job_search, cron_job_last_run
    sorted_by = query.sort.fields[0].name if query.sort.fields else ""
    by_last_run = sorted_by == "last_run"
    searched = bool(query.q) or query.function_name is not None
    # Where the page's order is read, and the tenant with it: the copy of the last run's
    # (tenant_id, last_run, job_id) for that sort; a search's, in the default order, the
    # copy's (tenant_id, created_at, job_id) (cron_job's would be walked with a probe of the
    # copy for each job); else cron_job's own indexes. A search sorted by name or next_run
    # names the tenant on both tables, so that the planner may meet the name's trigram index
    # with the copy's tenant index instead of walking the sort's index through the other
    # tenants' jobs (bench/lists.py: 238 -> 74 ms on a loaded machine for a tenant of 10,000).
    order = last if by_last_run else copy if searched and sorted_by == "created_at" else cron_job
    tenants = [order.c.tenant_id]
    if searched and order is cron_job:
        tenants.append(copy.c.tenant_id)
    joined: sa.FromClause = cron_job
    if searched:
        joined = joined.join(copy, copy.c.job_id == cron_job.c.id)
    if by_last_run or query.last_status is not None:
        joined = joined.join(last, last.c.job_id == cron_job.c.id)
    if by_last_run:
        select = select.add_columns(last.c.last_run.label("listed_last_run"))
    select = select.select_from(joined)
    if query.tenant_id is not None:
        select = select.where(*(tenant == query.tenant_id for tenant in tenants))
    if query.has_tenant is not None:
        tenant = tenants[0]
        select = select.where(tenant.is_not(None) if query.has_tenant else tenant.is_(None))
    if query.is_active is not None:
        select = select.where(cron_job.c.is_active.is_(query.is_active))
    if query.q:
        # ILIKE on PostgreSQL (the trigram index's operator), lower() LIKE lower() on SQLite;
        # % and _ in q match themselves.
        select = select.where(copy.c.name.icontains(query.q, autoescape=True))
        if dialect == "postgresql" and is_short(query.q):
            # What trigrams cannot narrow: the name's pieces' index (migration 0025).
            pieces = sa.func.cronbase_name_pieces(copy.c.name, type_=postgresql.ARRAY(sa.Text()))
            select = select.where(pieces.contains(postgresql.array([sa.func.lower(query.q)])))
    if query.function_name is not None:
        select = select.where(copy.c.function_name == query.function_name)
    if query.last_status is not None:
        select = select.where(last.c.last_status == query.last_status)
    ids = cron_job.c.id if order is cron_job else order.c.job_id
    return Listing(select, order, ids, by_last_run)


def enqueue_run(
    conn: sa.Connection,
    job_id: UUID,
    now: datetime,
    tenant_id: UUID | None,
    audit_of: Callable[[Run], AuditEntry] | None = None,
) -> Run | None:
    """Queue a manual run (or return the one waiting); with `audit_of`, record its entry of a
    run queued now."""
    # Locked, so two clicks at once queue one run, and a DELETE waits for us.
    tenant = conn.execute(
        sa.select(cron_job.c.tenant_id).where(this_job(job_id, tenant_id)).with_for_update()
    ).first()
    if tenant is None:
        return None
    waiting = conn.execute(
        sa.select(cron_job_run).where(
            cron_job_run.c.job_id == job_id,
            PENDING,
            cron_job_run.c.trigger == RunTrigger.MANUAL.value,
            cron_job_run.c.attempt == 1,  # not a retry, which may wait for hours
        )
    ).first()
    if waiting is not None:
        return run_from_row(waiting)
    row = conn.execute(
        cron_job_run.insert()
        .values(
            job_id=job_id,
            tenant_id=tenant.tenant_id,
            scheduled_for=now,
            status=RunStatus.PENDING.value,
            trigger=RunTrigger.MANUAL.value,
            run_after=now,
        )
        .returning(*cron_job_run.c)
    ).one()
    run = run_from_row(row)
    if audit_of is not None:
        audit.record(conn, audit_of(run))
    return run
