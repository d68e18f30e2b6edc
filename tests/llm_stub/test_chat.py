"""Chat Completions through the real openai client: answers, errors and OpenAI's checks."""

from __future__ import annotations

import json
from typing import Annotated, Literal

import openai
import pytest
from openai import AsyncOpenAI
from pydantic import BaseModel, Field

from .conftest import Stub, message_of


class GeneratedFile(BaseModel):
    path: str
    content: str


class Site(BaseModel):
    files: list[GeneratedFile]
    summary: str | None


class LooseSite(BaseModel):
    files: dict[str, str]  # the mistake strict mode refuses (ecosystem notes, gotcha 2)


class GetWeather(BaseModel):
    city: str


USER = [{"role": "user", "content": "Build a counter page."}]
SITE = {"files": [{"path": "index.html", "content": "<h1>Counter</h1>"}], "summary": None}


async def test_parse_returns_the_scripted_structured_answer(stub: Stub, client: AsyncOpenAI):
    await stub.script(responses=[{"content": SITE}])

    completion = await client.chat.completions.parse(
        model="gpt-4o-mini", messages=USER, response_format=Site
    )

    message = completion.choices[0].message
    assert message.refusal is None
    assert message.parsed == Site.model_validate(SITE)
    assert completion.choices[0].finish_reason == "stop"
    assert completion.id.startswith("chatcmpl-")
    assert completion.object == "chat.completion"
    assert completion.model == "gpt-4o-mini"
    assert completion.system_fingerprint
    usage = completion.usage
    assert usage is not None
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens > 0


async def test_a_refusal_surfaces_as_message_refusal(stub: Stub, client: AsyncOpenAI):
    await stub.script(responses=[{"refusal": "I can't help with that."}])

    completion = await client.chat.completions.parse(
        model="gpt-4o-mini", messages=USER, response_format=Site
    )

    message = completion.choices[0].message
    assert message.refusal == "I can't help with that."
    assert message.content is None
    assert message.parsed is None


async def test_length_makes_parse_raise(stub: Stub, client: AsyncOpenAI):
    await stub.script(responses=[{"finish_reason": "length", "content": '{"files": [{"pa'}])

    with pytest.raises(openai.LengthFinishReasonError):
        await client.chat.completions.parse(
            model="gpt-4o-mini", messages=USER, response_format=Site
        )


async def test_content_filter_makes_parse_raise(stub: Stub, client: AsyncOpenAI):
    await stub.script(responses=[{"finish_reason": "content_filter", "content": None}])

    with pytest.raises(openai.ContentFilterFinishReasonError):
        await client.chat.completions.parse(
            model="gpt-4o-mini", messages=USER, response_format=Site
        )


async def test_scripted_500_and_429_raise_the_sdk_errors(stub: Stub, client: AsyncOpenAI):
    await stub.script(
        responses=[
            {"status": 500},
            {"status": 429, "headers": {"retry-after": "1"}},
            {"status": 429, "error": {"code": "insufficient_quota"}},
            {"status": 503},
        ]
    )

    with pytest.raises(openai.InternalServerError) as server_error:
        await client.chat.completions.create(model="gpt-4o-mini", messages=USER)
    with pytest.raises(openai.RateLimitError) as limited:
        await client.chat.completions.create(model="gpt-4o-mini", messages=USER)
    with pytest.raises(openai.RateLimitError) as quota:
        await client.chat.completions.create(model="gpt-4o-mini", messages=USER)
    with pytest.raises(openai.InternalServerError) as overloaded:
        await client.chat.completions.create(model="gpt-4o-mini", messages=USER)

    assert server_error.value.status_code == 500
    assert server_error.value.type == "server_error"
    assert limited.value.code == "rate_limit_exceeded"
    assert limited.value.response.headers["retry-after"] == "1"
    assert quota.value.code == "insufficient_quota"
    assert quota.value.type == "insufficient_quota"
    assert overloaded.value.status_code == 503


