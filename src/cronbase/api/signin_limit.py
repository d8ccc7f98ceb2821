"""Slow down guessing tokens: an address with too many failed authentications gets 429.

Every API request that carries an Authorization header and is answered 401 counts as a failure
of the client address it came from. Once an address has `max_failures` failures within `window`,
all its API requests, with a correct token or not, get 429 and Retry-After until the oldest of
them is older than the window: otherwise a guesser would learn which guess was right from the
one answer that is not 429. Other addresses are not affected. A success does not wipe the
count, or a guesser holding one valid token could reset it between guesses.

The counts live in this process: one server, or each of several, limits on its own. Behind a
reverse proxy every request comes from the proxy's address, so a fleet limits at the proxy
(README, "Failed sign-ins").
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from datetime import datetime, timedelta

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cronbase.api.errors import error_response
from cronbase.clock import Clock

# Addresses remembered at most: the least recently failing are forgotten first.
MAX_ADDRESSES = 10_000


class FailedAuthLimiter:
    def __init__(self, clock: Clock, max_failures: int, window: timedelta) -> None:
        self.clock = clock
        self.max_failures = max_failures
        self.window = window
        self.failures: OrderedDict[str, deque[datetime]] = OrderedDict()

    def retry_after(self, address: str) -> float | None:
        """Seconds until `address` may try again, or None if it may now."""
        times = self.failures.get(address)
        if times is None:
            return None
        cutoff = self.clock.now() - self.window
        while times and times[0] <= cutoff:
            times.popleft()
        if not times:
            del self.failures[address]
            return None
        if len(times) < self.max_failures:
            return None
        return (times[0] - cutoff).total_seconds()

    def record_failure(self, address: str) -> None:
        times = self.failures.setdefault(address, deque(maxlen=self.max_failures))
        times.append(self.clock.now())
        self.failures.move_to_end(address)
        while len(self.failures) > MAX_ADDRESSES:
            self.failures.popitem(last=False)


class FailedAuthLimit:
    """The middleware: 429 for a limited address, a failure recorded for each 401."""

    def __init__(self, app: ASGIApp, limiter: FailedAuthLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        address = scope["client"][0] if scope.get("client") else "unknown"
        wait = self.limiter.retry_after(address)
        if wait is not None:
            response = error_response(
                429,
                "too many failed authentications from this address; "
                f"retry in {math.ceil(wait)} s with a valid token",
                **{"Retry-After": str(math.ceil(wait))},
            )
            await response(scope, receive, send)
            return
        # A request without credentials is not a guess (a page that is not signed in yet).
        guessing = any(name == b"authorization" for name, _ in scope["headers"])

        async def send_counting(message: Message) -> None:
            if guessing and message["type"] == "http.response.start" and message["status"] == 401:
                self.limiter.record_failure(address)
            await send(message)

        await self.app(scope, receive, send_counting)
