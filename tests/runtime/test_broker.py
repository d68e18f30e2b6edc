"""EventPublisher on a real broker: message properties, confirms, and what refuses a publish."""

from __future__ import annotations

import asyncio

import aio_pika
import pytest
from aio_pika.abc import AbstractRobustChannel, AbstractRobustConnection
from pagesmith_contracts import TaskFailedV1, decode_event
from pagesmith_runtime import NOTIFIER, EventPublisher, Topology, TransientError

from .helpers import Broker, site_published

pytestmark = pytest.mark.integration


async def test_publish_sets_the_message_properties(broker: Broker) -> None:
    event = site_published()
    await broker.publish(event)

    channel = await broker.connection.channel()
    queue = await channel.get_queue(NOTIFIER.name)
    message = await queue.get(timeout=5)
    assert message is not None
    await message.ack()
    assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert message.message_id == str(event.id)
    assert message.type == "site.published.v1"
    assert message.routing_key == "site.published.v1"
    assert message.correlation_id == event.task.task_id == event.subject
    assert message.content_type == "application/json"
    assert message.app_id == "pagesmith-test"
    assert message.timestamp is not None
    assert decode_event(message.body) == event


async def test_unroutable_publish_raises_transient(
    publish_channel: AbstractRobustChannel, topology: Topology
) -> None:
    # An exchange nobody bound a queue to: mandatory + on_return_raises turn the return into
    # an error instead of a quiet "success" (ecosystem-notes §15).
    lonely = await publish_channel.declare_exchange(
        "lonely", aio_pika.ExchangeType.TOPIC, auto_delete=True
    )
    publish = EventPublisher(lonely, app_id="pagesmith-test", timeout=5)
    with pytest.raises(TransientError, match="NO_ROUTE"):
        await publish(site_published())


async def test_unroutable_publish_raises_even_without_on_return_raises(
    connection: AbstractRobustConnection, topology: Topology
) -> None:
    # A channel opened with the library's defaults hands back the returned message instead of
    # an ack; the publisher must not take that for a confirm.
    channel = await connection.channel(publisher_confirms=True, on_return_raises=False)
    lonely = await channel.declare_exchange(
        "lonely-defaults", aio_pika.ExchangeType.TOPIC, auto_delete=True
    )
    publish = EventPublisher(lonely, app_id="pagesmith-test", timeout=5)
    with pytest.raises(TransientError):
        await publish(site_published())


async def test_event_type_nobody_binds_raises_transient(broker: Broker) -> None:
    # The outcomes queue takes only task.notified and task.failed, and the tracker's every
    # event: unbind both, and a task.failed has nowhere to go.
    outcomes = broker.topology.queues["pagesmith.outcomes"]
    await outcomes.unbind(broker.topology.exchange, routing_key="task.failed.v1")
    tracker = broker.topology.queues["pagesmith.tracker"]
    await tracker.unbind(broker.topology.exchange, routing_key="#")
    event = TaskFailedV1(
        source="pagesmith/test", subject="t", task=None, stage="runtime", reason="r"
    )
    with pytest.raises(TransientError):
        await broker.publish(event)


async def test_missing_exchange_raises_transient(
    publish_channel: AbstractRobustChannel, topology: Topology
) -> None:
    ghost = aio_pika.Exchange(publish_channel, "does-not-exist", aio_pika.ExchangeType.TOPIC)
    publish = EventPublisher(ghost, app_id="pagesmith-test", timeout=5)
    with pytest.raises(TransientError, match="NOT_FOUND"):
        await publish(site_published())


async def test_the_publisher_recovers_after_a_refused_publish(
    broker: Broker, publish_channel: AbstractRobustChannel
) -> None:
    # The broker closes the channel on a publish to a missing exchange; the robust channel
    # reopens, and the next publish on it goes through.
    ghost = aio_pika.Exchange(publish_channel, "does-not-exist", aio_pika.ExchangeType.TOPIC)
    with pytest.raises(TransientError):
        await EventPublisher(ghost, app_id="pagesmith-test", timeout=5)(site_published())
    event = site_published()
    for _ in range(50):
        try:
            await broker.publish(event)
            break
        except TransientError:
            await asyncio.sleep(0.1)
    else:
        pytest.fail("publishing never recovered")
    channel = await broker.connection.channel()
    message = await (await channel.get_queue(NOTIFIER.name)).get(timeout=5)
    assert message is not None and decode_event(message.body) == event
