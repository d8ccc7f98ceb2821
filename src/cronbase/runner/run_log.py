"""What one run logs through `ctx.logger`, kept to be stored with the run.

Each run gets a logger of its own, named as before (`cronbase.job.<function>`) and a child
of that shared logger, so its records still reach the worker's handlers (its stdout) and obey
the levels set there; on the way, each record is also written to the run's own RunLog. Runs
in parallel threads therefore never mix their lines, and threads a job starts itself, logging
through the same `ctx.logger`, land in its run too. A child process (isolation "process")
formats its lines and sends them to the parent, which adds them to the run's RunLog as they
come: a run killed at its deadline keeps what it logged until then.

A run that logs nothing costs one logger object and one lock, and stores NULL.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from cronbase.jobs import storable_text
from cronbase.limits import MAX_RUN_TEXT_BYTES, CappedText

# One line per record, in UTC whatever the worker's zone: 2026-11-30T18:41:46.123Z INFO text.
# A record logged with exc_info (logger.exception) is followed by its traceback.
FORMATTER = logging.Formatter(
    "%(asctime)s.%(msecs)03dZ %(levelname)s %(message)s", datefmt="%Y-%m-%dT%H:%M:%S"
)
FORMATTER.converter = time.gmtime


def format_record(record: logging.LogRecord) -> str:
    """A record as one entry of a run's log, ending with a newline. A record whose message
    cannot be formatted (arguments that do not match) is kept as its raw parts: a job's
    logging call never raises, as with logging's own handlers."""
    try:
        return f"{FORMATTER.format(record)}\n"
    except Exception:  # noqa: BLE001 - the handlers after this one report it on stderr
        return f"{record.levelname} (unformattable) {record.msg!r} % {record.args!r}\n"


class RunLog:
    """The log of one run: what its loggers wrote, capped at MAX_RUN_TEXT_BYTES (the start and
    the end are kept, with a marker where it was cut). Safe to write from many threads."""

    def __init__(self, max_bytes: int = MAX_RUN_TEXT_BYTES) -> None:
        self._max_bytes = max_bytes
        self._text: CappedText | None = None  # made on the first line
        self._lock = threading.Lock()

    def add(self, entry: str) -> None:
        """Append a formatted entry (see format_record)."""
        with self._lock:
            if self._text is None:
                self._text = CappedText(self._max_bytes)
            self._text.add(entry)

    def add_record(self, record: logging.LogRecord) -> None:
        self.add(format_record(record))

    def logger(self, name: str) -> logging.Logger:
        """The run's logger: `name`'s records, written here too."""
        return RunLogger(name, self.add_record)

    def text(self) -> str | None:
        """What was logged so far, as the database can store it; None if nothing was."""
        with self._lock:
            if self._text is None:
                return None
            return storable_text(self._text.text())


class RunLogger(logging.Logger):
    """A logger for one run, made per run and never registered (logging.getLogger would keep
    it forever). It hands each record to `sink`, then to the handlers of the shared logger of
    the same name and of its ancestors, as that logger would; its level is theirs."""

    def __init__(self, name: str, sink: Callable[[logging.LogRecord], None]) -> None:
        super().__init__(name)
        self.parent = logging.getLogger(name)
        self._sink = sink

    def callHandlers(self, record: logging.LogRecord) -> None:
        self._sink(record)
        super().callHandlers(record)

    def getChild(self, suffix: str) -> logging.Logger:
        """A child logger that writes to the same run (`ctx.logger.getChild("fetch")`)."""
        return RunLogger(f"{self.name}.{suffix}", self._sink)
