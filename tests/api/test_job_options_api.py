"""A job function's declared options over HTTP: listed by /functions, checked on create and
update (422 at `metadata.<key>`), while undeclared keys and nulls pass as before."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from cronbase.store import SqlStore
from tests.api.conftest import Callers


def _create(api: httpx.Client, function_name: str, metadata: Any) -> httpx.Response:
    body = {
        "name": "Options",
        "schedule": "daily",
        "function_name": function_name,
        "metadata": metadata,
    }
    return api.post("/api/cron/jobs", json=body)


def _errors(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {error["field"]: error["message"] for error in response.json()["errors"]}


def test_functions_list_each_functions_options(callers: Callers) -> None:
    listed = callers.admin_a.get("/api/cron/functions").json()["data"]["functions"]
    functions = {f["name"]: f for f in listed}
    assert functions["markUsersOffline"]["description"].startswith("Mark users and employees")
    assert [o["name"] for o in functions["cleanOldActivities"]["options"]] == [
        "retention_days",
        "mode",
        "batch_size",
    ]
    retention, mode, batch = functions["cleanOldActivities"]["options"]
    assert retention["type"] == "number"
    assert (retention["default"], retention["minimum"], retention["maximum"]) == (90, 0, 36525)
    assert retention["description"]
    assert (mode["type"], mode["default"], mode["choices"]) == ("string", "archive", ["archive", "delete"])  # fmt: skip
    assert (batch["type"], batch["minimum"], batch["maximum"], batch["default"]) == ("integer", 1, 10000, 1000)  # fmt: skip
    [timeout] = functions["markUsersOffline"]["options"]
    assert (timeout["name"], timeout["default"], timeout["exclusive_minimum"]) == ("timeout_minutes", 5, 0)  # fmt: skip
    assert functions["syncDenormalizedFields"]["options"] == []
    assert functions["echo"]["options"] == []


@pytest.mark.parametrize(
    ("function_name", "metadata", "field", "message"),
    [
        ("markUsersOffline", {"timeout_minutes": "abc"}, "metadata.timeout_minutes",
         "must be a number > 0 and <= 52596000 (default 5); got 'abc'"),
        ("markUsersOffline", {"timeout_minutes": 0}, "metadata.timeout_minutes", "> 0"),
        ("markUsersOffline", {"timeout_minutes": True}, "metadata.timeout_minutes", "got True"),
        ("cleanOldActivities", {"mode": "bogus"}, "metadata.mode",
         "must be one of 'archive', 'delete' (default 'archive'); got 'bogus'"),
        ("cleanOldActivities", {"retention_days": -1}, "metadata.retention_days", "from 0 to 36525"),
        ("cleanOldActivities", {"batch_size": 2.5}, "metadata.batch_size",
         "must be an integer from 1 to 10000 (default 1000); got 2.5"),
        ("cleanOldActivities", {"batch_size": 10001}, "metadata.batch_size", "got 10001"),
    ],
)  # fmt: skip
def test_a_bad_option_is_refused_naming_its_key(
    callers: Callers,
    store: SqlStore,
    function_name: str,
    metadata: dict[str, Any],
    field: str,
    message: str,
) -> None:
    response = _create(callers.admin_a, function_name, metadata)
    errors = _errors(response)
    assert list(errors) == [field]
    assert message in errors[field]
    assert field in response.json()["message"]
    assert store.list_jobs() == []


def test_every_bad_option_is_named_at_once(callers: Callers) -> None:
    metadata = {"retention_days": "90", "mode": "purge", "batch_size": 0}
    errors = _errors(_create(callers.superadmin, "cleanOldActivities", metadata))
    assert set(errors) == {"metadata.retention_days", "metadata.mode", "metadata.batch_size"}


def test_undeclared_keys_nulls_and_good_values_are_stored_as_given(callers: Callers) -> None:
    metadata = {
        "retention_days": 30.5,
        "mode": "delete",
        "batch_size": None,  # null: the default
        "team": "ops",
        "execution_count": "whatever",  # the runner's own keys are not options
    }
    created = _create(callers.admin_a, "cleanOldActivities", metadata)
    assert created.status_code == 201, created.text
    stored = created.json()["data"]["job"]["metadata"]
    assert {key: stored[key] for key in ("retention_days", "mode", "batch_size", "team")} == {
        "retention_days": 30.5,
        "mode": "delete",
        "batch_size": None,
        "team": "ops",
    }
    # A function without declared options takes any metadata, as before.
    assert _create(callers.admin_a, "echo", {"mode": "bogus"}).status_code == 201


def test_an_update_is_checked_against_the_functions_options(
    callers: Callers, store: SqlStore
) -> None:
    api = callers.admin_a
    job = _create(api, "markUsersOffline", {"timeout_minutes": 5}).json()["data"]["job"]
    path = f"/api/cron/jobs/{job['id']}"

    refused = api.put(path, json={"metadata": {"timeout_minutes": -1}})
    assert "must be a number > 0" in _errors(refused)["metadata.timeout_minutes"]
    # Another function whose options the metadata breaks: refused too.
    switched = api.put(path, json={"function_name": "cleanOldActivities", "metadata": {"mode": 1}})
    assert list(_errors(switched)) == ["metadata.mode"]
    [stored] = store.list_jobs()
    assert (stored.function_name, stored.metadata["timeout_minutes"]) == ("markUsersOffline", 5)

    changed = api.put(path, json={"metadata": {"timeout_minutes": 15}})
    assert changed.status_code == 200, changed.text
    assert changed.json()["data"]["job"]["metadata"]["timeout_minutes"] == 15


def test_a_job_stored_with_bad_options_can_still_be_paused(
    callers: Callers, store: SqlStore
) -> None:
    """A job stored before options were checked: changes that leave its metadata and function
    alone go through (pausing it must not require fixing it first); changing them is checked."""
    api = callers.admin_a
    job = _create(api, "cleanOldActivities", {}).json()["data"]["job"]
    store.update_job(
        uuid.UUID(job["id"]), {"metadata": {"mode": "bogus"}}
    )  # as an older version stored it
    path = f"/api/cron/jobs/{job['id']}"

    paused = api.put(path, json={"is_active": False})
    assert paused.status_code == 200, paused.text
    assert paused.json()["data"]["job"]["is_active"] is False
    kept = api.put(path, json={"metadata": {"mode": "bogus"}})
    assert list(_errors(kept)) == ["metadata.mode"]
