"""The audit log, through the domain layer on both databases: each action writes exactly one
entry with who, when and the fields that changed; a change that changes nothing writes none;
a change that fails writes none, and an entry that cannot be written undoes its change; the
log outlives the job."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from cronbase.audit import AuditEntry
from cronbase.auth import Principal, Role
from cronbase.errors import InvalidJob, InvalidQuery, JobNotFound
from cronbase.jobs import Job
from cronbase.manager import SYSTEM, JobManager, JobSpec
from cronbase.store import SqlStore
from cronbase.store import audit as audit_sql
from cronbase.testing import FakeClock
from tests.helpers import MakeJob

ROOT = Principal("root@x.test", Role.SUPERADMIN, None)


def admin_of(tenant: UUID, email: str = "admin@a.test") -> Principal:
    return Principal(email, Role.ADMIN, tenant)


def log(manager: JobManager, job_id: UUID, caller: Principal = ROOT) -> list[AuditEntry]:
    """The whole log, newest first."""
    return list(manager.job_audit(job_id, caller, limit=500).items)


def actions(manager: JobManager, job_id: UUID) -> list[str]:
    return [str(entry.action) for entry in log(manager, job_id)]


def after(*jobs: Job) -> list[dict[str, str]]:
    return [{"job_id": str(job.id), "on": "success"} for job in jobs]


def test_each_action_writes_one_entry_with_who_when_and_what_changed(
    manager: JobManager, clock: FakeClock, make_tenant: Any
) -> None:
    tenant = make_tenant()
    admin = admin_of(tenant)
    spec = JobSpec(name="Nightly", schedule="daily", function_name="markUsersOffline")
    job = manager.create_job(spec, admin)
    [created] = log(manager, job.id)
    assert (created.action, created.actor, created.actor_role) == (
        "created",
        "admin@a.test",
        "admin",
    )
    assert (created.job_id, created.tenant_id, created.at) == (job.id, tenant, clock.now())
    assert created.changes is not None
    assert created.changes["name"] == {"from": None, "to": "Nightly"}
    assert created.changes["schedule"] == {"from": None, "to": "daily"}

    clock.advance(timedelta(minutes=1))
    manager.update_job(job.id, {"name": "Nightly export", "schedule": "daily"}, admin)
    [updated, _] = log(manager, job.id)
    assert updated.action == "updated"
    # only what changed: the schedule was sent as it was, next_run is not a setting
    assert updated.changes == {"name": {"from": "Nightly", "to": "Nightly export"}}
    assert updated.at == clock.now()

    clock.advance(timedelta(minutes=1))
    manager.update_job(job.id, {"name": "Nightly export", "priority": 0}, admin)  # as it is
    assert actions(manager, job.id) == ["updated", "created"]

    clock.advance(timedelta(minutes=1))
    manager.update_job(job.id, {"is_active": False}, admin)
    clock.advance(timedelta(minutes=1))
    manager.update_job(job.id, {"is_active": True, "priority": 5}, ROOT)
    resumed, paused, *_ = log(manager, job.id)
    assert (paused.action, paused.changes) == (
        "paused",
        {"is_active": {"from": True, "to": False}},
    )
    assert (resumed.action, resumed.actor, resumed.actor_role) == (
        "resumed",
        "root@x.test",
        "superadmin",
    )
    assert resumed.changes == {
        "is_active": {"from": False, "to": True},
        "priority": {"from": 0, "to": 5},
    }

    clock.advance(timedelta(minutes=1))
    run = manager.run_now(job.id, admin)
    manager.run_now(job.id, admin)  # the same run still waits: no news
    ran = log(manager, job.id)[0]
    assert (ran.action, ran.detail) == ("ran", {"run_id": str(run.id)})
    assert actions(manager, job.id).count("ran") == 1

    clock.advance(timedelta(minutes=1))
    start, end = clock.now() - timedelta(days=3), clock.now() - timedelta(days=1)
    manager.backfill(job.id, admin, start=start, end=end, dry_run=True)  # a preview: no news
    backfill, slots = manager.backfill(job.id, admin, start=start, end=end)
    assert backfill is not None
    assert len(slots) == 2
    backfilled = log(manager, job.id)[0]
    assert backfilled.action == "backfilled"
    assert backfilled.detail == {
        "backfill_id": str(backfill.id),
        "start": start.isoformat().replace("+00:00", "Z"),
        "end": end.isoformat().replace("+00:00", "Z"),
        "queued": 2,
        "include_dependents": False,
    }

    clock.advance(timedelta(minutes=1))
    manager.cancel_backfill(job.id, backfill.id, admin)
    clock.advance(timedelta(minutes=1))
    manager.cancel_backfill(job.id, backfill.id, admin)  # cancelled already: no news
    cancelled = log(manager, job.id)[0]
    assert cancelled.action == "backfill_cancelled"
    assert cancelled.detail is not None
    assert (cancelled.detail["backfill_id"], cancelled.detail["removed"]) == (str(backfill.id), 2)

    clock.advance(timedelta(minutes=1))
    manager.delete_job(job.id, admin)
    entries = log(manager, job.id)  # the log outlives the job
    assert [str(e.action) for e in entries] == [
        "deleted",
        "backfill_cancelled",
        "backfilled",
        "ran",
        "resumed",
        "paused",
        "updated",
        "created",
    ]
    assert (entries[0].detail, entries[0].actor) == ({"name": "Nightly export"}, "admin@a.test")
    times = [e.at for e in entries]
    assert times == sorted(times, reverse=True)
    assert log(manager, job.id, admin) == entries  # the tenant's admin still reads it


def test_a_change_that_fails_writes_no_entry(make_job: MakeJob, manager: JobManager) -> None:
    a = make_job("markUsersOffline", name="A", schedule="hourly")
    b = make_job("markUsersOffline", name="B", schedule="on_demand", depends_on=after(a))
    # Refused in the store's transaction, after the row was updated: the rename is undone,
    # and no entry tells of it.
    with pytest.raises(InvalidJob, match="cycle"):
        manager.update_job(a.id, {"name": "A2", "depends_on": after(b)}, SYSTEM)
    assert manager.get_job(a.id, SYSTEM).name == "A"
    assert actions(manager, a.id) == ["created"]
    with pytest.raises(InvalidJob):  # refused before the store
        manager.update_job(a.id, {"schedule": "every blue moon"}, SYSTEM)
    assert actions(manager, a.id) == ["created"]


@pytest.mark.parametrize("action", ["create", "update", "delete", "run", "backfill"])
def test_a_change_whose_entry_cannot_be_written_is_undone(
    make_job: MakeJob,
    manager: JobManager,
    store: SqlStore,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    action: str,
) -> None:
    job = make_job("markUsersOffline", name="Kept", schedule="hourly")
    before = (store.list_jobs(), store.list_runs(job.id))

    def refuse(_conn: Any, entry: AuditEntry | None) -> None:
        if entry is not None:
            raise RuntimeError("the audit log is full")

    monkeypatch.setattr(audit_sql, "record", refuse)
    day = clock.now() - timedelta(days=1)
    change = {
        "create": lambda: make_job("markUsersOffline", name="New"),
        "update": lambda: manager.update_job(job.id, {"name": "Renamed"}, SYSTEM),
        "delete": lambda: manager.delete_job(job.id, SYSTEM),
        "run": lambda: manager.run_now(job.id, SYSTEM),
        "backfill": lambda: manager.backfill(job.id, SYSTEM, start=day, end=clock.now()),
    }[action]
    with pytest.raises(RuntimeError, match="audit log is full"):
        change()
    assert (store.list_jobs(), store.list_runs(job.id)) == before
    monkeypatch.undo()
    assert actions(manager, job.id) == ["created"]


def test_deleting_an_upstream_with_detach_records_the_dependents_lost_edge(
    make_job: MakeJob, manager: JobManager, clock: FakeClock
) -> None:
    a = make_job("markUsersOffline", name="A", schedule="hourly")
    b = make_job("markUsersOffline", name="B", schedule="hourly")
    c = make_job("markUsersOffline", name="C", schedule="on_demand", depends_on=after(a, b))
    clock.advance(timedelta(minutes=1))
    manager.delete_job(a.id, ROOT, detach=True)
    [detached, _] = log(manager, c.id)
    assert (detached.action, detached.actor, detached.at) == ("updated", "root@x.test", clock.now())
    assert detached.changes == {
        "depends_on": {
            "from": sorted(after(a, b), key=lambda edge: edge["job_id"]),
            "to": after(b),
        }
    }
    assert detached.detail == {"upstream_deleted": str(a.id), "name": "A"}
    assert actions(manager, b.id) == ["created"]  # an upstream of C, not a dependent of A
    assert actions(manager, a.id) == ["deleted", "created"]


def test_an_admin_reads_their_tenants_entries_only(
    make_job: MakeJob, manager: JobManager, make_tenant: Any, clock: FakeClock
) -> None:
    a, b = make_tenant("A"), make_tenant("B")
    job = make_job("markUsersOffline", name="Moving", tenant_id=a)
    clock.advance(timedelta(minutes=1))
    manager.update_job(job.id, {"tenant_id": b}, ROOT)  # the superadmin hands it over
    assert [str(e.action) for e in log(manager, job.id, admin_of(b))] == ["updated"]
    with pytest.raises(JobNotFound):  # A's admin no longer sees the job
        log(manager, job.id, admin_of(a))
    assert actions(manager, job.id) == ["updated", "created"]

    clock.advance(timedelta(minutes=1))
    manager.delete_job(job.id, admin_of(b))
    assert [str(e.action) for e in log(manager, job.id, admin_of(b))] == ["deleted", "updated"]
    # Gone, A's admin reads A's entries of it: written while it was theirs.
    assert [str(e.action) for e in log(manager, job.id, admin_of(a))] == ["created"]
    other = make_tenant("C")
    for caller in (admin_of(other), Principal("x", Role.ADMIN, None)):
        with pytest.raises(JobNotFound):
            log(manager, job.id, caller)
    with pytest.raises(JobNotFound):  # never was
        log(manager, UUID(int=7))


def test_the_log_pages_newest_first_with_cursors(
    make_job: MakeJob, manager: JobManager, clock: FakeClock
) -> None:
    job = make_job("markUsersOffline", name="v0")
    for n in range(1, 7):
        if n != 4:  # two entries in one instant: the id orders them as they were written
            clock.advance(timedelta(seconds=1))
        manager.update_job(job.id, {"name": f"v{n}"}, SYSTEM)
    seen: list[AuditEntry] = []
    cursor = None
    while True:
        page = manager.job_audit(job.id, SYSTEM, cursor=cursor, limit=3)
        seen += page.items
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert len(seen) == 7
    assert len({e.id for e in seen}) == 7
    assert seen == log(manager, job.id)
    keys: list[tuple[datetime, UUID]] = [(e.at, e.id) for e in seen]
    assert keys == sorted(keys, reverse=True)
    names = [e.changes["name"]["to"] for e in seen if e.changes]
    assert names == ["v6", "v5", "v4", "v3", "v2", "v1", "v0"]
    with pytest.raises(InvalidQuery, match="cursor"):
        manager.job_audit(job.id, SYSTEM, cursor="nonsense")


def test_the_seed_records_its_jobs_as_created_by_system(manager: JobManager) -> None:
    from cronbase.builtin import DEFAULT_JOBS

    [first, *_] = manager.seed_default_jobs(DEFAULT_JOBS)
    [entry] = log(manager, first.id)
    assert (entry.action, entry.actor, entry.actor_role) == ("created", "system", "superadmin")
    assert manager.seed_default_jobs(DEFAULT_JOBS) == []
    assert len(log(manager, first.id)) == 1
