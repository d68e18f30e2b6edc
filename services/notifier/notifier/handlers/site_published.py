"""site.published → POST the seven fields to evaluation_url, retrying until 200 or the deadline."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import stamina
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


class _NotAccepted(Exception):
    """No answer, a 429 or a 5xx: worth another attempt after the backoff."""


async def handle_site_published(event: SitePublishedV1, deps: Deps) -> Sequence[Event]:
    task = event.task
    payload = callback_payload(event)
    attempts = 0
    async for attempt in stamina.retry_context(
        on=_NotAccepted,
        # No stamina timeout: each attempt checks the deadline against the next wait, so no
        # wait ends past it (a stamina timeout would let the last one run over).
        attempts=None,
        timeout=None,
        wait_initial=1.0,
        wait_max=deps.settings.max_backoff_seconds,
        wait_jitter=0.0,
    ):
        with attempt:
            attempts = attempt.num
            await _post_once(event, payload, deps, attempt=attempt.num, next_wait=attempt.next_wait)

    elapsed = (deps.clock() - task.received_at).total_seconds()
    deps.metrics.time_to_callback.observe(elapsed)
    outcome = "degraded" if event.degraded else "notified"
    deps.metrics.tasks.labels(round=str(task.round), outcome=outcome).inc()
    log.info("caller notified", attempts=attempts, seconds_since_request=round(elapsed, 3))
    return [
        TaskNotifiedV1(
            source="pagesmith/notifier",
            subject=task.task_id,
            task=task,
            repo_url=event.repo_url,
            commit_sha=event.commit_sha,
            pages_url=event.pages_url,
            attempts=attempts,
            degraded=event.degraded,
        )
    ]


async def _post_once(
    event: SitePublishedV1,
    payload: dict[str, object],
    deps: Deps,
    *,
    attempt: int,
    next_wait: float,
) -> None:
    """One POST: return on 2xx; PermanentError when final; _NotAccepted to try again."""
    task = event.task
    left = task.seconds_left(deps.clock())
    timeout = max(1.0, min(deps.settings.attempt_timeout_seconds, left))
    result = await deps.callback.post(task.evaluation_url, payload, timeout=timeout)
    if result.status is not None and 200 <= result.status < 300:
        deps.metrics.attempts.labels(outcome="ok").inc()
        return
    if not _retryable(result.status):
        deps.metrics.attempts.labels(outcome="rejected").inc()
        deps.metrics.tasks.labels(round=str(task.round), outcome="rejected").inc()
        # The caller answers 400 when a field does not match: the same payload keeps failing.
        raise PermanentError(f"caller answered {result.status}: {result.detail}")
    deps.metrics.attempts.labels(outcome="retry").inc()
    if task.seconds_left(deps.clock()) <= next_wait:
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
        retry_in=next_wait,
    )
    raise _NotAccepted(result.status or result.detail)
