"""The schedule aliases and cron macros, as data, and their expansion to cron expressions.

Aliases are wall-clock schedules, not intervals: `every_5_minutes` means minute 0, 5, 10, ...
of every hour (`*/5 * * * *`), so fire times never drift and every job with the same alias
fires at the same instants. That is why N must divide 60 (or 24): `*/7` would fire at minute
56 and then again at minute 0, which is not "every 7 minutes".
"""

from __future__ import annotations

import re

from cronbase.errors import InvalidSchedule

# Divisors of 60 below 60, and of 24 below 24. 60 and 24 themselves do not fit the minute and
# hour fields (0-59, 0-23), and `hourly` / `daily` already say it.
MINUTE_STEPS: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30)
HOUR_STEPS: tuple[int, ...] = (1, 2, 3, 4, 6, 8, 12)

# `weekly` is Monday, as in the seed; cron's own `@weekly` is Sunday (see MACROS).
NAMED_ALIASES: dict[str, str] = {
    "hourly": "0 * * * *",
    "daily": "0 0 * * *",
    "weekly": "0 0 * * 1",
}

# cronie's macros (crontab(5)), written after `cron:`. `@reboot` has no meaning here.
MACROS: dict[str, str] = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}

# A schedule that never fires on its own: the job runs only when asked (run now), after the
# jobs it depends on, or as a dependent in a backfill. Its next_run is always null.
ON_DEMAND = "on_demand"

_EVERY_N = re.compile(r"every_([0-9]+)_(minutes|hours)", re.ASCII)

ALLOWED_FORMS = (
    f"use every_N_minutes (N = {', '.join(map(str, MINUTE_STEPS))}), "
    f"every_N_hours (N = {', '.join(map(str, HOUR_STEPS))}), hourly, daily, weekly, "
    f"{ON_DEMAND} (never on its own), or 'cron:' followed by a 5-field cron expression such as 'cron:0 2 * * *'"
)


def expand_alias(schedule: str) -> str | None:
    """Return the cron expression for an alias, or None when `schedule` is not alias-shaped.

    Raises InvalidSchedule for `every_N_minutes` / `every_N_hours` with an N that does not fit.
    Aliases are case-sensitive: schedules are stored and compared as text, so there is exactly
    one spelling of each (the seed's lowercase one); `Daily` is rejected with a hint instead.
    """
    if schedule in NAMED_ALIASES:
        return NAMED_ALIASES[schedule]
    match = _EVERY_N.fullmatch(schedule)
    if match is None:
        return None
    number, unit = match.groups()
    steps = MINUTE_STEPS if unit == "minutes" else HOUR_STEPS
    if number.startswith("0") or int(number) not in steps:
        raise InvalidSchedule(schedule, _bad_step_reason(number, unit, steps))
    return f"*/{number} * * * *" if unit == "minutes" else f"0 */{number} * * *"


def _bad_step_reason(number: str, unit: str, steps: tuple[int, ...]) -> str:
    allowed = ", ".join(map(str, steps))
    whole = "60" if unit == "minutes" else "24"
    if number == whole:
        instead = "hourly" if unit == "minutes" else "daily"
        return f"every_{number}_{unit} does not fit the {unit[:-1]} field; use '{instead}'"
    return (
        f"N = {number} is not allowed in every_N_{unit}: N must divide {whole} evenly so the "
        f"schedule does not drift; use N = {allowed} (or a 'cron:' expression)"
    )


def hint_for_unknown(schedule: str) -> str:
    """Why `schedule` (neither an alias nor `cron:...`) was rejected, and what to write instead."""
    lowered = schedule.lower()
    if lowered in (*NAMED_ALIASES, ON_DEMAND) or _EVERY_N.fullmatch(lowered):
        return f"aliases are lowercase: use {lowered!r}"
    if lowered.startswith("cron:"):
        return f"the 'cron:' prefix is lowercase: use {'cron:' + schedule[5:]!r}"
    if schedule.startswith("@"):
        return f"macros go after the 'cron:' prefix: use {'cron:' + schedule!r}"
    if re.match(r"[0-9*]", schedule) and len(schedule.split()) > 1:
        return f"cron expressions need the 'cron:' prefix: use {'cron:' + schedule!r}"
    return f"unknown schedule; {ALLOWED_FORMS}"


def expand_macro(schedule: str, body: str) -> str:
    """Return the cron expression for a macro such as `@daily` (the text after `cron:`)."""
    if body in MACROS:
        return MACROS[body]
    names = ", ".join(MACROS)
    first = body.split()[0]
    if first in MACROS:
        reason = f"unexpected text after {first!r}; a macro stands alone"
    elif first.lower() in MACROS:
        # Case-sensitive like cronie (it compares with strcmp), and one spelling in storage.
        reason = f"macros are lowercase: use {first.lower()!r}"
    elif first == "@reboot":
        reason = f"@reboot is not supported (jobs have no boot); use one of {names}"
    else:
        reason = f"unknown macro {first!r}; use one of {names}"
    raise InvalidSchedule(schedule, reason)
