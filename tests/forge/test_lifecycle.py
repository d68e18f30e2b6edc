"""Settings from the environment, state that survives a restart, eventual consistency."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import BaseTestServer, TestServer
from forge.app import create_app
from forge.settings import ForgeSettings
from gidgethub import BadRequest
from gidgethub.aiohttp import GitHubAPI

from tests.forge.helpers import GH, TOKEN, commit_files, git, new_repo


def test_settings_from_env(tmp_path: Path) -> None:
    settings = ForgeSettings.from_env(
        {
            "FORGE_PORT": "9000",
            "FORGE_DATA_DIR": str(tmp_path),
            "FORGE_TOKENS": "t1:alice,t2:bob",
            "FORGE_ORGS": "acme, labs",
            "FORGE_PAGES_BUILD_SECONDS": "0.5",
            "FORGE_LAG_SECONDS": "2",
        }
    )
    assert settings.public_url == "http://127.0.0.1:9000"
    assert settings.tokens == {"t1": "alice", "t2": "bob", "forge-dev-token": "pagesmith-dev"}
    assert settings.orgs == ("acme", "labs")
    assert (settings.pages_build_seconds, settings.lag_seconds) == (0.5, 2.0)
    assert ForgeSettings.from_env({}).data_dir.is_dir()  # a fresh temp dir by default
    with pytest.raises(ValueError):
        ForgeSettings.from_env({"FORGE_TOKENS": "no-user"})


async def _gh(session: aiohttp.ClientSession, server: BaseTestServer) -> GH:
    api = GitHubAPI(session, "t", oauth_token=TOKEN, base_url=str(server.make_url("/api/v3")))
    return GH(api)


async def test_restart_keeps_repos_refs_and_pages(
    settings: ForgeSettings, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    async with TestServer(create_app(settings)) as first:
        gh = await _gh(session, first)
        repo = await new_repo(gh, "durable", auto_init=True)
        sha = await commit_files(gh, repo["full_name"], {"index.html": b"kept"})
        await gh.post("/repos/pagesmith-dev/durable/pages", data={"build_type": "legacy"})
        await asyncio.sleep(settings.pages_build_seconds + 0.2)
    async with TestServer(create_app(settings)) as second:
        gh = await _gh(session, second)
        again = await gh.get("/repos/pagesmith-dev/durable")
        assert again["id"] == repo["id"]
        assert (await gh.get("/repos/pagesmith-dev/durable/git/ref/heads/main"))["object"][
            "sha"
        ] == sha
        assert (await gh.get("/repos/pagesmith-dev/durable/pages/builds/latest"))[
            "status"
        ] == "built"
        async with session.get(second.make_url("/pages/pagesmith-dev/durable/")) as resp:
            assert await resp.text() == "kept"
        second_repo = await new_repo(gh, "another")
        assert second_repo["id"] > repo["id"]  # ids are never reused
        await git("clone", "--quiet", again["clone_url"], str(tmp_path / "c"))


async def test_lag_makes_a_new_repo_briefly_invisible(
    settings: ForgeSettings, session: aiohttp.ClientSession
) -> None:
    lagging = dataclasses.replace(settings, lag_seconds=0.3)
    async with TestServer(create_app(lagging)) as server:
        gh = await _gh(session, server)
        await new_repo(gh, "eventual", auto_init=True)
        with pytest.raises(BadRequest) as info:
            await gh.get("/repos/pagesmith-dev/eventual")
        assert info.value.status_code == 404
        with pytest.raises(BadRequest) as info:
            await gh.get("/repos/pagesmith-dev/eventual/git/ref/heads/main")
        assert info.value.status_code == 409
        await asyncio.sleep(0.35)
        assert (await gh.get("/repos/pagesmith-dev/eventual/git/ref/heads/main"))["ref"]
