"""Claims waiting for a thread, oldest first. The runner adds them; the pool's threads take
them, a thread whose run ended taking the next itself (pool.py). Every step holds the pool's
lock, so a claim is taken by one thread, or given back, never both."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable
from uuid import UUID

from cronbase.jobs import Claim


class WaitingClaims:
    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self._claims: deque[Claim] = deque()

    def __len__(self) -> int:
        return len(self._claims)

    def add(self, claims: Iterable[Claim]) -> None:
        with self._lock:
            self._claims.extend(claims)

    def run_ids(self) -> list[UUID]:
        with self._lock:
            return [claim.run_id for claim in self._claims]

    def take_all(self) -> list[Claim]:
        """Every waiting claim, out of the threads' reach (to give them back, or drop them)."""
        with self._lock:
            claims = list(self._claims)
            self._claims.clear()
        return claims

    def put_back(self, claims: list[Claim]) -> None:
        """Claims `take_all` took and could not give back: waiting again, in their order."""
        with self._lock:
            self._claims.extendleft(reversed(claims))

    def next_to_run(self) -> Claim | None:
        """The first claim, if it can run (else the control loop records it: cannot_run)."""
        with self._lock:
            if not self._claims or self._claims[0].error:
                return None
            return self._claims.popleft()

    def cannot_run(self) -> Claim | None:
        """The first claim, if it cannot run at all (its job's schedule is broken)."""
        with self._lock:
            if not self._claims or not self._claims[0].error:
                return None
            return self._claims.popleft()
