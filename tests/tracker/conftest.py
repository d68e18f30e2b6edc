"""Fixtures for the tracker: a fresh database per test on the real PostgreSQL, real processes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from tests.support.postgres import create_database, drop_database

from .helpers import Publisher, Tracker


@pytest.fixture
def database_url() -> Iterator[str]:
    url = create_database()
    try:
        yield url
    finally:
        drop_database(url)


@pytest.fixture
async def publisher(amqp_url: str) -> AsyncIterator[Publisher]:
    async with Publisher(amqp_url) as p:
        yield p


@pytest.fixture
def trackers(
    amqp_url: str, database_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Tracker]]:
    """Start tracker processes on the test's vhost and database; all stopped at the end."""
    started: list[Tracker] = []

    def start(*, wait: bool = True, **env: str) -> Tracker:
        tracker = Tracker(amqp_url, database_url, tmp_path / "logs", env=env).start(wait=wait)
        started.append(tracker)
        return tracker

    yield start
    for t in started:
        t.stop()
    call = getattr(request.node, "rep_call", None)
    if call is None or call.failed:
        for t in started:
            print(f"===== tracker {t.port}\n{t.log()}")


@pytest.fixture
def tracker(trackers: Callable[..., Tracker]) -> Tracker:
    return trackers()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    setattr(item, f"rep_{outcome.get_result().when}", outcome.get_result())
