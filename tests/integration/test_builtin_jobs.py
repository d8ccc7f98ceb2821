"""The built-in job functions on a real store (SQLite and PostgreSQL), called as the runner does."""

from __future__ import annotations

import itertools
import json
import logging
import re
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from cronbase.builtin import BUILTIN_JOBS
from cronbase.builtin.jobs import clean_old_activities
from cronbase.builtin.presence import ISO_DATETIME
from cronbase.builtin.tables import (
    accounts,
    activities,
    activities_archive,
    contacts,
    employees,
    users,
)
from cronbase.errors import StoreError
from cronbase.jobs import isoformat
from cronbase.registry import JobContext, JobRegistry
from cronbase.store import SqlStore
from tests.conftest import NOW

RunJob = Callable[..., dict[str, Any]]
Insert = Callable[[sa.Table, list[dict[str, Any]]], None]

# The tests' own registry: the built-ins, as the CLI and the API include them.
registry = JobRegistry(BUILTIN_JOBS)


@pytest.fixture
def run_job(store: SqlStore) -> RunJob:
    """Call a built-in job like the runner: commit when it returns, roll back when it raises."""

    def run(
        name: str,
        *,
        tenant_id: uuid.UUID | None = None,
        metadata: dict[str, Any] | None = None,
        postgres_time_zone: str | None = None,
    ) -> dict[str, Any]:
        with store.connection() as conn:
            if postgres_time_zone and store.dialect == "postgresql":
                # For this transaction only, so the pooled connection goes back unchanged.
                conn.execute(sa.text(f"SET LOCAL TIME ZONE '{postgres_time_zone}'"))
            ctx = JobContext(
                connect=lambda: conn,
                job_id=uuid.uuid4(),
                tenant_id=tenant_id,
                metadata=metadata or {},
                scheduled_for=NOW,
                now=NOW,
                logger=logging.getLogger(f"cronbase.job.{name}"),
            )
            result = registry.get(name).func(ctx)
            conn.commit()
        json.dumps(result)  # the runner stores it as JSON
        return result

    return run


def _rows(store: SqlStore, table: sa.Table) -> dict[uuid.UUID, dict[str, Any]]:
    with store.connection() as conn:
        return {row.id: dict(row._mapping) for row in conn.execute(sa.select(table))}


def _ago(**delta: float) -> str:
    return isoformat(NOW - timedelta(**delta)) or ""


def _epoch(**delta: float) -> int:
    """Whole seconds since the epoch, `delta` before NOW."""
    return int((NOW - timedelta(**delta)).timestamp())


def test_the_three_jobs_are_registered_with_their_descriptions() -> None:
    descriptions = {name: registry.get(name).description for name in registry.names()}
    assert descriptions["markUsersOffline"].startswith("Mark users and employees offline")
    assert descriptions["cleanOldActivities"].startswith("Archive or delete activities")
    assert descriptions["syncDenormalizedFields"].startswith("Refresh cached copies")
    assert registry.get("cleanOldActivities").func is clean_old_activities


# --- markUsersOffline ------------------------------------------------------------------------


def _people(
    insert_rows: Insert, table: sa.Table, tenant_id: uuid.UUID | None, *metadata: dict[str, Any]
) -> list[uuid.UUID]:
    ids = [uuid.uuid4() for _ in metadata]
    insert_rows(
        table,
        [
            {"id": id_, "tenant_id": tenant_id, "email": f"{id_}@example.com", "metadata": meta}
            for id_, meta in zip(ids, metadata, strict=True)
        ],
    )
    return ids


def _metadata(store: SqlStore, table: sa.Table) -> dict[uuid.UUID, dict[str, Any]]:
    return {id_: row["metadata"] for id_, row in _rows(store, table).items()}


