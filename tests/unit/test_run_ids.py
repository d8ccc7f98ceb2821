"""Run ids made by the workers: version 7, in time order (store/ids.py)."""

from __future__ import annotations

import time
import uuid

from cronbase.store.ids import time_ordered_uuid


def test_a_run_id_is_a_version_7_uuid_that_starts_with_the_time_in_milliseconds() -> None:
    before = time.time_ns() // 1_000_000
    made = time_ordered_uuid()
    after = time.time_ns() // 1_000_000
    assert (made.version, made.variant) == (7, uuid.RFC_4122)
    assert before <= made.int >> 80 <= after
    assert uuid.UUID(str(made)) == made


def test_run_ids_of_later_milliseconds_sort_after_and_ids_do_not_repeat() -> None:
    first = [time_ordered_uuid() for _ in range(1000)]
    time.sleep(0.002)
    later = time_ordered_uuid()
    assert len(set(first)) == 1000
    assert max(first) < later
    # PostgreSQL orders uuid values by their bytes, as Python orders UUIDs.
    assert max(first).bytes < later.bytes
