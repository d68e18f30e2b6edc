"""HTTP to the gateway and the tracker, with every failure turned into one clear CliError."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp

EXIT_FAILED = 1  # the task failed, or there is no such task
EXIT_UNREACHABLE = 3
EXIT_REFUSED = 4  # wrong token or secret, or a request the service rejects


class CliError(Exception):
    """A one-line message for the user and the exit code that goes with it."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def _unreachable(name: str, url: str, exc: BaseException, hint: str) -> CliError:
    detail = str(exc) or type(exc).__name__
    return CliError(f"cannot reach the {name} at {url} ({detail}); {hint}", EXIT_UNREACHABLE)


async def _json(response: aiohttp.ClientResponse) -> Any:
    try:
        return await response.json(content_type=None)
    except (ValueError, aiohttp.ContentTypeError):
        return None


def _message(body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        detail = body.get("detail")
        if isinstance(detail, list) and detail:
            first = detail[0]
            where = ".".join(str(p) for p in first.get("loc", []))
            return f"{body['error']}: {where}: {first.get('msg', '')}".strip()
        return str(body["error"])
    return "no details"


async def submit(gateway_url: str, request: dict[str, Any]) -> dict[str, Any]:
    """POST the task to the gateway; return its 200 answer."""
    url = f"{gateway_url}/api/tasks"
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session,
            session.post(url, json=request) as response,
        ):
            body = await _json(response)
            status = response.status
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise _unreachable(
            "gateway", gateway_url, exc, "is it running? (make run, or set PAGESMITH_GATEWAY_URL)"
        ) from exc
    if status == 200 and isinstance(body, dict):
        return body
    if status == 403:
        raise CliError("the gateway refused the secret (check GATEWAY_SECRET)", EXIT_REFUSED)
    if status == 503:
        raise CliError(
            "the gateway cannot queue tasks right now (is RabbitMQ up?); try again",
            EXIT_UNREACHABLE,
        )
    raise CliError(f"the gateway answered {status}: {_message(body)}", EXIT_REFUSED)


@dataclass
class Tracker:
    url: str
    token: str | None

    def _headers(self) -> dict[str, str]:
        if not self.token:
            raise CliError(
                "no tracker token: set TRACKER_TOKEN"
                " (make run keeps it in .pagesmith/tracker-token)",
                EXIT_REFUSED,
            )
        return {"Authorization": f"Bearer {self.token}"}

    def _check(self, status: int, body: Any) -> None:
        if status == 401:
            raise CliError("the tracker refused the token (check TRACKER_TOKEN)", EXIT_REFUSED)
        if status == 503:
            raise CliError(
                f"the tracker cannot read its database right now: {_message(body)}",
                EXIT_UNREACHABLE,
            )
        if status >= 400:
            raise CliError(f"the tracker answered {status}: {_message(body)}", EXIT_REFUSED)

    async def get(self, path: str, params: dict[str, str] | None = None) -> tuple[int, Any]:
        headers = self._headers()
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session,
                session.get(f"{self.url}{path}", headers=headers, params=params) as response,
            ):
                return response.status, await _json(response)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise _unreachable(
                "tracker", self.url, exc, "is it running? (make run, or set PAGESMITH_TRACKER_URL)"
            ) from exc

    async def task(self, task_id: str) -> dict[str, Any] | None:
        status, body = await self.get(f"/api/tasks/{task_id}")
        if status == 404:
            return None
        self._check(status, body)
        return body  # type: ignore[no-any-return]

    async def tasks(self, params: dict[str, str]) -> dict[str, Any]:
        status, body = await self.get("/api/tasks", params)
        self._check(status, body)
        return body  # type: ignore[no-any-return]

    async def stream(
        self, *, task_id: str | None = None, last_event_id: int | None = None
    ) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """(kind, data) for each frame of the live stream, until it ends."""
        headers = {**self._headers(), "Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        params = {"task_id": task_id} if task_id else {}
        # No total timeout for a stream; heartbeats keep reads from going quiet for long.
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=60)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.get(
                    f"{self.url}/api/tasks/events", headers=headers, params=params
                ) as response,
            ):
                if response.status != 200:
                    self._check(response.status, await _json(response))
                kind, data = "message", ""
                async for raw in response.content:
                    line = raw.decode("utf-8", "replace").rstrip("\r\n")
                    if line.startswith(":"):
                        continue
                    if line.startswith("event:"):
                        kind = line[6:].strip()
                    elif line.startswith("data:"):
                        data += line[5:].lstrip(" ")
                    elif line == "":
                        if data:
                            yield kind, json.loads(data)
                        kind, data = "message", ""
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise _unreachable(
                "tracker", self.url, exc, "is it running? (make run, or set PAGESMITH_TRACKER_URL)"
            ) from exc
