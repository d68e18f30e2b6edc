"""The publisher's metrics, registered on the Runtime's registry (style.md rule 10)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

WAIT_BUCKETS = (1, 2.5, 5, 10, 20, 30, 45, 60, 90, 120, 180, 240, 300, 420, 600)


class PublisherMetrics:
    """GitHub calls by status class, repositories, commits and the Pages wait."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.github_requests = Counter(
            "pagesmith_github_requests_total",
            "GitHub REST requests, by method and status class (2xx, 4xx, 5xx, error).",
            ["method", "status_class"],
            registry=registry,
        )
        self.github_retries = Counter(
            "pagesmith_github_retries_total",
            "GitHub requests retried inside the adapter, by reason.",
            ["reason"],
            registry=registry,
        )
        self.repos_created = Counter(
            "pagesmith_repos_created_total",
            "Repositories created (round 1).",
            registry=registry,
        )
        self.repos_reused = Counter(
            "pagesmith_repos_reused_total",
            "Round-1 repositories found again for the same request (redelivery or re-send).",
            registry=registry,
        )
        self.commits = Counter(
            "pagesmith_commits_total",
            "Site commits, by round and outcome (created, reused).",
            ["round", "outcome"],
            registry=registry,
        )
        self.pages_wait = Histogram(
            "pagesmith_pages_wait_seconds",
            "Time spent waiting for Pages to serve the commit, by outcome.",
            ["outcome"],
            buckets=WAIT_BUCKETS,
            registry=registry,
        )
        self.pages_late = Counter(
            "pagesmith_pages_late_total",
            "Sites published before Pages confirmed the commit, because the budget ran out.",
            registry=registry,
        )
        self.published = Counter(
            "pagesmith_sites_published_total",
            "site.published events emitted, by round and degraded flag.",
            ["round", "degraded"],
            registry=registry,
        )
        self.checkout_skipped = Counter(
            "pagesmith_checkout_skipped_files_total",
            "Files left out of a round-2 checkout (too large, symlinks, submodules).",
            ["reason"],
            registry=registry,
        )
