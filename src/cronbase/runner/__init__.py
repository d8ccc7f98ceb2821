"""Executing due jobs: one round (`Runner.run_due`) and the loop around it (`Worker`)."""

from __future__ import annotations

from cronbase.runner.loop import Worker
from cronbase.runner.runner import Runner

__all__ = ["Runner", "Worker"]
