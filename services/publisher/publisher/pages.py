"""GitHub Pages: enable it, wait until this commit is built and served, report html_url."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar

import structlog
from pagesmith_contracts import PagesBuild, RepoRef
from pagesmith_runtime import PermanentError

from .metrics import PublisherMetrics
from .ports import GitHub, GitHubRequestError, SiteProbe
from .settings import PublisherSettings

log = structlog.get_logger(__name__)
T = TypeVar("T")
PAGES = "/repos/{owner}/{repo}/pages"
# Build requests for a stale latest build: GitHub rate-limits them, so ask sparingly.
MAX_BUILD_REQUESTS = 2
# A build superseded by a newer one ends "errored" with this in its message: not a failure.
CANCELLED = "higher priority"


def _vars(repo: RepoRef) -> dict[str, str | int]:
    return {"owner": repo.owner, "repo": repo.name}


def pages_config(build_type: PagesBuild, branch: str) -> dict[str, Any]:
    if build_type == "workflow":
        return {"build_type": "workflow"}
    return {"build_type": "legacy", "source": {"branch": branch, "path": "/"}}


async def enable_pages(gh: GitHub, repo: RepoRef, build_type: PagesBuild) -> dict[str, Any]:
    """Turn Pages on (or fix its configuration) and return the Pages site JSON."""
    config = pages_config(build_type, repo.default_branch)
    try:
        site: dict[str, Any] = await gh.post(PAGES, _vars(repo), data=config)
        log.info("Pages enabled", build_type=build_type)
        return site
    except GitHubRequestError as exc:
        if exc.status != 409:  # 409: already enabled, which is fine
            raise
    site = await gh.getitem(PAGES, _vars(repo))
    if not _same_config(site, config):
        log.info("Pages enabled with another configuration; updating it", build_type=build_type)
        await gh.put(PAGES, _vars(repo), data=config)
        site = await gh.getitem(PAGES, _vars(repo))
    return site


async def pages_html_url(gh: GitHub, repo: RepoRef) -> str:
    """Where Pages serves the repository now, as the Pages API says."""
    site = await gh.getitem(PAGES, _vars(repo))
    return str(site["html_url"])


def _same_config(site: dict[str, Any], config: dict[str, Any]) -> bool:
    if site.get("build_type", "legacy") != config["build_type"]:
        return False
    if config["build_type"] == "workflow":
        return True
    source = site.get("source") or {}
    return bool(
        source.get("branch") == config["source"]["branch"]
        and source.get("path", "/") == config["source"]["path"]
    )


async def wait_for_pages(
    gh: GitHub,
    probe: SiteProbe,
    repo: RepoRef,
    sha: str,
    build_type: PagesBuild,
    *,
    site: dict[str, Any],
    until: float,
    settings: PublisherSettings,
    metrics: PublisherMetrics,
) -> str:
    """Wait (until `until`, monotonic) for this commit to be live; return Pages' html_url.

    When the budget runs out, return the html_url anyway: a late Pages build beats a
    missed callback. A legacy build that errors twice is a PermanentError.
    """
    started = time.monotonic()
    outcome = "served"
    try:
        if build_type == "workflow":
            run = await poll(_WorkflowRuns(gh, repo, sha), until=until, settings=settings)
            built: bool | None = run is not None
            if run == "failed":
                outcome = "workflow_failed"
        else:
            legacy = _LegacyBuild(gh, repo, sha, settings)
            built = await poll(legacy, until=until, settings=settings)
        if built or not site.get("html_url"):
            site = await gh.getitem(PAGES, _vars(repo))
        url = str(site["html_url"])
        if outcome == "served":
            served = built and await poll(_Served(probe, url), until=until, settings=settings)
            if not served:
                outcome = "late"
    except BaseException:
        outcome = "failed"
        raise
    finally:
        metrics.pages_wait.labels(outcome=outcome).observe(time.monotonic() - started)
    if outcome == "late":
        metrics.pages_late.inc()
        log.warning(
            "publishing before Pages confirmed this commit: the wait budget ran out",
            commit=sha,
            waited=round(time.monotonic() - started, 1),
        )
    elif outcome == "workflow_failed":
        log.warning("the Pages workflow run for this commit did not succeed", commit=sha)
    else:
        log.info("Pages serves the commit", url=url, waited=round(time.monotonic() - started, 1))
    return url


async def poll(
    check: Callable[[], Awaitable[T | None]], *, until: float, settings: PublisherSettings
) -> T | None:
    """Call `check` with growing pauses until it returns a value or `until` (monotonic) passes."""
    delay = settings.pages_poll_initial_seconds
    while True:
        result = await check()
        if result is not None:
            return result
        left = until - time.monotonic()
        if left <= 0:
            return None
        await asyncio.sleep(min(delay, left))
        delay = min(delay * 1.5, settings.pages_poll_max_seconds)


class _LegacyBuild:
    """One look at `pages/builds/latest`: True once it is `built` for our commit."""

    def __init__(self, gh: GitHub, repo: RepoRef, sha: str, settings: PublisherSettings) -> None:
        self._gh, self._repo, self._sha, self._settings = gh, repo, sha, settings
        self._asked_at = time.monotonic()
        self._requests = 0
        self._errored: str | None = None

    async def __call__(self) -> Literal[True] | None:
        try:
            build: dict[str, Any] = await self._gh.getitem(
                PAGES + "/builds/latest", _vars(self._repo)
            )
        except GitHubRequestError as exc:
            if exc.status != 404:  # 404: no build yet
                raise
            build = {}
        status, commit = build.get("status"), build.get("commit")
        if commit == self._sha and status == "built":
            return True
        message = str((build.get("error") or {}).get("message") or "no reason given")
        if commit == self._sha and status == "errored" and CANCELLED not in message:
            ident = str(build.get("url") or build.get("created_at") or "")
            if self._errored is None:
                log.warning("Pages build errored; requesting one rebuild", error=message)
                self._errored = ident
                await self._request_build()
            elif ident != self._errored:
                raise PermanentError(f"GitHub Pages build failed: {message}")
            return None
        if status in ("queued", "building"):
            return None
        # No build yet, or the latest is for an older commit: after a while, ask for one.
        stale_for = time.monotonic() - self._asked_at
        if stale_for >= self._settings.pages_rebuild_after_seconds:
            await self._request_build()
        return None

    async def _request_build(self) -> None:
        self._asked_at = time.monotonic()
        if self._requests >= MAX_BUILD_REQUESTS:
            return
        self._requests += 1
        try:
            await self._gh.post(PAGES + "/builds", _vars(self._repo), data=b"")
        except GitHubRequestError as exc:
            log.warning("Pages build request refused", error=str(exc))


class _WorkflowRuns:
    """One look at the Actions runs for our commit: "ok"/"failed" once all completed."""

    def __init__(self, gh: GitHub, repo: RepoRef, sha: str) -> None:
        self._gh, self._repo, self._sha = gh, repo, sha

    async def __call__(self) -> Literal["ok", "failed"] | None:
        runs = await self._gh.getitem(
            "/repos/{owner}/{repo}/actions/runs{?head_sha,per_page}",
            {**_vars(self._repo), "head_sha": self._sha, "per_page": 30},
        )
        items = [r for r in runs.get("workflow_runs", []) if r.get("head_sha") == self._sha]
        if not items or any(r.get("status") != "completed" for r in items):
            return None
        ok = all(r.get("conclusion") in ("success", "skipped", "neutral") for r in items)
        return "ok" if ok else "failed"


class _Served:
    """One plain GET of the Pages URL: True on 200."""

    def __init__(self, probe: SiteProbe, url: str) -> None:
        self._probe, self._url = probe, url

    async def __call__(self) -> Literal[True] | None:
        return True if await self._probe.status(self._url) == 200 else None
