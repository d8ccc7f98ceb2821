"""Lists that scale, over HTTP: GET /api/cron/jobs searches (q), filters (function_name,
last_status), sorts (name, next_run, last_run, reversed with -, nulls last) and pages by
cursor as well as by offset; a job's runs filter by status and page by cursor too."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from cronbase.store import SqlStore
from cronbase.store.tables import cron_job, cron_job_run
from cronbase.testing import FakeClock
from tests.api.conftest import Callers, Tenants

T0 = datetime(2026, 1, 1, tzinfo=UTC)
InsertRows = Callable[[sa.Table, list[dict[str, Any]]], None]


def _job(name: str, n: int, **fields: Any) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "name": name,
        "schedule": "hourly",
        "function_name": "echo",
        "created_at": T0 + timedelta(seconds=n),
        "next_run": None,
        "last_run": None,
        "last_status": None,
        "is_active": True,
        **fields,
    }


@pytest.fixture
def jobs(insert_rows: InsertRows, tenants: Tenants) -> list[dict[str, Any]]:
    """Seven jobs of tenant A (ties, nulls, names differing in case) and one of tenant B."""
    rows = [
        _job(
            "Nightly report",
            0,
            next_run=T0 + timedelta(hours=3),
            last_run=T0,
            last_status="succeeded",
        ),
        _job(
            "nightly CLEANUP",
            1,
            next_run=T0 + timedelta(hours=1),
            last_run=T0,
            last_status="failed",
            function_name="boom",
        ),
        _job("Hourly sync", 2, next_run=T0 + timedelta(hours=1), last_run=None),
        _job("100%_done", 3, next_run=None, last_run=T0 + timedelta(hours=2), last_status="failed"),
        _job("Backup", 4, next_run=None, last_run=None, is_active=False),
        _job(
            "Weekly digest",
            5,
            next_run=T0 + timedelta(hours=2),
            last_run=T0 - timedelta(hours=1),
            last_status="timed_out",
        ),
        _job(
            "nightly night",
            6,
            next_run=T0 + timedelta(hours=1),
            last_run=T0,
            last_status="succeeded",
        ),
    ]
    for row in rows:
        row["tenant_id"] = tenants.a
    insert_rows(cron_job, [*rows, _job("nightly other tenant", 7, tenant_id=tenants.b)])
    return rows


def names(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [job["name"] for job in response.json()["data"]["jobs"]]


def walk(api: httpx.Client, path: str, key: str, **params: Any) -> list[list[str]]:
    """Every page by cursor: the names (or run ids) on each."""
    pages, cursor = [], None
    while True:
        sent = {**params, **({"cursor": cursor} if cursor else {})}
        answer = api.get(path, params=sent)
        assert answer.status_code == 200, answer.text
        data = answer.json()["data"]
        pages.append([item["name" if key == "jobs" else "id"] for item in data[key]])
        cursor = data["pagination"]["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 50, "the cursor never ended"


@pytest.mark.usefixtures("jobs")
def test_q_is_a_case_insensitive_substring_and_wildcards_match_themselves(
    callers: Callers,
) -> None:
    api = callers.admin_a
    assert names(api.get("/api/cron/jobs", params={"q": "NIGHT"})) == [
        "Nightly report",
        "nightly CLEANUP",
        "nightly night",
    ]
    assert names(api.get("/api/cron/jobs", params={"q": "%_"})) == ["100%_done"]
    assert names(api.get("/api/cron/jobs", params={"q": "_"})) == ["100%_done"]
    assert names(api.get("/api/cron/jobs", params={"q": "zzz"})) == []


@pytest.mark.usefixtures("jobs")
def test_filters_combine_with_each_other_and_with_the_tenant(callers: Callers) -> None:
    api = callers.admin_a
    assert names(api.get("/api/cron/jobs", params={"function_name": "boom"})) == ["nightly CLEANUP"]
    failed = api.get("/api/cron/jobs", params={"last_status": "failed"})
    assert names(failed) == ["nightly CLEANUP", "100%_done"]
    both = api.get("/api/cron/jobs", params={"last_status": "failed", "q": "night"})
    assert names(both) == ["nightly CLEANUP"]
    idle = api.get("/api/cron/jobs", params={"is_active": "false"})
    assert names(idle) == ["Backup"]
    # Tenant B's admin never sees tenant A's jobs, whatever the search.
    assert names(callers.admin_b.get("/api/cron/jobs", params={"q": "night"})) == [
        "nightly other tenant"
    ]


def test_has_tenant_lists_the_global_jobs_or_the_tenants_only(
    callers: Callers, insert_rows: InsertRows, tenants: Tenants
) -> None:
    insert_rows(
        cron_job,
        [
            _job("Global cleanup", 0, tenant_id=None),
            _job("A's report", 1, tenant_id=tenants.a),
            _job("B's report", 2, tenant_id=tenants.b),
        ],
    )
    root = callers.superadmin
    assert names(root.get("/api/cron/jobs", params={"has_tenant": "false"})) == ["Global cleanup"]
    assert names(root.get("/api/cron/jobs", params={"has_tenant": "true"})) == [
        "A's report",
        "B's report",
    ]
    # A tenant's admin lists their tenant's jobs: none of them is global.
    assert names(callers.admin_a.get("/api/cron/jobs", params={"has_tenant": "false"})) == []
    assert names(callers.admin_a.get("/api/cron/jobs", params={"has_tenant": "true"})) == [
        "A's report"
    ]
    refused = root.get("/api/cron/jobs", params={"has_tenant": "maybe"})
    assert refused.status_code == 422
    assert "has_tenant" in refused.text
    both = root.get("/api/cron/jobs", params={"has_tenant": "false", "tenant_id": str(tenants.a)})
    assert both.status_code == 422  # global jobs of a tenant: none could match, so say why
    assert both.json()["errors"] == [
        {
            "field": "query.has_tenant",
            "message": "false asks for the global jobs, which have no tenant: leave out one "
            "of the two (tenant_id was given)",
        }
    ]


@pytest.mark.usefixtures("jobs")
def test_sorts_put_nulls_last_both_ways_and_break_ties_by_id(
    callers: Callers, jobs: list[dict[str, Any]]
) -> None:
    api = callers.admin_a

    def by(sort: str) -> list[str]:
        return names(api.get("/api/cron/jobs", params={"sort": sort}))

    ids = {row["name"]: row["id"] for row in jobs}
    hourly = sorted(["nightly CLEANUP", "Hourly sync", "nightly night"], key=ids.__getitem__)
    assert by("next_run") == [
        *hourly,
        "Weekly digest",
        "Nightly report",
        *_by_id(["100%_done", "Backup"], ids),
    ]
    assert by("-next_run") == [
        "Nightly report",
        "Weekly digest",
        *hourly[::-1],
        *_by_id(["100%_done", "Backup"], ids)[::-1],
    ]
    at_t0 = _by_id(["Nightly report", "nightly CLEANUP", "nightly night"], ids)
    assert by("-last_run") == [
        "100%_done",
        *at_t0[::-1],
        "Weekly digest",
        *_by_id(["Hourly sync", "Backup"], ids)[::-1],
    ]
    assert by("last_run")[:4] == ["Weekly digest", *at_t0]
    assert by("name") == sorted(ids)  # byte order: upper case before lower
    assert by("-name") == sorted(ids, reverse=True)


def _by_id(names: list[str], ids: dict[str, uuid.UUID]) -> list[str]:
    return sorted(names, key=ids.__getitem__)


@pytest.mark.usefixtures("jobs")
@pytest.mark.parametrize(
    "sort", ["", "name", "-name", "next_run", "-next_run", "last_run", "-last_run"]
)
def test_cursor_pages_walk_the_same_order_as_one_page(callers: Callers, sort: str) -> None:
    api = callers.admin_a
    params = {"sort": sort} if sort else {}
    whole = names(api.get("/api/cron/jobs", params=params))
    pages = walk(api, "/api/cron/jobs", "jobs", limit=2, **params)
    assert [len(p) for p in pages] == [2, 2, 2, 1]
    assert [name for page in pages for name in page] == whole


@pytest.mark.usefixtures("jobs")
@pytest.mark.parametrize("sort", ["next_run", "-next_run", "last_run", "-last_run"])
def test_offset_pages_of_a_sort_with_nulls_are_slices_of_one_page(
    callers: Callers, sort: str
) -> None:
    # Such a page is read as two ranges (the values, then the nulls): an offset that falls in
    # either, or across the two, still slices the one order.
    api = callers.admin_a
    whole = names(api.get("/api/cron/jobs", params={"sort": sort}))
    for offset in range(len(whole)):
        page = api.get("/api/cron/jobs", params={"sort": sort, "limit": 2, "offset": offset})
        assert names(page) == whole[offset : offset + 2], offset


@pytest.mark.usefixtures("jobs")
def test_offsets_keep_working_and_the_page_says_both_ways_on(callers: Callers) -> None:
    api = callers.admin_a
    first = api.get("/api/cron/jobs", params={"limit": 3, "offset": 3}).json()["data"]
    assert first["pagination"]["offset"] == 3
    assert first["pagination"]["next_offset"] == 6
    cursor = first["pagination"]["next_cursor"]
    assert names(api.get("/api/cron/jobs", params={"cursor": cursor})) == names(
        api.get("/api/cron/jobs", params={"offset": 6})
    )
    last = api.get("/api/cron/jobs", params={"offset": 6}).json()["data"]["pagination"]
    assert last["next_offset"] is None
    assert last["next_cursor"] is None


def _tampered(cursor: str, change: Callable[[dict[str, Any]], None]) -> str:
    decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    change(decoded)
    return base64.urlsafe_b64encode(json.dumps(decoded).encode()).decode()


@pytest.mark.usefixtures("jobs")
def test_bad_cursors_sorts_and_a_cursor_beside_an_offset_are_422(callers: Callers) -> None:
    api = callers.admin_a
    page = api.get("/api/cron/jobs", params={"limit": 2, "sort": "next_run"}).json()
    cursor = page["data"]["pagination"]["next_cursor"]

    def refused(params: dict[str, Any], field: str, says: str) -> None:
        answer = api.get("/api/cron/jobs", params=params)
        assert answer.status_code == 422, answer.text
        body = answer.json()
        assert body["status"] == "error"
        assert [e["field"] for e in body["errors"]] == [field]
        assert says in body["errors"][0]["message"]

    for bad in [
        "not-a-cursor!",
        "e30",  # {}
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        _tampered(cursor, lambda d: d["k"].__setitem__(0, "yesterday")),
        _tampered(cursor, lambda d: d["k"].__setitem__(-1, "not-a-uuid")),
        _tampered(cursor, lambda d: d["k"].__setitem__(0, 5)),
        _tampered(cursor, lambda d: d["k"].pop()),
        _tampered(cursor, lambda d: d.__setitem__("k", "x")),
        _tampered(cursor, lambda d: d["k"].__setitem__(0, "2026-01-01T00:00:00")),  # no zone
    ]:
        refused({"cursor": bad, "sort": "next_run"}, "query.cursor", "malformed cursor")
    refused({"cursor": cursor, "sort": "name"}, "query.cursor", "send the same sort")
    refused({"cursor": cursor, "sort": "next_run", "offset": 0}, "query.cursor", "not both")
    refused({"sort": "created"}, "query.sort", "use one of name, next_run, last_run")
    refused({"sort": "-"}, "query.sort", "unknown sort")
    refused({"last_status": "great"}, "query.last_status", "")


def test_runs_filter_by_status_and_page_by_cursor(
    callers: Callers, jobs: list[dict[str, Any]], insert_rows: InsertRows
) -> None:
    job = jobs[0]
    statuses = ["succeeded", "failed", "missed", "failed", "succeeded"]
    rows = [
        {
            "id": uuid.uuid4(),
            "job_id": job["id"],
            "tenant_id": job["tenant_id"],
            "scheduled_for": T0 + timedelta(hours=n // 2),  # two attempts share a slot
            "attempt": 1 + n % 2,
            "status": status,
            "trigger": "schedule",
        }
        for n, status in enumerate(statuses)
    ]
    insert_rows(cron_job_run, rows)
    path = f"/api/cron/jobs/{job['id']}/runs"
    api = callers.admin_a
    newest_first = [str(r["id"]) for r in rows[::-1]]
    assert [r["id"] for r in api.get(path).json()["data"]["runs"]] == newest_first
    assert walk(api, path, "runs", limit=2) == [
        newest_first[:2],
        newest_first[2:4],
        newest_first[4:],
    ]
    failed = walk(api, path, "runs", limit=1, status="failed")
    assert failed == [[str(rows[3]["id"])], [str(rows[1]["id"])]]
    assert api.get(path, params={"status": "exploded"}).status_code == 422
    assert api.get(path, params={"cursor": "zz", "offset": 1}).status_code == 422
    assert api.get(path, params={"cursor": "zz"}).json()["errors"][0]["field"] == "query.cursor"


def test_a_nul_in_a_search_is_refused_in_words(callers: Callers) -> None:
    for param in ("q", "function_name"):
        refused = callers.superadmin.get("/api/cron/jobs", params={param: "a\x00b"})
        assert refused.status_code == 422
        assert refused.json()["errors"] == [
            {"field": f"query.{param}", "message": "must not contain a NUL character (%00)"}
        ]


def test_runs_made_by_post_run_are_in_the_last_status_filter_at_once(
    callers: Callers, store: SqlStore, clock: FakeClock
) -> None:
    """No worker refreshes the list's copy of last runs here: POST /api/cron/run does."""
    body = {"name": "Fails", "schedule": "cron:0 0 1 1 *", "function_name": "boom"}
    created = callers.admin_a.post("/api/cron/jobs", json=body)
    assert created.status_code == 201, created.text
    store.update_job(uuid.UUID(created.json()["data"]["job"]["id"]), {"next_run": clock.now()})
    assert names(callers.admin_a.get("/api/cron/jobs", params={"last_status": "failed"})) == []
    clock.advance(timedelta(seconds=1))
    assert callers.superadmin.post("/api/cron/run").status_code == 200
    failed = callers.admin_a.get("/api/cron/jobs", params={"last_status": "failed"})
    assert names(failed) == ["Fails"]
    by_last_run = callers.admin_a.get("/api/cron/jobs", params={"sort": "-last_run"})
    assert names(by_last_run) == ["Fails"]
