"""The /v1 surface: record the request, check the key, turn errors into OpenAI bodies."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from .auth import check_auth
from .errors import ApiError
from .ids import new_hex_id
from .state import JOURNAL_ENTRY, STATE

log = logging.getLogger("llm_stub")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def openai_surface(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not (request.path == "/v1" or request.path.startswith("/v1/")):
        return await handler(request)
    state = request.app[STATE]
    entry = state.journal.record(
        request.method, request.path, request.headers, await request.read()
    )
    request[JOURNAL_ENTRY] = entry
    try:
        check_auth(request.headers.get("Authorization"), state.settings.key)
        response = await handler(request)
    except ApiError as exc:
        response = _error_response(exc)
    except (web.HTTPNotFound, web.HTTPMethodNotAllowed):
        response = _error_response(ApiError(404, f"Invalid URL ({request.method} {request.path})"))
    except web.HTTPException:
        raise
    except Exception:
        log.exception("llm-stub: the handler failed")
        response = _error_response(
            ApiError(500, "llm-stub: internal error, see the stub's log.", type="server_error")
        )
    entry["status"] = response.status
    response.headers["x-request-id"] = new_hex_id("req_", 32)
    return response


def _error_response(exc: ApiError) -> web.Response:
    return web.json_response(exc.body(), status=exc.status, headers=exc.headers)
