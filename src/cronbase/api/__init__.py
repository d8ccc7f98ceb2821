"""The HTTP API: the seed's /api/cron endpoints, served by FastAPI."""

from __future__ import annotations

from cronbase.api.app import create_app

__all__ = ["create_app"]
