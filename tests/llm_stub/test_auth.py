"""Bearer keys, OpenAI's 401s, unknown URLs and unparsable bodies."""

from __future__ import annotations

from collections.abc import AsyncIterator

import openai
import pytest
from openai import AsyncOpenAI

from .conftest import Stub, settings, start

USER = [{"role": "user", "content": "hi"}]


@pytest.fixture
async def keyed() -> AsyncIterator[Stub]:
    async for running in start(settings(key="sk-stub-secret-1234")):
        yield running


async def test_the_configured_key_is_required(keyed: Stub):
    good = AsyncOpenAI(base_url=keyed.base_url, api_key="sk-stub-secret-1234", max_retries=0)
    bad = AsyncOpenAI(base_url=keyed.base_url, api_key="sk-wrong-key-0000", max_retries=0)

    completion = await good.chat.completions.create(model="gpt-4o-mini", messages=USER)
    with pytest.raises(openai.AuthenticationError) as caught:
        await bad.chat.completions.create(model="gpt-4o-mini", messages=USER)

    assert completion.choices[0].message.content
    assert caught.value.code == "invalid_api_key"
    assert caught.value.type == "invalid_request_error"
    assert "Incorrect API key provided: sk-**********0000." in caught.value.message
    await good.close()
    await bad.close()


@pytest.mark.parametrize("key", [None, "sk-stub-secret-1234"])
async def test_a_missing_key_is_always_401(key: str | None):
    async for running in start(settings(key=key)):
        async with running.http.post(
            running.url("/v1/chat/completions"), json={"model": "m", "messages": USER}
        ) as resp:
            body = await resp.json()

    assert resp.status == 401
    assert body["error"]["message"].startswith("You didn't provide an API key.")
    assert set(body["error"]) == {"message", "type", "param", "code"}


async def test_any_key_passes_when_none_is_configured(stub: Stub):
    client = AsyncOpenAI(base_url=stub.base_url, api_key="whatever", max_retries=0)

    completion = await client.chat.completions.create(model="gpt-4o-mini", messages=USER)

    assert completion.choices[0].message.content
    await client.close()


async def test_control_api_needs_no_key(keyed: Stub):
    async with keyed.http.get(keyed.url("/_stub/scripts")) as resp:
        assert resp.status == 200


async def test_unknown_urls_answer_like_openai(stub: Stub):
    headers = {"Authorization": "Bearer test"}
    async with stub.http.post(stub.url("/v1/completions/nope"), headers=headers) as resp:
        body = await resp.json()

    assert resp.status == 404
    assert body["error"]["message"] == "Invalid URL (POST /v1/completions/nope)"
    assert resp.headers["x-request-id"].startswith("req_")


async def test_unparsable_json_is_a_400(stub: Stub):
    headers = {"Authorization": "Bearer test", "Content-Type": "application/json"}
    async with stub.http.post(
        stub.url("/v1/chat/completions"), data=b"{not json", headers=headers
    ) as resp:
        body = await resp.json()

    assert resp.status == 400
    assert body["error"]["message"].startswith("We could not parse the JSON body")
