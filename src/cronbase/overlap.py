"""The overlap policy: of the due jobs claimed together, which slots run now and which are
recorded skipped because the job's previous run is still going.

Pure: it takes the jobs, their plans and which of them are running, and reads no database.
"""

from __future__ import annotations

from uuid import UUID

from cronbase.jobs import Job, OverlapPolicy, SlotPlan

SKIPPED_FOR_OVERLAP = "the previous run was still going (overlap policy skip)"


def split_by_overlap(
    jobs: list[Job], plans: dict[UUID, SlotPlan], running: set[UUID]
) -> tuple[list[Job], list[Job]]:
    """(jobs whose slot runs now, jobs whose slot is recorded skipped).

    A job whose plan runs no slot (a skip or catch-up plan with nothing to run yet) is in
    neither list. A job with a run still going runs its slot only under the
    `allow` policy; under `skip` (and `queue`, whose jobs are normally not claimed while they
    run) the slot is recorded skipped.
    """
    run, skipped = [], []
    for job in jobs:
        if plans[job.id].run_slot is None:
            continue
        if job.id not in running or job.overlap_policy == OverlapPolicy.ALLOW:
            run.append(job)
        else:
            skipped.append(job)
    return run, skipped