async def test_tool_call_round_trip(stub: Stub, client: AsyncOpenAI):
    await stub.script(
        match="weather in Oslo",
        responses=[
            {"tool_calls": [{"name": "GetWeather", "arguments": {"city": "Oslo"}}]},
            {"content": "It is sunny in Oslo."},
        ],
    )
    tools = [openai.pydantic_function_tool(GetWeather)]
    messages: list = [{"role": "user", "content": "What is the weather in Oslo?"}]

    first = await client.chat.completions.parse(model="gpt-4o-mini", messages=messages, tools=tools)
    assistant = first.choices[0].message
    assert first.choices[0].finish_reason == "tool_calls"
    assert assistant.content is None
    call = assistant.tool_calls[0]
    assert call.id.startswith("call_")
    assert call.function.arguments == '{"city":"Oslo"}'
    assert call.function.parsed_arguments == GetWeather(city="Oslo")

    messages += [assistant, {"role": "tool", "tool_call_id": call.id, "content": "sunny, 21C"}]
    second = await client.chat.completions.parse(
        model="gpt-4o-mini", messages=messages, tools=tools
    )

    assert second.choices[0].message.content == "It is sunny in Oslo."
    sent = (await stub.requests())[1]["body"]["messages"]
    assert sent[2] == {"role": "tool", "tool_call_id": call.id, "content": "sunny, 21C"}


async def test_a_tool_message_must_answer_an_earlier_tool_call(client: AsyncOpenAI):
    messages = [
        {"role": "user", "content": "hi"},
        {"role": "tool", "tool_call_id": "call_nowhere", "content": "42"},
    ]

    with pytest.raises(openai.BadRequestError) as caught:
        await client.chat.completions.create(model="gpt-4o-mini", messages=messages)

    assert "must be a response to a preceeding message with 'tool_calls'" in caught.value.message
    assert caught.value.param == "messages.[1].role"


async def test_every_tool_call_needs_a_tool_message(client: AsyncOpenAI):
    call = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    messages = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "user", "content": "and?"},
    ]

    with pytest.raises(openai.BadRequestError) as caught:
        await client.chat.completions.create(model="gpt-4o-mini", messages=messages)

    assert "did not have response messages: call_1" in caught.value.message


async def test_tool_call_arguments_must_go_back_as_a_string(client: AsyncOpenAI):
    call = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": {}}}
    messages = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_1", "content": "ok"},
    ]

    with pytest.raises(openai.BadRequestError) as caught:
        await client.chat.completions.create(model="gpt-4o-mini", messages=messages)

    assert caught.value.param == "messages[1].tool_calls[0].function.arguments"
    assert caught.value.code == "invalid_type"


async def test_dict_str_str_is_refused_in_strict_mode(stub: Stub, client: AsyncOpenAI):
    await stub.script(responses=[{"content": {"files": {"index.html": "x"}}}])

    with pytest.raises(openai.BadRequestError) as caught:
        await client.chat.completions.parse(
            model="gpt-4o-mini", messages=USER, response_format=LooseSite
        )

    assert message_of(caught.value) == (
        "Invalid schema for response_format 'LooseSite': In context=('properties', 'files'), "
        "'additionalProperties' is required to be supplied and to be false."
    )
    assert caught.value.param == "response_format"
    assert await stub.scripts() and (await stub.scripts())[0]["used"] == 0  # never answered


class Draft(BaseModel):
    title: str
    notes: str | None = None  # has a default, so pydantic leaves it out of "required"


async def test_raw_schema_with_an_optional_property_is_refused(client: AsyncOpenAI):
    schema = Draft.model_json_schema() | {"additionalProperties": False}
    response_format = {
        "type": "json_schema",
        "json_schema": {"name": "site", "schema": schema, "strict": True},
    }

    with pytest.raises(openai.BadRequestError) as caught:
        await client.chat.completions.create(
            model="gpt-4o-mini", messages=USER, response_format=response_format
        )

    assert message_of(caught.value).endswith(
        "In context=(), 'required' is required to be supplied and to be an array including "
        "every key in properties. Missing 'notes'."
    )


async def test_the_same_schema_without_strict_is_accepted(stub: Stub, client: AsyncOpenAI):
    await stub.script(responses=[{"content": {"files": {"a": "b"}}}])
    response_format = {
        "type": "json_schema",
        "json_schema": {"name": "site", "schema": LooseSite.model_json_schema()},
    }

    completion = await client.chat.completions.create(
        model="gpt-4o-mini", messages=USER, response_format=response_format
    )

    assert json.loads(completion.choices[0].message.content or "") == {"files": {"a": "b"}}


