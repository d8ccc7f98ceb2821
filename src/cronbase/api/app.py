"""create_app: the FastAPI application, built from settings (no module-level state)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from fastapi import FastAPI

from cronbase.api.deps import ServicesDep
from cronbase.api.docs import install_docs
from cronbase.api.errors import BodySizeLimit, error_response, install_error_handlers
from cronbase.api.fast_list import FastJobList
from cronbase.api.metrics import metrics_registry
from cronbase.api.metrics import router as metrics_router
from cronbase.api.redirects import RelativeRedirects
from cronbase.api.routes import activity, audit, backfills, channels, cron, jobs, maintenance
from cronbase.api.routes.ui import install_ui
from cronbase.api.schemas import Envelope, ErrorEnvelope, Health, Readiness
from cronbase.api.signin_limit import FailedAuthLimit, FailedAuthLimiter
from cronbase.bootstrap import build
from cronbase.clock import Clock
from cronbase.config import Settings
from cronbase.errors import SchemaOutOfDate
from cronbase.notify.deliverer import DeliveryLoop
from cronbase.notify.overdue_check import OverdueWatch
from cronbase.registry import JobRegistry
from cronbase.runner import Worker
from cronbase.store import SqlStore  # only to pass a test's own store on to the bootstrap
from cronbase.store.wakeups import Listener

logger = logging.getLogger(__name__)

RECORDING_SECONDS = 5.0  # for a stopping worker to record its last runs, after its grace

ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorEnvelope, "description": description}
    for code, description in {
        400: "Malformed request",
        401: "Missing or invalid token",
        403: "Role not allowed",
        404: "Unknown or invisible job or channel",
        409: "Conflict with a concurrent change, or the tenant's job quota reached",
        413: "Request body too large",
        415: "Request body not sent as JSON (Content-Type: application/json)",
        422: "Invalid input",
        429: "Too many failed authentications from this address",
        # From the HTTP server, before the app: a long query (many job_id) can reach it.
        431: "Request line and headers larger than CRONBASE_HTTP_MAX_HEADER_BYTES",
        503: "Not configured (e.g. CRONBASE_SECRET_KEY for channel secrets)",
    }.items()
}


def create_app(
    settings: Settings,
    *,
    store: SqlStore | None = None,
    clock: Clock | None = None,
    registry: JobRegistry | None = None,
    run_worker: bool = False,
) -> FastAPI:
    """Build the API. With `run_worker`, a worker thread runs due jobs while the app is up."""
    services = build(settings, store=store, clock=clock, registry=registry, check=False)
    # The embedded worker has its own runner, as each POST /run has: a Runner drives one
    # control loop and is not shared between threads.
    worker = services.new_worker() if run_worker else None
    # Without a worker, the API server looks for overdue jobs itself: the dead-man's switch
    # must fire when no worker is alive at all.
    overdue = OverdueWatch(services.new_overdue_check()) if worker is None else None
    # Without a worker, the API server delivers notifications itself: alerts must go out
    # from `cronbase serve --no-worker` too.
    deliveries = None if worker is not None else services.new_delivery_loop()
    # Revocations heard at once, so that tokens can be remembered between requests.
    revocations = services.new_revocation_listener()
    app = FastAPI(
        title="cronbase",
        summary="A database-backed cron system for multi-tenant backends",
        version="0.1.0",
        lifespan=_lifespan(
            worker, overdue, deliveries, revocations, settings.shutdown_grace_seconds
        ),
        responses=ERROR_RESPONSES,
        docs_url=None,  # install_docs serves them from the package
        redoc_url=None,
    )
    app.state.services = services
    app.state.worker = worker
    app.state.revocations = revocations
    app.state.metrics_registry = metrics_registry(services)
    install_error_handlers(app)
    app.add_middleware(FastJobList, services=services)  # innermost: the limits stay around it
    app.add_middleware(BodySizeLimit)
    app.add_middleware(RelativeRedirects)
    limiter = FailedAuthLimiter(
        services.clock,
        settings.auth_max_failures,
        timedelta(seconds=settings.auth_failure_window_seconds),
    )
    app.add_middleware(FailedAuthLimit, limiter=limiter)  # outermost: before the body is read
    app.include_router(jobs.router)
    app.include_router(backfills.router)
    app.include_router(audit.router)
    app.include_router(cron.router)
    app.include_router(maintenance.router)
    app.include_router(metrics_router)
    app.include_router(activity.router)
    app.include_router(channels.router)
    install_ui(app, settings)
    install_docs(app)
    _add_health_routes(app)
    return app


def _lifespan(
    worker: Worker | None,
    overdue: OverdueWatch | None,
    deliveries: DeliveryLoop | None,
    revocations: Listener | None,
    grace: float,
) -> Callable[[FastAPI], Any]:
    """Run `worker` (if any; else the look for overdue jobs and the delivery of
    notifications) and the listening for token revocations in threads while the app is up;
    stop them within `grace` after."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if revocations is not None:
            revocations.start()
        if worker is not None:
            worker.start()
        if overdue is not None:
            overdue.start()
        if deliveries is not None:
            deliveries.start()
        yield
        if overdue is not None:
            overdue.close(timeout=RECORDING_SECONDS)
        if deliveries is not None:
            deliveries.close(timeout=deliveries.deliverer.timeout)
        if revocations is not None:
            revocations.close()
        if worker is not None:
            worker.stop.set()
            # It waits `grace` for its runs, then records those still going abandoned.
            worker.join(timeout=grace + RECORDING_SECONDS)

    return lifespan


def _add_health_routes(app: FastAPI) -> None:
    @app.get("/healthz", tags=["health"], summary="The process is up")
    def healthz() -> Envelope[Health]:
        return Envelope(data=Health())

    @app.get(
        "/readyz",
        tags=["health"],
        summary="The database answers and its schema is current",
        response_model=Envelope[Readiness],
        responses={503: {"model": ErrorEnvelope, "description": "Not ready"}},
    )
    def readyz(services: ServicesDep) -> Any:
        try:
            revision = services.schema_revision()
        except SchemaOutOfDate as exc:
            return error_response(503, str(exc))
        except Exception as exc:  # noqa: BLE001 - any database failure means "not ready"
            where = services.database_location()
            return error_response(503, f"the database {where} is unreachable: {type(exc).__name__}")
        return Envelope(data=Readiness(schema_revision=revision or ""))


def create_app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory cronbase.api.app:create_app_from_env` (several processes)."""
    app = create_app(Settings())
    app.state.services.check_schema()
    return app
