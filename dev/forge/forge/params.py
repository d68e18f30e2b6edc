"""Request bodies and query parameters, validated the way GitHub's schemas reject them."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from .errors import ApiError, not_supplied, wrong_type


async def read_json(request: web.Request) -> dict[str, Any]:
    """The JSON object body; an empty body reads as {}."""
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "Problems parsing JSON") from exc
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ApiError(400, "Body should be a JSON object")
    return body


def string(body: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    value = body.get(key)
    if value is None:
        if required:
            raise not_supplied(key)
        return None
    if not isinstance(value, str):
        raise wrong_type(key, value, "a string")
    return value


def boolean(body: dict[str, Any], key: str) -> bool | None:
    value = body.get(key)
    if value is not None and not isinstance(value, bool):
        raise wrong_type(key, value, "a boolean")
    return value


def page_args(request: web.Request, *, max_per_page: int = 100) -> tuple[int, int]:
    """(per_page, page): per_page defaults to 30 and is capped at 100, as GitHub does."""
    per_page = _int(request.query.get("per_page"), 30)
    page = _int(request.query.get("page"), 1)
    return max(1, min(per_page, max_per_page)), max(page, 1)


def _int(raw: str | None, default: int) -> int:
    try:
        return int(raw) if raw not in (None, "") else default
    except ValueError:
        return default
