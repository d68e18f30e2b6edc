"""The control API and the request log."""

from __future__ import annotations

from openai import AsyncOpenAI

from .conftest import Stub


async def test_the_log_holds_every_request_with_its_exact_body(stub: Stub, client: AsyncOpenAI):
    await client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "hi ✓"}],
        temperature=0.5,
        extra_body={"seed": 7},
    )
    await client.responses.create(model="gpt-4o-mini", input="bye")

    first, second = await stub.requests()

    assert first["method"] == "POST"
    assert first["path"] == "/v1/chat/completions"
    assert first["body"] == {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "hi ✓"}],
        "temperature": 0.5,
        "seed": 7,
    }
    assert first["headers"]["Authorization"] == "<redacted>"
    assert first["status"] == 200
    assert first["answered_by"] == "demo"
    assert first["time"].endswith("+00:00")
    assert second["path"] == "/v1/responses"
    assert second["body"]["input"] == "bye"


async def test_failed_requests_are_logged_too(stub: Stub):
    async with stub.http.post(stub.url("/v1/chat/completions"), data=b"{oops") as resp:
        assert resp.status == 401  # no Authorization header at all

    [entry] = await stub.requests()
    assert entry["body"] == "{oops"
    assert entry["status"] == 401


async def test_clearing_and_reset(stub: Stub, client: AsyncOpenAI):
    await stub.script(responses=[{"content": "x"}])
    await client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    )

    async with stub.http.delete(stub.url("/_stub/requests")) as resp:
        assert (await resp.json()) == {"cleared": 1}
    assert await stub.requests() == []

    await stub.script(responses=[{"content": "y"}])
    async with stub.http.post(stub.url("/_stub/reset")) as resp:
        assert resp.status == 200
    assert await stub.scripts() == []

    await stub.script(responses=[{"content": "z"}])
    async with stub.http.delete(stub.url("/_stub/scripts")) as resp:
        assert (await resp.json()) == {"cleared": 1}


async def test_healthz_and_models(stub: Stub, client: AsyncOpenAI):
    await stub.script(model="my-test-model", responses=[{"content": "x"}])

    async with stub.http.get(stub.url("/_stub/healthz")) as resp:
        assert (await resp.json()) == {"status": "ok"}
    models = [m.id async for m in client.models.list()]
    one = await client.models.retrieve("anything-at-all")

    assert "gpt-4o-mini" in models
    assert "my-test-model" in models
    assert one.id == "anything-at-all"
    assert [e["path"] for e in await stub.requests()] == [
        "/v1/models",
        "/v1/models/anything-at-all",
    ]
