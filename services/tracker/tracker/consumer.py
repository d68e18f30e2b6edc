"""Consuming every event from the tracker's own queue: record it, commit, then ack.

A thin variant of the runtime's Dispatcher: the tracker publishes nothing (a broken message
never becomes a task.failed), reads events leniently (facts.py) and writes in batches. A
database outage holds the deliveries unacked while the write is retried; nothing is acked
before it is committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import structlog
from aio_pika.abc import AbstractIncomingMessage
from aio_pika.exceptions import CONNECTION_EXCEPTIONS
from pagesmith_runtime import TRACKER, Readiness, connect, declare_topology
from pagesmith_runtime.topology import declare_work_queue

from .facts import Fact, Unreadable, read_fact
from .ledger import Recorded, record_many
from .metrics import TrackerMetrics

log = structlog.get_logger(__name__)
_REQUEUE_PAUSE_SECONDS = 1.0


_MAX_BATCH = 200


class Batcher:
    """Deliveries that arrive while a write is in flight are written together, in one commit."""

    def __init__(self, pool: Any) -> None:
        self._pool = pool
        self._queue: asyncio.Queue[tuple[Fact, asyncio.Future[Recorded]]] = asyncio.Queue()

    async def record(self, fact: Fact) -> Recorded:
        future: asyncio.Future[Recorded] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((fact, future))
        return await future

    async def run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < _MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            batch = [(f, fut) for f, fut in batch if not fut.done()]
            if batch:
                await self._write(batch)

    async def _write(self, batch: list[tuple[Fact, asyncio.Future[Recorded]]]) -> None:
        try:
            outcomes = await record_many(self._pool, [f for f, _ in batch])
        except Exception as exc:
            if len(batch) == 1:
                _settle_future(batch[0][1], exc=exc)
                return
            # Not an outage (that is retried inside): one event PostgreSQL refuses must not
            # hold back the others, so each is tried on its own.
            for item in batch:
                await self._write([item])
            return
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            _settle_future(future, outcome)


def _settle_future(
    future: asyncio.Future[Recorded],
    outcome: Recorded | None = None,
    *,
    exc: Exception | None = None,
) -> None:
    if future.done():  # its delivery was cancelled (shutdown); the broker redelivers it
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        assert outcome is not None
        future.set_result(outcome)


class Recorder:
    """Turns one delivery into a committed ledger entry, a dead letter, or a requeue."""

    def __init__(self, pool: Any, metrics: TrackerMetrics) -> None:
        self.batcher = Batcher(pool)
        self._metrics = metrics
        self.inflight: set[asyncio.Task[Any]] = set()

    async def on_message(self, message: AbstractIncomingMessage) -> None:
        task = asyncio.current_task()
        if task is not None:
            self.inflight.add(task)
        try:
            await self._handle(message)
        finally:
            if task is not None:
                self.inflight.discard(task)

    async def _handle(self, message: AbstractIncomingMessage) -> None:
        started = time.monotonic()
        try:
            fact = read_fact(message.body, dict(message.headers or {}))
        except Unreadable as exc:
            log.error("unreadable message sent to the DLQ", reason=str(exc), type=message.type)
            self._metrics.count(message.type or "", "unreadable")
            await _settle(message.reject(requeue=False))
            return
        structlog.contextvars.bind_contextvars(task_id=fact.task_id, event_type=fact.type)
        try:
            outcome = await self.batcher.record(fact)
        except asyncio.CancelledError:
            raise  # shutdown: the unacked delivery goes back to the queue
        except Exception:
            # Not an outage (those are retried inside record): a bug or a row PostgreSQL
            # refuses. Requeue; the queue's delivery limit sends it to the DLQ in the end.
            log.exception("could not record the event; requeueing")
            self._metrics.count(fact.type, "error")
            await asyncio.sleep(_REQUEUE_PAUSE_SECONDS)
            await _settle(message.reject(requeue=True))
            return
        await _settle(message.ack())
        self._metrics.count(fact.type, outcome)
        self._metrics.write_seconds.observe(time.monotonic() - started)
        log.debug("recorded", outcome=outcome)


async def _settle(step: Any) -> None:
    # A delivery whose channel died is redelivered anyway; a duplicate is harmless.
    with contextlib.suppress(*CONNECTION_EXCEPTIONS, RuntimeError):
        await step


async def consume(
    amqp_url: str,
    recorder: Recorder,
    *,
    prefetch: int,
    ready: Readiness,
    stop: asyncio.Event,
    grace: float,
) -> None:
    """Consume until `stop` is set, then let in-flight writes finish within `grace` seconds."""
    connection = await connect(amqp_url, name="pagesmith-tracker", stop=stop)
    ready.connection = connection
    writer = asyncio.create_task(recorder.batcher.run())
    try:
        # Every service declares the whole topology, so events are kept even before we run.
        await declare_topology(await connection.channel(publisher_confirms=False))
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=prefetch)
        queue = await declare_work_queue(channel, TRACKER)
        tag = await queue.consume(recorder.on_message)
        ready.consuming = True
        log.info("consuming", queue=TRACKER.name, prefetch=prefetch)
        await stop.wait()
        ready.consuming = False
        with contextlib.suppress(*CONNECTION_EXCEPTIONS, asyncio.TimeoutError):
            await asyncio.wait_for(queue.cancel(tag), 5)
        pending = set(recorder.inflight)
        if pending:
            _, still = await asyncio.wait(pending, timeout=grace)
            for task in still:
                task.cancel()
            if still:
                await asyncio.wait(still, timeout=2)
    finally:
        ready.consuming = False
        writer.cancel()
        await asyncio.gather(writer, return_exceptions=True)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(connection.close(), timeout=5)
