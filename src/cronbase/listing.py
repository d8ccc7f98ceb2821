"""Lists in pages: the sort orders a list offers and keyset cursors over them.

A cursor is opaque to clients: base64url of JSON naming the sort it belongs to, the sort key
of the last row of a page and that row's tie-breaking values (the id last). The next page is
the rows after that key in the same order, so its cost does not grow with depth (an offset's
does) and a row inserted or deleted meanwhile neither repeats nor skips one. A cursor that
cannot be read, or that belongs to another sort, is InvalidQuery, never a server error.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from cronbase.errors import InvalidQuery

# The kinds of sort key a cursor carries (as JSON: an ISO 8601 time, a string, an integer).
_TIME, _TEXT, _INT = "time", "text", "int"


@dataclass(frozen=True)
class SortField:
    name: str  # the column of its table (and the attribute of the listed object)
    kind: str  # _TIME or _TEXT
    nullable: bool
    # The listed object's attribute holding the value the list was ordered by, where it is
    # not `name`'s (the jobs list's copy of last_run, store/search.py).
    attribute: str | None = None


@dataclass(frozen=True)
class Sort:
    """An order over `fields` (each ascending, or all descending), then the id the same way;
    nulls last whatever the direction."""

    token: str  # as the client spells it, e.g. "-next_run"; "" for a list's default order
    fields: tuple[SortField, ...]
    descending: bool

    def key_of(self, item: Any) -> list[Any]:
        return [getattr(item, f.attribute or f.name) for f in self.fields] + [item.id]

    def cursor_after(self, item: Any) -> str:
        """The cursor of the page after the one `item` ends."""
        values = [v.isoformat() if isinstance(v, datetime) else v for v in self.key_of(item)]
        values[-1] = str(values[-1])
        raw = json.dumps({"s": self.token, "k": values}, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def read_cursor(self, cursor: str) -> list[Any]:
        """The key values (the id last) a cursor of this sort carries."""
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            decoded = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        except (ValueError, UnicodeError, binascii.Error):
            raise _bad_cursor("it is not a cursor this server gave") from None
        if not isinstance(decoded, dict) or not isinstance(decoded.get("k"), list):
            raise _bad_cursor("it is not a cursor this server gave")
        if decoded.get("s") != self.token:
            raise _bad_cursor(
                f"it belongs to sort={decoded.get('s')!r}, not {self.token!r}: "
                "send the same sort as the request that gave it"
            )
        values = decoded["k"]
        if len(values) != len(self.fields) + 1:
            raise _bad_cursor("it is not a cursor this server gave")
        try:
            key = [_read(f, v) for f, v in zip(self.fields, values, strict=False)]
            return [*key, UUID(values[-1])]
        except (TypeError, ValueError, AttributeError):
            raise _bad_cursor("it is not a cursor this server gave") from None


def _read(field: SortField, value: Any) -> Any:
    if value is None:
        if not field.nullable:
            raise ValueError(field.name)
        return None
    if field.kind == _TIME:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError(field.name)
        return parsed
    wanted = int if field.kind == _INT else str
    if not isinstance(value, wanted) or isinstance(value, bool) or "\0" in str(value):
        raise ValueError(field.name)  # PostgreSQL's text holds no NUL
    return value


def _bad_cursor(why: str) -> InvalidQuery:
    return InvalidQuery([("cursor", f"malformed cursor ({why}); start again without one")])


def parse_sort(token: str | None, offered: dict[str, tuple[SortField, ...]]) -> Sort:
    """The sort a client asked for: one of `offered`'s names, a leading '-' for descending;
    None or "" is the list's default order (the "" entry of `offered`)."""
    token = token or ""
    descending = token.startswith("-")
    name = token[1:] if descending else token
    if name not in offered or (descending and not name):
        names = ", ".join(n for n in offered if n)
        raise InvalidQuery(
            [("sort", f"unknown sort {token!r}: use one of {names}, with a leading - to reverse")]
        )
    return Sort(token=token, fields=offered[name], descending=descending)


def start_after(sort: Sort, cursor: str | None, offset: int | None) -> list[Any] | None:
    """The key a page starts after: the cursor's, or None (from the start, or an offset)."""
    if cursor is None:
        return None
    if offset is not None:
        raise InvalidQuery(
            [("cursor", "send either cursor or offset, not both (a cursor already says where)")]
        )
    return sort.read_cursor(cursor)


def page_of(fetched: Sequence[Any], sort: Sort, limit: int) -> Page:
    """The page of `limit` items from `fetched`, which holds one more if there is a next page
    (so the last page says it is the last, even when it is full)."""
    items = fetched[:limit]
    more = len(fetched) > limit
    return Page(items=items, next_cursor=sort.cursor_after(items[-1]) if more else None)


CREATED = SortField("created_at", _TIME, nullable=False)
JOB_SORTS: dict[str, tuple[SortField, ...]] = {
    "": (CREATED,),  # oldest first, as lists always were
    "name": (SortField("name", _TEXT, nullable=False),),
    "next_run": (SortField("next_run", _TIME, nullable=True),),
    # Ordered by the list's copy of last_run (store/search.py), which the rows carry as
    # listed_last_run (jobs.ListedJob); it may lag the job's own by a few seconds.
    "last_run": (SortField("last_run", _TIME, nullable=True, attribute="listed_last_run"),),
}
# A job's runs: newest slot first, then the latest attempt (the order history always had).
RUN_ORDER = Sort(
    token="",
    fields=(
        SortField("scheduled_for", _TIME, nullable=False),
        SortField("attempt", _INT, nullable=False),
    ),
    descending=True,
)
# A job's audit log (cronbase.audit): newest first; its ids, time-ordered, break ties.
AUDIT_ORDER = Sort(token="", fields=(SortField("at", _TIME, nullable=False),), descending=True)


@dataclass(frozen=True)
class JobQuery:
    """Which jobs a list shows, in which order, from where."""

    tenant_id: UUID | None = None
    has_tenant: bool | None = None  # False: the global jobs only; True: the tenants' only
    is_active: bool | None = None
    q: str | None = None  # a case-insensitive substring of the name
    function_name: str | None = None
    last_status: str | None = None
    sort: Sort = Sort(token="", fields=JOB_SORTS[""], descending=False)
    after: list[Any] | None = None  # a cursor's key values, the id last
    limit: int = 100
    offset: int = 0


@dataclass(frozen=True)
class RunQuery:
    """Which of a job's runs a list shows, from where (always newest first)."""

    status: str | None = None
    after: list[Any] | None = None
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True)
class Page:
    """A page of a list: its items and the cursor of the next page (None on the last)."""

    items: Sequence[Any]
    next_cursor: str | None

    @property
    def has_more(self) -> bool:
        return self.next_cursor is not None
