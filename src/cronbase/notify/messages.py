"""A notification as people read it (a Slack message, an email): a title and labelled lines,
made from the payload alone, so every kind of channel words an event the same way."""

from __future__ import annotations

from typing import Any

# What happened, after the job's name; and what repeats of it are called when folded.
_WORDING = {
    "run.failed": ("failed", "failures"),
    "run.timed_out": ("timed out", "timeouts"),
    "run.abandoned": ("was abandoned", "abandoned runs"),
    "run.succeeded": ("succeeded", "successes"),
    "run.missed": ("missed scheduled runs", "missed-run reports"),
    "job.overdue": ("is overdue", "overdue alerts"),
    "job.recovered": ("recovered", "recoveries"),
}
MAX_ERROR_CHARS = 1500  # the end of an error: the message (and a traceback's last lines)


def title(payload: dict[str, Any]) -> str:
    """One line: `cronbase: Nightly export failed`."""
    event = str(payload.get("event", "notification"))
    job = payload.get("job") or {}
    what, _ = _WORDING.get(event, (event, "repeats"))
    if not job:
        return f"cronbase: {payload.get('message') or event}"
    return f"cronbase: {job.get('name', 'a job')} {what}"


def folded_line(payload: dict[str, Any]) -> str | None:
    """`and 59 more failures since 2026-11-30T10:00:00Z`, when repeats were folded into this
    notification (flood control), else None."""
    folded = payload.get("folded")
    if not isinstance(folded, dict) or not folded.get("count"):
        return None
    _, plural = _WORDING.get(str(payload.get("event")), ("", "repeats"))
    return f"and {folded['count']} more {plural} since {folded.get('since')}"


def details(payload: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, text) pairs worth showing, in reading order; the error, then the last lines of
    the traceback and of the log, come last."""
    lines: list[tuple[str, str]] = []
    job = payload.get("job") or {}
    run = payload.get("run") or {}
    if job:
        lines.append(
            ("Job", f"{job.get('name')} ({job.get('function_name')}, {job.get('schedule')})")
        )
    if run:
        lines.append(("Scheduled for", str(run.get("scheduled_for"))))
        lines.append(("Status", f"{run.get('status')}, attempt {run.get('attempt')}"))
        if run.get("duration") is not None:
            lines.append(("Duration", f"{run['duration']} s"))
    overdue = payload.get("overdue") or {}
    if overdue:
        late, grace = overdue.get("late_seconds"), overdue.get("overdue_after_seconds")
        text = (
            f"next run {overdue.get('next_run')} has not started ({late} s late; grace {grace} s)"
        )
        lines.append(("Overdue", text))
    missed = payload.get("missed") or {}
    if missed:
        more = "+" if missed.get("more") else ""
        lines.append(
            (
                "Missed",
                f"{missed.get('count')}{more} slot(s) from {missed.get('first')} to {missed.get('last')}",
            )
        )
    folded = folded_line(payload)
    if folded:
        lines.append(("Repeats", folded))
    lines.append(("When", str(payload.get("time"))))
    if payload.get("link"):
        lines.append(("Link", str(payload["link"])))
    error = run.get("error")
    if error:
        lines.append(("Error", _tail(str(error), MAX_ERROR_CHARS)))
    for label, key in (("Traceback", "traceback_tail"), ("Log", "log_tail")):
        if run.get(key):
            lines.append((label, _tail(str(run[key]), MAX_ERROR_CHARS)))
    return lines


def _tail(text: str, limit: int) -> str:
    return text if len(text) <= limit else "…" + text[-limit:]
