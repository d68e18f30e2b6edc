"""pagesmith-notifier: settings → Deps → consumer runner; wiring only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from pagesmith_runtime import NOTIFIER, ConsumerService, Runtime, load_settings, run_service
from pagesmith_runtime.egress import EgressPolicy

from .adapters.callback import HttpCallback, new_session
from .app import HANDLERS
from .handlers.site_published import Deps
from .metrics import NotifierMetrics
from .settings import NotifierSettings


def main() -> None:
    settings = load_settings(NotifierSettings, "pagesmith-notifier")

    @asynccontextmanager
    async def make_deps(runtime: Runtime) -> AsyncIterator[Deps]:
        # PAGESMITH_ALLOW_PRIVATE_EGRESS opens loopback/private, never link-local or metadata.
        policy = EgressPolicy(allow_private=settings.allow_private_egress)
        async with new_session(policy) as session:
            yield Deps(
                settings=settings,
                callback=HttpCallback(session, policy=policy),
                metrics=NotifierMetrics(runtime.registry),
            )

    run_service(
        ConsumerService(
            stage="notifier",
            queue=NOTIFIER,
            handlers=HANDLERS,
            make_deps=make_deps,
            settings=settings,
            ops_port=settings.ops_port,
            # Callbacks mostly wait on the network; many can be in flight at once.
            prefetch=32,
        )
    )


if __name__ == "__main__":
    main()
