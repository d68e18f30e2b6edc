"""The generator's dependencies, built once in main() and handed to every handler."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from .budget import utcnow
from .metrics import GeneratorMetrics
from .ports import BrowserPort, FetchPort, LlmPort
from .secrets import SecretScanner
from .settings import GeneratorSettings


@dataclass(frozen=True, slots=True)
class Deps:
    settings: GeneratorSettings
    llm: LlmPort
    metrics: GeneratorMetrics
    scanner: SecretScanner
    fetcher: FetchPort | None = None
    browser: BrowserPort | None = None
    clock: Callable[[], datetime] = field(default=utcnow)
