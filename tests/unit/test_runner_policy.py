"""The runner's policies (pure): claiming ahead, batching results, blocking, leases, sweeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cronbase.runner import policy

LEASE = 60.0


def test_prefetch_claims_what_the_threads_get_through_in_a_tenth_of_a_second() -> None:
    assert policy.prefetch(4, None) == 0  # nothing measured yet: claim only for free threads
    assert policy.prefetch(4, 0.001) == 400  # 4 threads x 100 runs each
    assert policy.prefetch(4, 0.0) == policy.MAX_PREFETCH  # instant runs: capped
    assert policy.prefetch(4, 2.0) == 0  # long jobs are claimed only as threads free up


@pytest.mark.parametrize(
    ("queued", "free", "prefetch", "wanted"),
    [
        (0, 4, 0, 4),  # fill the free threads
        (0, 4, 100, 104),  # and keep `prefetch` more waiting
        (4, 4, 0, 0),  # enough claims wait for the free threads: do not claim
        (60, 2, 100, 0),  # plenty still waiting: not for every thread that frees up
        (40, 2, 100, 62),  # the waiting claims ran low (under half): top them up
        (1, 3, 100, 102),  # a thread would stay empty: claim now
        (0, 0, 0, 0),  # no thread free, nothing to keep ahead
    ],
)
def test_claims_wanted(queued: int, free: int, prefetch: int, wanted: int) -> None:
    assert policy.claims_wanted(queued, free, prefetch) == wanted


def test_results_are_flushed_after_a_delay_a_full_batch_or_once_idle() -> None:
    first = 10.0
    assert not policy.flush_due(0, idle=True, first_ended=first, now=first + 9)  # nothing to do
    assert not policy.flush_due(3, idle=False, first_ended=first, now=first + 0.01)
    assert policy.flush_due(3, idle=False, first_ended=first, now=first + 0.05)
    assert policy.flush_due(policy.MAX_RECORD_BATCH, idle=False, first_ended=first, now=first)
    assert policy.flush_due(1, idle=True, first_ended=first, now=first)


def test_leases_are_renewed_every_third_and_distrusted_after_two_thirds() -> None:
    assert not policy.renewal_due(0.0, LEASE, 19.9)
    assert policy.renewal_due(0.0, LEASE, 20.0)
    assert not policy.leases_stale(0.0, LEASE, 40.0)
    assert policy.leases_stale(0.0, LEASE, 40.1)


def test_lapsed_leases_are_looked_for_at_once_then_once_a_second() -> None:
    assert policy.sweep_due(None, 0.0)
    assert not policy.sweep_due(5.0, 5.9)
    assert policy.sweep_due(5.0, 6.0)


def test_the_loop_does_not_block_while_free_threads_could_start_more() -> None:
    wait = policy.max_wait(
        5.0,
        more_to_start=True,
        renewed=0.0,
        lease_seconds=LEASE,
        next_deadline=None,
        first_ended=None,
    )
    assert wait == 0.0


@pytest.mark.parametrize(
    ("next_deadline", "first_ended", "expected"),
    [
        (None, None, 15.0),  # until the leases are due for renewal (at 20 s)
        (8.0, None, 3.0),  # until a run's deadline
        (8.0, 5.0, policy.RECORD_DELAY_SECONDS),  # until the batch of results is due
        (2.0, None, 0.0),  # a deadline already passed: not at all
    ],
)
def test_the_loop_blocks_until_the_first_thing_it_must_do(
    next_deadline: float | None, first_ended: float | None, expected: float
) -> None:
    wait = policy.max_wait(
        5.0,
        more_to_start=False,
        renewed=0.0,
        lease_seconds=LEASE,
        next_deadline=next_deadline,
        first_ended=first_ended,
    )
    assert wait == pytest.approx(expected)


def test_a_claim_ahead_is_made_again_once_half_its_window_is_used() -> None:
    now = datetime(2025, 1, 15, 10, 30, tzinfo=UTC)
    ahead = policy.CLAIM_EARLY_SECONDS
    assert not policy.claimed_far_enough(None, now, ahead)  # no claim ahead yet
    assert policy.claimed_far_enough(now + timedelta(seconds=ahead * 0.9), now, ahead)
    assert not policy.claimed_far_enough(now + timedelta(seconds=ahead * 0.4), now, ahead)


def test_a_worker_whose_held_claims_start_on_their_own_wakes_to_claim_again() -> None:
    """When the next claim ahead is due (the last one covers only half its window), unless that
    time is past (it claimed nothing then: the loop wakes at the next held instant instead)."""
    now = datetime(2025, 1, 15, 10, 30, tzinfo=UTC)
    until = now + timedelta(seconds=0.04)
    assert policy.claim_again_at(until, 0.05, now) == now + timedelta(seconds=0.015)
    assert policy.claim_again_at(until, 0.05, until) is None
    assert policy.claim_again_at(None, 0.05, now) is None


def test_max_wait_wakes_for_a_claim_held_ahead() -> None:
    wait = policy.max_wait(
        10.0,
        more_to_start=False,
        renewed=5.0,
        lease_seconds=30.0,
        next_deadline=None,
        first_ended=None,
        next_held=10.012,
    )
    assert wait == pytest.approx(0.012)


def test_the_loop_wakes_for_held_claims_at_their_instant_or_to_claim_more_never_for_a_due_one() -> (
    None
):
    now = datetime(2025, 1, 15, 10, 35, tzinfo=UTC)
    soon, past = now + timedelta(seconds=0.1), now - timedelta(seconds=0.1)
    claimed_until = now + timedelta(seconds=0.15)  # claim again 0.05 s from now (window 0.2)
    assert policy.held_wake(soon, False, claimed_until, 0.2, now) == pytest.approx(0.1)
    assert policy.held_wake(past, False, None, 0.2, now) == pytest.approx(-0.1)  # start it now
    assert policy.held_wake(soon, True, claimed_until, 0.2, now) == pytest.approx(0.05)
    assert policy.held_wake(soon, True, None, 0.2, now) == pytest.approx(0.1)
    assert policy.held_wake(past, True, None, 0.2, now) is None  # the thread's
    assert policy.held_wake(None, True, claimed_until, 0.2, now) is None
