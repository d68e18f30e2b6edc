"""The built-in demo answer the quickstart runs on."""

from __future__ import annotations

import logging
from typing import Literal

import lxml.html
import pytest
from llm_stub.demo import DEMO_TEXT, find_brief
from openai import AsyncOpenAI
from pydantic import BaseModel

from .conftest import Stub


class SiteFile(BaseModel):
    path: str
    content: str
    mode: Literal["text", "base64"]


class Meta(BaseModel):
    title: str
    tags: list[str]
    draft: bool
    count: int
    score: float


class GeneratedSite(BaseModel):
    files: list[SiteFile]
    notes: str | None
    meta: Meta


BRIEF = 'Build a page that greets <script>alert("x")</script> & counts clicks.'
PROMPT = f"You write static sites.\n<brief>\n{BRIEF}\n</brief>\nReturn the files."


async def test_demo_answer_satisfies_a_files_schema(
    stub: Stub, client: AsyncOpenAI, caplog: pytest.LogCaptureFixture
):
    with caplog.at_level(logging.WARNING, logger="llm_stub"):
        completion = await client.chat.completions.parse(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": PROMPT}],
            response_format=GeneratedSite,
        )

    site = completion.choices[0].message.parsed
    assert site is not None
    assert [f.path for f in site.files] == ["index.html", "README.md"]
    assert [f.mode for f in site.files] == ["text", "text"]
    assert site.notes is None
    assert site.meta == Meta(title="", tags=[], draft=False, count=0, score=0)
    assert "llm-stub: no script matched; answering with the built-in demo answer" in caplog.text
    assert (await stub.requests())[0]["answered_by"] == "demo"

    page = lxml.html.fromstring(site.files[0].content)
    assert page.findtext(".//title")
    assert page.findtext(".//h1")
    assert page.get_element_by_id("brief").text_content() == BRIEF  # shown, escaped
    assert page.xpath("//script") == []
    assert "llm stub's demo answer" in page.get_element_by_id("llm-stub-note").text_content()
    readme = site.files[1].content
    for section in ("## Summary", "## Setup", "## Usage", "## Code explanation", "## License"):
        assert section in readme
    assert "MIT" in readme.split("## License")[1]
    assert BRIEF in readme


async def test_demo_answer_through_the_responses_api(client: AsyncOpenAI):
    response = await client.responses.parse(
        model="gpt-4o-mini", input=PROMPT, text_format=GeneratedSite
    )

    assert response.output_parsed is not None
    assert response.output_parsed.files[1].path == "README.md"


async def test_plain_demo_answer_never_calls_tools(client: AsyncOpenAI):
    tool = {"type": "function", "function": {"name": "f", "parameters": {}}}

    completion = await client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], tools=[tool]
    )

    message = completion.choices[0].message
    assert message.content == DEMO_TEXT
    assert message.tool_calls is None
    assert completion.choices[0].finish_reason == "stop"


async def test_json_object_demo_answer_is_an_object(client: AsyncOpenAI):
    completion = await client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Answer in JSON."}],
        response_format={"type": "json_object"},
    )

    assert completion.choices[0].message.content == '{"answer": "' + DEMO_TEXT + '"}'


def test_brief_from_a_brief_line_section():
    text = "Task 7\nBRIEF: Make a clock.\nIt ticks.\nATTACHMENTS:\n- a.png"

    assert find_brief(["older message", text]) == "Make a clock.\nIt ticks."


def test_brief_falls_back_to_the_last_user_message_truncated():
    text = "x" * 5000

    brief = find_brief(["first", text])

    assert len(brief) == 2000
    assert brief.endswith("…")
