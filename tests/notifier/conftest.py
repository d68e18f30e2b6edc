"""Fakes for the notifier: a scripted CallbackPort, a clock that sleeps instantly, events."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from notifier.handlers.site_published import Deps
from notifier.metrics import NotifierMetrics
from notifier.ports import CallbackResult
from notifier.settings import NotifierSettings
from pagesmith_contracts import SitePublishedV1, TaskRef, make_task_ref
from prometheus_client import CollectorRegistry

SHA = "2321e82e9aef194d3050cfdb5f48bd383ba0a812"
START = datetime(2025, 10, 28, 9, 30, tzinfo=UTC)
_real_sleep = asyncio.sleep


@dataclass
class FakeClock:
    """Time moves only when someone sleeps (or an attempt takes time)."""

    now: datetime = START
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)
        await _real_sleep(0)


@dataclass
class Call:
    url: str
    payload: dict[str, Any]
    timeout: float


@dataclass
class FakeCallback:
    """Answers with `answers` in order (then 200) and records every call."""

    clock: FakeClock
    answers: list[CallbackResult | int | Exception | None] = field(default_factory=list)
    seconds_per_attempt: float = 0.0
    calls: list[Call] = field(default_factory=list)

    async def post(self, url: str, payload: dict[str, Any], *, timeout: float) -> CallbackResult:
        self.calls.append(Call(url, dict(payload), timeout))
        self.clock.advance(self.seconds_per_attempt)
        answer = self.answers.pop(0) if self.answers else 200
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, CallbackResult):
            return answer
        return CallbackResult(status=answer, detail="" if answer else "ConnectionError: refused")


def make_settings(**overrides: Any) -> NotifierSettings:
    return NotifierSettings.model_validate(overrides)


@dataclass
class Harness:
    clock: FakeClock
    callback: FakeCallback
    registry: CollectorRegistry
    deps: Deps

    def metric(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0


MakeHarness = Callable[..., Harness]


@pytest.fixture
def make_harness(monkeypatch: pytest.MonkeyPatch) -> MakeHarness:
    """make_harness(*answers, **settings): the handler's Deps around fakes.

    stamina waits through asyncio.sleep, so the fake clock's sleep stands in for it: waits are
    recorded and move the clock, and no test really sleeps.
    """

    def make(*answers: CallbackResult | int | Exception | None, **settings: Any) -> Harness:
        clock = FakeClock()
        monkeypatch.setattr(asyncio, "sleep", clock.sleep)
        callback = FakeCallback(clock, list(answers))
        registry = CollectorRegistry()
        deps = Deps(
            settings=make_settings(**settings),
            callback=callback,
            metrics=NotifierMetrics(registry),
            clock=clock,
        )
        return Harness(clock, callback, registry, deps)

    return make


def task_ref(*, round: int = 1, seconds_left: float = 600.0) -> TaskRef:
    """A task whose deadline is `seconds_left` after the fake clock's start."""
    return make_task_ref(
        email="22f3002460@ds.study.iitm.ac.in",
        task="ShareVolume",
        round=round,
        nonce="019a2530-e570-7496-8bf5-46d73aa1848c",
        evaluation_url="http://localhost:8787/evaluate",
        received_at=START - timedelta(seconds=600 - seconds_left),
    )


def site_published(task: TaskRef | None = None, *, degraded: bool = False) -> SitePublishedV1:
    task = task or task_ref()
    return SitePublishedV1(
        source="pagesmith/publisher",
        subject=task.task_id,
        task=task,
        repo_url="https://github.com/owner/ShareVolume",
        commit_sha=SHA,
        pages_url="https://owner.github.io/ShareVolume/",
        degraded=degraded,
    )


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Settings read the environment; a developer's shell must not change what tests see.
    for name in (
        "PAGESMITH_ALLOW_PRIVATE_EGRESS",
        "NOTIFIER_PORT",
        "NOTIFIER_ATTEMPT_TIMEOUT_SECONDS",
        "NOTIFIER_MAX_BACKOFF_SECONDS",
    ):
        monkeypatch.delenv(name, raising=False)
    yield