def test_stale_users_and_employees_go_offline_keeping_their_other_metadata(
    store: SqlStore, make_tenant: Callable[..., uuid.UUID], insert_rows: Insert, run_job: RunJob
) -> None:
    tenant = make_tenant()
    stale = {"last_seen": _ago(minutes=10), "live_status": "online", "theme": "dark", "n": [1]}
    user_rows = (
        stale,
        {"last_seen": _ago(minutes=6)},  # no live_status yet
        {"last_seen": _ago(minutes=2), "live_status": "online"},  # fresh
        {"last_seen": _ago(hours=5), "live_status": "offline", "theme": "light"},  # already
        {"live_status": "online"},  # never sent a heartbeat
    )
    user_ids = _people(insert_rows, users, tenant, *user_rows)
    employee_rows = (
        {"last_seen": _ago(minutes=30), "live_status": "away"},
        {"last_seen": _ago(minutes=1), "live_status": "online"},
    )
    employee_ids = _people(insert_rows, employees, tenant, *employee_rows)

    result = run_job("markUsersOffline")

    assert result == {
        "users_marked_offline": 2,
        "employees_marked_offline": 1,
        "total": 3,
        "unreadable_last_seen": 0,
    }
    after = _metadata(store, users)
    assert after[user_ids[0]] == {**stale, "live_status": "offline"}
    assert after[user_ids[1]] == {**user_rows[1], "live_status": "offline"}
    assert [after[id_] for id_ in user_ids[2:]] == list(user_rows[2:])
    after = _metadata(store, employees)
    assert after[employee_ids[0]] == {**employee_rows[0], "live_status": "offline"}
    assert after[employee_ids[1]] == employee_rows[1]
    assert run_job("markUsersOffline")["total"] == 0


# NOW is 10:30Z, so the default timeout of 5 minutes puts the cutoff at 10:25:00Z. SQLite
# compares to the millisecond (julianday), PostgreSQL to the microsecond.
@pytest.mark.parametrize(
    ("last_seen", "stale"),
    [
        ("2025-01-15T10:24:59Z", True),
        ("2025-01-15T10:25:00Z", False),  # exactly at the cutoff is not older than it
        ("2025-01-15T10:24:59.999Z", True),
        ("2025-01-15T10:25:00.001+00:00", False),
        ("2025-01-15T12:24:00+02:00", True),  # 10:24Z, though the text sorts after the cutoff
        ("2025-01-15T05:28:00-05:00", False),  # 10:28Z, though the text sorts before it
        ("2025-01-15T10:20:00", True),  # no offset: read as UTC
        ("2025-01-15 10:20:00.5Z", True),
        ("2025-01-15T10:20Z", True),
        ("2024-02-29T10:00:00Z", True),  # a real leap day
        # PostgreSQL's own text form (what now()::text gives), and offsets of whole hours
        ("2025-01-15 10:24:59.196084+00", True),
        ("2025-01-15 10:25:00.196084+00", False),
        ("2025-01-15T12:24:00+02", True),
        ("2025-01-15T05:24:00-05", True),
        ("2025-01-15T05:26:00-05", False),
        ("2025-01-15T15:54:59+05:30", True),
        ("2025-01-15 10:20", True),
        ("2025-01-15T10:20:00.5", True),
        # JSON numbers: seconds since the epoch, milliseconds above 10^11
        (_epoch(minutes=10), True),
        (_epoch(minutes=5), False),  # the cutoff itself
        (_epoch(minutes=5) + 0.5, False),
        (_epoch(minutes=5) - 0.5, True),
        (_epoch(minutes=10) * 1000, True),
        (_epoch(minutes=5) * 1000 - 1, True),
        (_epoch(minutes=5) * 1000, False),
        (_epoch(minutes=1) * 1000 + 0.5, False),
        (10**11, False),  # seconds: the year 5138
        (10**11 + 1, True),  # milliseconds: March 1973
        (0, True),
        (-86400, True),  # 1969
        (10**400, False),  # milliseconds, far in the future, and no overflow on either side
        (1e300, False),
    ],
)
def test_last_seen_is_read_as_an_instant(
    store: SqlStore, insert_rows: Insert, run_job: RunJob, last_seen: str, stale: bool
) -> None:
    [user] = _people(insert_rows, users, None, {"last_seen": last_seen})

    # A session zone other than UTC must not change how a last_seen without offset is read.
    result = run_job("markUsersOffline", postgres_time_zone="America/New_York")

    assert result["users_marked_offline"] == int(stale)
    assert result["unreadable_last_seen"] == 0
    assert ("live_status" in _metadata(store, users)[user]) is stale


