"""`pagesmith-publisher`: settings → Deps → the consumer runner. Wiring only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

import aiohttp
from opentelemetry.instrumentation.aiohttp_client import create_trace_config
from pagesmith_runtime import PUBLISHER, ConsumerService, Runtime, load_settings, run_service

from .adapters.github import GitHubAdapter
from .adapters.site import SiteHttpProbe
from .app import HANDLERS
from .metrics import PublisherMetrics
from .ports import Deps
from .settings import PublisherSettings


@asynccontextmanager
async def make_deps(settings: PublisherSettings, runtime: Runtime) -> AsyncIterator[Deps]:
    """Two HTTP sessions: GitHub's (the token rides per request) and a bare one for Pages."""
    metrics = PublisherMetrics(runtime.registry)
    tracer_provider = runtime.telemetry.tracer_provider

    def traced() -> list[aiohttp.TraceConfig]:
        # No headers are captured, and Authorization would be redacted if an operator asked.
        config = create_trace_config(
            tracer_provider=tracer_provider, sensitive_headers=["authorization"]
        )
        return [config]

    github_timeout = aiohttp.ClientTimeout(total=settings.github_timeout_seconds, connect=10)
    site_timeout = aiohttp.ClientTimeout(total=settings.site_timeout_seconds)
    async with (
        aiohttp.ClientSession(timeout=github_timeout, trace_configs=traced()) as github_session,
        aiohttp.ClientSession(timeout=site_timeout, trace_configs=traced()) as site_session,
    ):
        yield Deps(
            settings=settings,
            github=GitHubAdapter(github_session, settings, metrics),
            site=SiteHttpProbe(site_session, timeout=settings.site_timeout_seconds),
            metrics=metrics,
        )


def main() -> None:
    settings = load_settings(PublisherSettings, "pagesmith-publisher")
    run_service(
        ConsumerService(
            stage="publisher",
            queue=PUBLISHER,
            handlers=HANDLERS,
            make_deps=partial(make_deps, settings),
            settings=settings,
            ops_port=settings.ops_port,
            prefetch=8,
        )
    )


if __name__ == "__main__":
    main()
