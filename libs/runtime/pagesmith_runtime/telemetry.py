"""Tracing and JSON logging, set up once per process from the standard OTEL_* variables."""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from typing import Any

import structlog
from opentelemetry import trace
from opentelemetry.instrumentation.aio_pika import AioPikaInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter


@dataclass(frozen=True, slots=True)
class Telemetry:
    """Handles a service keeps for the life of the process."""

    tracer_provider: TracerProvider

    def shutdown(self) -> None:
        self.tracer_provider.shutdown()


def setup_telemetry(service: str, *, exporter: SpanExporter | None = None) -> Telemetry:
    """Build the tracer provider; export over OTLP/HTTP only when an endpoint is configured.

    Tests pass an in-memory `exporter`. Trace context crosses the broker in AMQP headers
    through the aio-pika instrumentation (publish injects, consume extracts).
    """
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    elif os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
    ):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    instrumentor = AioPikaInstrumentor()
    # The instrumentation keeps the tracer of its first `instrument()` call; a later set-up (each
    # test brings its own exporter) must re-bind it, or its spans go to a stale provider.
    if instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.uninstrument()
    instrumentor.instrument(tracer_provider=provider)
    return Telemetry(tracer_provider=provider)


def _add_trace_ids(
    _logger: object, _name: str, event_dict: structlog.types.EventDict
) -> structlog.types.EventDict:
    ctx = trace.get_current_span().get_span_context()
    if ctx.is_valid:
        event_dict["trace_id"] = format(ctx.trace_id, "032x")
        event_dict["span_id"] = format(ctx.span_id, "016x")
    return event_dict


def setup_logging(service: str, level: str = "INFO") -> None:
    """JSON lines on stdout with service, task id (bound per message) and trace ids."""
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_trace_ids,
    ]
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.format_exc_info,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # aiormq logs every reconnect attempt at ERROR with a traceback; ours says it once.
    logging.getLogger("aiormq").setLevel(logging.CRITICAL)
    logging.getLogger("aio_pika").setLevel(logging.WARNING)
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(service=service)


_UNTRACED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def server_tracing_middleware(tracer_provider: trace.TracerProvider | None = None) -> Any:
    """aiohttp middleware whose SERVER span is the root of a task's trace.

    Written here rather than taken from the contrib package: its middleware only works after
    a global `instrument()` call (ecosystem-notes §6). Probes and metrics stay out of traces.
    """
    from aiohttp import web
    from opentelemetry.propagate import extract

    tracer = (tracer_provider or trace.get_tracer_provider()).get_tracer("pagesmith.http")

    @web.middleware
    async def middleware(request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path in _UNTRACED_PATHS:
            return await handler(request)  # type: ignore[no-any-return]
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else request.path
        with tracer.start_as_current_span(
            f"{request.method} {route}",
            context=extract(dict(request.headers)),
            kind=trace.SpanKind.SERVER,
            attributes={"http.request.method": request.method, "url.path": request.path},
        ) as span:
            response: web.StreamResponse = await handler(request)
            span.set_attribute("http.response.status_code", response.status)
            if response.status >= 500:
                span.set_status(trace.StatusCode.ERROR)
            return response

    return middleware
