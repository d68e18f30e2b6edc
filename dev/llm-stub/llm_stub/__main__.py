"""pagesmith-llm-stub: read the settings, log the base URL, serve."""

from __future__ import annotations

import logging

from aiohttp import web

from .app import create_app
from .settings import StubSettings


def main() -> None:
    settings = StubSettings()  # read from the environment
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    app = create_app(settings)
    logging.getLogger("llm_stub").info("llm-stub: serving %s", settings.base_url)
    web.run_app(app, host=settings.host, port=settings.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
