"""Metrics every consumer shares; each process owns its registry (style.md §10)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

STAGE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)


class RuntimeMetrics:
    """Messages handled by outcome and how long each stage took."""

    def __init__(self, registry: CollectorRegistry, service: str) -> None:
        self.service = service
        self.messages = Counter(
            "pagesmith_messages_total",
            "Messages handled, by event type and outcome.",
            ["service", "event_type", "outcome"],
            registry=registry,
        )
        self.stage_duration = Histogram(
            "pagesmith_stage_duration_seconds",
            "Time a stage spent on one message.",
            ["stage"],
            buckets=STAGE_BUCKETS,
            registry=registry,
        )
        self.tasks_failed = Counter(
            "pagesmith_tasks_failed_total",
            "Tasks that ended in task.failed, by stage.",
            ["stage"],
            registry=registry,
        )
        self.deadline_headroom = Histogram(
            "pagesmith_deadline_headroom_seconds",
            "Seconds left before the task's deadline when a stage finished.",
            ["stage"],
            buckets=(-60, 0, 30, 60, 120, 240, 360, 480, 540, 570, 600),
            registry=registry,
        )