@pytest.mark.parametrize(
    "last_seen",
    [
        "garbage",
        "",
        "now",  # SQLite's julianday() would read this as the current time
        "2025-01-15",  # a date, no time
        "2024-02-30T10:00:00Z",  # SQLite's julianday() would read this as March 1st
        "2023-02-29T10:00:00Z",  # 2023 is no leap year
        "2100-02-29T10:00:00Z",  # nor is 2100
        "2024-06-31T10:00:00Z",
        "2024-13-01T10:00:00Z",
        "2024-00-10T10:00:00Z",
        "2025-01-15T24:00:00Z",
        "2025-01-15T10:61:00Z",
        "2025-01-15T10:00:00+16:00",  # PostgreSQL refuses offsets past 15:59
        "2025-01-15T10:00:00+0200",
        "2025-01-15T10:00:00Z trailing",
        " 2025-01-15T10:00:00Z",
        "2025-01-15t10:20:00z",  # a lowercase t: julianday() cannot read it
        "2025-01-15T10:00:00+15",  # an offset past 14 hours
        "2025-01-15T10:00:00+02:0",
        "2025-01-15T10:00:00.Z",  # a decimal point without digits
        "2025-01-15T10:00:00 +01:00",  # a space before the offset (julianday() reads it)
        "2025-01-15 24:00:00+00",  # julianday() reads it as the next midnight
        "1736935200",  # epoch seconds, but as a string
        True,
        [1736935200],
        {"at": "2025-01-15T10:00:00Z"},
        None,  # a null last_seen is no last_seen: left alone, not counted
    ],
)
def test_a_malformed_last_seen_is_skipped_without_failing_the_others(
    store: SqlStore, insert_rows: Insert, run_job: RunJob, last_seen: Any
) -> None:
    bad = {"last_seen": last_seen, "live_status": "online"}
    good, malformed = _people(insert_rows, users, None, {"last_seen": _ago(hours=1)}, bad)
    [malformed_employee] = _people(insert_rows, employees, None, bad)

    result = run_job("markUsersOffline")

    assert result == {
        "users_marked_offline": 1,
        "employees_marked_offline": 0,
        "total": 1,
        "unreadable_last_seen": 0 if last_seen is None else 2,
    }
    assert _metadata(store, users)[good]["live_status"] == "offline"
    assert _metadata(store, users)[malformed] == bad
    assert _metadata(store, employees)[malformed_employee] == bad


def test_unreadable_last_seen_is_counted_where_the_job_looks_and_each_time(
    store: SqlStore, make_tenant: Callable[..., uuid.UUID], insert_rows: Insert, run_job: RunJob
) -> None:
    acme, globex = make_tenant("Acme"), make_tenant("Globex")
    garbage = {"last_seen": "a while ago", "live_status": "online"}
    counted = _people(insert_rows, users, acme, garbage)
    counted += _people(insert_rows, employees, acme, garbage)
    _people(
        insert_rows,
        users,
        acme,
        {**garbage, "live_status": "offline"},  # already offline: the job does not read it
        {"live_status": "online"},  # no last_seen
    )
    _people(insert_rows, users, globex, garbage)  # another tenant's
    [stale] = _people(insert_rows, employees, acme, {"last_seen": _epoch(hours=1) * 1000})

    first = run_job("markUsersOffline", tenant_id=acme)
    second = run_job("markUsersOffline", tenant_id=acme)

    assert (first["employees_marked_offline"], first["unreadable_last_seen"]) == (1, 2)
    assert (second["total"], second["unreadable_last_seen"]) == (0, 2)  # still there, unchanged
    assert _metadata(store, employees)[stale]["live_status"] == "offline"
    assert _metadata(store, users)[counted[0]] == garbage
    assert _metadata(store, employees)[counted[1]] == garbage
    assert run_job("markUsersOffline")["unreadable_last_seen"] == 3  # globex's too


