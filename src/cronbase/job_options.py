"""A job function's options: the keys of a job's metadata that the function reads, declared
once as a pydantic model when the function is registered.

The same declaration checks a job's metadata when the job is created or changed (problems
become InvalidJob errors at `metadata.<key>`), reads the options when the job runs (a stored
job may predate the check, so a bad value is refused again, as a ValueError), and describes the
options to clients (GET /api/cron/functions, from which the Web UI builds its fields).

Only declared keys are checked: metadata also carries the host's own data and the runner's
monitoring counters. A missing or null option takes its default. Values are read strictly, as
JSON gives them: "5" is no number and `true` no integer.
"""

from __future__ import annotations

import math
import typing
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError


def _whole_number_as_int(value: Any) -> Any:
    # JSON has one number type, and PostgreSQL's jsonb may hand 1000 back as 1000.0.
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return value


# The types an option may have besides str, a Literal of choices and bool.
Number = int | float  # int stays int: 90 days reads back as 90, not 90.0
Integer = Annotated[int, BeforeValidator(_whole_number_as_int)]


class JobOptions(BaseModel):
    """The base of an options declaration: one field per option, each with its type, default,
    bounds (`Field(gt=0)`, `ge`, `lt`, `le`) and description. Every option needs a default."""

    model_config = ConfigDict(strict=True, allow_inf_nan=False, frozen=True, extra="ignore")

    @classmethod
    def read(cls, metadata: dict[str, Any]) -> Self:
        """The options of `metadata`; a ValueError naming the first bad key if one is bad."""
        problems = option_errors(cls, metadata)
        if problems:
            key, message = problems[0]
            raise ValueError(f"{key} {message}")
        return cls.model_validate(_declared(cls, metadata))


@dataclass(frozen=True)
class OptionInfo:
    """One option as clients see it; the bounds and choices that do not apply are None."""

    name: str
    type: str  # "number", "integer", "string", "boolean" or "json"
    default: Any
    description: str
    minimum: float | None = None
    exclusive_minimum: float | None = None
    maximum: float | None = None
    exclusive_maximum: float | None = None
    choices: list[Any] | None = None


def describe_options(options: type[JobOptions] | None) -> list[OptionInfo]:
    """The options in their declared order ([] for a function without any)."""
    if options is None:
        return []
    described = []
    for name, field in options.model_fields.items():
        bounds: dict[str, float] = {}
        for constraint in field.metadata:
            for attribute, key in _BOUNDS.items():
                if getattr(constraint, attribute, None) is not None:
                    bounds[key] = getattr(constraint, attribute)
        type_, choices = _kind(field.annotation)
        info = OptionInfo(name, type_, field.default, field.description or "", choices=choices)
        described.append(OptionInfo(**{**info.__dict__, **bounds}))
    return described


def option_errors(options: type[JobOptions] | None, metadata: Any) -> list[tuple[str, str]]:
    """(key, message) for each declared key of `metadata` whose value is not allowed: the
    message says what is allowed and the default. Undeclared keys and nulls are left alone."""
    if options is None or not isinstance(metadata, dict):
        return []
    try:
        options.model_validate(_declared(options, metadata))
    except ValidationError as exc:
        bad = dict.fromkeys(str(error["loc"][0]) for error in exc.errors() if error["loc"])
        described = {info.name: info for info in describe_options(options)}
        return [(key, _problem(described[key], metadata[key])) for key in bad]
    return []


def _declared(options: type[JobOptions], metadata: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value
        for key, value in metadata.items()
        if key in options.model_fields and value is not None
    }


_BOUNDS = {"gt": "exclusive_minimum", "ge": "minimum", "lt": "exclusive_maximum", "le": "maximum"}
_KINDS = {int: "integer", float: "number", str: "string", bool: "boolean"}


def _kind(annotation: Any) -> tuple[str, list[Any] | None]:
    """The option's JSON type, and its choices if it is a Literal."""
    if typing.get_origin(annotation) is Literal:
        choices = list(typing.get_args(annotation))
        return _KINDS.get(type(choices[0]), "json"), choices
    if typing.get_origin(annotation) is Annotated:
        return _kind(typing.get_args(annotation)[0])
    if set(typing.get_args(annotation)) == {int, float}:
        return "number", None
    return _KINDS.get(annotation, "json"), None


def _problem(info: OptionInfo, value: Any) -> str:
    return f"must be {allowed(info)} (default {info.default!r}); got {value!r}"


def allowed(info: OptionInfo) -> str:
    """What the option takes, in words: 'a number > 0', 'an integer from 1 to 10000'."""
    if info.choices is not None:
        return "one of " + ", ".join(repr(choice) for choice in info.choices)
    noun = {"integer": "an integer", "number": "a number", "string": "a string"}.get(
        info.type, f"a {info.type} value"
    )
    if info.minimum is not None and info.maximum is not None:
        return f"{noun} from {info.minimum!r} to {info.maximum!r}"
    bounds = (
        (">", info.exclusive_minimum),
        (">=", info.minimum),
        ("<", info.exclusive_maximum),
        ("<=", info.maximum),
    )
    limits = [f"{sign} {bound!r}" for sign, bound in bounds if bound is not None]
    return " ".join([noun, " and ".join(limits)]).strip()
