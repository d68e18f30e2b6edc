"""`pagesmith-generator`: settings, Deps and the consumer runner. Wiring only."""

from __future__ import annotations

import logging
from functools import partial

from pagesmith_runtime import GENERATOR, ConsumerService, load_settings, run_service

from .app import HANDLERS, make_deps
from .settings import GeneratorSettings


def main() -> None:
    # The SDK's HTTP client logs every request at INFO; our own log line per call is enough.
    logging.getLogger("httpx2").setLevel(logging.WARNING)
    settings = load_settings(GeneratorSettings, "pagesmith-generator")
    run_service(
        ConsumerService(
            stage="generator",
            queue=GENERATOR,
            handlers=HANDLERS,
            make_deps=partial(make_deps, settings),
            settings=settings,
            ops_port=settings.ops_port,
            prefetch=2,
        )
    )


if __name__ == "__main__":
    main()
