"""Schemathesis against the live server's OpenAPI schema: no 5xx, every response in its schema.

The schema is the one the app serves at /openapi.json (the fixture checks the live server
serves exactly it); it is built at import because schemathesis makes one test per operation
at collection time. Every case goes over HTTP to a live server, once per backend, as the
superadmin and as the admin of tenant A. Each operation starts from the same data: two
tenants, a job in each and a global one, run once (the tenant B job fails), so that reads,
updates, deletes and run histories of real jobs are checked too.

Besides the generated junk, positive cases draw from dictionaries of values the server knows:
the ids of those jobs and tenants, valid schedules, zones and function names. Without them
almost every schema-valid body would be a 422 and the success responses would go unchecked.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, settings

from cronbase.api import create_app
from cronbase.auth import Role, hash_token
from cronbase.config import Settings
from cronbase.notify.sealing import box_for
from cronbase.notify.webhook import new_secret
from cronbase.store import SqlStore
from cronbase.store.notification_tables import cron_channel
from cronbase.store.tables import cron_job, cron_job_run, tenants
from cronbase.store.tokens import TokenStore
from cronbase.testing import FakeClock
from tests.api.conftest import JWT_SECRET, SECRET_KEY, LiveServer, api_registry
from tests.conftest import NOW

SUPERADMIN_TOKEN = "cb_schemathesis-superadmin"
ADMIN_TOKEN = "cb_schemathesis-admin-of-tenant-a"
TENANT_A = uuid.UUID("a0000000-0000-4000-8000-000000000001")
TENANT_B = uuid.UUID("b0000000-0000-4000-8000-000000000002")
JOBS = {  # id -> (tenant, function)
    uuid.UUID("a0000000-0000-4000-8000-00000000000a"): (TENANT_A, "echo"),
    uuid.UUID("b0000000-0000-4000-8000-00000000000b"): (TENANT_B, "boom"),
    uuid.UUID("c0000000-0000-4000-8000-00000000000c"): (None, "echo"),
}
# A webhook channel of tenant A, to a port where nothing listens (a test message fails fast).
CHANNEL = uuid.UUID("d0000000-0000-4000-8000-00000000000d")


def _openapi() -> dict[str, Any]:
    app = create_app(Settings(database_url="sqlite://"))
    try:
        return app.openapi()
    finally:
        app.state.services.store.close()


OPENAPI = _openapi()

CONFIG: dict[str, Any] = {
    "dictionaries": {
        "job_ids": {"values": [str(job_id) for job_id in JOBS]},
        "channel_ids": {"values": [str(CHANNEL)]},
        "tenant_ids": {"values": [str(TENANT_A), str(TENANT_B)]},
        "names": {"values": ["Nightly report", "Mark Users Offline", "x"]},
        "schedules": {
            "values": ["every_5_minutes", "hourly", "daily", "weekly", "cron:*/15 9-17 * * 1-5"]
        },
        "zones": {"values": ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"]},
        "functions": {"values": ["echo", "boom", "markUsersOffline", "cleanOldActivities"]},
    },
    "parameters": {
        "path.job_id": {"dictionary": "job_ids", "probability": 0.7},
        "path.channel_id": {"dictionary": "channel_ids", "probability": 0.7},
        "query.tenant_id": {"dictionary": "tenant_ids", "probability": 0.7},
        "body.tenant_id": {"dictionary": "tenant_ids", "probability": 0.5},
        "body.name": {"dictionary": "names", "probability": 0.5},
        "body.schedule": {"dictionary": "schedules", "probability": 0.7},
        "body.timezone": {"dictionary": "zones", "probability": 0.7},
        "body.function_name": {"dictionary": "functions", "probability": 0.7},
    },
    "checks": {
        # Schedules, zones, function names and tenants are checked against the registry,
        # the zone database and the tenant table, beyond what JSON Schema can say: a
        # schema-valid body may still be a 422 that names the field.
        "positive_data_acceptance": {"expected-statuses": ["2xx", "401", "403", "404", "422"]},
        # A query too long for the server's header limit (hundreds of job_id) is refused by
        # the HTTP server with 431 before the app can say 422.
        "negative_data_rejection": {
            "expected-statuses": [
                "400",
                "401",
                "403",
                "404",
                "405",
                "406",
                "409",
                "413",
                "415",
                "422",
                "428",
                "429",
                "431",
            ]
        },
    },
}


def _schema(token: str) -> Any:
    config = schemathesis.Config.from_dict(
        {**CONFIG, "headers": {"Authorization": f"Bearer {token}"}}
    )
    return schemathesis.openapi.from_dict(OPENAPI, config=config)


class Server:
    """One live server per backend for the whole module; `reset` puts back the known data."""

    def __init__(self, url: str, store: SqlStore, clock: FakeClock) -> None:
        self.url = url
        self.store = store
        self.clock = clock
        with store.transaction() as conn:
            conn.execute(
                tenants.insert(), [{"id": TENANT_A, "name": "A"}, {"id": TENANT_B, "name": "B"}]
            )
        tokens = TokenStore(store.engine)
        tokens.add("fuzz@x.test", Role.SUPERADMIN, None, hash_token(SUPERADMIN_TOKEN))
        tokens.add("fuzz@a.test", Role.ADMIN, TENANT_A, hash_token(ADMIN_TOKEN))

    def reset(self) -> None:
        self.clock.set(NOW)
        with self.store.transaction() as conn:
            conn.execute(cron_job_run.delete())
            conn.execute(cron_job.delete())
            conn.execute(cron_channel.delete())
            conn.execute(
                cron_channel.insert().values(
                    id=CHANNEL,
                    tenant_id=TENANT_A,
                    name="Ops webhook",
                    kind="webhook",
                    url="http://127.0.0.1:9/hooks/cron",
                    events=["run.failed"],
                    secret=box_for(SECRET_KEY, None).seal(new_secret()),
                )
            )
            conn.execute(
                cron_job.insert(),
                [
                    {
                        "id": job_id,
                        "tenant_id": tenant_id,
                        "name": f"{function} job",
                        "schedule": "every_5_minutes",
                        "function_name": function,
                        "metadata": {"k": [1, "two", None]},
                        "next_run": NOW,
                    }
                    for job_id, (tenant_id, function) in JOBS.items()
                ],
            )
        headers = {"Authorization": f"Bearer {SUPERADMIN_TOKEN}"}
        with httpx.Client(base_url=self.url, headers=headers) as client:
            summary = client.post("/api/cron/run").json()["data"]["summary"]
        assert summary == {"total": 3, "executed": 2, "skipped": 0, "failed": 1}


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    # The module's own database (one server for all operations keeps the run short), made
    # like the per-test ones in tests/conftest.py.
    url = str(request.getfixturevalue(f"module_{request.param}_url"))
    store = SqlStore.from_url(url)
    clock = FakeClock(NOW)
    # Schemathesis sends thousands of requests with mangled tokens from one address: the
    # failed-sign-in limit (tests/api/test_signin_limit.py) would answer them all 429.
    settings = Settings(
        database_url=url, jwt_secret=JWT_SECRET, auth_max_failures=100_000, secret_key=SECRET_KEY
    )
    app = create_app(settings, store=store, clock=clock, registry=api_registry())
    try:
        with LiveServer(app, settings) as base_url:
            response = httpx.get(f"{base_url}/openapi.json")
            assert response.json() == OPENAPI, "the schema under test is not the one served"
            yield Server(base_url, store, clock)
    finally:
        store.close()


@pytest.fixture(scope="module")
def module_sqlite_url(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Any) -> str:
    path = tmp_path_factory.mktemp("schemathesis") / "cronbase.db"
    path.write_bytes(sqlite_template.read_bytes())
    return f"sqlite:///{path}"


@pytest.fixture(scope="module")
def module_postgres_url(postgres_admin_url: str, postgres_template: str) -> Iterator[str]:
    name = f"cronbase_fuzz_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(
        sa.make_url(postgres_admin_url).set(drivername="postgresql+psycopg"),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name} TEMPLATE {postgres_template}")
    try:
        yield sa.make_url(postgres_admin_url).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


@pytest.fixture
def live(server: Server) -> str:
    server.reset()
    return server.url


@schemathesis.pytest.parametrize(superadmin=_schema(SUPERADMIN_TOKEN), admin_a=_schema(ADMIN_TOKEN))
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_api(case: schemathesis.Case, live: str) -> None:
    case.call_and_validate(base_url=live)
