"""Repeated failed authentication from one address is slowed down with 429, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from cronbase.auth import Role
from cronbase.registry import JobRegistry
from cronbase.store import SqlStore
from cronbase.testing import FakeClock
from tests.api.conftest import _token, serving

MAX_FAILURES = 10
WINDOW_SECONDS = 60


@pytest.fixture
def base_url(store: SqlStore, clock: FakeClock, registry: JobRegistry) -> Iterator[str]:
    with serving(
        store,
        clock,
        registry,
        auth_max_failures=MAX_FAILURES,
        auth_failure_window_seconds=WINDOW_SECONDS,
    ) as url:
        yield url


def client(base_url: str, address: str, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(base_url=base_url, headers=headers, transport=transport, timeout=30)


def test_repeated_failures_from_one_address_get_429_until_the_window_passes(
    base_url: str, store: SqlStore, clock: FakeClock
) -> None:
    token = _token(store, "root@x.test", Role.SUPERADMIN, None)
    with (
        client(base_url, "127.0.0.1", "cb_guess") as guesser,
        client(base_url, "127.0.0.1", token) as guesser_with_token,
        client(base_url, "127.0.0.2", token) as colleague,
        client(base_url, "127.0.0.2", "cb_typo") as colleague_typo,
    ):
        for _ in range(MAX_FAILURES):
            assert guesser.get("/api/cron/jobs").status_code == 401
        limited = guesser.get("/api/cron/jobs")
        assert limited.status_code == 429
        assert 0 < int(limited.headers["retry-after"]) <= WINDOW_SECONDS
        assert limited.json()["status"] == "error"
        assert "failed authentications" in limited.json()["message"]
        # A right guess from that address is not told apart from a wrong one...
        assert guesser_with_token.get("/api/cron/jobs").status_code == 429
        # ...the health checks stay open, and another address is not locked out.
        assert guesser.get("/healthz").status_code == 200
        assert colleague.get("/api/cron/jobs").status_code == 200
        assert colleague_typo.get("/api/cron/jobs").status_code == 401

        clock.advance(timedelta(seconds=WINDOW_SECONDS + 1))
        assert guesser_with_token.get("/api/cron/jobs").status_code == 200
        assert guesser.get("/api/cron/jobs").status_code == 401


def test_requests_without_credentials_do_not_count(base_url: str, store: SqlStore) -> None:
    token = _token(store, "root@x.test", Role.SUPERADMIN, None)
    with (
        client(base_url, "127.0.0.3", None) as signed_out,
        client(base_url, "127.0.0.3", token) as signed_in,
    ):
        for _ in range(3 * MAX_FAILURES):
            assert signed_out.get("/api/cron/me").status_code == 401
        assert signed_in.get("/api/cron/me").status_code == 200
