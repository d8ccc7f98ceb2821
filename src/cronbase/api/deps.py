"""What handlers depend on: the services the bootstrap built, and the authenticated caller."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from cronbase.auth import (
    TOKEN_PREFIX,
    NotAuthenticated,
    PermissionDenied,
    Principal,
    Role,
    principal_from_jwt,
)
from cronbase.bootstrap import Services

T = TypeVar("T")


async def in_thread(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`function(*args, **kwargs)` in a thread of the event loop's default executor (a few
    threads: min(32, CPUs + 4)), for a handler's blocking call. FastAPI runs a plain `def`
    handler in anyio's pool instead, a thread per request in flight (up to 40) all contending
    for the GIL, whose hand-off also costs more CPU (bench/README.md, "The jobs list request")."""
    call = functools.partial(function, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(None, call)


# Dependencies that do no I/O are `async def`: FastAPI runs a plain `def` dependency in a
# thread of the pool, a hop per dependency per request.
async def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(_services)]

_bearer = HTTPBearer(
    auto_error=False,
    description="A cronbase API token (cb_...) or a JWT signed with CRONBASE_JWT_SECRET",
)


def _resolve(services: Services, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    """The caller the credentials speak for (an API token's row may be read: blocking I/O)."""
    if credentials is None:
        raise NotAuthenticated("send an API token: Authorization: Bearer <token>")
    token = credentials.credentials
    if token.startswith(TOKEN_PREFIX):
        principal = services.manager.principal_for_token(token)
        if principal is None:
            raise NotAuthenticated("the API token is unknown, revoked or expired")
        return principal
    settings = services.settings
    if settings.jwt_secret and token.count(".") == 2:
        return principal_from_jwt(token, settings.jwt_secret, settings.jwt_max_ttl_seconds)
    raise NotAuthenticated("the bearer token is neither a cronbase API token nor a valid JWT")


async def _principal(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    # Only an API token whose row must be read (token_cache.py) does I/O, and takes a hop to
    # a thread of the pool; a remembered one, a JWT or none is answered here.
    if credentials is None or not credentials.credentials.startswith(TOKEN_PREFIX):
        return _resolve(services, credentials)
    remembered = services.manager.remembered_principal(credentials.credentials)
    if remembered is not None:
        return remembered
    return await run_in_threadpool(_resolve, services, credentials)


async def _admin(principal: Annotated[Principal, Depends(_principal)]) -> Principal:
    # The seed: every endpoint is for admins and superadmins only.
    if principal.role is Role.USER:
        raise PermissionDenied("this needs the admin or superadmin role")
    return principal


AdminDep = Annotated[Principal, Depends(_admin)]

# Any signed-in caller, whatever the role: for what every role may read (who am I, workers).
CallerDep = Annotated[Principal, Depends(_principal)]


def _metrics_reader(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    # The gauges span every tenant: a superadmin's, unless the operator made them public
    # (a Prometheus on a private network that holds no token).
    if services.settings.metrics_public:
        return
    if not _resolve(services, credentials).is_superadmin:
        raise PermissionDenied(
            "/metrics needs a superadmin token (or CRONBASE_METRICS_PUBLIC=1 on the server)"
        )


# /metrics: a superadmin, or anyone with CRONBASE_METRICS_PUBLIC=1.
MetricsReader = Depends(_metrics_reader)


async def authenticate(request: Request) -> Principal:
    """The caller of `request` as the routes see it, or NotAuthenticated; for error handlers."""
    return await _principal(await _services(request), await _bearer(request))


# --- query parameters -----------------------------------------------------------------------

_QUERY_NAMES = "cronbase_query_names"  # kept on the route: worked out once per route


def query_names(route: APIRoute) -> frozenset[str]:
    """Every query parameter the route documents, its dependencies' included."""
    names: frozenset[str] | None = getattr(route, _QUERY_NAMES, None)
    if names is None:
        names = frozenset(_walk(route.dependant))
        setattr(route, _QUERY_NAMES, names)
    return names


def _walk(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _walk(sub)
    return names


async def _no_unknown_query(request: Request) -> None:
    """422 naming the query parameters the route does not take: `?tenant=...` for
    `?tenant_id=...` must not quietly list every job. Raised as a validation error, so the
    error handler answers 401 first to a caller without a valid token, as for any fault."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    known = query_names(route)
    unknown = [name for name in dict.fromkeys(request.query_params) if name not in known]
    if unknown:
        takes = ", ".join(sorted(known)) or "none"
        raise RequestValidationError(
            [
                {
                    "type": "extra_forbidden",
                    "loc": ("query", name),
                    "msg": f"unknown query parameter; this endpoint takes: {takes}",
                    "input": request.query_params.get(name),
                }
                for name in unknown
            ]
        )


# For a router's `dependencies`: its endpoints refuse query parameters they do not document.
KnownQueryOnly = Depends(_no_unknown_query)
