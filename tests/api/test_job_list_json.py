"""GET /api/cron/jobs sends each job as the store wrote its JSON (store/job_json.py: on
PostgreSQL the server writes it), without building Job objects or response models. Its body
must be what the response model makes of the same jobs read as Jobs (JobList of JobPublic):
the same keys in the same order and the same values, the times and ids spelled alike,
whatever the values (tenants, dependency edges, metadata of every JSON kind, times with and
without microseconds, nulls), for every sort and page. Only spacing and the spelling of a
number may differ, inside metadata on PostgreSQL (jsonb's own printing)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from cronbase.api.responses import answer
from cronbase.api.routes.jobs import _job, _page
from cronbase.api.schemas import JobList
from cronbase.auth import Principal, Role
from cronbase.listing import JobQuery
from cronbase.manager import JobManager
from cronbase.store import SqlStore
from cronbase.store.tables import cron_job
from cronbase.testing import FakeClock
from tests.api.conftest import Callers, Tenants, api_registry

METADATA: list[dict[str, Any]] = [
    {},
    {"zeta": 1, "alpha": [1, 2.5, -0.0, 1e16, 1e-7, True, None], "b": {"nested": {"x": "y"}}},
    {"text": 'é ünïcode \u2028 "quoted" \\ / <tag> \t\n', "emoji": "🙂", "big": 2**62},
]


@pytest.fixture
def listed(callers: Callers, tenants: Tenants, store: SqlStore) -> list[str]:
    """Jobs of every kind: global and of tenants, with upstreams, metadata of every JSON kind,
    and times set directly with and without microseconds (and a null)."""
    made = []
    for n, metadata in enumerate(METADATA * 3):
        body: dict[str, Any] = {
            "name": f"job {n}",
            "schedule": ["hourly", "daily", "cron:5 4 * * *"][n % 3],
            "function_name": "echo",
            "metadata": metadata,
            "is_active": n % 4 != 0,
            "timeout_seconds": None if n % 2 else 60,
            "priority": n - 4,
        }
        if n % 3:
            body["tenant_id"] = str(tenants.a if n % 3 == 1 else tenants.b)
        if n >= 3 and n % 3:
            same_tenant = [made[k] for k in range(n - 1, -1, -1) if k % 3 == n % 3]
            body["depends_on"] = [{"job_id": j, "on": "failure"} for j in same_tenant[:2]]
        answer_ = callers.superadmin.post("/api/cron/jobs", json=body)
        assert answer_.status_code == 201, answer_.text
        made.append(answer_.json()["data"]["job"]["id"])
    t0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    with store.transaction() as conn:
        for n, job_id in enumerate(made):
            conn.execute(
                cron_job.update()
                .where(cron_job.c.id == uuid.UUID(job_id))
                .values(
                    last_run=None if n % 5 == 0 else t0 + timedelta(microseconds=n * 250_000),
                    last_status=[None, "succeeded", "failed", "running"][n % 4],
                    muted_until=t0 + timedelta(days=n) if n % 2 else None,
                    alerting_since=t0 if n % 3 == 0 else None,
                    missed_since_last_run=n,
                )
            )
    return made


def _same(got: bytes, expected: bytes) -> bool:
    """The same JSON: keys in the same order, values equal (so 1 is not 1.0, nor a time
    written another way), whatever the spacing. Byte for byte on SQLite."""
    return json.dumps(json.loads(got)) == json.dumps(json.loads(expected))


def _expected(
    store: SqlStore, clock: FakeClock, caller: Principal, params: dict[str, Any]
) -> bytes:
    """What the response model makes of the page read as Jobs."""
    manager = JobManager(store, api_registry(), clock)
    limit, offset = params.get("limit", 100), params.get("offset")
    page = manager.list_jobs(caller, **{"limit": 100, **params})
    jobs = [_job(job) for job in page.items]
    return bytes(answer(JobList(jobs=jobs, pagination=_page(limit, offset, page))).body)


SUPERADMIN = Principal("root@x.test", Role.SUPERADMIN, None)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"limit": 4},
        {"sort": "name", "limit": 5},
        {"sort": "-next_run", "limit": 3},
        {"sort": "last_run", "limit": 4},
        {"sort": "-last_run", "offset": 2, "limit": 6},
        {"has_tenant": True, "q": "JOB 1"},
        {"has_tenant": False, "sort": "-name", "limit": 2},
        {"last_status": "failed"},
        {"function_name": "echo", "sort": "-last_run", "limit": 4},
        {"function_name": ""},
    ],
)
@pytest.mark.usefixtures("listed")
def test_each_page_is_what_the_response_model_makes_of_it(
    callers: Callers,
    store: SqlStore,
    clock: FakeClock,
    params: dict[str, Any],
) -> None:
    pages = 0
    while True:
        got = callers.superadmin.get("/api/cron/jobs", params=params)
        assert got.status_code == 200, got.text
        expected = _expected(store, clock, SUPERADMIN, params)
        assert _same(got.content, expected)
        if store.dialect == "sqlite":
            assert got.content == expected
        pages += 1
        pagination = got.json()["data"]["pagination"]
        if pagination["next_cursor"] is None:
            break
        if "offset" in params:
            params = {**params, "offset": pagination["next_offset"]}
        else:
            params = {**params, "cursor": pagination["next_cursor"]}
    assert pages > 1 or "limit" not in params


@pytest.mark.usefixtures("listed")
def test_a_tenant_admin_gets_their_jobs_as_the_model_makes_them(
    callers: Callers, tenants: Tenants, store: SqlStore, clock: FakeClock
) -> None:
    got = callers.admin_a.get("/api/cron/jobs", params={"sort": "name"})
    admin = Principal("admin@a.test", Role.ADMIN, tenants.a)
    assert _same(got.content, _expected(store, clock, admin, {"sort": "name"}))
    jobs = got.json()["data"]["jobs"]
    assert len(jobs) == 3
    assert {job["tenant_id"] for job in jobs} == {str(tenants.a)}
    assert any(job["depends_on"] for job in jobs)


@pytest.mark.postgres
def test_times_are_sent_in_utc_whatever_the_sessions_time_zone(
    postgres_url: str,
) -> None:
    """The server writes times in UTC ("Z"), whatever the session's TimeZone."""
    kolkata = SqlStore.from_url(postgres_url, connect_args={"options": "-c TimeZone=Asia/Kolkata"})
    try:
        when = datetime(2026, 3, 1, 23, 59, 30, 5, tzinfo=UTC)
        with kolkata.transaction() as conn:
            conn.execute(
                cron_job.insert().values(
                    name="late", schedule="daily", function_name="echo", next_run=when
                )
            )
            assert conn.exec_driver_sql("SHOW TimeZone").scalar_one() == "Asia/Kolkata"
        (job,) = kolkata.list_jobs_json(JobQuery())
        assert json.loads(job.json)["next_run"] == "2026-03-01T23:59:30.000005Z"
        assert json.loads(job.json)["created_at"].endswith("Z")
    finally:
        kolkata.close()


def test_the_list_is_one_statement_outside_a_transaction_on_postgresql(
    listed: list[str], store: SqlStore
) -> None:
    """One round trip on PostgreSQL: the page and its edges in one statement, with no BEGIN
    and COMMIT around it (SQLite reads the page, then its edges, in a read transaction)."""
    autocommit: list[bool] = []

    def seen(conn: sa.Connection, *_args: Any) -> None:
        autocommit.append(getattr(conn.connection.driver_connection, "autocommit", False))

    sa.event.listen(store.engine, "before_cursor_execute", seen)
    try:
        assert len(store.list_jobs_json(JobQuery())) == len(listed)
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", seen)
    if store.dialect == "postgresql":
        assert autocommit == [True]
    else:
        assert len(autocommit) == 3  # BEGIN DEFERRED, the page, its edges
