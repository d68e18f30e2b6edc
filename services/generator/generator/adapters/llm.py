"""openai -> LlmPort: strict structured output, error translation, retries inside the budget."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import openai
import stamina
import structlog
from openai import AsyncOpenAI
from pagesmith_runtime import TransientError
from pydantic import ValidationError

from ..budget import Budget
from ..draft import SiteDraft
from ..ports import DraftFailed, LlmReply, Message, ModelUnavailable, ToolCall, ToolSpec, Usage

log = structlog.get_logger(__name__)
# Below this, a call could not finish anyway: stop and let the caller degrade.
MIN_CALL_SECONDS = 2.0


class BudgetSpent(Exception):
    """No time left in the generation budget for another model call."""


class OpenAiLlm:
    """Chat Completions with `response_format=SiteDraft`; the SDK's own retries are off.

    Transient failures are retried with jittered exponential backoff for as long as the
    generation budget lasts (`attempts=None`) or up to `attempts` calls.
    """

    def __init__(
        self,
        client: AsyncOpenAI,
        *,
        model: str,
        call_timeout: float = 180.0,
        attempts: int | None = None,
        backoff_initial: float = 1.0,
        backoff_max: float = 15.0,
        max_completion_tokens: int | None = None,
    ) -> None:
        self._client = client
        self._model = model
        self._call_timeout = call_timeout
        self._attempts = attempts
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._max_completion_tokens = max_completion_tokens

    @property
    def model(self) -> str:
        return self._model

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolSpec],
        budget: Budget,
        allow_tools: bool = True,
    ) -> LlmReply:
        started = time.monotonic()
        calls = 0
        last: TransientError | None = None

        def backoff(exc: Exception) -> bool | float:
            if not isinstance(exc, TransientError):
                return False
            # A wait that leaves no time for the call itself would only delay the degrade.
            room = budget.remaining() - MIN_CALL_SECONDS
            if room <= 0:
                return False
            return min(exc.retry_after, room) if exc.retry_after else True

        try:
            async for attempt in stamina.retry_context(
                on=backoff,
                attempts=self._attempts,
                timeout=max(budget.remaining(), 0.001),
                wait_initial=self._backoff_initial,
                wait_max=self._backoff_max,
                wait_jitter=self._backoff_initial,
            ):
                with attempt:
                    try:
                        return await self._once(list(messages), tools, budget, allow_tools)
                    except TransientError as exc:
                        calls, last = calls + 1, exc
                        log.warning("model call failed", attempt=calls, error=str(exc))
                        raise
        except (TransientError, BudgetSpent) as exc:
            raise ModelUnavailable(
                attempts=calls,
                last_error=str(last) if last else None,
                seconds=time.monotonic() - started,
                budget_spent=budget.remaining() < MIN_CALL_SECONDS,
            ) from exc
        raise AssertionError("unreachable: retry_context raises or returns")  # pragma: no cover

    async def _once(
        self,
        messages: list[Message],
        tools: Sequence[ToolSpec],
        budget: Budget,
        allow_tools: bool,
    ) -> LlmReply:
        timeout = min(self._call_timeout, budget.remaining())
        if timeout < MIN_CALL_SECONDS:
            raise BudgetSpent(f"{budget.remaining():.1f} s left in the generation budget")
        kwargs: dict[str, Any] = {
            "model": self._model,
            "messages": messages,
            "response_format": SiteDraft,
            "timeout": timeout,
        }
        if tools:
            kwargs["tools"] = [
                openai.pydantic_function_tool(t.parameters, name=t.name, description=t.description)
                for t in tools
            ]
            if not allow_tools:
                kwargs["tool_choice"] = "none"
        if self._max_completion_tokens:
            kwargs["max_completion_tokens"] = self._max_completion_tokens
        try:
            try:
                completion = await self._client.chat.completions.parse(**kwargs)
            except openai.BadRequestError:
                if not _has_images(messages):
                    raise
                # Not every OpenAI-compatible model takes images: say so in text and go on.
                log.warning("model refused image input; retrying without images")
                kwargs["messages"] = _without_images(messages)
                completion = await self._client.chat.completions.parse(**kwargs)
        except (openai.OpenAIError, ValidationError, json.JSONDecodeError) as exc:
            raise _translate(exc) from exc
        usage = Usage()
        if completion.usage is not None:
            usage = Usage(completion.usage.prompt_tokens, completion.usage.completion_tokens)
        if not completion.choices:
            raise TransientError("model answered with no choices")
        message = completion.choices[0].message
        if message.refusal:
            raise DraftFailed(f"the model refused: {message.refusal[:300]}")
        if message.tool_calls:
            calls = tuple(
                ToolCall(id=c.id, name=c.function.name, arguments=c.function.arguments)
                for c in message.tool_calls
                if c.type == "function"
            )
            assistant: Message = {
                "role": "assistant",
                "content": message.content,
                "tool_calls": [
                    {
                        "id": c.id,
                        "type": "function",
                        "function": {"name": c.name, "arguments": c.arguments},
                    }
                    for c in calls
                ],
            }
            return LlmReply(message=assistant, tool_calls=calls, usage=usage)
        if message.parsed is None:
            raise TransientError("model answered with neither a draft nor tool calls")
        return LlmReply(
            message={"role": "assistant", "content": message.content},
            draft=message.parsed,
            usage=usage,
        )


def _translate(exc: Exception) -> Exception:
    """Library exceptions end here: transient (retry) or DraftFailed (degrade).

    Transient messages name the error class and status: they end up in the degraded README.
    """
    name = type(exc).__name__
    if isinstance(exc, openai.LengthFinishReasonError):
        return DraftFailed("the model's answer was cut off at its length limit")
    if isinstance(exc, openai.ContentFilterFinishReasonError):
        return DraftFailed("the model's answer was stopped by its content filter")
    if isinstance(exc, openai.APITimeoutError):
        return TransientError(f"the call timed out ({name})")
    if isinstance(exc, openai.APIConnectionError):
        return TransientError(f"the endpoint was unreachable ({name}: {exc})")
    if isinstance(exc, openai.RateLimitError):
        if exc.code == "insufficient_quota":
            return DraftFailed("the model account has no quota left")
        return TransientError(f"HTTP 429 ({name})", retry_after=_retry_after(exc))
    if isinstance(exc, openai.APIStatusError) and (
        exc.status_code >= 500 or exc.status_code in (408, 409)
    ):
        return TransientError(f"HTTP {exc.status_code} ({name})", retry_after=_retry_after(exc))
    if isinstance(exc, openai.APIStatusError):
        return DraftFailed(f"model endpoint refused the request ({exc.status_code})")
    if isinstance(exc, ValidationError | json.JSONDecodeError):
        # Strict mode should prevent this; a fresh sample usually parses.
        return TransientError(f"the answer did not match the schema ({name})")
    return DraftFailed(f"model call failed: {name}")


def _retry_after(exc: openai.APIStatusError) -> float | None:
    value = exc.response.headers.get("retry-after")
    try:
        return min(float(value), 30.0) if value else None
    except ValueError:
        return None


def _has_images(messages: list[Message]) -> bool:
    return any(
        isinstance(m.get("content"), list)
        and any(p.get("type") == "image_url" for p in m["content"])
        for m in messages
    )


def _without_images(messages: list[Message]) -> list[Message]:
    out = []
    for m in messages:
        content = m.get("content")
        if isinstance(content, list):
            parts = [p for p in content if p.get("type") != "image_url"]
            text = "\n\n".join(p["text"] for p in parts if p.get("type") == "text")
            m = {**m, "content": text}
        out.append(m)
    return out


def create_llm(
    *,
    api_key: str,
    base_url: str | None,
    model: str,
    call_timeout: float,
    attempts: int | None,
    backoff_initial: float,
    backoff_max: float,
    max_completion_tokens: int | None,
) -> tuple[OpenAiLlm, AsyncOpenAI]:
    """Build the client (SDK retries off: stamina retries here) and the port around it."""
    client = AsyncOpenAI(api_key=api_key, base_url=base_url, max_retries=0, timeout=call_timeout)
    llm = OpenAiLlm(
        client,
        model=model,
        call_timeout=call_timeout,
        attempts=attempts,
        backoff_initial=backoff_initial,
        backoff_max=backoff_max,
        max_completion_tokens=max_completion_tokens,
    )
    return llm, client
