"""The dead-man's switch through real processes: with no worker alive, `cronbase serve
--no-worker` alone raises job.overdue, once per episode, to a real webhook receiver; once a
worker starts and runs the job, job.recovered follows."""

from __future__ import annotations

import subprocess
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from cronbase.bootstrap import build
from cronbase.config import Settings
from cronbase.manager import SYSTEM
from cronbase.store import SqlStore
from tests.acceptance.cli import add_job, cli_command, cli_env, free_port
from tests.acceptance.processes import end
from tests.api.conftest import SECRET_KEY
from tests.helpers import wait_until
from tests.receivers import WebhookReceiver

FAST = {"CRONBASE_OVERDUE_CHECK_SECONDS": "0.5", "CRONBASE_ALLOW_PRIVATE_WEBHOOKS": "1"}


def _key(store: SqlStore) -> dict[str, str]:
    """The channel secrets' key: a SQLite file's key file is found beside it."""
    return {} if store.dialect == "sqlite" else {"CRONBASE_SECRET_KEY": SECRET_KEY}


def _start(args: list[str], env: dict[str, str], log: object) -> subprocess.Popen[str]:
    return subprocess.Popen(cli_command(*args), env=env, stdout=log, stderr=log, text=True)  # type: ignore[arg-type]


def _events(receiver: WebhookReceiver) -> Counter[str]:
    return Counter(r.payload["event"] for r in receiver.delivered())


@pytest.mark.timeout(240)
def test_serve_without_a_worker_raises_job_overdue_once_and_a_worker_brings_recovery(
    store: SqlStore, database_url: str
) -> None:
    receiver = WebhookReceiver()
    env = cli_env(database_url, **FAST, **_key(store))
    settings = Settings(
        database_url=database_url,
        allow_private_webhooks=True,
        **({} if store.dialect == "sqlite" else {"secret_key": SECRET_KEY}),
    )
    made = build(settings, store=store, functions=False).manager.channels.create(
        {
            "name": "ops",
            "kind": "webhook",
            "url": receiver.url,
            "events": ["job.overdue", "job.recovered"],
        },
        SYSTEM,
    )
    assert made.secret is not None
    receiver.secrets = [made.secret]
    # Its run was due 15 minutes ago and nothing ran it: overdue after 60 s of grace.
    add_job(
        store,
        "Nightly export",
        next_run=datetime.now(UTC) - timedelta(minutes=15),
        overdue_after_seconds=60,
    )
    port = free_port()
    with tempfile.TemporaryFile("w+") as log:
        server = _start(["serve", "--no-worker", "--port", str(port)], env, log)
        worker = None
        try:
            wait_until(
                lambda: _events(receiver)["job.overdue"] == 1,
                what="job.overdue delivered by the API server alone",
                timeout=60,
                interval=0.1,
                state=lambda: [(r.answered, r.payload.get("event")) for r in receiver.received],
            )
            assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
            [alert] = receiver.delivered()
            assert alert.verified_with == [made.secret]  # signed with the channel's secret
            assert alert.payload["job"]["name"] == "Nightly export"
            assert alert.payload["overdue"]["overdue_after_seconds"] == 60
            assert alert.payload["overdue"]["late_seconds"] >= 15 * 60
            time.sleep(3)  # six more looks: the same episode raises nothing more
            assert _events(receiver) == Counter({"job.overdue": 1})

            worker = _start(["worker"], env, log)  # a worker comes back and runs the job
            wait_until(
                lambda: _events(receiver)["job.recovered"] == 1,
                what="job.recovered after the worker ran the job",
                timeout=60,
                interval=0.1,
            )
            time.sleep(2)
            assert _events(receiver) == Counter({"job.overdue": 1, "job.recovered": 1})
            [recovered] = [r for r in receiver.delivered() if r.payload["event"] == "job.recovered"]
            assert recovered.payload["run"]["status"] == "succeeded"
            assert recovered.payload["alerting_since"] is not None
        except BaseException:
            log.seek(0)
            print(log.read()[-5000:])  # noqa: T201 - pytest shows it with the failure
            raise
        finally:
            end([server] if worker is None else [worker, server])
            receiver.close()
