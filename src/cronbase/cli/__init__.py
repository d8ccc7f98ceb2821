"""The `cronbase` command. The only place that reads settings and configures logging."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from cronbase.cli.parser import build_parser
from cronbase.errors import CronbaseError, InvalidJob


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("alembic").setLevel(logging.INFO if args.verbose else logging.WARNING)
    try:
        return int(args.handler(args) or 0)
    except InvalidJob as exc:
        for field, message in exc.errors:
            print(f"error: {field}: {message}", file=sys.stderr)
        return 2
    except CronbaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
