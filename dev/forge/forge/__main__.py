"""pagesmith-forge: run the local GitHub-compatible forge."""

from __future__ import annotations

import logging
import os

from aiohttp import web

from .app import create_app
from .settings import API_PREFIX, ForgeSettings

log = logging.getLogger("forge")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("dulwich").setLevel(logging.WARNING)  # it logs every clone at INFO
    settings = ForgeSettings.from_env(os.environ)
    app = create_app(settings)
    # Never log the token itself: only who it authenticates as.
    log.info(
        "forge API at %s%s (token user %s, data in %s)",
        settings.public_url,
        API_PREFIX,
        settings.user,
        settings.data_dir,
    )
    web.run_app(app, host=settings.host, port=settings.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
