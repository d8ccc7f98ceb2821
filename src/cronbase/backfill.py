"""Which past slots a backfill replays. Pure: the schedule and the range in, the slots out.

A backfill of a job over [start, end) queues one `backfill` run for each of its schedule's
slots in the range that has no succeeded, running or pending run (store/backfills.py decides
that part, under the job's row lock). The slots follow the schedule's zone and DST rules, so
a day of an hourly job is 24 slots, 23 or 25 on the days the zone changes its clocks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from cronbase.errors import InvalidBackfill
from cronbase.jobs import Job, isoformat, job_offset
from cronbase.schedule import Schedule

MAX_BACKFILL_SLOTS = 1000
# Counting the slots of a range too large to queue stops here (an every-minute job over years).
_MAX_COUNTED = 10_000
_TICK = timedelta(microseconds=1)


@dataclass(frozen=True)
class Backfill:
    """A backfill as stored, with how its runs are doing (each slot's last attempt)."""

    id: UUID
    job_id: UUID
    start: datetime
    end: datetime
    include_dependents: bool
    slots: int  # the runs it queued
    created_at: datetime
    cancelled_at: datetime | None
    pending: int = 0
    running: int = 0
    succeeded: int = 0
    failed: int = 0  # failed, timed_out or abandoned, and not retried
    removed: int = 0  # waiting when the backfill was cancelled, so never run

    @property
    def done(self) -> bool:
        return self.pending == 0 and self.running == 0


def backfill_slots(schedule: Schedule, start: datetime, end: datetime) -> list[datetime]:
    """The schedule's fire times in [start, end), oldest first; InvalidBackfill (422) if the range
    is empty or reversed, the job has no schedule, or it holds more than MAX_BACKFILL_SLOTS."""
    if end <= start:
        raise InvalidBackfill([("end", f"must be after start ({start.isoformat()})")])
    if schedule.on_demand:
        why = (
            "an on_demand job has no slots to backfill: backfill the jobs it runs after, "
            "with include_dependents"
        )
        raise InvalidBackfill([("schedule", why)])
    slots: list[datetime] = []
    try:
        slot = schedule.next_after(start - _TICK)
        while slot is not None and slot < end and len(slots) < _MAX_COUNTED:
            slots.append(slot)
            slot = schedule.next_after(slot)
    except OverflowError as exc:  # the calendar's first instant, or a fire time past its last
        if not slots:
            why = "must be later: the range falls off the calendar"
            raise InvalidBackfill([("start", why)]) from exc
    if len(slots) > MAX_BACKFILL_SLOTS:
        count = f"{len(slots):,}" if len(slots) < _MAX_COUNTED else f"more than {_MAX_COUNTED:,}"
        why = (
            f"the range holds {count} slots of the job's schedule; at most "
            f"{MAX_BACKFILL_SLOTS:,} per backfill: split it"
        )
        raise InvalidBackfill([("end", why)])
    return slots


def refuse_the_future(end: datetime, now: datetime) -> None:
    """InvalidBackfill (422 at `end`) for a range that reaches past now. A slot to come would run
    at once, before its time, and then again when the schedule reached it."""
    if end > now:
        why = (
            f"is in the future (now is {isoformat(now)}): a backfill replays slots that have "
            "passed, and the schedule runs the ones to come; give an end at or before now"
        )
        raise InvalidBackfill([("end", why)])


def passed_by_the_schedule(job: Job, slots: list[datetime]) -> list[datetime]:
    """The slots the job's schedule has moved past. From an active job's next fire time on
    (its next_run less the jitter offset), even one that is due already, the schedule runs
    them itself (or records them missed): a backfill of one would run it twice."""
    if not job.is_active or job.next_run is None:
        return slots
    next_slot = job.next_run - job_offset(job)
    return [slot for slot in slots if slot < next_slot]
