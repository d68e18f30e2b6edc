"""Finding and creating a task's repository on GitHub, with no local state: names and markers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import stamina
import structlog
from pagesmith_contracts import RepoRef, TaskRef
from pagesmith_runtime import PermanentError, TransientError

from .metrics import PublisherMetrics
from .naming import base_name, candidate, description_for, find_marker, marker_for
from .ports import Account, GitHub, GitHubRequestError

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class FoundRepo:
    ref: RepoRef
    created: bool


def repo_ref(data: dict[str, Any]) -> RepoRef:
    """A RepoRef from GitHub's repository JSON (html_url as the API gives it)."""
    return RepoRef(
        owner=str(data["owner"]["login"]),
        name=str(data["name"]),
        html_url=str(data["html_url"]),
        default_branch=str(data.get("default_branch") or "main"),
    )


async def probe(gh: GitHub, owner: str, name: str) -> dict[str, Any] | None:
    """The repository's JSON, or None when the name is free (404)."""
    try:
        data: dict[str, Any] = await gh.getitem(
            "/repos/{owner}/{repo}", {"owner": owner, "repo": name}
        )
    except GitHubRequestError as exc:
        if exc.status == 404:
            return None
        raise
    return data


async def find_or_create(
    gh: GitHub,
    task: TaskRef,
    summary: str,
    *,
    max_candidates: int,
    settle_seconds: float,
    metrics: PublisherMetrics,
) -> FoundRepo:
    """Round 1: the repository this request already made, else a new one at the first free name."""
    account = await gh.account()
    base = base_name(task.task)
    marker = marker_for(task.repo_key, task.task_id)
    for n in range(1, max_candidates + 1):
        name = candidate(base, n)
        data = await probe(gh, account.login, name)
        if data is None:
            description = description_for(summary, task.task, marker)
            created = await _create(gh, account, name, description)
            if created is not None:
                log.info("repository created", repo=created.get("full_name"))
                metrics.repos_created.inc()
                return FoundRepo(repo_ref(created), created=True)
            # Taken between probe and create: maybe by a twin delivery of this very task.
            data = await _visible(gh, account.login, name, seconds=settle_seconds)
        if find_marker(data.get("description")) == marker:
            log.info("reusing this request's repository", repo=data.get("full_name"))
            metrics.repos_reused.inc()
            return FoundRepo(repo_ref(data), created=False)
    raise PermanentError(f"no free repository name among {max_candidates} candidates of {base!r}")


class _NotVisible(Exception):
    """Creation called the name taken, but probing it still answers 404."""


async def _visible(gh: GitHub, owner: str, name: str, *, seconds: float) -> dict[str, Any]:
    """Probe a name that creation called taken until it shows up (replicas can lag)."""

    async def look() -> dict[str, Any]:
        data = await probe(gh, owner, name)
        if data is None:
            raise _NotVisible(name)
        return data

    try:
        async for attempt in stamina.retry_context(
            on=_NotVisible,
            attempts=None if seconds > 0 else 1,
            timeout=seconds if seconds > 0 else None,
            wait_initial=0.25,
            wait_max=2.0,
        ):
            with attempt:
                return await look()
    except _NotVisible:
        # Moving on to the next name could make a second repository for this task.
        raise TransientError(f"repository name {name!r} is taken but not visible yet") from None
    raise AssertionError("unreachable: stamina re-raises the last error")


async def find_latest(gh: GitHub, task: TaskRef, *, max_candidates: int) -> RepoRef:
    """Round 2: the newest repository whose marker carries this (email, task)'s repo key."""
    account = await gh.account()
    base = base_name(task.task)
    best: tuple[tuple[datetime, int], dict[str, Any]] | None = None
    for n in range(1, max_candidates + 1):
        data = await probe(gh, account.login, candidate(base, n))
        if data is None:
            break
        marker = find_marker(data.get("description"))
        if marker is None or marker.repo_key != task.repo_key:
            continue
        key = (_created_at(data), n)
        if best is None or key > best[0]:
            best = (key, data)
    if best is None:
        raise PermanentError("no round-1 repository for this task")
    log.info("found the round-1 repository", repo=best[1].get("full_name"))
    return repo_ref(best[1])


def _created_at(data: dict[str, Any]) -> datetime:
    raw = str(data.get("created_at") or "1970-01-01T00:00:00Z")
    return datetime.fromisoformat(raw.replace("Z", "+00:00"))


async def _create(
    gh: GitHub, account: Account, name: str, description: str
) -> dict[str, Any] | None:
    """Create a public, auto-initialised repository; None when the name is already taken."""
    url = "/orgs/{owner}/repos" if account.is_org else "/user/repos"
    body = {
        "name": name,
        "description": description,
        "private": False,
        "auto_init": True,  # the git data API refuses empty repositories
        "has_issues": False,
        "has_wiki": False,
        "has_projects": False,
    }
    try:
        data: dict[str, Any] = await gh.post(url, {"owner": account.login}, data=body)
    except GitHubRequestError as exc:
        if exc.status == 422 and _name_taken(exc.errors):
            log.info("repository name taken meanwhile", name=name)
            return None
        raise
    return data


def _name_taken(errors: Any) -> bool:
    # GitHub reports it as code "custom", message "name already exists on this account".
    if isinstance(errors, str):
        return "already exists" in errors
    return any(
        isinstance(e, dict)
        and (e.get("code") == "already_exists" or "already exists" in str(e.get("message", "")))
        for e in errors or ()
    )
