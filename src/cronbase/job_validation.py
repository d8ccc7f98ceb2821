"""Is a job spec storable? Pure: what needs the database or the registry, the caller passes in.

The ranges and choices come from JOB_FIELDS; the checks that need more than a range (a name, a
schedule in its time zone, a registered function, JSON that both databases store) are here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from cronbase.errors import InvalidJob, InvalidSchedule
from cronbase.job_fields import (
    MAX_NAME_LENGTH,
    SETTABLE_FIELDS,
    Dependency,
    DependsOn,
    JobField,
    JobSpec,
)
from cronbase.job_options import JobOptions, option_errors
from cronbase.jobs import json_problem, utc_instant
from cronbase.limits import JobLimits, document_problem
from cronbase.monitoring import MONITORING_KEYS
from cronbase.schedule import parse_schedule, validate_timezone

_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
_SURROGATES = re.compile("[\ud800-\udfff]")

Errors = list[tuple[str, str]]


def validated(
    spec: JobSpec,
    *,
    function_names: Sequence[str],
    tenant_exists: bool,
    limits: JobLimits | None = None,
    options: type[JobOptions] | None = None,
) -> dict[str, Any]:
    """The spec's values, cleaned (name and schedule stripped, the zone's canonical name), or
    InvalidJob listing every problem. `function_names` are the registered functions;
    `tenant_exists` says whether spec.tenant_id (if set) names a tenant; `limits`, when
    given, bound the metadata's size and depth (the caller leaves them out for metadata it
    did not receive from the client); `options` are the options spec.function_name declares,
    which its metadata must keep to (at `metadata.<key>`)."""
    errors: Errors = []
    name = check_name(spec.name, errors)
    timezone = _check_schedule(spec.schedule, spec.timezone, errors)
    upstreams = _check_upstreams(spec.depends_on, errors)
    errors.extend(_function_errors(spec.function_name, function_names))
    errors.extend(_metadata_errors(spec.metadata, limits))
    errors.extend((f"metadata.{key}", why) for key, why in option_errors(options, spec.metadata))
    for job_field in SETTABLE_FIELDS:
        errors.extend(_range_errors(job_field, getattr(spec, job_field.name)))
    if spec.tenant_id is not None and not tenant_exists:
        errors.append(("tenant_id", f"no tenant with id {spec.tenant_id}"))
    if errors:
        raise InvalidJob(errors)
    values = {f.name: getattr(spec, f.name) for f in SETTABLE_FIELDS}
    values.update(
        name=name, schedule=spec.schedule.strip(), timezone=timezone, depends_on=upstreams
    )
    return values


def unknown_field_errors(names: Collection[str]) -> Errors:
    """A change naming something that is not a field a client may set."""
    settable = {f.name for f in SETTABLE_FIELDS}
    return [(name, "is not a job field") for name in sorted(set(names) - settable)]


def _check_upstreams(value: Any, errors: Errors) -> list[Dependency]:
    """depends_on as Dependency edges, each upstream once. Whether the upstreams exist, share
    the job's tenant and make no cycle is checked where the graph is: under its lock (see
    store/graph.py and dependency_rules)."""
    if not isinstance(value, list):
        errors.append(("depends_on", 'must be a list of {"job_id": ..., "on": ...}'))
        return []
    upstreams: list[Dependency] = []
    for index, item in enumerate(value):
        dependency = _dependency(item)
        if dependency is None:
            choices = ", ".join(c.value for c in DependsOn)
            errors.append(
                (
                    f"depends_on.{index}",
                    f'must be {{"job_id": a job id, "on": one of {choices}}}; got {item!r}',
                )
            )
        elif any(d.job_id == dependency.job_id for d in upstreams):
            errors.append((f"depends_on.{index}.job_id", f"{dependency.job_id} is listed twice"))
        else:
            upstreams.append(dependency)
    return upstreams


def _dependency(item: Any) -> Dependency | None:
    if isinstance(item, Dependency):
        return item
    if not isinstance(item, dict) or "job_id" not in item or set(item) - {"job_id", "on"}:
        return None
    try:
        job_id = item["job_id"] if isinstance(item["job_id"], UUID) else UUID(item["job_id"])
        return Dependency(job_id, DependsOn(item.get("on", DependsOn.SUCCESS)))
    except (TypeError, ValueError, AttributeError):
        return None


def check_name(value: Any, errors: Errors) -> str:
    """The name stripped, after adding to `errors` what is wrong with it (jobs and channels)."""
    name = value.strip() if isinstance(value, str) else ""
    if not name:
        errors.append(("name", "must not be blank"))
    elif len(name) > MAX_NAME_LENGTH:
        errors.append(("name", f"is {len(name)} characters long; at most {MAX_NAME_LENGTH}"))
    else:
        problem = text_problem(name)
        if problem:
            errors.append(("name", problem))
    return name


def text_problem(text: str) -> str | None:
    """Why `text` cannot stand as one line that people read (a name, a reason), or None: a
    control character (a NUL, which PostgreSQL cannot store, a line break) or an invisible or
    bidirectional one (U+202E turns the rest of a sentence that quotes it around)."""
    if _CONTROL_CHARACTERS.search(text):
        return "must be one line of printable text (no control characters)"
    if _SURROGATES.search(text):  # a command line's bytes that were not UTF-8 come as these
        return "must be text: it holds bytes that are not UTF-8, which cannot be stored"
    problems = _invisible_problems(text)
    return problems[0] if problems else None


# The zero-width joiner is a format character too, but it joins emoji (family, flags): allowed
# between visible characters. Every other format character (bidirectional overrides and
# isolates, zero-width spaces, the BOM) can make a name read as another or as nothing.
_JOINER = "\u200d"


def _invisible_problems(name: str) -> list[str]:
    for position, char in enumerate(name, start=1):
        if unicodedata.category(char) == "Cf" and char != _JOINER:
            code = f"U+{ord(char):04X} {unicodedata.name(char, 'FORMAT CHARACTER')}"
            problem = "must not contain invisible or bidirectional control characters"
            return [f"{problem}; found {code} at position {position}"]
    if not any(c.isprintable() and not c.isspace() and c != _JOINER for c in name):
        return ["must contain a visible character"]
    return []


def _check_schedule(schedule: str, zone: str, errors: Errors) -> str:
    """The zone's canonical name (UTC if it has none), after checking it and the schedule."""
    timezone = "UTC"
    try:
        timezone = validate_timezone(zone)
    except InvalidSchedule as exc:
        errors.append(("timezone", str(exc)))
    try:
        parse_schedule(schedule, timezone)
    except InvalidSchedule as exc:
        errors.append(("schedule", str(exc)))
    return timezone


