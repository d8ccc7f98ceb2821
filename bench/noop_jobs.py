"""The benchmark's job module: a no-op job, loaded by workers through CRONBASE_JOB_MODULES."""

from __future__ import annotations

from cronbase.registry import registry


@registry.job("noop", description="Does nothing (benchmark).")
def noop(ctx):  # noqa: ARG001
    return {}
