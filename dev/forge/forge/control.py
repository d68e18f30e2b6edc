"""The control API under /_forge: faults, the request log, reset, health. No auth, local only."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Awaitable, Callable

from aiohttp import web

from .errors import json_response
from .state import FORGE

routes = web.RouteTableDef()
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def local_only(handler: Handler) -> Handler:
    """Refuse callers outside loopback and private networks (compose networks are private)."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        try:
            address = ipaddress.ip_address(request.remote or "")
        except ValueError:
            address = None
        if address is None or not (address.is_loopback or address.is_private):
            return json_response({"message": "The control API is local only."}, status=403)
        return await handler(request)

    return guarded


@routes.get("/_forge/healthz")
async def healthz(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


@routes.post("/_forge/faults")
@local_only
async def add_fault(request: web.Request) -> web.StreamResponse:
    try:
        spec = json.loads(await request.read() or b"null")
        if not isinstance(spec, dict):
            raise ValueError("body must be a JSON object")
        fault = request.app[FORGE].faults.add(spec)
    except ValueError as exc:
        return json_response({"message": str(exc)}, status=400)
    return json_response(fault.as_json(), status=201)


@routes.get("/_forge/faults")
@local_only
async def list_faults(request: web.Request) -> web.StreamResponse:
    return json_response([f.as_json() for f in request.app[FORGE].faults.list()])


@routes.delete("/_forge/faults")
@local_only
async def clear_faults(request: web.Request) -> web.StreamResponse:
    request.app[FORGE].faults.clear()
    return web.Response(status=204)


@routes.delete("/_forge/faults/{fault_id:\\d+}")
@local_only
async def delete_fault(request: web.Request) -> web.StreamResponse:
    if not request.app[FORGE].faults.remove(int(request.match_info["fault_id"])):
        return json_response({"message": "Not Found"}, status=404)
    return web.Response(status=204)


@routes.get("/_forge/requests")
@local_only
async def list_requests(request: web.Request) -> web.StreamResponse:
    """Every API request so far; ?method=POST&path=<regex> narrows the list."""
    log = request.app[FORGE].log
    return json_response(log.select(request.query.get("method"), request.query.get("path")))


@routes.delete("/_forge/requests")
@local_only
async def clear_requests(request: web.Request) -> web.StreamResponse:
    request.app[FORGE].log.clear()
    return web.Response(status=204)


@routes.post("/_forge/reset")
@local_only
async def reset(request: web.Request) -> web.StreamResponse:
    request.app[FORGE].reset()
    return web.Response(status=204)
