"""The ops endpoints: liveness, readiness that follows the broker connection, metrics."""

from __future__ import annotations

from urllib.parse import urlsplit

import aio_pika
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pagesmith_runtime import NOTIFIER, Readiness, RuntimeMetrics, create_ops_app, declare_topology
from prometheus_client import CollectorRegistry
from pytest_aiohttp import AiohttpClient

from .helpers import TcpProxy, eventually


async def status(client: TestClient[web.Request, web.Application], path: str) -> int:
    async with client.get(path) as response:
        return response.status


@pytest.mark.integration
async def test_healthz_and_readyz_until_consuming(
    amqp_url: str, aiohttp_client: AiohttpClient
) -> None:
    ready = Readiness()
    app = create_ops_app(registry=CollectorRegistry(), ready=ready, reason=ready.reason)
    client = await aiohttp_client(app)

    async with client.get("/healthz") as response:
        assert response.status == 200
        assert await response.json() == {"status": "ok"}
    async with client.get("/readyz") as response:
        assert response.status == 503
        assert await response.json() == {
            "status": "not ready",
            "reason": "not connected to the broker yet",
        }

    connection = await aio_pika.connect_robust(amqp_url)
    try:
        ready.connection = connection
        async with client.get("/readyz") as response:  # connected, not consuming yet
            assert response.status == 503
            assert (await response.json())["reason"] == "not consuming"

        channel = await connection.channel()
        queue = (await declare_topology(channel)).queues[NOTIFIER.name]

        async def ignore(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            await message.ack()

        tag = await queue.consume(ignore)
        ready.consuming = True
        async with client.get("/readyz") as response:
            assert response.status == 200
            assert await response.json() == {"status": "ready"}

        await queue.cancel(tag)
        ready.consuming = False
        assert await status(client, "/readyz") == 503  # draining on shutdown
        ready.consuming = True
    finally:
        await connection.close()
    async with client.get("/readyz") as response:  # closed
        assert response.status == 503
        assert (await response.json())["reason"] == "the broker connection is down"
    ready.refused = "the broker refused the login"
    async with client.get("/readyz") as response:
        assert (await response.json())["reason"] == "the broker refused the login"
    assert await status(client, "/healthz") == 200  # alive all along


@pytest.mark.integration
async def test_readyz_follows_a_broker_outage(amqp_url: str, aiohttp_client: AiohttpClient) -> None:
    parts = urlsplit(amqp_url)
    proxy = await TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5672).start()
    via_proxy = parts._replace(netloc=f"guest:guest@127.0.0.1:{proxy.port}").geturl()
    connection = await aio_pika.connect_robust(via_proxy, reconnect_interval=0.2)
    ready = Readiness(connection=connection, consuming=True)
    client = await aiohttp_client(create_ops_app(registry=CollectorRegistry(), ready=ready))
    try:
        assert await status(client, "/readyz") == 200
        proxy.cut()
        # The robust connection is not closed while it retries, but it is not up either.
        await eventually(lambda: not connection.connected.is_set())
        assert not connection.is_closed
        assert await status(client, "/readyz") == 503
        assert await status(client, "/healthz") == 200
        proxy.restore()
        await eventually(connection.connected.is_set, timeout=20)
        assert await status(client, "/readyz") == 200
    finally:
        await connection.close()
        await proxy.stop()


async def test_metrics_text_exposition(aiohttp_client: AiohttpClient) -> None:
    registry = CollectorRegistry()
    metrics = RuntimeMetrics(registry, "notifier")
    metrics.messages.labels(service="notifier", event_type="site.published.v1", outcome="ok").inc()
    metrics.stage_duration.labels(stage="notifier").observe(0.3)
    client = await aiohttp_client(create_ops_app(registry=registry, ready=lambda: True))

    async with client.get("/metrics") as response:
        assert response.status == 200
        assert response.content_type == "text/plain"
        assert "version=0.0.4" in response.headers["Content-Type"]
        text = await response.text()
    assert "# TYPE pagesmith_messages_total counter" in text
    assert (
        'pagesmith_messages_total{event_type="site.published.v1",outcome="ok",service="notifier"}'
        " 1.0" in text
    )
    assert "# TYPE pagesmith_stage_duration_seconds histogram" in text
    assert 'pagesmith_stage_duration_seconds_bucket{le="0.5",stage="notifier"} 1.0' in text
    # The app's own registry: no process or platform collectors from the global one.
    families = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")}
    assert families >= {
        "pagesmith_messages_total",
        "pagesmith_stage_duration_seconds",
        "pagesmith_tasks_failed_total",
        "pagesmith_deadline_headroom_seconds",
    }
    assert all(name.startswith("pagesmith_") for name in families)
