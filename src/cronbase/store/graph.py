"""The dependency graph (cron_job_dependency): reading a job's upstreams, and changing edges
under one lock so that two concurrent edits cannot close a cycle between them.

Every transaction that changes an edge, or a job's schedule, time zone or tenant (which the
rules of its dependents read), or deletes a job, takes GRAPH_LOCK first, before any row lock:
on PostgreSQL a transaction-scoped advisory lock; on SQLite BEGIN IMMEDIATE serializes every
write already. The rules themselves are in cronbase.dependency_rules.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from cronbase.dependency_rules import Linked, Node, edge_errors, join_broken, walk
from cronbase.errors import DependencyConflict, InvalidJob
from cronbase.job_fields import Dependency, DependsOn, WaitFor
from cronbase.jobs import Job, job_with
from cronbase.store.rows import among, job_from_row
from cronbase.store.tables import cron_job, cron_job_dependency, cron_job_run

GRAPH_LOCK = 7245033
# A change of these fields may break the rules of the job's dependents.
GRAPH_FIELDS = frozenset({"depends_on", "wait_for", "schedule", "timezone", "tenant_id"})


def lock_graph(conn: sa.Connection, dialect: str) -> None:
    if dialect == "postgresql":
        conn.execute(sa.text(f"SELECT pg_advisory_xact_lock({GRAPH_LOCK})"))


def upstreams_of(conn: sa.Connection, job_ids: Iterable[UUID]) -> dict[UUID, list[Dependency]]:
    """Each job's depends_on, in upstream id order."""
    ids = sorted(set(job_ids))
    edges: dict[UUID, list[Dependency]] = defaultdict(list)
    if not ids:
        return edges
    query = (
        sa.select(cron_job_dependency)
        .where(among(conn, cron_job_dependency.c.job_id, ids))
        .order_by(cron_job_dependency.c.job_id, cron_job_dependency.c.upstream_id)
    )
    for row in conn.execute(query):
        edges[row.job_id].append(Dependency(row.upstream_id, DependsOn(row.on)))
    return edges


def with_upstreams(conn: sa.Connection, jobs: list[Job]) -> list[Job]:
    """The jobs with their depends_on read from the graph (one query however many)."""
    edges = upstreams_of(conn, [job.id for job in jobs])
    return [job_with(job, depends_on=edges[job.id]) if job.id in edges else job for job in jobs]


def save_edges(conn: sa.Connection, job: Job, upstreams: list[Dependency] | None) -> Job:
    """Give the (inserted or updated) `job` these upstreams (None: keep its own), after checking
    them and what its dependents require of it; raise InvalidJob (its own edges) or
    DependencyConflict (its dependents'), and the caller's transaction rolls back.
    The caller holds GRAPH_LOCK."""
    graph = _graph(conn)
    if upstreams is None:
        upstreams = [Dependency(up, on) for up, on in graph.get(job.id, {}).items()]
    mapping = {node: list(ups) for node, ups in graph.items()}
    mapping[job.id] = [d.job_id for d in upstreams]
    dependents = _dependents(graph, job.id)
    co_upstreams = {up for dependent in dependents for up in graph[dependent]}
    nodes = _nodes(conn, {job.id, *(d.job_id for d in upstreams), *dependents, *co_upstreams})
    errors = edge_errors(nodes[job.id], job.wait_for, upstreams, nodes, mapping)
    if errors:
        raise InvalidJob(errors)
    _check_dependents(job, dependents, nodes, mapping)
    conn.execute(cron_job_dependency.delete().where(cron_job_dependency.c.job_id == job.id))
    if upstreams:
        conn.execute(
            cron_job_dependency.insert(),
            [{"job_id": job.id, "upstream_id": d.job_id, "on": d.on.value} for d in upstreams],
        )
    return job_with(job, depends_on=sorted(upstreams, key=lambda d: d.job_id))  # as read back


