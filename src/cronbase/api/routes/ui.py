"""The Web UI: server-rendered page shells whose small JavaScript modules call the JSON API.

The pages carry no data and need no session: the browser keeps the user's API token (or JWT)
and sends it with each API call, so the page acts with exactly the user's role and tenant.
Everything a page loads comes from this server; the Content-Security-Policy says so too.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any
from uuid import UUID

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException

from cronbase.config import Settings
from cronbase.notify.events import DEFAULT_EVENTS, LABELS, SUBSCRIBABLE

_HERE = Path(__file__).resolve().parent.parent
_templates = Jinja2Templates(directory=_HERE / "templates")

# Nothing from another origin, no inline script: a token in the page is only as safe as that.
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


@lru_cache(maxsize=1)
def time_zones() -> list[str]:
    """IANA names to suggest in the time-zone picker: regions and UTC, not legacy aliases."""
    names = zoneinfo.available_timezones()
    skip = ("Etc/", "SystemV/", "US/", "posix/", "right/")
    return sorted(n for n in names if ("/" in n and not n.startswith(skip)) or n == "UTC")


def install_ui(app: FastAPI, settings: Settings) -> None:
    """Serve the pages at /, /jobs/new, /jobs/{id}, /jobs/{id}/edit and /channels, and
    /static/."""
    page_settings = {
        "heartbeat_interval": settings.ui_heartbeat_interval_seconds,
        "heartbeat_delay": settings.ui_heartbeat_delay_seconds,
    }

    def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        return _templates.TemplateResponse(
            request, template, {**page_settings, **context}, status_code=status, headers=_HEADERS
        )

    def job_page(request: Request, job_id: str, template: str, **context: Any) -> HTMLResponse:
        try:
            UUID(job_id)
        except ValueError:
            return page(request, "not_found.html", status=404, script="session.js")
        return page(request, template, job_id=job_id, **context)

    router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)

    @router.api_route("/", methods=["GET", "HEAD"])
    def jobs_page(request: Request) -> HTMLResponse:
        return page(request, "jobs.html", script="jobs.js")

    @router.api_route("/jobs/new", methods=["GET", "HEAD"])
    def new_job_page(request: Request) -> HTMLResponse:
        return page(request, "form.html", script="form.js", job_id="", zones=time_zones())

    @router.api_route("/jobs/{job_id}", methods=["GET", "HEAD"])
    def job_detail_page(request: Request, job_id: str) -> HTMLResponse:
        return job_page(request, job_id, "job.html", script="job.js")

    @router.api_route("/jobs/{job_id}/edit", methods=["GET", "HEAD"])
    def edit_job_page(request: Request, job_id: str) -> HTMLResponse:
        return job_page(request, job_id, "form.html", script="form.js", zones=time_zones())

    @router.api_route("/channels", methods=["GET", "HEAD"])
    def channels_page(request: Request) -> HTMLResponse:
        return page(request, "channels.html", script="channels.js", events=_event_choices())

    app.include_router(router)
    app.mount("/static", StaticFiles(directory=_HERE / "static"), name="static")
    _not_found_page_for_browsers(app, page)


def _event_choices() -> list[dict[str, Any]]:
    """The events a channel may want, for the channels page's form: one definition, in
    cronbase.notify.events, of which there are, what each is called and which are default."""
    return [
        {"name": str(event), "label": LABELS[event], "default": event in DEFAULT_EVENTS}
        for event in SUBSCRIBABLE
    ]


def _not_found_page_for_browsers(app: FastAPI, page: Callable[..., HTMLResponse]) -> None:
    """A browser that follows a wrong link gets the UI's "no such page", not raw JSON; API
    paths and clients that do not ask for HTML keep the JSON error envelope."""
    json_handler = app.exception_handlers[HTTPException]

    async def handler(request: Request, exc: Exception) -> Response:
        wants_page = (
            isinstance(exc, HTTPException)
            and exc.status_code == 404
            and request.method in ("GET", "HEAD")
            and not request.url.path.startswith("/api/")
            and "text/html" in request.headers.get("accept", "")
        )
        if wants_page:
            return page(request, "not_found.html", status=404, script="session.js")
        return await json_handler(request, exc)

    app.add_exception_handler(HTTPException, handler)
