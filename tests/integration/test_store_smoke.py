from __future__ import annotations

from cronbase.store import SqlStore


def test_migrated_store_has_no_jobs(store: SqlStore) -> None:
    assert store.list_jobs() == []
