"""The publisher against the real forge app in-process: real HTTP, real git SHAs, real Pages."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import stamina
from aiohttp.test_utils import BaseTestServer, TestServer
from forge.app import create_app
from forge.settings import ForgeSettings
from pagesmith_contracts import RepoCheckedOutV1, SiteFile, SitePublishedV1, TaskRef
from prometheus_client import CollectorRegistry
from publisher.adapters.github import GitHubAdapter
from publisher.adapters.site import SiteHttpProbe
from publisher.handlers.site_generated import handle_site_generated
from publisher.handlers.task_submitted import handle_task_submitted
from publisher.metrics import PublisherMetrics
from publisher.ports import Deps

from .conftest import PNG, generated, make_settings, site_files, submitted, task_ref

TOKEN = "forge-dev-token"
OWNER = "pagesmith-dev"


@dataclass
class Forge:
    server: BaseTestServer
    session: aiohttp.ClientSession
    deps: Deps

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    async def api(self, path: str) -> Any:
        """A GET on the forge's API with the token, outside the publisher (for assertions)."""
        headers = {"Authorization": f"token {TOKEN}", "User-Agent": "tests"}
        async with self.session.get(self.url("/api/v3" + path), headers=headers) as response:
            assert response.status == 200, (path, response.status)
            return await response.json()

    async def fault(self, **spec: Any) -> None:
        async with self.session.post(self.url("/_forge/faults"), json=spec) as response:
            assert response.status == 201, await response.text()

    async def requests(self) -> list[str]:
        async with self.session.get(self.url("/_forge/requests")) as response:
            return [f"{r['method']} {r['path']} {r['status']}" for r in await response.json()]

    async def clear_requests(self) -> None:
        async with self.session.delete(self.url("/_forge/requests")) as response:
            assert response.status == 204

    async def head(self, repo: str) -> str:
        ref = await self.api(f"/repos/{OWNER}/{repo}/git/ref/heads/main")
        return str(ref["object"]["sha"])


def forge_settings(tmp_path: Path, **overrides: Any) -> ForgeSettings:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "forge-data",
        "pages_build_seconds": 0.2,
    }
    values.update(overrides)
    return ForgeSettings(**values)


@pytest.fixture
async def forge(tmp_path: Path) -> AsyncIterator[Forge]:
    async with running_forge(forge_settings(tmp_path)) as running:
        yield running


@asynccontextmanager
async def running_forge(forge_config: ForgeSettings) -> AsyncIterator[Forge]:
    """The forge on a loopback port and the publisher's real adapters pointed at it."""
    async with (
        TestServer(create_app(forge_config), host="127.0.0.1") as server,
        aiohttp.ClientSession() as session,
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as github_session,
        aiohttp.ClientSession() as site_session,
    ):
        settings = make_settings(
            github_api_url=str(server.make_url("/api/v3")),
            github_token=TOKEN,
            pages_poll_initial_seconds=0.05,
            pages_poll_max_seconds=0.2,
            pages_rebuild_after_seconds=2.0,
        )
        metrics = PublisherMetrics(CollectorRegistry())
        deps = Deps(
            settings=settings,
            github=GitHubAdapter(github_session, settings, metrics),
            site=SiteHttpProbe(site_session, timeout=5),
            metrics=metrics,
        )
        yield Forge(server, session, deps)


async def round_1(forge: Forge, ref: TaskRef, **fields: Any) -> SitePublishedV1:
    [event] = await handle_site_generated(generated(ref, **fields), forge.deps)
    assert isinstance(event, SitePublishedV1)
    return event


async def test_round_1_publishes_a_live_site(forge: Forge) -> None:
    ref = task_ref()
    event = await round_1(forge, ref)

    repo = await forge.api(f"/repos/{OWNER}/ShareVolume")
    assert event.repo_url == repo["html_url"]
    assert event.commit_sha == await forge.head("ShareVolume")
    site = await forge.api(f"/repos/{OWNER}/ShareVolume/pages")
    assert event.pages_url == site["html_url"]
    async with forge.session.get(event.pages_url) as response:
        assert response.status == 200
        assert await response.read() == site_files()[0].content
    commit = await forge.api(f"/repos/{OWNER}/ShareVolume/git/commits/{event.commit_sha}")
    assert commit["message"].endswith(f"\n\nPagesmith-Task: {ref.task_id}\n")
    assert repo["description"].endswith(f"[pagesmith:{ref.repo_key}:{ref.task_id[:8]}]")
    assert (repo["private"], repo["has_issues"], repo["has_wiki"]) == (False, False, False)
    tree = await forge.api(
        f"/repos/{OWNER}/ShareVolume/git/trees/{commit['tree']['sha']}?recursive=1"
    )
    modes = {e["path"]: e["mode"] for e in tree["tree"] if e["type"] == "blob"}
    assert modes["run.sh"] == "100755"
    assert modes["index.html"] == "100644"


