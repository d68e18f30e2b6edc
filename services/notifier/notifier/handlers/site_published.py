"""site.published → POST the seven fields to evaluation_url, retrying until 200 or the deadline."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from pagesmith_contracts import Event, SitePublishedV1, TaskNotifiedV1
from pagesmith_runtime import PermanentError

from ..metrics import NotifierMetrics
from ..ports import CallbackPort
from ..settings import NotifierSettings

log = structlog.get_logger(__name__)


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Deps:
    settings: NotifierSettings
    callback: CallbackPort
    metrics: NotifierMetrics
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    clock: Callable[[], datetime] = _utcnow


def callback_payload(event: SitePublishedV1) -> dict[str, object]:
    """Exactly the seven fields of protocol.md §4; the request's values copied unchanged."""
    task = event.task
    return {
        "email": task.email,
        "task": task.task,
        "round": task.round,
        "nonce": task.nonce,
        "repo_url": event.repo_url,
        "commit_sha": event.commit_sha,
        "pages_url": event.pages_url,
    }


def _retryable(status: int | None) -> bool:
    return status is None or status == 429 or status >= 500


async def handle_site_published(event: SitePublishedV1, deps: Deps) -> Sequence[Event]:
    task = event.task
    payload = callback_payload(event)
    delay = 1.0
    attempt = 0
    while True:
        attempt += 1
        left = task.seconds_left(deps.clock())
        timeout = max(1.0, min(deps.settings.attempt_timeout_seconds, left))
        result = await deps.callback.post(task.evaluation_url, payload, timeout=timeout)
        if result.status is not None and 200 <= result.status < 300:
            deps.metrics.attempts.labels(outcome="ok").inc()
            break
        if not _retryable(result.status):
            deps.metrics.attempts.labels(outcome="rejected").inc()
            deps.metrics.tasks.labels(round=str(task.round), outcome="rejected").inc()
            # The caller answers 400 when a field does not match: the same payload keeps failing.
            raise PermanentError(f"caller answered {result.status}: {result.detail}")
        deps.metrics.attempts.labels(outcome="retry").inc()
        left = task.seconds_left(deps.clock())
        if left <= delay:
            deps.metrics.tasks.labels(round=str(task.round), outcome="late").inc()
            raise PermanentError(
                f"no 200 from the caller before the deadline after {attempt} attempts "
                f"(last: {result.status or result.detail})"
            )
        log.warning(
            "callback not accepted; retrying",
            attempt=attempt,
            status=result.status,
            detail=result.detail[:200],
            retry_in=delay,
        )
        await deps.sleep(delay)
        delay = min(delay * 2, deps.settings.max_backoff_seconds)

    elapsed = (deps.clock() - task.received_at).total_seconds()
    deps.metrics.time_to_callback.observe(elapsed)
    outcome = "degraded" if event.degraded else "notified"
    deps.metrics.tasks.labels(round=str(task.round), outcome=outcome).inc()
    log.info("caller notified", attempts=attempt, seconds_since_request=round(elapsed, 3))
    return [
        TaskNotifiedV1(
            source="pagesmith/notifier",
            subject=task.task_id,
            task=task,
            repo_url=event.repo_url,
            commit_sha=event.commit_sha,
            pages_url=event.pages_url,
            attempts=attempt,
            degraded=event.degraded,
        )
    ]
