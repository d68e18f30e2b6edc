"""GitHub-shaped error responses: {"message", "documentation_url", "status"[, "errors"]}."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web

DOCS = "https://docs.github.com/rest"


class ApiError(Exception):
    """Raised by handlers; the API middleware turns it into GitHub's JSON error body."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        documentation_url: str = DOCS,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.documentation_url = documentation_url
        self.headers = dict(headers or {})

    def response(self) -> web.Response:
        body: dict[str, Any] = {
            "message": self.message,
            "documentation_url": self.documentation_url,
        }
        if self.errors is not None:
            body["errors"] = self.errors
        body["status"] = str(self.status)
        return json_response(body, status=self.status, headers=self.headers)


def json_response(
    data: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """JSON with GitHub's content type."""
    return web.Response(
        text=json.dumps(data),
        status=status,
        content_type="application/json",
        charset="utf-8",
        headers=headers,
    )


def not_found() -> ApiError:
    return ApiError(404, "Not Found")


def empty_repository() -> ApiError:
    return ApiError(409, "Git Repository is empty.")


def invalid(message: str) -> ApiError:
    """422 without an errors list, as GitHub's schema and git-level checks answer."""
    return ApiError(422, message)


def not_supplied(field: str) -> ApiError:
    return ApiError(422, f'Invalid request.\n\n"{field}" wasn\'t supplied.')


def wrong_type(field: str, value: Any, kind: str) -> ApiError:
    return ApiError(
        422, f"Invalid request.\n\nFor 'properties/{field}', {json.dumps(value)} is not {kind}."
    )


def validation_failed(
    resource: str, field: str, code: str, message: str | None = None, *, title: str | None = None
) -> ApiError:
    """422 with one entry in `errors` (code custom/invalid/missing_field/already_exists)."""
    error: dict[str, Any] = {"resource": resource, "code": code, "field": field}
    if message is not None:
        error["message"] = message
    return ApiError(422, title or "Validation Failed", errors=[error])
