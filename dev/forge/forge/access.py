"""Who may read, write and administer a repository; GitHub hides what you cannot see."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

from aiohttp import web
from dulwich.repo import Repo

from . import gitdata
from .accounts import Account
from .context import forge_of, user_of
from .errors import ApiError, empty_repository, not_found
from .state import Forge
from .store import RepoRecord

Need = Literal["read", "write", "admin"]


def can_write(forge: Forge, user: Account, record: RepoRecord) -> bool:
    owner = forge.accounts.get(record.owner)
    return owner is not None and forge.accounts.can_admin(user, owner)


def can_read(forge: Forge, user: Account, record: RepoRecord) -> bool:
    return not record.private or can_write(forge, user, record)


def find_repo(request: web.Request, need: Need = "read") -> RepoRecord:
    """The repo named by {owner}/{repo} in the route, if this user may `need` it."""
    forge, user = forge_of(request), user_of(request)
    record = forge.store.get(request.match_info["owner"], request.match_info["repo"])
    if record is None or not can_read(forge, user, record):
        raise not_found()
    if need == "read":
        return record
    if not can_write(forge, user, record):
        # Writes by outsiders look like missing repos; admin actions say why.
        if need == "admin":
            raise ApiError(403, "Must have admin rights to Repository.")
        raise not_found()
    if record.archived and request.method != "PATCH":
        raise ApiError(403, "Repository was archived so is read-only.")
    return record


def lagging(request: web.Request, record: RepoRecord) -> bool:
    """True while FORGE_LAG_SECONDS says the new repo has not reached every replica yet."""
    return forge_of(request).store.age(record) < forge_of(request).settings.lag_seconds


def find_git_repo(request: web.Request, need: Need = "read") -> RepoRecord:
    """find_repo for git data routes, which answer 409 while the repo is empty or lagging."""
    record = find_repo(request, need)
    if lagging(request, record):
        raise empty_repository()
    return record


@contextmanager
def git_repo(request: web.Request, need: Need = "read") -> Iterator[tuple[RepoRecord, Repo]]:
    """The record and its open git repo; 409 "Git Repository is empty." while it is."""
    record = find_git_repo(request, need)
    with forge_of(request).store.git(record) as repo:
        if gitdata.is_empty(repo):
            raise empty_repository()
        yield record, repo
