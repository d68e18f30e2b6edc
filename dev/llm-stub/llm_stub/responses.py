"""POST /v1/responses and GET /v1/responses/{id}: the Responses API over the same scripts."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from .answer import answer, json_body
from .conversation import Ask, Item
from .errors import ApiError
from .formats import OutputFormat
from .ids import estimate_tokens, new_hex_id, new_id
from .replies import Reply
from .responses_request import history_of, parse_responses
from .state import STATE, StoredResponse


async def create_response(request: web.Request) -> web.Response:
    state = request.app[STATE]
    body = await json_body(request)
    history = history_of(state.responses, body)
    ask = parse_responses(body, history)
    reply = await answer(request, ask)
    response, output_items = render(body, ask, reply)
    if body.get("store") is not False:
        conversation = (*ask.items, *output_items)
        if body.get("instructions"):
            conversation = conversation[1:]  # instructions do not carry over to the next turn
        state.responses[response["id"]] = StoredResponse(conversation, response)
    return web.json_response(response)


async def retrieve_response(request: web.Request) -> web.Response:
    response_id = request.match_info["response_id"]
    stored = request.app[STATE].responses.get(response_id)
    if stored is None:
        raise ApiError(404, f"Response with id '{response_id}' not found.", param="response_id")
    return web.json_response(stored.body)


def render(body: dict[str, Any], ask: Ask, reply: Reply) -> tuple[dict[str, Any], list[Item]]:
    """A `response` object, and its output as conversation items for previous_response_id."""
    incomplete = reply.finish_reason in ("length", "content_filter")
    output: list[dict[str, Any]] = []
    items: list[Item] = []
    if reply.refusal is not None:
        output.append(_message_out([{"type": "refusal", "refusal": reply.refusal}], "completed"))
    elif reply.content is not None:
        part = {"type": "output_text", "text": reply.content, "annotations": [], "logprobs": []}
        output.append(_message_out([part], "incomplete" if incomplete else "completed"))
        items.append(Item("message", "assistant", reply.content))
    for call in reply.tool_calls:
        call_id = call.id or new_id("call_")
        output.append(
            {
                "id": new_hex_id("fc_"),
                "type": "function_call",
                "status": "completed",
                "arguments": call.arguments,
                "call_id": call_id,
                "name": call.name,
            }
        )
        items.append(Item("function_call", "", call.arguments, call_id, call.name))
    used_in = estimate_tokens(ask.text())
    calls_text = "".join(c.name + c.arguments for c in reply.tool_calls)
    used_out = estimate_tokens((reply.content or "") + (reply.refusal or "") + calls_text)
    reason = {"length": "max_output_tokens", "content_filter": "content_filter"}
    response = {
        "id": new_hex_id("resp_"),
        "object": "response",
        "created_at": int(time.time()),
        "status": "incomplete" if incomplete else "completed",
        "background": False,
        "error": None,
        "incomplete_details": {"reason": reason[reply.finish_reason]} if incomplete else None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "max_tool_calls": body.get("max_tool_calls"),
        "model": ask.model,
        "output": output,
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "previous_response_id": body.get("previous_response_id"),
        "reasoning": {"effort": None, "summary": None},
        "service_tier": "default",
        "store": body.get("store", True),
        "temperature": body.get("temperature", 1.0),
        "text": {"format": _format_out(ask.output, body), "verbosity": "medium"},
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": [_tool_out(t) for t in body.get("tools") or []],
        "top_logprobs": body.get("top_logprobs", 0),
        "top_p": body.get("top_p", 1.0),
        "truncation": body.get("truncation", "disabled"),
        "usage": {
            "input_tokens": used_in,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": used_out,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": used_in + used_out,
        },
        "user": body.get("user"),
        "metadata": body.get("metadata") or {},
    }
    return response, items


def _message_out(content: list[dict[str, Any]], status: str) -> dict[str, Any]:
    return {
        "id": new_hex_id("msg_"),
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": content,
    }


def _format_out(output: OutputFormat, body: dict[str, Any]) -> dict[str, Any]:
    if output.kind != "json_schema":
        return {"type": output.kind}
    given = body["text"]["format"]
    return {
        "type": "json_schema",
        "name": output.name,
        "schema": output.schema,
        "strict": output.strict,
        "description": given.get("description"),
    }


def _tool_out(tool: dict[str, Any]) -> dict[str, Any]:
    if tool.get("type") != "function":
        return tool
    return {
        "type": "function",
        "name": tool["name"],
        "description": tool.get("description"),
        "parameters": tool.get("parameters"),
        "strict": tool.get("strict", True),
    }
