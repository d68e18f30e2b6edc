"""A dropped broker connection: every service reconnects and resumes consuming by itself."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.support.broker import close_all_connections
from tests.support.procs import http_ok
from tests.support.stack import Stack, draft

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
INDEX = "<!doctype html><html><head><title>Hi</title></head><body><h1>Hi</h1></body></html>"


async def test_services_resume_after_connections_are_dropped(stack: Stack) -> None:
    vhost = stack.amqp_url.rsplit("/", 1)[1]
    close_all_connections(vhost)
    # Ready again once each robust connection and its consumer are back.
    deadline = time.monotonic() + 60
    urls = [
        f"http://127.0.0.1:{stack.ports[n]}/readyz"
        for n in ("gateway", "generator", "publisher", "notifier")
    ]
    while not all(http_ok(u) for u in urls):
        assert time.monotonic() < deadline, stack.logs()
        await asyncio.sleep(0.2)
    stack.script([draft({"index.html": INDEX})])
    assert stack.post_task(stack.task_body())[0] == 200
    (callback,) = await stack.receiver.wait_for(1, timeout=90)
    assert callback["round"] == 1
