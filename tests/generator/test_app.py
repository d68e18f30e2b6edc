"""Wiring: the handler map and the Deps that make_deps builds (and closes)."""

from __future__ import annotations

import os
from typing import Any

from generator.adapters.browser import ChromiumBrowser
from generator.adapters.fetch import HttpFetcher
from generator.adapters.llm import OpenAiLlm
from generator.app import HANDLERS, make_deps, own_secrets
from generator.brief import read_brief
from generator.handlers.repo_checked_out import handle_repo_checked_out
from generator.handlers.task_submitted import handle_task_submitted
from opentelemetry.sdk.trace import TracerProvider
from pagesmith_runtime import GENERATOR, Runtime, Telemetry
from prometheus_client import CollectorRegistry

from .conftest import make_settings


async def _publish(event: Any) -> None:
    raise AssertionError("handlers return events; they never publish")


def test_handlers_cover_the_generator_queue() -> None:
    assert set(HANDLERS) == set(GENERATOR.bindings)
    assert HANDLERS["task.submitted.v1"] is handle_task_submitted
    assert HANDLERS["repo.checked-out.v1"] is handle_repo_checked_out


async def test_make_deps_builds_real_adapters() -> None:
    settings = make_settings(
        OPENAI_BASE_URL="http://127.0.0.1:9/v1", AMQP_URL="amqp://u:brokerpassword1@h/"
    )
    registry = CollectorRegistry()
    runtime = Runtime(publish=_publish, registry=registry, telemetry=Telemetry(TracerProvider()))
    async with make_deps(settings, runtime) as deps:
        assert isinstance(deps.llm, OpenAiLlm) and deps.llm.model == "gpt-4.1-mini"
        assert isinstance(deps.fetcher, HttpFetcher)
        # "None or a browser" passed whatever make_deps did; say which one this machine gets.
        if os.access(settings.chromium_path, os.X_OK):
            assert isinstance(deps.browser, ChromiumBrowser)
        else:
            assert deps.browser is None
        session = deps.fetcher._session
        assert not session.closed
        deps.metrics.generations.labels(round="1", outcome="ok").inc()
    assert session.closed
    assert (
        registry.get_sample_value("pagesmith_generations_total", {"round": "1", "outcome": "ok"})
        == 1
    )
    assert own_secrets(settings)[1] == "brokerpassword1"


async def test_make_deps_without_chromium_skips_the_browser() -> None:
    settings = make_settings(OPENAI_BASE_URL="http://127.0.0.1:9/v1", chromium_path="/nonexistent")
    runtime = Runtime(
        publish=_publish, registry=CollectorRegistry(), telemetry=Telemetry(TracerProvider())
    )
    async with make_deps(settings, runtime) as deps:
        assert deps.browser is None


def test_library_names_are_not_required_files() -> None:
    facts = read_brief("Load highlight.js and Chart.js from a CDN; put the app in app.js.")
    assert facts.named_files == ("app.js",)
