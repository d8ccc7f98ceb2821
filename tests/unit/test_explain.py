"""The "why didn't it run?" rule: every state, the order they are decided in, and the words."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from cronbase.explain import Evidence, Facts, Fleet, JobState, PendingRun, explain, state_of
from cronbase.job_fields import Dependency, DependsOn
from cronbase.jobs import RunTrigger
from tests.unit.job_factory import NOW, make_job

LATER = NOW + timedelta(minutes=5)
GRACE = timedelta(seconds=600)


def _retry(at: datetime = LATER) -> PendingRun:
    return PendingRun(at, 2, RunTrigger.SCHEDULE)


CASES = {
    JobState.SCHEDULED: Facts(make_job(next_run=LATER), NOW, workers_alive=1),
    JobState.DUE: Facts(make_job(next_run=NOW), NOW + timedelta(seconds=30), workers_alive=1),
    JobState.RUNNING: Facts(
        make_job(next_run=LATER), NOW, Evidence(running=1, running_since=NOW), workers_alive=1
    ),
    JobState.RETRY_PENDING: Facts(
        make_job(next_run=LATER, max_attempts=3), NOW, Evidence(pending=(_retry(),))
    ),
    JobState.PAUSED: Facts(make_job(is_active=False, next_run=None), NOW),
    JobState.OVERDUE_NO_WORKER: Facts(make_job(next_run=NOW), NOW + GRACE + timedelta(seconds=1)),
    JobState.OVERDUE_WORKERS_BUSY: Facts(
        make_job(next_run=NOW), NOW + GRACE + timedelta(seconds=1), workers_alive=3
    ),
    JobState.INVALID_SCHEDULE: Facts(
        make_job(schedule="cron:99 * * * *"), NOW, schedule_error="minute 99 is out of range"
    ),
    JobState.ON_DEMAND: Facts(make_job(schedule="on_demand", next_run=None), NOW),
    JobState.WAITING_FOR_DEPENDENCIES: Facts(
        make_job(
            schedule="on_demand",
            next_run=None,
            depends_on=[Dependency(uuid4(), DependsOn.SUCCESS)],
        ),
        NOW,
    ),
}


def test_every_state_has_a_case() -> None:
    assert set(CASES) == set(JobState)


@pytest.mark.parametrize("state", list(JobState))
def test_each_state_is_decided_and_said_in_a_sentence(state: JobState) -> None:
    found = explain(CASES[state], [LATER])
    assert found.state == state
    assert found.summary.endswith(".")
    assert found.to_dict()["state"] == state.value


def test_due_turns_overdue_at_the_jobs_own_grace_exactly() -> None:
    job = make_job(next_run=NOW, overdue_after_seconds=600)
    assert state_of(Facts(job, NOW + GRACE)) == JobState.DUE
    assert state_of(Facts(job, NOW + GRACE + timedelta(seconds=1))) == JobState.OVERDUE_NO_WORKER


def test_a_waiting_manual_run_is_late_but_not_overdue() -> None:
    manual = PendingRun(NOW, 1, RunTrigger.MANUAL)
    facts = Facts(make_job(next_run=NOW), NOW + timedelta(days=1), Evidence(pending=(manual,)))
    assert state_of(facts) == JobState.DUE


def test_a_broken_schedule_wins_and_a_paused_jobs_manual_run_is_due_then_running() -> None:
    broken = make_job(is_active=False, schedule="cron:99 * * * *")
    assert state_of(Facts(broken, NOW, schedule_error="bad")) == JobState.INVALID_SCHEDULE
    paused = make_job(is_active=False, next_run=None)
    manual = PendingRun(NOW, 1, RunTrigger.MANUAL)
    assert state_of(Facts(paused, NOW, Evidence(pending=(manual,)))) == JobState.DUE
    assert state_of(Facts(paused, NOW, Evidence(running=1))) == JobState.RUNNING
    # a paused job's retries wait for it to be resumed
    assert state_of(Facts(paused, NOW, Evidence(pending=(_retry(),)))) == JobState.PAUSED


def test_the_summary_names_the_retry_time_and_the_workers() -> None:
    retry = explain(CASES[JobState.RETRY_PENDING], [])
    assert "attempt 2 of 3" in retry.summary
    assert "2025-01-15T10:40:00Z" in retry.summary
    assert retry.to_dict()["retry_at"] == "2025-01-15T10:40:00Z"
    busy = explain(CASES[JobState.OVERDUE_WORKERS_BUSY], [])
    assert "3 live workers" in busy.summary
    assert busy.to_dict()["overdue_since"] == "2025-01-15T10:45:00Z"


def test_an_overdue_jobs_summary_says_whether_the_live_workers_had_free_slots() -> None:
    overdue = CASES[JobState.OVERDUE_WORKERS_BUSY]
    full = explain(replace(overdue, fleet=Fleet(threads=12, running=12, free_slots=0)), [])
    assert full.state == JobState.OVERDUE_WORKERS_BUSY
    assert "all 12 slot(s) of its 3 live workers are taken by running jobs" in full.summary
    assert "CRONBASE_WORKER_CONCURRENCY" in full.summary
    idle = explain(replace(overdue, fleet=Fleet(threads=12, running=9, free_slots=3)), [])
    assert idle.state == JobState.OVERDUE_WORKERS_BUSY
    assert "its 3 live workers have 3 free slots: none claimed it" in idle.summary
    fields = idle.to_dict()["workers"]
    assert (fields["threads"], fields["running"], fields["free_slots"]) == (12, 9, 3)
    due = explain(replace(CASES[JobState.DUE], fleet=Fleet(4, 3, 1)), [])
    assert "(1 live worker, 1 free slot)" in due.summary


def test_the_evidence_in_words_and_fields() -> None:
    job = make_job(
        next_run=LATER,
        last_run=NOW - timedelta(hours=1),
        last_status="failed",
        missed_since_last_run=2,
        timezone="Europe/Berlin",
    )
    evidence = Evidence(
        last_missed_at=NOW - timedelta(minutes=10),
        last_missed_reason="2 slot(s) ... passed without a run (misfire policy coalesce)",
        skipped_since_last_run=4,
        last_skipped_at=NOW - timedelta(minutes=1),
    )
    found = explain(Facts(job, NOW, evidence), [LATER], workers=None)
    text = " ".join(found.details)
    assert "failed" in text
    assert "misfire policy coalesce" in text
    assert "4 slot(s) skipped" in text
    assert "2 slot(s) missed" in text
    fields = found.to_dict()
    assert fields["next_runs"] == [
        {"utc": "2025-01-15T10:40:00Z", "local": "2025-01-15T11:40:00+01:00"}
    ]
    assert fields["last_missed"]["reason"].endswith("(misfire policy coalesce)")
    assert fields["workers"] == {
        "alive": 0,
        "threads": None,
        "running": 0,
        "free_slots": None,
        "hosts": None,
    }


def test_a_job_never_run_says_so() -> None:
    found = explain(Facts(make_job(next_run=datetime(2030, 1, 1, tzinfo=UTC)), NOW), [])
    assert found.details[0] == "It has never run."


def test_an_open_alert_episode_and_a_mute_are_said() -> None:
    job = make_job(
        last_run=NOW - timedelta(minutes=5),
        last_status="failed",
        alerting_since=NOW - timedelta(hours=2),
        muted_until=NOW + timedelta(hours=8),
    )
    found = explain(Facts(job, NOW), [])
    assert found.details[-2:] == [
        "Alerting since 2025-01-15T08:35:00Z: its next successful run ends that (job.recovered).",
        "Alerts about it are muted until 2025-01-15T18:35:00Z.",
    ]
    fields = found.to_dict()
    assert (fields["alerting_since"], fields["muted_until"]) == (
        "2025-01-15T08:35:00Z",
        "2025-01-15T18:35:00Z",
    )
    past = explain(Facts(replace(job, muted_until=NOW, alerting_since=None), NOW), [])
    assert not any("lert" in line for line in past.details)  # a mute that ended says nothing
