"""The retention rules: which age applies, and when a worker prunes (pure)."""

from __future__ import annotations

from datetime import timedelta

import pydantic
import pytest

from cronbase.config import Settings
from cronbase.retention import MIN_DAYS, Cadence, describe, max_age
from cronbase.store.triggers import EXPIRY_LOOKBACK


def test_the_setting_wins_then_the_database_then_keep_everything() -> None:
    assert max_age(30, "90") == timedelta(days=30)
    assert max_age(None, "90") == timedelta(days=90)  # a new installation
    assert max_age(None, None) is None  # an upgraded one: every run is kept
    assert max_age(0, "90") is None  # 0 keeps every run
    assert max_age(7.5, None) == timedelta(days=7, hours=12)


def test_a_retention_shorter_than_a_dependents_lookback_is_refused() -> None:
    assert timedelta(days=MIN_DAYS) >= EXPIRY_LOOKBACK
    for days in (0.5, 1, 6.9):
        with pytest.raises(pydantic.ValidationError, match=r"must be 0 .* or at least 7"):
            Settings(run_retention_days=days)
    assert Settings(run_retention_days=0).run_retention_days == 0
    assert Settings(run_retention_days=7).run_retention_days == 7
    assert Settings().run_retention_days is None


def test_a_pass_comes_every_interval_and_a_busy_worker_waits_between_batches() -> None:
    cadence = Cadence(interval=300, busy_gap=0.5, idle_budget=0.5)
    assert cadence.due(0, in_pass=False, busy=True)  # the first pass at the first turn
    cadence.more_to_do(10)
    assert not cadence.due(10.2, in_pass=True, busy=True)
    assert cadence.due(10.2, in_pass=True, busy=False)  # idle: go on at once
    assert cadence.due(10.5, in_pass=True, busy=True)
    cadence.rest(20)
    assert not cadence.due(319, in_pass=False, busy=False)
    assert cadence.due(320, in_pass=False, busy=False)


def test_an_idle_turn_prunes_only_what_ends_before_the_next_job_is_due() -> None:
    cadence = Cadence(idle_budget=0.5)

    def another(busy: bool = False, done: int = 0, elapsed: float = 0.0, until_due: float = 10):
        return cadence.another_batch(
            busy=busy, done=done, elapsed=elapsed, batch_seconds=0.1, until_due=until_due
        )

    assert another(busy=True)
    assert not another(busy=True, done=1)  # a busy worker does one batch
    assert another(done=3, elapsed=0.4)
    assert not another(done=4, elapsed=0.45)  # past the idle budget
    assert not another(until_due=0.05)  # a job falls due before a batch would end
    assert another(until_due=0.1)
    # a batch slower than the whole budget (a loaded database) still goes, one a turn
    slow = {"busy": False, "elapsed": 0.0, "batch_seconds": 0.8, "until_due": 10}
    assert cadence.another_batch(done=0, **slow)
    assert not cadence.another_batch(done=1, **slow)


def test_migrate_says_what_happens_to_the_run_history() -> None:
    assert describe(None, "90") == (
        "runs are kept 90 days (this installation's default); "
        "CRONBASE_RUN_RETENTION_DAYS changes it"
    )
    assert describe(None, None) == (
        "every run is kept (this installation predates run-history retention); "
        "set CRONBASE_RUN_RETENTION_DAYS to prune"
    )
    assert describe(30, "90") == "runs are kept 30 days (CRONBASE_RUN_RETENTION_DAYS=30)"
    assert describe(0, "90") == "every run is kept (CRONBASE_RUN_RETENTION_DAYS=0)"
