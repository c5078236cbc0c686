"""Errors as HTTP answers: one table from the error tree to statuses, and
Kestra's error JSON (`message`, `_embedded.errors`), never a traceback.

Routes hold no `try` ladders: they raise Lanner's errors and these handlers
answer. Messages are masked like every other answer (no secret leaks through
an input error that quotes a value)."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from lanner.errors import (
    FlowValidationError,
    InputError,
    InputValueError,
    LannerError,
    NotFoundError,
    StoreError,
)
from lanner.runtime.actions import ExecutionStateError

log = logging.getLogger(__name__)

# Most specific first: the first class an error is an instance of gives its status.
STATUSES: tuple[tuple[type[LannerError], int], ...] = (
    (NotFoundError, 404),
    (ExecutionStateError, 409),
    (FlowValidationError, 422),
    (InputValueError, 422),
    (InputError, 422),
    (StoreError, 503),
    (LannerError, 500),
)


class ApiError(InputError):
    """The request is not valid."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


def status_of(error: LannerError) -> int:
    if isinstance(error, ApiError):
        return error.status
    return next(code for cls, code in STATUSES if isinstance(error, cls))


def error_body(message: str, path: str) -> dict[str, object]:
    from lanner.cli.views import display_masker
    from lanner.expr import taint

    message = taint.mask(message, display_masker())
    return {
        "message": message,
        "_links": {"self": {"href": path, "templated": False}},
        "_embedded": {"errors": [{"message": message}]},
    }


def _answer(request: Request, status: int, message: str) -> JSONResponse:
    return JSONResponse(error_body(message, request.url.path), status_code=status)


def install(app: FastAPI) -> None:
    @app.exception_handler(LannerError)
    async def lanner_error(request: Request, exc: LannerError) -> JSONResponse:
        # The CLI's messages name the store ("not found in sqlite:///..."): where the
        # server keeps its data is not the client's business.
        url = request.app.state.lanner.store.url
        return _answer(request, status_of(exc), exc.message.replace(f" in {url}", ""))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()))
            parts.append(f"{where}: {err.get('msg', 'invalid')}")
        return _answer(request, 422, "Invalid request: " + "; ".join(parts))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"Not Found: no endpoint {request.method} {request.url.path}"
        response = _answer(request, exc.status_code, detail)
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("internal error on %s %s", request.method, request.url.path)
        return _answer(
            request, 500, f"Internal error ({type(exc).__name__}); the server log has the details"
        )
