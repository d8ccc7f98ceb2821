"""What every command shares: settings from the environment, the services, argument types."""

from __future__ import annotations

import argparse
import dataclasses
import enum
import getpass
import json
import re
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pydantic

from cronbase.auth import Principal, Role
from cronbase.bootstrap import Services, build
from cronbase.config import Settings
from cronbase.errors import ConfigurationError
from cronbase.jobs import isoformat
from cronbase.manager import JobManager

Handler = Callable[[argparse.Namespace], Any]


class Commands:
    """The `cronbase` subcommands, and groups of them (`cronbase jobs ...`)."""

    def __init__(self, top: Any) -> None:
        self.top = top  # what argparse's add_subparsers returned

    def add(
        self, name: str, handler: Handler, help_: str, group: Any = None
    ) -> argparse.ArgumentParser:
        """A command running `handler`, at the top level or in `group`."""
        sub = (group or self.top).add_parser(name, help=help_, description=help_)
        sub.set_defaults(handler=handler)
        return sub

    def group(self, name: str, help_: str) -> Any:
        """A noun whose actions are commands of their own: `cronbase token create`."""
        return self.top.add_parser(name, help=help_).add_subparsers(required=True, metavar="ACTION")


def settings() -> Settings:
    try:
        return Settings()
    except pydantic.ValidationError as exc:
        problems = "; ".join(_setting_problem(error) for error in exc.errors())
        raise ConfigurationError(problems) from exc


def _setting_problem(error: Any) -> str:
    """'CRONBASE_X: what is wrong', or a check's own sentence where it names the variable
    already (without pydantic's 'Value error, ' before it)."""
    variable = f"CRONBASE_{'_'.join(map(str, error['loc'])).upper()}"
    message = str(error["msg"]).removeprefix("Value error, ")
    return message if message.startswith(f"{variable} ") else f"{variable}: {message}"


def services(*, functions: bool = True) -> Services:
    """Everything, from the environment; SchemaOutOfDate unless the database is migrated.
    Without `functions`, the job modules are not imported (the command needs none)."""
    return build(settings(), functions=functions)


def manager() -> JobManager:
    """The domain layer, for a command that neither runs nor checks a job."""
    return services(functions=False).manager


def operator() -> Principal:
    """Who runs a command that changes jobs, as the audit log names them: cli:<the OS user>
    (cli alone where the system has no name for the user), with a superadmin's rights (the
    command line reaches the database directly)."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no LOGNAME, USER, ... and no passwd entry (a container)
        user = ""
    return Principal(f"cli:{user}" if user else "cli", Role.SUPERADMIN, None)


def print_json(data: Any) -> None:
    """`data` as indented JSON: instants as the API writes them (2025-01-15T10:30:00Z),
    dataclasses as objects, enums as their values."""
    print(json.dumps(data, indent=2, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return isoformat(value)
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return str(value)  # UUIDs


def add_json_flag(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """`--json` on a command that reads: the same facts as JSON, for scripts."""
    parser.add_argument("--json", action="store_true", help="print JSON")
    return parser


def add_job_id(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The ID argument of a command on one job."""
    parser.add_argument("job_id", metavar="ID", type=uuid_arg, help="the job's id")
    return parser


def uuid_arg(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not a UUID") from exc


def int_between(low: int, high: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from exc
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"{number} is not between {low} and {high}")
        return number

    return parse


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_MAX_DURATION = timedelta(days=3650)


def duration_arg(value: str) -> timedelta:
    """A length of time (--expires-in, --mute-for, --for): a whole number and a unit (s, m, h, d
    or w), e.g. 90d."""
    number, unit = value[:-1], value[-1:].lower()
    # ASCII digits only: str.isdigit() also passes "²", which int() then refuses.
    if unit not in _UNITS or not re.fullmatch(r"[0-9]+", number) or int(number) == 0:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a duration; write a whole number and a unit: s, m, h, d or w "
            "(for example 90d or 12h)"
        )
    seconds = int(number) * _UNITS[unit]
    # Compared before a timedelta is made: one of more than a billion days raises.
    if seconds > _MAX_DURATION.total_seconds():
        raise argparse.ArgumentTypeError(f"{value!r} is more than 10 years")
    return timedelta(seconds=seconds)


def instant_arg(text: str) -> datetime:
    """An instant (--muted-until, --mute-until, --starts-at, --start, ...): ISO 8601 with its
    offset or Z; a wall-clock time alone would be read in some zone nobody chose."""
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 date and time; write one with its offset or Z, "
            "e.g. 2026-11-30T08:00:00+01:00 or 2026-11-30T07:00:00Z"
        ) from None
    if instant.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} needs a zone or offset, e.g. {text}+01:00 or {text}Z"
        )
    return instant
