"""The host application's CRM side that cronbase ships with: its tables (users, employees,
accounts, contacts, activities), their SQL, the three built-in jobs that work on them and the
jobs the seed creates. The scheduler's core knows none of it: a registry includes BUILTIN_JOBS,
and `cronbase seed` passes DEFAULT_JOBS to the manager.
"""

from __future__ import annotations

from cronbase.builtin.defaults import DEFAULT_JOBS
from cronbase.builtin.jobs import BUILTIN_JOBS

__all__ = ["BUILTIN_JOBS", "DEFAULT_JOBS"]
