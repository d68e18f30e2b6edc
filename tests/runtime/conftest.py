"""Fixtures for the runtime's broker tests: a connection, the topology and a confirmed publisher."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aio_pika
import pytest
from aio_pika.abc import AbstractRobustChannel, AbstractRobustConnection
from pagesmith_runtime import EventPublisher, Topology, declare_topology

from .helpers import Broker


@pytest.fixture
async def connection(amqp_url: str) -> AsyncIterator[AbstractRobustConnection]:
    conn = await aio_pika.connect_robust(amqp_url)
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
async def publish_channel(connection: AbstractRobustConnection) -> AbstractRobustChannel:
    # What run_service opens: confirms on, and an unroutable message raises.
    return await connection.channel(publisher_confirms=True, on_return_raises=True)


@pytest.fixture
async def topology(publish_channel: AbstractRobustChannel) -> Topology:
    return await declare_topology(publish_channel)


@pytest.fixture
def broker(amqp_url: str, connection: AbstractRobustConnection, topology: Topology) -> Broker:
    return Broker(
        url=amqp_url,
        connection=connection,
        topology=topology,
        publish=EventPublisher(topology.exchange, app_id="pagesmith-test", timeout=10),
    )
