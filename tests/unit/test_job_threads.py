"""JobThreads: a nudge (a wake-up from LISTEN) ends a wait for runs to end."""

from __future__ import annotations

from cronbase.runner.pool import JobThreads


def test_a_nudge_ends_a_wait_for_runs_at_once() -> None:
    threads = JobThreads(2)
    threads.nudge()
    # Without the nudge this would wait the whole timeout (and the test's own timeout fail it).
    assert threads.collect(3600) == []
    assert threads.mean_run_seconds is None  # a nudge is no run
