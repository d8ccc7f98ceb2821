"""Every error the API returns, mapped in one place to the envelope
{"status": "error", "message": ..., "errors": [{"field": ..., "message": ...}]}."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cronbase.api.deps import authenticate
from cronbase.auth import NotAuthenticated, PermissionDenied
from cronbase.errors import (
    ConcurrentChange,
    ConfigurationError,
    DependencyConflict,
    InvalidFields,
    InvalidQuery,
    InvalidSchedule,
    InvalidTimezone,
    NotFound,
    QuotaExceeded,
    ValueRefused,
)

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_000_000
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def error_response(
    status: int, message: str, errors: list[dict[str, Any]] | None = None, **headers: str
) -> JSONResponse:
    body = {"status": "error", "message": message, "errors": errors or []}
    return JSONResponse(body, status_code=status, headers=headers or None)


# The pattern of query strings that PostgreSQL's text could not hold (a NUL), and what to say
# instead of the pattern itself.
NO_NUL = r"^[^\x00]*$"
_MESSAGES = {("string_pattern_mismatch", NO_NUL): "must not contain a NUL character (%00)"}


# What is wrong with a body as a whole (its location is ("body",)), in words that say the fix.
_BODY_MESSAGES = {
    "missing": 'needs a JSON object as its body, e.g. {"name": "..."}',
    "model_attributes_type": "must be a JSON object ({...}), not an array, a string or null",
}


def _message(problem: Any) -> str:
    if tuple(problem["loc"]) == ("body",) and problem["type"] in _BODY_MESSAGES:
        return _BODY_MESSAGES[problem["type"]]
    pattern = (problem.get("ctx") or {}).get("pattern")
    message = _MESSAGES.get((problem["type"], pattern), problem["msg"])
    # A validator's own ValueError already says what is wrong: pydantic's prefix adds nothing.
    return message.removeprefix("Value error, ") if problem["type"] == "value_error" else message


def _not_json(request: Request, problems: list[Any]) -> str | None:
    """The media type of a body FastAPI did not read as JSON because it came as something
    else (`curl -d` without -H sends a form), or None."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not media_type or media_type == "application/json" or media_type.endswith("+json"):
        return None
    whole_body = any(tuple(problem["loc"]) == ("body",) for problem in problems)
    return media_type if whole_body else None


def _field(loc: tuple[Any, ...]) -> str:
    # ("body", "schedule") -> "schedule"; ("query", "limit") -> "query.limit"
    parts = [str(part) for part in loc]
    if parts and parts[0] == "body":
        parts = parts[1:]
    return ".".join(parts) or "body"


async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    # FastAPI reads and validates the body before it resolves the dependencies that
    # authenticate: a caller without a valid token learns nothing about the body's faults.
    if request.url.path.startswith("/api/"):
        try:
            await authenticate(request)
        except NotAuthenticated as not_authenticated:
            return await _not_authenticated(request, not_authenticated)
    problems = exc.errors()
    if any(problem["type"] == "json_invalid" for problem in problems):
        return error_response(
            400,
            "the request body is not valid JSON",
            [{"field": "body", "message": problems[0].get("msg", "invalid JSON")}],
        )
    media_type = _not_json(request, problems)
    if media_type:
        return error_response(
            415,
            "send the body as JSON with the header Content-Type: application/json "
            f"(it came as {media_type})",
        )
    errors = [{"field": _field(p["loc"]), "message": _message(p)} for p in problems]
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return error_response(422, f"invalid request: {summary}", errors)


async def _invalid_fields(_request: Request, exc: InvalidFields) -> JSONResponse:
    errors = [{"field": field, "message": message} for field, message in exc.errors]
    return error_response(422, f"invalid {exc.what}: {exc}", errors)


async def _invalid_query(_request: Request, exc: InvalidQuery) -> JSONResponse:
    errors = [{"field": f"query.{field}", "message": message} for field, message in exc.errors]
    return error_response(422, f"invalid request: {exc}", errors)


async def _not_configured(_request: Request, exc: ConfigurationError) -> JSONResponse:
    # The request is fine; the deployment lacks a setting the message names.
    logger.warning("answered 503: %s", exc)
    return error_response(503, str(exc))


async def _invalid_schedule(_request: Request, exc: InvalidSchedule) -> JSONResponse:
    field = "timezone" if isinstance(exc, InvalidTimezone) else "schedule"
    return error_response(422, str(exc), [{"field": field, "message": exc.reason}])


