"""The generator's handlers by event type, and how its Deps are built and closed."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import structlog
from pagesmith_contracts import RepoCheckedOutV1, TaskSubmittedV1, event_type
from pagesmith_runtime import Handler, Runtime
from pagesmith_runtime.egress import EgressPolicy

from .adapters.browser import ChromiumBrowser
from .adapters.egress_proxy import EgressProxy
from .adapters.fetch import HttpFetcher
from .adapters.llm import create_llm
from .deps import Deps
from .handlers.repo_checked_out import handle_repo_checked_out
from .handlers.task_submitted import handle_task_submitted
from .metrics import GeneratorMetrics
from .secrets import SecretScanner
from .settings import GeneratorSettings

log = structlog.get_logger(__name__)

HANDLERS: Mapping[str, Handler[Deps]] = {
    event_type(TaskSubmittedV1): handle_task_submitted,
    event_type(RepoCheckedOutV1): handle_repo_checked_out,
}


def own_secrets(settings: GeneratorSettings) -> list[str]:
    """Values that must never appear in a generated file: the key, the broker password."""
    from urllib.parse import urlsplit

    values = [settings.openai_api_key.get_secret_value()]
    password = urlsplit(settings.amqp_url.get_secret_value()).password
    if password:
        values.append(password)
    return values


@asynccontextmanager
async def make_deps(settings: GeneratorSettings, runtime: Runtime) -> AsyncIterator[Deps]:
    llm, client = create_llm(
        api_key=settings.openai_api_key.get_secret_value(),
        base_url=settings.openai_base_url,
        model=settings.model,
        call_timeout=settings.call_timeout_seconds,
        attempts=settings.llm_attempts,
        backoff_initial=settings.llm_backoff_initial_seconds,
        backoff_max=settings.llm_backoff_max_seconds,
        max_completion_tokens=settings.max_completion_tokens,
    )
    # What the model's tool and the page under check may reach: public addresses, plus
    # loopback/private only with GENERATOR_ALLOW_PRIVATE_FETCH (tests).
    policy = EgressPolicy(allow_private=settings.allow_private_fetch)
    session = HttpFetcher.create_session(policy)
    proxy = EgressProxy(policy)
    browser = ChromiumBrowser.if_available(settings.chromium_path, proxy=proxy)
    if browser is None:
        log.warning("no Chromium: the self-check will be skipped", path=settings.chromium_path)
    # What is alive now lives as long as the process: keep it out of every collection pass, so
    # a pass during a task (say, over a big spreadsheet's rows) stops the loop for milliseconds.
    gc.collect()
    gc.freeze()
    try:
        yield Deps(
            settings=settings,
            llm=llm,
            metrics=GeneratorMetrics(runtime.registry),
            scanner=SecretScanner(own_secrets(settings)),
            fetcher=HttpFetcher(
                session,
                policy=policy,
                max_bytes=settings.fetch_max_bytes,
                timeout=settings.fetch_timeout_seconds,
                user_agent=settings.fetch_user_agent,
            ),
            browser=browser,
        )
    finally:
        await proxy.close()
        await session.close()
        await client.close()
