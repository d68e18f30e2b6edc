"""`pagesmith-publisher` as a real process on RabbitMQ, against `pagesmith-forge` as a process."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from pathlib import Path

import aio_pika
import pytest
from pagesmith_contracts import (
    AnyEvent,
    Event,
    RepoCheckedOutV1,
    SitePublishedV1,
)
from pagesmith_runtime import EventPublisher, declare_topology

from tests.support.procs import Proc, command, free_port
from tests.support.queues import drain

from .conftest import generated, site_files, submitted, task_ref

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


@pytest.fixture
def forge_url(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    proc = Proc(
        name="forge",
        argv=[command("pagesmith-forge")],
        env={
            "FORGE_PORT": str(port),
            "FORGE_DATA_DIR": str(tmp_path / "forge-data"),
            "FORGE_PAGES_BUILD_SECONDS": "0.2",
        },
        log_path=tmp_path / "forge.log",
        ready_url=f"http://127.0.0.1:{port}/_forge/healthz",
    )
    proc.start().wait_ready()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.stop()


@pytest.fixture
def publisher(tmp_path: Path, forge_url: str, amqp_url: str) -> Iterator[Proc]:
    port = free_port()
    proc = Proc(
        name="publisher",
        argv=[command("pagesmith-publisher")],
        env={
            "AMQP_URL": amqp_url,
            "GITHUB_TOKEN": "forge-dev-token",
            "GITHUB_API_URL": f"{forge_url}/api/v3",
            "PUBLISHER_PORT": str(port),
            "PUBLISHER_PAGES_POLL_INITIAL_SECONDS": "0.1",
            "PUBLISHER_PAGES_POLL_MAX_SECONDS": "0.3",
        },
        log_path=tmp_path / "publisher.log",
        ready_url=f"http://127.0.0.1:{port}/readyz",
    )
    proc.start().wait_ready()
    try:
        yield proc
    finally:
        proc.stop()


async def publish(amqp_url: str, event: Event) -> None:
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        topology = await declare_topology(channel)
        await EventPublisher(topology.exchange, app_id="tests")(event)
    finally:
        await connection.close()


async def wait_for(amqp_url: str, queue: str, kind: type[Event], seconds: float = 30) -> AnyEvent:
    for _ in range(int(seconds * 4)):
        found = [e for e in await drain(amqp_url, queue) if isinstance(e, kind)]
        if found:
            return found[0]
        await asyncio.sleep(0.25)
    raise AssertionError(f"no {kind.__name__} in {queue}")


async def test_both_rounds_through_the_broker(
    publisher: Proc, amqp_url: str, forge_url: str
) -> None:
    ref = task_ref()
    await publish(amqp_url, generated(ref))
    published = await wait_for(amqp_url, "pagesmith.notifier", SitePublishedV1)
    assert isinstance(published, SitePublishedV1)
    assert published.pages_url == f"{forge_url}/pages/pagesmith-dev/ShareVolume/"
    assert published.repo_url == f"{forge_url}/pagesmith-dev/ShareVolume"

    ref2 = task_ref(round=2, nonce="n-2")
    await publish(amqp_url, submitted(ref2))
    checked = await wait_for(amqp_url, "pagesmith.generator", RepoCheckedOutV1)
    assert isinstance(checked, RepoCheckedOutV1)
    assert checked.head_sha == published.commit_sha
    assert {f.path: f.content for f in checked.files}["index.html"] == site_files()[0].content

    publisher.signal(signal.SIGTERM)
    assert publisher.stop() == 0
    assert "forge-dev-token" not in publisher.log()