def _calendar_days() -> list[tuple[str, bool]]:
    """(date-time, is it a real day?) for every month 00-13 and day 00-32 of awkward years."""
    years = [0, *range(1, 10), 100, 400, *range(1596, 1605), 1900, *range(1996, 2105), 2400, 9999]
    cases = []
    for year, month, day in itertools.product(years, range(14), range(33)):
        try:
            real = date(year, month, day) is not None
        except ValueError:
            real = False
        cases.append((f"{year:04d}-{month:02d}-{day:02d}T10:30:00Z", real))
    return cases


def test_the_pattern_accepts_exactly_the_real_calendar_days() -> None:
    wrong = [text for text, real in _calendar_days() if bool(re.match(ISO_DATETIME, text)) != real]
    assert wrong == []


@pytest.mark.postgres
def test_postgresql_matches_the_pattern_alike_and_casts_whatever_it_accepts(
    postgres_admin_url: str,
) -> None:
    cases = _calendar_days()
    extremes = [
        "0001-01-01T00:00:00+14:59",
        "9999-12-31T23:59:59.9999999999-14:59",
        "2024-02-29 23:59",
        "2000-02-29T00:00:00.5z",
        "0001-01-01 00:00:00+14",
        "9999-12-31 23:59:59.999999-14",
        "2026-11-30 14:45:50.196084+00",
    ]
    texts = [text for text, _ in cases] + extremes
    # The CASE casts only what the pattern accepts; one uncastable match fails the query.
    query = """
        SELECT s ~ %(p)s, CASE WHEN s ~ %(p)s THEN s::timestamptz IS NOT NULL END
        FROM unnest(%(texts)s::text[]) WITH ORDINALITY AS t(s, n) ORDER BY n
    """
    with psycopg.connect(postgres_admin_url) as conn:
        rows = conn.execute(query, {"p": ISO_DATETIME, "texts": texts}).fetchall()
    assert [matched for matched, _ in rows] == [real for _, real in cases] + [True] * len(extremes)
    assert all(cast for matched, cast in rows if matched)


def test_a_tenants_job_marks_only_its_tenant_and_a_global_job_marks_all(
    store: SqlStore, make_tenant: Callable[..., uuid.UUID], insert_rows: Insert, run_job: RunJob
) -> None:
    acme, globex = make_tenant("Acme"), make_tenant("Globex")
    stale = {"last_seen": _ago(minutes=10), "live_status": "online"}
    acme_user, globex_user, no_tenant_user = (
        _people(insert_rows, users, tenant, stale)[0] for tenant in (acme, globex, None)
    )
    acme_employee, globex_employee = (
        _people(insert_rows, employees, tenant, stale)[0] for tenant in (acme, globex)
    )

    assert run_job("markUsersOffline", tenant_id=acme) == {
        "users_marked_offline": 1,
        "employees_marked_offline": 1,
        "total": 2,
        "unreadable_last_seen": 0,
    }
    user_status = {id_: meta["live_status"] for id_, meta in _metadata(store, users).items()}
    assert user_status == {acme_user: "offline", globex_user: "online", no_tenant_user: "online"}
    assert _metadata(store, employees)[globex_employee]["live_status"] == "online"

    assert run_job("markUsersOffline") == {
        "users_marked_offline": 2,
        "employees_marked_offline": 1,
        "total": 3,
        "unreadable_last_seen": 0,
    }
    statuses = [
        meta["live_status"]
        for table in (users, employees)
        for meta in _metadata(store, table).values()
    ]
    assert statuses == ["offline"] * 5
    assert _metadata(store, employees)[acme_employee]["live_status"] == "offline"


