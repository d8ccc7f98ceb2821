"""API tokens may expire: `cronbase token create --expires-in 90d`, shown in `token list`."""

from __future__ import annotations

from datetime import timedelta

import httpx

from cronbase.auth import Role
from cronbase.manager import JobManager
from cronbase.registry import JobRegistry
from cronbase.store import SqlStore
from cronbase.testing import FakeClock


def test_a_token_works_until_it_expires_then_is_refused(
    base_url: str, store: SqlStore, registry: JobRegistry, clock: FakeClock
) -> None:
    manager = JobManager(store, registry, clock)
    token, info = manager.create_token("ops@x.test", Role.SUPERADMIN, None, timedelta(hours=1))
    assert info.expires_at == clock.now() + timedelta(hours=1)
    headers = {"Authorization": f"Bearer {token}"}

    assert httpx.get(f"{base_url}/api/cron/me", headers=headers).status_code == 200
    clock.advance(timedelta(minutes=59))
    assert httpx.get(f"{base_url}/api/cron/me", headers=headers).status_code == 200
    clock.advance(timedelta(minutes=1))
    refused = httpx.get(f"{base_url}/api/cron/me", headers=headers)
    assert refused.status_code == 401
    assert refused.json()["message"] == "the API token is unknown, revoked or expired"


def test_a_token_without_expiry_keeps_working(
    base_url: str, store: SqlStore, registry: JobRegistry, clock: FakeClock
) -> None:
    manager = JobManager(store, registry, clock)
    token, info = manager.create_token("ops@x.test", Role.SUPERADMIN, None)
    assert info.expires_at is None
    clock.advance(timedelta(days=3650))
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{base_url}/api/cron/me", headers=headers).status_code == 200
