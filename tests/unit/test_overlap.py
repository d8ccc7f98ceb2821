"""The overlap policy: which due slots run while the job's previous run goes on."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cronbase.jobs import OverlapPolicy, SlotPlan
from cronbase.overlap import split_by_overlap
from tests.unit.job_factory import NOW, make_job

RUNS = SlotPlan(NOW, None, NOW + timedelta(minutes=5))
RUNS_NOTHING = SlotPlan(None, None, NOW + timedelta(minutes=5))


def test_a_job_with_no_run_going_runs_whatever_its_policy() -> None:
    jobs = [make_job(overlap_policy=policy.value) for policy in OverlapPolicy]
    run, skipped = split_by_overlap(jobs, {job.id: RUNS for job in jobs}, running=set())
    assert (run, skipped) == (jobs, [])


@pytest.mark.parametrize(
    ("policy", "runs"),
    [(OverlapPolicy.SKIP, False), (OverlapPolicy.ALLOW, True), (OverlapPolicy.QUEUE, False)],
)
def test_a_job_whose_previous_run_goes_on_runs_only_if_it_allows_overlap(
    policy: OverlapPolicy, runs: bool
) -> None:
    job = make_job(overlap_policy=policy.value)
    run, skipped = split_by_overlap([job], {job.id: RUNS}, running={job.id})
    assert (run, skipped) == (([job], []) if runs else ([], [job]))


def test_a_plan_that_runs_no_slot_is_neither_run_nor_recorded_skipped() -> None:
    job = make_job()
    assert split_by_overlap([job], {job.id: RUNS_NOTHING}, running={job.id}) == ([], [])
    assert split_by_overlap([job], {job.id: RUNS_NOTHING}, running=set()) == ([], [])


def test_the_order_of_the_claim_is_kept() -> None:
    jobs = [make_job(name=str(i)) for i in range(5)]
    busy = {jobs[1].id, jobs[3].id}
    run, skipped = split_by_overlap(jobs, {job.id: RUNS for job in jobs}, running=busy)
    assert run == [jobs[0], jobs[2], jobs[4]]
    assert skipped == [jobs[1], jobs[3]]
