"""pagesmith-tracker: settings, telemetry and the HTTP server (the consumer runs inside it)."""

from __future__ import annotations

import logging
import sys

import structlog
from aiohttp import web
from pagesmith_runtime import load_settings, setup_logging, setup_telemetry

from .app import create_app
from .settings import TrackerSettings
from .state import STATE


def main() -> None:
    settings = load_settings(TrackerSettings, "pagesmith-tracker")
    setup_logging("tracker", settings.log_level)
    # While PostgreSQL is away the pool logs a traceback per reconnect; our retries say it once.
    logging.getLogger("asyncpg.pool").setLevel(logging.CRITICAL)
    telemetry = setup_telemetry("pagesmith-tracker")
    app = create_app(settings, tracer_provider=telemetry.tracer_provider)
    structlog.get_logger(__name__).info("tracker listening", host=settings.host, port=settings.port)
    try:
        web.run_app(
            app,
            host=settings.host,
            port=settings.port,
            access_log=None,
            print=None,
            shutdown_timeout=5,
        )
    finally:
        telemetry.shutdown()
    if app[STATE].fatal is not None:
        sys.exit(f"pagesmith-tracker: {app[STATE].fatal}")


if __name__ == "__main__":
    main()
