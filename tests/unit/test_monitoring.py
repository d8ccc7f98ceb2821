"""The seed's monitoring keys: counted after each run, kept from clients' edits."""

from __future__ import annotations

from datetime import UTC, datetime

from cronbase.jobs import RunStatus
from cronbase.monitoring import MONITORING_KEYS, count_run, keep_monitoring_keys

AT = datetime(2025, 1, 15, 10, 35, 20, tzinfo=UTC)


def test_a_success_counts_an_execution_and_clears_last_error_but_not_error_count() -> None:
    before = {"timeout_minutes": 5, "last_error": "boom", "error_count": 2, "execution_count": 4}
    after = count_run(before, AT, RunStatus.SUCCEEDED, None)
    assert after == {
        "timeout_minutes": 5,
        "error_count": 2,
        "execution_count": 5,
        "last_execution": "2025-01-15T10:35:20Z",
    }
    assert before["last_error"] == "boom"  # a copy: the caller's metadata is left alone


def test_any_other_ending_sets_last_error_and_counts_it() -> None:
    for status in (RunStatus.FAILED, RunStatus.TIMED_OUT, RunStatus.ABANDONED):
        after = count_run({}, AT, status, "why")
        assert after == {
            "last_execution": "2025-01-15T10:35:20Z",
            "execution_count": 1,
            "last_error": "why",
            "error_count": 1,
        }


def test_counters_edited_by_hand_are_counted_on_from_a_number() -> None:
    edited = {"execution_count": "7", "error_count": "lots"}
    assert count_run(edited, AT, RunStatus.FAILED, "x")["execution_count"] == 8
    assert count_run(edited, AT, RunStatus.FAILED, "x")["error_count"] == 1
    assert count_run({"execution_count": -3}, AT, RunStatus.SUCCEEDED, None)["execution_count"] == 1


def test_clients_cannot_set_or_drop_the_monitoring_keys() -> None:
    stored = {"retention_days": 90, "execution_count": 3, "last_error": "boom"}
    sent = {"retention_days": 30, "execution_count": 1000, "error_count": 0}
    assert keep_monitoring_keys(sent, stored) == {
        "retention_days": 30,
        "execution_count": 3,
        "last_error": "boom",
    }
    assert keep_monitoring_keys({"last_execution": "yesterday"}, {}) == {}
    assert set(MONITORING_KEYS) == {
        "last_execution",
        "execution_count",
        "last_error",
        "error_count",
    }
