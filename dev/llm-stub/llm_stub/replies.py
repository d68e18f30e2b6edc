"""One scripted answer ("R"): content, tool calls, a refusal, a truncation or an HTTP error."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError

_KEYS = frozenset(
    {"content", "tool_calls", "refusal", "finish_reason", "status", "error", "headers", "delay"}
)
_FINISH_REASONS = ("stop", "length", "content_filter", "tool_calls")
_ERROR_KEYS = frozenset({"message", "type", "code", "param"})

# What OpenAI says for each status when the script gives no error body of its own.
_DEFAULT_ERRORS: dict[int, tuple[str, str, str | None]] = {
    400: ("Scripted bad request (llm-stub).", "invalid_request_error", None),
    401: (
        "Incorrect API key provided: sk-***. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        "invalid_request_error",
        "invalid_api_key",
    ),
    403: ("You are not allowed to sample from this model.", "invalid_request_error", None),
    404: (
        "The model does not exist or you do not have access to it.",
        "invalid_request_error",
        "model_not_found",
    ),
    429: (
        "Rate limit reached for requests. Please try again later.",
        "requests",
        "rate_limit_exceeded",
    ),
    500: (
        "The server had an error while processing your request. Sorry about that!",
        "server_error",
        None,
    ),
    503: ("The engine is currently overloaded, please try again later.", "server_error", None),
}
_QUOTA_MESSAGE = (
    "You exceeded your current quota, please check your plan and billing details. For more "
    "information on this error, read the docs: "
    "https://platform.openai.com/docs/guides/error-codes/api-errors."
)


class ScriptError(ValueError):
    """A script or reply that the stub cannot use; the message says what to fix."""


@dataclass(frozen=True, slots=True)
class ToolCallSpec:
    name: str
    arguments: str
    id: str | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    content: str | None = None
    tool_calls: tuple[ToolCallSpec, ...] = ()
    refusal: str | None = None
    finish_reason: str = "stop"
    status: int | None = None
    error: Mapping[str, Any] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0

    def to_error(self) -> ApiError:
        """The HTTP error a `status` reply stands for, with OpenAI's body."""
        assert self.status is not None
        code = self.error.get("code")
        if self.status == 429 and code == "insufficient_quota":
            message, kind = _QUOTA_MESSAGE, "insufficient_quota"
        else:
            fallback = "server_error" if self.status >= 500 else "invalid_request_error"
            message, kind, default_code = _DEFAULT_ERRORS.get(
                self.status, (f"Scripted error {self.status} (llm-stub).", fallback, None)
            )
            if "code" not in self.error:
                code = default_code
        return ApiError(
            self.status,
            str(self.error.get("message", message)),
            type=str(self.error.get("type", kind)),
            param=self.error.get("param"),
            code=code,
            headers=self.headers,
        )


def parse_reply(raw: object, where: str) -> Reply:
    """Turn one R of a script into a Reply, or say exactly what is wrong with it."""
    if not isinstance(raw, dict):
        raise ScriptError(f"{where}: expected an object, got {json.dumps(raw)}")
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise ScriptError(f"{where}: unknown keys {unknown}; allowed: {sorted(_KEYS)}")
    delay = raw.get("delay", 0)
    if not isinstance(delay, int | float) or isinstance(delay, bool) or delay < 0:
        raise ScriptError(f"{where}.delay: expected seconds >= 0")
    if "status" in raw:
        return _error_reply(raw, where, float(delay))
    if not {"content", "tool_calls", "refusal"} & set(raw):
        raise ScriptError(f"{where}: needs one of content, tool_calls, refusal or status")
    finish = raw.get("finish_reason", "stop")
    if finish not in _FINISH_REASONS:
        raise ScriptError(f"{where}.finish_reason: expected one of {list(_FINISH_REASONS)}")
    content = raw.get("content")
    if content is not None and not isinstance(content, str):
        content = _compact(content)
    refusal = raw.get("refusal")
    if refusal is not None and not isinstance(refusal, str):
        raise ScriptError(f"{where}.refusal: expected a string")
    calls = _tool_calls(raw.get("tool_calls"), where)
    if refusal is not None and calls:
        raise ScriptError(f"{where}: a refusal cannot come with tool_calls")
    if finish == "length" and content is None:
        raise ScriptError(f"{where}: finish_reason 'length' needs the truncated content")
    if calls:
        finish = "tool_calls"
    elif finish == "tool_calls":
        raise ScriptError(f"{where}: finish_reason 'tool_calls' needs tool_calls")
    return Reply(content, calls, refusal, finish, delay=float(delay))


def _error_reply(raw: dict[str, Any], where: str, delay: float) -> Reply:
    status = raw["status"]
    if not isinstance(status, int) or isinstance(status, bool) or not 400 <= status <= 599:
        raise ScriptError(f"{where}.status: expected an HTTP error status (400-599)")
    clash = sorted({"content", "tool_calls", "refusal", "finish_reason"} & set(raw))
    if clash:
        raise ScriptError(f"{where}: an error reply cannot also have {clash}")
    error = raw.get("error") or {}
    if not isinstance(error, dict) or set(error) - _ERROR_KEYS:
        raise ScriptError(f"{where}.error: expected an object with {sorted(_ERROR_KEYS)}")
    headers = raw.get("headers") or {}
    if not isinstance(headers, dict):
        raise ScriptError(f"{where}.headers: expected an object")
    return Reply(
        status=status,
        error=dict(error),
        headers={str(k): str(v) for k, v in headers.items()},
        delay=delay,
    )


def _tool_calls(raw: object, where: str) -> tuple[ToolCallSpec, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not raw:
        raise ScriptError(f"{where}.tool_calls: expected a non-empty list")
    calls = []
    for i, call in enumerate(raw):
        here = f"{where}.tool_calls[{i}]"
        if not isinstance(call, dict) or not isinstance(call.get("name"), str):
            raise ScriptError(f"{here}: expected {{name, arguments}}")
        if set(call) - {"name", "arguments", "id"}:
            raise ScriptError(f"{here}: allowed keys are name, arguments and id")
        arguments = call.get("arguments", {})
        # A string goes out verbatim, so tests can send arguments that are not valid JSON.
        text = arguments if isinstance(arguments, str) else _compact(arguments)
        call_id = call.get("id")
        if call_id is not None and not isinstance(call_id, str):
            raise ScriptError(f"{here}.id: expected a string")
        calls.append(ToolCallSpec(call["name"], text, call_id))
    return tuple(calls)


def _compact(value: object) -> str:
    """JSON as models write it: no spaces after separators."""
    return json.dumps(value, separators=(",", ":"))
