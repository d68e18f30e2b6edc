"""Scripts: matching, order, exhaustion, repetition, delays, and the file loaded at start."""

from __future__ import annotations

import json
from pathlib import Path

import openai
import pytest
from openai import AsyncOpenAI

from .conftest import Stub, settings, start


async def ask(client: AsyncOpenAI, text: str, model: str = "gpt-4o-mini") -> str | None:
    completion = await client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": text}]
    )
    return completion.choices[0].message.content


async def test_first_matching_script_answers_in_order(stub: Stub, client: AsyncOpenAI):
    await stub.script(match="round 2", responses=[{"content": "second round"}])
    await stub.script(responses=[{"content": "one"}, {"content": "two"}])

    assert await ask(client, "round 1") == "one"
    assert await ask(client, "this is round 2") == "second round"
    assert await ask(client, "round 2 again") == "two"  # the first script is used up
    assert await ask(client, "anything") == "This is the llm stub's demo answer."


async def test_repeat_last_keeps_answering(stub: Stub, client: AsyncOpenAI):
    await stub.script(responses=[{"content": "a"}, {"content": "b"}], repeat_last=True)

    answers = [await ask(client, "hi") for _ in range(4)]

    assert answers == ["a", "b", "b", "b"]
    [listed] = await stub.scripts()
    assert listed["used"] == 4
    assert listed["remaining"] is None
    assert listed["exhausted"] is False


async def test_model_must_match_exactly(stub: Stub, client: AsyncOpenAI):
    await stub.script(model="gpt-5-mini", responses=[{"content": "from gpt-5-mini"}])

    assert await ask(client, "hi", model="gpt-4o-mini") == "This is the llm stub's demo answer."
    assert await ask(client, "hi", model="gpt-5-mini") == "from gpt-5-mini"


async def test_match_sees_system_and_tool_text(stub: Stub, client: AsyncOpenAI):
    await stub.script(match="SELF-CHECK", responses=[{"content": "checked"}])

    completion = await client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "system", "content": [{"type": "text", "text": "Run the SELF-CHECK."}]},
            {"role": "user", "content": "go"},
        ],
    )

    assert completion.choices[0].message.content == "checked"


async def test_a_script_may_name_itself_and_need_several_parts(stub: Stub, client: AsyncOpenAI):
    # How the quickstart script knows its request: the brief and the exact data, both present.
    sid = await stub.script(
        id="greeting", match=["hello", "world"], responses=[{"content": "hi there"}]
    )

    assert sid == "greeting"
    assert await ask(client, "hello, you") == "This is the llm stub's demo answer."
    assert await ask(client, "world, hello") == "hi there"
    assert [e["answered_by"] for e in await stub.requests()] == ["demo", "greeting"]
    [listed] = await stub.scripts()
    assert (listed["id"], listed["match"]) == ("greeting", ["hello", "world"])

    async with stub.http.post(
        stub.url("/_stub/scripts"), json={"id": "greeting", "responses": [{"content": "x"}]}
    ) as resp:
        assert resp.status == 400
        assert "'greeting' is taken" in (await resp.json())["error"]["message"]


async def test_remaining_counts(stub: Stub, client: AsyncOpenAI):
    script_id = await stub.script(responses=[{"content": "a"}, {"content": "b"}])
    await ask(client, "hi")

    [listed] = await stub.scripts()

    assert listed["id"] == script_id
    assert (listed["used"], listed["remaining"], listed["exhausted"]) == (1, 1, False)


async def test_raw_string_arguments_go_out_verbatim(stub: Stub, client: AsyncOpenAI):
    await stub.script(responses=[{"tool_calls": [{"name": "f", "arguments": "{not json"}]}])
    tool = {"type": "function", "function": {"name": "f", "parameters": {}}}

    completion = await client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], tools=[tool]
    )

    calls = completion.choices[0].message.tool_calls
    assert calls is not None
    assert calls[0].function.arguments == "{not json"


async def test_delay_lets_a_client_time_out(stub: Stub, client: AsyncOpenAI):
    await stub.script(responses=[{"content": "late", "delay": 2}])

    with pytest.raises(openai.APITimeoutError):
        await client.with_options(timeout=0.2).chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )


async def test_impossible_replies_are_flagged_in_the_log(stub: Stub, client: AsyncOpenAI):
    await stub.script(responses=[{"tool_calls": [{"name": "launch", "arguments": {}}]}])

    await ask(client, "hi")

    [entry] = await stub.requests()
    assert entry["warnings"] == ["scripted a call to 'launch', which the request does not offer"]


@pytest.mark.parametrize(
    ("script", "fragment"),
    [
        ({"responses": []}, "responses: expected a non-empty list"),
        ({"responses": [{"contnet": "typo"}]}, "unknown keys ['contnet']"),
        ({"responses": [{"status": 200}]}, "expected an HTTP error status"),
        ({"responses": [{"finish_reason": "length"}]}, "needs one of content"),
        ({"match": 3, "responses": [{"content": "x"}]}, "match: expected a string"),
        ({"responses": [{"content": "x"}], "repeat": True}, "unknown script keys"),
        ({"match": [], "responses": [{"content": "x"}]}, "a non-empty list of strings"),
        ({"match": ["a", 1], "responses": [{"content": "x"}]}, "a non-empty list of strings"),
        ({"id": "demo", "responses": [{"content": "x"}]}, "other than 'demo' and 'script-<n>'"),
        ({"id": "script-7", "responses": [{"content": "x"}]}, "other than 'demo'"),
        ({"id": "two words", "responses": [{"content": "x"}]}, "id: expected up to 64"),
    ],
)
async def test_bad_scripts_are_refused(stub: Stub, script: dict, fragment: str):
    async with stub.http.post(stub.url("/_stub/scripts"), json=script) as resp:
        body = await resp.json()

    assert resp.status == 400
    assert fragment in body["error"]["message"]


async def test_a_batch_is_all_or_nothing(stub: Stub):
    batch = [{"responses": [{"content": "ok"}]}, {"responses": "nope"}]

    async with stub.http.post(stub.url("/_stub/scripts"), json=batch) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"]["message"].startswith("llm-stub: scripts[1]:")
    assert await stub.scripts() == []

    async with stub.http.post(stub.url("/_stub/scripts"), json=batch[:1] * 2) as resp:
        assert len((await resp.json())["ids"]) == 2


async def test_scripts_file_is_loaded_at_start(tmp_path: Path):
    path = tmp_path / "scripts.json"
    path.write_text(json.dumps([{"match": "hi", "responses": [{"content": "from file"}]}]))

    async for stub in start(settings(scripts=path)):
        client = AsyncOpenAI(base_url=stub.base_url, api_key="test", max_retries=0)
        assert await ask(client, "hi") == "from file"
        await client.close()


async def test_answers_that_break_a_strict_schema_are_flagged(stub: Stub, client: AsyncOpenAI):
    schema = {
        "type": "object",
        "properties": {"files": {"type": "array", "items": {"type": "string"}}},
        "required": ["files"],
        "additionalProperties": False,
    }
    await stub.script(responses=[{"content": {"files": "index.html"}}])

    completion = await client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "hi"}],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "site", "schema": schema, "strict": True},
        },
    )

    assert completion.choices[0].message.content == '{"files":"index.html"}'  # as scripted
    [entry] = await stub.requests()
    assert entry["warnings"] == [
        "the content breaks the strict schema 'site': $.files: expected array, got str"
    ]
