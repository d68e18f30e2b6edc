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
