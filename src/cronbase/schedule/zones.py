"""Time zone validation: IANA names only, spelled exactly as in the tz database."""

from __future__ import annotations

import functools
import zoneinfo

from cronbase.errors import InvalidTimezone

DEFAULT_ZONE = "UTC"

# `localtime` is a link to the host's /etc/localtime: the same job would fire at different
# instants on different machines, so it is not a zone a stored job may use.
_HOST_DEPENDENT = frozenset({"localtime"})


@functools.lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    # zoneinfo loads `europe/berlin` on a case-insensitive file system (and `posixrules`
    # anywhere); membership here insists on the one canonical spelling.
    return frozenset(zoneinfo.available_timezones()) - _HOST_DEPENDENT


def validate_timezone(tz: str | None) -> str:
    """Return the IANA name of `tz` ("UTC" for None), or raise InvalidTimezone.

    The name must be spelled as in the tz database (case-sensitive); the message for an
    unknown name suggests the right spelling when only the letter case or spaces are off.
    """
    if tz is None:
        return DEFAULT_ZONE
    if not isinstance(tz, str):
        raise InvalidTimezone(repr(tz), f"the time zone must be a string, not {type(tz).__name__}")
    load_zone(tz)
    return tz


@functools.lru_cache(maxsize=1024)
def load_zone(tz: str) -> zoneinfo.ZoneInfo:
    """Return the ZoneInfo for a valid IANA name, or raise InvalidTimezone."""
    if tz in _known_zones():
        try:
            return zoneinfo.ZoneInfo(tz)
        except (ValueError, OSError, zoneinfo.ZoneInfoNotFoundError) as exc:
            # The tz database changed under us since it was listed.
            raise InvalidTimezone(tz, f"time zone {tz!r} cannot be loaded ({exc})") from exc
    raise InvalidTimezone(tz, _unknown_reason(tz))


def _unknown_reason(tz: str) -> str:
    if not tz.strip():
        return "the time zone is empty: use an IANA name such as 'UTC' or 'Europe/Berlin'"
    wanted = tz.strip().lower()
    for known in sorted(_known_zones()):
        if known.lower() == wanted:
            return f"unknown time zone {tz!r}: did you mean {known!r}?"
    return f"unknown time zone {tz!r}: use an IANA name such as 'UTC' or 'Europe/Berlin'"
