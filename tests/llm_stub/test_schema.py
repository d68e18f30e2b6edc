"""Strict-mode schema rules, checked directly with OpenAI's wording."""

from __future__ import annotations

from typing import Literal

import pytest
from llm_stub.schema import SchemaError, check_strict
from openai.lib._pydantic import to_strict_json_schema
from pydantic import BaseModel


class Leaf(BaseModel):
    name: str
    size: int | None


class Tree(BaseModel):
    kind: Literal["a", "b"]
    leaves: list[Leaf]
    children: list[Tree]
    parent: Tree | None


def strict_error(schema: object) -> str:
    with pytest.raises(SchemaError) as caught:
        check_strict(schema)
    return str(caught.value)


def test_schemas_made_by_the_sdk_pass():
    check_strict(to_strict_json_schema(Tree))  # $defs, $ref, recursion, anyOf, enum


def test_the_root_must_be_an_object():
    assert strict_error({"type": "array", "items": {"type": "string"}}) == (
        "schema must be a JSON Schema of 'type: \"object\"', got 'type: \"array\"'."
    )


def test_nested_contexts_name_the_path():
    schema = to_strict_json_schema(Tree)
    del schema["$defs"]["Leaf"]["properties"]["size"]["anyOf"][0]["type"]
    schema["$defs"]["Leaf"]["properties"]["size"]["anyOf"][0]["uniqueItems"] = True

    assert strict_error(schema) == (
        "In context=('$defs', 'Leaf', 'properties', 'size', 'anyOf', '0'), "
        "'uniqueItems' is not permitted."
    )


def test_array_items_are_checked():
    schema = {
        "type": "object",
        "properties": {"xs": {"type": "array", "items": {"type": "object", "properties": {}}}},
        "required": ["xs"],
        "additionalProperties": False,
    }

    assert strict_error(schema) == (
        "In context=('properties', 'xs', 'items'), 'additionalProperties' is required to be "
        "supplied and to be false."
    )


def test_ref_with_siblings_is_refused():
    schema = {
        "type": "object",
        "properties": {"x": {"$ref": "#/$defs/X", "description": "an x"}},
        "required": ["x"],
        "additionalProperties": False,
        "$defs": {"X": {"type": "string"}},
    }

    assert strict_error(schema) == (
        "In context=('properties', 'x'), $ref cannot have keywords {'description'}."
    )


def test_extra_required_keys_are_refused():
    schema = {
        "type": "object",
        "properties": {"a": {"type": "string"}},
        "required": ["a", "b"],
        "additionalProperties": False,
    }

    assert strict_error(schema).endswith("Extra required key 'b' supplied.")


def test_string_length_limits_are_refused():
    schema = {
        "type": "object",
        "properties": {"a": {"type": "string", "minLength": 1}},
        "required": ["a"],
        "additionalProperties": False,
    }

    assert strict_error(schema) == "In context=('properties', 'a'), 'minLength' is not permitted."
