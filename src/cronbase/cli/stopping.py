"""Stopping on SIGINT or SIGTERM, in two steps: `cronbase worker` and `cronbase serve`.

The first signal lets the runs in progress end (up to CRONBASE_SHUTDOWN_GRACE_SECONDS) and the
worker says what it waits for; a second one stops now: the runs still going are recorded
abandoned (and retried if attempts remain). Should even that not finish within
FORCED_EXIT_SECONDS (the database does not answer), the process exits anyway and the runs are
left to their lease: once it lapses, the next worker records them abandoned.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from types import FrameType

from cronbase.runner import Worker

logger = logging.getLogger("cronbase")

SIGNALS = (signal.SIGINT, signal.SIGTERM)
FORCED_EXIT_SECONDS = 5.0
HINT = "; press Ctrl-C again to stop now"


class TwoStepStop:
    """The handler of SIGINT and SIGTERM for a process that runs `worker` (or none)."""

    def __init__(self, worker: Worker | None) -> None:
        self.worker = worker
        self.received = 0
        self.forced_by: int | None = None  # the signal that asked to stop now
        if worker is not None:
            worker.stop_hint = HINT

    @property
    def forced(self) -> bool:
        return self.forced_by is not None

    @property
    def exit_status(self) -> int:
        """0 after a clean stop; after a forced one, 128 + the signal, as a shell reports it."""
        return 0 if self.forced_by is None else 128 + self.forced_by

    def install(self) -> None:
        for signum in SIGNALS:
            signal.signal(signum, self.handle)

    def handle(self, signum: int, _frame: FrameType | None = None) -> bool:
        """The first signal stops after the runs in progress, a second one now; return whether
        to stop now."""
        name = signal.Signals(signum).name
        self.received += 1
        if self.received == 1:
            if self.worker is None:
                logger.info("%s received: stopping", name)
            else:
                logger.info(
                    "%s received: finishing the runs in progress, if any, then stopping", name
                )
                self.worker.stop.set()  # the worker then says what it waits for
            return False
        if not self.forced:
            self.forced_by = signum
            logger.warning("%s received again: stopping now", name)
            if self.worker is not None:
                self.worker.stop.set()
                self.worker.stop_now.set()
            # The worker records its runs abandoned in one transaction; a database that does
            # not answer must not keep the process alive.
            timer = threading.Timer(FORCED_EXIT_SECONDS, self._exit_anyway)
            timer.daemon = True
            timer.start()
        return True

    def _exit_anyway(self) -> None:
        logger.error(
            "still not stopped %g s after being told to stop now: exiting; runs still going "
            "are recorded abandoned once their lease lapses",
            FORCED_EXIT_SECONDS,
        )
        os._exit(self.exit_status)
