"""pagesmith-gateway: settings, telemetry and the HTTP server; wiring only."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys

import structlog
from aiohttp import web
from pagesmith_runtime import (
    REFUSED_EXIT_DELAY_SECONDS,
    Telemetry,
    load_settings,
    setup_logging,
    setup_telemetry,
)

from .app import create_app
from .broker import BROKER
from .settings import GatewaySettings

log = structlog.get_logger(__name__)


def main() -> None:
    settings = load_settings(GatewaySettings, "pagesmith-gateway")
    setup_logging("gateway", settings.log_level)
    telemetry = setup_telemetry("pagesmith-gateway")
    try:
        served = asyncio.run(serve(settings, telemetry))
    finally:
        telemetry.shutdown()
    if not served:
        sys.exit(1)


async def serve(settings: GatewaySettings, telemetry: Telemetry) -> bool:
    """Serve until SIGTERM or SIGINT; False when the broker refused us for good."""
    app = create_app(settings, tracer_provider=telemetry.tracer_provider)
    link = app[BROKER]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=5)
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.host, settings.port).start()
        log.info("gateway listening", port=settings.port)
        waits = {asyncio.create_task(stop.wait()), asyncio.create_task(link.gave_up.wait())}
        _, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        if link.refused is None:
            return True
        # /readyz keeps saying why for a moment before the port closes.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), REFUSED_EXIT_DELAY_SECONDS)
        return False
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    main()
