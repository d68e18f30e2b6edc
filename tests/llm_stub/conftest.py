"""The stub on a real loopback port, the real openai client, and the control API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from llm_stub.app import create_app
from llm_stub.settings import StubSettings
from openai import APIStatusError, AsyncOpenAI


@dataclass
class Stub:
    server: TestServer
    http: ClientSession

    @property
    def base_url(self) -> str:
        return str(self.server.make_url("/v1"))

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    async def script(self, **script: Any) -> str:
        async with self.http.post(self.url("/_stub/scripts"), json=script) as resp:
            assert resp.status == 201, await resp.text()
            return str((await resp.json())["id"])

    async def requests(self) -> list[dict[str, Any]]:
        async with self.http.get(self.url("/_stub/requests")) as resp:
            return list((await resp.json())["requests"])

    async def scripts(self) -> list[dict[str, Any]]:
        async with self.http.get(self.url("/_stub/scripts")) as resp:
            return list((await resp.json())["scripts"])


def message_of(error: APIStatusError) -> str:
    """The error body's message (the SDK's str() prefixes "Error code: 400 - ")."""
    assert isinstance(error.body, dict)
    return str(error.body["message"])


def settings(**overrides: Any) -> StubSettings:
    """Explicit values, so that LLM_STUB_* in the developer's shell cannot leak in."""
    values: dict[str, Any] = {"host": "127.0.0.1", "port": 0, "key": None, "scripts": None}
    return StubSettings(**(values | overrides))


async def start(stub_settings: StubSettings) -> AsyncIterator[Stub]:
    server = TestServer(create_app(stub_settings), host="127.0.0.1")
    await server.start_server()
    async with ClientSession() as http:
        yield Stub(server, http)
    await server.close()


@pytest.fixture
async def stub() -> AsyncIterator[Stub]:
    async for running in start(settings()):
        yield running


@pytest.fixture
async def client(stub: Stub) -> AsyncIterator[AsyncOpenAI]:
    openai_client = AsyncOpenAI(base_url=stub.base_url, api_key="test", max_retries=0)
    yield openai_client
    await openai_client.close()
