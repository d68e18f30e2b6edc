"""Parameter checks both APIs share: types, ranges, unknown keys, function tools, images."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import (
    ApiError,
    bad_request,
    invalid_type,
    invalid_value,
    missing,
    unknown_parameter,
)
from .schema import SchemaError, check_strict

_EXPECTED = {
    "string": "a string",
    "integer": "an integer",
    "number": "a decimal",
    "boolean": "a boolean",
    "object": "an object",
    "array": "an array",
}
NAME_PATTERN = "^[a-zA-Z0-9_-]+$"
_NAME_RE = re.compile(NAME_PATTERN)
# The image types OpenAI's vision input takes; anything else in a data URL is a 400.
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


@dataclass(frozen=True, slots=True)
class Rule:
    """The JSON type of a parameter and, optionally, its range or allowed values."""

    kind: str
    minimum: float | None = None
    maximum: float | None = None
    values: tuple[str, ...] = ()


def is_kind(value: object, kind: str) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "object":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    raise ValueError(kind)


def check_kind(value: object, kind: str, param: str) -> None:
    if not is_kind(value, kind):
        raise invalid_type(param, _EXPECTED[kind], value)


def check_known(obj: Mapping[str, Any], allowed: Collection[str], prefix: str = "") -> None:
    for key in obj:
        if key not in allowed:
            raise unknown_parameter(prefix + key)


def check_params(body: Mapping[str, Any], rules: Mapping[str, Rule]) -> None:
    """Check every present, non-null parameter against its rule; null means "not given"."""
    for key, rule in rules.items():
        value = body.get(key)
        if value is None:
            continue
        check_kind(value, rule.kind, key)
        if rule.values and value not in rule.values:
            raise invalid_value(key, value, rule.values)
        if rule.kind in ("integer", "number"):
            _check_range(key, value, rule)


def _check_range(param: str, value: float, rule: Rule) -> None:
    word = "integer" if rule.kind == "integer" else "decimal"
    if rule.minimum is not None and value < rule.minimum:
        raise bad_request(
            f"Invalid '{param}': {word} below minimum value. Expected a value >= "
            f"{_num(rule.minimum)}, but got {_num(value)} instead.",
            param,
            f"{word}_below_min_value",
        )
    if rule.maximum is not None and value > rule.maximum:
        raise bad_request(
            f"Invalid '{param}': {word} above maximum value. Expected a value <= "
            f"{_num(rule.maximum)}, but got {_num(value)} instead.",
            param,
            f"{word}_above_max_value",
        )


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def check_name(name: object, param: str) -> str:
    """Function and schema names: 1-64 characters of [a-zA-Z0-9_-]."""
    check_kind(name, "string", param)
    assert isinstance(name, str)
    if len(name) > 64:
        raise bad_request(
            f"Invalid '{param}': string too long. Expected a string with maximum length 64, "
            f"but got a string with length {len(name)} instead.",
            param,
            "string_above_max_length",
        )
    if not _NAME_RE.match(name):
        raise bad_request(
            f"Invalid '{param}': string does not match pattern. Expected a string that "
            f"matches the pattern '{NAME_PATTERN}'.",
            param,
            "invalid_value",
        )
    return name


def check_function(function: Mapping[str, Any], where: str) -> str:
    """Check one function tool (`where` is its path, e.g. tools[0].function); return its name."""
    if "name" not in function:
        raise missing(f"{where}.name")
    name = check_name(function["name"], f"{where}.name")
    strict = function.get("strict")
    if strict is not None:
        check_kind(strict, "boolean", f"{where}.strict")
    parameters = function.get("parameters")
    if parameters is None:
        return name
    param = f"{where}.parameters"
    check_kind(parameters, "object", param)
    # `{}` is OpenAI's "no parameters"; any other schema must describe an object.
    if parameters and parameters.get("type") != "object":
        raise _function_schema_error(
            name,
            f"schema must be a JSON Schema of 'type: \"object\"', "
            f"got 'type: \"{parameters.get('type')}\"'.",
            param,
        )
    if strict is True:
        try:
            check_strict(parameters)
        except SchemaError as exc:
            raise _function_schema_error(name, str(exc), param) from None
    return name


def _function_schema_error(name: str, detail: str, param: str) -> ApiError:
    return bad_request(
        f"Invalid schema for function '{name}': {detail}", param, "invalid_function_parameters"
    )


def check_image_url(url: object, param: str) -> None:
    """Data URLs must carry an image type; http(s) URLs are taken on trust (no fetching here)."""
    check_kind(url, "string", param)
    assert isinstance(url, str)
    if not url.startswith("data:"):
        return
    mime = url[5:].split(",", 1)[0].split(";", 1)[0].strip().lower()
    if mime not in IMAGE_TYPES:
        raise bad_request(
            f"Invalid '{param}'. Expected a base64-encoded data URL with an image MIME type "
            "(e.g. 'data:image/png;base64,aW1nIGJ5dGVzIGhlcmU='), but got unsupported MIME "
            f"type '{mime}'.",
            param,
            "invalid_value",
        )