class Cat(BaseModel):
    kind: Literal["cat"]


class Dog(BaseModel):
    kind: Literal["dog"]


class Pet(BaseModel):
    pet: Annotated[Cat | Dog, Field(discriminator="kind")]


async def test_discriminated_unions_are_refused(client: AsyncOpenAI):
    with pytest.raises(openai.BadRequestError) as caught:
        await client.chat.completions.parse(model="gpt-4o-mini", messages=USER, response_format=Pet)

    assert "In context=('properties', 'pet'), 'oneOf' is not permitted." in caught.value.message


async def test_a_strict_tool_with_an_open_object_is_refused(client: AsyncOpenAI):
    tool = {
        "type": "function",
        "function": {
            "name": "write_files",
            "strict": True,
            "parameters": {"type": "object", "properties": {"files": {"type": "object"}}},
        },
    }

    with pytest.raises(openai.BadRequestError) as caught:
        await client.chat.completions.create(model="gpt-4o-mini", messages=USER, tools=[tool])

    assert message_of(caught.value).startswith("Invalid schema for function 'write_files': ")
    assert caught.value.param == "tools[0].function.parameters"
    assert caught.value.code == "invalid_function_parameters"


@pytest.mark.parametrize(
    ("kwargs", "param", "fragment"),
    [
        ({"messages": []}, "messages", "empty array"),
        ({"extra_body": {"temprature": 0.2}}, "temprature", "Unknown parameter"),
        ({"temperature": 3}, "temperature", "Expected a value <= 2"),
        ({"messages": [{"role": "robot", "content": "hi"}]}, "messages[0].role", "'robot'"),
        ({"messages": [{"role": "user"}]}, "messages[0].content", "Missing required"),
        ({"tools": []}, "tools", "empty array"),
        ({"tool_choice": "auto"}, "tool_choice", "only allowed when 'tools'"),
        ({"response_format": {"type": "json"}}, "response_format.type", "'json'"),
        (
            {"response_format": {"type": "json_schema", "schema": {}}},
            "response_format.schema",
            "Unknown parameter",
        ),
        ({"response_format": {"type": "json_object"}}, "messages", "the word 'json'"),
        ({"stream": True}, "stream", "not supported by the stub"),
    ],
)
async def test_openai_request_checks(client: AsyncOpenAI, kwargs: dict, param: str, fragment):
    call = {"model": "gpt-4o-mini", "messages": USER} | kwargs

    with pytest.raises(openai.BadRequestError) as caught:
        await client.chat.completions.create(**call)

    assert caught.value.param == param
    assert fragment in caught.value.message


async def test_a_missing_model_is_refused(client: AsyncOpenAI):
    with pytest.raises(openai.BadRequestError) as caught:
        await client.chat.completions.create(messages=USER, extra_body={"model": None}, model="")

    assert "model" in caught.value.message


async def test_reasoning_models_refuse_sampling_parameters(client: AsyncOpenAI):
    with pytest.raises(openai.BadRequestError) as temperature:
        await client.chat.completions.create(model="gpt-5-mini", messages=USER, temperature=0.2)
    with pytest.raises(openai.BadRequestError) as max_tokens:
        await client.chat.completions.create(model="o4-mini", messages=USER, max_tokens=100)

    assert temperature.value.code == "unsupported_value"
    assert max_tokens.value.param == "max_tokens"


async def test_images_must_be_images(client: AsyncOpenAI):
    content = [
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/svg+xml;base64,PHN2Zy8+"}},
    ]

    with pytest.raises(openai.BadRequestError) as caught:
        await client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": content}]
        )

    assert "unsupported MIME type 'image/svg+xml'" in caught.value.message


async def test_n_gives_that_many_choices(stub: Stub, client: AsyncOpenAI):
    await stub.script(responses=[{"content": "hello"}])

    completion = await client.chat.completions.create(model="gpt-4o-mini", messages=USER, n=2)

    assert [c.message.content for c in completion.choices] == ["hello", "hello"]
    assert [c.index for c in completion.choices] == [0, 1]
