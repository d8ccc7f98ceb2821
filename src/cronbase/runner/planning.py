"""Which slot of a due job runs now, which slots are recorded missed, and the next_run after.

Pure: it takes the job and the instant, and reads no clock and no database.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import replace
from datetime import datetime, timedelta

from cronbase.jobs import FAILURE_STATUSES, Job, MisfirePolicy, Missed, RunStatus, SlotPlan
from cronbase.schedule import Schedule, jitter_offset, parse_schedule

# A slot this late counts as missed under the `skip` policy when the job sets no window.
DEFAULT_SKIP_GRACE = timedelta(seconds=60)
# Missed slots are counted one by one up to this many; a longer outage is recorded as "more".
MAX_COUNTED_SLOTS = 1000


def plan_slots(job: Job, now: datetime) -> SlotPlan:
    """Plan a due job (job.next_run <= now) by its misfire policy.

    - coalesce: the most recent due slot runs and stands for all of them (as APScheduler's
      `latest` and Temporal do), so the run's scheduled_for and the job's last outcome are
      the newest; the earlier ones are missed; next_run is the first fire time after now.
    - skip: only a slot at most `catchup_window_seconds` (default 60 s) old runs; older ones
      are missed; next_run is the first fire time after now.
    - catch_up: every slot runs, oldest first, one at a time (next_run is the slot after the
      one running, so the job stays due until it has caught up); slots older than
      `catchup_window_seconds`, when set, are missed.
    """
    assert job.next_run is not None
    try:
        schedule = parse_schedule(job.schedule, job.timezone)
    except ValueError as exc:  # InvalidSchedule, or a zone that vanished from tzdata
        error = f"{exc}; the job will not run again until its schedule is fixed"
        return SlotPlan(job.next_run, None, None, error)
    if schedule.on_demand:  # a next_run someone wrote by hand: run it once, then never again
        return SlotPlan(job.next_run, None, None)
    # A staggered job runs each slot `offset` after its fire time (its next_run has it): plan
    # on the fire times' clock, with the slots and now moved back by the offset, so that
    # scheduled_for stays the fire time and lateness counts from fire time + offset; then
    # move the next next_run forward again.
    offset = jitter_offset(job.id, job.jitter_seconds, schedule)
    plan = _plan(job, schedule, job.next_run - offset, now - offset)
    if not offset or plan.next_run is None:
        return plan
    return replace(plan, next_run=plan.next_run + offset)


def batch_planner() -> Callable[[Job, datetime], SlotPlan]:
    """plan_slots for the jobs of one claim, made once per kind of job: jobs with the same
    schedule, zone, misfire policy, window and next_run get the same plan at the same `now`
    (a burst, or a fleet's every-minute jobs, is mostly such jobs; a plan costs a few of the
    schedule's next fire times). A staggered job's plan depends on its id too. Plans are
    immutable, so sharing one is safe; the memory goes with the claim."""
    plans: dict[tuple[Hashable, ...], SlotPlan] = {}

    def plan(job: Job, now: datetime) -> SlotPlan:
        key = (
            job.schedule,
            job.timezone,
            job.next_run,
            now,
            job.misfire_policy,
            job.catchup_window_seconds,
            job.id if job.jitter_seconds else None,
        )
        found = plans.get(key)
        if found is None:
            found = plans[key] = plan_slots(job, now)
        return found

    return plan


def _plan(job: Job, schedule: Schedule, first: datetime, now: datetime) -> SlotPlan:
    window = timedelta(seconds=job.catchup_window_seconds) if job.catchup_window_seconds else None
    if job.misfire_policy == MisfirePolicy.CATCH_UP:
        return _catch_up(schedule, first, now, window)
    if job.misfire_policy == MisfirePolicy.SKIP:
        return _skip(schedule, first, now, window or DEFAULT_SKIP_GRACE)
    latest = _latest_slot(schedule, first, now)
    return SlotPlan(
        latest,
        _missed(schedule, first, latest, after_first=False, before=True),
        schedule.next_after(now),
    )


def _latest_slot(schedule: Schedule, first: datetime, now: datetime) -> datetime:
    """The last fire time at or before `now`, given that `first` (<= now) is one.

    There is no "previous fire time" to ask the schedule for, and walking forward from `first`
    after a long outage would take a step per slot: look back from `now` over a window that
    doubles until it holds a slot, then walk forward inside it (a few steps).
    """
    back = timedelta(minutes=1)
    while True:
        start = now - back
        if start < first:
            slot = first
            break
        slot = schedule.next_after(start - _TICK)
        if slot <= now:
            break
        back *= 2
    while (following := schedule.next_after(slot)) <= now:
        slot = following
    return slot


def _skip(schedule: Schedule, first: datetime, now: datetime, grace: timedelta) -> SlotPlan:
    recent = first if first >= now - grace else schedule.next_after(now - grace - _TICK)
    run = recent if recent <= now else None
    missed = _missed(schedule, first, run or now + _TICK, after_first=False, before=True)
    return SlotPlan(run, missed, schedule.next_after(now))


def _catch_up(
    schedule: Schedule, first: datetime, now: datetime, window: timedelta | None
) -> SlotPlan:
    oldest_kept = (
        first
        if window is None or first >= now - window
        else (schedule.next_after(now - window - _TICK))
    )
    missed = _missed(schedule, first, oldest_kept, after_first=False, before=True)
    if oldest_kept > now:
        return SlotPlan(None, missed, oldest_kept)
    return SlotPlan(oldest_kept, missed, schedule.next_after(oldest_kept))


_TICK = timedelta(microseconds=1)


def _missed(
    schedule: Schedule,
    first: datetime,
    until: datetime,
    *,
    after_first: bool,
    before: bool = False,
) -> Missed | None:
    """The slots from `first` (or after it) up to `until` (inclusive, or exclusive if `before`)."""
    slots: list[datetime] = []
    slot = schedule.next_after(first) if after_first else first
    while (slot < until if before else slot <= until) and len(slots) <= MAX_COUNTED_SLOTS:
        slots.append(slot)
        slot = schedule.next_after(slot)
    if not slots:
        return None
    more = len(slots) > MAX_COUNTED_SLOTS
    slots = slots[:MAX_COUNTED_SLOTS]
    return Missed(slots[0], slots[-1], len(slots), more)


# Longest wait between two attempts, however many attempts a job allows.
MAX_RETRY_DELAY = timedelta(hours=6)
# Runs that ended unfinished and are tried again while attempts remain: every failure.
RETRIED = FAILURE_STATUSES


def retry_at(
    job: Job, attempt: int, status: RunStatus, ended: datetime, jitter: float
) -> datetime | None:
    """When to try a job again after `attempt` ended with `status` at `ended`, or None.

    The delay doubles with each attempt from `retry_delay_seconds`, up to MAX_RETRY_DELAY, and
    `jitter` (a number in [0, 1)) takes off up to half of it ("equal jitter"), so jobs that
    failed together (a database outage) do not all come back at the same instant.
    """
    if status not in RETRIED or attempt >= job.max_attempts:
        return None
    delay = min(job.retry_delay_seconds * 2 ** (attempt - 1), MAX_RETRY_DELAY.total_seconds())
    return ended + timedelta(seconds=delay * (1 - jitter / 2))
