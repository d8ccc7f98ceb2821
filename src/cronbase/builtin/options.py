"""The built-in jobs' options, read from a job's metadata.

A missing or null option takes its default; a bad value is refused with a ValueError that names
the key, what is allowed and the default, which the run records as its error.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any, cast


def _option(metadata: dict[str, Any], key: str, default: Any) -> Any:
    value = metadata.get(key)
    return default if value is None else value


def _is_number(value: Any) -> bool:
    # bool is an int to Python, but `true` is no number of minutes.
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def number_option(
    metadata: dict[str, Any], key: str, default: float, *, minimum: float, inclusive: bool
) -> float:
    value = _option(metadata, key, default)
    if not _is_number(value) or value < minimum or (value == minimum and not inclusive):
        bound = f">= {minimum}" if inclusive else f"> {minimum}"
        raise ValueError(f"{key} must be a number {bound} (default {default}); got {value!r}")
    return cast(float, value)  # int or float, as given: 90 stays 90 in the result


def integer_option(metadata: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = _option(metadata, key, default)
    if not (_is_number(value) and value == int(value) and low <= value <= high):
        raise ValueError(
            f"{key} must be an integer from {low} to {high} (default {default}); got {value!r}"
        )
    return int(value)


def choice_option(
    metadata: dict[str, Any], key: str, default: str, allowed: tuple[str, ...]
) -> str:
    value = _option(metadata, key, default)
    if value not in allowed:
        choices = ", ".join(repr(choice) for choice in allowed)
        raise ValueError(f"{key} must be one of {choices} (default {default!r}); got {value!r}")
    return str(value)


def time_before(now: datetime, key: str, unit: timedelta, amount: float) -> datetime:
    """`now` minus `amount` units; a ValueError naming `key` if that leaves the calendar."""
    try:
        return now - unit * amount
    except OverflowError as exc:
        raise ValueError(
            f"{key}={amount!r} reaches back before year 1; use a smaller value"
        ) from exc
