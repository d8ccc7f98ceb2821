"""GET /api/cron/jobs answered without FastAPI's per-request machinery, when nothing about
the request needs it.

A list request at 100,000 jobs spent more of its server CPU in FastAPI than in reading the
page: solving five dependencies, validating eleven query parameters one by one, and the hop
to a thread of the pool that runs a plain `def` handler (bench/README.md, "The jobs list
request"). This middleware answers the common request itself: a token the cache remembers
(token_cache.py: no I/O) for an admin or a superadmin, and query parameters each given once,
in the plain spelling of a value the route accepts (`limit=100`, `is_active=true`, a UUID with
hyphens). It calls the same JobManager.list_jobs_json with the same values the route would
pass, and answers with the same api/responses.answer_jobs, so the body is the route's.

Anything else goes to the route, unchanged: no token, an unknown or revoked one (whose row
the route reads, and the cache then remembers), a JWT, the user role, a value spelled
otherwise (`limit=+5`, `is_active=yes`), an empty or a repeated parameter, an unknown one; and
any error while reading the page (a bad cursor, a tenant not the admin's, the database down):
the route does it again and answers as it always has, through its error handlers. So this
path never answers anything but a 200 the route would have given.

The middleware is the innermost: the failed-authentication limit, the body size limit and
the redirects' rewriting stay around it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from uuid import UUID

from starlette.datastructures import Headers, QueryParams
from starlette.types import ASGIApp, Receive, Scope, Send

from cronbase.api.deps import in_thread, query_names
from cronbase.api.routes import jobs as job_routes
from cronbase.auth import TOKEN_PREFIX, Role
from cronbase.bootstrap import Services
from cronbase.jobs import RunStatus

PATH = "/api/cron/jobs"

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_NATURAL = re.compile(r"0|[1-9][0-9]{0,9}")
_BOOLS = {"true": True, "false": False}
_STATUSES = {status.value: status for status in RunStatus}


def _uuid(value: str) -> UUID | None:
    return UUID(value) if _UUID.fullmatch(value) else None


def _bool(value: str) -> bool | None:
    return _BOOLS.get(value)


def _text(most: int) -> Callable[[str], str | None]:
    def text(value: str) -> str | None:
        return value if len(value) <= most and "\x00" not in value else None

    return text


def _natural(least: int, most: int) -> Callable[[str], int | None]:
    def natural(value: str) -> int | None:
        if not _NATURAL.fullmatch(value):
            return None
        number = int(value)
        return number if least <= number <= most else None

    return natural


# Each parameter of the route (routes/jobs.list_jobs), as this path reads it: None for a
# value it leaves to the route. Each accepts a subset of what the route accepts, read as the
# route reads it (tests/api/test_fast_list.py compares the two).
_PARAMETERS: dict[str, Callable[[str], Any]] = {
    "tenant_id": _uuid,
    "has_tenant": _bool,
    "is_active": _bool,
    "q": _text(200),
    "function_name": _text(200),
    "last_status": _STATUSES.get,
    "sort": _text(200),
    "cursor": _text(2000),
    "limit": _natural(1, 500),
    "offset": _natural(0, 2**31 - 1),
}


class FastJobList:
    """The middleware: answers a plain GET /api/cron/jobs, else passes the request on."""

    enabled = True  # tests turn it off, to compare with the route

    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services
        self._known: frozenset[str] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.enabled
            and scope["type"] == "http"
            and scope["method"] == "GET"
            and scope["path"] == PATH
            and not scope.get("root_path")
        ):
            answered = await self._answer(scope)
            if answered is not None:
                await answered(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _known_names(self) -> frozenset[str]:
        # The route's own parameters (were one removed, this path must not take it).
        if self._known is None:
            route = job_routes.list_route()
            self._known = query_names(route) & _PARAMETERS.keys()
        return self._known

    async def _answer(self, scope: Scope) -> Any:
        authorization = Headers(scope=scope).get("authorization")
        if authorization is None:
            return None
        scheme, _, token = authorization.partition(" ")  # as FastAPI's HTTPBearer reads it
        token = token.strip()
        if scheme.lower() != "bearer" or not token.startswith(TOKEN_PREFIX):
            return None
        manager = self.services.manager
        caller = manager.remembered_principal(token)
        if caller is None or caller.role is Role.USER:
            return None
        arguments = self._arguments(scope)
        if arguments is None:
            return None
        limit, offset = arguments.get("limit", 100), arguments.get("offset")
        arguments.update(limit=limit, offset=offset)
        try:
            page = await in_thread(manager.list_jobs_json, caller, **arguments)
        except Exception:  # noqa: BLE001 - the route does it again, and answers its error
            return None
        return job_routes.answer_list(page, limit, offset)

    def _arguments(self, scope: Scope) -> dict[str, Any] | None:
        """The route's arguments for the query string, or None to leave it to the route."""
        known = self._known_names()
        arguments: dict[str, Any] = {}
        for name, raw in QueryParams(scope["query_string"]).multi_items():
            if name not in known or name in arguments or not raw:
                return None
            value = _PARAMETERS[name](raw)
            if value is None:
                return None
            arguments[name] = value
        return arguments
