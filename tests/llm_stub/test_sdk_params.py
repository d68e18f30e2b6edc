"""The stub's lists of known parameters follow the installed openai SDK."""

from __future__ import annotations

import typing

from llm_stub import chat_request, responses_request
from openai.types.chat import completion_create_params
from openai.types.responses import response_create_params


def test_chat_parameters_match_the_sdk():
    known = typing.get_type_hints(completion_create_params.CompletionCreateParamsBase)

    assert set(known) | {"stream"} == chat_request.PARAMS


def test_responses_parameters_match_the_sdk():
    known = typing.get_type_hints(response_create_params.ResponseCreateParamsBase)

    assert set(known) | {"stream"} == responses_request.PARAMS
