"""Choosing the answer to a request: the first fitting script, else the demo answer."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from aiohttp import web

from .conversation import Ask
from .demo import demo_reply
from .errors import bad_request
from .instances import problems
from .replies import Reply
from .state import JOURNAL_ENTRY, STATE

log = logging.getLogger("llm_stub")

NO_MATCH = "llm-stub: no script matched; answering with the built-in demo answer"
_UNPARSABLE = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
    "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
    "sent was not valid JSON. If you have trouble figuring out how to fix this, please "
    "contact us through our help center at help.openai.com.)"
)


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object, or OpenAI's 400 for a body that is not one."""
    try:
        body = json.loads(await request.read())
    except ValueError:
        raise bad_request(_UNPARSABLE) from None
    if not isinstance(body, dict):
        raise bad_request(_UNPARSABLE)
    return body


async def answer(request: web.Request, ask: Ask) -> Reply:
    """Pick, wait out and return the reply; a scripted HTTP error is raised as ApiError."""
    state = request.app[STATE]
    state.models_seen[ask.model] = None
    found = state.scripts.next_reply(ask.text(), ask.model)
    if found is None:
        log.warning(NO_MATCH)
        reply, source = demo_reply(ask), "demo"
    else:
        reply, source = found[1], found[0].id
    warnings = misfits(ask, reply)
    for warning in warnings:
        log.warning("llm-stub: %s (%s)", warning, source)
    entry = request.get(JOURNAL_ENTRY)
    if isinstance(entry, dict):
        entry["answered_by"] = source
        entry["warnings"] = warnings
    if reply.delay:
        await asyncio.sleep(reply.delay)
    if reply.status is not None:
        raise reply.to_error()
    return reply


def misfits(ask: Ask, reply: Reply) -> list[str]:
    """Ways a scripted reply could never come from OpenAI for this request.

    They are warnings, not errors: the test asked for this reply and gets it, but a test
    that passes only because of an impossible answer proves nothing about production.
    """
    if reply.status is not None:
        return []
    found = []
    for call in reply.tool_calls:
        if call.name not in ask.tools:
            found.append(f"scripted a call to '{call.name}', which the request does not offer")
    if reply.tool_calls and ask.tools and ask.tool_choice == "none":
        found.append("scripted tool calls, but the request says tool_choice 'none'")
    if ask.tool_choice in ("required", "function") and not reply.tool_calls:
        found.append("the request forces a tool call, but the scripted reply makes none")
    if ask.forced_tool and any(c.name != ask.forced_tool for c in reply.tool_calls):
        found.append(f"the request forces a call to '{ask.forced_tool}' only")
    found.extend(_format_misfits(ask, reply))
    return found


def _format_misfits(ask: Ask, reply: Reply) -> list[str]:
    output = ask.output
    if output.kind == "text" or reply.content is None or reply.refusal is not None:
        return []
    if reply.finish_reason != "stop" or reply.tool_calls:
        return []  # truncated or beside tool calls: anything goes
    try:
        value = json.loads(reply.content)
    except ValueError:
        return [f"the content is not valid JSON, but the request asks for {output.kind}"]
    if output.kind == "json_object" and not isinstance(value, dict):
        return ["the content is not a JSON object, but the request asks for json_object"]
    if output.strict and output.schema is not None:
        found = problems(value, output.schema, output.schema)[:5]
        return [f"the content breaks the strict schema '{output.name}': {p}" for p in found]
    return []
