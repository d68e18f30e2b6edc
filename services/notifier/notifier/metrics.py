"""Notifier metrics: callback attempts, time to callback, final outcomes."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class NotifierMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.attempts = Counter(
            "pagesmith_callback_attempts_total",
            "Callback attempts, by outcome (ok, retry, rejected).",
            ["outcome"],
            registry=registry,
        )
        self.tasks = Counter(
            "pagesmith_tasks_total",
            "Tasks by round and final outcome.",
            ["round", "outcome"],
            registry=registry,
        )
        self.time_to_callback = Histogram(
            "pagesmith_time_to_callback_seconds",
            "From the caller's POST to its 200 on our callback.",
            buckets=(1, 5, 10, 20, 30, 60, 120, 240, 360, 480, 600, 900),
            registry=registry,
        )