def _function_errors(function_name: Any, function_names: Sequence[str]) -> Errors:
    if function_name in function_names:
        return []
    known = ", ".join(function_names)
    message = f"{function_name!r} is not a registered job function; choose one of: {known}"
    return [("function_name", message)]


def _metadata_errors(metadata: Any, limits: JobLimits | None) -> Errors:
    if not isinstance(metadata, dict):
        return [("metadata", f"must be a JSON object, got {type(metadata).__name__}")]
    if limits is not None:
        # The monitoring keys a client sends are dropped anyway (the server writes them).
        own = {key: value for key, value in metadata.items() if key not in MONITORING_KEYS}
        problem = document_problem(
            own, max_bytes=limits.max_metadata_bytes, max_depth=limits.max_metadata_depth
        )
        if problem:
            return [("metadata", problem)]
    problem = json_problem(metadata)
    return [("metadata", problem)] if problem else []


def _range_errors(job_field: JobField, value: Any) -> Errors:
    """A value outside the field's bounds or choices (None passes where clients may send it)."""
    if value is None and job_field.client_nullable:
        return []
    if job_field.type is datetime and (
        not isinstance(value, datetime) or value.utcoffset() is None
    ):
        return [
            (job_field.name, "must be a date and time with its offset, e.g. 2026-12-01T08:00:00Z")
        ]
    if job_field.type is datetime and value is not None:
        try:
            utc_instant(value)
        except ValueError as exc:
            return [(job_field.name, str(exc))]
    if job_field.choices is not None and value not in {c.value for c in job_field.choices}:
        allowed = ", ".join(c.value for c in job_field.choices)
        return [(job_field.name, f"{value!r} is not one of: {allowed}")]
    if job_field.bounds is not None:
        low, high = job_field.bounds
        if type(value) is not int or not low <= value <= high:
            return [(job_field.name, job_field.invalid or f"must be from {low} to {high}")]
    return []
