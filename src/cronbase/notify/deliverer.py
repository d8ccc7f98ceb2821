"""Delivering the outbox: any cronbase process (a worker, the API server) leases due
notifications, sends each through its channel's sender, records the attempt, and schedules
a retry or gives up.

At least once: a notification is marked delivered only after its receiver answered 2xx, so a
process that dies in between leaves it to be sent again, with the same id, once its lease
lapses. Two processes never hold the same attempt (the lease, taken with SKIP LOCKED).
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta

from cronbase.clock import Clock
from cronbase.errors import ConfigurationError
from cronbase.notify.events import test_event, with_link
from cronbase.notify.model import (
    Attempt,
    Channel,
    ChannelKind,
    Finished,
    Notification,
    NotificationStatus,
)
from cronbase.notify.retry import next_attempt_at
from cronbase.notify.sealing import SecretBox, SecretUnreadable
from cronbase.notify.senders import Sender
from cronbase.store import Store

logger = logging.getLogger(__name__)

# A lease outlasts the send's timeout by this much, so the holder records its attempt before
# anyone else may take the notification over.
LEASE_MARGIN_SECONDS = 5.0
BATCH = 8  # notifications sent at once by one process (each on a thread of its own)
POLL_SECONDS = 1.0  # how often an idle process looks for due notifications
PRUNE_EVERY = timedelta(minutes=10)


class Deliverer:
    """Sends due notifications; `deliver_due` does one round. Safe from many processes."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        box: SecretBox,
        senders: Mapping[ChannelKind, Sender],
        *,
        owner: str,
        timeout: float = 10.0,
        public_url: str | None = None,
        retention: timedelta = timedelta(days=7),
        batch: int = BATCH,
        jitter: Callable[[], float] = random.random,
        on_failure: Callable[[str], None] = lambda _kind: None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.box = box
        self.senders = senders
        self.timeout = timeout
        self.lease = timedelta(seconds=timeout + LEASE_MARGIN_SECONDS)
        self.public_url = public_url
        self.retention = retention
        self.owner = owner  # whose leases: unique per process (host:pid:random)
        self.batch = batch
        self.jitter = jitter
        self.on_failure = on_failure  # told the channel's kind of each attempt that failed
        self._threads = ThreadPoolExecutor(batch, thread_name_prefix="cronbase-notify")

    def close(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)

    def deliver_due(self) -> int:
        """Lease up to `batch` due notifications, send them at once, then record every attempt
        in one transaction; return how many were sent (a full batch: more may be waiting)."""
        claimed = self.store.claim_notifications(
            self.clock.now(), self.owner, self.lease, self.batch
        )
        if claimed:
            tried = list(self._threads.map(lambda pair: self._try(*pair), claimed))
            self.store.finish_attempts(self.owner, tried)
            for finished, (_, channel) in zip(tried, claimed, strict=True):
                self._report(finished, channel)
        return len(claimed)

    def deliver_before_exit(self) -> int:
        """Deliver what is due now, for a process that is about to exit (`cronbase run-due`
        in a system crontab, which has no delivery loop): rounds follow one another while
        they come back full, and none starts after one attempt's timeout, so the wait is
        bounded by about twice the timeout. What is left, and every retry, stays in the
        outbox for the next process that delivers (the next run-due, a worker, the API)."""
        started = self.clock.monotonic()
        sent = 0
        while True:
            count = self.deliver_due()
            sent += count
            if count < self.batch or self.clock.monotonic() - started >= self.timeout:
                return sent

    def send_test(self, channel: Channel) -> Attempt:
        """Send the channel a test message now, recorded in its deliveries; never retried."""
        now = self.clock.now()
        event = test_event(channel.name, now)
        notification = self.store.add_notification(channel.id, event, self.owner, now + self.lease)
        finished = self._try(notification, channel, retry=False)
        self.store.finish_attempts(self.owner, [finished])
        self._report(finished, channel)
        return finished.attempt

    def prune(self) -> int:
        """Delete delivered and failed notifications older than the retention."""
        return self.store.prune_notifications(self.clock.now() - self.retention)

    def _try(self, notification: Notification, channel: Channel, *, retry: bool = True) -> Finished:
        """One attempt, and what follows it (not recorded yet)."""
        attempted_at = self.clock.now()
        attempt = self._send(notification, channel, attempted_at)
        status, again = self._after(notification, attempt, retry)
        return Finished(notification, attempted_at, attempt, status, again)

    def _report(self, finished: Finished, channel: Channel) -> None:
        if finished.attempt.delivered:
            return
        self.on_failure(channel.kind.value)
        again = finished.next_attempt_at
        logger.warning(
            "notification %s (%s) to channel %r, attempt %d: %s; %s",
            finished.notification.id,
            finished.notification.event,
            channel.name,
            finished.notification.attempts,
            finished.attempt.error,
            f"next attempt at {again:%H:%M:%S}" if again else "giving up",
        )

    def _send(self, notification: Notification, channel: Channel, now: datetime) -> Attempt:
        sender = self.senders.get(channel.kind)
        if sender is None:
            error = f"this cronbase cannot deliver to {channel.kind.value} channels"
            return Attempt(None, error, 0, permanent=True)
        try:
            channel = replace(channel, signing_secrets=self._secrets(channel, now))
        except (SecretUnreadable, ConfigurationError) as exc:
            return Attempt(None, str(exc), 0)
        notification = replace(
            notification, payload=with_link(notification.payload, self.public_url)
        )
        try:
            return sender(channel, notification, self.timeout)
        except Exception as exc:  # a sender's bug must not stop the deliveries of others
            logger.exception("the %s sender failed", channel.kind.value)
            return Attempt(None, f"{type(exc).__name__}: {exc}", 0)

    def _secrets(self, channel: Channel, now: datetime) -> tuple[str, ...]:
        """The channel's secrets in clear: the current one, then the previous one while its
        grace period lasts (receivers that have not switched yet still verify)."""
        sealed = [channel.sealed_secret]
        if channel.previous_secret_until is not None and channel.previous_secret_until > now:
            sealed.append(channel.sealed_previous_secret)
        return tuple(self.box.open(s) for s in sealed if s)

    def _after(
        self, notification: Notification, attempt: Attempt, retry: bool
    ) -> tuple[NotificationStatus, datetime | None]:
        if attempt.delivered:
            return NotificationStatus.DELIVERED, None
        again = None
        if retry and not attempt.permanent:
            again = next_attempt_at(
                notification.created_at, notification.attempts, self.clock.now(), self.jitter()
            )
        return (NotificationStatus.PENDING, again) if again else (NotificationStatus.FAILED, None)


