"""Retention: finished tasks older than TRACKER_RETENTION_DAYS are deleted, timeline and all."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import structlog

from .db import is_transient
from .metrics import TrackerMetrics

log = structlog.get_logger(__name__)
_BATCH = 1000
# A task whose deadline passed long ago and never finished (its end was lost) is past help
# too, so it ages out by its deadline.
_DELETE = """
DELETE FROM tracker.tasks WHERE task_id IN (
    SELECT task_id FROM tracker.tasks
    WHERE coalesce(finished_at, deadline, updated_at) < now() - make_interval(days => $1)
    LIMIT $2
)
"""


async def delete_expired(pool: Any, days: int) -> int:
    """Delete in small batches so no transaction holds many locks; return how many went."""
    total = 0
    while True:
        async with pool.acquire() as conn:
            status = await conn.execute(_DELETE, days, _BATCH)
        deleted = int(status.rsplit(" ", 1)[-1])
        total += deleted
        if deleted < _BATCH:
            return total


async def run_retention(
    pool: Any, *, days: int, every: float, metrics: TrackerMetrics, stop: asyncio.Event
) -> None:
    while not stop.is_set():
        try:
            deleted = await delete_expired(pool, days)
        except Exception as exc:
            if not is_transient(exc):
                log.exception("retention failed")
            else:
                log.warning("retention skipped: database unreachable")
        else:
            metrics.deleted.inc(deleted)
            if deleted:
                log.info("retention deleted finished tasks", count=deleted, older_than_days=days)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
