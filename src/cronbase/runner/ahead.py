"""Claims held ahead: a worker claims runs up to CLAIM_EARLY_SECONDS before they fall due, so
that at the due instant the claim's transaction is behind it and the run starts on time.

A claim held here starts at its due instant, after one read of its job (store/ahead.py): if the
job was paused, edited or deleted meanwhile (committed before the instant), the claim is
withdrawn instead, as if never made, and the job is claimed again as it now stands.

A worker starts its held claims from a thread of their own (`start_on_time`), so that an
instant never waits behind the control loop's own transactions (a claim, a batch of results
being recorded: a few milliseconds each, far more on a loaded machine, while runs fall due
every few milliseconds in a steady stream). Without that thread (`run_due`, tests) the control
loop starts them at its turns.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections.abc import Callable
from datetime import datetime

from cronbase.clock import Clock
from cronbase.jobs import Claim
from cronbase.store.ahead import ClaimsAhead, takes_slot

logger = logging.getLogger(__name__)

# The thread looks at `stop` at least this often; and after a failed read of the jobs (the
# database is away) it waits this long before the next try, doubling up to the maximum.
LOOK_SECONDS = 0.25
MAX_RETRY_SECONDS = 5.0


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
    """Claims waiting for their due instant, soonest first, and what starts them then.

    One lock (a condition) guards the claims and each start, the read at the instant included:
    a claim is started, withdrawn or given back once, whichever thread gets to it."""

    def __init__(self, ahead: ClaimsAhead, worker_id: str, clock: Clock) -> None:
        self.ahead = ahead
        self.worker_id = worker_id
        self.clock = clock
        self._heap: list[tuple[datetime, int, Claim]] = []
        self._order = itertools.count()  # ties go in claim order; Claims are not compared
        self._changed = threading.Condition()  # a claim came, or the thread is to look again
        self._thread: threading.Thread | None = None

    def __len__(self) -> int:
        return len(self._heap)

    @property
    def on_time(self) -> bool:
        """Whether a thread of their own starts them (`start_on_time`)."""
        return self._thread is not None

    def add(self, due: datetime, claim: Claim) -> None:
        with self._changed:
            heapq.heappush(self._heap, (due, next(self._order), claim))
            if self._heap[0][2] is claim:  # sooner than the thread waits for
                self._changed.notify()

    def next_due(self) -> datetime | None:
        with self._changed:
            return self._heap[0][0] if self._heap else None

    def claims(self) -> list[Claim]:
        """The claims held now. A lease renewal reads them before the queued and running ones:
        a claim moved from here to the queue meanwhile is then in both, rather than in neither
        (its lease, as old as its claim, left as it was while the runner took its leases for
        fresh)."""
        with self._changed:
            return [claim for _, _, claim in self._heap]

    def start_due(self, stopping: Callable[[], bool], queue: Callable[[list[Claim]], None]) -> int:
        """Hand the claims due by now to `queue`, after one read of their jobs; withdraw those
        whose job changed since the claim. Nothing once `stopping`. Return how many were due;
        on an error (the database is away) they stay held and it propagates."""
        with self._changed:
            if not self._heap or stopping():
                return 0
            now = self.clock.now()
            due = []
            while self._heap and self._heap[0][0] <= now:
                due.append(heapq.heappop(self._heap))
            if not due:
                return 0
            claims = [claim for _, _, claim in due]
            try:
                changed = self.ahead.changed(claims)
                if changed:
                    self.ahead.withdraw(changed, self.worker_id, self.clock.now())
            except BaseException:
                for item in due:
                    heapq.heappush(self._heap, item)
                raise
            if changed:
                logger.info(
                    "%d run(s) claimed ahead not started: their job changed before they were due",
                    len(changed),
                )
            withdrawn = {claim.run_id for claim in changed}
            queue([claim for claim in claims if claim.run_id not in withdrawn])
            return len(claims)

    def withdraw_all(self) -> None:
        """Withdraw every claim held (the worker stops: their jobs are due at them again, for
        any worker); on an error they stay held and it propagates."""
        with self._changed:
            if self._heap:
                self.ahead.withdraw(self.claims(), self.worker_id, self.clock.now())
                self._heap = []

    def start_on_time(self, stop: threading.Event, start: Callable[[], object]) -> None:
        """Call `start` (which calls start_due) from a thread of their own as each claim falls
        due, until `stop` is set."""
        self._thread = threading.Thread(
            target=self._run, args=(stop, start), name="cronbase-on-time", daemon=True
        )
        self._thread.start()

    def join(self) -> None:
        """Wait for the thread `start_on_time` began to end, once `stop` is set."""
        if self._thread is not None:
            with self._changed:
                self._changed.notify()
            self._thread.join()

    def _run(self, stop: threading.Event, start: Callable[[], object]) -> None:
        failures = 0
        while not stop.is_set():
            with self._changed:
                wait = LOOK_SECONDS
                if self._heap:
                    wait = min((self._heap[0][0] - self.clock.now()).total_seconds(), wait)
                if wait > 0:
                    self._changed.wait(wait)
                    continue
            try:
                start()
                failures = 0
            except Exception:  # logged; the claims stay held for the next try
                failures += 1
                retry = min(LOOK_SECONDS * 2 ** min(failures - 1, 8), MAX_RETRY_SECONDS)
                logger.exception(
                    "starting the runs claimed ahead failed (%d in a row); retrying in %.2fs",
                    failures,
                    retry,
                )
                stop.wait(retry)