class DeliveryLoop:
    """Runs a Deliverer in a thread of its own until stopped: delivers what is due, prunes
    old notifications every PRUNE_EVERY, and otherwise waits POLL_SECONDS."""

    def __init__(self, deliverer: Deliverer, *, poll: float = POLL_SECONDS) -> None:
        self.deliverer = deliverer
        self.poll = poll
        self.stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pruned: float | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="cronbase-deliveries", daemon=True)
        self._thread.start()

    def close(self, timeout: float | None = None) -> None:
        """Stop, letting an attempt in progress end (up to `timeout`)."""
        self.stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.deliverer.close()

    def run(self) -> None:
        while not self.stop.is_set():
            wait = self.poll
            try:
                self._prune_now_and_then()
                if self.deliverer.deliver_due() == self.deliverer.batch:
                    wait = 0  # a full batch: more may be due
            except Exception:
                # The database may be away: try again later, as the worker loop does.
                logger.exception("delivering notifications failed; retrying in %g s", self.poll)
            self.stop.wait(wait)

    def _prune_now_and_then(self) -> None:
        now = self.deliverer.clock.monotonic()
        if self._pruned is None or now - self._pruned >= PRUNE_EVERY.total_seconds():
            self._pruned = now
            pruned = self.deliverer.prune()
            if pruned:
                logger.info("pruned %d delivered or failed notification(s)", pruned)
