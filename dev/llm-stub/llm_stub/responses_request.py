"""Responses API requests: OpenAI's checks, down to an Ask."""

from __future__ import annotations

from typing import Any

from .conversation import Ask, Item, parts_text
from .errors import bad_request, invalid_value, missing, unsupported_by_stub
from .formats import responses_format
from .models import check_model_params
from .params import Rule, check_function, check_image_url, check_kind, check_known, check_params
from .state import StoredResponse

# Every parameter the SDK's ResponseCreateParams knows, plus `stream`.
PARAMS = frozenset(
    {
        "access_programs", "background", "background_options", "context_management",
        "conversation", "image", "include", "input", "instructions", "max_output_tokens",
        "max_tool_calls", "metadata", "model", "moderation", "parallel_tool_calls",
        "previous_response_id", "prompt", "prompt_cache_key", "prompt_cache_options",
        "prompt_cache_retention", "reasoning", "safety_identifier", "service_tier", "store",
        "stream", "stream_options", "temperature", "text", "tool_choice", "tools",
        "top_logprobs", "top_p", "truncation", "user",
    }
)  # fmt: skip
RULES = {
    "model": Rule("string"),
    "instructions": Rule("string"),
    "max_output_tokens": Rule("integer", 16),
    "max_tool_calls": Rule("integer", 1),
    "temperature": Rule("number", 0, 2),
    "top_p": Rule("number", 0, 1),
    "top_logprobs": Rule("integer", 0, 20),
    "parallel_tool_calls": Rule("boolean"),
    "store": Rule("boolean"),
    "stream": Rule("boolean"),
    "background": Rule("boolean"),
    "metadata": Rule("object"),
    "reasoning": Rule("object"),
    "previous_response_id": Rule("string"),
    "tools": Rule("array"),
    "include": Rule("array"),
    "user": Rule("string"),
    "safety_identifier": Rule("string"),
    "prompt_cache_key": Rule("string"),
    "truncation": Rule("string", values=("auto", "disabled")),
    "service_tier": Rule("string", values=("auto", "default", "flex", "scale", "priority")),
}
ROLES = ("assistant", "system", "developer", "user")
_INPUT_PARTS = ("input_text", "input_image", "input_file")
_OUTPUT_PARTS = ("output_text", "refusal")
_MOVED = (
    "Unsupported parameter: 'response_format'. In the Responses API, this parameter has moved "
    "to 'text.format'. Try again with the new parameter. See the API documentation for more "
    "information: https://platform.openai.com/docs/api-reference/responses/create."
)


def history_of(stored: dict[str, StoredResponse], body: dict[str, Any]) -> tuple[Item, ...]:
    previous = body.get("previous_response_id")
    if previous is None:
        return ()
    check_kind(previous, "string", "previous_response_id")
    if previous not in stored:
        raise bad_request(
            f"Previous response with id '{previous}' not found.",
            "previous_response_id",
            "previous_response_not_found",
        )
    return stored[previous].items


def parse_responses(body: dict[str, Any], history: tuple[Item, ...] = ()) -> Ask:
    """Validate like OpenAI and boil the request down to an Ask (history first)."""
    if "response_format" in body:
        raise bad_request(_MOVED, "response_format", "unsupported_parameter")
    check_known(body, PARAMS)
    if body.get("model") is None:
        raise missing("model")
    check_params(body, RULES)
    new_items = _input(body.get("input"))
    check_model_params(body["model"], body, api="responses")
    tools = _tools(body.get("tools"))
    choice, forced = _tool_choice(body.get("tool_choice"), tools)
    output = responses_format(body.get("text"))
    if output.kind == "json_object":
        said = "\n".join(i.text for i in new_items if i.kind == "message")
        if "json" not in said.lower():
            raise bad_request(
                "Response input messages must contain the word 'json' in some form to use "
                "'text.format' of type 'json_object'.",
                "text.format",
            )
    _check_calls_answered((*history, *new_items))
    for param in ("stream", "background"):
        if body.get(param):
            raise unsupported_by_stub(param, f"{param}=true")
    for param in ("conversation", "prompt"):
        if body.get(param) is not None:
            raise unsupported_by_stub(param, f"'{param}'")
    instructions = body.get("instructions")
    lead = (Item("message", "developer", instructions),) if instructions else ()
    items = (*lead, *history, *new_items)
    return Ask(body["model"], items, output, tools, choice, forced)


