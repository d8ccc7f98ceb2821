"""The HTTP server: uvicorn's httptools protocol with the limits it lacks.

uvicorn with httptools accepts a header of any size (httptools keeps growing it in memory:
150 MB took 46 s to read and stalled every other request meanwhile), gives a client all the time
it wants to finish its headers, and accepts connections until the process runs out of file
descriptors. `HttpProtocol` adds, per connection:

- a header size limit: past `max_header_bytes` before the end of the headers, 431 and close;
- a header time limit: headers not complete `header_timeout` seconds after the connection
  opened (or after the request's first byte, on a kept-alive connection), 408 and close;
- a body time limit: a body not complete `body_timeout` seconds after its headers, 408 and
  close (uvicorn has no such timeout: its timeout_keep_alive counts only idle time between
  requests, so a client trickling a body held a connection and a request forever);
- a connection limit: at `max_connections`, a new connection closes the one that has waited
  longest for a request (idle or still sending headers); if none waits, the newcomer gets 503.

`cronbase serve` uses it; so can uvicorn's own command line:
`uvicorn --http cronbase.api.server:HttpProtocol --factory cronbase.api.app:create_app_from_env`,
in which case the limits come from the CRONBASE_HTTP_* environment variables.

`cronbase serve` also listens before it announces anything (`listen`), and handles SIGINT and
SIGTERM itself (`Server`): see cli/stopping.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from types import FrameType
from typing import Any, ClassVar

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from cronbase.config import Settings

LINGER_SECONDS = 1.0
BACKLOG = 2048  # uvicorn's default
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclass(frozen=True)
class HttpLimits:
    max_header_bytes: int
    header_timeout: float
    max_connections: int
    body_timeout: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> HttpLimits:
        return cls(
            max_header_bytes=settings.http_max_header_bytes,
            header_timeout=settings.http_header_timeout_seconds,
            max_connections=settings.http_max_connections,
            body_timeout=settings.http_body_timeout_seconds,
        )


@cache
def _limits_from_environment() -> HttpLimits:
    return HttpLimits.from_settings(Settings())


def _response(status: int, reason: str, message: str) -> bytes:
    # The API's one error shape, so a client (and the OpenAPI schema) knows what it gets.
    body = json.dumps({"status": "error", "message": message, "errors": []}).encode()
    return (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    ).encode() + body


class HeadersTooLarge(Exception):
    pass


class HttpProtocol(HttpToolsProtocol):
    """One connection. Subclasses made by `with_limits` carry their limits; this class itself
    reads them from the environment (for uvicorn's `--http` option)."""

    limits: ClassVar[HttpLimits | None] = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.http_limits = self.limits or _limits_from_environment()
        # When the connection began to wait for a request (None while one is being served).
        self.waiting_since: float | None = None
        self.header_bytes: int | None = None  # bytes of a request whose headers are incomplete
        self.header_timer: asyncio.TimerHandle | None = None
        self.body_timer: asyncio.TimerHandle | None = None
        self.rejected = False

    @classmethod
    def with_limits(cls, limits: HttpLimits) -> type[HttpProtocol]:
        return type(cls.__name__, (cls,), {"limits": limits})

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if len(self.connections) >= self.http_limits.max_connections and not self._evict_idle():
            self.transport = transport
            self._reject(503, "Service Unavailable", "too many connections; retry later")
            return
        super().connection_made(transport)
        self.waiting_since = time.monotonic()
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        self._cancel_body_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.rejected:
            return
        super().data_received(data)
        if self.header_bytes is None or self.transport.is_closing():
            return
        # Counted by whole reads (at most 256 KiB each), so the check is a little early when
        # one read ends a request's body and begins the next request's headers.
        self.header_bytes += len(data)
        if self.header_bytes > self.http_limits.max_header_bytes:
            self._reject_large_headers()

    def send_400_response(self, msg: str) -> None:
        if not self.rejected:  # a parser error, not the end of a request already answered
            super().send_400_response(msg)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.header_bytes = 0
        if self.header_timer is None:
            self._arm_header_timer()

    def on_headers_complete(self) -> None:
        # Headers that came in one read with their end are measured here, as sent.
        size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
        if size > self.http_limits.max_header_bytes:
            self._reject_large_headers()
            raise HeadersTooLarge  # stops the parser; uvicorn's 400 for it is not sent
        self.header_bytes = None
        self.waiting_since = None
        self._cancel_header_timer()
        super().on_headers_complete()
        self.body_timer = self.loop.call_later(self.http_limits.body_timeout, self._body_timeout)

    def on_message_complete(self) -> None:
        self._cancel_body_timer()
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.cycle.response_complete:  # not a pipelined request started meanwhile
            self.waiting_since = time.monotonic()  # idle: uvicorn's keep-alive timeout runs

    def _arm_header_timer(self) -> None:
        self.header_timer = self.loop.call_later(
            self.http_limits.header_timeout, self._header_timeout
        )

    def _cancel_header_timer(self) -> None:
        if self.header_timer is not None:
            self.header_timer.cancel()
            self.header_timer = None

    def _cancel_body_timer(self) -> None:
        if self.body_timer is not None:
            self.body_timer.cancel()
            self.body_timer = None

    def _body_timeout(self) -> None:
        self.body_timer = None
        # The application already has the request and waits for its body: it reads a
        # disconnect, and whatever it answers is dropped (the 408 went first).
        self.cycle.disconnected = True
        self.cycle.message_event.set()
        limit = self.http_limits.body_timeout
        self._reject(408, "Request Timeout", f"the request body took longer than {limit:g} s")

    def _header_timeout(self) -> None:
        self.header_timer = None
        if self.header_bytes is None:
            self.transport.close()  # connected, but not a byte of a request: just close
        else:
            self._reject(408, "Request Timeout", "the request headers took too long")

    def _evict_idle(self) -> bool:
        waiting = [
            connection
            for connection in self.connections
            if isinstance(connection, HttpProtocol) and connection.waiting_since is not None
        ]
        if not waiting:
            return False
        oldest = min(waiting, key=lambda connection: connection.waiting_since or 0.0)
        oldest.transport.close()
        self.connections.discard(oldest)
        return True

    def _reject_large_headers(self) -> None:
        limit = self.http_limits.max_header_bytes
        self._reject(431, "Request Header Fields Too Large", f"headers over {limit} bytes")

    def _reject(self, status: int, reason: str, message: str) -> None:
        """Answer, then close. What the client still sends meanwhile is read and dropped for a
        moment: closing with unread data makes the kernel reset the connection, and the client
        would never see the answer."""
        if self.rejected or self.transport.is_closing():
            return
        self.rejected = True
        self._cancel_header_timer()
        self.transport.write(_response(status, reason, message))
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)


