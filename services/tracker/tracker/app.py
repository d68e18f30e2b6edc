"""The tracker's app factory: the API, the page and the probes on one port, plus the consumer.

The database and the broker are opened in the background, so /healthz answers at once and
/readyz tells the truth while either is still away.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator
from importlib import resources

import structlog
from aiohttp import web
from opentelemetry.trace import TracerProvider
from pagesmith_runtime import add_ops_routes, server_tracing_middleware
from prometheus_client import CollectorRegistry

from .api import get_list, get_one, stream
from .consumer import Recorder, consume
from .db import is_transient, open_pool
from .http import auth_middleware, error, json_errors, security_headers
from .hub import Hub
from .metrics import TrackerMetrics
from .openapi import document
from .retention import run_retention
from .settings import TrackerSettings
from .state import STATE, TrackerState

log = structlog.get_logger(__name__)
_PAGE_FILES = {"app.js": "text/javascript", "app.css": "text/css"}


def _page_file(name: str) -> bytes:
    return resources.files("tracker").joinpath("page", name).read_bytes()


async def page(_: web.Request) -> web.Response:
    return web.Response(body=_page_file("index.html"), content_type="text/html", charset="utf-8")


async def page_asset(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in _PAGE_FILES:
        return error(404, "no such file")
    return web.Response(body=_page_file(name), content_type=_PAGE_FILES[name], charset="utf-8")


async def openapi(_: web.Request) -> web.Response:
    return web.json_response(document())


async def _watch_db(state: TrackerState) -> None:
    """Keep /readyz honest about the database between writes."""
    while not state.stop.is_set():
        try:
            async with state.pool.acquire(timeout=3) as conn:
                await conn.fetchval("SELECT 1", timeout=3)
            state.db_healthy = True
        except Exception as exc:
            if not is_transient(exc):
                raise
            state.db_healthy = False
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(state.stop.wait(), 2.0)


async def _run(state: TrackerState) -> None:
    settings = state.settings
    dsn = settings.database_url.get_secret_value()
    state.pool = await open_pool(dsn, size=settings.pool_size, stop=state.stop)
    state.db_healthy = True
    log.info("database ready")
    hub = Hub(dsn=dsn, pool=state.pool, trace_url_template=settings.trace_url_template)
    async with asyncio.TaskGroup() as group:
        group.create_task(hub.run(state.stop))
        state.hub = hub
        group.create_task(_watch_db(state))
        group.create_task(
            run_retention(
                state.pool,
                days=settings.retention_days,
                every=settings.retention_interval_seconds,
                metrics=state.metrics,
                stop=state.stop,
            )
        )
        group.create_task(
            consume(
                settings.amqp_url.get_secret_value(),
                Recorder(state.pool, state.metrics),
                prefetch=settings.concurrency,
                ready=state.readiness,
                stop=state.stop,
                grace=settings.shutdown_grace_seconds,
            )
        )


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    state = app[STATE]
    runner = asyncio.create_task(_run(state))

    def crashed(task: asyncio.Task[None]) -> None:
        if task.cancelled() or task.exception() is None or state.stop.is_set():
            return
        state.fatal = task.exception()
        log.error("tracker stopped working", error=repr(state.fatal))
        # Exit (non-zero, see main) rather than serve a ledger that no longer fills.
        os.kill(os.getpid(), signal.SIGTERM)

    runner.add_done_callback(crashed)
    yield
    state.stop.set()
    if state.hub is not None:
        state.hub.close_all()
    _, pending = await asyncio.wait({runner}, timeout=state.settings.shutdown_grace_seconds + 3)
    for task in pending:
        task.cancel()
    if state.pool is not None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(state.pool.close(), 3)


async def _close_streams(app: web.Application) -> None:
    # Open event streams would otherwise hold the shutdown until its timeout.
    hub = app[STATE].hub
    if hub is not None:
        hub.close_all()


def create_app(
    settings: TrackerSettings,
    *,
    registry: CollectorRegistry | None = None,
    tracer_provider: TracerProvider | None = None,
) -> web.Application:
    registry = registry or CollectorRegistry()
    token = settings.token.get_secret_value()
    app = web.Application(
        middlewares=[
            security_headers,
            json_errors,
            server_tracing_middleware(tracer_provider),
            auth_middleware(lambda: token),
        ]
    )
    state = TrackerState(settings=settings, metrics=TrackerMetrics(registry))
    app[STATE] = state
    app.cleanup_ctx.append(_lifecycle)
    app.on_shutdown.append(_close_streams)
    # /events before /{task_id}: aiohttp matches routes in the order they were added.
    app.router.add_get("/api/tasks/events", stream)
    app.router.add_get("/api/tasks", get_list)
    app.router.add_get("/api/tasks/{task_id}", get_one)
    app.router.add_get("/api/openapi.json", openapi)
    app.router.add_get("/", page)
    app.router.add_get("/page/{name}", page_asset)
    add_ops_routes(app, registry=registry, ready=state.ready)
    return app
