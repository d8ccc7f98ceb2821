"""Fixtures shared by integration test modules."""

from __future__ import annotations

from typing import Any

import pytest

from cronbase.registry import JobContext, JobRegistry


@pytest.fixture
def quick_and_boom() -> JobRegistry:
    """A registry of two jobs: `quick` returns at once, `boom` raises. A module that wants
    them as its jobs overrides the `registry` fixture with this one."""
    registry = JobRegistry()

    @registry.job("quick")
    def quick(_ctx: JobContext) -> dict[str, Any]:
        return {}

    @registry.job("boom")
    def boom(_ctx: JobContext) -> dict[str, Any]:
        raise RuntimeError("boom")

    return registry