async def test_the_same_event_twice_makes_one_repo_and_one_commit(forge: Forge) -> None:
    ref = task_ref()
    first = await round_1(forge, ref)
    second = await round_1(forge, ref)

    assert (second.repo_url, second.commit_sha, second.pages_url) == (
        first.repo_url,
        first.commit_sha,
        first.pages_url,
    )
    repos = await forge.api("/user/repos")
    assert [r["name"] for r in repos] == ["ShareVolume"]
    commits = await forge.api(f"/repos/{OWNER}/ShareVolume/commits?sha=main")
    assert len(commits) == 2  # auto_init's commit and ours


async def test_round_2_checks_out_byte_exact_and_commits_on_round_1(forge: Forge) -> None:
    first = await round_1(forge, task_ref())
    ref2 = task_ref(round=2, nonce="n-2")
    [checked] = await handle_task_submitted(submitted(ref2), forge.deps)

    assert isinstance(checked, RepoCheckedOutV1)
    assert checked.head_sha == first.commit_sha
    assert checked.repo.html_url == first.repo_url
    files = {f.path: f for f in checked.files}
    for original in site_files():
        assert files[original.path].content == original.content
        assert files[original.path].mode == original.mode
    assert files["assets/logo.png"].content == PNG
    assert "README.md" in files

    new_files = (
        SiteFile(path="index.html", content=b"<!doctype html><title>v2</title>\n"),
        SiteFile(path="data/blob.bin", content=bytes(range(256)) * 4),
    )
    event = generated(
        ref2,
        files=new_files,
        deleted=("run.sh",),
        repo=checked.repo,
        base_sha=checked.head_sha,
        commit_message="Round 2: add a chart",
    )
    [published] = await handle_site_generated(event, forge.deps)

    assert isinstance(published, SitePublishedV1)
    assert published.repo_url == first.repo_url
    assert published.commit_sha == await forge.head("ShareVolume")
    commit = await forge.api(f"/repos/{OWNER}/ShareVolume/git/commits/{published.commit_sha}")
    assert [p["sha"] for p in commit["parents"]] == [first.commit_sha]
    async with forge.session.get(published.pages_url) as response:
        assert await response.read() == new_files[0].content
    async with forge.session.get(published.pages_url + "run.sh") as response:
        assert response.status == 404
    blob_listing = await forge.api(
        f"/repos/{OWNER}/ShareVolume/git/trees/{commit['tree']['sha']}?recursive=1"
    )
    sizes = {e["path"]: e.get("size") for e in blob_listing["tree"]}
    assert sizes["data/blob.bin"] == 1024


async def test_injected_502_and_secondary_rate_limit_still_complete(forge: Forge) -> None:
    await forge.fault(path=r"^/repos/[^/]+/[^/]+/git/commits$", method="POST", status=502)
    await forge.fault(
        path=r"^/repos/[^/]+/[^/]+/pages$",
        method="POST",
        kind="secondary_rate_limit",
        retry_after=1,
    )
    event = await round_1(forge, task_ref())

    assert event.commit_sha == await forge.head("ShareVolume")
    log = await forge.requests()
    assert f"POST /repos/{OWNER}/ShareVolume/git/commits 502" in log
    assert f"POST /repos/{OWNER}/ShareVolume/git/commits 201" in log
    assert f"POST /repos/{OWNER}/ShareVolume/pages 403" in log
    assert f"POST /repos/{OWNER}/ShareVolume/pages 201" in log
    metrics = forge.deps.metrics
    assert metrics.github_retries.labels(reason="server_error")._value.get() == 1
    assert metrics.github_retries.labels(reason="secondary_rate_limit")._value.get() == 1


async def test_secondary_rate_limit_with_real_waits(forge: Forge) -> None:
    await forge.fault(
        path=r"^/repos/[^/]+/[^/]+/pages$",
        method="POST",
        kind="secondary_rate_limit",
        retry_after=1,
    )
    with stamina.set_testing(False):
        event = await round_1(forge, task_ref())
    assert event.pages_url.endswith("/pages/pagesmith-dev/ShareVolume/")


async def test_a_long_unicode_task_name_end_to_end(forge: Forge) -> None:
    task = "Générateur de résumés — " + "ü" * 96
    assert len(task) == 120
    first = await round_1(forge, task_ref(task))
    name = first.repo_url.rsplit("/", 1)[1]
    assert len(name) <= 100
    assert first.commit_sha == await forge.head(name)

    [checked] = await handle_task_submitted(
        submitted(task_ref(task, round=2, nonce="n-2")), forge.deps
    )
    assert isinstance(checked, RepoCheckedOutV1)
    assert checked.repo.name == name
    assert checked.head_sha == first.commit_sha


