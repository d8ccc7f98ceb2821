"""The worker's run log: a line per run by default; with a RunTally (CRONBASE_RUN_LOG=summary)
a line per interval counting the runs and their start lag, while a failure keeps its own line."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cronbase.bootstrap import build
from cronbase.config import Settings
from cronbase.manager import SYSTEM, JobManager
from cronbase.registry import JobContext, JobRegistry
from cronbase.runner import Runner
from cronbase.runner.tally import RunTally
from cronbase.store import SqlStore
from cronbase.testing import FakeClock
from tests.helpers import MakeJob

RUN_LOGGERS = ("cronbase.runner.reporting", "cronbase.runner.tally")


@pytest.fixture
def registry() -> JobRegistry:
    registry = JobRegistry()

    @registry.job("fine")
    def fine(_ctx: JobContext) -> dict[str, Any]:
        return {}

    @registry.job("broken")
    def broken(_ctx: JobContext) -> dict[str, Any]:
        raise RuntimeError("the disk is on fire")

    return registry


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name in RUN_LOGGERS]


def _three_due(make_job: MakeJob, clock: FakeClock) -> None:
    for name in ("a", "b"):
        make_job("fine", name=name, schedule="hourly")
    make_job("broken", name="c", schedule="hourly")
    clock.set(datetime(2025, 1, 15, 11, 0, 30, tzinfo=UTC))  # 30 s after their slot


def test_by_default_each_run_logs_its_own_line(
    store: SqlStore,
    registry: JobRegistry,
    clock: FakeClock,
    make_job: MakeJob,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    _three_due(make_job, clock)

    Runner(store, registry, clock).run_due()

    lines = _lines(caplog)
    assert sorted(line.split(":")[0] for line in lines) == [
        "run failed",
        "run succeeded",
        "run succeeded",
    ]
    assert Settings().run_log == "line"


def test_a_summary_per_interval_counts_the_runs_and_gives_their_lag(
    store: SqlStore,
    registry: JobRegistry,
    clock: FakeClock,
    make_job: MakeJob,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    _three_due(make_job, clock)
    tally = RunTally(60.0, now=clock.monotonic())
    runner = Runner(store, registry, clock, tally=tally)

    runner.step(clock.now())
    runner.wait(5.0)
    while runner.busy:
        runner.wait(5.0)

    # The failure has its line at once; the successes wait for the interval's summary.
    assert [line.split(":")[0] for line in _lines(caplog)] == ["run failed"]
    clock.advance(timedelta(seconds=59))
    runner.step(clock.now())
    assert len(_lines(caplog)) == 1
    clock.advance(timedelta(seconds=1))
    runner.step(clock.now())

    summary = _lines(caplog)[-1]
    assert summary == (
        "runs in the last 60.0 s: 3 (1 failed, 2 succeeded); start lag p50 30.000 s, p99 30.000 s"
    )
    record = caplog.records[-1]
    assert (record.action, record.runs, record.failures) == ("runs_summary", 3, 1)
    clock.advance(timedelta(seconds=120))
    runner.step(clock.now())
    assert len(_lines(caplog)) == 2  # no run since: no line


def test_the_setting_switches_the_worker_to_the_summary(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRONBASE_RUN_LOG", "summary")
    monkeypatch.setenv("CRONBASE_RUN_LOG_INTERVAL_SECONDS", "30")
    settings = Settings()
    tally = build(settings, store=store, functions=False).new_worker().runner.tally
    assert tally is not None
    assert tally.interval == 30.0
    monkeypatch.delenv("CRONBASE_RUN_LOG")
    assert build(Settings(), store=store, functions=False).new_runner().tally is None
    monkeypatch.setenv("CRONBASE_RUN_LOG", "every")
    with pytest.raises(ValueError, match="run_log"):
        Settings()


def test_a_run_line_says_when_the_job_runs_next_or_that_it_does_not(
    store: SqlStore,
    registry: JobRegistry,
    clock: FakeClock,
    make_job: MakeJob,
    manager: JobManager,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    make_job("fine", name="hourly", schedule="hourly")
    asked = make_job("fine", name="asked", schedule="on_demand")
    clock.set(datetime(2025, 1, 15, 11, 0, 30, tzinfo=UTC))
    manager.run_now(asked.id, SYSTEM)

    Runner(store, registry, clock).run_due()

    lines = sorted(_lines(caplog))
    assert lines[0].startswith("run succeeded: asked (fine) in ")
    assert lines[0].endswith(", no next run")  # on demand: not "next run None"
    assert lines[1].endswith(", next run 2025-01-15T12:00:00Z")
