"""Maintenance windows over HTTP: tenant-scoped like jobs, checked, and suppressing the alerts
about the jobs they cover while they last."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from cronbase.store import SqlStore
from cronbase.testing import FakeClock
from tests.api.conftest import Callers, Tenants


def iso(clock: FakeClock, delta: timedelta) -> str:
    return (clock.now() + delta).isoformat().replace("+00:00", "Z")


def make_job(callers: Callers, name: str, tenant_id: Any) -> str:
    body = {"name": name, "schedule": "every_5_minutes", "function_name": "boom"}
    response = callers.superadmin.post("/api/cron/jobs", json={**body, "tenant_id": str(tenant_id)})
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["job"]["id"])


def test_windows_are_tenant_scoped(callers: Callers, tenants: Tenants, clock: FakeClock) -> None:
    mine = callers.admin_a.post(
        "/api/cron/maintenance",
        json={"ends_at": iso(clock, timedelta(hours=2)), "reason": "upgrade"},
    )
    assert mine.status_code == 201, mine.text
    window = mine.json()["data"]["window"]
    assert window["tenant_id"] == str(tenants.a)  # an admin's window is their tenant's
    assert window["starts_at"] == iso(clock, timedelta(0))  # from now by default
    assert window["job_ids"] is None
    everyone = callers.superadmin.post(
        "/api/cron/maintenance", json={"ends_at": iso(clock, timedelta(hours=1))}
    ).json()["data"]["window"]
    assert everyone["tenant_id"] is None

    def seen(client: Any) -> list[str]:
        return [w["id"] for w in client.get("/api/cron/maintenance").json()["data"]["windows"]]

    assert sorted(seen(callers.admin_a)) == sorted([window["id"], everyone["id"]])
    assert seen(callers.admin_b) == [everyone["id"]]
    assert callers.user.get("/api/cron/maintenance").status_code == 403
    assert callers.admin_b.delete(f"/api/cron/maintenance/{window['id']}").status_code == 404
    assert callers.admin_a.delete(f"/api/cron/maintenance/{everyone['id']}").status_code == 404
    assert callers.admin_a.delete(f"/api/cron/maintenance/{window['id']}").status_code == 200
    assert seen(callers.admin_a) == [everyone["id"]]


def test_an_admin_sees_of_a_global_window_only_the_jobs_of_their_tenant(
    callers: Callers, tenants: Tenants, clock: FakeClock
) -> None:
    a_job = make_job(callers, "a nightly", tenants.a)
    b_jobs = [make_job(callers, f"b nightly {n}", tenants.b) for n in range(2)]

    def plan(job_ids: list[str], reason: str) -> str:
        body = {"ends_at": iso(clock, timedelta(hours=1)), "job_ids": job_ids, "reason": reason}
        response = callers.superadmin.post("/api/cron/maintenance", json=body)
        assert response.status_code == 201, response.text
        return str(response.json()["data"]["window"]["id"])

    both = plan([a_job, *b_jobs], "storage move")
    only_b = plan(b_jobs, "Tenant B's database upgrade")

    def seen(client: Any) -> dict[str, list[str]]:
        windows = client.get("/api/cron/maintenance").json()["data"]["windows"]
        return {w["id"]: sorted(w["job_ids"]) for w in windows}

    # Neither another tenant's job ids nor a window about their jobs alone reach an admin.
    assert seen(callers.admin_a) == {both: [a_job]}
    assert seen(callers.admin_b) == {both: sorted(b_jobs), only_b: sorted(b_jobs)}
    assert seen(callers.superadmin) == {both: sorted([a_job, *b_jobs]), only_b: sorted(b_jobs)}


def test_bad_windows_are_refused_naming_the_field(
    callers: Callers, tenants: Tenants, clock: FakeClock
) -> None:
    theirs = make_job(callers, "B's job", tenants.b)
    cases = [
        ({"ends_at": "2026-12-01T08:00:00"}, "ends_at"),  # no offset
        ({"ends_at": iso(clock, -timedelta(hours=1))}, "ends_at"),  # over already
        (
            {
                "starts_at": iso(clock, timedelta(hours=2)),
                "ends_at": iso(clock, timedelta(hours=1)),
            },
            "ends_at",
        ),
        ({"ends_at": iso(clock, timedelta(days=400))}, "ends_at"),
        ({"ends_at": iso(clock, timedelta(hours=1)), "job_ids": [theirs]}, "job_ids.0"),
        ({"ends_at": iso(clock, timedelta(hours=1)), "tenant_id": str(tenants.b)}, None),
        ({"ends_at": iso(clock, timedelta(hours=1)), "colour": "red"}, "colour"),
    ]
    for body, field in cases:
        response = callers.admin_a.post("/api/cron/maintenance", json=body)
        if field is None:
            assert response.status_code == 403, body
            continue
        assert response.status_code == 422, (body, response.text)
        assert field in {e["field"] for e in response.json()["errors"]}, (body, response.text)
    assert callers.superadmin.get("/api/cron/maintenance").json()["data"]["windows"] == []


def test_a_reason_that_is_not_printable_text_is_refused(callers: Callers, clock: FakeClock) -> None:
    # A NUL was stored on SQLite and refused by PostgreSQL as "the database refused a value";
    # a right-to-left override turned the rest of the job page's sentence around.
    for reason, says in [
        ("db\x00upgrade", "control characters"),
        ("db\nupgrade", "control characters"),
        ("db upgrade\u202e", "U+202E"),
    ]:
        body = {"ends_at": iso(clock, timedelta(hours=1)), "reason": reason}
        response = callers.superadmin.post("/api/cron/maintenance", json=body)
        assert response.status_code == 422, (reason, response.text)
        [error] = response.json()["errors"]
        assert error["field"] == "reason"
        assert says in error["message"], response.text
    assert callers.superadmin.get("/api/cron/maintenance").json()["data"]["windows"] == []


def test_instants_off_the_calendar_in_utc_are_refused_at_their_fields(callers: Callers) -> None:
    # Aware, in order and a year apart at most, but past the year 9999 once in UTC: no
    # column holds them (they overflowed when written: a 500).
    body = {"starts_at": "9999-12-31T22:00:00-14:00", "ends_at": "9999-12-31T23:00:00-14:00"}
    response = callers.superadmin.post("/api/cron/maintenance", json=body)
    assert response.status_code == 422, response.text
    fields = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert set(fields) == {"starts_at", "ends_at"}
    assert "outside the years 1 to 9999" in fields["ends_at"]
    assert callers.superadmin.get("/api/cron/maintenance").json()["data"]["windows"] == []


def test_a_window_suppresses_the_alerts_of_the_jobs_it_covers_only(
    callers: Callers, tenants: Tenants, clock: FakeClock, store: SqlStore
) -> None:
    store.insert_channel(
        {
            "name": "ops",
            "kind": "webhook",
            "url": "https://example.com/hook",
            "events": ["run.failed"],
        }
    )
    covered = make_job(callers, "Covered", tenants.a)
    make_job(callers, "Not covered", tenants.a)
    response = callers.admin_a.post(
        "/api/cron/maintenance",
        json={"ends_at": iso(clock, timedelta(hours=1)), "job_ids": [covered]},
    )
    assert response.status_code == 201, response.text
    clock.advance(timedelta(minutes=5))
    assert callers.superadmin.post("/api/cron/run").status_code == 200
    assert [n.payload["job"]["name"] for n in store.list_notifications()] == ["Not covered"]