async def test_a_resent_round_1_and_round_2_picks_the_newest(forge: Forge) -> None:
    await round_1(forge, task_ref(nonce="n-1"))
    newer = await round_1(forge, task_ref(nonce="n-2"))
    assert newer.repo_url.endswith("/ShareVolume-2")
    [checked] = await handle_task_submitted(submitted(task_ref(round=2, nonce="n-3")), forge.deps)
    assert checked.repo.name == "ShareVolume-2"  # type: ignore[attr-defined]


@pytest.mark.parametrize("pages_build", ["legacy", "workflow"])
async def test_a_lagging_new_repository_is_waited_for(tmp_path: Path, pages_build: str) -> None:
    files = (*site_files(), SiteFile(path=".github/workflows/p.yml", content=b"on: push\n"))
    async with running_forge(forge_settings(tmp_path, lag_seconds=1.0)) as forge:
        with stamina.set_testing(False):
            event = await round_1(forge, task_ref(), files=files, pages_build=pages_build)
        assert event.commit_sha == await forge.head("ShareVolume")
        log = await forge.requests()
        assert any(line.endswith(" 409") for line in log)


async def test_a_pages_build_error_is_rebuilt_once(forge: Forge) -> None:
    await forge.fault(path=f"^/repos/{OWNER}/ShareVolume$", kind="pages_build_error")
    event = await round_1(forge, task_ref())
    log = await forge.requests()
    assert f"POST /repos/{OWNER}/ShareVolume/pages/builds 201" in log
    async with forge.session.get(event.pages_url) as response:
        assert response.status == 200


async def test_the_calls_each_round_makes(forge: Forge) -> None:
    """Measured from the forge's request log; printed for the record (pytest -s)."""
    await round_1(forge, task_ref())
    round_1_calls = await forge.requests()
    await forge.clear_requests()
    ref2 = task_ref(round=2, nonce="n-2")
    [checked] = await handle_task_submitted(submitted(ref2), forge.deps)
    checkout_calls = await forge.requests()
    await forge.clear_requests()
    assert isinstance(checked, RepoCheckedOutV1)
    event = generated(
        ref2,
        files=(SiteFile(path="index.html", content=b"v2"),),
        repo=checked.repo,
        base_sha=checked.head_sha,
    )
    await handle_site_generated(event, forge.deps)
    round_2_calls = await forge.requests()

    for title, calls in (
        ("round 1 site.generated", round_1_calls),
        ("round 2 task.submitted (checkout)", checkout_calls),
        ("round 2 site.generated", round_2_calls),
    ):
        print(f"\n{title}: {len(calls)} calls")
        for line in calls:
            print("  ", line)
    files = len(site_files())
    blob_posts = [
        c for c in round_1_calls if c.startswith("POST") and c.split()[1].endswith("/git/blobs")
    ]
    assert len(blob_posts) == files
    assert not [c for c in round_1_calls + checkout_calls + round_2_calls if c.split()[2][0] == "5"]
    assert sum(1 for c in checkout_calls if "/git/blobs/" in c) == files + 1  # + README.md
    assert not [c for c in round_2_calls if c.startswith("POST /user/repos")]


async def test_a_workflow_site_waits_for_its_actions_run(forge: Forge) -> None:
    workflow = SiteFile(
        path=".github/workflows/pages.yml",
        content=b"name: pages\non: push\njobs: {}\n",
    )
    ref = task_ref("Analyze")
    event = await round_1(forge, ref, files=(*site_files(), workflow), pages_build="workflow")
    site = await forge.api(f"/repos/{OWNER}/Analyze/pages")
    assert site["build_type"] == "workflow"
    runs = await forge.api(f"/repos/{OWNER}/Analyze/actions/runs?head_sha={event.commit_sha}")
    assert [r["conclusion"] for r in runs["workflow_runs"]] == ["success"]
    async with forge.session.get(event.pages_url) as response:
        assert response.status == 200
    assert forge.deps.metrics.pages_late._value.get() == 0


async def test_twin_deliveries_at_once_make_one_repo_and_one_commit(forge: Forge) -> None:
    ref = task_ref()
    first, second = await asyncio.gather(round_1(forge, ref), round_1(forge, ref))
    assert (first.repo_url, first.commit_sha) == (second.repo_url, second.commit_sha)
    assert [r["name"] for r in await forge.api("/user/repos")] == ["ShareVolume"]
    commits = await forge.api(f"/repos/{OWNER}/ShareVolume/commits?sha=main")
    assert len(commits) == 2
