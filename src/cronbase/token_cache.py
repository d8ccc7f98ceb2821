"""Who an API token speaks for, remembered for a few seconds: without it, every request read
the token's row (three round trips: BEGIN, SELECT, COMMIT) before doing its own work.

A revocation must be effective at once, in every process. So the cache is used only while
`live` is set: an API server on PostgreSQL LISTENs on the channel a revocation NOTIFYs in its
own transaction (store/wakeups.TOKENS_CHANNEL), forgets every token on each notification, and
sets `live` only while that connection is up (it forgets them again on each reconnect, since
what was sent meanwhile is lost). Without one (SQLite, PgBouncer in transaction mode, or a
connection down) every request reads the token's row. `ttl` bounds the rest: a notification
that never came is outlived by `ttl` at most. An expiry is checked on every request (the
cached row carries it), and unknown tokens are never remembered, so a new token works at once.
`CRONBASE_TOKEN_CACHE_SECONDS=0` reads the row on every request.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from cronbase.auth import Principal

DEFAULT_TTL_SECONDS = 5.0
MAX_ENTRIES = 10_000  # a bound on memory: past it, the cache starts again empty


@dataclass(frozen=True)
class _Entry:
    principal: Principal
    expires_at: datetime | None  # the token's own expiry
    fresh_until: datetime  # when to read its row again


class TokenCache:
    """Token hash -> Principal, each for `ttl` seconds while `live` is set. Safe across
    threads: it only reads, replaces and clears dict entries, each atomic, and a lookup that
    began before a clear() is not remembered after it (`generation`)."""

    def __init__(
        self, ttl_seconds: float = DEFAULT_TTL_SECONDS, live: threading.Event | None = None
    ) -> None:
        self.ttl = timedelta(seconds=ttl_seconds)
        self.live = live or threading.Event()  # never set: nothing is remembered
        self.generation = 0  # counts clear()s
        self._entries: dict[str, _Entry] = {}

    def get(self, token_hash: str, now: datetime) -> Principal | None:
        """The principal remembered for this token, unless it is stale, the token expired or
        revocations are not being heard."""
        if not self.live.is_set():
            return None
        entry = self._entries.get(token_hash)
        if entry is None or now >= entry.fresh_until:
            return None
        if entry.expires_at is not None and entry.expires_at <= now:
            return None
        return entry.principal

    def put(
        self,
        token_hash: str,
        principal: Principal,
        expires_at: datetime | None,
        now: datetime,
        generation: int,
    ) -> None:
        """Remember a lookup that began at `generation`, unless the cache was cleared since
        (its row may have been read before the revocation that cleared it)."""
        if self.ttl <= timedelta(0) or not self.live.is_set() or generation != self.generation:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries = {}
        self._entries[token_hash] = _Entry(principal, expires_at, now + self.ttl)

    def clear(self) -> None:
        """Forget every token (a revocation, here or heard of)."""
        self.generation += 1
        self._entries = {}
