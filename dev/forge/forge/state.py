"""The forge's state, built once per app and shared by every handler through FORGE."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from . import gitdata
from .accounts import Accounts
from .actions_runs import ActionsRunner, find_workflows
from .faults import FaultBook
from .pages_builds import PagesBuilder
from .ratelimit import RateLimits
from .requestlog import RequestLog
from .settings import ForgeSettings
from .store import RepoRecord, Store, now_iso


@dataclass(frozen=True, slots=True)
class Forge:
    settings: ForgeSettings
    accounts: Accounts
    store: Store
    faults: FaultBook
    log: RequestLog
    limits: RateLimits
    pages: PagesBuilder
    actions: ActionsRunner

    @classmethod
    def build(cls, settings: ForgeSettings) -> Forge:
        store = Store(settings.data_dir)
        faults = FaultBook()
        return cls(
            settings=settings,
            accounts=Accounts(settings),
            store=store,
            faults=faults,
            log=RequestLog(),
            limits=RateLimits(),
            pages=PagesBuilder(store, faults, settings.pages_build_seconds),
            actions=ActionsRunner(store, faults, settings.pages_build_seconds),
        )

    def pushed(self, record: RepoRecord, branch: str, sha: str, pusher: str | None) -> None:
        """A branch moved: what GitHub does on push (pushed_at, Pages build, Actions runs)."""
        record.pushed_at = now_iso()
        self.store.save(record)
        pages = record.pages
        if pages and pages.build_type == "legacy" and pages.branch == branch:
            self.pages.start(record, sha, pusher)
        with self.store.git(record) as repo:
            workflows = find_workflows(repo, sha)
            commit = gitdata.read_commit(repo, sha)
            message = commit.message.decode(errors="replace") if commit else ""
        self.actions.on_push(record, branch, sha, message, pusher, workflows)

    def resume(self) -> None:
        """Carry on with builds and runs a previous process left unfinished."""
        for record in self.store.all():
            self.pages.resume(record)
            self.actions.resume(record)

    def stop(self) -> None:
        self.pages.cancel_all()
        self.actions.cancel_all()

    def reset(self) -> None:
        """Wipe repositories, faults, the request log and rate-limit windows."""
        self.stop()
        self.store.wipe()
        self.faults.clear()
        self.log.clear()
        self.limits.clear()


FORGE = web.AppKey("forge", Forge)
