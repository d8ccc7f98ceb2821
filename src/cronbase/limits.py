"""How much one tenant may store: the size and depth of JSON documents, and the length of the
texts a run leaves behind. Pure: no settings are read here, the callers pass the limits in.

Limits protect the other tenants. A document nested hundreds of levels deep is stored by both
databases but cannot be sent back (the response serializer stops at its recursion limit), so a
job holding one would break every listing it appears in; a megabyte of metadata per job makes
one page of jobs hundreds of megabytes. What clients send is refused with a message; what the
server writes itself (a run's error, result and log, the monitoring keys) is cut to fit, with
a marker saying so, because a run that already happened cannot be refused.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass
from typing import Any

# Defaults of the settings that tune them (CRONBASE_MAX_METADATA_BYTES, ..._DEPTH).
DEFAULT_MAX_METADATA_BYTES = 64 * 1024
DEFAULT_MAX_METADATA_DEPTH = 32
DEFAULT_MAX_JOBS_PER_TENANT = 1000
# What a run may leave in the history: its error, its result, its log. The alerts that quote
# them use the same caps.
MAX_RUN_TEXT_BYTES = 64 * 1024
MAX_RESULT_DEPTH = DEFAULT_MAX_METADATA_DEPTH


@dataclass(frozen=True)
class JobLimits:
    """What a client may store in jobs (the settings CRONBASE_MAX_JOBS_PER_TENANT,
    CRONBASE_MAX_METADATA_BYTES and CRONBASE_MAX_METADATA_DEPTH). Global jobs, which only a
    superadmin makes, count toward no tenant's quota."""

    max_jobs_per_tenant: int = DEFAULT_MAX_JOBS_PER_TENANT
    max_metadata_bytes: int = DEFAULT_MAX_METADATA_BYTES
    max_metadata_depth: int = DEFAULT_MAX_METADATA_DEPTH


def json_depth(value: Any) -> int:
    """How deeply `value` nests: 0 for a scalar, 1 for a flat object or array, and so on.
    Iterative, so a hostile document cannot exhaust the stack while being measured."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = list(node.values())
        elif isinstance(node, list | tuple):
            children = list(node)
        else:
            deepest = max(deepest, depth)
            continue
        deepest = max(deepest, depth + 1)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def json_size(value: Any) -> int:
    """The bytes of `value` as compact UTF-8 JSON: what the database stores and clients get.
    Half a surrogate pair (JSON may escape one: "\\ud800") is counted, not raised on: whether
    it may be stored is jobs.json_problem's question, answered with the field."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return len(text.encode("utf-8", "surrogatepass"))


def document_problem(value: Any, *, max_bytes: int, max_depth: int) -> str | None:
    """Why `value` is too big to keep, or None. Depth is measured first: serializing a very
    deep document to measure its size would itself hit the recursion limit."""
    depth = json_depth(value)
    if depth > max_depth:
        return f"nests {depth} levels deep; at most {max_depth} are allowed: flatten it"
    size = json_size(value)
    if size > max_bytes:
        return (
            f"is {size:,} bytes as JSON; at most {max_bytes:,} are allowed: keep large data "
            "in your own tables and store a reference here"
        )
    return None


def cut_text(text: str, max_bytes: int = MAX_RUN_TEXT_BYTES) -> str:
    """`text` if it fits in `max_bytes` of UTF-8, else its start and end with a marker between
    them saying how much was left out (the end of a traceback is where its cause is)."""
    data = text.encode()
    if len(data) <= max_bytes:
        return text
    return _cut(data, data, len(data), max_bytes)


def _cut(start: bytes, end: bytes, total: int, max_bytes: int) -> str:
    """The cut of a text of `total` bytes that begins with `start` and ends with `end` (each
    at least half of `max_bytes` long): its start, the marker, its end."""
    marker = f"\n[... {total - max_bytes:,} bytes cut: the text was {total:,} bytes ...]\n"
    keep = max(max_bytes - len(marker.encode()), 0)
    head = start[: keep // 2].decode(errors="ignore")
    tail = end[len(end) - (keep - keep // 2) :].decode(errors="ignore")
    return f"{head}{marker}{tail}"


class CappedText:
    """Text appended piece by piece (a run's log, line by line), cut as cut_text cuts the
    whole of it, while holding no more than about twice `max_bytes`: a job that logs in a loop
    for hours costs the worker no more memory than one that logs a page. Not thread-safe."""

    def __init__(self, max_bytes: int = MAX_RUN_TEXT_BYTES) -> None:
        self.max_bytes = max_bytes
        self.total = 0  # bytes appended, kept or not
        self._head: list[bytes] = []  # the first pieces, until they reach max_bytes
        self._head_bytes = 0
        self._tail: deque[bytes] = deque()  # the pieces after those, the newest max_bytes
        self._tail_bytes = 0

    def add(self, piece: str) -> None:
        data = piece.encode()
        self.total += len(data)
        if self._head_bytes < self.max_bytes:
            self._head.append(data)
            self._head_bytes += len(data)
            return
        self._tail.append(data)
        self._tail_bytes += len(data)
        # Drop the oldest while the rest still holds the whole end that a cut keeps.
        while self._tail_bytes - len(self._tail[0]) >= self.max_bytes:
            self._tail_bytes -= len(self._tail.popleft())

    def text(self) -> str:
        head = b"".join(self._head)
        if self.total <= self.max_bytes:  # all of it is in the head
            return head.decode(errors="replace")
        return _cut(head, head + b"".join(self._tail), self.total, self.max_bytes)


def last_lines(text: str | None, count: int = 20, max_bytes: int = 4096) -> str:
    """The last `count` lines of a run's log or traceback ("" for None), at most `max_bytes`
    of UTF-8 (longer lines lose their start): what a notification quotes of a failure."""
    if not text:
        return ""
    lines = text.rstrip("\n").split("\n")[-count:]
    data = "\n".join(lines).encode()
    if len(data) <= max_bytes:
        return data.decode()
    marker = "[...]"
    return marker + data[len(data) - max_bytes + len(marker) :].decode(errors="ignore")


def cut_result(result: dict[str, Any] | None) -> dict[str, Any] | None:
    """A run's result if it fits the caps, else a small object saying what it was, with the
    start of its JSON: the run happened, so its record is kept, only smaller."""
    if result is None:
        return None
    problem = document_problem(result, max_bytes=MAX_RUN_TEXT_BYTES, max_depth=MAX_RESULT_DEPTH)
    if problem is None:
        return result
    preview = "" if json_depth(result) > MAX_RESULT_DEPTH else json.dumps(result)[:1024]
    return {"result_cut": f"the job's result {problem}", "preview": preview}
