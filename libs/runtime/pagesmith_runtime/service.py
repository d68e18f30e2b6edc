"""Running a consumer service: broker, topology, ops HTTP, signals and graceful shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Generic, TypeVar

import structlog
from aio_pika.abc import AbstractConnection
from aiohttp import web
from pagesmith_contracts import Stage
from prometheus_client import CollectorRegistry

from .broker import BrokerRefused, EventPublisher, Publish, connect, refusals_are_final
from .consumer import Dispatcher, Handler
from .metrics import RuntimeMetrics
from .ops import create_ops_app
from .settings import ServiceSettings
from .telemetry import Telemetry, setup_logging, setup_telemetry
from .topology import QueueSpec, declare_topology, declare_work_queue

D = TypeVar("D")
log = structlog.get_logger(__name__)
# Long enough for a probe or an operator's curl to read why on /readyz before the port closes.
REFUSED_EXIT_DELAY_SECONDS = 3.0


@dataclass(frozen=True, slots=True)
class Runtime:
    """What the runtime hands a service to build its Deps from."""

    publish: Publish
    registry: CollectorRegistry
    telemetry: Telemetry


@dataclass(frozen=True, slots=True)
class ConsumerService(Generic[D]):
    """A consumer service's wiring: its queue, handlers and how to build its Deps."""

    stage: Stage
    queue: QueueSpec
    handlers: Mapping[str, Handler[D]]
    make_deps: Callable[[Runtime], AbstractAsyncContextManager[D]]
    settings: ServiceSettings
    ops_port: int
    prefetch: int = 4


@dataclass(slots=True)
class Readiness:
    """/readyz: consuming, over a connection that is up right now.

    A robust connection is not `is_closed` while it reconnects; `connected` is cleared then.
    """

    connection: AbstractConnection | None = None
    consuming: bool = False
    refused: str | None = None

    def reason(self) -> str | None:
        """Why the service is not ready, or None when it is."""
        if self.refused is not None:
            return self.refused
        conn = self.connection
        if conn is None:
            return "not connected to the broker yet"
        if conn.is_closed or not conn.connected.is_set():
            return "the broker connection is down"
        if not self.consuming:
            return "not consuming"
        return None

    def __call__(self) -> bool:
        return self.reason() is None


def run_service(service: ConsumerService[D]) -> None:
    """Block until SIGTERM or SIGINT, then stop consuming and exit within the grace period.

    Exits with status 1 when the broker refuses the credentials, vhost or topology.
    """
    setup_logging(service.stage, service.settings.log_level)
    if not asyncio.run(_serve(service)):
        sys.exit(1)


async def _serve(service: ConsumerService[D]) -> bool:
    """Run until stopped; False when the broker refused us for good."""
    telemetry = setup_telemetry(f"pagesmith-{service.stage}")
    registry = CollectorRegistry()
    metrics = RuntimeMetrics(registry, service.stage)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    ready = Readiness()
    ops = web.AppRunner(
        create_ops_app(registry=registry, ready=ready, reason=ready.reason), access_log=None
    )
    await ops.setup()
    await web.TCPSite(ops, service.settings.ops_host, service.ops_port).start()
    log.info("ops endpoints up", host=service.settings.ops_host, port=service.ops_port)
    try:
        await _consume(service, ready, stop, registry, metrics, telemetry)
    except BrokerRefused as exc:
        ready.refused = str(exc)
        log.error("broker refused access; exiting", reason=str(exc))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), REFUSED_EXIT_DELAY_SECONDS)
        return False
    finally:
        await ops.cleanup()
        telemetry.shutdown()
        log.info("stopped")
    return True


async def _consume(
    service: ConsumerService[D],
    ready: Readiness,
    stop: asyncio.Event,
    registry: CollectorRegistry,
    metrics: RuntimeMetrics,
    telemetry: Telemetry,
) -> None:
    """Connect, declare, consume until `stop`, then drain; BrokerRefused when turned away."""
    url = service.settings.amqp_url.get_secret_value()
    connect_task = asyncio.create_task(connect(url, name=f"pagesmith-{service.stage}", stop=stop))
    stop_task = asyncio.create_task(stop.wait())
    await asyncio.wait({connect_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
    if not connect_task.done():
        connect_task.cancel()
        return
    stop_task.cancel()
    connection = connect_task.result()
    ready.connection = connection
    try:
        # A user let in but not allowed to declare or read the queues is refused for good too.
        with refusals_are_final(url):
            publish_channel = await connection.channel(
                publisher_confirms=True, on_return_raises=True
            )
            topology = await declare_topology(publish_channel)
        publish = EventPublisher(topology.exchange, app_id=f"pagesmith-{service.stage}")
        runtime = Runtime(publish=publish, registry=registry, telemetry=telemetry)
        async with service.make_deps(runtime) as deps:
            dispatcher = Dispatcher(
                stage=service.stage,
                handlers=service.handlers,
                deps=deps,
                publish=publish,
                metrics=metrics,
            )
            with refusals_are_final(url):
                consume_channel = await connection.channel()
                await consume_channel.set_qos(prefetch_count=service.prefetch)
                queue = await declare_work_queue(consume_channel, service.queue)
                tag = await queue.consume(dispatcher.on_message)
            ready.consuming = True
            log.info("consuming", queue=service.queue.name, prefetch=service.prefetch)
            await stop.wait()

            log.info("stopping: no new deliveries", inflight=len(dispatcher.inflight))
            ready.consuming = False
            await queue.cancel(tag)
            await _drain(dispatcher, service.settings.shutdown_grace_seconds)
    finally:
        # Closing the connection hands any unacked delivery back to the broker.
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(connection.close(), timeout=5)


async def _drain(dispatcher: Dispatcher[D], grace: float) -> None:
    """Let in-flight work finish within the grace period; cancel (and so requeue) the rest."""
    pending = set(dispatcher.inflight)
    if not pending:
        return
    _, still = await asyncio.wait(pending, timeout=grace)
    for task in still:
        task.cancel()
    if still:
        log.warning("in-flight work cancelled and requeued", count=len(still))
        await asyncio.wait(still, timeout=2)
