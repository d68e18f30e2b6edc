"""Instances of a JSON Schema: a type-correct default, and a check that an answer fits."""

from __future__ import annotations

import math
from typing import Any

from .schema import resolve

# Values that satisfy the string formats strict mode supports.
_FORMAT_DEFAULTS = {
    "date-time": "1970-01-01T00:00:00Z",
    "date": "1970-01-01",
    "time": "00:00:00",
    "duration": "P0D",
    "email": "demo@example.com",
    "hostname": "example.com",
    "ipv4": "127.0.0.1",
    "ipv6": "::1",
    "uuid": "00000000-0000-0000-0000-000000000000",
    "uri": "https://example.com/",
}
_MAX_DEPTH = 32  # recursive schemas end in null or [] long before this


def types_of(schema: dict[str, Any]) -> list[str]:
    kind = schema.get("type")
    if isinstance(kind, list):
        return [str(k) for k in kind]
    if isinstance(kind, str):
        return [kind]
    if "properties" in schema:
        return ["object"]
    if "items" in schema:
        return ["array"]
    return []


def is_nullable(schema: dict[str, Any], root: object) -> bool:
    if "null" in types_of(schema):
        return True
    variants = schema.get("anyOf")
    if isinstance(variants, list):
        for variant in variants:
            v = resolve(variant, root)
            if isinstance(v, dict) and "null" in types_of(v):
                return True
    return False


def default_instance(schema: object, root: object, depth: int = 0) -> Any:
    """Empty strings, 0, false, [], nested objects; null wherever null is allowed."""
    schema = resolve(schema, root)
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return None
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    if is_nullable(schema, root):
        return None
    variants = schema.get("anyOf")
    if isinstance(variants, list) and variants:
        return default_instance(variants[0], root, depth + 1)
    kinds = types_of(schema)
    kind = kinds[0] if kinds else None
    if kind == "object":
        properties = schema.get("properties") or {}
        return {k: default_instance(v, root, depth + 1) for k, v in properties.items()}
    if kind == "array":
        count = int(schema.get("minItems") or 0)
        return [default_instance(schema.get("items"), root, depth + 1) for _ in range(count)]
    if kind == "string":
        return _FORMAT_DEFAULTS.get(str(schema.get("format")), "") or "x" * int(
            schema.get("minLength") or 0
        )
    if kind in ("integer", "number"):
        return _number(schema, integer=kind == "integer")
    if kind == "boolean":
        return False
    return None


def _number(schema: dict[str, Any], *, integer: bool) -> int | float:
    value: float = 0
    if isinstance(schema.get("minimum"), int | float):
        value = max(value, schema["minimum"])
    if isinstance(schema.get("exclusiveMinimum"), int | float):
        value = max(value, schema["exclusiveMinimum"] + 1)
    if isinstance(schema.get("maximum"), int | float):
        value = min(value, schema["maximum"])
    if (
        isinstance(schema.get("exclusiveMaximum"), int | float)
        and value >= (schema["exclusiveMaximum"])
    ):
        value = schema["exclusiveMaximum"] - 1
    return math.ceil(value) if integer else value


def problems(instance: Any, schema: object, root: object, path: str = "$") -> list[str]:
    """Where `instance` breaks `schema` (the strict-mode subset); empty when it fits."""
    schema = resolve(schema, root)
    if not isinstance(schema, dict):
        return []
    variants = schema.get("anyOf")
    if isinstance(variants, list):
        if any(not problems(instance, v, root, path) for v in variants):
            return []
        return [f"{path}: matches none of the anyOf variants"]
    if "const" in schema and instance != schema["const"]:
        return [f"{path}: expected {schema['const']!r}"]
    if isinstance(schema.get("enum"), list) and instance not in schema["enum"]:
        return [f"{path}: {instance!r} is not one of {schema['enum']!r}"]
    kinds = types_of(schema)
    if kinds and not any(_is_type(instance, k) for k in kinds):
        return [f"{path}: expected {' or '.join(kinds)}, got {type(instance).__name__}"]
    found: list[str] = []
    if isinstance(instance, dict):
        properties = schema.get("properties") or {}
        for key in schema.get("required") or []:
            if key not in instance:
                found.append(f"{path}: missing '{key}'")
        if schema.get("additionalProperties") is False:
            found.extend(f"{path}: unexpected '{k}'" for k in instance if k not in properties)
        for key, value in instance.items():
            if key in properties:
                found.extend(problems(value, properties[key], root, f"{path}.{key}"))
    if isinstance(instance, list) and "items" in schema:
        for i, value in enumerate(instance):
            found.extend(problems(value, schema["items"], root, f"{path}[{i}]"))
    return found


def _is_type(value: Any, kind: str) -> bool:
    if kind == "null":
        return value is None
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "string":
        return isinstance(value, str)
    if kind == "array":
        return isinstance(value, list)
    if kind == "object":
        return isinstance(value, dict)
    return True
