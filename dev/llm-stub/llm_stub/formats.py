"""The answer format a request asks for (text, JSON object, JSON schema), from either API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import bad_request, invalid_value, missing
from .params import check_kind, check_known, check_name
from .schema import SchemaError, check_strict

_TYPES = ("json_object", "json_schema", "text")


@dataclass(frozen=True, slots=True)
class OutputFormat:
    kind: str = "text"  # text | json_object | json_schema
    name: str | None = None
    schema: dict[str, Any] | None = None
    strict: bool = False


def chat_format(value: object) -> OutputFormat:
    """Chat Completions' `response_format: {type, json_schema: {name, schema, strict}}`."""
    if value is None:
        return OutputFormat()
    check_kind(value, "object", "response_format")
    assert isinstance(value, dict)
    check_known(value, ("type", "json_schema"), "response_format.")
    kind = _kind(value, "response_format.type")
    if kind != "json_schema":
        return OutputFormat(kind)
    spec = value.get("json_schema")
    if spec is None:
        raise missing("response_format.json_schema")
    check_kind(spec, "object", "response_format.json_schema")
    check_known(spec, ("name", "description", "schema", "strict"), "response_format.json_schema.")
    return _schema_format(
        spec,
        where="response_format.json_schema",
        error_param="response_format",
        error_code=None,
    )


def responses_format(text: object) -> OutputFormat:
    """The Responses API's `text: {format: {type, name, schema, strict}}`."""
    if text is None:
        return OutputFormat()
    check_kind(text, "object", "text")
    assert isinstance(text, dict)
    check_known(text, ("format", "verbosity"), "text.")
    value = text.get("format")
    if value is None:
        return OutputFormat()
    check_kind(value, "object", "text.format")
    kind = _kind(value, "text.format.type")
    if kind != "json_schema":
        check_known(value, ("type",), "text.format.")
        return OutputFormat(kind)
    check_known(value, ("type", "name", "description", "schema", "strict"), "text.format.")
    return _schema_format(
        value,
        where="text.format",
        error_param="text.format.schema",
        error_code="invalid_json_schema",
    )


def _kind(value: dict[str, Any], param: str) -> str:
    if "type" not in value:
        raise missing(param)
    kind = value["type"]
    if kind not in _TYPES:
        raise invalid_value(param, kind, _TYPES)
    return str(kind)


def _schema_format(
    spec: dict[str, Any], *, where: str, error_param: str, error_code: str | None
) -> OutputFormat:
    if "name" not in spec:
        raise missing(f"{where}.name")
    name = check_name(spec["name"], f"{where}.name")
    schema = spec.get("schema")
    if schema is not None:
        check_kind(schema, "object", f"{where}.schema")
    strict = spec.get("strict")
    if strict is not None:
        check_kind(strict, "boolean", f"{where}.strict")
    if strict is True:
        try:
            check_strict(schema)
        except SchemaError as exc:
            raise bad_request(
                f"Invalid schema for response_format '{name}': {exc}", error_param, error_code
            ) from None
    return OutputFormat("json_schema", name, schema, strict is True)
