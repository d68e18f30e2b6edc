"""Gateway metrics, on the app's own registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class GatewayMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.responses = Counter(
            "pagesmith_gateway_responses_total",
            "Answers to POST /api/tasks, by status code.",
            ["status"],
            registry=registry,
        )
        self.tasks = Counter(
            "pagesmith_tasks_total",
            "Tasks by round and outcome.",
            ["round", "outcome"],
            registry=registry,
        )
        self.ack_latency = Histogram(
            "pagesmith_gateway_ack_seconds",
            "Time from request to the confirmed 200.",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=registry,
        )
