"""The rules of the dependency graph, pure: which edges a job may have, which final runs start a
dependent, and the keys that make each triggered run exactly once.

The store (store/graph.py, store/triggers.py) reads the graph under a lock and hands it here;
nothing here touches the database or the clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from cronbase.job_fields import Dependency, DependsOn, WaitFor
from cronbase.jobs import FAILURE_STATUSES, RunStatus, isoformat
from cronbase.schedule import ON_DEMAND

# What each condition accepts of an upstream's final run. `missed` and `skipped` rows are not
# runs that ended, and start nothing.
ACCEPTS: dict[DependsOn, frozenset[RunStatus]] = {
    DependsOn.SUCCESS: frozenset({RunStatus.SUCCEEDED}),
    DependsOn.FAILURE: FAILURE_STATUSES,
    DependsOn.COMPLETION: FAILURE_STATUSES | {RunStatus.SUCCEEDED},
}
MAX_UPSTREAMS = 100

Errors = list[tuple[str, str]]


@dataclass(frozen=True)
class Node:
    """What the rules need to know of a job in the graph."""

    id: UUID
    name: str
    tenant_id: UUID | None
    schedule: str
    timezone: str
    wait_for: str = WaitFor.ANY.value


def matches(on: DependsOn | str, status: RunStatus | str) -> bool:
    """Whether a final run that ended `status` meets the condition `on`."""
    return status in ACCEPTS[DependsOn(on)]


def any_key(upstream_run_id: UUID) -> str:
    """The trigger_key of a run started by one upstream run (wait_for any)."""
    return str(upstream_run_id)


def all_key(scheduled_for: datetime) -> str:
    """The trigger_key of the one run of a join for the scheduled time S (wait_for all)."""
    return f"all:{isoformat(scheduled_for)}"


def edge_errors(
    job: Node,
    wait_for: str,
    upstreams: Sequence[Dependency],
    nodes: Mapping[UUID, Node],
    graph: Mapping[UUID, Sequence[UUID]],
) -> Errors:
    """Why `job` may not have these upstreams: unknown or of another tenant, a cycle (with its
    path), or a wait_for all over upstreams that do not share one schedule and zone.
    `nodes` holds every job the edges name; `graph` is job id -> its upstream ids, as stored
    (the job's own entry is replaced by `upstreams`)."""
    errors: Errors = []
    if len(upstreams) > MAX_UPSTREAMS:
        errors.append(("depends_on", f"has {len(upstreams)} jobs; at most {MAX_UPSTREAMS}"))
    for index, dependency in enumerate(upstreams):
        upstream = nodes.get(dependency.job_id)
        if upstream is None or upstream.tenant_id != job.tenant_id:
            where = "global jobs" if job.tenant_id is None else "the jobs of this job's tenant"
            why = (
                f"no job with id {dependency.job_id} among {where} (a job may depend only on "
                "jobs of its own tenant, and a global job only on global jobs)"
            )
            errors.append((f"depends_on.{index}.job_id", why))
    if errors:
        return errors
    cycle = find_cycle(job.id, [d.job_id for d in upstreams], graph)
    if cycle is not None:
        names = " -> ".join(nodes[node].name if node in nodes else str(node) for node in cycle)
        errors.append(
            ("depends_on", f"would make a dependency cycle: {names} (each runs after the last)")
        )
    if wait_for == WaitFor.ALL:
        errors.extend(_join_errors([nodes[d.job_id] for d in upstreams]))
    return errors


def _join_errors(upstreams: Sequence[Node]) -> Errors:
    timed = [node for node in upstreams if node.schedule != ON_DEMAND]
    if len(timed) < len(upstreams):
        names = ", ".join(node.name for node in upstreams if node.schedule == ON_DEMAND)
        why = (
            f"all joins the runs of one scheduled time, and {names} has no schedule "
            "(on_demand); use any"
        )
        return [("wait_for", why)]
    if len({(node.schedule, node.timezone) for node in upstreams}) > 1:
        shown = "; ".join(f"{node.name}: {node.schedule} in {node.timezone}" for node in upstreams)
        why = (
            "all needs upstreams that share one schedule and time zone, so that they share "
            f"their scheduled times; they differ ({shown}). Use any, or give them one schedule"
        )
        return [("wait_for", why)]
    return []


def join_broken(upstreams: Sequence[Node]) -> bool:
    """Whether a wait_for all over these upstreams is no longer allowed."""
    return bool(_join_errors(upstreams))


@dataclass(frozen=True)
class Linked:
    """A job reached from another through the graph: how far, and by which condition (the
    `on` of the edge that reached it)."""

    job_id: UUID
    depth: int
    on: DependsOn


def walk(
    start: UUID, edges: Mapping[UUID, Mapping[UUID, DependsOn]], *, upstream: bool
) -> list[Linked]:
    """Every job reachable from `start`, breadth first (so each at its shortest depth):
    its upstreams' upstreams and so on, or (upstream=False) its dependents' dependents.
    `edges` is job id -> {upstream id: on}."""
    if upstream:
        steps = {node: dict(ups) for node, ups in edges.items()}
    else:
        steps = {}
        for node, ups in edges.items():
            for up, on in ups.items():
                steps.setdefault(up, {})[node] = on
    found: list[Linked] = []
    seen = {start}
    frontier = [start]
    depth = 0
    while frontier:
        depth += 1
        following = []
        for node in frontier:
            for nxt, on in sorted(steps.get(node, {}).items()):
                if nxt not in seen:
                    seen.add(nxt)
                    found.append(Linked(nxt, depth, on))
                    following.append(nxt)
        frontier = following
    return found


def find_cycle(
    job_id: UUID, upstream_ids: Sequence[UUID], graph: Mapping[UUID, Sequence[UUID]]
) -> list[UUID] | None:
    """The cycle that giving `job_id` these upstreams would close, in running order, starting
    and ending at the job (J -> ... -> J, where each runs after the one before), or None."""
    # Walk upstream from each new upstream; reaching the job again closes a cycle. `came_from`
    # keeps the step that found each job, so the path can be read back.
    came_from: dict[UUID, UUID] = {}
    stack = [(upstream, job_id) for upstream in upstream_ids]
    while stack:
        node, child = stack.pop()
        if node in came_from:
            continue
        came_from[node] = child
        if node == job_id:
            break
        stack.extend((up, node) for up in graph.get(node, ()) if up not in came_from)
    if job_id not in came_from:
        return None
    # came_from[x] is the job that runs after x: from the job, follow it around the cycle.
    path = [job_id]
    node = came_from[job_id]
    while node != job_id:
        path.append(node)
        node = came_from[node]
    path.append(job_id)
    return path
