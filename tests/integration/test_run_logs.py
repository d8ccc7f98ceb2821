"""Per-run logs and tracebacks, through a real runner and store on both databases: what a job
logs through ctx.logger and the traceback of its failure are stored with its run, in a thread
and in a child process, capped with a marker, and never mixed between runs."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest

from cronbase.jobs import Run
from cronbase.limits import MAX_RUN_TEXT_BYTES, last_lines
from cronbase.manager import SYSTEM, JobManager
from cronbase.registry import JobRegistry
from cronbase.runner import Runner
from cronbase.store import SqlStore
from cronbase.testing import FakeClock
from tests.helpers import MakeJob, wait_for_runs_to_end, wait_until
from tests.integration.logging_jobs import logging_registry

LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (\w+) (.*)$")
ISOLATIONS = ["thread", "process"]


@pytest.fixture
def registry() -> JobRegistry:
    return logging_registry()


def messages(log: str | None) -> list[tuple[str, str]]:
    """(level, message) of each line of a stored log."""
    found = []
    for line in (log or "").splitlines():
        match = LINE.match(line)
        assert match, f"not a log line: {line!r}"
        found.append((match[1], match[2]))
    return found


def the_run(manager: JobManager, job_id: object) -> Run:
    """The job's one run, read as the API reads it: with its log and traceback."""
    [listed] = manager.list_runs(job_id, SYSTEM).items  # type: ignore[arg-type]
    assert (listed.log, listed.traceback) == (None, None)  # listings leave them out
    return manager.get_run(listed.job_id, listed.id, SYSTEM)


RunJob = Callable[..., Run]


@pytest.fixture
def run_job(
    store: SqlStore,
    registry: JobRegistry,
    clock: FakeClock,
    make_job: MakeJob,
    manager: JobManager,
) -> RunJob:
    """run_job(function, **fields): a job made, run once by a runner, and its stored run."""

    def run(function: str, /, **fields: object) -> Run:
        job = make_job(function, **fields)
        clock.advance(timedelta(minutes=5))
        Runner(store, registry, clock, concurrency=2).run_due()
        return the_run(manager, job.id)

    return run


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_what_a_run_logs_is_stored_with_it(run_job: RunJob, isolation: str) -> None:
    run = run_job("log_and_succeed", isolation=isolation, metadata={"batch": 7})
    assert (run.status, run.result, run.traceback) == ("succeeded", {"sent": 3}, None)
    assert messages(run.log) == [
        ("INFO", "starting batch 7"),
        ("WARNING", "the mail server is slow"),
    ]


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_a_failure_deep_in_a_helper_stores_its_traceback_and_the_lines_before_it(
    run_job: RunJob, isolation: str
) -> None:
    run = run_job("log_then_fail_deep", isolation=isolation)
    assert (run.status, run.error) == ("failed", "KeyError: 'missing'")
    assert messages(run.log) == [("INFO", "reading the settings")]
    trace = run.traceback or ""
    assert trace.startswith("Traceback (most recent call last):\n")
    # The frames from the job function down to the helper that raised, in order; none of
    # the runner's own above them.
    frames = re.findall(r'File ".*?", line \d+, in (\w+)', trace)
    assert frames == ["log_then_fail_deep", "_configure", "_read"]
    assert 'return settings["missing"]' in trace
    assert trace.endswith("KeyError: 'missing'\n")
    # What a failure notification quotes.
    assert last_lines(run.traceback, 1) == "KeyError: 'missing'"
    assert 'return settings["missing"]' in last_lines(run.traceback, 4)


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_a_run_that_times_out_keeps_what_it_logged_until_its_deadline(
    store: SqlStore,
    registry: JobRegistry,
    clock: FakeClock,
    make_job: MakeJob,
    manager: JobManager,
    isolation: str,
) -> None:
    job = make_job("log_then_hang", isolation=isolation, timeout_seconds=30)
    clock.advance(timedelta(minutes=5))
    runner = Runner(store, registry, clock, concurrency=1)
    runner.step(clock.now())
    [execution] = runner.threads.running()
    wait_until(lambda: execution.log.text(), what="the job to log its first line", timeout=30)

    clock.advance(timedelta(seconds=31))
    wait_for_runs_to_end(runner)

    run = the_run(manager, job.id)
    assert (run.status, run.error, run.traceback) == ("timed_out", "timed out after 30s", None)
    assert messages(run.log) == [("INFO", "waiting for the remote side")]


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_a_long_log_is_cut_to_64_kib_with_a_marker_keeping_its_start_and_end(
    run_job: RunJob, isolation: str
) -> None:
    log = run_job("log_a_lot", isolation=isolation).log or ""
    assert len(log.encode()) <= MAX_RUN_TEXT_BYTES
    assert log.splitlines()[0].endswith(" INFO FIRST LINE")
    assert log.endswith(" INFO LAST LINE\n")
    marker = re.search(
        r"\n\[\.\.\. ([\d,]+) bytes cut: the text was ([\d,]+) bytes \.\.\.\]\n", log
    )
    assert marker, "no marker where the log was cut"
    total = int(marker[2].replace(",", ""))
    assert total > 3000 * 100  # 3,002 lines of more than 100 bytes each
    assert int(marker[1].replace(",", "")) == total - MAX_RUN_TEXT_BYTES


def test_two_runs_logging_at_once_keep_their_own_lines(
    store: SqlStore,
    registry: JobRegistry,
    clock: FakeClock,
    make_job: MakeJob,
    manager: JobManager,
) -> None:
    # The same function, so the same logger name: the two runs take turns line by line.
    jobs = {who: make_job("log_in_turns", name=who, metadata={"who": who}) for who in "AB"}
    clock.advance(timedelta(minutes=5))
    Runner(store, registry, clock, concurrency=2).run_due()

    for who, job in jobs.items():
        run = the_run(manager, job.id)
        assert run.status == "succeeded", run.error
        assert messages(run.log) == [("INFO", f"{who} line {n}") for n in range(50)]


def test_lines_logged_from_a_thread_the_job_started_are_in_its_run(run_job: RunJob) -> None:
    assert messages(run_job("log_from_own_thread").log) == [("INFO", "from the job's own thread")]