@pytest.mark.parametrize(
    ("timeout_minutes", "minutes_ago", "stale"),
    [
        (30, 10, False),
        (30, 45, True),
        (0.5, 1, True),  # a fraction of a minute is fine
        (0.5, 0.25, False),
        (1440, 23 * 60, False),
    ],
)
def test_timeout_minutes_comes_from_the_job_metadata(
    store: SqlStore,
    insert_rows: Insert,
    run_job: RunJob,
    timeout_minutes: float,
    minutes_ago: float,
    stale: bool,
) -> None:
    [user] = _people(insert_rows, users, None, {"last_seen": _ago(minutes=minutes_ago)})

    result = run_job("markUsersOffline", metadata={"timeout_minutes": timeout_minutes})

    assert result["users_marked_offline"] == int(stale)
    assert ("live_status" in _metadata(store, users)[user]) is stale


def test_a_null_option_takes_its_default_and_other_metadata_keys_are_ignored(
    insert_rows: Insert, run_job: RunJob
) -> None:
    _people(insert_rows, users, None, {"last_seen": _ago(minutes=6)})
    monitoring = {"execution_count": 7, "last_execution": "2025-01-15T10:25:00Z", "last_error": "x"}

    result = run_job("markUsersOffline", metadata={"timeout_minutes": None, **monitoring})

    assert result["users_marked_offline"] == 1


# --- cleanOldActivities ----------------------------------------------------------------------


def _activities(
    insert_rows: Insert, tenant_id: uuid.UUID, *days_ago: float, **values: Any
) -> list[uuid.UUID]:
    """Insert one activity per age, each a minute apart so their order is known; return ids."""
    rows = [
        {
            "id": uuid.uuid4(),
            "tenant_id": tenant_id,
            "created_at": NOW - timedelta(days=age, minutes=index),
            **values,
        }
        for index, age in enumerate(days_ago)
    ]
    insert_rows(activities, rows)
    return [row["id"] for row in rows]


def _oldest_first(store: SqlStore, ids: list[uuid.UUID]) -> list[uuid.UUID]:
    rows = _rows(store, activities)
    return sorted(ids, key=lambda id_: (rows[id_]["created_at"], str(id_)))


def test_archive_moves_exactly_the_old_activities_with_every_column(
    store: SqlStore, make_tenant: Callable[..., uuid.UUID], insert_rows: Insert, run_job: RunJob
) -> None:
    tenant = make_tenant()
    old = _activities(
        insert_rows,
        tenant,
        91,
        120,
        365,
        type="call",
        subject="Quarterly review",
        related_to="contact",
        related_id=uuid.uuid4(),
        related_name="Jane Doe",
        metadata={"duration": 30, "tags": ["q3", "renewal"]},
    )
    # Exactly 90 days old is not older than the retention period.
    kept = [*_activities(insert_rows, tenant, 10, 0), _activities(insert_rows, tenant, 90)[0]]
    before = _rows(store, activities)

    result = run_job("cleanOldActivities")

    assert result == {
        "mode": "archive",
        "retention_days": 90,
        "cutoff": "2024-10-17T10:30:00Z",
        "batches": 1,
        "archived": 3,
        "deleted": 0,
    }
    assert set(_rows(store, activities)) == set(kept)
    archive = _rows(store, activities_archive)
    assert archive == {id_: {**before[id_], "archived_at": NOW} for id_ in old}


