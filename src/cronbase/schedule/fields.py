"""Parsing and validation of the five cron fields, with cronie's (crontab(5)) rules.

Each field is parsed into terms; a term is `*`, a value, or a range, each with an optional
step. The result keeps the term structure so it can be rendered back as a normalized numeric
field (names replaced by numbers, quirks spelled out) that cronsim parses to the same set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_LETTERS = re.compile(r"[A-Za-z]+", re.ASCII)
# Quartz / cronsim extensions that cronie does not have: L, LW, 15W, 5L, MON#2, ?.
_FOREIGN = re.compile(r"[0-9]*(?:L|W|LW)|[^#]*#.*|\?", re.IGNORECASE | re.ASCII)


@dataclass(frozen=True, slots=True)
class FieldDef:
    """One cron field: its name, its value range, and its 3-letter names (if any)."""

    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()  # names[i] stands for low + i
    note: str = ""

    def allowed(self) -> str:
        values = f"numbers {self.low}-{self.high}"
        if self.names:
            values += f" or names {self.names[0]}-{self.names[-1]}"
        return f"{values}{self.note}, lists (a,b), ranges (a-b) and steps (*/n, a-b/n, a/n)"


MINUTE = FieldDef("minute", 0, 59)
HOUR = FieldDef("hour", 0, 23)
DAY_OF_MONTH = FieldDef("day-of-month", 1, 31)
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
MONTH = FieldDef("month", 1, 12, _MONTHS)
_WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
DAY_OF_WEEK = FieldDef("day-of-week", 0, 7, _WEEKDAYS, " (0 and 7 are Sunday)")
FIELDS: tuple[FieldDef, ...] = (MINUTE, HOUR, DAY_OF_MONTH, MONTH, DAY_OF_WEEK)


class FieldError(ValueError):
    """A field that cannot be parsed; the message names the field and what is allowed."""


@dataclass(frozen=True, slots=True)
class Term:
    """`*` (star) or low-high, every `step`-th value."""

    low: int
    high: int
    step: int
    star: bool

    def values(self) -> range:
        return range(self.low, self.high + 1, self.step)

    def render(self, *, keep_star: bool) -> str:
        if self.star and self.step > self.high - self.low and not keep_star:
            # `*/60` in the minute field is minute 0 alone: say so, for the description.
            return str(self.low)
        if self.star:
            return "*" if self.step == 1 else f"*/{self.step}"
        if self.low == self.high:
            # Also turns `5-5/2` into `5`: cronsim would read `5-5/2` as "5 through max, every 2".
            return str(self.low)
        if self.step == 1:
            return f"{self.low}-{self.high}"
        return f"{self.low}-{self.high}/{self.step}"


@dataclass(frozen=True, slots=True)
class ParsedField:
    """A parsed field: its terms in written order, and the set of values they cover."""

    definition: FieldDef
    terms: tuple[Term, ...]
    values: frozenset[int]

    @property
    def starred(self) -> bool:
        """Whether the field starts with `*`: cronie's test for DOM/DOW "unrestricted" and for
        "wildcard" (as opposed to fixed-time) jobs, even when the field is `*/2`."""
        return self.terms[0].star

    def render(self) -> str:
        # A day field starting with `*` tells cronsim to AND the two day fields: keep the star.
        keep_star = self.definition in (DAY_OF_MONTH, DAY_OF_WEEK)
        return ",".join(term.render(keep_star=keep_star) for term in self.terms)


def parse_field(definition: FieldDef, text: str) -> ParsedField:
    """Parse one field's text; raise FieldError with a message naming field, value and range."""
    terms = tuple(_parse_term(definition, item, text) for item in text.split(","))
    values = frozenset(value for term in terms for value in term.values())
    return ParsedField(definition, terms, values)


def _fail(definition: FieldDef, reason: str) -> FieldError:
    return FieldError(f"{definition.name} field: {reason}")


def _parse_term(definition: FieldDef, item: str, text: str) -> Term:
    if not item:
        raise _fail(definition, f"empty item in the list {text!r}")
    base, slash, step_text = item.partition("/")
    step = _parse_step(definition, step_text, item) if slash else 1
    if base == "*":
        return Term(definition.low, definition.high, step, star=True)
    low_text, dash, high_text = base.partition("-")
    low = _parse_value(definition, low_text, item)
    if not dash:
        # cronie reads `a/n` as "a through the field's maximum, every n".
        return _stepped(low, definition.high if slash else low, step)
    high = _parse_value(definition, high_text, item)
    if definition is DAY_OF_WEEK and high == 0 and low > 0:
        # cronie's one exception to "no reversed ranges": a day-of-week range ending in
        # Sunday (0 or SUN) runs to the end of the week, so FRI-SUN means 5-7.
        high = 7
    if high < low:
        raise _fail(
            definition, f"range {low_text}-{high_text} is reversed; write the low end first"
        )
    return _stepped(low, high, step)


def _stepped(low: int, high: int, step: int) -> Term:
    if step > high - low:
        # A step past the end of its range reaches only the start: write `5-31/40` as `5`, so
        # the description says what runs rather than "every 40th day from 5 through 31".
        return Term(low, low, 1, star=False)
    return Term(low, high, step, star=False)


def _parse_step(definition: FieldDef, text: str, item: str) -> int:
    # Debian's cron (and cronie, and every Vixie-derived cron) takes any step of at least 1
    # and sets only the values it reaches: `*/60` in the minute field is minute 0 alone,
    # `*/100` in the day-of-month field is day 1. So do we (OpenBSD's cron refuses them).
    if not _DIGITS.fullmatch(text):
        raise _fail(definition, f"the step in {item!r} must be a whole number, 1 or more")
    step = int(text)  # at most MAX_LENGTH digits: the whole schedule is no longer
    if step < 1:
        raise _fail(definition, f"step {_short(text)} in {_short(item)!r} must be 1 or more")
    return step


def _parse_value(definition: FieldDef, text: str, item: str) -> int:
    if _DIGITS.fullmatch(text):
        if len(text) > 6 or not definition.low <= int(text) <= definition.high:
            raise _fail(
                definition,
                f"{_short(text)} is out of range {definition.low}-{definition.high}"
                f"{definition.note}",
            )
        return int(text)
    if _FOREIGN.fullmatch(text):
        raise _fail(
            definition,
            f"{item!r} is not supported (no L, W, # or ?); use {definition.allowed()}",
        )
    if _LETTERS.fullmatch(text):
        return _parse_name(definition, text)
    raise _fail(definition, f"{item!r} is not valid; use {definition.allowed()}")


def _parse_name(definition: FieldDef, text: str) -> int:
    upper = text.upper()
    if upper in definition.names:
        return definition.low + definition.names.index(upper)
    if not definition.names:
        numbers = f"{definition.low}-{definition.high}"
        raise _fail(definition, f"names like {text!r} are not allowed; use numbers {numbers}")
    if len(upper) > 3 and upper[:3] in definition.names:
        raise _fail(definition, f"{text!r} is not allowed; use 3-letter names like {upper[:3]}")
    other = MONTH if definition is DAY_OF_WEEK else DAY_OF_WEEK
    where = f" ({upper[:3]} is a {other.name} name)" if upper[:3] in other.names else ""
    raise _fail(
        definition,
        f"{text!r} is not a {definition.name} name{where}; use numbers "
        f"{definition.low}-{definition.high} or names {', '.join(definition.names)}",
    )


def _short(text: str) -> str:
    return text if len(text) <= 12 else text[:12] + "..."
