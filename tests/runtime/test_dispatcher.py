"""The consumer runner on a real queue: publish then ack, typed failures, limits, poison."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import aio_pika
import pytest
from pagesmith_contracts import (
    Event,
    SiteGeneratedV1,
    SitePublishedV1,
    TaskFailedV1,
    TaskNotifiedV1,
    decode_event,
)
from pagesmith_runtime import (
    DELIVERY_LIMIT,
    NOTIFIER,
    OUTCOMES,
    PUBLISHER,
    TRACKER,
    PermanentError,
    TransientError,
)

from tests.support.queues import drain

from .helpers import (
    Broker,
    eventually,
    notified,
    ready_count,
    run_dispatcher,
    site_generated,
    site_published,
    take_all,
    wait_count,
)

pytestmark = pytest.mark.integration


async def test_output_lands_in_the_next_queue_and_the_input_is_acked(broker: Broker) -> None:
    async def handle(event: SiteGeneratedV1, deps: Any) -> Sequence[Event]:
        return [site_published(event.task)]

    generated = site_generated()
    running = await run_dispatcher(
        broker, PUBLISHER, {"site.generated.v1": handle}, stage="publisher"
    )
    await broker.publish(generated)
    await eventually(lambda: ready_count(broker, NOTIFIER.name))
    await eventually(
        lambda: running.registry.get_sample_value(
            "pagesmith_messages_total",
            {"service": "publisher", "event_type": "site.generated.v1", "outcome": "ok"},
        )
    )
    await running.stop()  # an unacked input would now return to the queue

    assert await ready_count(broker, PUBLISHER.name) == 0
    assert await ready_count(broker, PUBLISHER.dlq) == 0
    [out] = await drain(broker.url, NOTIFIER.name)
    assert isinstance(out, SitePublishedV1)
    assert out.task == generated.task


async def test_output_is_confirmed_before_the_input_is_acked(broker: Broker) -> None:
    """A crash right after the output's confirm hands the input back: it was not acked yet."""

    async def publish_then_crash(event: Event) -> None:
        await broker.publish(event)
        await running.channel.close()  # the process dies before it gets to ack

    async def handle(event: SiteGeneratedV1, deps: Any) -> Sequence[Event]:
        return [site_published(event.task)]

    generated = site_generated()
    running = await run_dispatcher(
        broker,
        PUBLISHER,
        {"site.generated.v1": handle},
        stage="publisher",
        publish=publish_then_crash,
    )
    await broker.publish(generated)
    await eventually(lambda: ready_count(broker, NOTIFIER.name))
    # At least once: both the output and the input it came from are in the broker.
    assert await eventually(lambda: ready_count(broker, PUBLISHER.name)) == 1
    [out] = await drain(broker.url, NOTIFIER.name)
    assert isinstance(out, SitePublishedV1) and out.task == generated.task
    [back] = await drain(broker.url, PUBLISHER.name)
    assert back == generated


async def test_an_unconfirmed_output_leaves_the_input_unacked(broker: Broker) -> None:
    """If the output cannot be published, the input comes back: nothing is lost."""
    failures = [TransientError("broker did not confirm")]
    calls: list[str] = []

    async def flaky_publish(event: Event) -> None:
        if failures:
            raise failures.pop()
        await broker.publish(event)

    async def handle(event: SitePublishedV1, deps: Any) -> Sequence[Event]:
        calls.append(event.subject)
        return [notified(event)]

    event = site_published()
    running = await run_dispatcher(
        broker, NOTIFIER, {"site.published.v1": handle}, publish=flaky_publish
    )
    await broker.publish(event)
    await eventually(lambda: len(calls) == 2)
    outcomes = await eventually(lambda: ready_count(broker, OUTCOMES.name))
    await running.stop()

    assert outcomes == 1
    assert [m.redelivered for m in running.deliveries] == [False, True]
    [out] = await drain(broker.url, OUTCOMES.name)
    assert isinstance(out, TaskNotifiedV1) and out.subject == event.subject
    assert await ready_count(broker, NOTIFIER.name) == 0
    assert await ready_count(broker, NOTIFIER.dlq) == 0


