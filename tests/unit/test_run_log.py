"""A run's own log: what its logger writes, kept per run, while the worker's handlers still
see every record."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator

import pytest

from cronbase.limits import MAX_RUN_TEXT_BYTES
from cronbase.runner.run_log import RunLog

NAME = "cronbase.job.testRunLog"
ENTRY = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO|WARNING|ERROR) ")


class Collected(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def worker_handler() -> Iterator[Collected]:
    """A handler on the shared job logger, standing for the worker's stdout."""
    shared = logging.getLogger(NAME)
    handler = Collected()
    shared.addHandler(handler)
    shared.setLevel(logging.INFO)
    yield handler
    shared.removeHandler(handler)
    shared.setLevel(logging.NOTSET)


def test_what_a_run_logs_is_kept_and_still_reaches_the_workers_handlers(
    worker_handler: Collected,
) -> None:
    log = RunLog()
    logger = log.logger(NAME)
    logger.info("sent %d digests", 3)
    logger.warning("slow <b>SMTP</b>")
    logger.debug("below the level the worker set: neither kept nor printed")

    text = log.text()
    assert text is not None
    lines = text.splitlines()
    assert [ENTRY.sub("", line) for line in lines] == ["sent 3 digests", "slow <b>SMTP</b>"]
    assert all(ENTRY.match(line) for line in lines)
    assert worker_handler.messages == ["sent 3 digests", "slow <b>SMTP</b>"]
    assert logger.name == NAME
    assert logging.getLogger(NAME) is not logger  # made per run, never registered


def test_the_run_keeps_info_lines_the_worker_does_not_print(worker_handler: Collected) -> None:
    logging.getLogger(NAME).setLevel(logging.WARNING)
    log = RunLog()
    log.logger(NAME).info("sent 3 digests")
    log.logger(NAME).error("one bounced")
    assert [ENTRY.sub("", line) for line in (log.text() or "").splitlines()] == [
        "sent 3 digests",
        "one bounced",
    ]
    assert worker_handler.messages == ["one bounced"]


def test_debug_lines_are_kept_when_the_worker_logs_debug(worker_handler: Collected) -> None:
    logging.getLogger(NAME).setLevel(logging.DEBUG)
    log = RunLog()
    log.logger(NAME).debug("row %d", 7)
    assert (log.text() or "").endswith(" DEBUG row 7\n")
    assert worker_handler.messages == ["row 7"]


def test_a_run_that_logs_nothing_has_no_log() -> None:
    assert RunLog().text() is None


@pytest.mark.usefixtures("worker_handler")
def test_logger_exception_keeps_the_traceback_in_the_log() -> None:
    log = RunLog()
    try:
        {}["missing"]
    except KeyError:
        log.logger(NAME).exception("lookup failed")
    text = log.text() or ""
    assert "ERROR lookup failed\nTraceback (most recent call last):" in text
    assert "KeyError: 'missing'" in text


@pytest.mark.usefixtures("worker_handler")
def test_a_child_logger_writes_to_the_same_run() -> None:
    log = RunLog()
    log.logger(NAME).getChild("fetch").info("fetched")
    assert (log.text() or "").endswith(" INFO fetched\n")


def test_a_message_that_cannot_be_formatted_does_not_raise_in_the_job() -> None:
    log = RunLog()
    logger = log.logger(NAME)
    logging.raiseExceptions, before = False, logging.raiseExceptions  # quiet lastResort
    try:
        logger.info("%d rows", "not a number")
    finally:
        logging.raiseExceptions = before
    assert log.text() == "INFO (unformattable) '%d rows' % ('not a number',)\n"


@pytest.mark.usefixtures("worker_handler")
def test_the_log_is_capped_with_a_marker() -> None:
    log = RunLog()
    logging.getLogger(NAME).setLevel(logging.ERROR)  # 2 MB is too much for the test's output
    logger = log.logger(NAME)
    for n in range(20_000):
        logger.info("line %06d %s", n, "x" * 80)
    text = log.text() or ""
    assert len(text.encode()) <= MAX_RUN_TEXT_BYTES
    assert "line 000000" in text
    assert text.endswith(f"line 019999 {'x' * 80}\n")
    assert re.search(r"\[\.\.\. [\d,]+ bytes cut: the text was [\d,]+ bytes \.\.\.\]", text)


def test_runs_logging_at_once_in_threads_keep_their_own_lines(worker_handler: Collected) -> None:
    logs = [RunLog(), RunLog()]
    turns = threading.Barrier(2)

    def run(index: int) -> None:
        logger = logs[index].logger(NAME)
        for n in range(200):
            turns.wait()  # the two runs take turns, line by line
            logger.info("run %d line %d", index, n)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    for index, log in enumerate(logs):
        lines = [ENTRY.sub("", line) for line in (log.text() or "").splitlines()]
        assert lines == [f"run {index} line {n}" for n in range(200)]
    assert len(worker_handler.messages) == 400
