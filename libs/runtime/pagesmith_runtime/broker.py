"""Connecting to RabbitMQ and publishing events with publisher confirms."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import aio_pika
import structlog
from aio_pika.abc import AbstractExchange, AbstractRobustConnection
from aio_pika.connection import make_url
from aio_pika.exceptions import CONNECTION_EXCEPTIONS, DeliveryError
from pagesmith_contracts import Event
from pamqp.commands import Basic

from .errors import TransientError

log = structlog.get_logger(__name__)

Publish = Callable[[Event], Awaitable[None]]
"""Publish one event and return once the broker has confirmed it."""


async def connect(
    url: str, *, name: str, stop: asyncio.Event | None = None
) -> AbstractRobustConnection:
    """Open a robust connection, retrying with backoff while the broker is unreachable."""
    delay = 0.5
    while True:
        # Built here rather than by connect_robust(): a first attempt that fails or is cancelled
        # leaves a reconnect task behind, which only closing this object stops.
        connection = aio_pika.RobustConnection(
            make_url(url), client_properties={"connection_name": name}
        )
        try:
            await connection.connect(timeout=10)
            return connection
        except BaseException as exc:
            with contextlib.suppress(Exception):
                await asyncio.shield(connection.close())
            if not isinstance(exc, (TimeoutError, *CONNECTION_EXCEPTIONS, OSError)):
                raise
            if stop is not None and stop.is_set():
                raise
            log.warning("broker unreachable, retrying", error=str(exc), retry_in=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)


class EventPublisher:
    """Persistent, mandatory, confirmed publishes to the topic exchange; routing key = type."""

    def __init__(self, exchange: AbstractExchange, *, app_id: str, timeout: float = 10.0) -> None:
        self._exchange = exchange
        self._app_id = app_id
        self._timeout = timeout

    async def __call__(self, event: Event) -> None:
        event_type = str(event.type)
        message = aio_pika.Message(
            body=event.model_dump_json().encode(),
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=str(event.id),
            correlation_id=event.subject,
            type=event_type,
            app_id=self._app_id,
            timestamp=event.time,
        )
        try:
            confirmation = await self._exchange.publish(
                message, routing_key=event_type, mandatory=True, timeout=self._timeout
            )
        except (TimeoutError, DeliveryError, *CONNECTION_EXCEPTIONS) as exc:
            raise TransientError(f"broker did not confirm {event_type}: {exc!r}") from exc
        # Without on_return_raises an unroutable message comes back instead of an ack.
        if not isinstance(confirmation, Basic.Ack):
            raise TransientError(f"broker did not confirm {event_type}: {confirmation!r}")
