"""Lax input is refused, not guessed at: numbers and booleans must be JSON numbers and
booleans, and a job's name must be visible text that reads as what it is."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Callers


def job(**fields: Any) -> dict[str, Any]:
    return {"name": "Digest", "schedule": "hourly", "function_name": "echo", **fields}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("priority", "1_000"),
        ("priority", "5"),
        ("priority", 1.5),
        ("timeout_seconds", "60"),
        ("max_attempts", True),
        ("is_active", "yes"),
        ("is_active", 1),
    ],
)
def test_numbers_and_booleans_must_have_their_json_type(
    callers: Callers, field: str, value: Any
) -> None:
    refused = callers.superadmin.post("/api/cron/jobs", json=job(**{field: value}))
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == [field]
    assert callers.superadmin.get("/api/cron/jobs").json()["data"]["jobs"] == []
    created = callers.superadmin.post("/api/cron/jobs", json=job()).json()["data"]["job"]
    changed = callers.superadmin.put(f"/api/cron/jobs/{created['id']}", json={field: value})
    assert changed.status_code == 422


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("invoice\u202etxt.exe", "found U+202E RIGHT-TO-LEFT OVERRIDE at position 8"),
        ("\u2067nightly\u2069", "found U+2067 RIGHT-TO-LEFT ISOLATE at position 1"),
        ("back\u200bup", "found U+200B ZERO WIDTH SPACE at position 5"),
        ("\u200b\u200b\u200b", "found U+200B ZERO WIDTH SPACE at position 1"),
        ("\ufeffreport", "found U+FEFF ZERO WIDTH NO-BREAK SPACE at position 1"),
        ("\u200d", "must contain a visible character"),
    ],
)
def test_names_with_invisible_or_bidirectional_characters_are_refused(
    callers: Callers, name: str, message: str
) -> None:
    refused = callers.superadmin.post("/api/cron/jobs", json=job(name=name))
    assert refused.status_code == 422, refused.text
    error = refused.json()["errors"][0]
    assert error["field"] == "name"
    assert message in error["message"]


def test_names_in_any_script_and_with_joined_emoji_are_kept(callers: Callers) -> None:
    for name in (
        "Nächtlicher Abgleich",
        "夜間バックアップ",
        "גיבוי לילי",
        "Team 👨\u200d👩\u200d👧",
    ):
        created = callers.superadmin.post("/api/cron/jobs", json=job(name=name))
        assert created.status_code == 201, created.text
        assert created.json()["data"]["job"]["name"] == name


def test_a_null_that_would_erase_a_field_is_refused_at_that_field(callers: Callers) -> None:
    created = callers.superadmin.post("/api/cron/jobs", json=job()).json()["data"]["job"]
    refused = callers.superadmin.put(
        f"/api/cron/jobs/{created['id']}", json={"schedule": None, "priority": None, "name": "x"}
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"] == [
        {"field": "schedule", "message": "cannot be null; leave the field out to keep it"},
        {"field": "priority", "message": "cannot be null; leave the field out to keep it"},
    ]
    kept = callers.superadmin.get(f"/api/cron/jobs/{created['id']}").json()["data"]["job"]
    assert (kept["name"], kept["schedule"]) == ("Digest", "hourly")
    cleared = callers.superadmin.put(
        f"/api/cron/jobs/{created['id']}", json={"timeout_seconds": None}
    )
    assert cleared.status_code == 200, cleared.text
