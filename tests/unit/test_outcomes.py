"""How a run ended, as the outcome the runner records (pure)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cronbase.errors import UnknownJobFunction
from cronbase.jobs import RunStatus
from cronbase.runner.outcomes import (
    ABANDONED_ERROR,
    CannotRun,
    LeaseLapsed,
    ShutDown,
    TimedOut,
    build_outcome,
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
