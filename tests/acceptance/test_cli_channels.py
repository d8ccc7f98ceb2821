"""`cronbase channels ...` as a user runs it: in a subprocess, against a real database and a
real receiver."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta

import pytest

from cronbase.store import SqlStore
from tests.acceptance.cli import YEARLY, cli_command, cli_env
from tests.acceptance.conftest import Cli
from tests.api.conftest import SECRET_KEY
from tests.receivers import WebhookReceiver


@pytest.fixture
def key(store: SqlStore) -> dict[str, str]:
    """PostgreSQL needs CRONBASE_SECRET_KEY (a SQLite file gets a key file beside it); the
    tests' receiver is on loopback."""
    env = {"CRONBASE_ALLOW_PRIVATE_WEBHOOKS": "1"}
    return env if store.dialect == "sqlite" else {**env, "CRONBASE_SECRET_KEY": SECRET_KEY}


def test_add_list_test_and_delete_a_webhook_channel(
    cli: Cli, key: dict[str, str], receiver: WebhookReceiver
) -> None:
    added = cli("channels", "add", "--name", "Ops", "--url", receiver.url, **key)
    assert added.returncode == 0, added.stderr
    secret = added.stdout.strip()
    assert secret.startswith("whsec_")
    assert "shown only once" in added.stderr
    receiver.secrets = [secret]

    listed = cli("channels", "list", "--json", **key)
    [channel] = json.loads(listed.stdout)
    assert (channel["name"], channel["tenant_id"], channel["url"]) == ("Ops", None, receiver.url)
    assert secret not in listed.stdout
    assert "Ops" in cli("channels", "list", **key).stdout

    tested = cli("channels", "test", channel["id"], **key)
    assert tested.returncode == 0, tested.stderr
    assert tested.stdout.startswith("delivered: HTTP 204")
    [request] = receiver.received
    assert request.verified_with == [secret]
    [delivery] = json.loads(cli("channels", "deliveries", channel["id"], "--json", **key).stdout)
    assert (delivery["event"], delivery["status_code"]) == ("channel.test", 204)
    assert delivery["notification_id"] == request.webhook_id
    shown = cli("channels", "deliveries", channel["id"], **key).stdout
    assert shown.split()[:2] == ["ATTEMPTED", "AT"]
    assert "channel.test" in shown
    assert "HTTP 204" in shown
    assert "delivered" in shown

    rotated = cli("channels", "rotate-secret", channel["id"], **key)
    assert rotated.returncode == 0, rotated.stderr
    receiver.secrets = [rotated.stdout.strip()]
    assert cli("channels", "test", channel["id"], **key).returncode == 0
    assert receiver.received[-1].verified_with == receiver.secrets

    deleted = cli("channels", "delete", channel["id"], **key)
    assert deleted.returncode == 0, deleted.stderr
    assert json.loads(cli("channels", "list", "--json", **key).stdout) == []
    gone = cli("channels", "test", channel["id"], **key)
    assert gone.returncode == 2
    assert f"no notification channel with id {channel['id']}" in gone.stderr


def test_a_test_that_fails_says_why_and_exits_1(
    cli: Cli, key: dict[str, str], receiver: WebhookReceiver
) -> None:
    url = receiver.url
    receiver.close()
    added = cli("channels", "add", "--name", "Down", "--url", url, **key)
    [channel] = json.loads(cli("channels", "list", "--json", **key).stdout)
    assert added.returncode == 0
    tested = cli("channels", "test", channel["id"], **key)
    assert tested.returncode == 1
    assert "not delivered: ConnectError" in tested.stderr


