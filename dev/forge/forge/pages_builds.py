"""Legacy Pages builds: queued -> building -> built|errored as asyncio tasks; newer pushes win."""

from __future__ import annotations

import asyncio
import time

from . import gitdata
from .faults import FaultBook
from .store import PagesBuild, RepoRecord, Store, now_iso

DONE = ("built", "errored")
KEEP_BUILDS = 100


class PagesBuilder:
    def __init__(self, store: Store, faults: FaultBook, seconds: float) -> None:
        self.store = store
        self.faults = faults
        self.seconds = seconds
        self._tasks: dict[int, asyncio.Task[None]] = {}  # build id -> task

    def start(self, record: RepoRecord, commit: str, pusher: str | None) -> PagesBuild:
        """Queue a build of commit; unfinished older builds are cancelled, as GitHub does."""
        assert record.pages is not None
        for old in record.builds:
            if old.status not in DONE:
                self._finish(
                    old,
                    "errored",
                    "Canceling since a higher priority waiting request for pages build and "
                    f"deployment @ {record.pages.branch} exists",
                )
                task = self._tasks.pop(old.id, None)
                if task:
                    task.cancel()
        stamp = now_iso()
        build = PagesBuild(self.store.next_id("build"), commit, "queued", pusher, stamp, stamp)
        record.builds = [*record.builds[-(KEEP_BUILDS - 1) :], build]
        self.store.save(record)
        self._schedule(record, build)
        return build

    def resume(self, record: RepoRecord) -> None:
        """Restart builds a previous process left unfinished."""
        for build in record.builds:
            if build.status not in DONE:
                self._schedule(record, build)

    def cancel(self, record: RepoRecord) -> None:
        for build in record.builds:
            task = self._tasks.pop(build.id, None)
            if task:
                task.cancel()

    def cancel_all(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        self._tasks.clear()

    def _schedule(self, record: RepoRecord, build: PagesBuild) -> None:
        task = asyncio.get_running_loop().create_task(self._run(record, build))
        self._tasks[build.id] = task
        task.add_done_callback(lambda _: self._tasks.pop(build.id, None))

    async def _run(self, record: RepoRecord, build: PagesBuild) -> None:
        started = time.monotonic()
        await asyncio.sleep(self.seconds / 2)
        if not self._alive(record, build):
            return
        build.status, build.updated_at = "building", now_iso()
        self.store.save(record)
        await asyncio.sleep(self.seconds / 2)
        if not self._alive(record, build):
            return
        error = self.faults.take_build_error(record.full_name) or self._check(record, build)
        build.duration = int((time.monotonic() - started) * 1000)
        if error:
            self._finish(build, "errored", error)
        else:
            self._finish(build, "built", None)
            assert record.pages is not None
            record.pages.live_commit = build.commit
        self.store.save(record)

    def _alive(self, record: RepoRecord, build: PagesBuild) -> bool:
        current = self.store.get(record.owner, record.name)
        return current is record and record.pages is not None and build in record.builds

    def _check(self, record: RepoRecord, build: PagesBuild) -> str | None:
        """What a real build would reject: a missing source folder."""
        assert record.pages is not None
        with self.store.git(record) as repo:
            commit = gitdata.read_commit(repo, build.commit)
            folder = record.pages.path.strip("/")
            if commit is None:
                return "The build commit does not exist."
            entry = gitdata.lookup(repo, commit.tree.decode(), folder)
            if entry is None or entry.kind != "tree":
                return f"The {record.pages.path} folder does not exist in {record.pages.branch}."
        return None

    @staticmethod
    def _finish(build: PagesBuild, status: str, error: str | None) -> None:
        build.status, build.error, build.updated_at = status, error, now_iso()
