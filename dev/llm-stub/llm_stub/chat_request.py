"""Chat Completions requests: OpenAI's checks, in roughly its order, down to an Ask."""

from __future__ import annotations

from typing import Any

from .conversation import Ask, Item, parts_text
from .errors import (
    bad_request,
    empty_array,
    invalid_type,
    invalid_value,
    missing,
    unsupported_by_stub,
)
from .formats import chat_format
from .models import check_model_params
from .params import Rule, check_function, check_image_url, check_kind, check_known, check_params

# Every parameter the SDK's CompletionCreateParams knows; anything else is a 400 at OpenAI.
PARAMS = frozenset(
    {
        "audio", "frequency_penalty", "function_call", "functions", "logit_bias", "logprobs",
        "max_completion_tokens", "max_tokens", "messages", "metadata", "modalities", "model",
        "moderation", "n", "parallel_tool_calls", "prediction", "presence_penalty",
        "prompt_cache_key", "prompt_cache_options", "prompt_cache_retention",
        "reasoning_effort", "response_format", "safety_identifier", "seed", "service_tier",
        "stop", "store", "stream", "stream_options", "temperature", "tool_choice", "tools",
        "top_logprobs", "top_p", "user", "verbosity", "web_search_options",
    }
)  # fmt: skip
RULES = {
    "model": Rule("string"),
    "messages": Rule("array"),
    "temperature": Rule("number", 0, 2),
    "top_p": Rule("number", 0, 1),
    "n": Rule("integer", 1, 128),
    "frequency_penalty": Rule("number", -2, 2),
    "presence_penalty": Rule("number", -2, 2),
    "max_tokens": Rule("integer", 1),
    "max_completion_tokens": Rule("integer", 1),
    "logprobs": Rule("boolean"),
    "top_logprobs": Rule("integer", 0, 20),
    "seed": Rule("integer"),
    "stream": Rule("boolean"),
    "parallel_tool_calls": Rule("boolean"),
    "store": Rule("boolean"),
    "metadata": Rule("object"),
    "user": Rule("string"),
    "tools": Rule("array"),
    "logit_bias": Rule("object"),
    "stream_options": Rule("object"),
    "safety_identifier": Rule("string"),
    "prompt_cache_key": Rule("string"),
    "reasoning_effort": Rule(
        "string", values=("none", "minimal", "low", "medium", "high", "xhigh")
    ),
    "verbosity": Rule("string", values=("low", "medium", "high")),
    "service_tier": Rule("string", values=("auto", "default", "flex", "scale", "priority")),
}
ROLES = ("system", "assistant", "user", "function", "tool", "developer")
_PART_TYPES = {
    "user": ("text", "image_url", "input_audio", "file"),
    "assistant": ("text", "refusal"),
    "system": ("text",),
    "developer": ("text",),
    "tool": ("text",),
}
_CHOICES = ("none", "auto", "required")


def parse_chat(body: dict[str, Any]) -> Ask:
    """Validate like OpenAI, in roughly its order, and boil the request down to an Ask."""
    check_known(body, PARAMS)
    if body.get("model") is None:
        raise bad_request("you must provide a model parameter")
    check_params(body, RULES)
    messages = body.get("messages")
    if messages is None:
        raise missing("messages")
    if not messages:
        raise empty_array("messages")
    items = [item for i, m in enumerate(messages) for item in _message(m, i)]
    check_model_params(body["model"], body, api="chat")
    tools = _tools(body.get("tools"))
    choice, forced = _tool_choice(body, tools)
    output = chat_format(body.get("response_format"))
    if output.kind == "json_object" and "json" not in _all_text(messages).lower():
        raise bad_request(
            "'messages' must contain the word 'json' in some form, to use 'response_format' "
            "of type 'json_object'.",
            "messages",
        )
    _check_tool_sequence(messages)
    if body.get("stream"):
        raise unsupported_by_stub("stream", "stream=true (server-sent events)")
    return Ask(body["model"], tuple(items), output, tools, choice, forced)


def _message(message: object, i: int) -> list[Item]:
    where = f"messages[{i}]"
    check_kind(message, "object", where)
    assert isinstance(message, dict)
    if "role" not in message:
        raise missing(f"{where}.role")
    role = message["role"]
    if role not in ROLES:
        raise invalid_value(f"{where}.role", role, ROLES)
    if message.get("name") is not None:
        check_kind(message["name"], "string", f"{where}.name")
    if role == "assistant":
        return _assistant(message, where)
    if "content" not in message:
        raise missing(f"{where}.content")
    content = message["content"]
    if role == "function":
        if "name" not in message:
            raise missing(f"{where}.name")
        return [Item("message", role, parts_text(content))]
    _check_content(content, role, where)
    if role == "tool":
        if "tool_call_id" not in message:
            raise missing(f"{where}.tool_call_id")
        check_kind(message["tool_call_id"], "string", f"{where}.tool_call_id")
        return [Item("function_call_output", "tool", parts_text(content), message["tool_call_id"])]
    return [Item("message", role, parts_text(content))]


