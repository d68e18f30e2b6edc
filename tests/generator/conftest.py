"""Generator fixtures: a scripted OpenAI endpoint (httpx2.MockTransport), Deps, real tasks."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pytest
import stamina
from generator.adapters.llm import OpenAiLlm
from generator.deps import Deps
from generator.metrics import GeneratorMetrics
from generator.ports import FetchResult
from generator.secrets import SecretScanner
from generator.settings import GeneratorSettings
from openai import AsyncOpenAI
from pagesmith_contracts import TaskRequest, TaskSubmittedV1, make_task_ref
from prometheus_client import CollectorRegistry

from tests.support.fixtures import TDS_TASKS

OWN_SECRET = "sk-test-OWNSECRET-0123456789abcdefghij"
SNAPSHOT_TIME = datetime(2025, 10, 27, 10, 15, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _stamina_testing() -> Iterator[None]:
    # No backoff sleeps, but the retry logic still runs (3 attempts).
    with stamina.set_testing(True, attempts=3):
        yield


def chat(
    content: Any = None,
    *,
    tool_calls: list[dict[str, Any]] | None = None,
    refusal: str | None = None,
    finish_reason: str | None = None,
    usage: tuple[int, int] = (100, 40),
) -> dict[str, Any]:
    """A Chat Completions response body."""
    if content is not None and not isinstance(content, str):
        content = json.dumps(content)
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": refusal}
    if tool_calls:
        message["tool_calls"] = [
            {
                "id": f"call_{i}",
                "type": "function",
                "function": {"name": c["name"], "arguments": json.dumps(c["arguments"])},
            }
            for i, c in enumerate(tool_calls)
        ]
        finish_reason = finish_reason or "tool_calls"
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1761560100,
        "model": "test-model",
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason or "stop"}],
        "usage": {
            "prompt_tokens": usage[0],
            "completion_tokens": usage[1],
            "total_tokens": sum(usage),
        },
    }


def draft(
    files: dict[str, str],
    *,
    deleted: list[str] | None = None,
    edited: list[str] | None = None,
    assertions: list[dict[str, Any]] | None = None,
    commit_message: str = "Build the app",
    description: str = "A small static app.",
) -> dict[str, Any]:
    return {
        "files": [{"path": p, "content": c} for p, c in files.items()],
        "deleted": deleted or [],
        "edited_attachments": edited or [],
        "commit_message": commit_message,
        "description": description,
        "assertions": assertions or [],
    }


@dataclass
class ScriptedOpenAI:
    """Answers Chat Completions from a script; records every request body."""

    script: list[dict[str, Any] | tuple[int, dict[str, Any]]] = field(default_factory=list)
    repeat_last: bool = False
    requests: list[dict[str, Any]] = field(default_factory=list)

    def add(self, *items: dict[str, Any] | tuple[int, dict[str, Any]]) -> ScriptedOpenAI:
        self.script.extend(items)
        return self

    def handler(self, request: httpx2.Request) -> httpx2.Response:
        assert request.url.path.endswith("/chat/completions"), request.url
        self.requests.append(json.loads(request.content))
        if not self.script:
            return httpx2.Response(500, json={"error": {"message": "script exhausted"}})
        item = (
            self.script[0] if (self.repeat_last and len(self.script) == 1) else self.script.pop(0)
        )
        if isinstance(item, tuple):
            status, body = item
            return httpx2.Response(status, json=body)
        return httpx2.Response(200, json=item)

    def llm(self, model: str = "test-model") -> OpenAiLlm:
        client = AsyncOpenAI(
            api_key=OWN_SECRET,
            base_url="http://llm.test/v1",
            max_retries=0,
            http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(self.handler)),
        )
        return OpenAiLlm(client, model=model, call_timeout=30, attempts=3)

    def user_texts(self, index: int) -> str:
        """All user and tool message text of one recorded request."""
        out = []
        for m in self.requests[index]["messages"]:
            content = m.get("content")
            if isinstance(content, list):
                content = "\n".join(p.get("text", "") for p in content)
            if m["role"] in ("user", "tool") and content:
                out.append(content)
        return "\n".join(out)


def make_settings(**overrides: Any) -> GeneratorSettings:
    values: dict[str, Any] = {"OPENAI_API_KEY": OWN_SECRET, "selfcheck": False}
    values.update(overrides)
    return GeneratorSettings(**values)


@dataclass
class FakeFetcher:
    pages: dict[str, tuple[int, str, bytes]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    async def fetch(self, url: str) -> FetchResult:
        from generator.ports import FetchFailed

        self.calls.append(url)
        if url not in self.pages:
            raise FetchFailed("could not connect: no such host")
        status, ctype, body = self.pages[url]
        return FetchResult(url=url, status=status, content_type=ctype, body=body)


@pytest.fixture
def openai_script() -> ScriptedOpenAI:
    return ScriptedOpenAI()


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def make_deps(openai_script: ScriptedOpenAI, registry: CollectorRegistry) -> Callable[..., Deps]:
    def build(**kwargs: Any) -> Deps:
        settings = kwargs.pop("settings", None) or make_settings()
        return Deps(
            settings=settings,
            llm=kwargs.pop("llm", None) or openai_script.llm(settings.model),
            metrics=GeneratorMetrics(registry),
            scanner=SecretScanner([OWN_SECRET]),
            fetcher=kwargs.pop("fetcher", None),
            browser=kwargs.pop("browser", None),
            **kwargs,
        )

    return build


def load_request(name: str) -> dict[str, Any]:
    return json.loads((TDS_TASKS / f"{name}.round1.request.json").read_text())


def submitted(body: dict[str, Any], *, received_at: datetime | None = None) -> TaskSubmittedV1:
    """A task.submitted event as the gateway would publish it."""
    req = TaskRequest.model_validate(body)
    task = make_task_ref(
        email=req.email,
        task=req.task,
        round=req.round,
        nonce=req.nonce,
        evaluation_url=req.evaluation_url,
        received_at=received_at or datetime.now(UTC),
    )
    return TaskSubmittedV1(
        source="pagesmith/gateway",
        subject=task.task_id,
        task=task,
        brief=req.brief,
        checks=req.normalised_checks(),
        attachments=req.decoded_attachments(),
    )


def late(seconds_of_budget: float, reserve: float = 240.0) -> datetime:
    """A received_at that leaves only `seconds_of_budget` of generation time."""
    return (
        datetime.now(UTC) - timedelta(minutes=10) + timedelta(seconds=reserve + seconds_of_budget)
    )


def counter(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0
