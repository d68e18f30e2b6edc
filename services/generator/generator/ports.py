"""The ports the generation logic depends on; adapters implement them, tests fake them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pagesmith_runtime import PermanentError
from pagesmith_runtime.egress import EgressRefused
from pydantic import BaseModel

from .budget import Budget
from .draft import SiteDraft

Message = dict[str, Any]
"""One chat message in OpenAI's shape (role, content, tool_calls, tool_call_id)."""


class GenerationError(PermanentError):
    """The model could not give a publishable site: the one failure that degrades the site."""


class DraftFailed(GenerationError):
    """The model answered, but not with a usable draft: refusal, truncation, content filter."""


class ModelUnavailable(GenerationError):
    """Transient model failures until the budget or the attempt cap ran out: what happened."""

    def __init__(
        self, *, attempts: int, last_error: str | None, seconds: float, budget_spent: bool
    ) -> None:
        self.attempts = attempts
        self.last_error = last_error
        self.seconds = seconds
        self.budget_spent = budget_spent
        super().__init__(self._describe())

    def _describe(self) -> str:
        if self.attempts == 0:
            return "No model call was made: the generation budget was already spent."
        times = "once" if self.attempts == 1 else f"{self.attempts} times in a row"
        why = (
            "the generation budget ran out before it answered"
            if self.budget_spent
            else "the retry cap (GENERATOR_LLM_ATTEMPTS) was reached"
        )
        return (
            f"The model call failed {times} over {self.seconds:.1f} s and {why}; "
            f"the last error was: {self.last_error}."
        )


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A function the model may call; `parameters` is the strict argument model."""

    name: str
    description: str
    parameters: type[BaseModel]


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True, slots=True)
class LlmReply:
    """Either a draft or tool calls, plus the assistant message to keep in the conversation."""

    message: Message
    draft: SiteDraft | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    usage: Usage = Usage()


class LlmPort(Protocol):
    """One model turn with retries inside the budget: ModelUnavailable once it is spent."""

    @property
    def model(self) -> str: ...

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolSpec],
        budget: Budget,
        allow_tools: bool = True,
    ) -> LlmReply: ...


EgressDenied = EgressRefused
"""The URL points somewhere the generator must not go: the runtime egress guard's refusal."""


class FetchFailed(PermanentError):
    """The fetch ran but failed: status, size cap, timeout, connection."""


@dataclass(frozen=True, slots=True)
class FetchResult:
    url: str
    status: int
    content_type: str
    body: bytes


class FetchPort(Protocol):
    """GET a public URL through the egress guard, with size and time caps."""

    async def fetch(self, url: str) -> FetchResult: ...


class BrowserUnavailable(Exception):
    """No Chromium (or Playwright) on this machine: the self-check is skipped, not failed."""


@dataclass(frozen=True, slots=True)
class JsResult:
    expression: str
    passed: bool
    detail: str = ""


@dataclass(frozen=True, slots=True)
class BrowserReport:
    """What loading index.html showed: each expression's result and everything that went wrong."""

    results: tuple[JsResult, ...] = ()
    page_errors: tuple[str, ...] = ()
    console_errors: tuple[str, ...] = ()
    blocked_requests: tuple[str, ...] = ()
    missing_files: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)


class BrowserPort(Protocol):
    """Serve `files` on loopback, open `page` in headless Chromium, evaluate `expressions`."""

    async def check(
        self, files: Mapping[str, bytes], expressions: Sequence[str], *, page: str, timeout: float
    ) -> BrowserReport: ...
