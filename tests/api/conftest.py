"""A live API: uvicorn serving create_app() on a loopback port, in a thread of the test process.

Requests go through real HTTP (httpx), while the clock and the registry stay injectable.
Callers of every role come ready-made: superadmin, admin of tenant A, admin of tenant B, user.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
import uvicorn

from cronbase.api import create_app
from cronbase.api.server import server_config
from cronbase.auth import Role, hash_token, new_token
from cronbase.builtin import BUILTIN_JOBS
from cronbase.config import Settings
from cronbase.registry import JobContext, JobGroup, JobRegistry
from cronbase.store import SqlStore
from cronbase.store.tokens import TokenStore
from cronbase.testing import FakeClock
from tests.helpers import wait_until

JWT_SECRET = "test-secret-" + "x" * 32
# Channel secrets' key where no key file is made for it (PostgreSQL; SQLite files get one).
SECRET_KEY = "dGVzdC1rZXktb2YtY3JvbmJhc2UtY2hhbm5lbHMtMzI="


# Jobs of the API tests' own: one that succeeds with what it was given, one that fails, one
# that logs (markup included, for the pages that show it) and then fails.
test_jobs = JobGroup()


@test_jobs.job("echo", description="Return the job's metadata.")
def echo(ctx: JobContext) -> dict[str, Any]:
    return {"metadata": ctx.metadata}


@test_jobs.job("boom", description="Always fail.")
def boom(_ctx: JobContext) -> dict[str, Any]:
    raise RuntimeError("boom")


def _lookup(settings: dict[str, str]) -> str:
    return settings["missing"]


@test_jobs.job("logThenFail", description="Log two lines (one of markup), then fail in a helper.")
def log_then_fail(ctx: JobContext) -> dict[str, Any]:
    ctx.logger.info('reading <b>settings</b> <img src=x onerror="window.pwned=1">')
    ctx.logger.warning("no settings for tenant %s", ctx.tenant_id)
    _lookup({})
    return {}


def api_registry() -> JobRegistry:
    """A registry of the tests' own: the built-in jobs plus `echo`, `boom` and `logThenFail`."""
    return JobRegistry(BUILTIN_JOBS, test_jobs)


@pytest.fixture
def registry() -> JobRegistry:
    return api_registry()


class LiveServer:
    """The server `cronbase serve` runs (its protocol and limits from `settings`) on a free port."""

    def __init__(self, app: Any, settings: Settings | None = None) -> None:
        config = server_config(
            app,
            settings or Settings(),
            host="127.0.0.1",
            port=0,
            log_level="warning",
            lifespan="on",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        wait_until(
            lambda: self.server.started or not self.thread.is_alive(),
            what="the test server to start",
            timeout=10,
            interval=0.01,
        )
        if not self.server.started:
            raise RuntimeError("the test server did not start: its thread ended")
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@contextmanager
def serving(
    store: SqlStore, clock: FakeClock, registry: JobRegistry, **settings: Any
) -> Iterator[str]:
    """The URL of a live server of the app built with these settings, the test's store, clock
    and registry."""
    if store.dialect != "sqlite":  # a SQLite file gets a key file beside it
        settings.setdefault("secret_key", SECRET_KEY)
    settings.setdefault("allow_private_webhooks", True)  # the tests' receivers are local
    config = Settings(database_url=str(store.engine.url), **settings)
    app = create_app(config, store=store, clock=clock, registry=registry)
    with LiveServer(app, config) as url:
        yield url


@pytest.fixture
def base_url(store: SqlStore, clock: FakeClock, registry: JobRegistry) -> Iterator[str]:
    # Tests of refusals send many bad tokens from one address; the failed-sign-in limit has
    # its own tests (test_signin_limit.py) and is lifted here.
    with serving(store, clock, registry, jwt_secret=JWT_SECRET, auth_max_failures=100_000) as url:
        yield url


@dataclass
class Tenants:
    a: uuid.UUID
    b: uuid.UUID


@pytest.fixture
def tenants(store: SqlStore) -> Tenants:
    return Tenants(a=store.insert_tenant("Tenant A"), b=store.insert_tenant("Tenant B"))


def _token(store: SqlStore, email: str, role: Role, tenant_id: uuid.UUID | None) -> str:
    token = new_token()
    TokenStore(store.engine).add(email, role, tenant_id, hash_token(token))
    return token


@dataclass
class Callers:
    """An httpx client per kind of caller, all pointed at the live server."""

    superadmin: httpx.Client
    admin_a: httpx.Client
    admin_b: httpx.Client
    user: httpx.Client
    anonymous: httpx.Client
    bad_token: httpx.Client
    expired_jwt: httpx.Client
    jwt_admin_a: httpx.Client


def make_jwt(claims: dict[str, Any], secret: str = JWT_SECRET) -> str:
    return jwt.encode(claims, secret, algorithm="HS256")


@pytest.fixture
def callers(base_url: str, store: SqlStore, tenants: Tenants) -> Iterator[Callers]:
    def client(token: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=base_url, headers=headers, timeout=30)

    expired = make_jwt(
        {
            "sub": "old@a.test",
            "role": "admin",
            "tenant_id": str(tenants.a),
            "exp": datetime.now(UTC) - timedelta(minutes=1),
        }
    )
    fresh = make_jwt(
        {
            "sub": "jwt@a.test",
            "role": "admin",
            "tenant_id": str(tenants.a),
            "exp": datetime.now(UTC) + timedelta(hours=1),
        }
    )
    clients = Callers(
        superadmin=client(_token(store, "root@x.test", Role.SUPERADMIN, None)),
        admin_a=client(_token(store, "admin@a.test", Role.ADMIN, tenants.a)),
        admin_b=client(_token(store, "admin@b.test", Role.ADMIN, tenants.b)),
        user=client(_token(store, "user@a.test", Role.USER, tenants.a)),
        anonymous=client(None),
        bad_token=client("cb_not-a-real-token"),
        expired_jwt=client(expired),
        jwt_admin_a=client(fresh),
    )
    yield clients
    for value in clients.__dict__.values():
        value.close()
