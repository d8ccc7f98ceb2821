"""Fill the default registry: the built-in jobs, then the modules CRONBASE_JOB_MODULES names."""

from __future__ import annotations

import importlib

from cronbase.builtin import BUILTIN_JOBS
from cronbase.errors import ConfigurationError
from cronbase.registry import JobRegistry, registry


def load_job_modules(modules: list[str]) -> JobRegistry:
    """Include the built-in jobs in the default registry and import each of `modules` (they
    register their jobs into it as they are imported); return the default registry.

    Safe to call again: the built-ins are included once, and a module already imported is not
    run again.
    """
    registry.include(BUILTIN_JOBS)
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise ConfigurationError(
                f"CRONBASE_JOB_MODULES names {module!r}, which cannot be imported: {exc}"
            ) from exc
    return registry
