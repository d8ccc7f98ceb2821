"""JOB_FIELDS is the one definition of a job's fields: what is derived from it agrees with it,
and the table, written out in SQL terms, is held to it here."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime
from typing import Any

import pydantic
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from cronbase.api.schemas import JobCreate, JobPublic, JobUpdate
from cronbase.cli.parser import build_parser
from cronbase.job_fields import COLUMN_FIELDS, JOB_FIELDS, SETTABLE_FIELDS, JobField
from cronbase.jobs import Job, job_with, stored_job
from cronbase.manager import JobSpec
from cronbase.store.tables import cron_job, cron_job_dependency

NOW = datetime(2025, 1, 15, 10, 30, tzinfo=UTC)


def _server_default(column: sa.Column[Any]) -> str | None:
    """The column's server default as PostgreSQL would spell it, or None."""
    if column.server_default is None:
        return None
    arg = column.server_default.arg  # type: ignore[attr-defined]
    return arg if isinstance(arg, str) else str(arg.compile(dialect=postgresql.dialect()))


def _expected_server_default(job_field: JobField) -> str | None:
    if job_field.required or job_field.default is None:
        return None
    if job_field.default is dict:
        return "'{}'"
    if isinstance(job_field.default, bool):
        return "true" if job_field.default else "false"
    return str(job_field.default)


def test_the_table_has_the_fields_columns_in_their_order() -> None:
    assert [column.name for column in cron_job.c] == [f.name for f in COLUMN_FIELDS]
    # depends_on is the dependency graph's table, not a column
    assert [f.name for f in JOB_FIELDS if not f.column] == ["depends_on"]
    assert {c.name for c in cron_job_dependency.c} == {"job_id", "upstream_id", "on"}


@pytest.mark.parametrize("job_field", COLUMN_FIELDS, ids=lambda f: f.name)
def test_each_column_matches_its_field(job_field: JobField) -> None:
    column = cron_job.c[job_field.name]
    assert column.nullable == job_field.nullable
    if job_field.settable:  # a row inserted without the field gets the field's default
        assert _server_default(column) == _expected_server_default(job_field)
    else:  # set by the server: an id and timestamps the database makes, or NULL until known
        assert (column.server_default is not None) == (not job_field.nullable)


def test_job_spec_has_the_settable_fields_and_their_defaults() -> None:
    spec = JobSpec(name="n", schedule="hourly", function_name="f")
    assert [f.name for f in dataclasses.fields(spec)] == [f.name for f in SETTABLE_FIELDS]
    assert dataclasses.asdict(spec) == {
        "tenant_id": None,
        "name": "n",
        "schedule": "hourly",
        "function_name": "f",
        "is_active": True,
        "metadata": {},
        "timezone": "UTC",
        "priority": 0,
        "timeout_seconds": None,
        "misfire_policy": "coalesce",
        "catchup_window_seconds": None,
        "overlap_policy": "skip",
        "max_attempts": 1,
        "retry_delay_seconds": 30,
        "isolation": "thread",
        "overdue_after_seconds": 600,
        "depends_on": [],
        "wait_for": "any",
        "keep_runs": None,
        "muted_until": None,
        "jitter_seconds": 0,
    }
    # each spec has a metadata dict of its own
    assert JobSpec(name="m", schedule="hourly", function_name="f").metadata is not spec.metadata
    with pytest.raises(TypeError):
        JobSpec(name="n", schedule="hourly")  # type: ignore[call-arg]


def _job(**changes: Any) -> Any:
    values = {
        "id": uuid.UUID(int=1),
        "name": "n",
        "schedule": "hourly",
        "function_name": "f",
        "last_run": None,
        "next_run": NOW,
        "created_at": NOW,
        "updated_at": NOW,
    }
    return Job(**{**values, **changes})


def test_a_jobs_dict_is_the_seeds_job_object_in_the_fields_order() -> None:
    tenant = uuid.UUID(int=2)
    data = _job(tenant_id=tenant, metadata={"a": 1}).to_dict()
    assert list(data) == [f.name for f in JOB_FIELDS]
    assert data["id"] == "00000000-0000-0000-0000-000000000001"
    assert data["tenant_id"] == str(tenant)
    assert data["next_run"] == "2025-01-15T10:30:00Z"
    assert data["last_run"] is None
    assert data["metadata"] == {"a": 1}
    assert data["isolation"] == "thread"
    assert _job().to_dict()["tenant_id"] is None


