"""A bug in the generator takes the runtime's crash path on the real broker, not a degrade."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aio_pika
import pytest
import structlog
from generator import rounds
from generator.app import HANDLERS
from pagesmith_contracts import SiteGeneratedV1, TaskFailedV1, TaskSubmittedV1
from pagesmith_runtime import (
    DELIVERY_LIMIT,
    GENERATOR,
    OUTCOMES,
    PUBLISHER,
    EventPublisher,
    declare_topology,
)

from tests.runtime.helpers import Broker, eventually, ready_count, run_dispatcher
from tests.support.queues import drain

from .conftest import ScriptedOpenAI, chat, counter, draft, submitted
from .test_model_failures import BODY, FILES

pytestmark = pytest.mark.integration


@pytest.fixture
async def broker(amqp_url: str) -> AsyncIterator[Broker]:
    connection = await aio_pika.connect_robust(amqp_url)
    channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
    topology = await declare_topology(channel)
    try:
        yield Broker(
            url=amqp_url,
            connection=connection,
            topology=topology,
            publish=EventPublisher(topology.exchange, app_id="pagesmith-test", timeout=10),
        )
    finally:
        await connection.close()


async def test_a_key_error_in_assemble_requeues_then_ends_in_task_failed(
    broker: Broker,
    openai_script: ScriptedOpenAI,
    make_deps: Any,
    registry: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(**_: Any) -> Any:
        raise KeyError("index.html")

    monkeypatch.setattr(rounds, "assemble", broken)
    openai_script.repeat_last = True
    openai_script.add(chat(draft(FILES)))
    event: TaskSubmittedV1 = submitted(BODY)

    with structlog.testing.capture_logs() as logs:
        running = await run_dispatcher(
            broker, GENERATOR, HANDLERS, stage="generator", deps=make_deps()
        )
        await broker.publish(event)
        await eventually(lambda: ready_count(broker, OUTCOMES.name), timeout=60)
        await eventually(lambda: ready_count(broker, GENERATOR.dlq))
        await running.stop()

    assert len(running.deliveries) == DELIVERY_LIMIT + 1  # redelivered, not acked as degraded
    [failed] = await drain(broker.url, OUTCOMES.name)
    assert isinstance(failed, TaskFailedV1)
    assert failed.stage == "generator" and failed.subject == event.subject
    assert "KeyError" in failed.reason
    # The publisher's queue holds the task.submitted copy it binds, and no site.generated.
    assert not any(isinstance(e, SiteGeneratedV1) for e in await drain(broker.url, PUBLISHER.name))
    assert counter(registry, "pagesmith_generations_total", round="1", outcome="degraded") == 0
    crashes = [e for e in logs if e["event"] == "handler crashed"]
    assert len(crashes) == len(running.deliveries)  # every delivery, with its traceback
    assert all(e.get("exc_info") is True for e in crashes)
