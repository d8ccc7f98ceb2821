"""job_validation: every check, without a database or a registry (the caller passes them in)."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import pytest

from cronbase.builtin.options import MarkUsersOfflineOptions
from cronbase.errors import InvalidJob
from cronbase.job_validation import unknown_field_errors, validated
from cronbase.manager import JobSpec

FUNCTIONS = ["echo", "markUsersOffline"]


def _spec(**changes: Any) -> JobSpec:
    return JobSpec(**{"name": "n", "schedule": "hourly", "function_name": "echo", **changes})


def _errors(spec: JobSpec, *, tenant_exists: bool = True) -> dict[str, str]:
    with pytest.raises(InvalidJob) as caught:
        validated(spec, function_names=FUNCTIONS, tenant_exists=tenant_exists)
    return dict(caught.value.errors)


def test_a_valid_spec_comes_back_cleaned() -> None:
    spec = _spec(name="  Nightly  ", schedule=" cron:0 2 * * * ", timezone="Europe/Berlin")
    values = validated(spec, function_names=FUNCTIONS, tenant_exists=True)
    assert values == {**dataclasses.asdict(spec), "name": "Nightly", "schedule": "cron:0 2 * * *"}
    assert (
        validated(_spec(timezone=None), function_names=FUNCTIONS, tenant_exists=True)["timezone"]
        == "UTC"
    )


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": "   "}, "name", "must not be blank"),
        ({"name": "x" * 201}, "name", "is 201 characters long; at most 200"),
        ({"name": "a\nb"}, "name", "must be one line of printable text"),
        ({"schedule": "cron:0 25 * * *"}, "schedule", "0-23"),
        ({"timezone": "Europe/Atlantis"}, "timezone", "Europe/Atlantis"),
        ({"timezone": "europe/berlin"}, "timezone", "did you mean 'Europe/Berlin'?"),
        ({"function_name": "nope"}, "function_name", "choose one of: echo, markUsersOffline"),
        ({"metadata": []}, "metadata", "must be a JSON object, got list"),
        ({"metadata": {"x": float("nan")}}, "metadata", "is not JSON-serialisable"),
        ({"priority": 1001}, "priority", "from -1000 to 1000"),
        ({"priority": True}, "priority", "must be an integer"),
        ({"timeout_seconds": 0}, "timeout_seconds", "or null for no limit"),
        ({"max_attempts": 21}, "max_attempts", "from 1 (no retries) to 20"),
        ({"max_attempts": None}, "max_attempts", "from 1 (no retries) to 20"),
        ({"retry_delay_seconds": 86401}, "retry_delay_seconds", "from 1 to 86400"),
        ({"catchup_window_seconds": 1.5}, "catchup_window_seconds", "whole number of seconds"),
        ({"misfire_policy": "later"}, "misfire_policy", "'later' is not one of: coalesce"),
        ({"overlap_policy": "wait"}, "overlap_policy", "is not one of: skip, allow, queue"),
        ({"isolation": "vm"}, "isolation", "'vm' is not one of: thread, process"),
    ],
)
def test_each_problem_names_its_field_and_the_fix(
    changes: dict[str, Any], field: str, message: str
) -> None:
    errors = _errors(_spec(**changes))
    assert list(errors) == [field]
    assert message in errors[field]


def test_every_problem_is_reported_at_once() -> None:
    errors = _errors(_spec(name="", function_name="nope", priority=5000, isolation="vm"))
    assert set(errors) == {"name", "function_name", "priority", "isolation"}


def test_the_tenant_is_checked_only_when_there_is_one() -> None:
    tenant = uuid.uuid4()
    assert _errors(_spec(tenant_id=tenant), tenant_exists=False) == {
        "tenant_id": f"no tenant with id {tenant}"
    }
    values = validated(_spec(), function_names=FUNCTIONS, tenant_exists=False)
    assert values["tenant_id"] is None


def test_null_means_no_limit_where_a_limit_is_optional() -> None:
    spec = _spec(timeout_seconds=None, catchup_window_seconds=None)
    assert validated(spec, function_names=FUNCTIONS, tenant_exists=True)["timeout_seconds"] is None


def test_unknown_fields_are_named() -> None:
    assert unknown_field_errors(["name", "next_run", "colour"]) == [
        ("colour", "is not a job field"),
        ("next_run", "is not a job field"),
    ]


def test_metadata_keeps_to_the_functions_options() -> None:
    spec = _spec(function_name="markUsersOffline", metadata={"timeout_minutes": "5", "x": 1})
    with pytest.raises(InvalidJob) as caught:
        validated(
            spec, function_names=FUNCTIONS, tenant_exists=True, options=MarkUsersOfflineOptions
        )
    assert caught.value.errors == [
        ("metadata.timeout_minutes", "must be a number > 0 and <= 52596000 (default 5); got '5'")
    ]
    # Without options (a function that declares none, or a change leaving them alone): as before.
    assert validated(spec, function_names=FUNCTIONS, tenant_exists=True)["metadata"] == {
        "timeout_minutes": "5",
        "x": 1,
    }
