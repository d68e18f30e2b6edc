"""Helpers for the runtime's broker tests: running a Dispatcher, reading queues, waiting."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractRobustConnection
from pagesmith_contracts import (
    SiteFile,
    SiteGeneratedV1,
    SitePublishedV1,
    Stage,
    TaskNotifiedV1,
    TaskRef,
    make_task_ref,
)
from pagesmith_runtime import (
    Dispatcher,
    EventPublisher,
    Handler,
    QueueSpec,
    RuntimeMetrics,
    Topology,
)
from prometheus_client import CollectorRegistry

SHA = "2321e82e9aef194d3050cfdb5f48bd383ba0a812"


@dataclass
class Broker:
    url: str
    connection: AbstractRobustConnection
    topology: Topology
    publish: EventPublisher

    @property
    def vhost(self) -> str:
        return self.url.rsplit("/", 1)[1]


@dataclass
class Running:
    """A Dispatcher consuming one queue on its own channel."""

    dispatcher: Dispatcher[Any]
    channel: AbstractChannel
    metrics: RuntimeMetrics
    registry: CollectorRegistry
    deliveries: list[AbstractIncomingMessage] = field(default_factory=list)

    async def stop(self) -> None:
        # Closing the channel hands any unacked delivery back to the queue.
        await self.channel.close()


async def run_dispatcher(
    broker: Broker,
    spec: QueueSpec,
    handlers: Mapping[str, Handler[Any]],
    *,
    stage: Stage = "notifier",
    deps: Any = None,
    publish: Any = None,
    prefetch: int = 1,
) -> Running:
    registry = CollectorRegistry()
    metrics = RuntimeMetrics(registry, stage)
    dispatcher: Dispatcher[Any] = Dispatcher(
        stage=stage,
        handlers=handlers,
        deps=deps,
        publish=publish or broker.publish,
        metrics=metrics,
    )
    channel = await broker.connection.channel()
    await channel.set_qos(prefetch_count=prefetch)
    queue = await channel.get_queue(spec.name, ensure=False)
    running = Running(dispatcher=dispatcher, channel=channel, metrics=metrics, registry=registry)

    async def on_message(message: AbstractIncomingMessage) -> None:
        running.deliveries.append(message)
        await dispatcher.on_message(message)

    await queue.consume(on_message)
    return running


async def eventually(
    check: Callable[[], Any], *, timeout: float = 15.0, interval: float = 0.05
) -> Any:
    """Wait until `check()` (sync or async) returns something truthy; return it."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last: {result!r})")
        await asyncio.sleep(interval)


async def ready_count(broker: Broker, queue: str) -> int:
    """Messages ready in `queue` (not those delivered and unacked)."""
    channel = await broker.connection.channel()
    try:
        declared = await channel.declare_queue(queue, passive=True)
        count = declared.declaration_result.message_count
        return int(count or 0)
    finally:
        await channel.close()


async def wait_count(broker: Broker, queue: str, count: int, *, timeout: float = 15.0) -> None:
    """Wait until exactly `count` messages are ready in `queue`."""

    async def reached() -> bool:
        return await ready_count(broker, queue) == count

    await eventually(reached, timeout=timeout)


@dataclass(frozen=True)
class Taken:
    body: bytes
    headers: dict[str, Any]
    correlation_id: str | None
    type: str | None


async def take_all(url: str, queue: str) -> list[Taken]:
    """Take (and ack) every message now in `queue`, raw, headers included."""
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel()
        q = await channel.get_queue(queue, ensure=True)
        taken: list[Taken] = []
        while (message := await q.get(fail=False, timeout=5)) is not None:
            taken.append(
                Taken(
                    body=message.body,
                    headers=dict(message.headers or {}),
                    correlation_id=message.correlation_id,
                    type=message.type,
                )
            )
            await message.ack()
        return taken
    finally:
        await connection.close()


def task_ref(nonce: str = "019a2530-e570-7496-8bf5-46d73aa1848c") -> TaskRef:
    return make_task_ref(
        email="student@example.com",
        task="ShareVolume",
        round=1,
        nonce=nonce,
        evaluation_url="http://localhost:8787/evaluate",
        received_at=datetime.now(UTC),
    )


def site_published(task: TaskRef | None = None) -> SitePublishedV1:
    task = task or task_ref()
    return SitePublishedV1(
        source="pagesmith/publisher",
        subject=task.task_id,
        task=task,
        repo_url="https://github.com/owner/ShareVolume",
        commit_sha=SHA,
        pages_url="https://owner.github.io/ShareVolume/",
    )


def site_generated(task: TaskRef | None = None) -> SiteGeneratedV1:
    task = task or task_ref()
    return SiteGeneratedV1(
        source="pagesmith/generator",
        subject=task.task_id,
        task=task,
        files=(SiteFile(path="index.html", content=b"<title>x</title>"),),
        commit_message="Round 1",
    )


def notified(event: SitePublishedV1, attempts: int = 1) -> TaskNotifiedV1:
    return TaskNotifiedV1(
        source="pagesmith/notifier",
        subject=event.subject,
        task=event.task,
        repo_url=event.repo_url,
        commit_sha=event.commit_sha,
        pages_url=event.pages_url,
        attempts=attempts,
    )


class TcpProxy:
    """A loopback TCP forwarder that can cut every connection: a broker outage on demand."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.down = False
        self.port = 0

    async def start(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.down:
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection(*self._target)
        self._writers |= {writer, up_writer}
        await asyncio.gather(
            self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()
            self._writers.discard(writer)

    def cut(self) -> None:
        """Drop every open connection and refuse new ones."""
        self.down = True
        for writer in list(self._writers):
            writer.transport.abort()

    def restore(self) -> None:
        self.down = False

    async def stop(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
