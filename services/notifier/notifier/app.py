"""The notifier's handlers, by event type."""

from __future__ import annotations

from collections.abc import Mapping

from pagesmith_runtime import Handler

from .handlers.site_published import Deps, handle_site_published

HANDLERS: Mapping[str, Handler[Deps]] = {"site.published.v1": handle_site_published}
