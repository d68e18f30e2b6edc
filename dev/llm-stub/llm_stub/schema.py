"""OpenAI's strict-mode rules for JSON Schemas (structured outputs and strict tools).

The messages copy the real server's, e.g. "In context=('properties', 'files'),
'additionalProperties' is required to be supplied and to be false." The callers prefix
"Invalid schema for response_format '<name>': " or "Invalid schema for function '<name>': ".
"""

from __future__ import annotations

import re
from typing import Any

# Keywords strict mode refuses outright ("'oneOf' is not permitted."). pydantic emits oneOf for
# discriminated unions and minLength/maxLength for constrained strings, so these bite in practice.
NOT_PERMITTED = (
    "allOf",
    "oneOf",
    "not",
    "if",
    "then",
    "else",
    "dependentRequired",
    "dependentSchemas",
    "patternProperties",
    "unevaluatedProperties",
    "propertyNames",
    "minProperties",
    "maxProperties",
    "unevaluatedItems",
    "contains",
    "minContains",
    "maxContains",
    "uniqueItems",
    "prefixItems",
    "minLength",
    "maxLength",
)


class SchemaError(ValueError):
    """The schema breaks a strict-mode rule; str() is OpenAI's wording."""


def check_strict(schema: object) -> None:
    """Raise SchemaError when `schema` is not acceptable with `strict: true`."""
    kind = schema.get("type") if isinstance(schema, dict) else None
    if kind != "object" or not isinstance(schema, dict):
        raise SchemaError(
            f"schema must be a JSON Schema of 'type: \"object\"', got 'type: \"{kind}\"'."
        )
    _check(schema, (), schema)


def resolve(schema: object, root: object) -> object:
    """Follow a local `$ref` (#/$defs/X); None when it leads nowhere."""
    seen = 0
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and seen < 32:
        schema = _lookup(root, schema["$ref"])
        seen += 1
    return schema


def _lookup(root: object, ref: str) -> object:
    if not ref.startswith("#"):
        return None
    node = root
    for part in ref.lstrip("#").strip("/").split("/"):
        if not part:
            continue
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def is_object_schema(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    return "object" in kinds or "properties" in schema


def _check(node: object, ctx: tuple[str, ...], root: dict[str, Any]) -> None:
    where = f"In context={ctx!r}"
    if not isinstance(node, dict):
        raise SchemaError(f"{where}, schema must be a JSON object.")
    for keyword in NOT_PERMITTED:
        if keyword in node:
            raise SchemaError(f"{where}, '{keyword}' is not permitted.")
    if "$ref" in node:
        others = sorted(set(node) - {"$ref"})
        if others:
            shown = "{" + ", ".join(repr(k) for k in others) + "}"
            raise SchemaError(f"{where}, $ref cannot have keywords {shown}.")
        if _lookup(root, str(node["$ref"])) is None:
            raise SchemaError(f"{where}, reference '{node['$ref']}' could not be resolved.")
        return  # the target is checked where it is defined ($defs)
    if is_object_schema(node):
        _check_object(node, ctx, root)
    for defs_key in ("$defs", "definitions"):
        defs = node.get(defs_key)
        if isinstance(defs, dict):
            for name, sub in defs.items():
                _check(sub, (*ctx, defs_key, name), root)
    items = node.get("items")
    if items is not None:
        _check(items, (*ctx, "items"), root)
    any_of = node.get("anyOf")
    if isinstance(any_of, list):
        for i, variant in enumerate(any_of):
            _check(variant, (*ctx, "anyOf", str(i)), root)
    pattern = node.get("pattern")
    if isinstance(pattern, str):
        try:
            re.compile(pattern)
        except re.error:
            raise SchemaError(f"{where}, '{pattern}' is not a 'regex'.") from None


def _check_object(node: dict[str, Any], ctx: tuple[str, ...], root: dict[str, Any]) -> None:
    where = f"In context={ctx!r}"
    if node.get("additionalProperties") is not False:
        raise SchemaError(
            f"{where}, 'additionalProperties' is required to be supplied and to be false."
        )
    properties = node.get("properties") or {}
    required = node.get("required")
    rule = (
        f"{where}, 'required' is required to be supplied and to be an array including "
        "every key in properties."
    )
    if properties and not isinstance(required, list):
        raise SchemaError(rule)
    required = required or []
    for key in properties:
        if key not in required:
            raise SchemaError(f"{rule} Missing '{key}'.")
    for key in required:
        if key not in properties:
            raise SchemaError(f"{rule} Extra required key '{key}' supplied.")
    for key, sub in properties.items():
        _check(sub, (*ctx, "properties", key), root)
