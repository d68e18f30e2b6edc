"""Simulated GitHub Actions: one run per workflow file per push; nothing is executed.

A run goes queued -> in_progress -> completed/success over the build time. When the repo's
Pages build_type is "workflow", a successful run on the default branch (the only branch the
github-pages environment accepts by default) publishes that commit's files under the
Pages source path, standing in for whatever the real workflow would have uploaded.
"""

from __future__ import annotations

import asyncio
import re

from dulwich.repo import Repo

from . import gitdata
from .faults import FaultBook
from .store import RepoRecord, Store, WorkflowRun, now_iso

WORKFLOWS_DIR = ".github/workflows"
KEEP_RUNS = 200
NAME_RE = re.compile(r"^name:\s*(.+?)\s*$", re.MULTILINE)


def find_workflows(repo: Repo, commit_sha: str) -> list[tuple[str, str]]:
    """(path, name) of each .github/workflows/*.yml|*.yaml in the commit."""
    commit = gitdata.read_commit(repo, commit_sha)
    folder = commit and gitdata.lookup(repo, commit.tree.decode(), WORKFLOWS_DIR)
    if not folder or folder.kind != "tree":
        return []
    found = []
    for entry in gitdata.tree_entries(repo, folder.sha, recursive=False):
        if entry.kind == "blob" and entry.path.endswith((".yml", ".yaml")):
            text = (gitdata.read_blob(repo, entry.sha) or b"").decode("utf-8", "replace")
            # The top-level `name:` is the first unindented one; without YAML parsing
            # that is the best guess, and GitHub falls back to the path just the same.
            match = NAME_RE.search(text)
            name = match.group(1).strip("'\"") if match else f"{WORKFLOWS_DIR}/{entry.path}"
            found.append((f"{WORKFLOWS_DIR}/{entry.path}", name))
    return found


class ActionsRunner:
    def __init__(self, store: Store, faults: FaultBook, seconds: float) -> None:
        self.store = store
        self.faults = faults
        self.seconds = seconds
        self._tasks: dict[int, asyncio.Task[None]] = {}

    def on_push(
        self,
        record: RepoRecord,
        branch: str,
        sha: str,
        message: str,
        pusher: str | None,
        workflows: list[tuple[str, str]],
    ) -> list[WorkflowRun]:
        runs = []
        for path, name in workflows:
            number = 1 + sum(1 for r in record.runs if r.path == path)
            stamp = now_iso()
            run = WorkflowRun(
                id=self.store.next_id("run"),
                run_number=number,
                name=name,
                path=path,
                head_sha=sha,
                head_branch=branch,
                message=message,
                pusher=pusher,
                created_at=stamp,
                updated_at=stamp,
            )
            runs.append(run)
        if runs:
            record.runs = [*record.runs, *runs][-KEEP_RUNS:]
            self.store.save(record)
            for run in runs:
                self._schedule(record, run)
        return runs

    def resume(self, record: RepoRecord) -> None:
        for run in record.runs:
            if run.status != "completed":
                self._schedule(record, run)

    def cancel_all(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        self._tasks.clear()

    def _schedule(self, record: RepoRecord, run: WorkflowRun) -> None:
        task = asyncio.get_running_loop().create_task(self._run(record, run))
        self._tasks[run.id] = task
        task.add_done_callback(lambda _: self._tasks.pop(run.id, None))

    async def _run(self, record: RepoRecord, run: WorkflowRun) -> None:
        await asyncio.sleep(self.seconds / 2)
        if not self._alive(record, run):
            return
        run.status, run.updated_at = "in_progress", now_iso()
        self.store.save(record)
        await asyncio.sleep(self.seconds / 2)
        if not self._alive(record, run):
            return
        failed = self.faults.take_build_error(record.full_name) is not None
        run.status, run.conclusion = "completed", "failure" if failed else "success"
        run.updated_at = now_iso()
        pages = record.pages
        if (
            not failed
            and pages is not None
            and pages.build_type == "workflow"
            and run.head_branch == record.default_branch
        ):
            pages.live_commit = run.head_sha
        self.store.save(record)

    def _alive(self, record: RepoRecord, run: WorkflowRun) -> bool:
        return self.store.get(record.owner, record.name) is record and run in record.runs
