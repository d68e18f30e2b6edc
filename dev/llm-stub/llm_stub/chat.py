"""POST /v1/chat/completions: check the request, pick the answer, give it OpenAI's shape."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from .answer import answer, json_body
from .chat_request import parse_chat
from .conversation import Ask
from .ids import estimate_tokens, new_id
from .replies import Reply

_FINGERPRINT = "fp_llmstub"


async def chat_completions(request: web.Request) -> web.Response:
    body = await json_body(request)
    ask = parse_chat(body)
    reply = await answer(request, ask)
    return web.json_response(render(body, ask, reply))


def render(body: dict[str, Any], ask: Ask, reply: Reply) -> dict[str, Any]:
    """A `chat.completion` object with `n` identical choices."""
    n = body.get("n") or 1
    choices = [_choice(i, reply) for i in range(n)]
    completion = sum(_reply_tokens(reply) for _ in range(n))
    prompt = estimate_tokens(ask.text())
    return {
        "id": new_id("chatcmpl-", 29),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": ask.model,
        "choices": choices,
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": "default",
        "system_fingerprint": _FINGERPRINT,
    }


def _choice(index: int, reply: Reply) -> dict[str, Any]:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": None if reply.refusal is not None else reply.content,
        "refusal": reply.refusal,
        "annotations": [],
    }
    if reply.tool_calls:
        message["tool_calls"] = [
            {
                "id": call.id or new_id("call_"),
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for call in reply.tool_calls
        ]
    return {
        "index": index,
        "message": message,
        "logprobs": None,
        "finish_reason": reply.finish_reason,
    }


def _reply_tokens(reply: Reply) -> int:
    texts = [reply.content or "", reply.refusal or ""]
    texts.extend(call.name + call.arguments for call in reply.tool_calls)
    return estimate_tokens("".join(texts))