def test_delete_mode_deletes_the_old_activities_without_archiving(
    store: SqlStore, make_tenant: Callable[..., uuid.UUID], insert_rows: Insert, run_job: RunJob
) -> None:
    tenant = make_tenant()
    _activities(insert_rows, tenant, 100, 200)
    kept = _activities(insert_rows, tenant, 5)

    result = run_job("cleanOldActivities", metadata={"mode": "delete", "retention_days": 30})

    assert (result["mode"], result["batches"], result["archived"], result["deleted"]) == (
        "delete",
        1,
        0,
        2,
    )
    assert result["cutoff"] == "2024-12-16T10:30:00Z"
    assert set(_rows(store, activities)) == set(kept)
    assert _rows(store, activities_archive) == {}


@pytest.mark.parametrize(("batch_size", "batches"), [(10, 3), (5, 5), (1, 25), (1000, 1)])
@pytest.mark.parametrize("mode", ["archive", "delete"])
def test_old_activities_go_in_batches(
    store: SqlStore,
    make_tenant: Callable[..., uuid.UUID],
    insert_rows: Insert,
    run_job: RunJob,
    batch_size: int,
    batches: int,
    mode: str,
) -> None:
    tenant = make_tenant()
    old = _activities(insert_rows, tenant, *[100] * 25)
    kept = _activities(insert_rows, tenant, 1, 2, 3)

    result = run_job("cleanOldActivities", metadata={"batch_size": batch_size, "mode": mode})

    assert result["batches"] == batches
    assert (result["archived"], result["deleted"]) == ((25, 0) if mode == "archive" else (0, 25))
    assert set(_rows(store, activities)) == set(kept)
    assert set(_rows(store, activities_archive)) == (set(old) if mode == "archive" else set())


def test_nothing_old_means_no_batches(
    make_tenant: Callable[..., uuid.UUID], insert_rows: Insert, run_job: RunJob
) -> None:
    _activities(insert_rows, make_tenant(), 1, 89)

    result = run_job("cleanOldActivities")

    assert (result["batches"], result["archived"], result["deleted"]) == (0, 0, 0)


def test_a_tenants_cleanup_touches_only_its_activities_and_a_global_one_all(
    store: SqlStore, make_tenant: Callable[..., uuid.UUID], insert_rows: Insert, run_job: RunJob
) -> None:
    acme, globex = make_tenant("Acme"), make_tenant("Globex")
    acme_old = _activities(insert_rows, acme, 100, 150)
    globex_old = _activities(insert_rows, globex, 100, 150, 200)

    result = run_job("cleanOldActivities", tenant_id=acme, metadata={"batch_size": 1})

    assert (result["batches"], result["archived"]) == (2, 2)
    assert set(_rows(store, activities_archive)) == set(acme_old)
    assert set(_rows(store, activities)) == set(globex_old)

    assert run_job("cleanOldActivities")["archived"] == 3
    assert set(_rows(store, activities_archive)) == {*acme_old, *globex_old}
    assert _rows(store, activities) == {}


def test_a_failing_batch_is_rolled_back_whole_and_the_batches_before_it_stay(
    store: SqlStore, make_tenant: Callable[..., uuid.UUID], insert_rows: Insert, run_job: RunJob
) -> None:
    tenant = make_tenant()
    old = _oldest_first(store, _activities(insert_rows, tenant, *[100] * 25))
    recent = _activities(insert_rows, tenant, 1)
    # The 23rd oldest is in batch 3 of 10; an archived row with its id makes that insert fail.
    clash = old[22]
    insert_rows(activities_archive, [{"id": clash, "tenant_id": tenant, "archived_at": NOW}])

    with pytest.raises(StoreError, match=r"batch 3 failed .* \(20 activities archived\)"):
        run_job("cleanOldActivities", metadata={"batch_size": 10})

    archived, remaining = set(_rows(store, activities_archive)), set(_rows(store, activities))
    assert archived == {*old[:20], clash}
    assert remaining == {*old[20:], *recent}
    # No row is lost or duplicated: each original is in exactly one table (the clashing id is
    # in both only because the test put a different row under it into the archive).
    for id_ in [*old, *recent]:
        assert (id_ in archived) + (id_ in remaining) == (2 if id_ == clash else 1)


