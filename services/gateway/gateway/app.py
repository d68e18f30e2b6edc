"""The gateway's app factory: tests build it the same way main() does."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler
from opentelemetry.trace import TracerProvider
from pagesmith_runtime import add_ops_routes, server_tracing_middleware
from prometheus_client import CollectorRegistry

from .broker import BROKER, BrokerLink, broker_ctx
from .metrics import GatewayMetrics
from .settings import GatewaySettings
from .views import METRICS, SETTINGS, submit_task


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """404 and 405 in JSON like every other answer (aiohttp's own are plain text)."""
    try:
        return await handler(request)
    except web.HTTPNotFound:
        return web.json_response({"error": "not found"}, status=404)
    except web.HTTPMethodNotAllowed as exc:
        return web.json_response(
            {
                "error": f"method {request.method} not allowed",
                "allowed": sorted(exc.allowed_methods),
            },
            status=405,
            headers={"Allow": exc.headers["Allow"]},
        )


def create_app(
    settings: GatewaySettings,
    *,
    registry: CollectorRegistry | None = None,
    tracer_provider: TracerProvider | None = None,
) -> web.Application:
    """POST /api/tasks plus /healthz, /readyz and /metrics on the same port."""
    registry = registry or CollectorRegistry()
    app = web.Application(
        # aiohttp answers 413 past this size when the body is read.
        client_max_size=settings.max_body_bytes,
        middlewares=[server_tracing_middleware(tracer_provider), json_errors],
    )
    app[SETTINGS] = settings
    app[METRICS] = GatewayMetrics(registry)
    link = BrokerLink()
    app[BROKER] = link
    app.cleanup_ctx.append(broker_ctx(settings))
    app.router.add_post("/api/tasks", submit_task)
    add_ops_routes(app, registry=registry, ready=link.ready, reason=link.reason)
    return app