def test_update_a_channel_mute_it_and_unmute_it(
    cli: Cli, key: dict[str, str], store: SqlStore
) -> None:
    job = store.insert_job({"name": "Nightly", "function_name": "echo", "schedule": YEARLY})
    url = "http://127.0.0.1:9/hook"
    assert cli("channels", "add", "--name", "Ops", "--url", url, **key).returncode == 0
    [channel] = json.loads(cli("channels", "list", "--json", **key).stdout)
    changes = ("--name", "Pager", "--events", "run.failed,job.overdue", "--job-id", str(job.id))
    updated = cli("channels", "update", channel["id"], *changes, "--mute-for", "8h", **key)
    assert updated.returncode == 0, updated.stderr
    assert "Pager" in updated.stdout
    assert "1 job(s); muted until " in updated.stdout
    [changed] = json.loads(cli("channels", "list", "--json", **key).stdout)
    assert (changed["name"], changed["url"]) == ("Pager", url)
    assert (changed["events"], changed["job_ids"]) == (["run.failed", "job.overdue"], [str(job.id)])
    muted = datetime.fromisoformat(changed["muted_until"]) - datetime.now(UTC)
    assert timedelta(hours=7, minutes=58) < muted <= timedelta(hours=8)

    naive = cli("channels", "update", channel["id"], "--mute-until", "2030-01-01T08:00", **key)
    assert naive.returncode == 2  # refused as it is read, before anything is checked
    assert naive.stderr.splitlines()[-1].endswith(
        "argument --mute-until: '2030-01-01T08:00' needs a zone or offset, "
        "e.g. 2030-01-01T08:00+01:00 or 2030-01-01T08:00Z"
    )
    bad = ("--url", "ftp://x", "--mute-until", "2020-01-01T08:00:00Z")
    refused = cli("channels", "update", channel["id"], *bad, **key)
    assert refused.returncode == 2
    assert refused.stderr.splitlines()[0] == (
        "error: url: must be an http:// or https:// URL with a host, e.g. "
        "https://example.com/hooks/cron"
    )
    # Aware, but past the year 9999 in UTC: no column holds it.
    late = cli(
        "channels", "update", channel["id"], "--mute-until", "9999-12-31T23:59:59-14:00", **key
    )
    assert late.returncode == 2, late.stderr
    assert late.stderr.startswith("error: muted_until: 9999-12-31T23:59:59-14:00 is not an instant")
    both = cli("channels", "update", channel["id"], "--unmute", "--mute-for", "1h", **key)
    assert both.returncode == 2
    assert "not allowed with argument" in both.stderr
    assert json.loads(cli("channels", "list", "--json", **key).stdout) == [changed]

    unmuted = cli("channels", "update", channel["id"], "--unmute", "--all-jobs", **key)
    assert unmuted.returncode == 0, unmuted.stderr
    assert "every job]" in unmuted.stdout
    assert "muted" not in unmuted.stdout
    [again] = json.loads(cli("channels", "list", "--json", **key).stdout)
    assert (again["muted_until"], again["job_ids"], again["name"]) == (None, None, "Pager")


def test_bad_channels_are_refused_field_by_field(cli: Cli, key: dict[str, str]) -> None:
    refused = cli(
        "channels", "add", "--name", " ", "--url", "ftp://x", "--events", "run.exploded", **key
    )
    assert refused.returncode == 2
    assert refused.stderr.splitlines() == [
        "error: name: must not be blank",
        (
            "error: url: must be an http:// or https:// URL with a host, e.g. "
            "https://example.com/hooks/cron"
        ),
        (
            "error: events: unknown event(s) 'run.exploded'; known: run.failed, "
            "run.timed_out, run.abandoned, run.missed, job.overdue, job.recovered, run.succeeded"
        ),
    ]
    assert json.loads(cli("channels", "list", "--json", **key).stdout) == []


@pytest.mark.postgres
def test_without_a_secret_key_postgresql_says_what_to_set(postgres_url: str) -> None:
    refused = subprocess.run(
        cli_command("channels", "add", "--name", "Ops", "--url", "http://127.0.0.1:9/h"),
        env=cli_env(postgres_url, CRONBASE_ALLOW_PRIVATE_WEBHOOKS="1"),
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode == 2
    assert "CRONBASE_SECRET_KEY, which is not set" in refused.stderr
