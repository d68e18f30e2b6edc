"""The broker topology, declared in one place: RabbitMQ refuses a redeclare with other arguments."""

from __future__ import annotations

from dataclasses import dataclass

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractQueue
from aiormq.abc import FieldTable

EXCHANGE = "pagesmith"
DEAD_LETTER_EXCHANGE = "pagesmith.dlx"
# A constant on purpose: changing it needs a new queue name (ecosystem-notes §14).
DELIVERY_LIMIT = 5
OUTCOMES_MAX_LENGTH = 10_000


@dataclass(frozen=True, slots=True)
class QueueSpec:
    """A consumer's work queue and the event types routed to it."""

    name: str
    bindings: tuple[str, ...]

    @property
    def dlq(self) -> str:
        return f"{self.name}.dlq"


GENERATOR = QueueSpec("pagesmith.generator", ("task.submitted.v1", "repo.checked-out.v1"))
PUBLISHER = QueueSpec("pagesmith.publisher", ("task.submitted.v1", "site.generated.v1"))
NOTIFIER = QueueSpec("pagesmith.notifier", ("site.published.v1",))
# The tracker records every event, whatever its routing key; it is never in a task's path.
TRACKER = QueueSpec("pagesmith.tracker", ("#",))
WORK_QUEUES = (GENERATOR, PUBLISHER, NOTIFIER, TRACKER)
# Terminal events land here, bounded, so every publish is routable and outcomes can be read.
OUTCOMES = QueueSpec("pagesmith.outcomes", ("task.notified.v1", "task.failed.v1"))


def work_queue_arguments(spec: QueueSpec) -> FieldTable:
    return {
        "x-queue-type": "quorum",
        "x-delivery-limit": DELIVERY_LIMIT,
        "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
        "x-dead-letter-routing-key": spec.dlq,
        # At-least-once dead-lettering needs both of these (rabbitmq.com/docs/dlx).
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
    }


async def declare_work_queue(channel: AbstractChannel, spec: QueueSpec) -> AbstractQueue:
    """Declare a consumer's queue on its own channel (same arguments, so idempotent).

    A robust channel restores only queues declared on it, and with them their consumers: a
    queue fetched with `get_queue(ensure=False)` would stay silent after a reconnect.
    """
    return await channel.declare_queue(
        spec.name, durable=True, arguments=work_queue_arguments(spec)
    )


@dataclass(frozen=True, slots=True)
class Topology:
    exchange: AbstractExchange
    queues: dict[str, AbstractQueue]


async def declare_topology(channel: AbstractChannel) -> Topology:
    """Declare exchanges, work queues, their DLQs and the outcomes queue (idempotent)."""
    exchange = await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
    dlx = await channel.declare_exchange(
        DEAD_LETTER_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True
    )
    queues: dict[str, AbstractQueue] = {}
    for spec in WORK_QUEUES:
        dlq = await channel.declare_queue(
            spec.dlq, durable=True, arguments={"x-queue-type": "quorum"}
        )
        await dlq.bind(dlx, routing_key=spec.dlq)
        queue = await channel.declare_queue(
            spec.name, durable=True, arguments=work_queue_arguments(spec)
        )
        for key in spec.bindings:
            await queue.bind(exchange, routing_key=key)
        queues[spec.name] = queue
        queues[spec.dlq] = dlq
    outcomes = await channel.declare_queue(
        OUTCOMES.name,
        durable=True,
        arguments={"x-queue-type": "quorum", "x-max-length": OUTCOMES_MAX_LENGTH},
    )
    for key in OUTCOMES.bindings:
        await outcomes.bind(exchange, routing_key=key)
    queues[OUTCOMES.name] = outcomes
    return Topology(exchange=exchange, queues=queues)
