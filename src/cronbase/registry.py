"""Job functions, registered by the name a job stores in `function_name`."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from cronbase.errors import DuplicateJob, UnknownJobFunction
from cronbase.job_options import JobOptions
from cronbase.jobs import json_problem
from cronbase.limits import MAX_RESULT_DEPTH, cut_result, json_depth


@dataclass(frozen=True)
class JobContext:
    """What a job function receives.

    `connection` is opened on first use, in a transaction that the runner commits when the
    function returns and rolls back when it raises; a function may also call
    `connection.commit()` itself to keep work done so far (cleanOldActivities commits each
    batch). A job that never touches it costs no database round trip.
    """

    job_id: UUID
    tenant_id: UUID | None  # None for a global job: it works on every tenant
    metadata: dict[str, Any]
    scheduled_for: datetime
    now: datetime
    logger: logging.Logger
    # Set when the run passes its deadline or the worker shuts down: a long job should check
    # it between steps and return early.
    cancelled: threading.Event = field(default_factory=threading.Event)
    attempt: int = 1  # 2 and up when the run is a retry (the job's max_attempts allows)
    # The upstream run ids that started a run with trigger `dependency` (else empty).
    triggered_by: tuple[str, ...] = ()
    connect: Callable[[], sa.Connection] = field(kw_only=True, repr=False)

    @functools.cached_property
    def connection(self) -> sa.Connection:
        return self.connect()

    @property
    def connected(self) -> bool:
        """Whether the function used its connection (it was opened)."""
        return "connection" in self.__dict__


JobFunction = Callable[[JobContext], dict[str, Any]]


def checked_result(result: Any, function_name: str | None) -> dict[str, Any]:
    """Return what a job function returned as the dict to store ({} for None). Raise TypeError
    if it is not a dict that both databases can store as JSON. A result past the caps in
    cronbase.limits is replaced by a note saying so: the run did its work, so it still
    succeeds, but one run cannot fill the history (or a listing) with megabytes."""
    if result is None or (type(result) is dict and not result):
        return {}  # nothing to check: what most jobs return, cheaply (the checks cost 20 us)
    if not isinstance(result, dict):
        raise TypeError(
            f"job function {function_name!r} returned {type(result).__name__}; "
            "return a JSON-serialisable dict (or None)"
        )
    if json_depth(result) > MAX_RESULT_DEPTH:  # before json_problem: too deep to serialize
        return cut_result(result) or {}
    problem = json_problem(result)
    if problem:
        raise TypeError(f"job function {function_name!r} returned a dict that {problem}")
    return cut_result(result) or {}


@dataclass(frozen=True)
class RegisteredFunction:
    name: str
    func: JobFunction
    description: str
    # The metadata keys the function reads: checked when a job is created or changed, shown by
    # the API and the Web UI. None: the function declares none (its metadata is not checked).
    options: type[JobOptions] | None = None


class JobGroup:
    """Job functions registered by name: a module's set of jobs, for a registry to include
    (like a procrastinate Blueprint or a Flask blueprint). A name can be registered once."""

    def __init__(self) -> None:
        self._functions: dict[str, RegisteredFunction] = {}

    def job(
        self,
        name: str,
        *,
        description: str | None = None,
        options: type[JobOptions] | None = None,
    ) -> Callable[[JobFunction], JobFunction]:
        """Decorator: register the function under `name`, with the options (a JobOptions
        model) it reads from a job's metadata. Raise DuplicateJob if the name is taken."""

        def register(func: JobFunction) -> JobFunction:
            doc = description or (func.__doc__ or "").strip().split("\n\n")[0]
            self._add(RegisteredFunction(name, func, " ".join(doc.split()), options))
            return func

        return register

    def _add(self, function: RegisteredFunction) -> None:
        if function.name in self._functions:
            raise DuplicateJob(function.name)
        self._functions[function.name] = function

    def get(self, name: str | None) -> RegisteredFunction:
        """Return the function registered as `name`; raise UnknownJobFunction if there is none."""
        if name is None or name not in self._functions:
            raise UnknownJobFunction(name, self.names())
        return self._functions[name]

    def __contains__(self, name: object) -> bool:
        return name in self._functions

    def names(self) -> list[str]:
        return sorted(self._functions)

    def functions(self) -> list[RegisteredFunction]:
        return [self._functions[name] for name in self.names()]


class JobRegistry(JobGroup):
    """The job functions a runner and the API know: its own, plus the groups it includes.

    `JobRegistry()` is empty; `JobRegistry(*groups)` starts with the groups' functions, and
    `include` adds a group's functions as they are at that moment.
    """

    def __init__(self, *groups: JobGroup) -> None:
        super().__init__()
        for group in groups:
            self.include(group)

    def include(self, group: JobGroup) -> None:
        """Add every function of `group`. Including the same functions again changes nothing;
        a name already registered for another function raises DuplicateJob, and then none of
        the group's functions is added."""
        new = [f for f in group.functions() if self._functions.get(f.name) != f]
        clash = next((f.name for f in new if f.name in self._functions), None)
        if clash is not None:
            raise DuplicateJob(clash)
        for function in new:
            self._add(function)


# The default registry: job modules named in CRONBASE_JOB_MODULES register into it with
# `from cronbase.registry import registry`. `cronbase.job_modules.load_job_modules` adds the
# built-in jobs to it.
registry = JobRegistry()
