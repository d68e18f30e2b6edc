"""site.generated.v1 → the repository, one commit, Pages live → site.published.v1."""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import partial
from typing import Any

import structlog
from pagesmith_contracts import Event, RepoRef, SiteGeneratedV1, SitePublishedV1

from ..commits import CommitResult, commit_site, settled
from ..pages import enable_pages, pages_html_url, wait_for_pages
from ..ports import Deps, GitHub
from ..repos import find_latest, find_or_create

log = structlog.get_logger(__name__)


async def handle_site_generated(event: SiteGeneratedV1, deps: Deps) -> Sequence[Event]:
    task = event.task
    gh = deps.github.for_task(task.deadline)
    repo, settle = await _repository(event, gh, deps)
    site = None
    if event.pages_build == "workflow":
        # The push starts the run, whose deploy step needs Pages set to "workflow" already.
        enable = partial(enable_pages, gh, repo, event.pages_build)
        site = await settled(enable, seconds=settle, statuses=(404,))
    commit = await commit_site(
        gh,
        repo,
        files=event.files,
        deleted=event.deleted,
        message=event.commit_message,
        task_id=task.task_id,
        base_sha=event.base_sha,
        settle_seconds=settle,
    )
    outcome = "created" if commit.created else "reused"
    deps.metrics.commits.labels(round=str(task.round), outcome=outcome).inc()
    pages_url = await _pages_url(event, gh, repo, commit, site, deps)
    deps.metrics.published.labels(round=str(task.round), degraded=str(event.degraded)).inc()
    published = SitePublishedV1(
        source="pagesmith/publisher",
        subject=task.task_id,
        task=task,
        repo_url=repo.html_url,
        commit_sha=commit.sha,
        pages_url=pages_url,
        degraded=event.degraded,
        selfcheck=event.selfcheck,
    )
    return [published]


async def _pages_url(
    event: SiteGeneratedV1,
    gh: GitHub,
    repo: RepoRef,
    commit: CommitResult,
    site: dict[str, Any] | None,
    deps: Deps,
) -> str:
    """Pages' html_url, once Pages serves this commit or the budget for waiting runs out."""
    if not commit.at_head:
        # A replay of an earlier round: Pages serves a later commit and will never build this
        # one again, so waiting for it would only run out the budget.
        log.info("this task's commit was superseded; reporting it as it is", commit=commit.sha)
        return await pages_html_url(gh, repo)
    task, settings = event.task, deps.settings
    # Pages gets what is left of the deadline minus the callback's reserve.
    until = time.monotonic() + task.seconds_left() - settings.pages_reserve_seconds
    site = site or await enable_pages(gh, repo, event.pages_build)
    return await wait_for_pages(
        gh,
        deps.site,
        repo,
        commit.sha,
        event.pages_build,
        site=site,
        until=until,
        settings=settings,
        metrics=deps.metrics,
    )


async def _repository(event: SiteGeneratedV1, gh: GitHub, deps: Deps) -> tuple[RepoRef, float]:
    """The repository to commit to, and how long its git data may still lag its creation."""
    task, settings = event.task, deps.settings
    if event.repo is not None:
        return event.repo, 0.0
    if task.round >= 2:  # round 2 never creates a repository
        return await find_latest(gh, task, max_candidates=settings.max_repo_candidates), 0.0
    found = await find_or_create(
        gh,
        task,
        event.description,
        max_candidates=settings.max_repo_candidates,
        settle_seconds=settings.fresh_repo_retry_seconds,
        metrics=deps.metrics,
    )
    return found.ref, settings.fresh_repo_retry_seconds
