"""Run ids made by the workers, in time order (the UUID version 7 layout of RFC 9562).

A claim inserts its runs with ids made client-side. Random ids (version 4) put each run's
entry in pk_cron_job_run at a random leaf of the index: as the history grows, every insert
descends into a different page, which is less often in the CPU's caches and in PostgreSQL's
buffers, and after each checkpoint writes that page whole to the WAL once more. An id that
starts with the time in milliseconds puts a batch's entries at the right edge of the index,
in the pages the previous batch touched, whatever the size of the history. The other 74 bits
are random, so ids made in the same millisecond by many workers do not collide, and an id
still tells nothing but roughly when its run was claimed (which started_at says anyway).
"""

from __future__ import annotations

import os
import time
from uuid import UUID

_VERSION = 0x7 << 76
_VARIANT = 0b10 << 62


def time_ordered_uuid() -> UUID:
    """A version-7 UUID: 48 bits of Unix time in milliseconds, then 74 random bits."""
    millis = time.time_ns() // 1_000_000
    random = int.from_bytes(os.urandom(10), "big")  # 80 bits, of which 74 are used
    rand_a = (random >> 62) & 0xFFF
    rand_b = random & ((1 << 62) - 1)
    return UUID(int=(millis & ((1 << 48) - 1)) << 80 | _VERSION | rand_a << 64 | _VARIANT | rand_b)
