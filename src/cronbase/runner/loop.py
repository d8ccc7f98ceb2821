"""The worker loop: run jobs as they fall due, sleep in between, stop cleanly when asked."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from datetime import datetime

from cronbase.clock import Clock
from cronbase.notify.deliverer import DeliveryLoop
from cronbase.notify.overdue_check import OverdueCheck
from cronbase.runner.policy import CLAIM_EARLY_SECONDS
from cronbase.runner.pruning import Pruner
from cronbase.runner.runner import Runner
from cronbase.runner.search_refresh import SearchRefresher
from cronbase.store.wakeups import Listener
from cronbase.store.workers import WorkerStore

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 1.0
# While sleeping on wake-ups, look at `stop` this often (a notification ends the sleep at once).
STOP_LOOK_SECONDS = 0.25
NAMES_SHOWN = 5  # jobs named in the "stopping" line; the rest are counted


class Worker:
    """Runs a Runner's control loop until `stop` is set, registered in cron_worker.

    Between turns it sleeps until the earliest next_run, but never longer than `max_sleep`
    seconds, so jobs created or edited by other processes are picked up soon after. With a
    `listener` (PostgreSQL's LISTEN, see store/wakeups.py) such a change ends the sleep at
    once; polling every `max_sleep` stays, for when the listening connection is down. On stop it
    claims nothing more, gives back the claims that had not started, and gives the runs in
    progress `grace` seconds to end; `stop_now` (set with `stop`) cuts that wait short. Runs
    still going then are recorded abandoned (and retried if attempts remain).

    With a `pruner`, each turn also does its share of the run-history retention (see
    Pruner): after the due runs are claimed, and within the time left before the next is due.
    With a `refresher`, it keeps the jobs list's copy of last runs up to date (a pass every few
    seconds, by one worker of the fleet at a time, put off while it claims a burst; see
    SearchRefresher).
    """

    def __init__(
        self,
        runner: Runner,
        clock: Clock,
        *,
        max_sleep: float = 5.0,
        grace: float = 30.0,
        pruner: Pruner | None = None,
        refresher: SearchRefresher | None = None,
        overdue: OverdueCheck | None = None,
        deliveries: DeliveryLoop | None = None,
        listener: Listener | None = None,
        claim_early: float = CLAIM_EARLY_SECONDS,
    ) -> None:
        self.runner = runner
        self.listener = listener
        if listener is not None:  # a wake-up also ends a wait for runs to end
            listener.on_wake = runner.threads.nudge
        self.claim_early = claim_early  # seconds; runs due within it are claimed ahead
        self.pruner = pruner
        self.refresher = refresher
        self.overdue = overdue  # the dead-man's switch: every worker looks now and then
        # Notifications are delivered on a thread of their own while the worker runs, so a
        # slow receiver never holds up a job.
        self.deliveries = deliveries
        self.clock = clock
        self.max_sleep = max_sleep
        self.grace = grace
        self.stop = runner.stop  # one stop condition, the runner's: setting it stops both
        self.stop_now = threading.Event()  # stop waiting for the runs in progress
        self.stop_hint = ""  # ends the "stopping" line: how to stop now (the CLI's Ctrl-C)
        self.registry = WorkerStore(runner.store.engine)
        self._failures = 0  # failed turns in a row
        self._thread: threading.Thread | None = None
        self._last_heartbeat: float | None = None

    def start(self) -> None:
        """Run in a thread of its own (the API's embedded worker); `join` waits for its end."""
        self._thread = threading.Thread(target=self.run, name="cronbase-worker", daemon=True)
        self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the thread `start` began to end (return at once if there is none)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def tick(self) -> float:
        """One turn: run what is due; return how long to wait before the next turn."""
        try:
            taken = self.runner.step(self.clock.now(), ahead=self.claim_early)
            self._heartbeat()
            if self.overdue is not None:
                self.overdue.maybe()
            # While runs go on the runner says when to look again; only an idle worker asks
            # the database when the next job falls due.
            earliest = None if taken or self.runner.busy else self.runner.store.earliest_next_run()
        except Exception:  # noqa: BLE001 - logged by _failed
            # A lost database connection must not kill the worker: log, wait, try again, and
            # keep the results of runs that ended meanwhile (the runner holds them).
            return self._failed("turn of the worker loop failed")
        self._failures = 0
        if self.refresher is not None:
            # A burst: this turn claimed, or every thread is taken (claims may wait for one).
            self.refresher.turn(claiming=bool(taken) or self.runner.threads.free == 0)
        if taken and not self.runner.busy:
            return 0.0  # it took slots that did not run (missed, skipped): look again at once
        wait = self.max_sleep
        if earliest is not None:
            wait = min(self._until(earliest), wait)
        if self.runner.busy:
            wait = min(wait, self.runner.max_wait())
        return self._prune(wait, busy=bool(taken) or self.runner.busy)

    def _until(self, earliest: datetime) -> float:
        """How long to sleep before the turn that takes the run due at `earliest`: until
        `claim_early` before it, to claim it ahead (the runner then holds it until due)."""
        left = (earliest - self.clock.now()).total_seconds()
        if left > self.claim_early:
            return left - self.claim_early
        # Due within the window but not claimed (held by another worker, or it came in since
        # the claim): look again at the instant. A short floor keeps a job that is due but
        # held by another worker from spinning us.
        return left if left > 0 else 0.1

    def _prune(self, wait: float, *, busy: bool) -> float:
        """Prune within the turn; return what is left of `wait`."""
        if self.pruner is None:
            return wait
        start = self.clock.monotonic()
        batches = self.pruner.turn(busy=busy, until_due=wait)
        if batches and self.pruner.in_pass and not busy:
            return 0.0  # more to prune: the next turn looks for due jobs, then goes on
        return max(wait - (self.clock.monotonic() - start), 0.0)

    def _heartbeat(self) -> None:
        # Once a second is plenty for "is this worker alive?", and costs a write.
        now = self.clock.monotonic()
        if self._last_heartbeat is None or now - self._last_heartbeat >= HEARTBEAT_SECONDS:
            self.registry.heartbeat(self.runner.worker_id, self.clock.now())
            self._last_heartbeat = now

    def _failed(self, what: str) -> float:
        """Log a failed turn; return how long to wait before the next: from 0.25 s, doubling
        with each failure in a row, up to max_sleep."""
        self._failures += 1
        wait = min(0.25 * 2 ** min(self._failures - 1, 16), self.max_sleep)
        logger.exception(
            "%s (%d in a row, %d result(s) kept to record later); retrying in %.2fs",
            what,
            self._failures,
            self.runner.unrecorded,
            wait,
        )
        return wait

    def run(self) -> None:
        """Loop until `stop` is set, then let the runs in progress end (up to `grace`)."""
        worker_id = self.runner.worker_id
        host, pid = socket.gethostname(), os.getpid()
        while not self.stop.is_set():  # a worker may start before its database is up
            try:
                self.registry.register(
                    worker_id, host, pid, self.clock.now(), threads=self.runner.threads.size
                )
                break
            except Exception:  # noqa: BLE001 - logged by _failed
                self.stop.wait(self._failed("registering the worker failed"))
        logger.info("worker %s started", worker_id)
        if self.deliveries is not None:
            self.deliveries.start()
        if self.listener is not None:
            self.listener.start()
        # Runs claimed ahead start at their instants, whatever the loop is doing then.
        self.runner.start_on_time()
        while not self.stop.is_set():
            if self.listener is not None:
                self.listener.wake.clear()  # a notification from now on ends the next sleep
            wait = self.tick()
            logger.debug("waiting %.3fs", wait)
            if self.runner.busy:
                self._wait_for_runs(min(wait, 0.5))
            else:
                self._sleep(wait)
        if self.listener is not None:
            self.listener.close()
        self.runner.join_on_time()
        self._drain()
        self.runner.log_tally()
        if self.deliveries is not None:
            # An attempt in progress ends within its timeout; one cut short is sent again
            # by another process once its lease lapses.
            self.deliveries.close(timeout=self.deliveries.deliverer.timeout)
        try:
            self.registry.stopped(worker_id, self.clock.now())
        except Exception:
            logger.exception("could not record the worker as stopped; it will look dead soon")
        logger.info("worker %s stopped", worker_id)

    def _sleep(self, seconds: float) -> None:
        """Sleep until `seconds` pass, `stop` is set or (with a listener) a wake-up comes."""
        if self.listener is None:
            self.stop.wait(seconds)
            return
        deadline = time.monotonic() + seconds  # a real wait, as stop.wait's
        while not self.stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0 or self.listener.wake.wait(min(left, STOP_LOOK_SECONDS)):
                return

    def _wait_for_runs(self, timeout: float) -> None:
        # Wake as soon as a run ends (to refill its slot), but look at `stop` often.
        try:
            self.runner.wait(timeout)
        except Exception:  # noqa: BLE001 - logged by _failed
            # The database is gone while recording results: they stay with the runner until
            # it is back. Keep the worker alive meanwhile.
            self.stop.wait(self._failed("recording finished runs failed"))

    def _drain(self) -> None:
        try:
            self.runner.release_queued()
        except Exception:
            logger.exception("could not give back the claims that had not started")
        self._say_stopping()
        deadline = self.clock.monotonic() + self.grace
        while self.runner.busy and not self.stop_now.is_set() and self.clock.monotonic() < deadline:
            self._wait_for_runs(min(0.5, max(deadline - self.clock.monotonic(), 0)))
        if self.runner.busy:
            self._give_up()

    def _say_stopping(self) -> None:
        names = self.runner.running_jobs()
        if not names:
            logger.info("stopping: no run in progress")
            return
        shown = ", ".join(names[:NAMES_SHOWN])
        if len(names) > NAMES_SHOWN:
            shown += f" and {len(names) - NAMES_SHOWN} more"
        logger.warning(
            "stopping: waiting up to %g s for %d %s in progress (%s)%s",
            self.grace,
            len(names),
            "run" if len(names) == 1 else "runs",
            shown,
            self.stop_hint,
        )

    def _give_up(self) -> None:
        """Record the runs still going as abandoned (and retry them if attempts remain). Their
        threads go with the process; a job's child process is killed."""
        why = (
            "when told to stop now"
            if self.stop_now.is_set()
            else f"after {self.grace:g} s of grace"
        )
        try:
            given_up = self.runner.give_up(why)
        except Exception:
            logger.exception("could not record the unfinished runs; their leases will lapse")
            return
        if given_up:
            logger.warning("%d run(s) still going %s, recorded abandoned", given_up, why)
