"""Tracker metrics, on the app's own registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Event types are untrusted label values; anything else is counted as "other".
KNOWN_TYPES = frozenset(
    {
        "task.submitted.v1",
        "repo.checked-out.v1",
        "site.generated.v1",
        "site.published.v1",
        "task.notified.v1",
        "task.failed.v1",
    }
)


class TrackerMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.events = Counter(
            "pagesmith_tracker_events_total",
            "Events consumed, by type and outcome (recorded, duplicate, unreadable, error).",
            ["event_type", "outcome"],
            registry=registry,
        )
        self.write_seconds = Histogram(
            "pagesmith_tracker_write_seconds",
            "From delivery to committed row, database outages included.",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 30, 120),
            registry=registry,
        )
        self.streams = Gauge(
            "pagesmith_tracker_streams", "Open live-update streams.", registry=registry
        )
        self.deleted = Counter(
            "pagesmith_tracker_retention_deleted_total",
            "Finished tasks deleted for being older than the retention period.",
            registry=registry,
        )

    def count(self, event_type: str, outcome: str) -> None:
        label = event_type if event_type in KNOWN_TYPES else "other"
        self.events.labels(event_type=label, outcome=outcome).inc()
