"""The topology on a real broker: idempotent declares and the queue arguments that matter."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import aio_pika
import pytest
from aio_pika.abc import AbstractRobustConnection
from aiormq.exceptions import ChannelPreconditionFailed
from pagesmith_runtime import (
    DELIVERY_LIMIT,
    GENERATOR,
    NOTIFIER,
    OUTCOMES,
    PUBLISHER,
    TRACKER,
    Topology,
    declare_topology,
)
from pagesmith_runtime.topology import DEAD_LETTER_EXCHANGE, EXCHANGE

pytestmark = pytest.mark.integration


def ctl_json(*args: str) -> list[dict[str, Any]]:
    ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    out = subprocess.run(
        [ctl, "-q", *args, "--formatter", "json"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    return list(json.loads(out))


def vhost_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


async def test_declaring_twice_is_fine(
    amqp_url: str, connection: AbstractRobustConnection, topology: Topology
) -> None:
    # Every service declares the topology at start, in any order, on its own connection.
    again = await declare_topology(await connection.channel())
    other = await aio_pika.connect(amqp_url)
    try:
        third = await declare_topology(await other.channel())
    finally:
        await other.close()
    assert set(again.queues) == set(topology.queues) == set(third.queues)
    assert set(topology.queues) == {
        GENERATOR.name,
        GENERATOR.dlq,
        PUBLISHER.name,
        PUBLISHER.dlq,
        NOTIFIER.name,
        NOTIFIER.dlq,
        TRACKER.name,
        TRACKER.dlq,
        OUTCOMES.name,
    }


async def test_work_queues_are_quorum_with_delivery_limit_and_dlx(
    amqp_url: str, topology: Topology
) -> None:
    queues = {
        q["name"]: q
        for q in ctl_json(
            "list_queues", "-p", vhost_of(amqp_url), "name", "type", "durable", "arguments"
        )
    }
    for spec in (GENERATOR, PUBLISHER, NOTIFIER, TRACKER):
        queue = queues[spec.name]
        args = {name: value for name, _kind, value in queue["arguments"]}
        assert queue["type"] == "quorum" and queue["durable"] is True
        assert args == {
            "x-queue-type": "quorum",
            "x-delivery-limit": DELIVERY_LIMIT,
            "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
            "x-dead-letter-routing-key": spec.dlq,
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        }
        assert queues[spec.dlq]["type"] == "quorum"
    outcomes = {n: v for n, _k, v in queues[OUTCOMES.name]["arguments"]}
    assert outcomes["x-queue-type"] == "quorum" and outcomes["x-max-length"] > 0


async def test_bindings_route_by_event_type(amqp_url: str, topology: Topology) -> None:
    bindings = {
        (b["source_name"], b["destination_name"], b["routing_key"])
        for b in ctl_json(
            "list_bindings",
            "-p",
            vhost_of(amqp_url),
            "source_name",
            "destination_name",
            "routing_key",
        )
    }
    expected = {
        (EXCHANGE, spec.name, key)
        for spec in (GENERATOR, PUBLISHER, NOTIFIER, TRACKER, OUTCOMES)
        for key in spec.bindings
    } | {
        (DEAD_LETTER_EXCHANGE, spec.dlq, spec.dlq)
        for spec in (GENERATOR, PUBLISHER, NOTIFIER, TRACKER)
    }
    assert expected <= bindings
    assert {b for b in bindings if b[0] == EXCHANGE} == {e for e in expected if e[0] == EXCHANGE}


async def test_a_redeclare_with_other_arguments_is_refused(
    connection: AbstractRobustConnection, topology: Topology
) -> None:
    # Why the topology lives in one module (ecosystem-notes §14).
    channel = await connection.channel()
    with pytest.raises(ChannelPreconditionFailed):
        await channel.declare_queue(
            NOTIFIER.name, durable=True, arguments={"x-queue-type": "quorum"}
        )


async def test_the_tracker_gets_every_event_whatever_its_routing_key(
    amqp_url: str, topology: Topology
) -> None:
    # Routing may come to carry more than the type (say, the round); the tracker still sees all.
    for key in ("task.submitted.v1", "task.submitted.v1.round2", "anything.new"):
        await topology.exchange.publish(aio_pika.Message(b"{}"), routing_key=key, timeout=10)
    connection = await aio_pika.connect(amqp_url)
    try:
        queue = await (await connection.channel()).declare_queue(TRACKER.name, passive=True)
        got = []
        while (message := await queue.get(fail=False, timeout=5)) is not None:
            got.append(message.routing_key)
            await message.ack()
    finally:
        await connection.close()
    assert got == ["task.submitted.v1", "task.submitted.v1.round2", "anything.new"]
