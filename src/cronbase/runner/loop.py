"""The worker loop: run due jobs, sleep until the next one, stop cleanly when asked."""

from __future__ import annotations

import logging
import threading

from cronbase.clock import Clock
from cronbase.runner.runner import Runner

logger = logging.getLogger(__name__)


class Worker:
    """Runs `Runner.run_due` as jobs fall due, until `stop` is set.

    It sleeps until the earliest next_run, but never longer than `max_sleep` seconds, so jobs
    created or edited by other processes are picked up soon after.
    """

    def __init__(self, runner: Runner, clock: Clock, *, max_sleep: float = 5.0) -> None:
        self.runner = runner
        self.clock = clock
        self.max_sleep = max_sleep
        self.stop = threading.Event()

    def tick(self) -> float:
        """Run one round of due jobs; return how long to sleep before the next round."""
        try:
            self.runner.run_due(self.clock.now(), should_stop=self.stop.is_set)
            earliest = self.runner.store.earliest_next_run()
        except Exception:
            # A lost database connection must not kill the worker: log, wait, try again.
            logger.exception("round of due jobs failed; retrying in %.0fs", self.max_sleep)
            return self.max_sleep
        if earliest is None:
            return self.max_sleep
        wait = (earliest - self.clock.now()).total_seconds()
        # A short floor keeps a job that is due but held by another worker from spinning us.
        return min(max(wait, 0.1), self.max_sleep)

    def run(self) -> None:
        """Loop until `stop` is set. A run in progress finishes before the loop returns."""
        logger.info("worker %s started", self.runner.worker_id)
        while not self.stop.is_set():
            wait = self.tick()
            logger.debug("sleeping %.2fs", wait)
            self.stop.wait(wait)
        logger.info("worker %s stopped", self.runner.worker_id)