def server_config(app: Any, settings: Settings, **options: Any) -> uvicorn.Config:
    """uvicorn's configuration for `app`, with cronbase's protocol and its limits."""
    protocol = HttpProtocol.with_limits(HttpLimits.from_settings(settings))
    return uvicorn.Config(app, http=protocol, **options)


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on host:port, as uvicorn would bind it (OSError if it cannot).

    `cronbase serve` listens before it says it serves, so a busy port is one clear error, and
    hands the socket to uvicorn."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a restart reuses the port
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    return sock


class Server(uvicorn.Server):
    """uvicorn's server, whose SIGINT and SIGTERM the caller handles: `on_signal(signum)` returns
    whether to stop now (then uvicorn waits for no request and skips the app's shutdown).
    Unlike uvicorn's own, it does not raise the signal again once stopped: the caller exits
    with a status of its own."""

    def __init__(self, config: uvicorn.Config, on_signal: Callable[[int], bool]) -> None:
        super().__init__(config)
        self.on_signal = on_signal

    def handle_exit(self, sig: int, _frame: FrameType | None) -> None:
        self.should_exit = True
        if self.on_signal(sig):
            self.force_exit = True

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        previous = {signum: signal.signal(signum, self.handle_exit) for signum in STOP_SIGNALS}
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
