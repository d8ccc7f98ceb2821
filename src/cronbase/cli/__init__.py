"""The `cronbase` command. The only place that reads settings and configures logging."""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Sequence

import sqlalchemy as sa

from cronbase.bootstrap import database_location
from cronbase.cli.common import settings
from cronbase.cli.parser import build_parser
from cronbase.errors import CronbaseError, InvalidFields


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("alembic").setLevel(logging.INFO if args.verbose else logging.WARNING)
    try:
        status = int(args.handler(args) or 0)
        sys.stdout.flush()  # here, so that a closed pipe is caught below, not at exit
        return status
    except BrokenPipeError:
        # The reader went away (`cronbase jobs list | head -1`): stop quietly, as cat does.
        # Python would report the unflushed output again at exit: send it nowhere instead.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE
    except InvalidFields as exc:
        for field, message in exc.errors:
            print(f"error: {field}: {message}", file=sys.stderr)
        return 2
    except CronbaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except sa.exc.OperationalError as exc:
        # A server that is down or a database name mistyped: what the driver said, and where.
        print(f"error: {_unreachable(exc)}", file=sys.stderr)
        return 2


def _unreachable(exc: sa.exc.OperationalError) -> str:
    said = " ".join(str(exc.orig or exc).split())
    try:
        where = f" ({database_location(settings().database_url)})"
    except CronbaseError:
        where = ""
    return (
        f"the database did not answer: {said}; check CRONBASE_DATABASE_URL{where}, and that "
        "the server is up and the database exists"
    )
