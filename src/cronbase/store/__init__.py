"""Persistence: SQLAlchemy Core on SQLite and PostgreSQL. SQL lives here and nowhere else."""

from __future__ import annotations

from cronbase.store.engine import create_engine
from cronbase.store.protocol import Store
from cronbase.store.sql import SqlStore

__all__ = ["SqlStore", "Store", "create_engine"]
