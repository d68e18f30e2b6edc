"""The gateway's broker connection: opened in the background so /readyz tells the truth."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import structlog
from aio_pika.abc import AbstractRobustConnection
from aiohttp import web
from pagesmith_runtime import (
    BrokerRefused,
    EventPublisher,
    Publish,
    connect,
    declare_topology,
    refusals_are_final,
)

from .settings import GatewaySettings

log = structlog.get_logger(__name__)


class BrokerLink:
    """Holds the publisher once connected; `publish` is None until then."""

    def __init__(self) -> None:
        self.connection: AbstractRobustConnection | None = None
        self.publish: Publish | None = None
        self.refused: str | None = None
        # Set when the broker refused us for good: main() then exits non-zero.
        self.gave_up = asyncio.Event()

    def ready(self) -> bool:
        conn = self.connection
        return self.publish is not None and conn is not None and not conn.is_closed

    def reason(self) -> str | None:
        """Why the gateway cannot queue tasks now, or None when it can."""
        if self.refused is not None:
            return self.refused
        if self.ready():
            return None
        if self.publish is None:
            return "not connected to the broker yet"
        return "the broker connection is down"


BROKER = web.AppKey("broker", BrokerLink)


async def _open(link: BrokerLink, settings: GatewaySettings) -> None:
    url = settings.amqp_url.get_secret_value()
    try:
        connection = await connect(url, name="pagesmith-gateway")
        link.connection = connection
        with refusals_are_final(url):
            channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
            # Declaring the whole topology here means a task queued before any consumer
            # starts is kept.
            topology = await declare_topology(channel)
    except BrokerRefused as exc:
        link.refused = str(exc)
        log.error("broker refused access; exiting", reason=str(exc))
        link.gave_up.set()
        return
    link.publish = EventPublisher(
        topology.exchange, app_id="pagesmith-gateway", timeout=settings.publish_timeout_seconds
    )
    log.info("broker connected")


def broker_ctx(
    settings: GatewaySettings,
) -> Callable[[web.Application], AsyncIterator[None]]:
    """cleanup_ctx factory: connect in the background, close on shutdown."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        link = app[BROKER]
        opener = asyncio.create_task(_open(link, settings))
        yield
        opener.cancel()
        # Let the opener close a half-open connection: left alone, aio-pika's reconnect task
        # swallows cancellation and outlives the app.
        await asyncio.wait({opener}, timeout=5)
        if link.connection is not None:
            # A broker that vanished mid-close must not hold the shutdown hostage.
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(link.connection.close(), timeout=5)

    return ctx
