"""The token cache remembers only while revocations are heard, and a lookup that began before
a revocation cleared it is not remembered after (it may have read the row before)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from cronbase.auth import Principal, Role
from cronbase.token_cache import TokenCache

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
OPS = Principal("ops@x.test", Role.SUPERADMIN, None)


def test_nothing_is_remembered_while_revocations_are_not_heard() -> None:
    live = threading.Event()
    cache = TokenCache(5, live)
    cache.put("h", OPS, None, NOW, cache.generation)
    assert cache.get("h", NOW) is None
    live.set()
    cache.put("h", OPS, None, NOW, cache.generation)
    assert cache.get("h", NOW) == OPS
    live.clear()  # the listening connection dropped
    assert cache.get("h", NOW) is None
    live.set()
    assert cache.get("h", NOW + timedelta(seconds=5)) is None  # and its time ran out


def test_a_lookup_that_began_before_a_revocation_is_not_remembered() -> None:
    live = threading.Event()
    live.set()
    cache = TokenCache(5, live)
    began = cache.generation  # the request reads the token's row ...
    cache.clear()  # ... while a revocation is heard
    cache.put("h", OPS, None, NOW, began)
    assert cache.get("h", NOW) is None