def _check_dependents(
    job: Job, dependents: list[UUID], nodes: dict[UUID, Node], mapping: dict[UUID, list[UUID]]
) -> None:
    """Refuse a change of `job` that its dependents' rules forbid: another tenant, or a
    schedule that no longer matches its co-upstreams in a wait_for all join."""
    moved, broken = [], []
    for dependent in dependents:
        node = nodes[dependent]
        if node.tenant_id != job.tenant_id:
            moved.append(node.name)
        elif node.wait_for == WaitFor.ALL and join_broken(
            [nodes[up] for up in mapping[dependent] if up in nodes]
        ):
            broken.append(node.name)
    if moved:
        raise DependencyConflict(
            f"{', '.join(sorted(moved))} depend(s) on this job and would belong to another "
            "tenant than it: a job may depend only on jobs of its own tenant; remove those "
            "edges first"
        )
    if broken:
        raise DependencyConflict(
            f"{', '.join(sorted(broken))} wait(s) for all of their upstreams, which must share "
            "one schedule and time zone: set their wait_for to any (or take this job out of "
            "their depends_on) first"
        )


def refuse_or_detach(conn: sa.Connection, job_id: UUID, detach: bool) -> None:
    """Before `job_id` is deleted: with dependents, refuse (DependencyConflict naming them)
    unless `detach`, which removes their edges to it. The caller holds GRAPH_LOCK."""
    dependents = sa.select(cron_job.c.name).join(
        cron_job_dependency, cron_job_dependency.c.job_id == cron_job.c.id
    )
    names = list(
        conn.execute(
            dependents.where(cron_job_dependency.c.upstream_id == job_id).order_by(cron_job.c.name)
        ).scalars()
    )
    if not names:
        return
    if not detach:
        raise DependencyConflict(
            f"{', '.join(names)} depend(s) on this job: delete with ?detach=true to remove "
            "those edges (they then no longer run after it), or change them first"
        )
    conn.execute(cron_job_dependency.delete().where(cron_job_dependency.c.upstream_id == job_id))


def linked(conn: sa.Connection, job_id: UUID) -> tuple[list[Linked], list[Linked], dict[UUID, Job]]:
    """The job's upstreams and its dependents, transitively with their depth, and the jobs
    they name (see dependency_rules.walk)."""
    graph = _graph(conn)
    ups = walk(job_id, graph, upstream=True)
    downs = walk(job_id, graph, upstream=False)
    ids = sorted({link.job_id for link in ups + downs})
    rows = conn.execute(sa.select(cron_job).where(cron_job.c.id.in_(ids))) if ids else []
    jobs = {job.id: job for job in with_upstreams(conn, [job_from_row(row) for row in rows])}
    return ups, downs, jobs


def runs_jobs(
    conn: sa.Connection, run_ids: list[UUID], tenant_id: UUID | None
) -> dict[UUID, tuple[UUID, str]]:
    """{run id: (its job's id, the job's name)} of the runs that still exist (with `tenant_id`,
    of that tenant's jobs): whose runs started the dependency runs that name them in
    triggered_by."""
    if not run_ids:
        return {}
    query = (
        sa.select(cron_job_run.c.id, cron_job.c.id.label("job_id"), cron_job.c.name)
        .join(cron_job, cron_job.c.id == cron_job_run.c.job_id)
        .where(cron_job_run.c.id.in_(sorted(set(run_ids))))
    )
    if tenant_id is not None:
        query = query.where(cron_job.c.tenant_id == tenant_id)
    return {row.id: (row.job_id, row.name) for row in conn.execute(query)}


def _graph(conn: sa.Connection) -> dict[UUID, dict[UUID, DependsOn]]:
    """Every edge: job id -> {upstream id: on}. The graph is read whole: cycles can run
    anywhere through it, and it holds as many edges as jobs have upstreams."""
    graph: dict[UUID, dict[UUID, DependsOn]] = defaultdict(dict)
    for row in conn.execute(sa.select(cron_job_dependency)):
        graph[row.job_id][row.upstream_id] = DependsOn(row.on)
    return graph


def _dependents(graph: dict[UUID, dict[UUID, Any]], job_id: UUID) -> list[UUID]:
    return [node for node, ups in graph.items() if job_id in ups]


def _nodes(conn: sa.Connection, job_ids: set[UUID]) -> dict[UUID, Node]:
    query = sa.select(
        cron_job.c.id,
        cron_job.c.name,
        cron_job.c.tenant_id,
        cron_job.c.schedule,
        cron_job.c.timezone,
        cron_job.c.wait_for,
    ).where(cron_job.c.id.in_(sorted(job_ids)))
    return {row.id: Node(*row) for row in conn.execute(query)}
