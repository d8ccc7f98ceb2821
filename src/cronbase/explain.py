"""Why did a job not run? Its state, decided once from the facts the store gathered, with a
sentence that says it. Pure: facts in, state and summary out; no database, no clock.

The states, in the order they are decided (the first that holds wins):
  invalid_schedule          its stored schedule or time zone no longer parses
  running                   a run of it is going
  paused                    is_active is off, and no manual run of it waits
  retry_pending             a later attempt of a failed run waits as a pending row
  due                       a run may start now (next_run or a pending run's run_after passed)
                            and it is not yet overdue
  overdue_no_worker         overdue (cronbase.overdue, the one definition) and no worker lives
  overdue_workers_busy      overdue although workers live: none of them claimed it (the
                            summary says whether their slots were all taken)
  waiting_for_dependencies  an on_demand job with upstreams: it runs after their final runs
  on_demand                 an on_demand job without upstreams: it runs only when asked
  scheduled                 its next run is in the future
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from cronbase.jobs import Job, RunTrigger, isoformat
from cronbase.overdue import is_overdue, overdue_since
from cronbase.schedule import jitter_offset, next_fire_with_offset, parse_schedule


class JobState(StrEnum):
    SCHEDULED = "scheduled"
    DUE = "due"
    RUNNING = "running"
    RETRY_PENDING = "retry_pending"
    PAUSED = "paused"
    OVERDUE_NO_WORKER = "overdue_no_worker"
    OVERDUE_WORKERS_BUSY = "overdue_workers_busy"
    INVALID_SCHEDULE = "invalid_schedule"
    ON_DEMAND = "on_demand"
    WAITING_FOR_DEPENDENCIES = "waiting_for_dependencies"


@dataclass(frozen=True)
class PendingRun:
    """A pending row of the job: a retry (attempt > 1), a manual, dependency or backfill run."""

    run_after: datetime
    attempt: int
    trigger: RunTrigger


@dataclass(frozen=True)
class Evidence:
    """What the store read of the job's runs (store/evidence.py)."""

    running: int = 0
    running_since: datetime | None = None  # the start of its oldest run going
    pending: tuple[PendingRun, ...] = ()  # soonest first
    # the newest missed row: its first slot, and its reason (the slots and the misfire policy)
    last_missed_at: datetime | None = None
    last_missed_reason: str | None = None
    skipped_since_last_run: int = 0  # slots skipped because a run was still going (overlap)
    last_skipped_at: datetime | None = None


@dataclass(frozen=True)
class Fleet:
    """The live workers' capacity, summed over them: counts only, which every role may see."""

    threads: int | None = None  # runs they may run at once; None if one did not say
    running: int = 0  # runs they hold
    free_slots: int | None = None  # runs they could start now (each worker's, summed)

    @classmethod
    def of(cls, workers: Sequence[Any]) -> Fleet:
        """From the live workers (store.workers.WorkerInfo: threads, running, free_slots)."""
        if any(w.threads is None for w in workers):
            return cls(None, sum(w.running for w in workers), None)
        return cls(
            sum(w.threads for w in workers),
            sum(w.running for w in workers),
            sum(w.free_slots for w in workers),
        )


@dataclass(frozen=True)
class Facts:
    """Everything the state is decided from, gathered by the domain layer."""

    job: Job
    now: datetime
    evidence: Evidence = Evidence()
    schedule_error: str | None = None  # why the stored schedule or zone does not parse
    workers_alive: int = 0
    fleet: Fleet = Fleet()


