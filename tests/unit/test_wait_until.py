"""The suite's shared wait: it returns once the condition holds, and fails saying what it awaited."""

from __future__ import annotations

import itertools

import pytest

from tests.helpers import wait_until


def test_it_returns_once_the_condition_holds() -> None:
    polls = itertools.count(1)
    assert wait_until(lambda: next(polls) >= 3, what="the third poll", interval=0) >= 0
    assert next(polls) == 4  # polled exactly until the condition held


def test_it_fails_naming_what_it_waited_for_and_what_it_saw() -> None:
    with pytest.raises(AssertionError, match=r"for the light to turn green, in vain; state: red"):
        wait_until(lambda: False, what="the light to turn green", timeout=0.05, state=lambda: "red")
