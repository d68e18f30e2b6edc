"""Trace context crosses the broker: the consumer's span continues the producer's trace."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.instrumentation.aio_pika import AioPikaInstrumentor
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from pagesmith_contracts import Event, SitePublishedV1
from pagesmith_runtime import NOTIFIER, OUTCOMES, Telemetry, setup_telemetry

from .helpers import Broker, eventually, notified, run_dispatcher, site_published, wait_count

pytestmark = pytest.mark.integration


@pytest.fixture
def traced() -> Iterator[tuple[Telemetry, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    telemetry = setup_telemetry("pagesmith-test", exporter=exporter)
    try:
        yield telemetry, exporter
    finally:
        AioPikaInstrumentor().uninstrument()
        telemetry.shutdown()


def spans_of(exporter: InMemorySpanExporter, kind: SpanKind) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.kind == kind]


async def test_consumer_span_shares_the_producer_trace(
    broker: Broker, traced: tuple[Telemetry, InMemorySpanExporter]
) -> None:
    telemetry, exporter = traced
    in_handler: list[trace.SpanContext] = []

    async def handle(event: SitePublishedV1, deps: Any) -> Sequence[Event]:
        in_handler.append(trace.get_current_span().get_span_context())
        return [notified(event)]

    running = await run_dispatcher(broker, NOTIFIER, {"site.published.v1": handle})
    event = site_published()
    tracer = telemetry.tracer_provider.get_tracer("pagesmith.test")
    with tracer.start_as_current_span("POST /api/tasks") as root:
        await broker.publish(event)
    await wait_count(broker, OUTCOMES.name, 1)
    [consumer] = await eventually(lambda: spans_of(exporter, SpanKind.CONSUMER))
    await running.stop()

    trace_id = root.get_span_context().trace_id
    producers = spans_of(exporter, SpanKind.PRODUCER)
    input_producer = next(
        s for s in producers if s.parent and s.parent.span_id == root.get_span_context().span_id
    )
    assert consumer.context.trace_id == trace_id
    assert consumer.parent is not None
    assert consumer.parent.span_id == input_producer.context.span_id
    # The handler runs inside the consumer span, not beside it (ecosystem-notes §5).
    assert [c.span_id for c in in_handler] == [consumer.context.span_id]
    assert consumer.attributes is not None
    assert consumer.attributes["pagesmith.task_id"] == event.subject
    assert consumer.attributes["pagesmith.stage"] == "notifier"
    # And the handler's output carries the trace on to the next stage.
    output_producer = next(s for s in producers if s is not input_producer)
    assert output_producer.context.trace_id == trace_id
    assert output_producer.parent is not None
    assert output_producer.parent.span_id == consumer.context.span_id
    assert {s.resource.attributes["service.name"] for s in exporter.get_finished_spans()} == {
        "pagesmith-test"
    }


async def test_a_second_setup_gets_the_spans(
    broker: Broker, traced: tuple[Telemetry, InMemorySpanExporter]
) -> None:
    # Each test (and each process) brings its own exporter; a set-up after an earlier one must
    # not leave the aio-pika instrumentation reporting to the old provider.
    _, first = traced
    second = InMemorySpanExporter()
    second_telemetry = setup_telemetry("pagesmith-test-2", exporter=second)
    try:
        await broker.publish(site_published())
        [span] = second.get_finished_spans()
        assert span.kind == SpanKind.PRODUCER
        assert span.resource.attributes["service.name"] == "pagesmith-test-2"
        assert first.get_finished_spans() == ()
    finally:
        second_telemetry.shutdown()
