"""The caller's request (protocol.md §2), validated once at the gateway."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    field_validator,
    model_validator,
)

from .datauri import DataUriError, decode_data_uri
from .events import Attachment, Check, safe_file_name

NonEmpty = Annotated[str, StringConstraints(min_length=1)]


class JsCheck(BaseModel):
    """The spec's `{"js": "<expression>"}` check shape."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    js: NonEmpty


class AttachmentIn(BaseModel):
    """An attachment as the caller sends it: a name and a `data:` URI."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    name: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    url: NonEmpty

    @field_validator("url")
    @classmethod
    def _data_uri_only(cls, url: str) -> str:
        # The spec promises data: URIs; anything else would need a fetch at the edge.
        if not url.lower().startswith("data:"):
            raise ValueError("attachment url must be a data: URI")
        try:
            decode_data_uri(url)
        except DataUriError as exc:
            raise ValueError(f"attachment url is not a valid data: URI ({exc})") from exc
        return url

    @field_validator("name")
    @classmethod
    def _usable_name(cls, name: str) -> str:
        if not safe_file_name(name):
            raise ValueError("attachment name has no usable file name")
        return name


class TaskRequest(BaseModel):
    """POST /api/tasks body. `secret` is checked before this model is built."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=False)

    email: Annotated[
        str, StringConstraints(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    ]
    secret: SecretStr
    task: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    round: Annotated[int, Field(strict=True, ge=1, le=2)]
    nonce: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    brief: Annotated[str, StringConstraints(min_length=1, max_length=100_000)]
    checks: Annotated[list[NonEmpty | JsCheck], Field(max_length=200)] = []
    evaluation_url: Annotated[str, StringConstraints(min_length=1, max_length=2048)]
    attachments: Annotated[list[AttachmentIn], Field(max_length=50)] = []

    @model_validator(mode="before")
    @classmethod
    def _null_lists(cls, data: Any) -> Any:
        # Callers send `"attachments": null` as often as they leave it out.
        if isinstance(data, dict):
            for key in ("attachments", "checks"):
                if key in data and data[key] is None:
                    data = {**data, key: []}
        return data

    @field_validator("evaluation_url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        # Validate as a URL but keep the caller's exact text: it is echoed, never rebuilt.
        parsed = AnyHttpUrl(url)
        if not parsed.host:
            raise ValueError("evaluation_url needs a host")
        return url

    @field_validator("task")
    @classmethod
    def _task_has_text(cls, task: str) -> str:
        if not task.strip():
            raise ValueError("task must not be blank")
        return task

    def normalised_checks(self) -> tuple[Check, ...]:
        """Both check shapes as one internal type, text kept literal."""
        return tuple(
            Check(text=c.js, js=True) if isinstance(c, JsCheck) else Check(text=c, js=None)
            for c in self.checks
        )

    def decoded_attachments(self) -> tuple[Attachment, ...]:
        """Attachments decoded to bytes, names reduced to safe base names, duplicates renamed."""
        out: list[Attachment] = []
        seen: set[str] = set()
        for a in self.attachments:
            media_type, data = decode_data_uri(a.url)
            name = safe_file_name(a.name)
            stem, dot, ext = name.rpartition(".")
            n = 2
            while name.lower() in seen:
                name = f"{stem}-{n}.{ext}" if dot else f"{ext}-{n}"
                n += 1
            seen.add(name.lower())
            out.append(Attachment(name=name, media_type=media_type, data=data))
        return tuple(out)
