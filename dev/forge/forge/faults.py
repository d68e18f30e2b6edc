"""Injected faults: errors, latency and rate limits on API calls, failures of Pages builds."""

from __future__ import annotations

import asyncio
import http
import itertools
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from .errors import DOCS, json_response
from .requestlog import is_api
from .settings import API_PREFIX

KINDS = ("secondary_rate_limit", "primary_rate_limit", "pages_build_error")
SECONDARY_DOCS = (
    "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"
)
PRIMARY_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"


@dataclass
class Fault:
    """One rule; `times` matching requests consume it (0 means until deleted)."""

    id: int
    path: str
    method: str | None = None
    status: int | None = None
    times: int = 1
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    kind: str | None = None
    retry_after: int = 60
    hits: int = 0
    pattern: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.pattern = re.compile(self.path)

    def as_json(self) -> dict[str, Any]:
        fields = ("id", "path", "method", "status", "times", "delay", "headers", "body", "kind")
        return {
            **{k: getattr(self, k) for k in fields},
            "retry_after": self.retry_after,
            "hits": self.hits,
        }


class FaultBook:
    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)

    def add(self, spec: dict[str, Any]) -> Fault:
        """Validate a control-API spec; raises ValueError with a readable reason."""
        unknown = set(spec) - {
            "path",
            "method",
            "status",
            "times",
            "delay",
            "headers",
            "body",
            "kind",
            "retry_after",
        }
        if unknown:
            raise ValueError(f"unknown fields: {sorted(unknown)}")
        if not isinstance(spec.get("path"), str):
            raise ValueError("path (a regex over the API path after /api/v3) is required")
        kind = spec.get("kind")
        if kind is not None and kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        status = spec.get("status")
        if status is not None and not (isinstance(status, int) and 100 <= status <= 599):
            raise ValueError("status must be an HTTP status code")
        times = spec.get("times", 1)
        if not isinstance(times, int) or times < 0:
            raise ValueError("times must be an integer >= 0 (0: until deleted)")
        method = spec.get("method")
        try:
            fault = Fault(
                id=next(self._ids),
                path=spec["path"],
                method=method.upper() if isinstance(method, str) else None,
                status=status,
                times=times,
                delay=float(spec.get("delay", 0)),
                headers={str(k): str(v) for k, v in (spec.get("headers") or {}).items()},
                body=spec.get("body"),
                kind=kind,
                retry_after=int(spec.get("retry_after", 60)),
            )
        except re.error as exc:
            raise ValueError(f"path is not a valid regex: {exc}") from exc
        self._faults.append(fault)
        return fault

    def list(self) -> list[Fault]:
        return list(self._faults)

    def clear(self) -> None:
        self._faults.clear()

    def remove(self, fault_id: int) -> bool:
        before = len(self._faults)
        self._faults = [f for f in self._faults if f.id != fault_id]
        return len(self._faults) < before

    def take(self, method: str, path: str) -> Fault | None:
        """The first API fault matching this request, consumed once."""
        for fault in self._faults:
            if fault.kind == "pages_build_error":
                continue
            if fault.method and fault.method != method:
                continue
            if fault.pattern.search(path):
                return self._consume(fault)
        return None

    def take_build_error(self, full_name: str) -> str | None:
        """The error message for the next Pages build of this repo, if a fault asks for one."""
        path = f"/repos/{full_name}"
        for fault in self._faults:
            if fault.kind == "pages_build_error" and fault.pattern.search(path):
                self._consume(fault)
                body = fault.body if isinstance(fault.body, dict) else {}
                return str(body.get("message", "Page build failed."))
        return None

    def _consume(self, fault: Fault) -> Fault:
        fault.hits += 1
        if fault.times and fault.hits >= fault.times:
            self._faults.remove(fault)
        return fault


def fault_middleware(book: FaultBook, user_id: Callable[[web.Request], int]) -> Middleware:
    """Answers matching API requests with the fault instead of the handler (after any delay)."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not is_api(request):
            return await handler(request)
        fault = book.take(request.method, request.path[len(API_PREFIX) :] or "/")
        if fault is None:
            return await handler(request)
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.status is None and fault.kind is None:
            response = await handler(request)  # latency only
        else:
            response = _fault_response(fault, user_id(request))
        response.headers.update(fault.headers)
        return response

    return middleware


def _fault_response(fault: Fault, user_id: int) -> web.Response:
    request_id = secrets.token_hex(8).upper()
    headers: dict[str, str] = {"x-github-request-id": request_id}
    if fault.kind == "secondary_rate_limit":
        status = fault.status or 403
        headers["retry-after"] = str(fault.retry_after)
        body: Any = {
            "message": "You have exceeded a secondary rate limit. Please wait a few minutes "
            "before you try again. If you reach out to GitHub Support for help, please include "
            f"the request ID {request_id}.",
            "documentation_url": SECONDARY_DOCS,
            "status": str(status),
        }
    elif fault.kind == "primary_rate_limit":
        status = fault.status or 403
        reset = int(time.time()) + fault.retry_after
        headers.update(
            {
                "x-ratelimit-limit": "5000",
                "x-ratelimit-remaining": "0",
                "x-ratelimit-used": "5000",
                "x-ratelimit-reset": str(reset),
                "x-ratelimit-resource": "core",
            }
        )
        body = {
            "message": f"API rate limit exceeded for user ID {user_id}. If you reach out to "
            f"GitHub Support for help, please include the request ID {request_id} and "
            f"timestamp {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}.",
            "documentation_url": PRIMARY_DOCS,
            "status": str(status),
        }
    else:
        status = fault.status or 500
        body = {
            "message": _phrase(status),
            "documentation_url": DOCS,
            "status": str(status),
        }
    if fault.body is not None and fault.kind != "pages_build_error":
        body = fault.body
    return json_response(body, status=status, headers=headers)


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Server Error"
