"""create_app: the FastAPI application, built from settings (no module-level state)."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from fastapi import FastAPI

from cronbase.api.deps import Services, ServicesDep
from cronbase.api.docs import install_docs
from cronbase.api.errors import BodySizeLimit, error_response, install_error_handlers
from cronbase.api.redirects import RelativeRedirects
from cronbase.api.routes import cron, jobs
from cronbase.api.routes.ui import install_ui
from cronbase.api.schemas import Envelope, ErrorEnvelope, Health, Readiness
from cronbase.api.signin_limit import FailedAuthLimit, FailedAuthLimiter
from cronbase.clock import Clock, SystemClock
from cronbase.config import Settings
from cronbase.errors import SchemaOutOfDate
from cronbase.job_modules import load_job_modules
from cronbase.manager import JobManager
from cronbase.registry import JobRegistry
from cronbase.runner import Runner, Worker
from cronbase.store import SqlStore
from cronbase.store.engine import database_location
from cronbase.store.migrate import check_schema, current_revision
from cronbase.store.tokens import TokenStore

logger = logging.getLogger(__name__)

ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorEnvelope, "description": description}
    for code, description in {
        400: "Malformed request",
        401: "Missing or invalid token",
        403: "Role not allowed",
        404: "Unknown or invisible job",
        409: "Conflict with a concurrent change",
        413: "Request body too large",
        422: "Invalid input",
        429: "Too many failed authentications from this address",
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
    store = store or SqlStore.from_url(
        settings.database_url, sqlite_busy_timeout=settings.sqlite_busy_timeout_seconds
    )
    clock = clock or SystemClock()
    registry = registry or load_job_modules(settings.job_module_list)

    def new_runner() -> Runner:
        return Runner(
            store,
            registry,
            clock,
            concurrency=settings.worker_concurrency,
            lease=timedelta(seconds=settings.worker_lease_seconds),
        )

    services = Services(
        store=store,
        tokens=TokenStore(store.engine),
        manager=JobManager(store, registry, clock),
        new_runner=new_runner,
        jwt_secret=settings.jwt_secret,
        jwt_max_ttl_seconds=settings.jwt_max_ttl_seconds,
    )
    # The embedded worker has its own runner, as each POST /run has: a Runner drives one
    # control loop and is not shared between threads.
    worker = Worker(
        new_runner(),
        clock,
        max_sleep=settings.worker_max_sleep_seconds,
        grace=settings.shutdown_grace_seconds,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        thread = None
        if run_worker:
            thread = threading.Thread(target=worker.run, name="cronbase-worker", daemon=True)
            thread.start()
        yield
        if thread is not None:
            worker.stop.set()
            thread.join(timeout=settings.shutdown_grace_seconds)

    app = FastAPI(
        title="cronbase",
        summary="A database-backed cron system for multi-tenant backends",
        version="0.1.0",
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
        docs_url=None,  # install_docs serves them from the package
        redoc_url=None,
    )
    app.state.services = services
    app.state.worker = worker if run_worker else None
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit)
    app.add_middleware(RelativeRedirects)
    limiter = FailedAuthLimiter(
        clock, settings.auth_max_failures, timedelta(seconds=settings.auth_failure_window_seconds)
    )
    app.add_middleware(FailedAuthLimit, limiter=limiter)  # outermost: before the body is read
    app.include_router(jobs.router)
    app.include_router(cron.router)
    install_ui(app, settings)
    install_docs(app)
    _add_health_routes(app)
    return app


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
            check_schema(services.store.engine)
            revision = current_revision(services.store.engine)
        except SchemaOutOfDate as exc:
            return error_response(503, str(exc))
        except Exception as exc:  # noqa: BLE001 - any database failure means "not ready"
            where = database_location(services.store.engine.url)
            return error_response(503, f"the database {where} is unreachable: {type(exc).__name__}")
        return Envelope(data=Readiness(schema_revision=revision or ""))


def create_app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory cronbase.api.app:create_app_from_env` (several processes)."""
    settings = Settings()
    app = create_app(settings)
    check_schema(app.state.services.store.engine)
    return app
