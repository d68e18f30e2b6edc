"""The generator's handlers by event type, and how its Deps are built and closed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import structlog
from pagesmith_contracts import RepoCheckedOutV1, TaskSubmittedV1, event_type
from pagesmith_runtime import Handler, Runtime

from .adapters.browser import ChromiumBrowser
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
        max_completion_tokens=settings.max_completion_tokens,
    )
    session = HttpFetcher.create_session(settings.allow_private_egress)
    browser = ChromiumBrowser.if_available(
        settings.chromium_path, allow_private=settings.allow_private_egress
    )
    if browser is None:
        log.warning("no Chromium: the self-check will be skipped", path=settings.chromium_path)
    try:
        yield Deps(
            settings=settings,
            llm=llm,
            metrics=GeneratorMetrics(runtime.registry),
            scanner=SecretScanner(own_secrets(settings)),
            fetcher=HttpFetcher(
                session,
                allow_private=settings.allow_private_egress,
                max_bytes=settings.fetch_max_bytes,
                timeout=settings.fetch_timeout_seconds,
                user_agent=settings.fetch_user_agent,
            ),
            browser=browser,
        )
    finally:
        await session.close()
        await client.close()
