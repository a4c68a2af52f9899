"""Every error as application/problem+json (RFC 9457), mapped in one place; never a traceback."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from omnistock.errors import InsufficientStock, Invalid, OmnistockError

log = logging.getLogger("omnistock.api")
PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def _field_of(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    out = ""
    for p in parts:
        out += f"[{p}]" if p.isdigit() else (f".{p}" if out else p)
    return out or "body"


async def _omnistock_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OmnistockError)
    extra: dict[str, Any] = {"field": exc.field}
    if isinstance(exc, Invalid) and exc.errors:
        extra["errors"] = exc.errors
    if isinstance(exc, InsufficientStock):
        extra["shortfalls"] = [s.__dict__ for s in exc.shortfalls]
    return problem(exc.status, exc.title, exc.message, **extra)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = []
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            return problem(400, "Malformed JSON", "the request body is not valid JSON", field="body")
        field = _field_of(tuple(err.get("loc", ())))
        message = "is required" if err.get("type") == "missing" else str(err.get("msg", "is invalid"))
        errors.append({"field": field, "message": f"{field} {message}"})
    detail = "; ".join(e["message"] for e in errors) or "invalid request"
    return problem(422, "Invalid input", detail, field=errors[0]["field"] if errors else None, errors=errors)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return problem(exc.status_code, str(exc.detail), str(exc.detail))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem(500, "Internal error", "an unexpected error happened; it has been logged")


def install(app: FastAPI) -> None:
    app.add_exception_handler(OmnistockError, _omnistock_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
