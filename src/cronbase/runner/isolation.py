"""Process isolation: a job run in a child process, which is killed at the run's deadline.

A thread cannot be killed, so a job that ignores `cancelled` keeps its thread (see pool.py). A
job with isolation "process" runs in a spawned child instead, with its own connection; when
the run's `cancelled` event is set (its deadline, or the worker giving up at shutdown), the
child is killed, and the database rolls back its open transaction with its connection.

Spawn, not fork: the worker has threads and pooled connections, which a forked child would
inherit half-copied. The price is a fresh interpreter per run (imports included).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import pickle
import signal
import threading
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any
from uuid import UUID

from cronbase.errors import CronbaseError
from cronbase.registry import JobContext, JobFunction, checked_result
from cronbase.runner.outcomes import error_text, traceback_text
from cronbase.runner.run_log import RunLog, RunLogger, format_record
from cronbase.store import SqlStore

_POLL_SECONDS = 0.05  # how often the waiting parent looks at `cancelled`
_EXIT_SECONDS = 5.0  # how long a child that has answered may take to exit before it is killed


@dataclass(frozen=True)
class ChildJob:
    """What the child's JobContext holds besides its connection, logger and `cancelled`."""

    job_id: UUID
    tenant_id: UUID | None
    metadata: dict[str, Any]
    scheduled_for: datetime
    now: datetime
    attempt: int = 1
    triggered_by: tuple[str, ...] = ()


class JobProcessError(CronbaseError):
    """A job run in a child process raised, died or was killed; the message says which. When
    the job raised, `traceback` is the child's traceback of it."""

    def __init__(self, message: str, traceback: str | None = None) -> None:
        super().__init__(message)
        self.traceback = traceback


def call_in_child(
    function_name: str,
    func: JobFunction,
    database_url: str,
    job: ChildJob,
    cancelled: threading.Event,
    log: RunLog | None = None,
) -> dict[str, Any]:
    """Call `func` in a child process, in a transaction on its own connection to
    `database_url` (with the password: the child builds its own engine). Return the checked
    result; the transaction is committed when `func` returns and rolled back otherwise. What
    the job logs through `ctx.logger` is added to `log` as it comes, up to the end of the child.

    Raise JobProcessError if `func` is not a module-level function that a child can import, if
    it raises (the message is "<ExceptionType>: <message>", as for a run in a thread), if the
    child dies without answering, or once `cancelled` is set: then the child is killed. In
    every case the child has ended and been reaped when this returns or raises.
    """
    reference = _reference(function_name, func)
    spawn = multiprocessing.get_context("spawn")
    receiver, sender = spawn.Pipe()
    process = spawn.Process(
        target=_child_main,
        args=(sender, reference, function_name, database_url, job),
        name=f"cronbase job {function_name}",
    )
    try:
        process.start()
        sender.close()  # the child's copy is then the only one, so its death reads as EOF
        return _wait_for_answer(function_name, process, receiver, cancelled, log or RunLog())
    finally:
        _reap(process)
        sender.close()
        receiver.close()


def _reference(function_name: str, func: JobFunction) -> bytes:
    # A function pickles as "module.qualname", which the child imports; a closure or a lambda
    # has no such name. Fail here, with the fix, rather than with a traceback in the child.
    try:
        return pickle.dumps(func)
    except (pickle.PicklingError, AttributeError, TypeError) as exc:
        raise JobProcessError(
            f"job function {function_name!r} ({getattr(func, '__qualname__', func)!r}) cannot "
            "run in a child process: process isolation needs a module-level function in an "
            f"importable module (one that CRONBASE_JOB_MODULES names); {exc}"
        ) from exc


