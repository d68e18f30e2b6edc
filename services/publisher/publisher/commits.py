"""One atomic commit per round through the git data API, found again by its task trailer."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import stamina
import structlog
from pagesmith_contracts import RepoRef, SiteFile

from .ports import GitHub, GitHubRequestError

log = structlog.get_logger(__name__)
T = TypeVar("T")

TRAILER = "Pagesmith-Task"
RECENT_COMMITS = 10


@dataclass(frozen=True, slots=True)
class CommitResult:
    sha: str
    created: bool
    # False once later commits sit on top of it: Pages will not build this commit again.
    at_head: bool = True


def message_with_trailer(message: str, task_id: str) -> str:
    """The commit message, a blank line, then `Pagesmith-Task: <task_id>`."""
    return f"{message.strip() or 'Update site'}\n\n{TRAILER}: {task_id}\n"


def has_trailer(message: str, task_id: str) -> bool:
    return any(line.strip() == f"{TRAILER}: {task_id}" for line in message.splitlines())


def _vars(repo: RepoRef, **extra: str | int) -> dict[str, str | int]:
    return {"owner": repo.owner, "repo": repo.name, **extra}


async def head_of(gh: GitHub, repo: RepoRef) -> str:
    """The commit at the head of the repository's default branch."""
    ref = await gh.getitem(
        "/repos/{owner}/{repo}/git/ref/heads/{branch}", _vars(repo, branch=repo.default_branch)
    )
    return str(ref["object"]["sha"])


async def find_task_commit(gh: GitHub, repo: RepoRef, task_id: str) -> CommitResult | None:
    """A recent commit on the branch that already carries this task's trailer."""
    commits = await gh.getitem(
        "/repos/{owner}/{repo}/commits{?sha,per_page}",
        _vars(repo, sha=repo.default_branch, per_page=RECENT_COMMITS),
    )
    # Newest first, so the head is the first entry.
    for i, item in enumerate(commits):
        if has_trailer(str(item.get("commit", {}).get("message", "")), task_id):
            return CommitResult(str(item["sha"]), created=False, at_head=i == 0)
    return None


async def settled(
    call: Callable[[], Awaitable[T]], *, seconds: float, statuses: tuple[int, ...] = (404, 409)
) -> T:
    """Retry 404/409 for a few seconds: a new repository's git data can lag its creation."""
    if seconds <= 0:
        return await call()

    def not_yet(exc: Exception) -> bool:
        return isinstance(exc, GitHubRequestError) and exc.status in statuses

    async for attempt in stamina.retry_context(
        on=not_yet, attempts=None, timeout=seconds, wait_initial=0.25, wait_max=2.0
    ):
        with attempt:
            return await call()
    raise AssertionError("unreachable: stamina re-raises the last error")


async def commit_site(
    gh: GitHub,
    repo: RepoRef,
    *,
    files: Sequence[SiteFile],
    deleted: Sequence[str],
    message: str,
    task_id: str,
    base_sha: str | None = None,
    settle_seconds: float = 0.0,
) -> CommitResult:
    """Commit `files` (and deletions) on top of the branch head, at most once per task."""
    existing = await settled(lambda: find_task_commit(gh, repo, task_id), seconds=settle_seconds)
    if existing is not None:
        log.info(
            "this task's commit is already on the branch",
            commit=existing.sha,
            at_head=existing.at_head,
        )
        return existing
    head = await settled(lambda: head_of(gh, repo), seconds=settle_seconds)
    if base_sha is not None and head != base_sha:
        log.info("branch moved since checkout; committing on its head", base=base_sha, head=head)
    blobs = await asyncio.gather(*(_blob(gh, repo, f) for f in files))
    full_message = message_with_trailer(message, task_id)
    for attempt in (1, 2):
        tree = await _tree(gh, repo, head, files, blobs, deleted)
        commit = await gh.post(
            "/repos/{owner}/{repo}/git/commits",
            _vars(repo),
            data={"message": full_message, "tree": tree, "parents": [head]},
        )
        sha = str(commit["sha"])
        try:
            await gh.patch(
                "/repos/{owner}/{repo}/git/refs/heads/{branch}",
                _vars(repo, branch=repo.default_branch),
                data={"sha": sha, "force": False},
            )
        except GitHubRequestError as exc:
            # 422 "Update is not a fast forward": the branch moved on. Never force-push.
            if exc.status != 422 or attempt == 2:
                raise
            twin = await find_task_commit(gh, repo, task_id)
            if twin is not None:
                return twin
            head = await head_of(gh, repo)
            log.warning("branch moved while committing; retrying once on its new head", head=head)
            continue
        log.info("committed", commit=sha, files=len(files), deleted=len(deleted))
        return CommitResult(sha, created=True)
    raise AssertionError("unreachable")


async def _blob(gh: GitHub, repo: RepoRef, file: SiteFile) -> str:
    # base64 for every file: binary-safe, byte-exact.
    blob = await gh.post(
        "/repos/{owner}/{repo}/git/blobs",
        _vars(repo),
        data={"content": base64.b64encode(file.content).decode("ascii"), "encoding": "base64"},
    )
    return str(blob["sha"])


async def _tree(
    gh: GitHub,
    repo: RepoRef,
    head: str,
    files: Sequence[SiteFile],
    blobs: Sequence[str],
    deleted: Sequence[str],
) -> str:
    commit = await gh.getitem("/repos/{owner}/{repo}/git/commits/{sha}", _vars(repo, sha=head))
    base_tree = str(commit["tree"]["sha"])
    entries: list[dict[str, Any]] = [
        {"path": f.path, "mode": f.mode, "type": "blob", "sha": sha}
        for f, sha in zip(files, blobs, strict=True)
    ]
    written = {f.path for f in files}
    gone = [p for p in dict.fromkeys(deleted) if p not in written]
    if gone:
        # GitHub refuses to delete a path that is not there, so delete only what exists.
        present = await _blob_modes(gh, repo, base_tree)
        for path in gone:
            if path in present:
                entries.append({"path": path, "mode": present[path], "type": "blob", "sha": None})
            else:
                log.info("deletion of a missing path skipped", path=path)
    if not entries:
        return base_tree
    tree = await gh.post(
        "/repos/{owner}/{repo}/git/trees",
        _vars(repo),
        data={"base_tree": base_tree, "tree": entries},
    )
    return str(tree["sha"])


async def _blob_modes(gh: GitHub, repo: RepoRef, tree_sha: str) -> dict[str, str]:
    tree = await gh.getitem(
        "/repos/{owner}/{repo}/git/trees/{sha}{?recursive}", _vars(repo, sha=tree_sha, recursive=1)
    )
    return {str(e["path"]): str(e["mode"]) for e in tree.get("tree", []) if e.get("type") == "blob"}
