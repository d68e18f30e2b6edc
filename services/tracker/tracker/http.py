"""HTTP edges shared by every route: bearer auth on /api, JSON errors, page security headers."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aiohttp import web

log = structlog.get_logger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_REASONS = {
    400: "bad request",
    401: "unauthorized",
    404: "not found",
    405: "method not allowed",
    503: "unavailable",
}


def error(status: int, message: str | None = None, **headers: str) -> web.Response:
    body = {"error": message or _REASONS.get(status, "error"), "status": status}
    return web.json_response(body, status=status, headers=headers or None)


def token_matches(header: str | None, token: str) -> bool:
    scheme, _, given = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def auth_middleware(token: Callable[[], str]) -> Any:
    """Every /api route needs `Authorization: Bearer <TRACKER_TOKEN>`; the page and probes don't."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/api/") and not token_matches(
            request.headers.get("Authorization"), token()
        ):
            return error(
                401,
                "missing or wrong bearer token",
                **{"WWW-Authenticate": 'Bearer realm="pagesmith-tracker"'},
            )
        return await handler(request)

    return middleware


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """aiohttp's own 404/405/413 pages become JSON like every other answer."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else {}
        return error(exc.status, exc.reason.lower(), **headers)


_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    if response.prepared:  # an event stream: its headers are already sent
        return response
    for name, value in _PAGE_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