def test_the_api_models_have_the_fields_and_defaults() -> None:
    assert list(JobPublic.model_fields) == [f.name for f in JOB_FIELDS]
    settable = [f.name for f in SETTABLE_FIELDS]
    assert list(JobCreate.model_fields) == settable
    assert list(JobUpdate.model_fields) == settable
    created = JobCreate(name="n", schedule="hourly", function_name="f")
    assert created.model_dump() == dataclasses.asdict(
        JobSpec(name="n", schedule="hourly", function_name="f")
    )
    public = JobPublic.model_validate(_job(), from_attributes=True)
    assert public.model_dump(mode="json")["next_run"] == "2025-01-15T10:30:00Z"


def test_the_api_refuses_what_the_fields_forbid() -> None:
    with pytest.raises(pydantic.ValidationError, match="at most 200"):
        JobCreate(name="x" * 201, schedule="hourly", function_name="f")
    with pytest.raises(pydantic.ValidationError, match="misfire_policy"):
        JobCreate(name="n", schedule="hourly", function_name="f", misfire_policy="later")
    with pytest.raises(pydantic.ValidationError, match="extra"):
        JobCreate(name="n", schedule="hourly", function_name="f", next_run=NOW)
    # null erases nothing: only fields that mean something when null may be null
    with pytest.raises(pydantic.ValidationError, match="priority\n  cannot be null"):
        JobUpdate(priority=None)
    assert JobUpdate(tenant_id=None, timeout_seconds=None).model_fields_set == {
        "tenant_id",
        "timeout_seconds",
    }


def test_the_openapi_schema_keeps_descriptions_defaults_and_examples() -> None:
    schema = JobCreate.model_json_schema()
    assert schema["required"] == ["name", "schedule", "function_name"]
    properties = schema["properties"]
    assert properties["schedule"]["examples"] == ["every_5_minutes", "hourly", "cron:0 2 * * *"]
    assert properties["timezone"]["default"] == "UTC"
    assert properties["priority"]["description"].startswith("-1000 to 1000")
    assert properties["isolation"]["default"] == "thread"


def test_jobs_add_has_an_option_per_settable_field() -> None:
    args = build_parser().parse_args(
        ["jobs", "add", "--name", "n", "--schedule", "hourly", "--function", "f"]
    )
    spec_defaults = dataclasses.asdict(JobSpec(name="n", schedule="hourly", function_name="f"))
    for name, default in spec_defaults.items():
        if name == "is_active":
            assert args.is_active is False  # --inactive not given
        elif name == "metadata":
            assert args.metadata == "{}"
        elif name == "depends_on":
            assert args.depends_on is None  # --depends-on not given: no upstreams
        else:
            assert getattr(args, name) == default, name
    with pytest.raises(SystemExit):
        build_parser().parse_args(["jobs", "add", "--name", "n", "--schedule", "hourly"])


def test_a_job_read_from_the_database_is_the_job_its_init_makes() -> None:
    # stored_job fills the Job's __dict__ without its __init__ (the claims' hot path).
    made = _job(tenant_id=uuid.UUID(int=2), metadata={"a": 1})
    values = {f.name: getattr(made, f.name) for f in JOB_FIELDS if f.column}
    stored = stored_job(dict(values))
    assert stored == made
    assert repr(stored) == repr(made)
    assert stored.depends_on == []  # not a column: its default, a list of its own
    assert stored.depends_on is not stored_job(dict(values)).depends_on
    with pytest.raises(dataclasses.FrozenInstanceError):
        stored.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError, match="missing \\['schedule'\\]"):
        stored_job({k: v for k, v in values.items() if k != "schedule"})
    with pytest.raises(TypeError, match="unknown \\['nope'\\]"):
        stored_job({**values, "depends_on": [], "nope": 1})


def test_job_with_is_dataclasses_replace() -> None:
    job = _job()
    assert job_with(job, name="m", priority=3) == dataclasses.replace(job, name="m", priority=3)
    assert job.name == "n"
    with pytest.raises(TypeError, match="no field"):
        job_with(job, nope=1)
