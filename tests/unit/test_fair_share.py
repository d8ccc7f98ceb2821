"""The fair-share arithmetic: caps, rooms and who is full."""

from __future__ import annotations

import uuid

from cronbase.fair_share import TenantShares, default_cap

A, B = uuid.UUID(int=1), uuid.UUID(int=2)


def test_the_default_cap_is_half_the_threads_rounded_up_and_at_least_one() -> None:
    assert [default_cap(n) for n in (1, 2, 3, 4, 16)] == [1, 1, 2, 2, 8]


def test_take_keeps_each_tenants_room_in_order_and_never_caps_global_runs() -> None:
    shares = TenantShares.counting(2, [A, None, None])
    items = [(A, 1), (B, 2), (A, 3), (None, 4), (B, 5), (B, 6), (None, 7)]

    taken = shares.take(items, lambda item: item[0], 10)

    assert [number for _, number in taken] == [1, 2, 4, 5, 7]
    assert shares.full() == [A, B]
    assert shares.take([(A, 8), (None, 9), (None, 10)], lambda item: item[0], 1) == [(None, 9)]