def _input(value: object) -> list[Item]:
    if value is None:
        return []
    if isinstance(value, str):
        return [Item("message", "user", value)]
    check_kind(value, "array", "input")
    assert isinstance(value, list)
    items: list[Item] = []
    for i, raw in enumerate(value):
        where = f"input[{i}]"
        check_kind(raw, "object", where)
        kind = raw.get("type", "message" if "role" in raw else None)
        if kind == "message":
            items.append(_message(raw, where))
        elif kind == "function_call":
            for key in ("call_id", "name", "arguments"):
                if key not in raw:
                    raise missing(f"{where}.{key}")
                check_kind(raw[key], "string", f"{where}.{key}")
            items.append(Item("function_call", "", raw["arguments"], raw["call_id"], raw["name"]))
        elif kind == "function_call_output":
            for key in ("call_id", "output"):
                if key not in raw:
                    raise missing(f"{where}.{key}")
            check_kind(raw["call_id"], "string", f"{where}.call_id")
            output = parts_text(raw["output"])
            items.append(Item("function_call_output", "", output, raw["call_id"]))
        elif kind is None:
            raise missing(f"{where}.type")
        # Other item types (reasoning, item_reference, built-in tool calls) pass untouched.
    return items


def _message(raw: dict[str, Any], where: str) -> Item:
    if "role" not in raw:
        raise missing(f"{where}.role")
    role = raw["role"]
    if role not in ROLES:
        raise invalid_value(f"{where}.role", role, ROLES)
    if "content" not in raw:
        raise missing(f"{where}.content")
    content = raw["content"]
    if isinstance(content, list):
        allowed = _OUTPUT_PARTS if role == "assistant" else _INPUT_PARTS
        for j, part in enumerate(content):
            here = f"{where}.content[{j}]"
            check_kind(part, "object", here)
            if "type" not in part:
                raise missing(f"{here}.type")
            if part["type"] not in allowed:
                raise invalid_value(here, part["type"], allowed)
            if part["type"] in ("input_text", "output_text"):
                if "text" not in part:
                    raise missing(f"{here}.text")
                check_kind(part["text"], "string", f"{here}.text")
            if part["type"] == "input_image" and part.get("image_url") is not None:
                check_image_url(part["image_url"], f"{here}.image_url")
    elif not isinstance(content, str):
        check_kind(content, "array", f"{where}.content")
    return Item("message", role, parts_text(content))


def _tools(tools: list[Any] | None) -> tuple[str, ...]:
    names = []
    for i, tool in enumerate(tools or []):
        where = f"tools[{i}]"
        check_kind(tool, "object", where)
        if "type" not in tool:
            raise missing(f"{where}.type")
        if tool["type"] == "function":
            # Chat-style {"type": "function", "function": {...}} fails here, as at OpenAI.
            names.append(check_function(tool, where))
        # Built-in tools (web_search, file_search, …) are accepted but never called.
    return tuple(names)


def _tool_choice(choice: object, tools: tuple[str, ...]) -> tuple[str, str | None]:
    if choice is None:
        return ("auto" if tools else "none"), None
    if isinstance(choice, str):
        if choice not in ("none", "auto", "required"):
            raise invalid_value("tool_choice", choice, ("none", "auto", "required"))
        return choice, None
    check_kind(choice, "object", "tool_choice")
    assert isinstance(choice, dict)
    if choice.get("type") != "function":
        return "auto", None
    name = choice.get("name")
    if name not in tools:
        raise bad_request(f"Tool choice '{name}' not found in 'tools' parameter.", "tool_choice")
    return "function", str(name)


def _check_calls_answered(items: tuple[Item, ...]) -> None:
    """Every function_call_output answers an earlier call, and every call gets an output."""
    called: set[str] = set()
    answered = {i.call_id for i in items if i.kind == "function_call_output"}
    for item in items:
        if item.kind == "function_call":
            called.add(item.call_id)
        elif item.kind == "function_call_output" and item.call_id not in called:
            raise bad_request(
                f"No tool call found for function call output with call_id {item.call_id}.",
                "input",
            )
    unanswered = sorted(called - answered)
    if unanswered:
        raise bad_request(f"No tool output found for function call {unanswered[0]}.", "input")
