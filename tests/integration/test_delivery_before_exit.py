"""What `cronbase run-due` delivers before it exits (Deliverer.deliver_before_exit), on both
databases: every notification due, round after round while rounds come back full, and no
round started once one attempt's timeout has passed, so a crontab entry never hangs."""

from __future__ import annotations

from datetime import timedelta

from cronbase.notify.deliverer import Deliverer
from cronbase.notify.events import test_event as channel_test_event
from cronbase.notify.model import Attempt, Channel, ChannelKind, Notification, NotificationStatus
from cronbase.notify.sealing import SecretBox
from cronbase.store import SqlStore
from cronbase.testing import FakeClock

BATCH = 3


def _deliverer(store: SqlStore, clock: FakeClock, sent: list[str], seconds: float) -> Deliverer:
    def send(_channel: Channel, notification: Notification, _timeout: float) -> Attempt:
        sent.append(str(notification.id))
        clock.advance(timedelta(seconds=seconds))  # each attempt takes this long
        return Attempt(204, None, int(seconds * 1000))

    return Deliverer(
        store,
        clock,
        SecretBox(list),
        {ChannelKind.WEBHOOK: send},
        owner="run-due",
        timeout=10.0,
        batch=BATCH,
    )


def _queue(store: SqlStore, clock: FakeClock, count: int) -> None:
    channel = store.insert_channel(
        {"name": "ops", "kind": "webhook", "url": "https://example.com/h", "events": ["run.failed"]}
    )
    for _ in range(count):
        # Leased until now: due at once, as a new notification is.
        store.add_notification(
            channel.id, channel_test_event("ops", clock.now()), "nobody", clock.now()
        )


def test_every_due_notification_goes_out_in_rounds(store: SqlStore, clock: FakeClock) -> None:
    _queue(store, clock, 2 * BATCH + 1)
    sent: list[str] = []
    deliverer = _deliverer(store, clock, sent, seconds=0.1)
    try:
        assert deliverer.deliver_before_exit() == 2 * BATCH + 1
    finally:
        deliverer.close()
    assert len(set(sent)) == 2 * BATCH + 1
    statuses = {n.status for n in store.list_notifications(limit=50)}
    assert statuses == {NotificationStatus.DELIVERED}


def test_no_round_starts_once_the_timeout_has_passed(store: SqlStore, clock: FakeClock) -> None:
    _queue(store, clock, 10 * BATCH)
    sent: list[str] = []
    deliverer = _deliverer(store, clock, sent, seconds=4.0)  # a round of 3 takes 12 s > 10 s
    try:
        assert deliverer.deliver_before_exit() == BATCH
    finally:
        deliverer.close()
    left = [n for n in store.list_notifications(limit=50) if n.status == "pending"]
    assert len(left) == 9 * BATCH  # for the next process that delivers
