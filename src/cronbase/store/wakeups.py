"""Wake-ups on PostgreSQL: a change that may make work due sooner tells idle workers at once.

The store's writes that create or move work (a job created or edited, a run queued now, a retry,
a dependent's run, a backfill, a claim given back) send `NOTIFY cronbase_wakeup` in their own
transaction, so it reaches listeners when, and only if, the change commits; every path (API,
CLI, worker) goes through the store and so sends it. A worker LISTENs on a connection of its own
(Listener) and looks for due work when one arrives, instead of at its next poll.

Polling stays: it is SQLite's only way, and what a worker does while its listening connection
is down (it reconnects with backoff) or behind PgBouncer in transaction mode, where a session's
LISTEN does not survive the transaction (CRONBASE_PGBOUNCER=1 turns listening off).
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from collections.abc import Callable

import psycopg
import sqlalchemy as sa

logger = logging.getLogger(__name__)

CHANNEL = "cronbase_wakeup"
# A token revoked: API servers forget the callers they remembered (cronbase.token_cache).
TOKENS_CHANNEL = "cronbase_tokens"
_NOTIFY = {channel: sa.text(f"NOTIFY {channel}") for channel in (CHANNEL, TOKENS_CHANNEL)}
# How often the listening thread looks up from the socket to see whether it should stop.
_LOOK_UP_SECONDS = 1.0
FIRST_BACKOFF_SECONDS = 0.25
MAX_BACKOFF_SECONDS = 30.0
# A listening connection only reads, so one that a NAT or firewall dropped without a reset
# looks alive for ever and hears nothing: the worker misses wake-ups, and an API server keeps
# remembering tokens revoked meanwhile. So every PROBE_SECONDS a listener has a short-lived
# connection NOTIFY a channel of its own, and reconnects when that does not come back within
# PROBE_TIMEOUT_SECONDS. TCP keepalives also keep idle NAT mappings warm and let the kernel
# notice a peer that is gone (each may be set in the database URL's query instead).
PROBE_SECONDS = 30.0
PROBE_TIMEOUT_SECONDS = 10.0
KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
}


def notify(conn: sa.Connection, dialect: str, channel: str = CHANNEL) -> None:
    """Wake the listening workers once this transaction commits (PostgreSQL; on SQLite the
    workers poll). Notifications of one transaction are folded into one by PostgreSQL."""
    if dialect == "postgresql":
        conn.execute(_NOTIFY[channel])


class Listener:
    """LISTENs on CHANNEL on a connection of its own, on a thread of its own; sets `wake` on
    each notification, and once each time it (re)connects, since notifications sent while it
    was down are lost. A lost connection is opened again after a backoff that doubles from
    FIRST_BACKOFF_SECONDS to MAX_BACKOFF_SECONDS; meanwhile `connected` is false and the
    worker polls. A connection that stops hearing its own probe counts as lost (see
    PROBE_SECONDS)."""

    def __init__(
        self,
        engine: sa.Engine,
        wake: threading.Event,
        channel: str = CHANNEL,
        meanwhile: str = "polling meanwhile",
        *,
        probe_seconds: float = PROBE_SECONDS,
        probe_timeout: float = PROBE_TIMEOUT_SECONDS,
    ) -> None:
        # The engine's own connect arguments (host, user, password, query options), but a
        # connection outside its pool: this one is held for the worker's lifetime.
        cargs, cparams = engine.dialect.create_connect_args(engine.url)
        self._connect_args = (cargs, {**KEEPALIVES, **cparams})
        self.probe_seconds = probe_seconds
        self.probe_timeout = probe_timeout
        self.wake = wake
        self.channel = channel
        self.meanwhile = meanwhile  # what the process does while not listening, for the log
        # Also called on each wake-up: the worker's way to end a wait for its runs (a worker
        # busy with a long run still takes new work at once).
        self.on_wake: Callable[[], None] | None = None
        self.connected = threading.Event()
        self.backend_pid: int | None = None  # the listening session's, for tests and logs
        self.probes_heard = 0  # on any connection, for tests and logs
        self._closing = threading.Event()
        self._listened = False  # whether the current attempt got as far as listening
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="cronbase-listen", daemon=True)
        self._thread.start()

    def close(self, timeout: float = 2 * _LOOK_UP_SECONDS) -> None:
        self._closing.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        failures = 0
        while not self._closing.is_set():
            self._listened = False
            try:
                self._listen()
            except Exception as exc:  # noqa: BLE001 - any failure: poll meanwhile, reconnect
                # A connection that listened and then dropped is a new outage: its backoff
                # starts afresh, else a connection cut now and then would end up retried
                # every MAX_BACKOFF_SECONDS.
                failures = 1 if self._listened else failures + 1
                backoff = min(FIRST_BACKOFF_SECONDS * 2 ** (failures - 1), MAX_BACKOFF_SECONDS)
                logger.warning(
                    "listening on %s failed (%s); %s, reconnecting in %.2fs",
                    self.channel,
                    str(exc).strip() or type(exc).__name__,
                    self.meanwhile,
                    backoff,
                )
                self._closing.wait(backoff)
            else:
                failures = 0

    def _woken(self) -> None:
        self.wake.set()
        if self.on_wake is not None:
            self.on_wake()

    def _listen(self) -> None:
        cargs, cparams = self._connect_args
        probe = f"cronbase_probe_{uuid.uuid4().hex}"
        look_up = min(_LOOK_UP_SECONDS, self.probe_seconds, self.probe_timeout)
        with psycopg.connect(*cargs, **{**cparams, "autocommit": True}) as conn:
            conn.execute(f"LISTEN {self.channel}")
            conn.execute(f"LISTEN {probe}")
            self.backend_pid = conn.info.backend_pid
            self._listened = True
            self._woken()  # whatever was sent while we were not listening: look now
            self.connected.set()
            probed = time.monotonic()  # when the last probe was sent (or the listening began)
            unanswered = False
            try:
                while not self._closing.is_set():
                    for notice in conn.notifies(timeout=look_up, stop_after=1):
                        if notice.channel == probe:
                            unanswered = False
                            self.probes_heard += 1
                        else:
                            self._woken()
                    waited = time.monotonic() - probed
                    if unanswered and waited > self.probe_timeout:
                        raise ConnectionError(
                            f"the connection did not hear its own probe in {waited:.1f}s"
                        )
                    if not unanswered and waited >= self.probe_seconds:
                        unanswered = self._send_probe(probe)
                        probed = time.monotonic()
            finally:
                self.connected.clear()

    def _send_probe(self, probe: str) -> bool:
        """NOTIFY the probe channel from a connection of its own (a new one: the pool's may
        have been dropped as silently); whether it was sent. One that cannot be sent (the
        database is out of reach) proves nothing about the listening connection."""
        cargs, cparams = self._connect_args
        wait = max(2, math.ceil(self.probe_timeout))  # libpq's least connect_timeout is 2 s
        try:
            with psycopg.connect(
                *cargs, **{**cparams, "autocommit": True, "connect_timeout": wait}
            ) as conn:
                conn.execute("SELECT pg_notify(%s, '')", [probe])
        except psycopg.Error as exc:
            logger.debug("could not send the listening connection's probe: %s", exc)
            return False
        return True
