"""Registries and job groups: what a registry holds is what it was given, nothing else."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

import pytest

from cronbase.builtin import BUILTIN_JOBS
from cronbase.builtin.jobs import mark_users_offline
from cronbase.errors import DuplicateJob, UnknownJobFunction
from cronbase.registry import JobContext, JobGroup, JobRegistry

BUILTIN_NAMES = ["cleanOldActivities", "markUsersOffline", "syncDenormalizedFields"]


def _group(*names: str) -> JobGroup:
    group = JobGroup()
    for name in names:

        @group.job(name, description=f"the {name} job")
        def job(_ctx: JobContext) -> dict[str, Any]:
            return {}

    return group


def test_a_new_registry_is_empty_and_includes_only_what_it_is_given() -> None:
    assert JobRegistry().names() == []
    registry = JobRegistry()
    registry.include(BUILTIN_JOBS)
    assert registry.names() == BUILTIN_NAMES
    assert registry.get("markUsersOffline").func is mark_users_offline
    with pytest.raises(UnknownJobFunction, match="echo"):
        registry.get("echo")


def test_including_the_same_group_twice_changes_nothing() -> None:
    registry = JobRegistry(BUILTIN_JOBS)
    registry.include(BUILTIN_JOBS)
    assert registry.functions() == BUILTIN_JOBS.functions()


def test_a_name_taken_by_another_function_is_refused_and_adds_nothing() -> None:
    registry = JobRegistry(_group("a", "markUsersOffline"))
    with pytest.raises(DuplicateJob, match="'markUsersOffline' is already registered"):
        registry.include(BUILTIN_JOBS)
    assert registry.names() == ["a", "markUsersOffline"]  # not even the free names were added
    assert registry.get("markUsersOffline").func is not mark_users_offline


def test_registering_a_taken_name_on_a_registry_raises() -> None:
    registry = JobRegistry(BUILTIN_JOBS)
    with pytest.raises(DuplicateJob):
        registry.job("cleanOldActivities")(mark_users_offline)


def test_registries_do_not_share_their_functions() -> None:
    first, second = JobRegistry(BUILTIN_JOBS), JobRegistry(BUILTIN_JOBS)
    first.include(_group("only_here"))
    assert "only_here" in first
    assert "only_here" not in second
    assert BUILTIN_JOBS.names() == BUILTIN_NAMES


def _in_a_fresh_interpreter(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_default_registry_gets_the_built_ins_and_user_modules_from_load_job_modules() -> None:
    # In a process of its own: this fills the process-wide default registry.
    out = _in_a_fresh_interpreter(
        """
        import sys
        from cronbase.registry import registry
        assert "cronbase.builtin" not in sys.modules, "the registry imports the built-ins"
        assert registry.names() == []
        from cronbase.job_modules import load_job_modules
        assert load_job_modules(["tests.acceptance.sample_jobs"]) is registry
        assert load_job_modules(["tests.acceptance.sample_jobs"]) is registry  # again: harmless
        print(",".join(registry.names()))
        """
    )
    assert out.split(",") == sorted(
        [*BUILTIN_NAMES, "alwaysFails", "logsThenFails", "neverReturns", "slowNoop"]
    )


def test_a_user_module_that_cannot_be_imported_is_a_configuration_error() -> None:
    out = _in_a_fresh_interpreter(
        """
        from cronbase.errors import ConfigurationError
        from cronbase.job_modules import load_job_modules
        try:
            load_job_modules(["no_such_module_here"])
        except ConfigurationError as exc:
            print(exc)
        """
    )
    assert out.startswith("CRONBASE_JOB_MODULES names 'no_such_module_here', which cannot be")
