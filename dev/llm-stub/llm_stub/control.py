"""The /_stub control API that tests drive: scripts, the request log, reset, health."""

from __future__ import annotations

import json

from aiohttp import web

from .replies import ScriptError
from .state import STATE


def add_control_routes(app: web.Application) -> None:
    app.router.add_post("/_stub/scripts", add_scripts)
    app.router.add_get("/_stub/scripts", list_scripts)
    app.router.add_delete("/_stub/scripts", clear_scripts)
    app.router.add_get("/_stub/requests", list_requests)
    app.router.add_delete("/_stub/requests", clear_requests)
    app.router.add_post("/_stub/reset", reset)
    app.router.add_get("/_stub/healthz", healthz)


async def add_scripts(request: web.Request) -> web.Response:
    """One script gives {"id"}; a list of scripts gives {"ids"}. Nothing is added on error."""
    store = request.app[STATE].scripts
    try:
        raw = json.loads(await request.read())
    except ValueError:
        return _bad("the body is not valid JSON")
    try:
        scripts = store.add_many(raw) if isinstance(raw, list) else [store.add(raw)]
    except ScriptError as exc:
        return _bad(str(exc))
    if isinstance(raw, list):
        return web.json_response({"ids": [s.id for s in scripts]}, status=201)
    return web.json_response({"id": scripts[0].id}, status=201)


async def list_scripts(request: web.Request) -> web.Response:
    return web.json_response({"scripts": request.app[STATE].scripts.views()})


async def clear_scripts(request: web.Request) -> web.Response:
    return web.json_response({"cleared": request.app[STATE].scripts.clear()})


async def list_requests(request: web.Request) -> web.Response:
    return web.json_response({"requests": request.app[STATE].journal.entries()})


async def clear_requests(request: web.Request) -> web.Response:
    return web.json_response({"cleared": request.app[STATE].journal.clear()})


async def reset(request: web.Request) -> web.Response:
    request.app[STATE].reset()
    return web.json_response({"status": "reset"})


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def _bad(message: str) -> web.Response:
    body = {"error": {"message": f"llm-stub: {message}", "type": "invalid_request_error"}}
    return web.json_response(body, status=400)
