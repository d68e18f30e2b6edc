"""Round 2: read every file at the head of the branch through the git data API, modes kept."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import structlog
from pagesmith_contracts import RepoRef, SiteFile

from .commits import head_of
from .metrics import PublisherMetrics
from .ports import GitHub

log = structlog.get_logger(__name__)
FILE_MODES = ("100644", "100755")


async def checkout(
    gh: GitHub, repo: RepoRef, *, max_blob_bytes: int, metrics: PublisherMetrics
) -> tuple[str, tuple[SiteFile, ...]]:
    """The head commit's SHA and its files (blobs over `max_blob_bytes` are left out)."""
    head = await head_of(gh, repo)
    commit = await gh.getitem(
        "/repos/{owner}/{repo}/git/commits/{sha}",
        {"owner": repo.owner, "repo": repo.name, "sha": head},
    )
    tree = await gh.getitem(
        "/repos/{owner}/{repo}/git/trees/{sha}{?recursive}",
        {"owner": repo.owner, "repo": repo.name, "sha": commit["tree"]["sha"], "recursive": 1},
    )
    if tree.get("truncated"):
        log.warning("tree listing truncated by GitHub; some files are missing from the checkout")
    wanted: list[dict[str, Any]] = []
    for entry in tree.get("tree", []):
        if entry.get("type") != "blob":
            if entry.get("type") == "commit":
                _skip(metrics, "submodule", entry)
            continue
        if entry.get("mode") not in FILE_MODES:
            _skip(metrics, "symlink", entry)
        elif int(entry.get("size") or 0) > max_blob_bytes:
            _skip(metrics, "too_large", entry)
        else:
            wanted.append(entry)
    contents = await asyncio.gather(*(_read_blob(gh, repo, str(e["sha"])) for e in wanted))
    files = tuple(
        SiteFile(path=str(e["path"]), content=data, mode=e["mode"])
        for e, data in zip(wanted, contents, strict=True)
    )
    log.info("checked out", head=head, files=len(files))
    return head, files


async def _read_blob(gh: GitHub, repo: RepoRef, sha: str) -> bytes:
    blob = await gh.getitem(
        "/repos/{owner}/{repo}/git/blobs/{sha}",
        {"owner": repo.owner, "repo": repo.name, "sha": sha},
    )
    content = str(blob.get("content") or "")
    if blob.get("encoding") == "base64":
        # GitHub wraps base64 at 60 columns; b64decode skips the newlines.
        return base64.b64decode(content)
    return content.encode("utf-8")


def _skip(metrics: PublisherMetrics, reason: str, entry: dict[str, Any]) -> None:
    metrics.checkout_skipped.labels(reason=reason).inc()
    log.warning(
        "file left out of the checkout",
        reason=reason,
        path=entry.get("path"),
        size=entry.get("size"),
    )