def _wait_for_answer(
    function_name: str,
    process: BaseProcess,
    receiver: Connection,
    cancelled: threading.Event,
    log: RunLog,
) -> dict[str, Any]:
    # The child sends ("log", entry) for each line it logs, then ("result", result) or
    # ("error", error text, traceback). `cancelled` is looked at after every message too, so
    # a child that logs without pause is still killed on time.
    while True:
        if receiver.poll(_POLL_SECONDS):
            try:
                message = receiver.recv()
            except EOFError:  # the child ended without answering
                process.join(_EXIT_SECONDS)
                raise JobProcessError(
                    f"the process running job function {function_name!r} ended without a "
                    f"result ({_how_it_ended(process.exitcode)})"
                ) from None
            if message[0] != "log":
                break
            log.add(message[1])
        if cancelled.is_set():
            raise JobProcessError(
                f"job function {function_name!r} was killed: its run passed its deadline or "
                "the worker shut down"
            )
    process.join(_EXIT_SECONDS)
    if message[0] == "error":
        raise JobProcessError(message[1], traceback=message[2])
    return dict(message[1])


def _reap(process: BaseProcess) -> None:
    if process.is_alive():
        process.kill()
    if process.pid is not None:  # started
        process.join()
    process.close()


def _how_it_ended(exitcode: int | None) -> str:
    if exitcode is None:
        return "it closed its pipe but did not exit"
    if exitcode < 0:
        try:
            return f"killed by signal {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit code {exitcode}"


# --- in the child ---------------------------------------------------------------------------


def _child_main(
    sender: Connection, reference: bytes, function_name: str, database_url: str, job: ChildJob
) -> None:
    _leave_stopping_to_the_worker()
    sending = threading.Lock()  # the job's own threads may log at the same time

    def send(message: tuple[Any, ...]) -> None:
        with sending:
            sender.send(message)

    def send_log(record: logging.LogRecord) -> None:
        # The parent may have stopped listening (it gave up on the run): then drop the line.
        with contextlib.suppress(OSError):
            send(("log", format_record(record)))

    logger = RunLogger(f"cronbase.job.{function_name}", send_log)
    outcome: tuple[Any, ...]
    try:
        outcome = ("result", _run(reference, function_name, database_url, job, logger))
    except BaseException as exc:  # noqa: BLE001 - sent to the parent as the run's error
        # Worded as a thread run's error is, so the run history reads the same.
        outcome = ("error", error_text(exc), traceback_text(exc))
    send(outcome)


def _leave_stopping_to_the_worker() -> None:
    # Ctrl-C in a terminal reaches the whole process group, and systemd's SIGTERM the whole
    # cgroup; the worker then lets runs finish within its grace period, and kills this child
    # if it must. (A Python handler, unlike SIG_IGN, is not inherited by programs it execs.)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda _signum, _frame: None)

    # If the worker itself dies (even by SIGKILL), nobody will kill this child at its
    # deadline: end with it. The parent's sentinel pipe closes when the parent process does.
    parent = multiprocessing.parent_process()
    if parent is not None:

        def exit_with_parent() -> None:
            parent.join()
            os._exit(1)

        threading.Thread(target=exit_with_parent, name="exit with worker", daemon=True).start()


def _run(
    reference: bytes,
    function_name: str,
    database_url: str,
    job: ChildJob,
    logger: logging.Logger,
) -> dict[str, Any]:
    try:
        func = pickle.loads(reference)
    except Exception as exc:
        raise JobProcessError(
            f"job function {function_name!r} cannot be imported in a child process: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    store = SqlStore.from_url(database_url, pool_size=1, max_overflow=0)
    try:
        with store.connection() as conn:  # on SQLite, begins deferred as a thread run does
            context = JobContext(
                connect=lambda: conn,
                job_id=job.job_id,
                tenant_id=job.tenant_id,
                metadata=job.metadata,
                scheduled_for=job.scheduled_for,
                now=job.now,
                attempt=job.attempt,
                triggered_by=job.triggered_by,
                logger=logger,
            )
            result = checked_result(func(context), function_name)
            conn.commit()
    finally:
        store.close()
    return result
