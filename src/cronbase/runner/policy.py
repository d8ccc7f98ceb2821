"""The runner's policies, as plain functions of what it knows: how far to claim ahead, when to
claim and how many, when to record the results that ended, how long the loop may block, when
leases are due for renewal or too old to trust, and when to look for lapsed leases.

Times are seconds on the clock's monotonic scale.
"""

from __future__ import annotations

from datetime import datetime, timedelta

# Claim ahead as much work as the worker gets through in this long.
CLAIM_AHEAD_SECONDS = 0.1
# A worker claims runs due within this long, and holds them until due (see ahead.py), so that
# the claim's transaction is over by the due instant.
CLAIM_EARLY_SECONDS = 0.2
MAX_PREFETCH = 500
# Record ended runs in one transaction per this long, or per this many.
RECORD_DELAY_SECONDS = 0.05
MAX_RECORD_BATCH = 1000
# Look for runs whose worker died this often. A lease is renewed every third of its length,
# so once a second is plenty.
SWEEP_SECONDS = 1.0


def prefetch(threads: int, mean_run_seconds: float | None) -> int:
    """How many claims to keep waiting for a thread: as many as `threads` threads get through
    in CLAIM_AHEAD_SECONDS at the recent mean run time (none until a run has ended).

    A burst of short jobs is then claimed in batches of hundreds, one transaction each, while
    long jobs are claimed only as threads free up, so they are not held here while another
    worker has room.
    """
    if mean_run_seconds is None:
        return 0
    ahead = threads * CLAIM_AHEAD_SECONDS / max(mean_run_seconds, 1e-6)
    return min(int(ahead), MAX_PREFETCH)


def claims_wanted(queued: int, free: int, prefetch: int) -> int:
    """How many runs to claim this turn (0: do not claim), with `queued` claims waiting and
    `free` threads: claim when free threads would stay empty, or when the claims waiting run
    low; not for every thread that frees up (a claim is a transaction)."""
    if queued >= free and queued > prefetch // 2:
        return 0
    return max(free + prefetch - queued, 0)


def claimed_far_enough(claimed_until: datetime | None, now: datetime, ahead: float) -> bool:
    """Whether the last claim ahead, up to `claimed_until`, still covers more than half the
    window: then this turn claims nothing, so a steady stream of due runs is claimed a few at a
    time rather than one transaction per run. (Work added since then is claimed within half a
    window, CLAIM_EARLY_SECONDS / 2.)"""
    return claimed_until is not None and (claimed_until - now).total_seconds() > ahead / 2


def claim_again_at(claimed_until: datetime | None, ahead: float, now: datetime) -> datetime | None:
    """When the last claim ahead, up to `claimed_until`, no longer covers half the window
    (claimed_far_enough): the turn to claim the next runs ahead, if that is still to come."""
    if claimed_until is None:
        return None
    again = claimed_until - timedelta(seconds=ahead / 2)
    return again if again > now else None


def held_wake(
    next_held: datetime | None,
    on_time: bool,
    claimed_until: datetime | None,
    ahead: float,
    now: datetime,
) -> float | None:
    """Seconds from `now` until the control loop wakes for the claims held ahead, the soonest
    due at `next_held`: at its instant; or, when a thread of their own starts them (`on_time`),
    to claim more (claim_again_at), and never for one already due: that one is the thread's,
    which may be waiting to retry a failed read, and waking for it would spin the loop."""
    if next_held is not None and on_time:
        again = claim_again_at(claimed_until, ahead, now)
        next_held = again or (next_held if next_held > now else None)
    return None if next_held is None else (next_held - now).total_seconds()


def flush_due(ended: int, idle: bool, first_ended: float, now: float) -> bool:
    """Whether to record the `ended` runs waiting now: once RECORD_DELAY_SECONDS passed since
    the first of them ended, once they make a full batch, or at once when nothing else runs
    (`idle`), since no more results will join them soon."""
    if not ended:
        return False
    return idle or ended >= MAX_RECORD_BATCH or now - first_ended >= RECORD_DELAY_SECONDS


def renewal_due(renewed: float, lease_seconds: float, now: float) -> bool:
    """Whether the leases renewed at `renewed` are due again: every third of a lease, so two
    renewals may fail before a lease lapses."""
    return now - renewed >= lease_seconds / 3


def leases_stale(renewed: float, lease_seconds: float, now: float) -> bool:
    """Whether leases last renewed at `renewed` are too old to start their runs: another
    worker may record them abandoned (and retry them) before long."""
    return now - renewed > lease_seconds * 2 / 3


def sweep_due(swept: float | None, now: float) -> bool:
    """Whether to look for runs whose lease lapsed (never looked: yes)."""
    return swept is None or now - swept >= SWEEP_SECONDS


def max_wait(
    now: float,
    *,
    more_to_start: bool,
    renewed: float,
    lease_seconds: float,
    next_deadline: float | None,
    first_ended: float | None,
    next_held: float | None = None,
) -> float:
    """How long the control loop may block: not at all while free threads could start more
    work (`more_to_start`), else until the next lease renewal, run deadline, batch of results
    to record or claim held ahead falling due (`next_held`), whichever comes first."""
    if more_to_start:
        return 0.0
    wake = [renewed + lease_seconds / 3]
    if next_deadline is not None:
        wake.append(next_deadline)
    if first_ended is not None:
        wake.append(first_ended + RECORD_DELAY_SECONDS)
    if next_held is not None:
        wake.append(next_held)
    return max(min(wake) - now, 0.0)
