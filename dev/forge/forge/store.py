"""Repositories on disk: a bare git repo per repository, its metadata in forge.json inside it."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dulwich.repo import Repo

META = "forge.json"


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class PagesSite:
    build_type: str  # "legacy" | "workflow"
    branch: str
    path: str  # "/" | "/docs"
    created_at: str
    live_commit: str | None = None  # the commit whose files the site serves


@dataclass
class PagesBuild:
    id: int
    commit: str
    status: str  # "queued" | "building" | "built" | "errored"
    pusher: str | None
    created_at: str
    updated_at: str
    error: str | None = None
    duration: int = 0  # milliseconds, as GitHub reports it


@dataclass
class WorkflowRun:
    id: int
    run_number: int
    name: str
    path: str
    head_sha: str
    head_branch: str
    message: str
    pusher: str | None
    created_at: str
    updated_at: str
    event: str = "push"
    status: str = "queued"  # "queued" | "in_progress" | "completed"
    conclusion: str | None = None


@dataclass
class RepoRecord:
    id: int
    owner: str
    name: str
    private: bool
    created_at: str
    updated_at: str
    pushed_at: str
    description: str | None = None
    homepage: str | None = None
    has_issues: bool = True
    has_projects: bool = True
    has_wiki: bool = True
    is_template: bool = False
    archived: bool = False
    default_branch: str = "main"
    topics: list[str] = field(default_factory=list)
    pages: PagesSite | None = None
    builds: list[PagesBuild] = field(default_factory=list)
    runs: list[WorkflowRun] = field(default_factory=list)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def key(self) -> str:
        return self.full_name.lower()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RepoRecord:
        data = dict(data)
        pages = data.pop("pages", None)
        builds = data.pop("builds", [])
        runs = data.pop("runs", [])
        return cls(
            **data,
            pages=PagesSite(**pages) if pages else None,
            builds=[PagesBuild(**b) for b in builds],
            runs=[WorkflowRun(**r) for r in runs],
        )


class Store:
    """Holds every repository's metadata in memory and writes it through to disk."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._repos: dict[str, RepoRecord] = {}
        self._counters: dict[str, int] = {}
        self._born: dict[str, float] = {}  # key -> monotonic creation time, for FORGE_LAG
        self._load()

    def _load(self) -> None:
        (self.root / "repos").mkdir(parents=True, exist_ok=True)
        state = self.root / "state.json"
        self._counters = json.loads(state.read_text()) if state.exists() else {}
        for meta in sorted((self.root / "repos").glob(f"*/*.git/{META}")):
            record = RepoRecord.from_dict(json.loads(meta.read_text()))
            self._repos[record.key] = record

    def next_id(self, kind: str) -> int:
        self._counters[kind] = self._counters.get(kind, 0) + 1
        _write_json(self.root / "state.json", self._counters)
        return self._counters[kind]

    def get(self, owner: str, name: str) -> RepoRecord | None:
        return self._repos.get(f"{owner}/{name}".lower())

    def all(self) -> list[RepoRecord]:
        return list(self._repos.values())

    def git_dir(self, record: RepoRecord) -> Path:
        return self.root / "repos" / record.owner.lower() / f"{record.name.lower()}.git"

    def create(self, record: RepoRecord) -> RepoRecord:
        """Initialise an empty bare repository (no commits, no refs) for the record."""
        path = self.git_dir(record)
        path.parent.mkdir(parents=True, exist_ok=True)
        Repo.init_bare(str(path), mkdir=True, default_branch=record.default_branch.encode()).close()
        self._repos[record.key] = record
        self._born[record.key] = time.monotonic()
        self.save(record)
        return record

    def save(self, record: RepoRecord) -> None:
        _write_json(self.git_dir(record) / META, asdict(record))

    def rename(self, record: RepoRecord, new_name: str) -> None:
        old_dir, old_key = self.git_dir(record), record.key
        record.name = new_name
        new_dir = self.git_dir(record)
        if new_dir != old_dir:
            os.replace(old_dir, new_dir)
        del self._repos[old_key]
        self._repos[record.key] = record
        if old_key in self._born:
            self._born[record.key] = self._born.pop(old_key)
        self.save(record)

    def delete(self, record: RepoRecord) -> None:
        self._repos.pop(record.key, None)
        self._born.pop(record.key, None)
        shutil.rmtree(self.git_dir(record), ignore_errors=True)

    def wipe(self) -> None:
        """Forget every repository; counters keep going so ids are never reused."""
        for record in self.all():
            self.delete(record)

    def age(self, record: RepoRecord) -> float:
        """Seconds since this process created the repository (infinite if created earlier)."""
        born = self._born.get(record.key)
        return float("inf") if born is None else time.monotonic() - born

    @contextmanager
    def git(self, record: RepoRecord) -> Iterator[Repo]:
        """Open the repository's bare git repo for one operation."""
        repo = Repo(str(self.git_dir(record)))
        try:
            yield repo
        finally:
            repo.close()


def _write_json(path: Path, data: Any) -> None:
    # Write then rename, so a crash never leaves half a file behind.
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, path)
