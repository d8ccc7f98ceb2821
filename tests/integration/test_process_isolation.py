"""Process isolation: a job run in a child process, on a real store, killed when cancelled."""

from __future__ import annotations

import os
import sys
import threading
import time
import types
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from cronbase.manager import JobManager
from cronbase.registry import JobContext, JobFunction, JobRegistry
from cronbase.runner import Runner
from cronbase.runner.isolation import ChildJob, JobProcessError, call_in_child
from cronbase.store import SqlStore
from cronbase.store.tables import cron_job, cron_job_run
from cronbase.testing import FakeClock
from tests.conftest import NOW
from tests.helpers import create_job, wait_until
from tests.integration import process_jobs
from tests.integration.process_jobs import marks

JOB_ID = uuid.UUID("00000000-0000-4000-8000-000000000001")
TENANT_ID = uuid.UUID("00000000-0000-4000-8000-000000000002")


@pytest.fixture(autouse=True)
def marks_table(store: SqlStore) -> None:
    marks.metadata.create_all(store.engine)


def run(
    store: SqlStore, func: Callable[[JobContext], Any], cancelled: threading.Event | None = None
) -> dict[str, Any]:
    job = ChildJob(
        job_id=JOB_ID,
        tenant_id=TENANT_ID,
        metadata={"batch": 7},
        scheduled_for=NOW,
        now=NOW + timedelta(seconds=2),
    )
    url = store.engine.url.render_as_string(hide_password=False)  # the child needs the password
    return call_in_child(func.__name__, func, url, job, cancelled or threading.Event())


def written(store: SqlStore) -> list[tuple[str, int]]:
    with store.reading() as conn:
        return [(row.name, row.pid) for row in conn.execute(sa.select(marks))]


def is_running_or_unreaped(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # succeeds for a zombie too: only reaping frees the pid
    except ProcessLookupError:
        return False
    return True


def test_the_job_runs_in_another_process_and_its_work_is_committed(store: SqlStore) -> None:
    result = run(store, process_jobs.describe_itself)

    assert result["pid"] != os.getpid()
    assert written(store) == [("described", result["pid"])]
    assert result == {
        "pid": result["pid"],
        "job_id": str(JOB_ID),
        "tenant_id": str(TENANT_ID),
        "metadata": {"batch": 7},
        "scheduled_for": "2025-01-15T10:30:00Z",
        "now": "2025-01-15T10:30:02Z",
        "logger": "cronbase.job.describe_itself",
    }
    assert not is_running_or_unreaped(result["pid"])


def test_returning_none_gives_an_empty_result(store: SqlStore) -> None:
    assert run(store, process_jobs.do_nothing) == {}


def test_an_exception_comes_back_as_its_type_and_message_and_nothing_is_committed(
    store: SqlStore,
) -> None:
    with pytest.raises(JobProcessError) as raised:
        run(store, process_jobs.write_then_raise)

    assert str(raised.value) == "ValueError: the job failed on purpose"
    assert written(store) == []


def test_a_result_that_cannot_be_stored_fails_as_in_a_thread(store: SqlStore) -> None:
    with pytest.raises(JobProcessError) as raised:
        run(store, process_jobs.return_a_set)

    assert str(raised.value) == (
        "TypeError: job function 'return_a_set' returned set; "
        "return a JSON-serialisable dict (or None)"
    )


def test_a_job_that_never_returns_is_killed_and_reaped_once_cancelled(store: SqlStore) -> None:
    cancelled = threading.Event()
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(run, store, process_jobs.sleep_forever, cancelled)
        pid = wait_for_pid(store, "asleep")
        cancelled.set()
        set_at = time.monotonic()
        with pytest.raises(JobProcessError, match="was killed"):
            future.result(timeout=10)
        took = time.monotonic() - set_at

    assert took < 1.0
    assert not is_running_or_unreaped(pid)
    assert written(store) == [("asleep", pid)]  # the work in progress was rolled back


def wait_for_pid(store: SqlStore, name: str) -> int:
    """The pid of the child once it has committed the mark `name` (it has started by then)."""

    def pids() -> list[int]:
        return [pid for mark, pid in written(store) if mark == name]

    wait_until(lambda: pids(), what=f"the child to write {name!r}", interval=0.02)
    return pids()[0]


@pytest.mark.parametrize(
    ("func", "how"),
    [
        (process_jobs.exit_with_code_3, "exit code 3"),
        (process_jobs.kill_itself, "killed by signal SIGKILL"),
    ],
)
def test_a_child_that_dies_without_a_result_says_how_it_ended(
    store: SqlStore, func: JobFunction, how: str
) -> None:
    with pytest.raises(JobProcessError) as raised:
        run(store, func)

    assert str(raised.value) == (
        f"the process running job function {func.__name__!r} ended without a result ({how})"
    )


def test_a_closure_is_refused_with_the_fix(store: SqlStore) -> None:
    def local_job(_ctx: JobContext) -> dict[str, Any]:
        return {}

    with pytest.raises(JobProcessError) as raised:
        run(store, local_job)

    message = str(raised.value)
    assert message.startswith("job function 'local_job'")
    assert "needs a module-level function in an importable module" in message
    assert "CRONBASE_JOB_MODULES" in message


def test_a_function_the_child_cannot_import_fails_with_the_import_error(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Registered from a module that exists in this process only, as a module loaded from a
    # path outside sys.path would be.
    module = types.ModuleType("jobs_outside_sys_path")
    stranded = types.FunctionType(process_jobs.do_nothing.__code__, vars(module), "stranded")
    stranded.__qualname__ = "stranded"
    module.stranded = stranded
    monkeypatch.setitem(sys.modules, module.__name__, module)

    with pytest.raises(JobProcessError) as raised:
        run(store, module.stranded)

    assert str(raised.value) == (
        "job function 'stranded' cannot be imported in a child process: "
        "ModuleNotFoundError: No module named 'jobs_outside_sys_path'"
    )


def test_a_worker_records_a_process_job_timed_out_kills_it_and_keeps_running_others(
    store: SqlStore, clock: FakeClock
) -> None:
    registry = JobRegistry()
    registry.job("sleepForever")(process_jobs.sleep_forever)
    registry.job("doNothing")(process_jobs.do_nothing)
    manager = JobManager(store, registry, clock)
    create_job(manager, "sleepForever", name="stuck", isolation="process", timeout_seconds=5)
    create_job(manager, "doNothing", name="quick")
    clock.advance(timedelta(minutes=5))
    runner = Runner(store, registry, clock, concurrency=2)
    runner.step(clock.now())

    def child_asleep_and_quick_done() -> bool:
        runner.wait(0.05)  # collects the runs that ended
        return bool(written(store)) and runner.threads.free >= 1

    wait_until(child_asleep_and_quick_done, what="the child to start and `quick` to end")
    [(_, pid)] = written(store)

    clock.advance(timedelta(seconds=6))  # past the stuck job's deadline
    runner.wait(0)

    with store.reading() as conn:
        query = sa.select(cron_job.c.name, cron_job_run.c.status, cron_job_run.c.error).join(
            cron_job, cron_job.c.id == cron_job_run.c.job_id
        )
        runs = sorted(conn.execute(query).all())
    assert runs == [("quick", "succeeded", None), ("stuck", "timed_out", "timed out after 5s")]
    wait_until(  # killed by the job's thread once it saw the deadline
        lambda: not is_running_or_unreaped(pid), what="the timed-out child to die", timeout=5
    )
