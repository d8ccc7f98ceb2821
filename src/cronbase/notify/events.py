"""The events cronbase tells channels about, and what each carries: pure functions, no I/O.

Every event is built here, whoever detects it (the recording of a run, the scheduler's
overdue check), so that every payload has the same shape:

    {"event": "run.failed", "time": "...Z",
     "job": {"id", "name", "tenant_id", "function_name", "schedule"},
     "run": {"id", "scheduled_for", "attempt", "status", "error", "duration",
             "log_tail", "traceback_tail"},                   (the last lines, on failures)
     "link": "https://cron.example.com/jobs/<id>"}      (when CRONBASE_PUBLIC_URL is set)

`link` is added when the notification is sent (with_link), so a change of the public URL
applies to notifications still waiting too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from cronbase.jobs import Job, Missed, Outcome, RunStatus, isoformat
from cronbase.limits import last_lines
from cronbase.notify.model import Event


class EventName(StrEnum):
    RUN_FAILED = "run.failed"
    RUN_TIMED_OUT = "run.timed_out"
    RUN_ABANDONED = "run.abandoned"
    RUN_SUCCEEDED = "run.succeeded"  # opt-in: only channels that list it get it
    RUN_MISSED = "run.missed"  # slots recorded missed (one event per missed row)
    JOB_OVERDUE = "job.overdue"  # the dead-man's switch (cronbase.overdue), once per episode
    JOB_RECOVERED = "job.recovered"  # the first successful final run after an alert
    CHANNEL_TEST = "channel.test"  # POST /channels/{id}/test; never matched to channels


# The events a channel may subscribe to (what `events` may list), in the order shown.
SUBSCRIBABLE = [
    EventName.RUN_FAILED,
    EventName.RUN_TIMED_OUT,
    EventName.RUN_ABANDONED,
    EventName.RUN_MISSED,
    EventName.JOB_OVERDUE,
    EventName.JOB_RECOVERED,
    EventName.RUN_SUCCEEDED,
]
# A new channel's events when it names none: every alert, not the opt-in ones.
DEFAULT_EVENTS = [e for e in SUBSCRIBABLE if e is not EventName.RUN_SUCCEEDED]
# How the Web UI names each of them (the channels page renders its choices from these).
LABELS = {
    EventName.RUN_FAILED: "Run failed",
    EventName.RUN_TIMED_OUT: "Run timed out",
    EventName.RUN_ABANDONED: "Run abandoned",
    EventName.RUN_MISSED: "Runs missed",
    EventName.JOB_OVERDUE: "Job overdue",
    EventName.JOB_RECOVERED: "Job recovered",
    EventName.RUN_SUCCEEDED: "Run succeeded",
}

# The final attempt of a run ended this way: tell the channels that want it.
_RUN_EVENTS = {
    RunStatus.FAILED: EventName.RUN_FAILED,
    RunStatus.TIMED_OUT: EventName.RUN_TIMED_OUT,
    RunStatus.ABANDONED: EventName.RUN_ABANDONED,
    RunStatus.SUCCEEDED: EventName.RUN_SUCCEEDED,
}


def job_part(job: Job) -> dict[str, Any]:
    """The `job` object of a payload."""
    return {
        "id": str(job.id),
        "name": job.name,
        "tenant_id": str(job.tenant_id) if job.tenant_id else None,
        "function_name": job.function_name,
        "schedule": job.schedule,
    }


def payload(name: str, time: datetime, job: Job | None, **parts: Any) -> dict[str, Any]:
    """A payload: the event, its time, the job (if any) and any further parts (`run`, ...)."""
    body: dict[str, Any] = {"event": str(name), "time": isoformat(time)}
    if job is not None:
        body["job"] = job_part(job)
    body.update(parts)
    return body


def run_events(
    outcomes: Iterable[Outcome], names: dict[RunStatus, EventName] = _RUN_EVENTS
) -> list[Event]:
    """The events of recorded outcomes: one per final attempt (no retry follows) that ended
    failed, timed out, abandoned or (for the channels that opt in) succeeded. A failure that
    will be retried alerts nobody. `names`: the event of each status."""
    events = []
    for outcome in outcomes:
        name = names.get(outcome.status)
        if name is None or outcome.retry_at is not None:
            continue
        claim = outcome.claim
        run = {
            "id": str(claim.run_id),
            "scheduled_for": isoformat(claim.slot),
            "attempt": claim.attempt,
            "trigger": claim.trigger.value,
            "status": outcome.status.value,
            "error": outcome.error,
            "started_at": isoformat(outcome.started_at),
            "finished_at": isoformat(outcome.finished_at),
            "duration": round((outcome.finished_at - outcome.started_at).total_seconds(), 3),
        }
        if outcome.status is not RunStatus.SUCCEEDED:  # what the run said before it failed
            run["log_tail"] = last_lines(outcome.log) or None
            run["traceback_tail"] = last_lines(outcome.traceback) or None
        events.append(
            Event(
                name=name.value,
                tenant_id=claim.job.tenant_id,
                job_id=claim.job.id,
                run_id=claim.run_id,
                time=outcome.finished_at,
                payload=payload(name, outcome.finished_at, claim.job, run=run),
                # A run ends once; the key keeps it to one notification per channel even so.
                dedup_key=f"{name.value}:{claim.run_id}",
            )
        )
    return events


def missed_event(job: Job, run_id: UUID, missed: Missed, now: datetime) -> Event:
    """Slots of `job` that passed without a run, recorded as the missed row `run_id`."""
    name = EventName.RUN_MISSED
    run = {"id": str(run_id), "scheduled_for": isoformat(missed.first), "status": "missed"}
    details = {
        "count": missed.count,
        "more": missed.more,
        "first": isoformat(missed.first),
        "last": isoformat(missed.last),
    }
    return Event(
        name=name.value,
        tenant_id=job.tenant_id,
        job_id=job.id,
        run_id=run_id,
        time=now,
        payload=payload(name, now, job, run=run, missed=details),
        dedup_key=f"{name.value}:{run_id}",
    )


def overdue_event(job: Job, now: datetime) -> Event:
    """`job` is overdue (cronbase.overdue): nothing has run its next_run. One per episode:
    the key is the job and that next_run."""
    name = EventName.JOB_OVERDUE
    assert job.next_run is not None  # an overdue job has one
    details = {
        "next_run": isoformat(job.next_run),
        "overdue_after_seconds": job.overdue_after_seconds,
        "late_seconds": int((now - job.next_run).total_seconds()),
    }
    return Event(
        name=name.value,
        tenant_id=job.tenant_id,
        job_id=job.id,
        run_id=None,
        time=now,
        payload=payload(name, now, job, overdue=details),
        dedup_key=f"{name.value}:{job.id}:{isoformat(job.next_run)}",
    )


def recovered_event(outcome: Outcome, alerting_since: datetime) -> Event:
    """The job of this successful final run had an alert open since `alerting_since`."""
    # The run's own event under this name (its dedup_key too), with when the alert began.
    [recovered] = run_events([outcome], names={RunStatus.SUCCEEDED: EventName.JOB_RECOVERED})
    return replace(
        recovered, payload={**recovered.payload, "alerting_since": isoformat(alerting_since)}
    )


def test_event(channel_name: str, time: datetime) -> Event:
    """The message POST /channels/{id}/test sends."""
    body = payload(
        EventName.CHANNEL_TEST,
        time,
        None,
        message=f"A test notification from cronbase to the channel {channel_name!r}.",
    )
    return Event(
        name=EventName.CHANNEL_TEST.value,
        tenant_id=None,
        job_id=None,
        run_id=None,
        time=time,
        payload=body,
    )


def with_link(body: dict[str, Any], public_url: str | None) -> dict[str, Any]:
    """The payload with `link`, the job's page in the Web UI, when the public URL is known."""
    job = body.get("job")
    if not public_url or not isinstance(job, dict) or not job.get("id"):
        return body
    return {**body, "link": f"{public_url.rstrip('/')}/jobs/{job['id']}"}