def _assistant(message: dict[str, Any], where: str) -> list[Item]:
    content = message.get("content")
    calls = message.get("tool_calls")
    said_nothing = not calls and not message.get("function_call") and not message.get("refusal")
    if content is None and said_nothing:
        raise bad_request(
            "Invalid value for 'content': expected a string, got null.",
            f"{where.replace('[', '.[')}.content",
        )
    if content is not None:
        _check_content(content, "assistant", where)
    items = [Item("message", "assistant", parts_text(content))] if content else []
    if calls is None:
        return items
    check_kind(calls, "array", f"{where}.tool_calls")
    if not calls:
        raise empty_array(f"{where}.tool_calls")
    for j, call in enumerate(calls):
        here = f"{where}.tool_calls[{j}]"
        check_kind(call, "object", here)
        for key in ("id", "type", "function"):
            if key not in call:
                raise missing(f"{here}.{key}")
        check_kind(call["id"], "string", f"{here}.id")
        if call["type"] != "function":
            raise invalid_value(f"{here}.type", call["type"], ("function",))
        function = call["function"]
        check_kind(function, "object", f"{here}.function")
        for key in ("name", "arguments"):
            if key not in function:
                raise missing(f"{here}.function.{key}")
            # Arguments go back as the JSON *string* the model produced, never as an object.
            check_kind(function[key], "string", f"{here}.function.{key}")
        items.append(
            Item("function_call", "assistant", function["arguments"], call["id"], function["name"])
        )
    return items


def _check_content(content: object, role: str, where: str) -> None:
    param = f"{where}.content"
    if isinstance(content, str):
        return
    if not isinstance(content, list):
        raise invalid_type(param, "one of a string or array of objects", content)
    if not content:
        raise empty_array(param)
    allowed = _PART_TYPES[role]
    for j, part in enumerate(content):
        here = f"{param}[{j}]"
        check_kind(part, "object", here)
        if "type" not in part:
            raise missing(f"{here}.type")
        kind = part["type"]
        if kind == "image_url" and role != "user":
            raise bad_request(
                f"Invalid '{where}'. Image URLs are only allowed for messages with role "
                f"'user', but this message with role '{role}' contains an image URL.",
                where,
                "invalid_value",
            )
        if kind not in allowed:
            raise invalid_value(f"{here}.type", kind, allowed)
        if kind in ("text", "refusal"):
            if kind not in part:
                raise missing(f"{here}.{kind}")
            check_kind(part[kind], "string", f"{here}.{kind}")
        if kind == "image_url":
            image = part.get("image_url")
            if image is None:
                raise missing(f"{here}.image_url")
            check_kind(image, "object", f"{here}.image_url")
            if "url" not in image:
                raise missing(f"{here}.image_url.url")
            check_image_url(image["url"], f"{here}.image_url.url")


def _tools(tools: list[Any] | None) -> tuple[str, ...]:
    if tools is None:
        return ()
    if not tools:
        raise empty_array("tools")
    names = []
    for i, tool in enumerate(tools):
        where = f"tools[{i}]"
        check_kind(tool, "object", where)
        if "type" not in tool:
            raise missing(f"{where}.type")
        if tool["type"] == "custom":
            continue  # accepted, but the stub cannot script custom tool calls
        if tool["type"] != "function":
            raise invalid_value(f"{where}.type", tool["type"], ("function", "custom"))
        if "function" not in tool:
            raise missing(f"{where}.function")
        check_kind(tool["function"], "object", f"{where}.function")
        names.append(check_function(tool["function"], f"{where}.function"))
    return tuple(names)


def _tool_choice(body: dict[str, Any], tools: tuple[str, ...]) -> tuple[str, str | None]:
    choice = body.get("tool_choice")
    offered = body.get("tools") is not None
    for param in ("tool_choice", "parallel_tool_calls"):
        if body.get(param) is not None and not offered:
            raise bad_request(
                f"Invalid value for '{param}': '{param}' is only allowed when 'tools' are "
                "specified.",
                param,
            )
    if choice is None:
        return ("auto" if tools else "none"), None
    if isinstance(choice, str):
        if choice not in _CHOICES:
            raise invalid_value("tool_choice", choice, _CHOICES)
        return choice, None
    check_kind(choice, "object", "tool_choice")
    if choice.get("type") != "function":
        return "auto", None  # allowed_tools and custom choices: not modelled
    function = choice.get("function")
    if not isinstance(function, dict) or "name" not in function:
        raise missing("tool_choice.function.name")
    if function["name"] not in tools:
        raise bad_request(
            f"Tool choice '{function['name']}' not found in 'tools' parameter.", "tool_choice"
        )
    return "function", function["name"]


def _check_tool_sequence(messages: list[dict[str, Any]]) -> None:
    """Each assistant tool call is answered by a tool message right after it, and vice versa."""
    asked: set[str] = set()
    pending: set[str] = set()
    opener = -1
    for i, message in enumerate(messages):
        if message["role"] == "tool":
            if message["tool_call_id"] not in asked:
                raise bad_request(
                    "Invalid parameter: messages with role 'tool' must be a response to a "
                    "preceeding message with 'tool_calls'.",
                    f"messages.[{i}].role",
                )
            pending.discard(message["tool_call_id"])
            continue
        if pending:
            raise _unanswered(opener, pending)
        asked = set()
        if message["role"] == "assistant" and message.get("tool_calls"):
            asked = {call["id"] for call in message["tool_calls"]}
            pending, opener = set(asked), i
    if pending:
        raise _unanswered(opener, pending)


def _unanswered(index: int, pending: set[str]) -> Exception:
    return bad_request(
        "An assistant message with 'tool_calls' must be followed by tool messages responding "
        "to each 'tool_call_id'. The following tool_call_ids did not have response messages: "
        + ", ".join(sorted(pending)),
        f"messages.[{index}].role",
    )


def _all_text(messages: list[dict[str, Any]]) -> str:
    return "\n".join(parts_text(m.get("content")) for m in messages)
