"""`pagesmith-generator` as a real process on the real broker, with the llm stub as a process."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from pathlib import Path

import aio_pika
import pytest
from pagesmith_contracts import SiteGeneratedV1
from pagesmith_runtime import EventPublisher
from pagesmith_runtime.topology import EXCHANGE, PUBLISHER

from tests.support.procs import Proc, command, free_port, http_ok
from tests.support.queues import drain
from tests.support.stack import draft, http_json

from .conftest import load_request, submitted

pytestmark = pytest.mark.e2e


@pytest.fixture
def processes(amqp_url: str, tmp_path: Path) -> Iterator[tuple[Proc, Proc]]:
    stub_port, ops_port = free_port(), free_port()
    stub = Proc(
        "llm-stub",
        [command("pagesmith-llm-stub")],
        {"LLM_STUB_PORT": str(stub_port), "LLM_STUB_HOST": "127.0.0.1"},
        tmp_path / "stub.log",
        ready_url=f"http://127.0.0.1:{stub_port}/_stub/healthz",
    )
    generator = Proc(
        "generator",
        [command("pagesmith-generator")],
        {
            "AMQP_URL": amqp_url,
            "OPENAI_API_KEY": "sk-e2e-0000000000000000000000",
            "OPENAI_BASE_URL": f"http://127.0.0.1:{stub_port}/v1",
            "GENERATOR_PORT": str(ops_port),
            "GENERATOR_SELFCHECK": "false",
            # What `make run` exported: the notifier's switch must not open the generator.
            "PAGESMITH_ALLOW_PRIVATE_EGRESS": "1",
            "PAGESMITH_OPS_HOST": "127.0.0.1",
        },
        tmp_path / "generator.log",
        ready_url=f"http://127.0.0.1:{ops_port}/readyz",
    )
    try:
        stub.start().wait_ready()
        generator.start().wait_ready(60)
        yield stub, generator
    finally:
        generator.stop()
        stub.stop()


async def test_task_submitted_becomes_site_generated(
    processes: tuple[Proc, Proc], amqp_url: str
) -> None:
    _, generator = processes
    event = submitted(load_request("LLMPages"))
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        exchange = await channel.get_exchange(EXCHANGE)
        await EventPublisher(exchange, app_id="test")(event)
    finally:
        await connection.close()

    found: list[SiteGeneratedV1] = []
    for _ in range(60):
        found += [
            e for e in await drain(amqp_url, PUBLISHER.name) if isinstance(e, SiteGeneratedV1)
        ]
        if found:
            break
        await asyncio.sleep(0.5)
    assert found, generator.log()
    site = found[0]
    assert site.subject == event.task.task_id and not site.degraded
    files = {f.path: f.content for f in site.files}
    assert files["uid.txt"] == event.attachments[0].data
    assert b"is hereby granted" in files["LICENSE"] and "index.html" in files

    generator.signal(signal.SIGTERM)
    assert generator.stop(timeout=12) == 0


async def test_a_model_tool_call_cannot_fetch_the_generators_own_metrics(
    processes: tuple[Proc, Proc], amqp_url: str
) -> None:
    stub, generator = processes
    stub_url = (stub.ready_url or "").removesuffix("/_stub/healthz")
    metrics = (generator.ready_url or "").replace("/readyz", "/metrics")
    assert http_ok(metrics)  # it is there to be fetched, from here
    http_json(
        "POST",
        f"{stub_url}/_stub/scripts",
        {
            "responses": [
                {"tool_calls": [
                    {"name": "fetch_url", "arguments": {"url": metrics, "save_as": "m.txt"}}
                ]},
                draft({"index.html": "<title>x</title>", "README.md": "# x\n"}),
            ],
        },
    )  # fmt: skip
    event = submitted(load_request("LLMPages"))
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        exchange = await channel.get_exchange(EXCHANGE)
        await EventPublisher(exchange, app_id="test")(event)
    finally:
        await connection.close()

    found: list[SiteGeneratedV1] = []
    for _ in range(60):
        found += [
            e for e in await drain(amqp_url, PUBLISHER.name) if isinstance(e, SiteGeneratedV1)
        ]
        if found:
            break
        await asyncio.sleep(0.5)
    assert found, generator.log()
    files = {f.path: f.content for f in found[0].files}
    assert "m.txt" not in files
    assert not any(b"pagesmith_" in content for content in files.values())
    requests = http_json("GET", f"{stub_url}/_stub/requests")["requests"]
    tool_replies = [
        m["content"] for r in requests[1:] for m in r["body"]["messages"] if m["role"] == "tool"
    ]
    assert tool_replies and all("refused 127.0.0.1" in t for t in tool_replies), tool_replies
    assert not any("pagesmith_" in t for t in tool_replies)
