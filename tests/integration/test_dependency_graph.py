"""The dependency graph as a user edits it: on_demand jobs, depends_on and wait_for stored and
read back, cycles refused with their path (also when two edits race), tenant rules, the
rules a wait_for all join puts on its upstreams, and deleting a job others depend on."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from cronbase.errors import DependencyConflict, InvalidJob
from cronbase.jobs import Job
from cronbase.manager import SYSTEM, JobManager
from cronbase.registry import JobRegistry
from cronbase.runner import Runner
from cronbase.store import SqlStore
from cronbase.testing import FakeClock
from tests.helpers import MakeJob, run_history


def after(*jobs: Job, on: str = "success") -> list[dict[str, Any]]:
    return [{"job_id": str(job.id), "on": on} for job in jobs]


def errors_of(excinfo: pytest.ExceptionInfo[InvalidJob]) -> dict[str, str]:
    return dict(excinfo.value.errors)


# --- on_demand -------------------------------------------------------------------------------


def test_an_on_demand_job_never_falls_due_but_runs_when_asked(
    store: SqlStore, make_job: MakeJob, manager: JobManager, registry: JobRegistry, clock: FakeClock
) -> None:
    job = make_job("markUsersOffline", schedule="on_demand")
    assert job.next_run is None
    runner = Runner(store, registry, clock)
    clock.advance(timedelta(days=2))
    assert runner.run_due().total == 0
    assert run_history(store) == []

    manager.run_now(job.id, SYSTEM)
    summary = runner.run_due()
    assert [item["name"] for item in summary.executed] == ["markUsersOffline"]
    assert [(run.status, run.trigger) for run in run_history(store)] == [("succeeded", "manual")]
    assert manager.get_job(job.id, SYSTEM).next_run is None


def test_a_job_can_move_to_and_from_on_demand(
    make_job: MakeJob, manager: JobManager, clock: FakeClock
) -> None:
    job = make_job("markUsersOffline", schedule="hourly")
    assert job.next_run is not None
    job = manager.update_job(job.id, {"schedule": "on_demand"}, SYSTEM)
    assert job.next_run is None
    job = manager.update_job(job.id, {"schedule": "hourly"}, SYSTEM)
    assert job.next_run == clock.now().replace(minute=0, second=0, microsecond=0) + timedelta(
        hours=1
    )


# --- depends_on stored and read back ---------------------------------------------------------


def test_depends_on_and_wait_for_are_stored_and_read_back(
    make_job: MakeJob, manager: JobManager
) -> None:
    a = make_job("markUsersOffline", name="A", schedule="hourly")
    b = make_job("markUsersOffline", name="B", schedule="hourly")
    c = make_job(
        "markUsersOffline",
        name="C",
        schedule="on_demand",
        depends_on=after(a) + after(b, on="failure"),
        wait_for="all",
    )
    expected = sorted(
        [{"job_id": str(a.id), "on": "success"}, {"job_id": str(b.id), "on": "failure"}],
        key=lambda d: d["job_id"],
    )
    for job in (c, manager.get_job(c.id, SYSTEM)):
        assert job.to_dict()["depends_on"] == expected
        assert job.wait_for == "all"
    listed = {job.name: job for job in manager.list_jobs(SYSTEM).items}
    assert listed["C"].to_dict()["depends_on"] == expected
    assert listed["A"].depends_on == []

    # a change that leaves depends_on out keeps it; one that sends it replaces it
    assert manager.update_job(c.id, {"priority": 5}, SYSTEM).to_dict()["depends_on"] == expected
    changed = manager.update_job(c.id, {"depends_on": after(b), "wait_for": "any"}, SYSTEM)
    assert changed.to_dict()["depends_on"] == after(b)
    assert manager.get_job(c.id, SYSTEM).to_dict()["depends_on"] == after(b)


def test_bad_depends_on_items_are_refused_with_their_place(
    make_job: MakeJob, manager: JobManager
) -> None:
    a = make_job("markUsersOffline", name="A")
    with pytest.raises(InvalidJob) as excinfo:
        make_job(
            "markUsersOffline",
            name="B",
            depends_on=[
                {"job_id": str(a.id), "on": "sometimes"},
                {"job_id": str(a.id)},
                {"job_id": str(a.id)},
                {"job_id": str(UUID(int=7))},
            ],
        )
    errors = errors_of(excinfo)
    assert 'on": one of success, failure, completion' in errors["depends_on.0"]
    assert errors["depends_on.2.job_id"] == f"{a.id} is listed twice"
    assert len(manager.list_jobs(SYSTEM).items) == 1  # nothing stored

    with pytest.raises(InvalidJob) as excinfo:
        make_job("markUsersOffline", name="B", depends_on=[{"job_id": str(UUID(int=7))}])
    assert "no job with id 00000000-0000-0000-0000-000000000007" in str(excinfo.value)


# --- cycles ----------------------------------------------------------------------------------


def test_a_cycle_is_refused_with_its_path(make_job: MakeJob, manager: JobManager) -> None:
    a = make_job("markUsersOffline", name="A", schedule="hourly")
    b = make_job("markUsersOffline", name="B", schedule="on_demand", depends_on=after(a))
    c = make_job("markUsersOffline", name="C", schedule="on_demand", depends_on=after(b))
    with pytest.raises(InvalidJob) as excinfo:
        manager.update_job(a.id, {"depends_on": after(c)}, SYSTEM)
    assert errors_of(excinfo)["depends_on"] == (
        "would make a dependency cycle: A -> B -> C -> A (each runs after the last)"
    )
    assert manager.get_job(a.id, SYSTEM).depends_on == []  # nothing changed

    with pytest.raises(InvalidJob, match="cycle: A -> A"):
        manager.update_job(a.id, {"depends_on": after(a)}, SYSTEM)


def test_two_concurrent_edits_cannot_close_a_cycle(make_job: MakeJob, manager: JobManager) -> None:
    a = make_job("markUsersOffline", name="A")
    b = make_job("markUsersOffline", name="B")
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def edit(job: Job, upstream: Job) -> None:
        start.wait()
        try:
            manager.update_job(job.id, {"depends_on": after(upstream)}, SYSTEM)
            outcomes[job.name] = "saved"
        except InvalidJob as exc:
            outcomes[job.name] = str(exc)

    threads = [threading.Thread(target=edit, args=pair) for pair in ((a, b), (b, a))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    refused, saved = sorted(outcomes.values())  # "depends_on: ..." sorts before "saved"
    assert saved == "saved"
    assert "would make a dependency cycle" in refused
    edges = [job.depends_on for job in manager.list_jobs(SYSTEM).items]
    assert sum(len(e) for e in edges) == 1


# --- tenants ---------------------------------------------------------------------------------


def test_a_job_depends_only_on_jobs_of_its_own_tenant(
    make_job: MakeJob, make_tenant: Any, manager: JobManager
) -> None:
    acme, other = make_tenant("Acme"), make_tenant("Other")
    global_job = make_job("markUsersOffline", name="G")
    acme_job = make_job("markUsersOffline", name="A", tenant_id=acme)
    with pytest.raises(InvalidJob, match="among the jobs of this job's tenant"):
        make_job("markUsersOffline", name="X", tenant_id=acme, depends_on=after(global_job))
    with pytest.raises(InvalidJob, match="among global jobs"):
        make_job("markUsersOffline", name="Y", depends_on=after(acme_job))
    with pytest.raises(InvalidJob, match="among the jobs of this job's tenant"):
        make_job("markUsersOffline", name="Z", tenant_id=other, depends_on=after(acme_job))
    make_job("markUsersOffline", name="B", tenant_id=acme, depends_on=after(acme_job))
    # moving the upstream to another tenant would leave B depending across tenants
    with pytest.raises(DependencyConflict, match="B depend"):
        manager.update_job(acme_job.id, {"tenant_id": other}, SYSTEM)
    assert manager.get_job(acme_job.id, SYSTEM).tenant_id == acme


# --- wait_for all ----------------------------------------------------------------------------


def test_wait_for_all_needs_upstreams_with_one_schedule_and_zone(
    make_job: MakeJob, manager: JobManager
) -> None:
    a = make_job("markUsersOffline", name="A", schedule="hourly")
    b = make_job("markUsersOffline", name="B", schedule="hourly", timezone="Europe/Berlin")
    d = make_job("markUsersOffline", name="D", schedule="on_demand")
    with pytest.raises(InvalidJob) as excinfo:
        make_job("markUsersOffline", name="C", depends_on=after(a, b), wait_for="all")
    assert "share one schedule and time zone" in errors_of(excinfo)["wait_for"]
    with pytest.raises(InvalidJob, match="D has no schedule"):
        make_job("markUsersOffline", name="C", depends_on=after(a, d), wait_for="all")
    make_job("markUsersOffline", name="C", depends_on=after(a, b), wait_for="any")

    manager.update_job(b.id, {"timezone": "UTC"}, SYSTEM)
    c2 = make_job("markUsersOffline", name="C2", depends_on=after(a, b), wait_for="all")
    # a later edit of an upstream's schedule that would break the join is refused
    with pytest.raises(DependencyConflict, match="C2 wait"):
        manager.update_job(a.id, {"schedule": "daily"}, SYSTEM)
    with pytest.raises(DependencyConflict, match="C2 wait"):
        manager.update_job(b.id, {"timezone": "Asia/Tokyo"}, SYSTEM)
    assert manager.get_job(a.id, SYSTEM).schedule == "hourly"
    manager.update_job(c2.id, {"wait_for": "any"}, SYSTEM)
    manager.update_job(a.id, {"schedule": "daily"}, SYSTEM)


# --- deleting --------------------------------------------------------------------------------


def test_deleting_a_job_others_depend_on_is_refused_unless_detached(
    make_job: MakeJob, manager: JobManager
) -> None:
    a = make_job("markUsersOffline", name="A")
    b = make_job("markUsersOffline", name="B", depends_on=after(a))
    c = make_job("markUsersOffline", name="C", depends_on=after(a, b))
    with pytest.raises(DependencyConflict, match="B, C depend"):
        manager.delete_job(a.id, SYSTEM)
    assert manager.get_job(a.id, SYSTEM).name == "A"

    manager.delete_job(c.id, SYSTEM)  # nothing depends on C: its own edges go with it
    manager.delete_job(a.id, SYSTEM, detach=True)
    assert manager.get_job(b.id, SYSTEM).depends_on == []
    assert [job.name for job in manager.list_jobs(SYSTEM).items] == ["B"]
