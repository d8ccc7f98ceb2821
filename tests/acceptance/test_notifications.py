"""Alerts through real `cronbase worker` processes and a real receiver that checks signatures:
one notification per event however many workers race, and nothing lost when a worker is
killed in the middle of a delivery."""

from __future__ import annotations

import subprocess
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta

import pytest

from cronbase.bootstrap import build
from cronbase.config import Settings
from cronbase.manager import SYSTEM
from cronbase.notify.model import NotificationStatus
from cronbase.store import SqlStore
from tests.acceptance.cli import add_job, cli_command, cli_env
from tests.acceptance.conftest import Cli
from tests.acceptance.processes import end
from tests.api.conftest import SECRET_KEY
from tests.helpers import run_history, wait_until
from tests.receivers import WebhookReceiver

JOBS = 60


def key_env(store: SqlStore) -> dict[str, str]:
    """The channel secrets' key for the workers (a SQLite file's key file is found beside it),
    and leave to send to the tests' receiver on loopback."""
    env = {"CRONBASE_ALLOW_PRIVATE_WEBHOOKS": "1"}
    return env if store.dialect == "sqlite" else {**env, "CRONBASE_SECRET_KEY": SECRET_KEY}


def add_channel(store: SqlStore, database_url: str, receiver: WebhookReceiver) -> None:
    """A global webhook channel to `receiver`, made as the API makes one; the receiver learns
    its secret."""
    settings = Settings(
        database_url=database_url, allow_private_webhooks=True, **_settings_key(store)
    )
    services = build(settings, store=store, functions=False)
    made = services.manager.channels.create(
        {"name": "ops", "kind": "webhook", "url": receiver.url}, SYSTEM
    )
    assert made.secret is not None
    receiver.secrets = [made.secret]


def _settings_key(store: SqlStore) -> dict[str, str]:
    return {} if store.dialect == "sqlite" else {"secret_key": SECRET_KEY}


@contextmanager
def workers(count: int, database_url: str, **env: str) -> Iterator[list[subprocess.Popen[str]]]:
    """`count` worker processes, stopped (SIGTERM) at the end; their logs, on a failure."""
    with ExitStack() as stack:
        logs = [stack.enter_context(tempfile.TemporaryFile("w+")) for _ in range(count)]
        processes = [
            subprocess.Popen(
                cli_command("worker"),
                env=cli_env(database_url, **env),
                stdout=subprocess.DEVNULL,
                stderr=log,
                text=True,
            )
            for log in logs
        ]
        try:
            yield processes
        except BaseException:
            for log in logs:
                log.seek(0)
                print(log.read()[-5000:])  # noqa: T201 - pytest shows it with the failure
            raise
        finally:
            end(processes)


@pytest.mark.timeout(300)
def test_four_workers_create_and_deliver_each_alert_exactly_once(
    store: SqlStore, database_url: str
) -> None:
    receiver = WebhookReceiver()
    try:
        add_channel(store, database_url, receiver)
        due = datetime.now(UTC) - timedelta(minutes=1)
        for i in range(JOBS):
            add_job(store, f"failing {i}", "alwaysFails", next_run=due)

        with workers(4, database_url, **key_env(store)):
            wait_until(
                lambda: len(receiver.delivered()) >= JOBS,
                what=f"{JOBS} alerts delivered",
                timeout=180,
                interval=0.2,
                state=lambda: len(receiver.received),
            )
            wait_until(
                lambda: all(n.status == "delivered" for n in store.list_notifications(limit=500)),
                what="every notification marked delivered",
            )

        runs = run_history(store)
        assert len(runs) == JOBS
        assert {run.status for run in runs} == {"failed"}
        notifications = store.list_notifications(limit=500)
        assert sorted(n.run_id for n in notifications) == sorted(run.id for run in runs)
        assert {(n.event, n.attempts) for n in notifications} == {("run.failed", 1)}
        # Each alert reached the receiver once, signed, and carries its own run.
        sent = Counter(r.webhook_id for r in receiver.received)
        assert sorted(sent) == sorted(str(n.id) for n in notifications)
        assert set(sent.values()) == {1}
        assert all(r.verified_with for r in receiver.received)
        assert {r.payload["run"]["id"] for r in receiver.received} == {str(r.id) for r in runs}
    finally:
        receiver.close()


@pytest.mark.timeout(180)
def test_a_worker_killed_mid_delivery_leaves_the_alert_to_another(
    store: SqlStore, database_url: str
) -> None:
    receiver = WebhookReceiver(hold=threading.Event())  # the first request hangs
    try:
        add_channel(store, database_url, receiver)
        add_job(store, "failing", "alwaysFails", next_run=datetime.now(UTC))
        # A short timeout makes a short lease (timeout + 5 s), so the test need not wait long.
        env = {"CRONBASE_NOTIFICATION_TIMEOUT_SECONDS": "2", **key_env(store)}

        with workers(1, database_url, **env) as [doomed]:
            assert receiver.arrived.wait(60), "the first worker never tried to deliver"
            doomed.kill()  # SIGKILL: no chance to record anything
            doomed.wait()
        [notification] = store.list_notifications()
        assert notification.status == NotificationStatus.PENDING
        receiver.hold.set()  # type: ignore[union-attr]

        with workers(1, database_url, **env):
            wait_until(
                lambda: store.list_notifications()[0].status == "delivered",
                what="another worker to deliver the alert once the lease lapsed",
                timeout=60,
            )
        [delivered] = store.list_notifications()
        assert delivered.attempts == 2
        attempts = sorted(store.list_deliveries(delivered.channel_id), key=lambda d: d.attempt)
        assert [(d.attempt, d.status_code) for d in attempts] == [(1, None), (2, 204)]
        assert "stopped before it ended" in (attempts[0].error or "")
        assert {r.webhook_id for r in receiver.received} == {str(delivered.id)}
    finally:
        receiver.close()


def test_run_due_delivers_the_alerts_of_its_round_before_exiting(
    store: SqlStore, database_url: str, cli: Cli, receiver: WebhookReceiver
) -> None:
    """Under a system crontab no worker runs to deliver: run-due sends its own alerts."""
    add_channel(store, database_url, receiver)
    add_job(store, "failing", "alwaysFails")

    ran = cli("run-due", **key_env(store))

    assert ran.returncode == 1, ran.stderr
    [request] = receiver.delivered()
    assert request.verified_with == receiver.secrets
    assert (request.payload["event"], request.payload["job"]["name"]) == ("run.failed", "failing")
    [notification] = store.list_notifications()
    assert (notification.status, notification.attempts) == (NotificationStatus.DELIVERED, 1)


def test_run_due_leaves_an_alert_it_could_not_deliver_to_a_later_retry(
    store: SqlStore, database_url: str, cli: Cli, receiver: WebhookReceiver
) -> None:
    receiver.fail_first = 1
    add_channel(store, database_url, receiver)
    add_job(store, "failing", "alwaysFails")

    ran = cli("run-due", **key_env(store))

    assert ran.returncode == 1, ran.stderr
    assert [r.answered for r in receiver.received] == [500]
    [notification] = store.list_notifications()
    assert (notification.status, notification.attempts) == (NotificationStatus.PENDING, 1)
    assert "next attempt at" in ran.stderr
