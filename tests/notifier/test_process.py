"""`pagesmith-notifier` as a real process: private egress on, metadata still never reached."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import aio_pika
import pytest
from pagesmith_contracts import TaskFailedV1, TaskNotifiedV1, make_task_ref
from pagesmith_runtime import EventPublisher
from pagesmith_runtime.topology import EXCHANGE, OUTCOMES

from tests.support.procs import Proc, command, free_port, http_ok
from tests.support.queues import drain
from tests.support.receiver import CallbackReceiver

from .conftest import site_published

pytestmark = pytest.mark.e2e


@pytest.fixture
def notifier(amqp_url: str, tmp_path: Path) -> Iterator[Proc]:
    port = free_port()
    proc = Proc(
        "notifier",
        [command("pagesmith-notifier")],
        {
            "AMQP_URL": amqp_url,
            "NOTIFIER_PORT": str(port),
            "PAGESMITH_OPS_HOST": "127.0.0.1",
            "PAGESMITH_ALLOW_PRIVATE_EGRESS": "1",  # as `make run` sets it
        },
        tmp_path / "notifier.log",
        ready_url=f"http://127.0.0.1:{port}/readyz",
    )
    try:
        yield proc.start().wait_ready(60)
    finally:
        proc.stop()


async def publish_site(amqp_url: str, evaluation_url: str) -> str:
    task = make_task_ref(
        email="student@example.com",
        task="ShareVolume",
        round=1,
        nonce=f"nonce-{time.monotonic_ns()}",
        evaluation_url=evaluation_url,
        received_at=datetime.now(UTC),
    )
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        exchange = await channel.get_exchange(EXCHANGE)
        await EventPublisher(exchange, app_id="test")(site_published(task))
    finally:
        await connection.close()
    return task.task_id


async def outcome(amqp_url: str, timeout: float = 30) -> TaskFailedV1 | TaskNotifiedV1:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for event in await drain(amqp_url, OUTCOMES.name):
            if isinstance(event, TaskFailedV1 | TaskNotifiedV1):
                return event
        await asyncio.sleep(0.2)
    raise AssertionError("no outcome in time")


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/",
        "http://0xa9fea9fe/evaluate",  # a name to aiohttp; the system resolver says link-local
    ],
)
async def test_a_metadata_callback_fails_the_task_with_private_egress_on(
    notifier: Proc, amqp_url: str, url: str
) -> None:
    task_id = await publish_site(amqp_url, url)
    event = await outcome(amqp_url)
    assert isinstance(event, TaskFailedV1), notifier.log()
    assert event.subject == task_id and event.stage == "notifier"
    assert "refused" in event.reason


async def test_a_loopback_callback_is_delivered_with_private_egress_on(
    notifier: Proc, amqp_url: str
) -> None:
    receiver = await CallbackReceiver().start(free_port())
    try:
        await publish_site(amqp_url, receiver.url)
        event = await outcome(amqp_url)
        assert isinstance(event, TaskNotifiedV1), notifier.log()
        assert len(receiver.received) == 1
    finally:
        await receiver.stop()


def test_ops_endpoints_listen_where_pagesmith_ops_host_says(amqp_url: str, tmp_path: Path) -> None:
    port = free_port()
    proc = Proc(
        "notifier",
        [command("pagesmith-notifier")],
        {"AMQP_URL": amqp_url, "NOTIFIER_PORT": str(port), "PAGESMITH_OPS_HOST": "127.0.0.2"},
        tmp_path / "notifier-ops.log",
        ready_url=f"http://127.0.0.2:{port}/readyz",
    )
    try:
        proc.start().wait_ready(60)
        assert not http_ok(f"http://127.0.0.1:{port}/healthz")
    finally:
        proc.stop()