async def _not_found(_request: Request, exc: NotFound) -> JSONResponse:
    return error_response(404, str(exc))


async def _not_authenticated(_request: Request, exc: NotAuthenticated) -> JSONResponse:
    return error_response(401, str(exc), **{"WWW-Authenticate": "Bearer"})


async def _forbidden(_request: Request, exc: PermissionDenied) -> JSONResponse:
    return error_response(403, str(exc))


async def _conflict(_request: Request, exc: ConcurrentChange) -> JSONResponse:
    # Validation passed, then the database disagreed: a tenant or job vanished meanwhile.
    logger.info("answered 409: %s", exc)
    return error_response(409, "the request conflicts with a concurrent change; retry it")


async def _quota(_request: Request, exc: QuotaExceeded) -> JSONResponse:
    return error_response(409, str(exc))


async def _dependency_conflict(_request: Request, exc: DependencyConflict) -> JSONResponse:
    return error_response(409, str(exc))


async def _value_refused(_request: Request, exc: ValueRefused) -> JSONResponse:
    # A value the database refused although validation let it through (a bug to fix there).
    logger.warning("answered 422: %s", exc)
    return error_response(422, "the database refused a value in the request")


async def _http(request: Request, exc: HTTPException) -> JSONResponse:
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        # Starlette names only the first route on the path; RFC 9110 wants every method it takes.
        headers["Allow"] = ", ".join(_allowed_methods(request))
    return error_response(
        exc.status_code, _HTTP_MESSAGES.get(str(exc.detail), str(exc.detail)), **headers
    )


# FastAPI's words for what it raises itself, where they name no fix. Its body parser says only
# "There was an error parsing the body" for bytes that are not UTF-8 and for JSON nested past
# Python's recursion limit.
_HTTP_MESSAGES = {
    "There was an error parsing the body": (
        "the request body could not be read as JSON: send it as UTF-8, nested at most a few "
        "hundred levels deep"
    ),
}


def _allowed_methods(request: Request) -> list[str]:
    # Ask each route whether it takes the path with each method: FastAPI's included routers
    # keep their routes out of `app.routes`, but answer `matches` like any route.
    routes = [route for route in request.app.router.routes if not isinstance(route, Mount)]
    allowed = [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    ]
    # No route takes the path at all: it is a file under a mount, which serves GET and HEAD.
    return allowed or ["GET", "HEAD"]


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    logger.error("unhandled error", exc_info=exc)
    return error_response(500, "internal error; the server log has the details")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)  # type: ignore[arg-type]
    app.add_exception_handler(InvalidFields, _invalid_fields)  # type: ignore[arg-type]
    app.add_exception_handler(InvalidSchedule, _invalid_schedule)  # type: ignore[arg-type]
    app.add_exception_handler(InvalidQuery, _invalid_query)  # type: ignore[arg-type]
    app.add_exception_handler(NotFound, _not_found)  # type: ignore[arg-type]
    app.add_exception_handler(ConfigurationError, _not_configured)  # type: ignore[arg-type]
    app.add_exception_handler(NotAuthenticated, _not_authenticated)  # type: ignore[arg-type]
    app.add_exception_handler(PermissionDenied, _forbidden)  # type: ignore[arg-type]
    app.add_exception_handler(ConcurrentChange, _conflict)  # type: ignore[arg-type]
    app.add_exception_handler(ValueRefused, _value_refused)  # type: ignore[arg-type]
    app.add_exception_handler(QuotaExceeded, _quota)  # type: ignore[arg-type]
    app.add_exception_handler(DependencyConflict, _dependency_conflict)  # type: ignore[arg-type]
    app.add_exception_handler(BodyTooLarge, _too_large)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected)


class BodySizeLimit:
    """Answer 413 to a body over `limit` bytes, declared or streamed, before anything reads it."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await error_response(413, str(BodyTooLarge(self.limit)))(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            # A streamed body is counted as it arrives; the handler below answers 413.
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise BodyTooLarge(self.limit)
            return message

        await self.app(scope, counting_receive, send)


class BodyTooLarge(HTTPException):
    # An HTTPException, because FastAPI turns any other error raised while it reads the body
    # into "400 There was an error parsing the body".
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")

    def __str__(self) -> str:
        return self.detail


async def _too_large(_request: Request, exc: BodyTooLarge) -> JSONResponse:
    return error_response(413, str(exc))
