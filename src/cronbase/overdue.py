"""The dead-man's switch: when is a job overdue? The one definition, for the alerts
(`job.overdue`), `cronbase status`, the metrics and any "why didn't it run?" answer.

A job is overdue when it is active, its next_run is more than its grace
(`overdue_after_seconds`) in the past, and no run of it is going or waiting. Nothing claimed
the slot: no worker is alive, or every worker is stuck. A `queue` or `catch_up` job whose
slot waits behind its own long run has a run going, so it is late but not overdue; so is a
job whose retry or manual run waits as a pending row. Pure: the store narrows the candidates
with SQL (store/status.py overdue_jobs) and this rule decides.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from cronbase.job_fields import FIELDS
from cronbase.jobs import Job

# The shortest grace a job may have: the store reads candidates at least this late through
# the due-job index, and the rule below decides per job.
MIN_OVERDUE_AFTER = timedelta(seconds=FIELDS["overdue_after_seconds"].bounds[0])  # type: ignore[index]


def overdue_since(job: Job) -> datetime | None:
    """The instant after which `job` counts as overdue if nothing runs it, or None for a job
    that cannot be overdue (paused, or with no next_run)."""
    if not job.is_active or job.next_run is None:
        return None
    return job.next_run + timedelta(seconds=job.overdue_after_seconds)


def is_overdue(job: Job, now: datetime, *, run_in_flight: bool) -> bool:
    """Is `job` overdue at `now`? `run_in_flight`: a run of it is going or pending."""
    since = overdue_since(job)
    return since is not None and not run_in_flight and now > since
