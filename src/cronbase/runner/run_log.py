"""What one run logs through `ctx.logger`, kept to be stored with the run.

Each run gets a logger of its own, named as before (`cronbase.job.<function>`). Every record
it takes goes to the run's RunLog, then on to the shared logger of that name exactly as if the
job had logged there: the worker's handlers (its stdout) print what they printed before, with
the levels and filters set there. The run's log keeps INFO and above even where the worker
prints only warnings (and DEBUG too where the worker logs DEBUG). Runs in parallel threads
never mix their lines, and threads a job starts itself, logging through the same `ctx.logger`,
land in its run too. A child process (isolation "process") formats its lines and sends them to
the parent, which adds them to the run's RunLog as they come: a run killed at its deadline
keeps what it logged until then.

A run that logs nothing costs one logger object and one lock, and stores NULL.
"""

from __future__ import annotations

import functools
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


@functools.cache
def _shared_logger(name: str) -> logging.Logger:
    """logging.getLogger(name), remembered: a run's logger is made per run, and getLogger
    takes logging's module lock each time. Its loggers live as long as the process anyway."""
    return logging.getLogger(name)


class RunLogger(logging.Logger):
    """A logger for one run, made per run and never registered (logging.getLogger would keep
    it forever). It hands each record to `sink`, then to the shared logger of the same name
    (when that logger's level lets the record through), which passes it on to its handlers and
    its ancestors' as usual."""

    def __init__(self, name: str, sink: Callable[[logging.LogRecord], None]) -> None:
        shared = _shared_logger(name)
        super().__init__(name, min(logging.INFO, shared.getEffectiveLevel()))
        self.parent = shared
        self.propagate = False  # the shared logger is called below, after its level check
        self._shared = shared
        self._sink = sink

    def callHandlers(self, record: logging.LogRecord) -> None:
        self._sink(record)
        for handler in self.handlers:  # a job's own, if it added any to ctx.logger
            if record.levelno >= handler.level:
                handler.handle(record)
        if self._shared.isEnabledFor(record.levelno):
            self._shared.handle(record)

    def getChild(self, suffix: str) -> logging.Logger:
        """A child logger that writes to the same run (`ctx.logger.getChild("fetch")`)."""
        return RunLogger(f"{self.name}.{suffix}", self._sink)