# --- syncDenormalizedFields ------------------------------------------------------------------


def _accounts_and_contacts(insert_rows: Insert, tenant: uuid.UUID) -> dict[str, uuid.UUID]:
    """A small CRM where every denormalized field is stale in some row and right in another."""
    ids = {name: uuid.uuid4() for name in ["acme", "beta", "gamma", "delta"]}
    ids |= {f"c{n}": uuid.uuid4() for n in range(1, 7)}
    ids |= {f"a{n}": uuid.uuid4() for n in range(1, 7)}
    insert_rows(
        accounts,
        [
            {"id": ids["acme"], "tenant_id": tenant, "name": "Acme", "contact_count": 0},
            {"id": ids["beta"], "tenant_id": tenant, "name": "Beta", "contact_count": 7},
            {"id": ids["gamma"], "tenant_id": tenant, "name": "Gamma", "contact_count": 1},
            {"id": ids["delta"], "tenant_id": tenant, "name": "Delta", "contact_count": 0},
        ],
    )
    contact = {"tenant_id": tenant, "first_name": "", "last_name": ""}
    insert_rows(
        contacts,
        [
            {**contact, "id": ids["c1"], "account_id": ids["acme"], "account_name": "Acme Old",
             "first_name": "Jane", "last_name": "Doe"},
            {**contact, "id": ids["c2"], "account_id": ids["acme"], "account_name": "Acme"},
            {**contact, "id": ids["c3"], "account_id": ids["gamma"], "account_name": None},
            {**contact, "id": ids["c4"], "account_id": None, "account_name": "Ghost Corp"},
            {**contact, "id": ids["c5"], "account_id": None, "account_name": None},
            {**contact, "id": ids["c6"], "account_id": ids["gamma"], "account_name": "Gamma",
             "last_name": "Solo"},
        ],
    )  # fmt: skip
    activity = {"tenant_id": tenant, "created_at": NOW}
    insert_rows(
        activities,
        [
            {**activity, "id": ids["a1"], "related_to": "account", "related_id": ids["acme"],
             "related_name": "Acme Old"},
            {**activity, "id": ids["a2"], "related_to": "account", "related_id": ids["beta"],
             "related_name": "Beta"},
            {**activity, "id": ids["a3"], "related_to": "contact", "related_id": ids["c1"],
             "related_name": "Jane Smith"},
            {**activity, "id": ids["a4"], "related_to": "contact", "related_id": ids["c6"],
             "related_name": None},
            {**activity, "id": ids["a5"], "related_to": "contact", "related_id": uuid.uuid4(),
             "related_name": "Deleted Person"},
            {**activity, "id": ids["a6"], "related_to": None, "related_id": None,
             "related_name": "Free text"},
        ],
    )  # fmt: skip
    return ids


def _column(store: SqlStore, table: sa.Table, column: str) -> dict[uuid.UUID, Any]:
    return {id_: row[column] for id_, row in _rows(store, table).items()}


def test_sync_fixes_every_stale_field_and_a_second_run_changes_nothing(
    store: SqlStore, make_tenant: Callable[..., uuid.UUID], insert_rows: Insert, run_job: RunJob
) -> None:
    ids = _accounts_and_contacts(insert_rows, make_tenant())

    result = run_job("syncDenormalizedFields")

    assert result == {
        "contacts_account_name": 3,  # c1 renamed, c3 filled in, c4 lost its account
        "accounts_contact_count": 3,  # acme 0 -> 2, beta 7 -> 0, gamma 1 -> 2
        "activities_related_name": 3,  # a1, a3, a4
        "total": 9,
    }
    names = _column(store, contacts, "account_name")
    assert [names[ids[f"c{n}"]] for n in range(1, 7)] == [
        "Acme", "Acme", "Gamma", None, None, "Gamma",
    ]  # fmt: skip
    counts = _column(store, accounts, "contact_count")
    assert [counts[ids[name]] for name in ["acme", "beta", "gamma", "delta"]] == [2, 0, 2, 0]
    related = _column(store, activities, "related_name")
    assert [related[ids[f"a{n}"]] for n in range(1, 7)] == [
        "Acme", "Beta", "Jane Doe", "Solo", "Deleted Person", "Free text",
    ]  # fmt: skip

    assert run_job("syncDenormalizedFields") == {
        "contacts_account_name": 0,
        "accounts_contact_count": 0,
        "activities_related_name": 0,
        "total": 0,
    }


