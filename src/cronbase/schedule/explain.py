"""Human-readable descriptions of schedules, using cronsim's explainer."""

from __future__ import annotations

from cronsim.explain import explain

from cronbase.schedule.cron import parse_schedule
from cronbase.schedule.zones import DEFAULT_ZONE


def describe(schedule: str, tz: str | None = None) -> str:
    """Describe `schedule` in English, e.g. "At 02:00 every day" for `cron:0 2 * * *`.

    The zone is appended when it is not UTC: "At 00:00 every day (Europe/Berlin)".
    Raises InvalidSchedule like parse_schedule().
    """
    parsed = parse_schedule(schedule, tz)
    if parsed.on_demand:
        return "On demand: only when run now, after the jobs it depends on, or in a backfill"
    # The normalized expression, not the source: cronsim's explainer knows no aliases, and
    # it reads `FRI-SUN` (which we store as 5-7) as a reversed range.
    text = explain(parsed.expression)
    return text if parsed.tz == DEFAULT_ZONE else f"{text} ({parsed.tz})"
