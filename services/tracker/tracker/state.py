"""What the app's handlers share: settings, metrics and, once opened, the pool and the hub."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from pagesmith_runtime import Readiness

from .hub import Hub
from .metrics import TrackerMetrics
from .settings import TrackerSettings


@dataclass
class TrackerState:
    settings: TrackerSettings
    metrics: TrackerMetrics
    readiness: Readiness = field(default_factory=Readiness)
    pool: Any = None
    hub: Hub | None = None
    db_healthy: bool = False
    fatal: BaseException | None = None
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    def ready(self) -> bool:
        """/readyz: consuming from the broker and the database answering."""
        return self.readiness() and self.db_healthy and self.hub is not None


STATE = web.AppKey("tracker", TrackerState)