async def test_an_output_that_never_confirms_ends_in_task_failed(
    broker: Broker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Publishing the output fails on every delivery: requeued, then task.failed, then DLQ."""
    monkeypatch.setattr("pagesmith_runtime.consumer.REQUEUE_PAUSE_SECONDS", 0.01)
    # task.notified has nowhere to go, so the broker returns it (NO_ROUTE); task.failed does.
    outcomes = broker.topology.queues[OUTCOMES.name]
    await outcomes.unbind(broker.topology.exchange, routing_key="task.notified.v1")
    # The tracker's queue takes every event ("#"): without it here, task.notified is unroutable.
    tracker = broker.topology.queues[TRACKER.name]
    await tracker.unbind(broker.topology.exchange, routing_key="#")

    async def handle(event: SitePublishedV1, deps: Any) -> Sequence[Event]:
        return [notified(event)]

    event = site_published()
    running = await run_dispatcher(broker, NOTIFIER, {"site.published.v1": handle})
    await broker.publish(event)
    await eventually(lambda: ready_count(broker, NOTIFIER.dlq), timeout=30)
    await eventually(lambda: ready_count(broker, OUTCOMES.name))
    await asyncio.sleep(0.3)  # nothing more may arrive
    await running.stop()

    counts = [(m.headers or {}).get("x-delivery-count") for m in running.deliveries]
    assert counts == [None, *range(1, DELIVERY_LIMIT + 1)]
    [failed] = await drain(broker.url, OUTCOMES.name)
    assert isinstance(failed, TaskFailedV1)
    assert failed.subject == event.subject and failed.task == event.task
    assert failed.reason.startswith("gave up after retries: broker did not confirm")
    assert "task.notified.v1" in failed.reason
    [dead] = await take_all(broker.url, NOTIFIER.dlq)
    assert decode_event(dead.body) == event
    # Rejected by the runner on its last delivery, not dropped by the broker's limit.
    assert dead.headers["x-death"][0]["reason"] == "rejected"
    labels = {"service": "notifier", "event_type": "site.published.v1"}
    sample = running.registry.get_sample_value
    assert sample("pagesmith_messages_total", {**labels, "outcome": "transient"}) == DELIVERY_LIMIT
    assert sample("pagesmith_messages_total", {**labels, "outcome": "permanent"}) == 1


async def test_permanent_error_publishes_task_failed_and_dead_letters(broker: Broker) -> None:
    async def handle(event: SitePublishedV1, deps: Any) -> Sequence[Event]:
        raise PermanentError("caller answered 400: unknown nonce")

    event = site_published()
    running = await run_dispatcher(broker, NOTIFIER, {"site.published.v1": handle})
    await broker.publish(event)
    await eventually(lambda: ready_count(broker, NOTIFIER.dlq))
    await eventually(lambda: ready_count(broker, OUTCOMES.name))
    await running.stop()

    assert len(running.deliveries) == 1  # never retried
    [failed] = await drain(broker.url, OUTCOMES.name)
    assert isinstance(failed, TaskFailedV1)
    assert failed.subject == event.subject
    assert failed.task == event.task
    assert failed.stage == "notifier"
    assert failed.source == "pagesmith/notifier"
    assert failed.reason == "caller answered 400: unknown nonce"
    [dead] = await take_all(broker.url, NOTIFIER.dlq)
    assert decode_event(dead.body) == event
    assert dead.headers["x-death"][0]["reason"] == "rejected"
    assert dead.headers["x-death"][0]["queue"] == NOTIFIER.name
    assert await ready_count(broker, NOTIFIER.name) == 0
    assert (
        running.registry.get_sample_value("pagesmith_tasks_failed_total", {"stage": "notifier"})
        == 1
    )


async def test_transient_error_is_redelivered_then_succeeds(broker: Broker) -> None:
    calls: list[object] = []

    async def handle(event: SitePublishedV1, deps: Any) -> Sequence[Event]:
        calls.append(event.subject)
        if len(calls) < 3:
            raise TransientError("caller answered 503", retry_after=0.01)
        return [notified(event, attempts=len(calls))]

    event = site_published()
    running = await run_dispatcher(broker, NOTIFIER, {"site.published.v1": handle})
    await broker.publish(event)
    await eventually(lambda: ready_count(broker, OUTCOMES.name))
    await running.stop()

    assert len(calls) == 3
    assert [m.redelivered for m in running.deliveries] == [False, True, True]
    [out] = await drain(broker.url, OUTCOMES.name)
    assert isinstance(out, TaskNotifiedV1) and out.attempts == 3
    assert await ready_count(broker, NOTIFIER.name) == 0
    assert await ready_count(broker, NOTIFIER.dlq) == 0


async def test_transient_errors_stop_at_the_delivery_limit(broker: Broker) -> None:
    async def handle(event: SitePublishedV1, deps: Any) -> Sequence[Event]:
        raise TransientError("caller unreachable", retry_after=0.01)

    event = site_published()
    running = await run_dispatcher(broker, NOTIFIER, {"site.published.v1": handle})
    await broker.publish(event)
    await eventually(lambda: ready_count(broker, NOTIFIER.dlq), timeout=30)
    await eventually(lambda: ready_count(broker, OUTCOMES.name))
    await asyncio.sleep(0.3)  # nothing more may arrive
    await running.stop()

    counts = [(m.headers or {}).get("x-delivery-count") for m in running.deliveries]
    # The first delivery has no count; the broker counts each requeue up to the limit.
    assert counts == [None, *range(1, DELIVERY_LIMIT + 1)]
    [failed] = await drain(broker.url, OUTCOMES.name)
    assert isinstance(failed, TaskFailedV1)
    assert failed.subject == event.subject and failed.task == event.task
    assert failed.reason == "gave up after retries: caller unreachable"
    [dead] = await take_all(broker.url, NOTIFIER.dlq)
    assert decode_event(dead.body) == event
    assert await ready_count(broker, NOTIFIER.name) == 0


async def test_handler_crash_is_retried(broker: Broker) -> None:
    calls: list[str] = []

    async def handle(event: SitePublishedV1, deps: Any) -> Sequence[Event]:
        calls.append(event.subject)
        if len(calls) == 1:
            raise RuntimeError("bug")
        return [notified(event)]

    running = await run_dispatcher(broker, NOTIFIER, {"site.published.v1": handle})
    await broker.publish(site_published())
    await eventually(lambda: ready_count(broker, OUTCOMES.name))
    await running.stop()
    assert len(calls) == 2
    assert await ready_count(broker, NOTIFIER.dlq) == 0


async def _publish_raw(broker: Broker, body: bytes, **properties: Any) -> None:
    await broker.topology.exchange.publish(
        aio_pika.Message(body=body, **properties), routing_key="site.published.v1", timeout=5
    )


@pytest.mark.parametrize(
    "body",
    [b"not json", b'{"type": "site.published.v1"}', b"\xff\xfe\x00", b'{"type": "task.x.v9"}'],
)
async def test_poison_goes_to_the_dlq_with_task_failed(broker: Broker, body: bytes) -> None:
    handled: list[str] = []

    async def handle(event: SitePublishedV1, deps: Any) -> Sequence[Event]:
        handled.append(event.subject)
        return [notified(event)]

    running = await run_dispatcher(broker, NOTIFIER, {"site.published.v1": handle})
    await _publish_raw(broker, body, correlation_id="task-123", type="site.published.v1")
    await eventually(lambda: ready_count(broker, NOTIFIER.dlq))
    await eventually(lambda: ready_count(broker, OUTCOMES.name))

    # The service keeps consuming after the poison message.
    good = site_published()
    await broker.publish(good)
    await eventually(lambda: handled)
    await wait_count(broker, OUTCOMES.name, 2)
    await running.stop()

    assert len(running.deliveries) == 2  # the poison was delivered once, never requeued
    failed, ok = await drain(broker.url, OUTCOMES.name)
    assert isinstance(failed, TaskFailedV1)
    assert failed.subject == "task-123" and failed.task is None and failed.stage == "notifier"
    assert failed.reason.startswith("undecodable site.published.v1")
    assert isinstance(ok, TaskNotifiedV1) and ok.subject == good.subject
    [dead] = await take_all(broker.url, NOTIFIER.dlq)
    assert dead.body == body
    assert dead.correlation_id == "task-123"


async def test_poison_without_correlation_id_is_dead_lettered_quietly(broker: Broker) -> None:
    running = await run_dispatcher(broker, NOTIFIER, {})
    await _publish_raw(broker, b"{}")
    await eventually(lambda: ready_count(broker, NOTIFIER.dlq))
    await asyncio.sleep(0.3)
    await running.stop()
    assert await ready_count(broker, OUTCOMES.name) == 0
    assert [d.body for d in await take_all(broker.url, NOTIFIER.dlq)] == [b"{}"]
    assert (
        running.registry.get_sample_value(
            "pagesmith_messages_total",
            {"service": "notifier", "event_type": "unknown", "outcome": "poison"},
        )
        == 1
    )


async def test_event_without_a_handler_is_acked_and_ignored(broker: Broker) -> None:
    running = await run_dispatcher(broker, NOTIFIER, {})
    await broker.publish(site_published())
    await eventually(
        lambda: running.registry.get_sample_value(
            "pagesmith_messages_total",
            {"service": "notifier", "event_type": "site.published.v1", "outcome": "ignored"},
        )
    )
    await running.stop()
    assert await ready_count(broker, NOTIFIER.name) == 0
    assert await ready_count(broker, NOTIFIER.dlq) == 0
