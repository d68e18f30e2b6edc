"""pagesmith-gateway: settings, telemetry and the HTTP server; wiring only."""

from __future__ import annotations

import structlog
from aiohttp import web
from pagesmith_runtime import load_settings, setup_logging, setup_telemetry

from .app import create_app
from .settings import GatewaySettings


def main() -> None:
    settings = load_settings(GatewaySettings, "pagesmith-gateway")
    setup_logging("gateway", settings.log_level)
    telemetry = setup_telemetry("pagesmith-gateway")
    app = create_app(settings, tracer_provider=telemetry.tracer_provider)
    structlog.get_logger(__name__).info("gateway listening", port=settings.port)
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


if __name__ == "__main__":
    main()
