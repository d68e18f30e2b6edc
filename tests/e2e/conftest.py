"""The full stack as real processes on a fresh vhost, with a loopback caller."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.procs import free_port
from tests.support.receiver import CallbackReceiver
from tests.support.stack import Stack


@pytest.fixture
async def receiver() -> AsyncIterator[CallbackReceiver]:
    r = await CallbackReceiver().start(free_port())
    yield r
    await r.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
async def stack(
    amqp_url: str, tmp_path: Path, receiver: CallbackReceiver, request: pytest.FixtureRequest
) -> AsyncIterator[Stack]:
    marker = request.node.get_closest_marker("pages_build_seconds")
    s = Stack(amqp_url=amqp_url, tmp=tmp_path, receiver=receiver)
    if marker is not None:
        s.pages_build_seconds = float(marker.args[0])
    env = request.node.get_closest_marker("generator_env")
    if env is not None:
        s.extra_env["generator"] = {k: str(v) for k, v in env.kwargs.items()}
    try:
        s.start()
        yield s
    finally:
        s.stop()
        call = getattr(request.node, "rep_call", None)
        if call is None or call.failed:
            print(s.logs())
