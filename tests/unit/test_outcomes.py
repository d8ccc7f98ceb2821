"""How a run ended, as the outcome the runner records (pure)."""

from __future__ import annotations

import types
from datetime import timedelta
from typing import Any

import pytest

from cronbase.errors import UnknownJobFunction
from cronbase.jobs import RunStatus
from cronbase.limits import MAX_RUN_TEXT_BYTES
from cronbase.runner.isolation import JobProcessError
from cronbase.runner.outcomes import (
    ABANDONED_ERROR,
    CannotRun,
    LeaseLapsed,
    ShutDown,
    TimedOut,
    build_outcome,
    traceback_text,
)
from tests.unit.job_factory import NOW, make_claim, make_job

LATER = NOW + timedelta(seconds=3)


def test_a_run_that_returned_succeeded_with_its_result() -> None:
    claim = make_claim()
    outcome = build_outcome(claim, NOW, LATER, {"n": 1}, None, jitter=0.0)
    assert (outcome.status, outcome.result, outcome.error, outcome.retry_at) == (
        RunStatus.SUCCEEDED,
        {"n": 1},
        None,
        None,
    )
    assert (outcome.claim, outcome.started_at, outcome.finished_at) == (claim, NOW, LATER)
    assert not outcome.lapsed


@pytest.mark.parametrize(
    ("error", "status", "text"),
    [
        (
            RuntimeError("the disk is on fire"),
            RunStatus.FAILED,
            "RuntimeError: the disk is on fire",
        ),
        (TimedOut("timed out after 30s"), RunStatus.TIMED_OUT, "timed out after 30s"),
        (ShutDown("the worker shut down"), RunStatus.ABANDONED, "the worker shut down"),
        (LeaseLapsed(), RunStatus.ABANDONED, ABANDONED_ERROR),
        (UnknownJobFunction("nope"), RunStatus.FAILED, str(UnknownJobFunction("nope"))),
        (ValueError("nul \x00 byte"), RunStatus.FAILED, "ValueError: nul  byte"),
    ],
)
def test_the_status_and_error_text_come_from_the_exception(
    error: BaseException, status: RunStatus, text: str
) -> None:
    outcome = build_outcome(make_claim(), NOW, LATER, None, error, jitter=0.0)
    assert (outcome.status, outcome.error, outcome.result) == (status, text, None)
    assert outcome.lapsed is isinstance(error, LeaseLapsed)


def test_an_unfinished_run_is_retried_while_attempts_remain() -> None:
    job = make_job(max_attempts=3, retry_delay_seconds=10)
    for error in (RuntimeError("x"), TimedOut("t"), ShutDown("s"), LeaseLapsed()):
        first = build_outcome(make_claim(job), NOW, LATER, None, error, jitter=0.0)
        assert first.retry_at == LATER + timedelta(seconds=10)
    second = build_outcome(make_claim(job, attempt=2), NOW, LATER, None, LeaseLapsed(), 0.0)
    assert second.retry_at == LATER + timedelta(seconds=20)
    last = build_outcome(make_claim(job, attempt=3), NOW, LATER, None, RuntimeError("x"), 0.0)
    assert last.retry_at is None


def test_a_job_that_cannot_run_is_not_retried() -> None:
    job = make_job(max_attempts=3)
    outcome = build_outcome(make_claim(job), NOW, LATER, None, CannotRun("bad schedule"), 0.0)
    assert (outcome.status, outcome.error, outcome.retry_at) == (
        RunStatus.FAILED,
        "bad schedule",
        None,
    )


def _helper(data: dict[str, int]) -> int:
    return data["missing"]


def _job_function() -> int:
    return _helper({})


def _raised(call: Any) -> BaseException:
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - the test inspects it
        return exc
    raise AssertionError("did not raise")


def test_a_failure_keeps_its_traceback_down_to_the_helper_that_raised() -> None:
    outcome = build_outcome(make_claim(), NOW, LATER, None, _raised(_job_function), 0.0, "log\n")
    assert outcome.error == "KeyError: 'missing'"
    assert outcome.log == "log\n"
    trace = outcome.traceback or ""
    assert trace.startswith("Traceback (most recent call last):")
    assert "in _job_function" in trace
    assert 'return data["missing"]' in trace
    assert trace.endswith("KeyError: 'missing'\n")


def test_the_runners_own_frames_are_left_out_of_a_traceback() -> None:
    runner_module = types.ModuleType("cronbase.runner.fake_pool")
    exec("def serve(call):\n    return call()\n", vars(runner_module))  # noqa: S102
    trace = traceback_text(_raised(lambda: runner_module.serve(_job_function))) or ""
    assert "fake_pool" not in trace
    assert trace.index("in <lambda>") < trace.index("in _job_function") < trace.index("_helper")


@pytest.mark.parametrize(
    "error",
    [TimedOut("t"), ShutDown("s"), LeaseLapsed(), CannotRun("c"), UnknownJobFunction("nope")],
)
def test_cronbases_own_endings_have_no_traceback(error: BaseException) -> None:
    assert build_outcome(make_claim(), NOW, LATER, None, error, 0.0).traceback is None


def test_an_error_from_a_child_process_carries_the_childs_traceback() -> None:
    error = JobProcessError("KeyError: 'missing'", traceback="Traceback ...\nKeyError: 'missing'\n")
    outcome = build_outcome(make_claim(), NOW, LATER, None, error, 0.0)
    assert outcome.traceback == "Traceback ...\nKeyError: 'missing'\n"


def test_a_success_keeps_its_log_and_has_no_traceback() -> None:
    outcome = build_outcome(make_claim(), NOW, LATER, {}, None, 0.0, "one line\n")
    assert (outcome.log, outcome.traceback) == ("one line\n", None)


def test_a_huge_traceback_is_cut_with_a_marker_keeping_its_end() -> None:
    def deep(n: int) -> None:
        if n == 0:
            raise ValueError("x" * 100_000)
        deep(n - 1)

    outcome = build_outcome(make_claim(), NOW, LATER, None, _raised(lambda: deep(50)), 0.0)
    trace = outcome.traceback or ""
    assert len(trace.encode()) <= MAX_RUN_TEXT_BYTES
    assert "bytes cut: the text was" in trace
    assert trace.startswith("Traceback (most recent call last):")
    assert trace.endswith("x\n")
