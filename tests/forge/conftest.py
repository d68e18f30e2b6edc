"""The forge in-process on a loopback port, and a gidgethub client pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from forge.app import create_app
from forge.settings import ForgeSettings
from gidgethub.aiohttp import GitHubAPI

from tests.forge.helpers import GH, ORG, OTHER_TOKEN, TOKEN


@pytest.fixture
def settings(tmp_path: Path) -> ForgeSettings:
    return ForgeSettings(
        data_dir=tmp_path / "forge-data",
        extra_tokens={OTHER_TOKEN: "outsider"},
        orgs=(ORG,),
        pages_build_seconds=0.2,
    )


@pytest.fixture
async def server(settings: ForgeSettings) -> AsyncIterator[TestServer]:
    test_server = TestServer(create_app(settings), host="127.0.0.1")
    async with test_server:
        yield test_server


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def api_url(server: TestServer) -> str:
    return str(server.make_url("/api/v3"))


@pytest.fixture
def make_gh(session: aiohttp.ClientSession, api_url: str) -> Callable[..., GH]:
    def make(token: str | None = TOKEN) -> GH:
        return GH(GitHubAPI(session, "pagesmith-tests", oauth_token=token, base_url=api_url))

    return make


@pytest.fixture
def gh(make_gh: Callable[..., GH]) -> GH:
    return make_gh()


@pytest.fixture
def control(server: TestServer) -> Callable[[str], str]:
    """URL of a control API path, e.g. control("/faults")."""
    return lambda path: str(server.make_url("/_forge" + path))
