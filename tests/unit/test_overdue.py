"""The dead-man's switch's rule: when is a job overdue?"""

from __future__ import annotations

from datetime import timedelta

from cronbase.overdue import is_overdue, overdue_since
from tests.unit.job_factory import NOW, make_job


def test_a_job_is_overdue_once_its_next_run_is_more_than_its_grace_in_the_past() -> None:
    job = make_job(next_run=NOW, overdue_after_seconds=600)
    assert overdue_since(job) == NOW + timedelta(seconds=600)
    assert not is_overdue(job, NOW + timedelta(seconds=600), run_in_flight=False)
    assert is_overdue(job, NOW + timedelta(seconds=601), run_in_flight=False)


def test_the_grace_is_the_jobs_own() -> None:
    job = make_job(next_run=NOW, overdue_after_seconds=3600)
    assert not is_overdue(job, NOW + timedelta(minutes=59), run_in_flight=False)
    assert is_overdue(job, NOW + timedelta(minutes=61), run_in_flight=False)


def test_a_run_going_or_waiting_means_late_but_not_overdue() -> None:
    job = make_job(next_run=NOW)
    assert not is_overdue(job, NOW + timedelta(days=1), run_in_flight=True)


def test_a_paused_job_or_one_without_next_run_is_never_overdue() -> None:
    assert overdue_since(make_job(is_active=False)) is None
    assert not is_overdue(make_job(is_active=False), NOW + timedelta(days=1), run_in_flight=False)
    assert not is_overdue(make_job(next_run=None), NOW + timedelta(days=1), run_in_flight=False)
