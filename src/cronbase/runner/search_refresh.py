"""The refresher: a worker's share of keeping the jobs list's copy of last_run and last_status
(cron_job_last_run, see store/search.py) up to date, a pass every few seconds between its turns
of running jobs. One process of the fleet makes a pass at a time, and at most one pass is made
per interval whatever the number of workers (the store keeps the mark of the last one)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Protocol

from cronbase.clock import Clock
from cronbase.store.search import RefreshPass

logger = logging.getLogger(__name__)

# Each process compares every job now and then (and at its first pass), which mends what the
# passes in between could not see: a run whose start committed long after its instant, plain
# SQL that renamed a job. About 0.1-0.3 s at 100,000 jobs.
FULL_EVERY_SECONDS = 15 * 60.0
# While a worker claims runs turn after turn (a burst), its passes wait, for up to this many
# intervals: a pass rewrites a row for each job that ran (tens of microseconds each in
# PostgreSQL, 0.6 s for 10,000 jobs on a loaded machine) on the worker's loop, where it would
# hold up the burst's claims. The first turn that claims nothing makes the waiting pass.
BURST_DEFERRAL = 10


class SearchStore(Protocol):
    def refresh_job_search(
        self,
        *,
        holder: str,
        now: datetime,
        every: timedelta,
        full: bool = False,
        before_exit: bool = False,
    ) -> RefreshPass | None: ...


class SearchRefresher:
    """Makes a pass when `every` seconds have gone by since this process's last look."""

    def __init__(self, store: SearchStore, clock: Clock, holder: str, *, every: float) -> None:
        self.store = store
        self.clock = clock
        self.holder = holder
        self.every = every
        self._looked: float | None = None  # monotonic time of the last look
        self._full: float | None = None  # ... and of the last full pass

    def turn(self, *, claiming: bool = False) -> RefreshPass | None:
        """A pass if it is time (None if not, or another process made it). `claiming`: this
        turn of the worker claimed runs, so the pass waits (BURST_DEFERRAL). Never raises: a
        failure is logged and tried again at the next interval."""
        start = self.clock.monotonic()
        if self._looked is not None:
            waited = start - self._looked
            if waited < self.every or (claiming and waited < self.every * BURST_DEFERRAL):
                return None
        self._looked = start
        return self.refresh(full=self._full is None or start - self._full >= FULL_EVERY_SECONDS)

    def refresh(self, *, full: bool = False, before_exit: bool = False) -> RefreshPass | None:
        """One pass now, unless another process made one within the interval (or is making
        one); `before_exit` (a process that ran jobs and exits): one pass whatever the other
        processes do. Never raises."""
        try:
            done = self.store.refresh_job_search(
                holder=self.holder,
                now=self.clock.now(),
                every=timedelta(seconds=self.every),
                full=full,
                before_exit=before_exit,
            )
        except Exception:  # the list's copy must never stop a worker
            logger.exception("refreshing the jobs list's last runs failed; trying again later")
            return None
        if done is not None and done.full:
            self._full = self.clock.monotonic()
        return done
