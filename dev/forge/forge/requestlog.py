"""A log of every API request, so tests can count the GitHub calls a service made."""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from .accounts import Account
from .settings import API_PREFIX

USER = web.RequestKey("forge_user", Account)  # set by the API gate


def is_api(request: web.Request) -> bool:
    return request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/")


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    method: str
    path: str  # after /api/v3, without the query string
    query: str
    status: int
    time: str
    duration_ms: float
    user: str | None


class RequestLog:
    def __init__(self) -> None:
        self.entries: list[LoggedRequest] = []

    def clear(self) -> None:
        self.entries.clear()

    def select(self, method: str | None = None, path: str | None = None) -> list[dict[str, Any]]:
        """Entries, oldest first, optionally filtered by method and a path regex."""
        pattern = re.compile(path) if path else None
        return [
            asdict(e)
            for e in self.entries
            if (not method or e.method == method.upper())
            and (pattern is None or pattern.search(e.path))
        ]


def request_log_middleware(log: RequestLog) -> Middleware:
    """Outermost middleware: records method, path and final status of API requests."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not is_api(request):
            return await handler(request)
        started = time.monotonic()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            user = request.get(USER)
            log.entries.append(
                LoggedRequest(
                    method=request.method,
                    path=request.path[len(API_PREFIX) :] or "/",
                    query=request.query_string,
                    status=status,
                    time=datetime.now(UTC).isoformat(timespec="milliseconds"),
                    duration_ms=round((time.monotonic() - started) * 1000, 2),
                    user=user.login if user else None,
                )
            )

    return middleware
