"""Reading what landed in a queue, for assertions."""

from __future__ import annotations

import aio_pika
from pagesmith_contracts import AnyEvent, decode_event


async def drain(amqp_url: str, queue: str, *, wait: float = 0.0) -> list[AnyEvent]:
    """Take (and ack) every message now in `queue`; decode each as an event."""
    import asyncio

    if wait:
        await asyncio.sleep(wait)
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        q = await channel.get_queue(queue, ensure=True)
        events: list[AnyEvent] = []
        while (message := await q.get(fail=False, timeout=5)) is not None:
            events.append(decode_event(message.body))
            await message.ack()
        return events
    finally:
        await connection.close()


async def tap(amqp_url: str, *event_types: str) -> str:
    """A queue that gets a copy of every event of these types from now on; its name."""
    import uuid

    from pagesmith_runtime.topology import EXCHANGE

    name = f"test.tap.{uuid.uuid4().hex[:10]}"
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(name, durable=False)
        exchange = await channel.get_exchange(EXCHANGE)
        for event_type in event_types:
            await queue.bind(exchange, routing_key=event_type)
        return name
    finally:
        await connection.close()
