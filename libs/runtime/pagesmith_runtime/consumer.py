"""The consumer runner: decode, dispatch to a handler, publish its output (confirmed), then ack.

Delivery is at least once. Handlers are idempotent on the task id, so a redelivery after a
crash between "published" and "acked" does no harm.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar

import structlog
from aio_pika.abc import AbstractIncomingMessage
from opentelemetry import trace
from pagesmith_contracts import Event, Stage, TaskFailedV1, decode_event
from pydantic import ValidationError

from .broker import Publish
from .errors import PermanentError, TransientError
from .metrics import RuntimeMetrics
from .topology import DELIVERY_LIMIT

D = TypeVar("D")
Handler = Callable[[Any, D], Awaitable[Sequence[Event]]]
"""`async def handle_x(event: XV1, deps: Deps) -> Sequence[Event]`: what to publish next."""

log = structlog.get_logger(__name__)
# Requeueing at once after a transient failure would spin; the adapter already backed off.
REQUEUE_PAUSE_SECONDS = 1.0


class Dispatcher(Generic[D]):
    """Turns one delivery into handler output, a task.failed, or a requeue."""

    def __init__(
        self,
        *,
        stage: Stage,
        handlers: Mapping[str, Handler[D]],
        deps: D,
        publish: Publish,
        metrics: RuntimeMetrics,
    ) -> None:
        self._stage: Stage = stage
        self._handlers = handlers
        self._deps = deps
        self._publish = publish
        self._metrics = metrics
        self.inflight: set[asyncio.Task[Any]] = set()

    async def on_message(self, message: AbstractIncomingMessage) -> None:
        task = asyncio.current_task()
        if task is not None:
            self.inflight.add(task)
        try:
            # Anything unexpected requeues the message; x-delivery-limit bounds the retries.
            async with message.process(requeue=True, ignore_processed=True):
                await self._handle(message)
        finally:
            if task is not None:
                self.inflight.discard(task)

    async def _handle(self, message: AbstractIncomingMessage) -> None:
        structlog.contextvars.unbind_contextvars("task_id", "event_type")
        try:
            event = decode_event(message.body)
        except ValidationError as exc:
            await self._poison(message, exc)
            return
        event_type = str(event.type)
        structlog.contextvars.bind_contextvars(task_id=event.subject, event_type=event_type)
        span = trace.get_current_span()
        span.set_attribute("pagesmith.task_id", event.subject)
        span.set_attribute("pagesmith.stage", self._stage)
        handler = self._handlers.get(event_type)
        if handler is None:
            log.warning("no handler for event type; acking", event_type=event_type)
            self._count(event_type, "ignored")
            return
        started = time.monotonic()
        try:
            outputs = await handler(event, self._deps)
        except TransientError as exc:
            await self._retry_later(message, event, exc)
            return
        except PermanentError as exc:
            await self._fail(message, event, str(exc))
            return
        except Exception as exc:
            # A bug: every crashed delivery is logged with its traceback, then requeued.
            last = self._last_delivery(message)
            log.exception("handler crashed", last_delivery=last)
            if last:
                await self._fail(message, event, f"internal error: {exc!r}")
                return
            self._count(event_type, "crashed")
            await message.reject(requeue=True)
            return
        try:
            for output in outputs:
                await self._publish(output)
        except TransientError as exc:
            # Unconfirmed output is a failure like any other, never a silent dead letter.
            await self._retry_later(message, event, exc)
            return
        elapsed = time.monotonic() - started
        self._metrics.stage_duration.labels(stage=self._stage).observe(elapsed)
        task_ref = getattr(event, "task", None)
        if task_ref is not None:
            self._metrics.deadline_headroom.labels(stage=self._stage).observe(
                task_ref.seconds_left()
            )
        self._count(event_type, "ok")
        log.info("handled", seconds=round(elapsed, 3), published=[o.type for o in outputs])

    async def _retry_later(
        self, message: AbstractIncomingMessage, event: Event, exc: TransientError
    ) -> None:
        """Requeue after a pause; on the last delivery, give up with task.failed."""
        if self._last_delivery(message):
            await self._fail(message, event, f"gave up after retries: {exc}")
            return
        log.warning("transient failure; requeueing", error=str(exc))
        self._count(str(event.type), "transient")
        await asyncio.sleep(min(exc.retry_after or REQUEUE_PAUSE_SECONDS, 10.0))
        await message.reject(requeue=True)

    async def _fail(self, message: AbstractIncomingMessage, event: Event, reason: str) -> None:
        """Permanent failure: say so downstream, then dead-letter the input."""
        log.error("task failed", reason=reason)
        await self._publish(
            TaskFailedV1(
                source=f"pagesmith/{self._stage}",
                subject=event.subject,
                task=getattr(event, "task", None),
                stage=self._stage,
                reason=reason[:2000],
            )
        )
        self._metrics.tasks_failed.labels(stage=self._stage).inc()
        self._count(str(event.type), "permanent")
        await message.reject(requeue=False)

    async def _poison(self, message: AbstractIncomingMessage, exc: ValidationError) -> None:
        """An undecodable message can never succeed: straight to the DLQ, counted and logged."""
        log.error(
            "undecodable message sent to the DLQ",
            message_type=message.type,
            correlation_id=message.correlation_id,
            errors=exc.error_count(),
        )
        if message.correlation_id:
            await self._publish(
                TaskFailedV1(
                    source=f"pagesmith/{self._stage}",
                    subject=message.correlation_id,
                    task=None,
                    stage=self._stage,
                    reason=f"undecodable {message.type or 'message'}: {exc.error_count()} errors",
                )
            )
        self._count(message.type or "unknown", "poison")
        await message.reject(requeue=False)

    def _last_delivery(self, message: AbstractIncomingMessage) -> bool:
        count = (message.headers or {}).get("x-delivery-count", 0)
        return isinstance(count, int) and count >= DELIVERY_LIMIT

    def _count(self, event_type: str, outcome: str) -> None:
        self._metrics.messages.labels(
            service=self._metrics.service, event_type=event_type, outcome=outcome
        ).inc()