def test_a_tenants_sync_touches_only_its_rows_and_a_global_one_all(
    store: SqlStore, make_tenant: Callable[..., uuid.UUID], insert_rows: Insert, run_job: RunJob
) -> None:
    acme, globex = make_tenant("Acme"), make_tenant("Globex")
    acme_ids, globex_ids = (
        _accounts_and_contacts(insert_rows, acme),
        _accounts_and_contacts(insert_rows, globex),
    )
    tables = (accounts, contacts, activities)
    before = {table.name: _rows(store, table) for table in tables}

    assert run_job("syncDenormalizedFields", tenant_id=acme)["total"] == 9
    for table in tables:
        rows = _rows(store, table)
        globex_rows = {id_ for id_ in globex_ids.values() if id_ in rows}
        assert {id_: rows[id_] for id_ in globex_rows} == {
            id_: before[table.name][id_] for id_ in globex_rows
        }
    assert _column(store, accounts, "contact_count")[acme_ids["beta"]] == 0

    assert run_job("syncDenormalizedFields")["total"] == 9
    assert _column(store, accounts, "contact_count")[globex_ids["beta"]] == 0


# --- invalid options -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("function_name", "metadata", "message"),
    [
        ("markUsersOffline", {"timeout_minutes": 0}, r"timeout_minutes must be a number > 0"),
        ("markUsersOffline", {"timeout_minutes": -5}, r"timeout_minutes .* got -5"),
        ("markUsersOffline", {"timeout_minutes": "5"}, r"timeout_minutes .* got '5'"),
        ("markUsersOffline", {"timeout_minutes": True}, r"timeout_minutes .* got True"),
        ("markUsersOffline", {"timeout_minutes": float("inf")}, r"timeout_minutes .* got inf"),
        ("markUsersOffline", {"timeout_minutes": 1e15}, r"timeout_minutes .* <= 52596000"),
        ("cleanOldActivities", {"mode": "purge"}, r"mode must be one of 'archive', 'delete'"),
        ("cleanOldActivities", {"mode": "ARCHIVE"}, r"mode must be one of .* got 'ARCHIVE'"),
        ("cleanOldActivities", {"batch_size": 0}, r"batch_size must be an integer from 1 to"),
        ("cleanOldActivities", {"batch_size": 2.5}, r"batch_size .* got 2.5"),
        ("cleanOldActivities", {"batch_size": 10_001}, r"from 1 to 10000 .* got 10001"),
        ("cleanOldActivities", {"retention_days": -1}, r"retention_days .* from 0 to"),
        ("cleanOldActivities", {"retention_days": "90"}, r"retention_days .* got '90'"),
        ("cleanOldActivities", {"retention_days": 10**7}, r"from 0 to 36525 .* got 10000000"),
    ],
)
def test_invalid_options_raise_a_value_error_naming_the_key(
    store: SqlStore,
    make_tenant: Callable[..., uuid.UUID],
    insert_rows: Insert,
    run_job: RunJob,
    function_name: str,
    metadata: dict[str, Any],
    message: str,
) -> None:
    old = _activities(insert_rows, make_tenant(), 1000)
    [user] = _people(insert_rows, users, None, {"last_seen": _ago(days=1000)})

    with pytest.raises(ValueError, match=message):
        run_job(function_name, metadata=metadata)

    assert set(_rows(store, activities)) == set(old)
    assert _metadata(store, users)[user] == {"last_seen": _ago(days=1000)}
