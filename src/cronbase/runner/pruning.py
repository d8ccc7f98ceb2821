"""The pruner: a worker's share of run-history retention, a batch at a time (cronbase.retention
says how old runs may get and when to prune; the store says which rows may go and holds the
fleet's lock, so that one pruner works at a time)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from cronbase import retention
from cronbase.clock import Clock
from cronbase.store import Store
from cronbase.store.retention import RunKey

logger = logging.getLogger(__name__)


class Pruner:
    """Deletes a worker's batches of old runs, between its turns of running jobs.

    `retention_days` is CRONBASE_RUN_RETENTION_DAYS (None: the database's own setting decides,
    read at the start of each pass). A pass fixes its cutoff when it starts, then walks the
    history oldest first, one short transaction per batch.
    """

    def __init__(
        self,
        store: Store,
        clock: Clock,
        holder: str,
        *,
        retention_days: float | None = None,
        batch_size: int = retention.BATCH_SIZE,
        cadence: retention.Cadence | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.holder = holder
        self.retention_days = retention_days
        self.batch_size = batch_size
        self.cadence = cadence or retention.Cadence()
        self._before: datetime | None = None  # the cutoff of the pass in progress
        self._after: RunKey | None = None
        self._deleted = 0  # by the pass in progress
        self._batch_seconds = 0.0  # about how long a batch takes

    @property
    def in_pass(self) -> bool:
        return self._before is not None

    def max_age(self) -> timedelta | None:
        stored = None
        if self.retention_days is None:
            stored = self.store.stored_setting(retention.SETTING)
        return retention.max_age(self.retention_days, stored)

    def turn(self, *, busy: bool, until_due: float = 0.0) -> int:
        """Prune if it is time: the batches the cadence allows this turn. Return how many were
        done. Never raises: a failure is logged and the pass given up."""
        start = self.clock.monotonic()
        if not self.cadence.due(start, in_pass=self.in_pass, busy=busy):
            return 0
        try:
            return self._batches(start, busy, until_due)
        except Exception:  # pruning must never stop a worker
            logger.exception("pruning the run history failed; trying again in the next pass")
            self._end_pass()
            return 1

    def _batches(self, start: float, busy: bool, until_due: float) -> int:
        if self._before is None:
            age = self.max_age()
            if age is None:
                self.cadence.rest(start)  # keep every run; look at the setting again later
                return 0
            self._before = self.clock.now() - age
        done = 0
        while self.cadence.another_batch(
            busy=busy,
            done=done,
            elapsed=self.clock.monotonic() - start,
            batch_seconds=self._batch_seconds,
            until_due=until_due,
        ):
            began = self.clock.monotonic()
            batch = self.store.prune_runs(
                before=self._before,
                after=self._after,
                limit=self.batch_size,
                holder=self.holder,
                now=self.clock.now(),
            )
            # A slow batch counts at once; a fast one lowers the estimate gradually.
            self._batch_seconds = max(self.clock.monotonic() - began, 0.8 * self._batch_seconds)
            done += 1
            if batch is None:
                logger.debug("another worker is pruning the run history")
                self._end_pass()
                return done
            self._deleted += batch.deleted
            if batch.next_after is None:
                self._finish()
                return done
            self._after = batch.next_after
        self.cadence.more_to_do(self.clock.monotonic())
        return done

    def _finish(self) -> None:
        if self._deleted:
            logger.info(
                "pruned %d run(s) with slots before %s", self._deleted, self._before.isoformat()
            )
        self.store.end_pruning(self.holder, self.clock.now())
        self._end_pass()

    def _end_pass(self) -> None:
        self._before, self._after, self._deleted = None, None, 0
        self.cadence.rest(self.clock.monotonic())
