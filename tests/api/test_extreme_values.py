"""Values at or past the edges of what can be stored get a 422 at their field, never a 500:
huge numbers for the built-in jobs' options, and instants whose offset carries them off the
calendar in UTC (the year 1 or 9999), through HTTP on both databases."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Callers

HUGE = [10**30, 2**63, 1e300]
OFF_THE_CALENDAR = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"]


def _job(**fields: Any) -> dict[str, Any]:
    return {"name": "Edge", "schedule": "daily", "function_name": "echo", **fields}


def _field_errors(response: Any) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {error["field"]: error["message"] for error in response.json()["errors"]}


@pytest.mark.parametrize("value", HUGE)
@pytest.mark.parametrize(
    ("function_name", "option", "maximum"),
    [
        ("markUsersOffline", "timeout_minutes", 52_596_000),  # a hundred years
        ("cleanOldActivities", "retention_days", 36_525),
    ],
)
def test_the_builtin_jobs_time_spans_are_bounded(
    callers: Callers, function_name: str, option: str, maximum: int, value: Any
) -> None:
    api = callers.superadmin
    refused = api.post("/api/cron/jobs", json=_job(function_name=function_name, metadata={option: value}))  # fmt: skip
    assert str(maximum) in _field_errors(refused)[f"metadata.{option}"]
    kept = api.post("/api/cron/jobs", json=_job(function_name=function_name, metadata={option: maximum}))  # fmt: skip
    assert kept.status_code == 201, kept.text


@pytest.mark.parametrize("instant", OFF_THE_CALENDAR)
def test_instants_that_fall_off_the_calendar_in_utc_are_refused(
    callers: Callers, instant: str
) -> None:
    api = callers.superadmin
    why = f"{instant} is not an instant that can be stored: in UTC it falls outside the years 1 to 9999"  # fmt: skip
    assert _field_errors(api.post("/api/cron/jobs", json=_job(muted_until=instant))) == {
        "muted_until": why
    }
    job_id = api.post("/api/cron/jobs", json=_job()).json()["data"]["job"]["id"]
    changed = api.put(f"/api/cron/jobs/{job_id}", json={"muted_until": instant})
    assert _field_errors(changed) == {"muted_until": why}
    for body in ({"start": instant, "end": "2025-02-01T00:00:00Z"}, {"start": "2025-01-01T00:00:00Z", "end": instant}):  # fmt: skip
        refused = api.post(f"/api/cron/jobs/{job_id}/backfills", json=body)
        [(field, message)] = _field_errors(refused).items()
        assert field in body
        assert message == why  # not pydantic's "Value error, ..." before it


def test_a_backfill_from_the_first_day_of_the_calendar_is_refused(callers: Callers) -> None:
    api = callers.superadmin
    job_id = api.post("/api/cron/jobs", json=_job()).json()["data"]["job"]["id"]
    refused = api.post(
        f"/api/cron/jobs/{job_id}/backfills",
        json={"start": "0001-01-01T00:00:00Z", "end": "2025-01-02T00:00:00Z"},
    )
    assert _field_errors(refused) == {"start": "must be later: the range falls off the calendar"}
    # the last day of the calendar is in the future: refused before any slot is counted
    refused = api.post(
        f"/api/cron/jobs/{job_id}/backfills",
        json={"start": "2025-01-01T00:00:00Z", "end": "9999-12-31T23:59:59Z"},
    )
    assert "is in the future" in _field_errors(refused)["end"]
