"""GET /v1/models, and the parameter rules that differ between model families."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from .errors import bad_request
from .state import STATE

# Listed even before anyone asks for them, so that clients probing /v1/models find a model.
DEFAULT_MODELS = ("gpt-4o-mini", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-5-mini", "gpt-5-nano")
_REASONING = re.compile(r"^(o\d|gpt-5)(?!.*-chat)")
_CLASSIC = re.compile(r"^(gpt-4|gpt-3\.5|gpt-5(\.\d+)?-chat)")
_CREATED = 1_700_000_000


def is_reasoning(model: str) -> bool | None:
    """True for o-series and gpt-5 reasoning models, False for gpt-4/3.5, None if unknown."""
    if _REASONING.match(model):
        return True
    if _CLASSIC.match(model):
        return False
    return None


def check_model_params(model: str, body: dict[str, Any], *, api: str) -> None:
    """OpenAI refuses sampling knobs on reasoning models and reasoning knobs on the others.

    Only known families are checked: a made-up test model name gets no model rules.
    """
    reasoning = is_reasoning(model)
    effort_param = "reasoning_effort" if api == "chat" else "reasoning.effort"
    if api == "chat":
        effort = body.get("reasoning_effort")
    else:
        reasoning_obj = body.get("reasoning")
        effort = reasoning_obj.get("effort") if isinstance(reasoning_obj, dict) else None
    if reasoning is False and effort is not None:
        raise bad_request(
            f"Unsupported parameter: '{effort_param}' is not supported with this model.",
            effort_param,
            "unsupported_parameter",
        )
    if reasoning is not True:
        return
    if api == "chat" and body.get("max_tokens") is not None:
        raise bad_request(
            "Unsupported parameter: 'max_tokens' is not supported with this model. "
            "Use 'max_completion_tokens' instead.",
            "max_tokens",
            "unsupported_parameter",
        )
    if effort == "none":
        return  # gpt-5.1 and later take sampling parameters when reasoning is off
    for param in ("temperature", "top_p"):
        value = body.get(param)
        if value is None or value == 1:
            continue
        if api == "chat":
            raise bad_request(
                f"Unsupported value: '{param}' does not support {value} with this model. "
                "Only the default (1) value is supported.",
                param,
                "unsupported_value",
            )
        raise bad_request(
            f"Unsupported parameter: '{param}' is not supported with this model.",
            param,
            "unsupported_parameter",
        )


def _model(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": _CREATED, "owned_by": "llm-stub"}


async def list_models(request: web.Request) -> web.Response:
    state = request.app[STATE]
    names = dict.fromkeys([*DEFAULT_MODELS, *state.models_seen, *state.scripts.models()])
    return web.json_response({"object": "list", "data": [_model(n) for n in names]})


async def retrieve_model(request: web.Request) -> web.Response:
    """Any name exists here, as any name is accepted by the completion endpoints."""
    return web.json_response(_model(request.match_info["model"]))
