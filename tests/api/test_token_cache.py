"""A server remembers who an API token speaks for for CRONBASE_TOKEN_CACHE_SECONDS instead of
reading its row on every request, only while it hears revocations (LISTEN on PostgreSQL): a
revocation by any process is effective at once, also after the listening connection was cut,
and an expiry is checked on every request. Without listening (SQLite) nothing is remembered."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa

from cronbase.api.app import create_app
from cronbase.auth import Role, hash_token, new_token
from cronbase.config import Settings
from cronbase.manager import JobManager
from cronbase.registry import JobRegistry
from cronbase.store import SqlStore
from cronbase.store.tokens import TokenStore
from cronbase.store.wakeups import Listener
from cronbase.testing import FakeClock
from tests.api.conftest import SECRET_KEY, LiveServer

TTL = timedelta(seconds=5)


class Served:
    """A live server, its own JobManager (the one that serves requests) and a client."""

    def __init__(self, url: str, manager: JobManager, revocations: Listener | None) -> None:
        self.url = url
        self.manager = manager
        self.revocations = revocations

    def me(self, token: str) -> int:
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.get(f"{self.url}/api/cron/me", headers=headers, timeout=30).status_code


@pytest.fixture
def served(store: SqlStore, clock: FakeClock, registry: JobRegistry) -> Iterator[Served]:
    settings = Settings(
        database_url=str(store.engine.url),
        token_cache_seconds=TTL.total_seconds(),
        secret_key=None if store.dialect == "sqlite" else SECRET_KEY,
    )
    app = create_app(settings, store=store, clock=clock, registry=registry)
    with LiveServer(app, settings) as url:
        revocations = app.state.revocations
        if store.dialect == "postgresql":  # remembered only once revocations can be heard
            assert revocations.connected.wait(10)
        yield Served(url, app.state.services.manager, revocations)


def test_a_token_revoked_by_the_serving_process_is_refused_at_once(served: Served) -> None:
    token, info = served.manager.create_token("ops@x.test", Role.SUPERADMIN, None)
    assert served.me(token) == 200  # now remembered
    assert served.manager.revoke_token(info.id)
    assert served.me(token) == 401


def _refused_within(served: Served, token: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while served.me(token) != 401:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_a_token_revoked_by_another_process_is_refused_at_once(
    served: Served, store: SqlStore, registry: JobRegistry, clock: FakeClock
) -> None:
    """The fake clock never moves, so the cache's time never runs out: on PostgreSQL only the
    revocation's NOTIFY can end the token's welcome; on SQLite it was never remembered."""
    elsewhere = JobManager(store, registry, clock)  # as `cronbase token revoke` would
    token, info = elsewhere.create_token("ops@x.test", Role.SUPERADMIN, None)
    assert served.me(token) == 200
    assert served.me(token) == 200
    remembered = served.manager.token_cache.get(hash_token(token), clock.now())
    assert (remembered is not None) == (store.dialect == "postgresql")
    assert elsewhere.revoke_token(info.id)
    assert _refused_within(served, token, 10)


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)  # listening is PG's
def test_a_revocation_sent_while_the_listening_connection_was_cut_is_not_missed(
    served: Served, store: SqlStore, registry: JobRegistry, clock: FakeClock
) -> None:
    elsewhere = JobManager(store, registry, clock)
    token, info = elsewhere.create_token("ops@x.test", Role.SUPERADMIN, None)
    assert served.me(token) == 200
    assert served.manager.token_cache.get(hash_token(token), clock.now()) is not None
    with store.engine.begin() as conn:
        conn.execute(
            sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": served.revocations.backend_pid}
        )
    assert elsewhere.revoke_token(info.id)  # its NOTIFY may reach no one
    assert _refused_within(served, token, 15)  # forgotten on reconnecting, if not before


def test_an_expiry_is_checked_on_every_request_even_while_remembered(
    served: Served, clock: FakeClock
) -> None:
    token, _ = served.manager.create_token(
        "ci@x.test", Role.SUPERADMIN, None, expires_in=timedelta(seconds=2)
    )
    assert served.me(token) == 200
    clock.advance(timedelta(seconds=2))  # within the cache time, past the expiry
    assert served.me(token) == 401


def test_a_token_refused_as_unknown_works_as_soon_as_it_is_added(
    served: Served, store: SqlStore
) -> None:
    """Unknown tokens are not remembered, so a refusal does not outlive the token's creation."""
    token = new_token()
    assert served.me(token) == 401
    TokenStore(store.engine).add("new@x.test", Role.SUPERADMIN, None, hash_token(token))
    assert served.me(token) == 200
