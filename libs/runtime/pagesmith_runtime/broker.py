"""Connecting to RabbitMQ and publishing events with publisher confirms."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator
from urllib.parse import unquote, urlsplit

import aio_pika
import stamina
import structlog
from aio_pika.abc import AbstractExchange, AbstractRobustConnection
from aio_pika.connection import make_url
from aio_pika.exceptions import CONNECTION_EXCEPTIONS, DeliveryError
from aiormq.exceptions import (
    AuthenticationError,
    ChannelAccessRefused,
    InvalidFrameError,
    ProbableAuthenticationError,
)
from pagesmith_contracts import Event
from pamqp.commands import Basic

from .errors import PermanentError, TransientError

log = structlog.get_logger(__name__)

Publish = Callable[[Event], Awaitable[None]]
"""Publish one event and return once the broker has confirmed it."""


class BrokerRefused(PermanentError):
    """The broker refused the login, the virtual host or the topology: retrying cannot help."""


def refusal(exc: BaseException) -> str | None:
    """Why the broker turned us away for good, or None when trying again may help."""
    if isinstance(exc, (ProbableAuthenticationError, AuthenticationError)):
        return f"the broker refused the login: {exc}"
    # RabbitMQ answers Connection.Open with Connection.Close (530 NOT_ALLOWED) when the vhost
    # is missing or the user may not use it; aiormq keeps only the frame's name, not its text.
    if isinstance(exc, InvalidFrameError) and "Connection.Close" in str(exc):
        return (
            "the broker refused the virtual host (it does not exist, the user has no "
            "permission on it, or its connection limit is reached)"
        )
    if isinstance(exc, ChannelAccessRefused):
        return f"the broker refused access: {exc}"
    return None


@contextlib.contextmanager
def refusals_are_final(url: str) -> Iterator[None]:
    """Raise BrokerRefused (naming user and vhost, never the password) for a refusal."""
    try:
        yield
    except Exception as exc:
        reason = refusal(exc)
        if reason is None:
            raise
        parts = urlsplit(url)
        vhost = unquote(parts.path[1:]) or "/"
        raise BrokerRefused(f"{reason} (user {parts.username!r}, vhost {vhost!r})") from exc


async def connect(
    url: str, *, name: str, stop: asyncio.Event | None = None
) -> AbstractRobustConnection:
    """Open a robust connection, retrying with backoff while the broker is unreachable.

    Raises BrokerRefused at once for wrong credentials or a refused virtual host.
    """

    def unreachable(exc: Exception) -> bool:
        if refusal(exc) is not None or (stop is not None and stop.is_set()):
            return False
        if not isinstance(exc, (TimeoutError, *CONNECTION_EXCEPTIONS, OSError)):
            return False
        log.warning("broker unreachable, retrying", error=str(exc))
        return True

    with refusals_are_final(url):
        async for attempt in stamina.retry_context(
            on=unreachable, attempts=None, timeout=None, wait_initial=0.5, wait_max=10.0
        ):
            with attempt:
                return await _connect_once(url, name)
    raise AssertionError("unreachable: stamina re-raises the last error")


async def _connect_once(url: str, name: str) -> AbstractRobustConnection:
    # Built here rather than by connect_robust(): a first attempt that fails or is cancelled
    # leaves a reconnect task behind, which only closing this object stops.
    connection = aio_pika.RobustConnection(
        make_url(url), client_properties={"connection_name": name}
    )
    try:
        await connection.connect(timeout=10)
    except BaseException:
        with contextlib.suppress(Exception):
            await asyncio.shield(connection.close())
        raise
    return connection


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
