"""The dead-man's switch at work: look for overdue jobs now and then and raise job.overdue.

Every worker looks, in its loop; so does every API server that runs no worker (`cronbase
serve --no-worker`), on a thread of its own, so that an alert goes out when no worker is
alive at all. Whoever looks first raises an episode; the store keeps it to one.
"""

from __future__ import annotations

import logging
import threading

from cronbase.clock import Clock
from cronbase.store import Store

logger = logging.getLogger(__name__)


class OverdueCheck:
    """Raises job.overdue (store.raise_overdue) at most once every `every` seconds."""

    def __init__(self, store: Store, clock: Clock, *, every: float) -> None:
        self.store = store
        self.clock = clock
        self.every = every
        self._last: float | None = None

    def maybe(self) -> None:
        """Look, if `every` seconds passed since the last look (the first call looks)."""
        now = self.clock.monotonic()
        if self._last is not None and now - self._last < self.every:
            return
        self._last = now
        for event in self.store.raise_overdue(self.clock.now()):
            overdue = event.payload["overdue"]
            logger.warning(
                "job %s (%s) is overdue: its run of %s has not started after %s s",
                event.payload["job"]["name"],
                event.job_id,
                overdue["next_run"],
                overdue["late_seconds"],
            )


class OverdueWatch:
    """An OverdueCheck on a thread of its own, for a process that runs no worker."""

    def __init__(self, check: OverdueCheck) -> None:
        self.check = check
        self.stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="cronbase-overdue", daemon=True)
        self._thread.start()

    def close(self, timeout: float | None = None) -> None:
        self.stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.check.maybe()
            except Exception:
                # The database may be away: look again later, as the worker loop does.
                logger.exception("looking for overdue jobs failed; trying again later")
            self.stop.wait(self.check.every)
