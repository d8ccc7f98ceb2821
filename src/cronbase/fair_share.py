"""Fair share between tenants: how many more runs of each tenant one worker may take.

Priority is a tenant's own business, so it cannot be what keeps one tenant's runs from another:
150 runs at priority 1000 from one tenant would fill every free thread before another tenant's
due run got one. Instead each worker keeps at most `cap` runs of one tenant running (and takes at
most a tenant's room in one claim), and a claim passes over the due runs of a
tenant at its cap. With the cap below the worker's threads, a tenant alone can never fill a
worker, so another tenant's due run finds a thread at the worker's next claim.

Global jobs (no tenant) are the operator's own: they count toward no cap and rank by priority
among everyone's runs.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar
from uuid import UUID

T = TypeVar("T")


def default_cap(threads: int) -> int:
    """Half a worker's threads, rounded up: one tenant never holds more than half a worker
    (all of it when the worker has one thread, where no share is possible)."""
    return max(1, math.ceil(threads / 2))


@dataclass
class TenantShares:
    """The runs of each tenant a worker has in flight, against the cap per tenant."""

    cap: int
    in_flight: Counter[UUID] = field(default_factory=Counter)
    passed_over: int = 0  # items `take` left for a later claim: more may be due than taken

    @classmethod
    def counting(cls, cap: int, tenants: Iterable[UUID | None]) -> TenantShares:
        """The shares of a worker whose runs in flight belong to `tenants` (None: global)."""
        return cls(cap, Counter(tenant for tenant in tenants if tenant is not None))

    def full(self) -> list[UUID]:
        """The tenants at their cap, whose due runs a claim passes over."""
        return sorted(tenant for tenant, count in self.in_flight.items() if count >= self.cap)

    def take(self, items: Iterable[T], tenant_of: Callable[[T], UUID | None], most: int) -> list[T]:
        """Of `items` (in the order they would be claimed), the first `most` within their
        tenant's room, counted in flight from now on; the rest are left for a later claim."""
        taken: list[T] = []
        for item in items:
            if len(taken) >= most:
                break
            tenant = tenant_of(item)
            if tenant is not None:
                if self.in_flight[tenant] >= self.cap:
                    self.passed_over += 1
                    continue
                self.in_flight[tenant] += 1
            taken.append(item)
        return taken
