"""What stands between a request and the model (stance.serve.service): the body size, how many
requests are labelled at once, and error bodies that say where and never leak internals."""

# No `from __future__ import annotations`: FastAPI reads the handlers' annotations at runtime.

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from stance.errors import StanceError

log = logging.getLogger("stance.serve.service")
OPEN_PATHS = ("/health",)  # answered whatever the load: liveness probes


class BodyLimit:
    """ASGI middleware: a request body over ``limit`` bytes gets 413 before it is parsed."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > self.limit:
            return await self._refuse(scope, receive, send)
        body, more = bytearray(), True
        while more:  # a chunked body has no content-length: count what arrives
            message = await receive()
            if message["type"] != "http.request":
                return None  # the client went away
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.limit:
                return await self._refuse(scope, receive, send)
        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        return await self.app(scope, replay, send)

    async def _refuse(self, scope: dict, receive: Any, send: Any) -> None:
        message = f"request body over {self.limit} bytes: send fewer or shorter texts"
        await JSONResponse({"error": message}, status_code=413)(scope, receive, send)


class ConcurrencyLimit:
    """ASGI middleware: at most ``limit`` requests inside at once; one more gets 503 with
    ``Retry-After`` at once (a queue would only move the wait into the client's timeout).

    Placed inside ``BodyLimit``, so a slow upload holds no slot. One event loop runs every
    request's middleware, so the counter needs no lock.
    """

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit, self.inside = app, limit, 0

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            return await self.app(scope, receive, send)
        if self.inside >= self.limit:
            message = f"busy: {self.limit} requests are being labelled; retry in a second"
            busy = JSONResponse({"error": message}, 503, headers={"Retry-After": "1"})
            return await busy(scope, receive, send)
        self.inside += 1
        try:
            return await self.app(scope, receive, send)
        finally:
            self.inside -= 1


def error_handlers(app: FastAPI) -> None:
    """Every error is JSON ``{"error": message}``, never a traceback."""

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # the offending input is not echoed back: it may be a 200,000-character article
        return _unprocessable([_validation_error(e, request) for e in exc.errors()[:20]])

    @app.exception_handler(StanceError)
    async def user_error(request: Request, exc: StanceError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=422)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        if exc.status_code == 400 and exc.__cause__ is not None:  # FastAPI could not parse it
            return _unprocessable([{"where": "body", "message": _unparsed(exc.__cause__)}])
        return JSONResponse({"error": exc.detail}, exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> JSONResponse:
        # the type and message may name files or internals: the log has them, the client not
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        message = "internal error; the server's log has the details"
        return JSONResponse({"error": message}, status_code=500)


def _unprocessable(errors: list[dict[str, str]]) -> JSONResponse:
    message = "; ".join(f"{e['where']}: {e['message']}" for e in errors[:3])
    return JSONResponse({"error": message, "errors": errors}, status_code=422)


def _unparsed(cause: BaseException) -> str:
    """Why a body that is not JSON could not be read (FastAPI's own message says only that)."""
    if isinstance(cause, UnicodeDecodeError):
        return f"not valid UTF-8 at byte {cause.start}: send the JSON as UTF-8 text"
    if isinstance(cause, RecursionError):
        return "JSON nested too deeply: a request is an object of texts, not nested lists"
    return "not readable as JSON: send a JSON object with Content-Type: application/json"


def _validation_error(error: dict[str, Any], request: Request) -> dict[str, str]:
    """One pydantic error as ``{"where": "texts[2]", "message": ...}``."""
    loc = [part for part in error["loc"] if part != "body"]
    if error["type"] == "json_invalid":
        reason = error.get("ctx", {}).get("error", "")
        return {"where": "body", "message": f"not valid JSON at character {loc[0]}: {reason}"}
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)
    message = error["msg"].removeprefix("Value error, ")
    if not loc and "json" not in request.headers.get("content-type", ""):
        message += " (send a JSON object with the header Content-Type: application/json)"
    return {"where": where.lstrip(".") or "body", "message": message}
