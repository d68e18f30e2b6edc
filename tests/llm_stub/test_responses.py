"""The Responses API through the real openai client."""

from __future__ import annotations

import openai
import pytest
from openai import AsyncOpenAI
from pydantic import BaseModel

from .conftest import Stub, message_of


class GeneratedFile(BaseModel):
    path: str
    content: str


class Site(BaseModel):
    files: list[GeneratedFile]


class LooseSite(BaseModel):
    files: dict[str, str]


WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather for a city",
    "strict": True,
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
}
SITE = {"files": [{"path": "index.html", "content": "<h1>Hi</h1>"}]}


async def test_parse_returns_the_scripted_structured_answer(stub: Stub, client: AsyncOpenAI):
    await stub.script(responses=[{"content": SITE}])

    response = await client.responses.parse(
        model="gpt-4o-mini", input="Build a page.", text_format=Site
    )

    assert response.output_parsed == Site.model_validate(SITE)
    assert response.status == "completed"
    assert response.id.startswith("resp_")
    message = response.output[0]
    assert message.type == "message"
    assert message.content[0].type == "output_text"
    assert response.usage is not None
    usage = response.usage
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens > 0


async def test_create_with_items_and_instructions(stub: Stub, client: AsyncOpenAI):
    await stub.script(match="be terse", responses=[{"content": "Hello."}])

    response = await client.responses.create(
        model="gpt-4o-mini",
        instructions="You are helpful; be terse.",
        input=[{"role": "user", "content": [{"type": "input_text", "text": "Say hello"}]}],
    )

    assert response.output_text == "Hello."
    assert response.instructions == "You are helpful; be terse."


async def test_function_call_round_trip_with_previous_response_id(stub: Stub, client: AsyncOpenAI):
    await stub.script(
        match="Oslo",
        responses=[
            {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}]},
            {"content": "Sunny in Oslo."},
        ],
    )

    first = await client.responses.create(
        model="gpt-4o-mini", input="Weather in Oslo?", tools=[WEATHER_TOOL]
    )
    call = first.output[0]
    assert call.type == "function_call"
    assert call.name == "get_weather"
    assert call.arguments == '{"city":"Oslo"}'
    assert call.call_id.startswith("call_")

    second = await client.responses.create(
        model="gpt-4o-mini",
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}],
        tools=[WEATHER_TOOL],
    )

    assert second.output_text == "Sunny in Oslo."
    assert second.previous_response_id == first.id


async def test_an_output_must_answer_a_call(client: AsyncOpenAI):
    with pytest.raises(openai.BadRequestError) as caught:
        await client.responses.create(
            model="gpt-4o-mini",
            input=[
                {"role": "user", "content": "hi"},
                {"type": "function_call_output", "call_id": "call_x", "output": "42"},
            ],
        )

    assert message_of(caught.value) == (
        "No tool call found for function call output with call_id call_x."
    )


async def test_a_call_must_get_an_output(stub: Stub, client: AsyncOpenAI):
    await stub.script(responses=[{"tool_calls": [{"name": "get_weather", "id": "call_1"}]}])
    first = await client.responses.create(model="gpt-4o-mini", input="hi", tools=[WEATHER_TOOL])

    with pytest.raises(openai.BadRequestError) as caught:
        await client.responses.create(
            model="gpt-4o-mini", previous_response_id=first.id, input="and then?"
        )

    assert message_of(caught.value) == "No tool output found for function call call_1."


async def test_an_unknown_previous_response_is_refused(client: AsyncOpenAI):
    with pytest.raises(openai.BadRequestError) as caught:
        await client.responses.create(
            model="gpt-4o-mini", previous_response_id="resp_nope", input="hi"
        )

    assert caught.value.code == "previous_response_not_found"


async def test_unstored_responses_cannot_be_continued(stub: Stub, client: AsyncOpenAI):
    first = await client.responses.create(model="gpt-4o-mini", input="hi", store=False)

    with pytest.raises(openai.BadRequestError):
        await client.responses.create(
            model="gpt-4o-mini", previous_response_id=first.id, input="again"
        )


async def test_length_gives_an_incomplete_response(stub: Stub, client: AsyncOpenAI):
    await stub.script(responses=[{"finish_reason": "length", "content": "Once upon a"}])

    response = await client.responses.create(
        model="gpt-4o-mini", input="Tell a story.", max_output_tokens=16
    )

    assert response.status == "incomplete"
    assert response.incomplete_details is not None
    assert response.incomplete_details.reason == "max_output_tokens"
    assert response.output_text == "Once upon a"


async def test_refusal_and_errors(stub: Stub, client: AsyncOpenAI):
    await stub.script(responses=[{"refusal": "No."}, {"status": 429}])

    refused = await client.responses.create(model="gpt-4o-mini", input="hi")
    with pytest.raises(openai.RateLimitError):
        await client.responses.create(model="gpt-4o-mini", input="hi")

    assert refused.output[0].content[0].type == "refusal"


async def test_retrieve_a_stored_response(stub: Stub, client: AsyncOpenAI):
    created = await client.responses.create(model="gpt-4o-mini", input="hi")

    fetched = await client.responses.retrieve(created.id)

    assert fetched.id == created.id
    assert fetched.output_text == created.output_text


async def test_non_strict_schema_is_refused_with_strict(client: AsyncOpenAI):
    with pytest.raises(openai.BadRequestError) as caught:
        await client.responses.parse(model="gpt-4o-mini", input="hi", text_format=LooseSite)

    assert caught.value.param == "text.format.schema"
    assert caught.value.code == "invalid_json_schema"
    assert "'additionalProperties' is required" in message_of(caught.value)


@pytest.mark.parametrize(
    ("kwargs", "param", "fragment"),
    [
        (
            {"tools": [{"type": "function", "function": {"name": "get_weather"}}]},
            "tools[0].name",
            "Missing required parameter",
        ),
        (
            {"extra_body": {"response_format": {"type": "json_object"}}},
            "response_format",
            "moved to 'text.format'",
        ),
        ({"max_output_tokens": 5}, "max_output_tokens", "Expected a value >= 16"),
        (
            {"instructions": "Answer in JSON.", "text": {"format": {"type": "json_object"}}},
            "text.format",
            "the word 'json'",
        ),
        (
            {"text": {"format": {"type": "json_schema", "schema": {"type": "object"}}}},
            "text.format.name",
            "Missing required parameter",
        ),
        ({"model": "gpt-5-mini", "temperature": 0.3}, "temperature", "not supported"),
        ({"stream": True}, "stream", "not supported by the stub"),
    ],
)
async def test_openai_request_checks(client: AsyncOpenAI, kwargs: dict, param: str, fragment):
    call = {"model": "gpt-4o-mini", "input": "hi"} | kwargs

    with pytest.raises(openai.BadRequestError) as caught:
        await client.responses.create(**call)

    assert caught.value.param == param
    assert fragment in message_of(caught.value)


async def test_assistant_history_takes_output_parts_only(client: AsyncOpenAI):
    with pytest.raises(openai.BadRequestError) as caught:
        await client.responses.create(
            model="gpt-4o-mini",
            input=[
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": [{"type": "input_text", "text": "hello"}]},
            ],
        )

    assert caught.value.param == "input[1].content[0]"