@dataclass(frozen=True)
class Explanation:
    """The answer: the state, a sentence, the evidence in words and in fields."""

    state: JobState
    summary: str
    details: list[str]
    facts: Facts
    next_runs: list[datetime]  # the next five run times, UTC
    workers: list[dict[str, Any]] | None = None  # the live workers: superadmins only

    def _hosts(self) -> list[dict[str, Any]] | None:
        if self.workers is None:
            return None
        keys = ("id", "host", "pid", "threads", "running", "free_slots")
        return [{key: w[key] for key in keys} for w in self.workers]

    def to_dict(self) -> dict[str, Any]:
        job, ev = self.facts.job, self.facts.evidence
        zone = ZoneInfo(job.timezone) if self.facts.schedule_error is None else UTC
        retry = _retry_at(self.facts)
        overdue = self.state in OVERDUE_STATES
        return {
            "state": self.state.value,
            "summary": self.summary,
            "details": self.details,
            "is_active": job.is_active,
            "schedule": job.schedule,
            "timezone": job.timezone,
            "schedule_error": self.facts.schedule_error,
            "last_run": isoformat(job.last_run),
            "last_status": job.last_status,
            "missed_since_last_run": job.missed_since_last_run,
            "last_missed": None
            if ev.last_missed_at is None
            else {"scheduled_for": isoformat(ev.last_missed_at), "reason": ev.last_missed_reason},
            "misfire_policy": job.misfire_policy,
            "overlap_policy": job.overlap_policy,
            "skipped_since_last_run": ev.skipped_since_last_run,
            "last_skipped_at": isoformat(ev.last_skipped_at),
            "running": ev.running,
            "running_since": isoformat(ev.running_since),
            "pending_runs": [
                {"run_after": isoformat(p.run_after), "attempt": p.attempt, "trigger": p.trigger}
                for p in ev.pending
            ],
            "retry_at": isoformat(retry),
            "next_run": isoformat(job.next_run),
            "overdue_after_seconds": job.overdue_after_seconds,
            "overdue_since": isoformat(overdue_since(job)) if overdue else None,
            "alerting_since": isoformat(job.alerting_since),
            "muted_until": isoformat(job.muted_until),
            "workers": {
                "alive": self.facts.workers_alive,
                "threads": self.facts.fleet.threads,
                "running": self.facts.fleet.running,
                "free_slots": self.facts.fleet.free_slots,
                "hosts": self._hosts(),
            },
            "next_runs": [
                {"utc": isoformat(t), "local": t.astimezone(zone).isoformat()}
                for t in self.next_runs
            ],
        }


def upcoming(job: Job, now: datetime, count: int) -> list[datetime]:
    """The job's next `count` run times, its jitter offset included (the real times): its
    next_run, then its schedule's fire times after it; for a paused job, the times it would run
    at if resumed now. InvalidSchedule if its stored schedule no longer parses."""
    schedule = parse_schedule(job.schedule, job.timezone)
    offset = jitter_offset(job.id, job.jitter_seconds, schedule)
    first = job.next_run
    if not job.is_active or first is None:
        first = next_fire_with_offset(schedule, now, offset)
        if first is None:  # on_demand
            return []
    later = schedule.preview(first - offset, count - 1) if count > 1 else []
    return [first, *(fire + offset for fire in later)]


OVERDUE_STATES = (JobState.OVERDUE_NO_WORKER, JobState.OVERDUE_WORKERS_BUSY)


def overdue_state(workers_alive: int) -> JobState:
    """Which overdue state an overdue job is in: nothing alive to run it, or nothing claimed it."""
    return JobState.OVERDUE_WORKERS_BUSY if workers_alive else JobState.OVERDUE_NO_WORKER


def state_of(facts: Facts) -> JobState:
    """The job's one state (see the module's docstring for the order)."""
    job, now = facts.job, facts.now
    if facts.schedule_error is not None:
        return JobState.INVALID_SCHEDULE
    if facts.evidence.running:  # a paused job's manual run goes on all the same
        return JobState.RUNNING
    manual = any(p.trigger == RunTrigger.MANUAL for p in facts.evidence.pending)
    if not job.is_active and not manual:  # a manual run of a paused job still starts
        return JobState.PAUSED
    if any(p.attempt > 1 for p in facts.evidence.pending):
        return JobState.RETRY_PENDING
    if is_overdue(job, now, run_in_flight=bool(facts.evidence.pending)):
        return overdue_state(facts.workers_alive)
    if any(p.run_after <= now for p in facts.evidence.pending):
        return JobState.DUE
    if job.next_run is None:
        if job.depends_on:
            return JobState.WAITING_FOR_DEPENDENCIES
        return JobState.ON_DEMAND
    if job.next_run <= now:
        return JobState.DUE
    return JobState.SCHEDULED


def explain(
    facts: Facts, next_runs: list[datetime], workers: list[dict[str, Any]] | None = None
) -> Explanation:
    """The state, a sentence saying it, and the evidence."""
    state = state_of(facts)
    summary = _summary(state, facts, _retry_at(facts))
    return Explanation(state, summary, _details(facts), facts, next_runs, workers)


def _retry_at(facts: Facts) -> datetime | None:
    return next((p.run_after for p in facts.evidence.pending if p.attempt > 1), None)


def _when(instant: datetime | None) -> str:
    return isoformat(instant) or "never"


def _workers(n: int) -> str:
    return f"{n} live worker{'' if n == 1 else 's'}"


def _slots(n: int) -> str:
    return f"{n} free slot{'' if n == 1 else 's'}"


