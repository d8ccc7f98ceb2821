"""The audit log's entries, pure: which fields a change lists, which action it is, who the
actor is, and ids that sort in the order they were made."""

from __future__ import annotations

from dataclasses import replace

from cronbase.audit import Auditor, field_changes, time_ordered_id
from cronbase.auth import Principal, Role
from tests.unit.job_factory import NOW, make_job

ADMIN = Principal("admin@a.test", Role.ADMIN, None)


def test_only_the_settable_fields_that_differ_are_listed() -> None:
    job = make_job()
    later = replace(job, name="k", next_run=None, updated_at=NOW.replace(year=2030))
    assert field_changes(job, later) == {"name": {"from": "j", "to": "k"}}
    assert field_changes(job, job) == {}
    assert Auditor(ADMIN, NOW).updated(job, job) is None  # nothing changed: no entry


def test_a_change_of_is_active_is_a_pause_or_a_resume_with_the_rest() -> None:
    job = make_job()
    paused = Auditor(ADMIN, NOW).updated(job, replace(job, is_active=False, priority=3))
    assert paused is not None
    assert paused.action == "paused"
    assert set(paused.changes or {}) == {"is_active", "priority"}
    resumed = Auditor(ADMIN, NOW).updated(replace(job, is_active=False), job)
    assert resumed is not None
    assert resumed.action == "resumed"


def test_the_actor_is_the_callers_name_as_postgresql_can_store_it() -> None:
    caller = Principal("host\x00app", Role.SUPERADMIN, None)
    entry = Auditor(caller, NOW).deleted(make_job())
    assert (entry.actor, entry.actor_role, entry.detail) == ("hostapp", "superadmin", {"name": "j"})


def test_ids_sort_in_the_order_they_were_made_as_numbers_and_as_text() -> None:
    ids = [time_ordered_id() for _ in range(5000)]
    assert ids == sorted(ids)
    assert [str(i) for i in ids] == sorted(str(i) for i in ids)
    assert len(set(ids)) == len(ids)
    assert {i.version for i in ids} == {7}
