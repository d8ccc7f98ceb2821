"""Who an API token speaks for, remembered for a few seconds: without it, every request read
the token's row (three round trips: BEGIN, SELECT, COMMIT) before doing its own work.

The price is staleness, bounded: a token revoked by another process (`cronbase token revoke`
is one) is refused by this one at most `ttl` later; in the process that revoked it, at once,
since a revocation empties the cache. An expiry is checked on every request (the cached row
carries it), and unknown tokens are never remembered, so a new token works at once.
`CRONBASE_TOKEN_CACHE_SECONDS=0` reads the row on every request again.
"""

from __future__ import annotations

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
    """Token hash -> Principal, each for `ttl` seconds. Safe across threads: it only reads,
    replaces and clears dict entries, each atomic."""

    def __init__(self, ttl_seconds: float = DEFAULT_TTL_SECONDS) -> None:
        self.ttl = timedelta(seconds=ttl_seconds)
        self._entries: dict[str, _Entry] = {}

    def get(self, token_hash: str, now: datetime) -> Principal | None:
        """The principal remembered for this token, unless it is stale or the token expired."""
        entry = self._entries.get(token_hash)
        if entry is None or now >= entry.fresh_until:
            return None
        if entry.expires_at is not None and entry.expires_at <= now:
            return None
        return entry.principal

    def put(
        self, token_hash: str, principal: Principal, expires_at: datetime | None, now: datetime
    ) -> None:
        if self.ttl <= timedelta(0):
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries = {}
        self._entries[token_hash] = _Entry(principal, expires_at, now + self.ttl)

    def clear(self) -> None:
        """Forget every token (after a revocation here: it takes effect at once)."""
        self._entries = {}
