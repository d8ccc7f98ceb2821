"""Claims held ahead: a worker claims runs up to CLAIM_EARLY_SECONDS before they fall due, so
that at the due instant the claim's transaction is behind it and the run starts on time.

A claim held here starts at its due instant, after one read of its job (store/ahead.py): if the
job was paused, edited or deleted meanwhile (committed before the instant), the claim is
withdrawn instead, as if never made, and the job is claimed again as it now stands.
"""

from __future__ import annotations

import heapq
import itertools
from datetime import datetime

from cronbase.jobs import Claim
from cronbase.store.ahead import takes_slot


def due_at(claim: Claim, now: datetime, horizon: datetime) -> datetime:
    """When a claim made at `now` for runs due by `horizon` may start: a slot at its job's
    next_run as it was claimed (the fire time plus any jitter offset); a retry, whose own
    instant the claim does not carry, at the horizon (a retry may start up to the claim window
    late, never early); anything else (a run now, a dependent's, a backfill's, one that cannot
    run) at once."""
    if claim.error:
        return now
    if takes_slot(claim) and claim.job.next_run is not None:
        return claim.job.next_run
    if claim.attempt > 1:
        return horizon
    return now


class HeldClaims:
    """Claims waiting for their due instant, soonest first."""

    def __init__(self) -> None:
        self._heap: list[tuple[datetime, int, Claim]] = []
        self._order = itertools.count()  # ties go in claim order; Claims are not compared

    def __len__(self) -> int:
        return len(self._heap)

    def add(self, due: datetime, claim: Claim) -> None:
        heapq.heappush(self._heap, (due, next(self._order), claim))

    def next_due(self) -> datetime | None:
        return self._heap[0][0] if self._heap else None

    def due_by(self, now: datetime) -> list[Claim]:
        """The claims due at or before `now`, left in place (take them with `drop`)."""
        return [claim for due, _, claim in sorted(self._heap) if due <= now]

    def drop(self, claims: list[Claim]) -> None:
        gone = {claim.run_id for claim in claims}
        self._heap = [item for item in self._heap if item[2].run_id not in gone]
        heapq.heapify(self._heap)

    def claims(self) -> list[Claim]:
        return [claim for _, _, claim in self._heap]
