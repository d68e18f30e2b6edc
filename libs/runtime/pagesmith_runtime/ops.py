"""The ops HTTP endpoints every service serves: /healthz, /readyz, /metrics."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from prometheus_client import CollectorRegistry
from prometheus_client.aiohttp import make_aiohttp_handler


def add_ops_routes(
    app: web.Application,
    *,
    registry: CollectorRegistry,
    ready: Callable[[], bool],
    reason: Callable[[], str | None] | None = None,
) -> None:
    """Mount the probes and metrics on an existing app (the gateway shares its port).

    `reason`, when given, says why the service is not ready; /readyz puts it in its body.
    """

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_: web.Request) -> web.Response:
        if ready():
            return web.json_response({"status": "ready"})
        why = reason() if reason is not None else None
        body = {"status": "not ready"} if why is None else {"status": "not ready", "reason": why}
        return web.json_response(body, status=503)

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", make_aiohttp_handler(registry))


def create_ops_app(
    *,
    registry: CollectorRegistry,
    ready: Callable[[], bool],
    reason: Callable[[], str | None] | None = None,
) -> web.Application:
    app = web.Application()
    add_ops_routes(app, registry=registry, ready=ready, reason=reason)
    return app
