"""Typed failures: adapters translate library exceptions into these and nothing else."""

from __future__ import annotations


class TransientError(Exception):
    """Worth retrying: 5xx, rate limits, timeouts, connection errors."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(Exception):
    """Retrying cannot help: bad input, refused credentials, a 4xx that will not change."""