def _busy(f: Facts) -> str:
    """Why live workers left an overdue job alone, as far as their free slots tell."""
    free = f.fleet.free_slots
    if free is None:
        return (
            f"although {_workers(f.workers_alive)} could have claimed it: they are busy or "
            "stuck: check their free slots and logs, or add workers."
        )
    if free == 0:
        return (
            f"because all {f.fleet.threads} slot(s) of its {_workers(f.workers_alive)} are "
            "taken by running jobs: wait for them, add workers or raise "
            "CRONBASE_WORKER_CONCURRENCY."
        )
    return (
        f"although its {_workers(f.workers_alive)} {'has' if f.workers_alive == 1 else 'have'} "
        f"{_slots(free)}: none claimed it; check "
        "their logs (can they import its function? is its tenant at its running limit?)."
    )


def _summary(state: JobState, f: Facts, retry: datetime | None) -> str:
    """The state in a sentence, with what to do about it."""
    if state == JobState.INVALID_SCHEDULE:
        return (
            f"It cannot run: its schedule {f.job.schedule!r} in {f.job.timezone} is invalid "
            f"({f.schedule_error}); fix the schedule or the time zone."
        )
    if state == JobState.PAUSED:
        return "It does not run because it is paused; resume it to run it again."
    if state == JobState.RUNNING:
        since = _when(f.evidence.running_since)
        return f"It is running: {f.evidence.running} run(s) going since {since}."
    if state == JobState.RETRY_PENDING:
        return (
            f"Its last run failed and attempt {max(p.attempt for p in f.evidence.pending)} of "
            f"{f.job.max_attempts} waits to start at {_when(retry)}."
        )
    if state == JobState.DUE:
        if f.workers_alive == 0:  # nothing will start it: say so before it becomes overdue
            return (
                "It is due now, but no worker is alive to start it: start one (cronbase worker, "
                "or cronbase serve, which runs one) or run the due jobs once (cronbase run-due)."
            )
        free = "" if f.fleet.free_slots is None else f", {_slots(f.fleet.free_slots)}"
        return (
            "It is due now and a worker should start it shortly "
            f"({_workers(f.workers_alive)}{free})."
        )
    if state == JobState.OVERDUE_NO_WORKER:
        return (
            f"It is overdue: its run at {_when(f.job.next_run)} has not started for more than "
            f"{f.job.overdue_after_seconds} s, and no worker is alive; start one "
            "(cronbase worker)."
        )
    if state == JobState.OVERDUE_WORKERS_BUSY:
        return (
            f"It is overdue: its run at {_when(f.job.next_run)} has not started for more than "
            f"{f.job.overdue_after_seconds} s {_busy(f)}"
        )
    if state == JobState.WAITING_FOR_DEPENDENCIES:
        return (
            f"It runs only after final runs of the {len(f.job.depends_on)} job(s) it depends on "
            "(or when run by hand); none has started it yet."
        )
    if state == JobState.ON_DEMAND:
        return "It has an on_demand schedule: it never runs on its own, only when run by hand."
    if state == JobState.SCHEDULED:
        return f"It is scheduled: the next run is at {_when(f.job.next_run)}."
    raise AssertionError(state)


def _details(facts: Facts) -> list[str]:
    """The evidence in words: last run, missed and skipped slots, pending runs, alerts."""
    job = facts.job
    lines = []
    if job.last_run is None:
        lines.append("It has never run.")
    else:
        lines.append(f"Last run started {_when(job.last_run)}: {job.last_status}.")
    if facts.evidence.last_missed_reason:
        lines.append(f"Missed: {facts.evidence.last_missed_reason}.")
    if job.missed_since_last_run:
        lines.append(f"{job.missed_since_last_run} slot(s) missed since the last run.")
    if facts.evidence.skipped_since_last_run:
        lines.append(
            f"{facts.evidence.skipped_since_last_run} slot(s) skipped since the last run because the "
            f"previous run was still going (overlap policy {job.overlap_policy}), the newest "
            f"at {_when(facts.evidence.last_skipped_at)}."
        )
    for pending in facts.evidence.pending:
        lines.append(
            f"A {pending.trigger} run (attempt {pending.attempt}) waits to start at "
            f"{_when(pending.run_after)}."
        )
    return lines + _alerts(facts)


def _alerts(facts: Facts) -> list[str]:
    """What its alerts are doing: a job that fails in silence may be muted, or alerted on
    already (an episode stays open until a run succeeds)."""
    job, lines = facts.job, []
    if job.alerting_since is not None:
        lines.append(
            f"Alerting since {_when(job.alerting_since)}: its next successful run ends that "
            "(job.recovered)."
        )
    if job.muted_until is not None and job.muted_until > facts.now:
        lines.append(f"Alerts about it are muted until {_when(job.muted_until)}.")
    return lines
